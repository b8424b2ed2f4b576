"""Differential tests of the linear family against torch.nn (skipped without torch)."""

import random

import pytest

torch = pytest.importorskip("torch")

from tests.oracle import ours, torch_measure  # noqa: E402


def linear_cases(n=40, seed=1):
    rng = random.Random(seed)
    for _ in range(n):
        lead = [rng.randint(1, 4) for _ in range(rng.randint(0, 3))]
        fin, fout, bias = rng.randint(1, 32), rng.randint(1, 32), rng.random() < 0.5
        args = {"out_features": fout, "bias": bias}
        if rng.random() < 0.5:
            args["in_features"] = fin
        yield ("Linear", args, [lead + [fin]], lambda fin=fin, fout=fout, bias=bias: torch.nn.Linear(fin, fout, bias=bias))


@pytest.mark.parametrize("layer_type,args,shapes,make", list(linear_cases()))
def test_linear_matches_torch(layer_type, args, shapes, make):
    row = ours(layer_type, args, shapes)
    ref = torch_measure(make(), [torch.randn(*s) for s in shapes])
    assert row.output_shape == ref["outputs"][0]
    assert (row.params, row.buffers, row.macs) == (ref["params"], ref["buffers"], ref["macs"])


def bilinear_cases(n=20, seed=2):
    rng = random.Random(seed)
    for _ in range(n):
        lead = [rng.randint(1, 4) for _ in range(rng.randint(0, 2))]
        i1, i2, o, bias = rng.randint(1, 9), rng.randint(1, 9), rng.randint(1, 9), rng.random() < 0.5
        yield lead, i1, i2, o, bias


@pytest.mark.parametrize("lead,i1,i2,o,bias", list(bilinear_cases()))
def test_bilinear_matches_torch(lead, i1, i2, o, bias):
    row = ours("Bilinear", {"out_features": o, "bias": bias}, [lead + [i1], lead + [i2]])
    m = torch.nn.Bilinear(i1, i2, o, bias=bias)
    ref = torch_measure(m, [torch.randn(*lead, i1), torch.randn(*lead, i2)])
    assert row.output_shape == ref["outputs"][0]
    assert (row.params, row.buffers) == (ref["params"], ref["buffers"])
    # FlopCounterMode does not see aten._trilinear: check the docstring's derivation instead.
    n = 1
    for d in lead:
        n *= d
    assert row.macs == n * o * i1 * (i2 + 1)
