"""Differential tests of the dropout family against torch.nn in eval mode (skipped without torch).

Every dropout is the identity at inference: the output shape is the input's,
and params, buffers, MACs and FLOPs are 0. The rank rules follow torch, which
raises for Dropout1d on other than 2-D or 3-D inputs and only warns for
Dropout2d/3d. StochasticDepth is compared with torchvision's ``torchvision.ops.StochasticDepth``
(skipped without torchvision), in eval mode and, for the shape of its noise, in train mode.
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


# --- torchvision's StochasticDepth ---------------------------------------------------------------------------


def torchvision_stochastic_depth():
    from tests.torch_spec import torchvision_swin

    torchvision_swin()  # torchvision importable (its compiled operators stubbed), or the test skipped
    from torchvision.ops import StochasticDepth

    return StochasticDepth


def stochastic_depth_cases(n=24, seed=43):
    rng = random.Random(seed)
    for _ in range(n):
        mode = rng.choice(["row", "batch"])
        shape = [rng.randint(1, 4) for _ in range(rng.randint(1 if mode == "row" else 0, 5))]
        yield {"p": rng.choice([0.0, 0.1, 0.5, 1.0]), "mode": mode}, shape


SD_CASES = list(stochastic_depth_cases())


def test_stochastic_depth_cases_take_every_value():
    assert {(a["p"], a["mode"]) for a, _ in SD_CASES} >= {(p, m) for p in (0.0, 1.0) for m in ("row", "batch")}
    assert {len(s) for _, s in SD_CASES} >= {1, 2, 3, 4}


@pytest.mark.parametrize("args,shape", SD_CASES)
def test_stochastic_depth_matches_torchvision(args, shape):
    """Eval mode: the identity, as nn.Dropout; torchvision's module has no parameters or buffers."""
    row = ours("StochasticDepth", args, [shape])
    ref = torch_measure(torchvision_stochastic_depth()(**args), [torch.randn(shape)])
    assert row.output_shape == ref["outputs"][0] == shape
    assert (row.params, row.trainable_params, row.buffers, row.macs) == (0, 0, 0, 0) == (
        ref["params"], ref["trainable_params"], ref["buffers"], ref["macs"])
    assert row.flops == 0  # the identity at inference


@pytest.mark.parametrize("args,shape", [({"p": 0.2, "mode": "row"}, [5, 3, 2]), ({"p": 0.7, "mode": "batch"}, [4, 6]),
                                        ({"p": 1.0, "mode": "row"}, [3, 2])])
def test_stochastic_depth_train_mode_noise_has_one_value_per_sample(args, shape):
    """What the rule's saved bytes rest on: in train mode torchvision multiplies by a noise of shape
    (N, 1, ..., 1) ("row") or (1, ..., 1) ("batch"), each value 0 or 1 / (1 - p) (0 when p = 1); the class
    `layercalc export` writes draws the same noise from the same seed."""
    from layercalc.bridge.export import HELPERS

    namespace = {"torch": torch, "nn": nn}
    exec(HELPERS["StochasticDepth"], namespace)
    x = torch.ones(shape)
    outs = []
    for module in (torchvision_stochastic_depth()(**args), namespace["StochasticDepth"](**args)):
        torch.manual_seed(5)
        outs.append(module.train()(x))
    assert torch.equal(outs[0], outs[1])
    p = args["p"]
    values = {round(v, 6) for v in outs[0].flatten().tolist()}
    assert values <= ({0.0} if p == 1 else {0.0, round(1 / (1 - p), 6)})
    per_sample = outs[0].reshape(shape[0], -1)
    assert all(len(set(r.tolist())) == 1 for r in per_sample)  # one value per sample (row) or for all (batch)
    if args["mode"] == "batch":
        assert len(set(outs[0].flatten().tolist())) == 1


@pytest.mark.parametrize("args,shape,code", [
    ({"p": 1.5, "mode": "row"}, [2, 3], "S006"),
    ({"p": -0.1, "mode": "batch"}, [2, 3], "S006"),
    ({"p": 0.1, "mode": "rows"}, [2, 3], "S006"),
    ({"p": 0.1, "mode": "row"}, [], "G003"),
])
def test_invalid_stochastic_depth(args, shape, code):
    """torchvision refuses p outside [0, 1] and a mode other than "row" and "batch" (ValueError, in every
    mode); "row" on a 0-d input has no batch dimension to draw over (an IndexError in train mode)."""
    with pytest.raises(SpecError) as info:
        ours("StochasticDepth", args, [shape])
    assert info.value.code == code, str(info.value)
    with pytest.raises((ValueError, IndexError)):
        torchvision_stochastic_depth()(**args).train()(torch.randn(shape))


def test_stochastic_depth_needs_p_and_mode():
    """torchvision's constructor takes both without defaults; so does the spec."""
    with pytest.raises(TypeError):
        torchvision_stochastic_depth()(0.1)
    for args in ({"p": 0.1}, {"mode": "row"}):
        with pytest.raises(SpecError) as info:
            ours("StochasticDepth", args, [[2, 3]])
        assert "required" in info.value.message, info.value.message
