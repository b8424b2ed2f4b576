"""Differential tests of the activation family against torch.nn (skipped without torch).

The arguments of every generated configuration are passed unchanged to the
torch module (``getattr(nn, type)(**args)``), so the argument names and
defaults are checked as well as the output shape, params, trainable params,
buffers and MACs (0). FLOPs follow layercalc.costs and are checked against the
documented per-element counts with the arithmetic written out.
"""

import random
import re
import warnings

import pytest

torch = pytest.importorskip("torch")
nn = torch.nn

from layercalc import costs  # noqa: E402
from layercalc.errors import SpecError  # noqa: E402
from layercalc.layers import REGISTRY  # noqa: E402
from layercalc.layers.activation import softmax_dim  # noqa: E402
from tests.oracle import ours, torch_measure  # noqa: E402

ACTIVATIONS = ("ReLU ReLU6 LeakyReLU PReLU RReLU ELU SELU CELU GELU SiLU Mish Sigmoid LogSigmoid Tanh Hardtanh "
               "Hardswish Hardsigmoid Hardshrink Softshrink Tanhshrink Softplus Softsign Threshold Softmax "
               "LogSoftmax Softmin GLU").split()


def _shape(rng, min_rank=0, max_rank=4):
    return [rng.randint(1, 5) for _ in range(rng.randint(min_rank, max_rank))]


def _some(rng, args: dict, name: str, values):
    """Set args[name] to one of values, half of the time (otherwise torch's default is used)."""
    if rng.random() < 0.5:
        args[name] = rng.choice(values)


def _random_args(rng, t: str, shape: list) -> dict:
    """Random valid arguments of type t for an input of this shape (torch's names)."""
    args: dict = {}
    if t in ("ReLU", "ReLU6", "SELU", "SiLU", "Mish", "Hardswish", "Hardsigmoid"):
        _some(rng, args, "inplace", [True, False])
    elif t == "LeakyReLU":
        _some(rng, args, "negative_slope", [0.01, 0.2, -0.5, 0.0])
        _some(rng, args, "inplace", [True, False])
    elif t == "RReLU":
        lo = rng.choice([0.0, 0.1, 0.125, 0.3])
        args.update(lower=lo, upper=lo + rng.choice([0.0, 0.1, 0.5]))
    elif t in ("ELU", "CELU"):
        _some(rng, args, "alpha", [1.0, 0.5, 2.0, -1.0])
        _some(rng, args, "inplace", [True, False])
    elif t == "GELU":
        _some(rng, args, "approximate", ["none", "tanh"])
    elif t == "Hardtanh":
        lo = rng.choice([-1.0, -2.0, 0.0])
        args.update(min_val=lo, max_val=lo + rng.choice([0.5, 1.0, 6.0]))
    elif t in ("Hardshrink", "Softshrink"):
        _some(rng, args, "lambd", [0.0, 0.5, 1.5])
    elif t == "Softplus":
        _some(rng, args, "beta", [1.0, 0.5, 2.0])
        _some(rng, args, "threshold", [20.0, 10.0])
    elif t == "Threshold":
        args.update(threshold=rng.choice([0.0, 0.1]), value=rng.choice([0.0, -1.0, 20.0]))
        _some(rng, args, "inplace", [True, False])
    elif t == "PReLU":
        if len(shape) >= 2 and rng.random() < 0.6:
            args["num_parameters"] = shape[1]
        _some(rng, args, "init", [0.25, 0.1])
    elif t in ("Softmax", "LogSoftmax", "Softmin"):
        rank = max(len(shape), 1)
        args["dim"] = rng.choice([None, *range(-rank, rank)])
    elif t == "GLU":
        d = rng.randrange(-len(shape), len(shape))
        shape[d] = 2 * rng.randint(1, 3)
        args["dim"] = d
    return args


def activation_cases(per_type=6, seed=21):
    rng = random.Random(seed)
    for t in ACTIVATIONS:
        for i in range(2 * per_type if t in ("PReLU", "GLU", "Softmax") else per_type):
            min_rank = 1 if t == "GLU" else 2 if t == "PReLU" and i % 2 else 0  # PReLU: half with channels
            shape = _shape(rng, min_rank=min_rank)
            args = _random_args(rng, t, shape)
            yield t, args, shape


CASES = list(activation_cases())


def test_enough_random_configurations():
    assert len(CASES) >= 150
    assert {t for t, _, _ in CASES} == set(ACTIVATIONS)


@pytest.mark.parametrize("t,args,shape", CASES)
def test_activation_matches_torch(t, args, shape):
    frozen = t == "PReLU" and shape and shape[0] % 2 == 0  # some PReLUs are marked `trainable: false`
    row = ours(t, args, [shape], {"trainable": False} if frozen else None)
    module = getattr(nn, t)(**args)
    if frozen:
        module.requires_grad_(False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the implicit softmax dim is deprecated
        ref = torch_measure(module, [torch.randn(shape)])
    assert row.output_shape == ref["outputs"][0]
    assert (row.params, row.trainable_params, row.buffers, row.macs) == (
        ref["params"], ref["trainable_params"], ref["buffers"], ref["macs"])


def test_every_activation_is_registered_in_its_family():
    for t in ACTIVATIONS:
        assert REGISTRY[t].family == "activation"


def test_docstrings_state_the_table_counts():
    """Each docstring's "FLOPs: N per element" is the number in costs.ELEMENTWISE."""
    for t in ACTIVATIONS:
        doc = REGISTRY[t].__doc__
        found = re.search(r"FLOPs: (\d+) per (?:output )?element", doc)
        assert found, t
        assert int(found.group(1)) == costs.ELEMENTWISE[t], t


def test_implicit_softmax_dim_is_torchs():
    from torch.nn.functional import _get_softmax_dim

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for rank in range(7):
            assert softmax_dim(None, rank) == _get_softmax_dim("softmax", rank, 1), rank


# --- FLOPs: the per-element counts of layercalc.costs, with the arithmetic -----------


@pytest.mark.parametrize("t,args,shape,flops", [
    ("ReLU", {}, [2, 3, 4], 24),                          # 24 elements * 1 (max) = 24
    ("ReLU6", {"inplace": True}, [2, 3, 4], 48),          # 24 * 2 (max, min) = 48
    ("LeakyReLU", {"negative_slope": 0.2}, [10], 20),     # 10 * 2 (compare, multiply) = 20
    ("PReLU", {"num_parameters": 3}, [2, 3, 5], 60),      # 30 * 2 (compare, multiply) = 60
    ("RReLU", {}, [4, 4], 32),                            # 16 * 2 (eval: a LeakyReLU) = 32
    ("ELU", {"alpha": 0.5}, [3, 3], 36),                  # 9 * 4 (compare, exp, subtract, multiply) = 36
    ("SELU", {}, [3, 3], 45),                             # 9 * 5 (ELU's 4, scale) = 45
    ("CELU", {}, [3, 3], 45),                             # 9 * 5 (divide, exp, subtract, multiply, compare) = 45
    ("GELU", {}, [2, 8], 80),                             # 16 * 5 (1/sqrt(2), erf, +1, *0.5, *x) = 80
    ("GELU", {"approximate": "tanh"}, [2, 8], 144),       # 16 * 9 (x^3 2, *c, +x, *k, tanh, +1, *0.5, *x) = 144
    ("SiLU", {}, [1, 64], 320),                           # 64 * 5 (sigmoid 4, multiply) = 320
    ("Mish", {}, [1, 64], 320),                           # 64 * 5 (exp, +1, log, tanh, multiply) = 320
    ("Sigmoid", {}, [2, 3, 4], 96),                       # 24 * 4 (neg, exp, add, divide) = 96
    ("LogSigmoid", {}, [2, 3, 4], 120),                   # 24 * 5 (sigmoid 4, log) = 120
    ("Tanh", {}, [7], 7),                                 # 7 * 1 = 7
    ("Hardtanh", {"min_val": -2, "max_val": 2}, [7], 14),  # 7 * 2 (two clamps) = 14
    ("Hardswish", {}, [4, 5], 100),                       # 20 * 5 (+3, 2 clamps, *x, /6) = 100
    ("Hardsigmoid", {}, [4, 5], 80),                      # 20 * 4 (+3, 2 clamps, /6) = 80
    ("Hardshrink", {}, [4, 5], 40),                       # 20 * 2 (abs, select) = 40
    ("Softshrink", {"lambd": 1}, [4, 5], 60),             # 20 * 3 (2 compares, add/sub) = 60
    ("Tanhshrink", {}, [4, 5], 40),                       # 20 * 2 (tanh, subtract) = 40
    ("Softplus", {"beta": 2}, [4, 5], 120),               # 20 * 6 (*beta, exp, +1, log, /beta, compare) = 120
    ("Softsign", {}, [4, 5], 60),                         # 20 * 3 (abs, +1, divide) = 60
    ("Threshold", {"threshold": 0.1, "value": 0}, [4, 5], 20),  # 20 * 1 = 20
    ("Softmax", {"dim": -1}, [2, 4, 10], 400),            # 80 * 5 (max, sub, exp, sum, div) = 400
    ("Softmax", {}, [2, 4, 10], 400),                     # implicit dim (0 for 3-D): still 80 * 5 = 400
    ("LogSoftmax", {"dim": 1}, [2, 10], 100),             # 20 * 5 (max, sub, exp, sum, sub log) = 100
    ("Softmin", {"dim": 1}, [2, 10], 120),                # 20 * 6 (negate, softmax 5) = 120
    ("GLU", {}, [2, 3, 8], 120),                          # output 2*3*4 = 24 elements * 5 (sigmoid 4, multiply) = 120
    ("GLU", {"dim": 0}, [6, 5], 75),                      # output 3*5 = 15 * 5 = 75
])
def test_activation_flops(t, args, shape, flops):
    row = ours(t, args, [shape])
    assert (row.flops, row.macs) == (flops, 0)


def test_scalar_input():
    row = ours("Sigmoid", {}, [[]])
    assert (row.output_shape, row.flops) == ([], 4)  # one element * 4


# --- invalid configurations: our code, and torch rejects them too --------------------------


INVALID = [
    ("GLU", {}, [2, 3], "G004"),                                  # odd size along dim -1
    ("GLU", {"dim": 0}, [5, 4], "G004"),
    ("GLU", {"dim": 2}, [2, 4], "G003"),                          # dim out of range
    ("PReLU", {"num_parameters": 4}, [2, 3, 5], "G003"),          # channels are 3
    ("PReLU", {"num_parameters": 3}, [3], "G003"),                # torch: a 1-D input has one channel
    ("PReLU", {"num_parameters": 3}, [], "G003"),                 # 0-D input
    ("Softmax", {"dim": 2}, [2, 3], "G003"),
    ("LogSoftmax", {"dim": -3}, [2, 3], "G003"),
    ("Softmin", {"dim": 1}, [], "G003"),
    ("Hardtanh", {"min_val": 1, "max_val": 1}, [2], "S006"),
    ("Hardtanh", {"min_val": 2}, [2], "S006"),
    ("RReLU", {"lower": 0.5, "upper": 0.1}, [2], "S006"),
    ("CELU", {"alpha": 0}, [2], "S006"),
    ("Softshrink", {"lambd": -1}, [2], "S006"),
    ("GELU", {"approximate": "fast"}, [2], "S006"),
]


def _torch_rejects(t, args, shape):
    try:
        getattr(nn, t)(**args)(torch.randn(shape))
    except (ValueError, RuntimeError, IndexError, AssertionError):
        return True
    return False


@pytest.mark.parametrize("t,args,shape,code", INVALID)
def test_invalid_activation(t, args, shape, code):
    with pytest.raises(SpecError) as info:
        ours(t, args, [shape])
    assert info.value.code == code, str(info.value)
    assert _torch_rejects(t, args, shape)


def test_missing_threshold_arguments():
    with pytest.raises(SpecError) as info:
        ours("Threshold", {"threshold": 0.1}, [[2]])
    assert info.value.code == "S002" and "value" in info.value.message
