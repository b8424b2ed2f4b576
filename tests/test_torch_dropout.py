"""Differential tests of the dropout family against torch.nn in eval mode (skipped without torch).

Every dropout is the identity at inference: the output shape is the input's,
and params, buffers, MACs and FLOPs are 0. The rank rules follow torch, which
raises for Dropout1d on other than 2-D or 3-D inputs and only warns for
Dropout2d/3d.
"""

import random
import warnings

import pytest

torch = pytest.importorskip("torch")
nn = torch.nn

from layercalc.errors import SpecError  # noqa: E402
from tests.oracle import ours, torch_measure  # noqa: E402

TYPES = ("Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout", "FeatureAlphaDropout")


def dropout_cases(per_type=8, seed=31):
    rng = random.Random(seed)
    for t in TYPES:
        for _ in range(per_type):
            rank = rng.choice([2, 3]) if t == "Dropout1d" else rng.randint(0, 5)
            shape = [rng.randint(1, 4) for _ in range(rank)]
            args = {}
            if rng.random() < 0.7:
                args["p"] = rng.choice([0.0, 0.1, 0.5, 1.0])
            if rng.random() < 0.3:
                args["inplace"] = rng.random() < 0.5
            yield t, args, shape


CASES = list(dropout_cases())


@pytest.mark.parametrize("t,args,shape", CASES)
def test_dropout_matches_torch(t, args, shape):
    row = ours(t, args, [shape])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Dropout2d/3d warn about unusual ranks
        ref = torch_measure(getattr(nn, t)(**args), [torch.randn(shape)])
    assert row.output_shape == ref["outputs"][0] == shape
    assert (row.params, row.trainable_params, row.buffers, row.macs) == (
        ref["params"], ref["trainable_params"], ref["buffers"], ref["macs"])
    assert row.flops == 0  # the identity at inference


@pytest.mark.parametrize("t,args,shape,code", [
    ("Dropout", {"p": 1.5}, [2, 3], "S006"),
    ("Dropout2d", {"p": -0.1}, [2, 3, 4, 4], "S006"),
    ("AlphaDropout", {"p": 2}, [2, 3], "S006"),
    ("Dropout1d", {}, [2, 3, 4, 5], "G003"),
    ("Dropout1d", {}, [4], "G003"),
])
def test_invalid_dropout(t, args, shape, code):
    with pytest.raises(SpecError) as info:
        ours(t, args, [shape])
    assert info.value.code == code, str(info.value)
    with pytest.raises((ValueError, RuntimeError)):
        getattr(nn, t)(**args).eval()(torch.randn(shape))


def test_p_error_points_at_p():
    import layercalc

    spec = "layercalc: 1\ninputs:\n  x: [2, 3]\nlayers:\n  - Dropout: {p: 1.5}\n"
    with pytest.raises(SpecError) as info:
        layercalc.analyze(spec)
    assert (info.value.mark.line, info.value.mark.col) == (5, 18)  # the value of p
    assert "p=1.5" in info.value.message and "between 0 and 1" in info.value.message
