"""torch is a test oracle: torch-free tests run without it, and CI (LAYERCALC_REQUIRE_TORCH=1) fails without it."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WITHOUT_TORCH = ("import sys; sys.modules['torch'] = None; import pytest; "
                 "sys.exit(pytest.main(sys.argv[1:]))")  # `import torch` raises ImportError


def pytest_without_torch(*args, require=False):
    env = {k: v for k, v in os.environ.items() if k != "LAYERCALC_REQUIRE_TORCH"}
    if require:
        env["LAYERCALC_REQUIRE_TORCH"] = "1"
    return subprocess.run([sys.executable, "-c", WITHOUT_TORCH, "-v", "-p", "no:cacheprovider", *args],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


def test_the_published_figures_run_without_torch():
    proc = pytest_without_torch("tests/test_published_sequence.py")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "skipped" not in proc.stdout and " passed" in proc.stdout


def test_a_missing_torch_fails_the_run_when_required():
    proc = pytest_without_torch("tests/test_published_sequence.py", require=True)
    assert proc.returncode != 0
    assert "LAYERCALC_REQUIRE_TORCH=1 but torch cannot be imported" in proc.stdout + proc.stderr


def test_ci_requires_torch():
    assert "export LAYERCALC_REQUIRE_TORCH=1" in (ROOT / ".ci" / "run").read_text()
