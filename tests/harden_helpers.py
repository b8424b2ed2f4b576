"""Checks shared by the hardening tests (tests/test_harden_*.py): an analysis either succeeds or
raises a located SpecError, never anything else; a command exits 0, 1 or 2 with no traceback and
no "internal error"; a subprocess runs under a memory cap and a timeout."""

from __future__ import annotations

import os
import re
import resource
import subprocess
import sys
import traceback
from pathlib import Path

import pytest

from layercalc.engine import analyze
from layercalc.errors import SpecError

ROOT = Path(__file__).resolve().parents[1]
FILE = "fuzz.yaml"
#: a spec error as the CLI prints it: file:line:col: message. Fix: ... [CODE]
LOCATED = re.compile(r"^(?P<file>.+?):(?P<line>\d+):(?P<col>\d+): .+ \[[A-Z]\d{3}\]$")
YAML_BREAKS = re.compile("\r\n|[\r\n\x85\u2028\u2029]")
MEMORY_CAP = 1 << 30  # 1 GiB of address space: "under 1 GB for any accepted spec"


def outcome(text: str, **kwargs) -> SpecError | None:
    """None if ``text`` analyzes, else its SpecError, checked to be located inside the text.
    Any other exception fails the test, with its traceback."""
    try:
        analyze(text, file=FILE, **kwargs)
        return None
    except SpecError as exc:
        n_lines = len(YAML_BREAKS.split(text))
        assert exc.mark.file == FILE, str(exc)
        assert 1 <= exc.mark.line <= n_lines + 1 and exc.mark.col >= 1, (str(exc), n_lines)
        assert "internal error" not in str(exc)
        assert exc.fix, str(exc)  # every error says how to fix it
        return exc
    except Exception:  # noqa: BLE001 - the failure this test exists to catch
        pytest.fail(f"not a SpecError:\n{traceback.format_exc()}\n--- spec ---\n{text[:2000]}")


def refused(text: str, code: str, line: int | None = None, **kwargs) -> SpecError:
    """The SpecError of ``text``, which must have ``code`` (and be on ``line`` when given)."""
    exc = outcome(text, **kwargs)
    assert exc is not None, f"accepted, expected {code}:\n{text[:2000]}"
    assert exc.code == code, str(exc)
    if line is not None:
        assert exc.mark.line == line, str(exc)
    return exc


def accepted(text: str, **kwargs):
    exc = outcome(text, **kwargs)
    assert exc is None, str(exc)
    return analyze(text, file=FILE, **kwargs)


def _cap(limit: int):
    def apply():
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    return apply


def run_capped(args, stdin: bytes | None = None, cap: int = MEMORY_CAP, timeout: float = 120,
               cwd: Path | str = ROOT) -> subprocess.CompletedProcess:
    """``python -m layercalc ARGS`` under a memory cap and a timeout (a timeout fails the test)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), NO_COLOR="1")
    try:
        return subprocess.run([sys.executable, "-m", "layercalc", *map(str, args)], input=stdin,
                              capture_output=True, timeout=timeout, preexec_fn=_cap(cap), cwd=str(cwd), env=env)
    except subprocess.TimeoutExpired:
        pytest.fail(f"layercalc {' '.join(map(str, args))} ran longer than {timeout} s")


def check_cli(proc: subprocess.CompletedProcess, label: str = "") -> str:
    """Exit 0, 1 or 2; no traceback, no internal error, no MemoryError; a spec error (exit 1 on
    standard error) is located. Returns standard error as text."""
    out = proc.stdout.decode("utf-8", "replace") if isinstance(proc.stdout, bytes) else proc.stdout
    err = proc.stderr.decode("utf-8", "replace") if isinstance(proc.stderr, bytes) else proc.stderr
    assert proc.returncode in (0, 1, 2), f"{label}: exit {proc.returncode}\n{err[-2000:]}"
    for text in (out, err):
        assert "Traceback" not in text, f"{label}: {err[-3000:]}"
        assert "internal error" not in text, f"{label}: {err[-3000:]}"
        assert "MemoryError" not in text, f"{label}: {err[-3000:]}"
    return err
