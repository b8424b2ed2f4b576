"""Every kind of invalid spec gives one located error: code, line, column, message (data: tests/cases/spec_errors.yaml)."""

import os
import subprocess
import sys

import pytest
import yaml

import layercalc
from layercalc.errors import SpecError

HERE = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(HERE, "cases", "spec_errors.yaml")) as fh:
    CASES = yaml.safe_load(fh)


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_error_is_located(case):
    with pytest.raises(SpecError) as info:
        layercalc.analyze(case["spec"], dims=case.get("dims"), file="spec.yaml")
    err = info.value
    assert err.code == case["code"], str(err)
    if "at" in case:
        assert [err.mark.line, err.mark.col] == case["at"], str(err)
    for words in case["says"]:
        assert words in str(err), str(err)
    assert err.fix, "every error says how to fix it"
    assert str(err).startswith(f"spec.yaml:{err.mark.line}:{err.mark.col}: ")


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
