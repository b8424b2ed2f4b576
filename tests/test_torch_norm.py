"""Differential tests of the normalization family against torch.nn (skipped without torch).

Seeded generators produce random valid configurations; each is analyzed by
layercalc and built as the real torch module, and the output shape, params,
trainable params, buffers and MACs (0) must agree. FLOPs follow
layercalc.costs and are checked against the documented formulas, with the
arithmetic written out. Invalid configurations must raise SpecError with the
right code, and torch must reject them too.
"""

import random
import warnings

import pytest

torch = pytest.importorskip("torch")
nn = torch.nn

from layercalc.errors import SpecError  # noqa: E402
from tests.oracle import ours, torch_measure  # noqa: E402


def _flag(rng, p=0.5):
    return rng.random() < p


def _prod(xs):
    n = 1
    for d in xs:
        n *= d
    return n


def batchnorm_cases(n=50, seed=11):
    rng = random.Random(seed)
    for _ in range(n):
        kind = rng.choice(["1d", "2d", "3d"])
        rank = {"1d": rng.choice([2, 3]), "2d": 4, "3d": 5}[kind]
        c = rng.randint(1, 8)
        shape = [rng.randint(1, 4), c] + [rng.randint(1, 5) for _ in range(rank - 2)]
        affine, track, bias = _flag(rng, 0.7), _flag(rng, 0.7), _flag(rng, 0.8)
        if not track and shape[0] * _prod(shape[2:]) == 1:
            shape[0] = 2  # batch statistics need more than one value per channel
        eps, momentum = rng.choice([1e-5, 1e-3, 0.1]), rng.choice([0.1, 0.01, None])
        args = {"eps": eps, "affine": affine, "track_running_stats": track}
        if momentum != 0.1 or _flag(rng):
            args["momentum"] = momentum
        if not bias or _flag(rng, 0.2):
            args["bias"] = bias
        if _flag(rng):
            args["num_features"] = c
        cls = getattr(nn, f"BatchNorm{kind}")
        yield (f"BatchNorm{kind}", args, shape,
               lambda cls=cls, c=c, eps=eps, m=momentum, af=affine, tr=track, b=bias:
               cls(c, eps=eps, momentum=m, affine=af, track_running_stats=tr, bias=b))


def layernorm_cases(n=30, seed=12):
    rng = random.Random(seed)
    for _ in range(n):
        lead = [rng.randint(1, 4) for _ in range(rng.randint(0, 3))]
        norm = [rng.randint(1, 6) for _ in range(rng.randint(1, 3))]
        affine, bias = _flag(rng, 0.7), _flag(rng, 0.7)
        ns = norm[0] if len(norm) == 1 and _flag(rng) else norm
        args = {"normalized_shape": ns, "elementwise_affine": affine, "bias": bias, "eps": rng.choice([1e-5, 1e-6])}
        yield ("LayerNorm", args, lead + norm,
               lambda ns=ns, af=affine, b=bias, eps=args["eps"]: nn.LayerNorm(ns, eps=eps, elementwise_affine=af,
                                                                             bias=b))


def groupnorm_cases(n=30, seed=13):
    rng = random.Random(seed)
    for _ in range(n):
        g = rng.randint(1, 4)
        c = g * rng.randint(1, 4)
        shape = [rng.randint(1, 3), c] + [rng.randint(1, 4) for _ in range(rng.randint(0, 3))]
        if shape[0] * c // g * _prod(shape[2:]) == 1:
            shape[0] = 2  # one value per group cannot be normalized
        affine, bias = _flag(rng, 0.7), _flag(rng, 0.8)
        args = {"num_groups": g, "affine": affine, "bias": bias}
        if _flag(rng):
            args["num_channels"] = c
        yield ("GroupNorm", args, shape, lambda g=g, c=c, af=affine, b=bias: nn.GroupNorm(g, c, affine=af, bias=b))


def instancenorm_cases(n=40, seed=14):
    rng = random.Random(seed)
    for _ in range(n):
        d = rng.randint(1, 3)
        batched = _flag(rng, 0.6)
        c = rng.randint(1, 6)
        spatial = [rng.randint(1, 4) for _ in range(d)]
        affine, track, bias = _flag(rng, 0.4), _flag(rng, 0.3), _flag(rng, 0.8)
        if not track and _prod(spatial) == 1:
            spatial[-1] = 2  # instance statistics need more than one spatial element
        shape = ([rng.randint(1, 3)] if batched else []) + [c] + spatial
        args = {}
        if affine or _flag(rng, 0.2):
            args["affine"] = affine
        if track or _flag(rng, 0.2):
            args["track_running_stats"] = track
        if not bias:
            args["bias"] = bias
        if _flag(rng):
            args["num_features"] = c
        if _flag(rng, 0.2):
            args["momentum"] = None
        cls = getattr(nn, f"InstanceNorm{d}d")
        yield (f"InstanceNorm{d}d", args, shape,
               lambda cls=cls, c=c, af=affine, tr=track, b=bias, m=args.get("momentum", 0.1):
               cls(c, affine=af, track_running_stats=tr, bias=b, momentum=m))


def rmsnorm_cases(n=20, seed=15):
    rng = random.Random(seed)
    for _ in range(n):
        lead = [rng.randint(1, 4) for _ in range(rng.randint(0, 2))]
        norm = [rng.randint(1, 6) for _ in range(rng.randint(1, 2))]
        affine, eps = _flag(rng, 0.7), rng.choice([None, 1e-6])
        ns = norm[0] if len(norm) == 1 and _flag(rng) else norm
        args = {"normalized_shape": ns, "elementwise_affine": affine}
        if eps is not None or _flag(rng):
            args["eps"] = eps
        yield ("RMSNorm", args, lead + norm,
               lambda ns=ns, af=affine, eps=eps: nn.RMSNorm(ns, eps=eps, elementwise_affine=af))


def lrn_cases(n=15, seed=16):
    rng = random.Random(seed)
    for _ in range(n):
        shape = [rng.randint(1, 3), rng.randint(1, 8)] + [rng.randint(1, 4) for _ in range(rng.randint(1, 3))]
        size, alpha = rng.randint(1, 7), rng.choice([1e-4, 1e-3])
        beta, k = rng.choice([0.75, 0.5]), rng.choice([1.0, 2.0])
        args = {"size": size, "alpha": alpha, "beta": beta, "k": k}
        yield ("LocalResponseNorm", args, shape,
               lambda s=size, al=alpha, be=beta, k=k: nn.LocalResponseNorm(s, alpha=al, beta=be, k=k))


CASES = [*batchnorm_cases(), *layernorm_cases(), *groupnorm_cases(), *instancenorm_cases(), *rmsnorm_cases(),
         *lrn_cases()]


def test_enough_random_configurations():
    assert len(CASES) >= 180


@pytest.mark.parametrize("i", range(len(CASES)))
def test_norm_matches_torch(i):
    layer_type, args, shape, make = CASES[i]
    frozen = i % 5 == 0  # every fifth case is marked `trainable: false`
    row = ours(layer_type, args, [shape], {"trainable": False} if frozen else None)
    module = make()
    if frozen:
        module.requires_grad_(False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = torch_measure(module, [torch.randn(*shape)])
    assert row.output_shape == ref["outputs"][0]
    assert (row.params, row.trainable_params, row.buffers, row.macs) == (
        ref["params"], ref["trainable_params"], ref["buffers"], ref["macs"]), (layer_type, args, shape)


# --- FLOPs: the formulas of layercalc.costs, with the arithmetic --------------------------


@pytest.mark.parametrize("layer_type,args,shape,flops", [
    ("BatchNorm2d", {}, [2, 3, 4, 4], 384),                                 # 2*3*4*4 = 96 elements * (2 + 2) = 384
    ("BatchNorm2d", {"affine": False}, [2, 3, 4, 4], 192),                  # 96 * 2 = 192
    ("BatchNorm2d", {"bias": False}, [2, 3, 4, 4], 288),                    # 96 * (2 + 1) = 288
    ("BatchNorm1d", {"track_running_stats": False}, [4, 5], 140),           # batch statistics: 20 * (5 + 2) = 140
    ("BatchNorm1d", {}, [4, 5, 6], 480),                                    # 4*5*6 = 120 * (2 + 2) = 480
    ("BatchNorm3d", {"affine": False, "track_running_stats": False}, [2, 2, 2, 2, 2], 160),  # 32 * 5 = 160
    ("LayerNorm", {"normalized_shape": 8}, [2, 5, 8], 560),                 # 80 elements * (5 + 2) = 560
    ("LayerNorm", {"normalized_shape": [5, 8], "bias": False}, [2, 5, 8], 480),  # 80 * (5 + 1) = 480
    ("LayerNorm", {"normalized_shape": 8, "elementwise_affine": False}, [2, 5, 8], 400),  # 80 * 5 = 400
    ("GroupNorm", {"num_groups": 2}, [2, 4, 3, 3], 504),                    # 2*4*3*3 = 72 * (5 + 2) = 504
    ("GroupNorm", {"num_groups": 4, "affine": False}, [1, 4, 5], 100),      # 20 * 5 = 100
    ("InstanceNorm2d", {}, [2, 3, 4, 4], 480),                              # 96 * 5 = 480
    ("InstanceNorm2d", {"affine": True}, [3, 4, 4], 336),                   # unbatched: 48 * (5 + 2) = 336
    ("InstanceNorm1d", {"track_running_stats": True}, [2, 3, 7], 84),       # running statistics: 42 * 2 = 84
    ("InstanceNorm3d", {"affine": True, "bias": False}, [1, 2, 2, 2, 2], 96),  # 16 * (5 + 1) = 96
    ("RMSNorm", {"normalized_shape": 16}, [2, 3, 16], 384),                 # 96 * (3 + 1) = 384
    ("RMSNorm", {"normalized_shape": 16, "elementwise_affine": False}, [2, 3, 16], 288),  # 96 * 3 = 288
    ("LocalResponseNorm", {"size": 5}, [1, 8, 4, 4], 1280),                 # 128 elements * (5 + 5) = 1280
    ("LocalResponseNorm", {"size": 2}, [2, 3, 4], 168),                     # 24 * (2 + 5) = 168
])
def test_norm_flops(layer_type, args, shape, flops):
    row = ours(layer_type, args, [shape])
    assert (row.flops, row.macs) == (flops, 0)


def test_buffers_as_torch_creates_them():
    row = ours("BatchNorm2d", {}, [[2, 16, 4, 4]])
    assert row.buffer_shapes == {"running_mean": (16,), "running_var": (16,), "num_batches_tracked": ()}
    assert row.buffers == 16 + 16 + 1
    assert ours("BatchNorm2d", {"track_running_stats": False}, [[2, 16, 4, 4]]).buffers == 0
    assert ours("InstanceNorm2d", {}, [[2, 16, 4, 4]]).buffers == 0
    assert ours("InstanceNorm2d", {"track_running_stats": True}, [[2, 16, 4, 4]]).buffers == 33


def test_momentum_default_and_null():
    assert ours("BatchNorm1d", {}, [[2, 3]]).args["momentum"] == 0.1
    assert ours("BatchNorm1d", {"momentum": None}, [[2, 3]]).args["momentum"] is None


# --- invalid configurations: our code, and torch rejects them too --------------------------


def _torch_rejects(make, shape):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            m = make()
            m.eval()
            m(torch.randn(*shape))
        except (ValueError, RuntimeError, IndexError, ZeroDivisionError, AssertionError):
            return True
    return False


INVALID = [
    ("GroupNorm", {"num_groups": 4}, [2, 6, 3], "G004", lambda: nn.GroupNorm(4, 6)),
    ("GroupNorm", {"num_groups": 3}, [1, 3], "G003", lambda: nn.GroupNorm(3, 3)),  # one value per group
    ("GroupNorm", {"num_groups": 1}, [3], "G003", lambda: nn.GroupNorm(1, 3)),     # 1-D
    ("BatchNorm2d", {}, [2, 3, 4], "G003", lambda: nn.BatchNorm2d(3)),
    ("BatchNorm1d", {}, [2, 3, 4, 5], "G003", lambda: nn.BatchNorm1d(3)),
    ("BatchNorm1d", {}, [3], "G003", lambda: nn.BatchNorm1d(3)),
    ("BatchNorm3d", {}, [2, 3, 4, 4], "G003", lambda: nn.BatchNorm3d(3)),
    ("BatchNorm1d", {"num_features": 4}, [2, 3], "G003", lambda: nn.BatchNorm1d(4)),
    ("BatchNorm1d", {"track_running_stats": False}, [1, 3], "G003",
     lambda: nn.BatchNorm1d(3, track_running_stats=False)),
    ("BatchNorm1d", {"eps": -1}, [2, 3], "S006", lambda: nn.BatchNorm1d(3, eps=-1)),
    ("BatchNorm1d", {"eps": 0, "track_running_stats": False}, [2, 3], "S006",
     lambda: nn.BatchNorm1d(3, eps=0, track_running_stats=False)),
    ("InstanceNorm2d", {}, [2, 3, 4, 4, 4], "G003", lambda: nn.InstanceNorm2d(3)),
    ("InstanceNorm1d", {}, [3], "G003", lambda: nn.InstanceNorm1d(3)),
    ("InstanceNorm1d", {}, [2, 3, 1], "G003", lambda: nn.InstanceNorm1d(3)),          # one spatial element
    ("InstanceNorm2d", {"affine": True, "num_features": 4}, [2, 3, 4, 4], "G003",
     lambda: nn.InstanceNorm2d(4, affine=True)),
    ("LayerNorm", {"normalized_shape": 4}, [2, 3], "G003", lambda: nn.LayerNorm(4)),
    ("LayerNorm", {"normalized_shape": [2, 3, 4]}, [3, 4], "G003", lambda: nn.LayerNorm([2, 3, 4])),
    ("LayerNorm", {"normalized_shape": [3, 5]}, [2, 3, 4], "G003", lambda: nn.LayerNorm([3, 5])),
    ("LayerNorm", {"normalized_shape": []}, [2, 3], "S006", lambda: nn.LayerNorm([])),
    ("RMSNorm", {"normalized_shape": [4]}, [2, 3], "G003", lambda: nn.RMSNorm([4])),
    ("LocalResponseNorm", {"size": 2}, [2, 3], "G003", lambda: nn.LocalResponseNorm(2)),
    ("LocalResponseNorm", {"size": 0}, [2, 3, 4], "S006", lambda: nn.LocalResponseNorm(0)),
]


@pytest.mark.parametrize("layer_type,args,shape,code,make", INVALID)
def test_invalid_norm(layer_type, args, shape, code, make):
    with pytest.raises(SpecError) as info:
        ours(layer_type, args, [shape])
    assert info.value.code == code, str(info.value)
    assert _torch_rejects(make, shape)


def test_error_names_the_argument_and_a_fix():
    spec = ("layercalc: 1\ninputs:\n  x: [2, 6, 8, 8]\nlayers:\n"
            "  - GroupNorm: {num_groups: 4}\n")
    import layercalc

    with pytest.raises(SpecError) as info:
        layercalc.analyze(spec)
    err = info.value
    assert (err.code, err.mark.line, err.mark.col) == ("G004", 5, 29)  # points at the value of num_groups
    assert "num_channels=6" in err.message and "num_groups=4" in err.message
    assert "divides 6" in err.fix
