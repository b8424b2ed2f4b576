"""Invalid convolution and pooling layers: one located error each, with its code, line, column and
message (data: tests/cases/conv_pool_errors.yaml); PyTorch refuses the same layers."""

import pytest

from tests.spec_cases import assert_located_error, load_cases

CASES = load_cases("conv_pool_errors.yaml")


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_error_is_located(case):
    assert "at" in case, "every case names its line and column"
    assert_located_error(case)


@pytest.mark.parametrize("case", [c for c in CASES if "torch" in c], ids=[c["id"] for c in CASES if "torch" in c])
def test_torch_refuses_it_too(case):
    torch = pytest.importorskip("torch")
    with pytest.raises((RuntimeError, ValueError, TypeError, ZeroDivisionError)):
        eval(case["torch"], {"nn": torch.nn, "x": torch.randn})  # our own test data, not user input
