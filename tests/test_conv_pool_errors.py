"""Invalid convolution and pooling layers: one located error each, with its code, line, column and
message (data: tests/cases/conv_pool_errors.yaml); PyTorch refuses the same layers."""

import os

import pytest
import yaml

import layercalc
from layercalc.errors import SpecError

HERE = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(HERE, "cases", "conv_pool_errors.yaml")) as fh:
    CASES = yaml.safe_load(fh)


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_error_is_located(case):
    with pytest.raises(SpecError) as info:
        layercalc.analyze(case["spec"], file="spec.yaml")
    err = info.value
    assert err.code == case["code"], str(err)
    assert [err.mark.line, err.mark.col] == case["at"], str(err)
    for words in case["says"]:
        assert words in str(err), str(err)
    assert err.fix, "every error says how to fix it"


@pytest.mark.parametrize("case", [c for c in CASES if "torch" in c], ids=[c["id"] for c in CASES if "torch" in c])
def test_torch_refuses_it_too(case):
    torch = pytest.importorskip("torch")
    with pytest.raises((RuntimeError, ValueError, TypeError, ZeroDivisionError)):
        eval(case["torch"], {"nn": torch.nn, "x": torch.randn})  # our own test data, not user input
