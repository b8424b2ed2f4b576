"""Every kind of invalid spec gives one located error: code, line, column, message (data: tests/cases/spec_errors.yaml)."""

import subprocess
import sys

import pytest

from tests.spec_cases import assert_located_error, load_cases

CASES = load_cases("spec_errors.yaml")


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_error_is_located(case):
    assert_located_error(case)


@pytest.mark.parametrize("case", CASES[:12], ids=[c["id"] for c in CASES[:12]])
def test_cli_prints_one_line_and_exits_1(case, tmp_path):
    path = tmp_path / "spec.yaml"
    path.write_text(case["spec"])
    args = ["summary", str(path)] + [f"--dim={k}={v}" for k, v in (case.get("dims") or {}).items()]
    proc = subprocess.run([sys.executable, "-m", "layercalc", *args], capture_output=True, text=True)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"{path}:"), proc.stderr
