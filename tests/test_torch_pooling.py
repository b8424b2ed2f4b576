"""Differential tests of the pooling family against torch.nn (skipped without torch).

A seeded generator writes random configurations of every pooling type with
every argument (kernel_size, stride or its default, padding, dilation,
ceil_mode, return_indices, count_include_pad, divisor_override, norm_type,
output_size with null entries), as ints or lists, on batched and unbatched
inputs. ``valid_cases`` must match torch in output shape(s), parameters,
buffers and MACs; ``edge_cases`` sit on the boundaries (ceil_mode windows that
start in the padding, padding just above kernel_size/2, inputs one smaller than
the window): layercalc must reject exactly what torch rejects.

FLOPs follow the documented convention; the adaptive window sums are checked
against torch itself: pooling the rows of an identity matrix, the number of
non-zero outputs is the number of (position, window) pairs, the sum of the
window sizes.
"""

import random
from math import prod

import pytest

torch = pytest.importorskip("torch")

import layercalc  # noqa: E402
from layercalc.errors import SpecError  # noqa: E402
from tests.oracle import ours, torch_measure  # noqa: E402

N_VALID, N_EDGE = 200, 100
WINDOW = ["MaxPool", "AvgPool", "LPPool"]
ADAPTIVE = ["AdaptiveAvgPool", "AdaptiveMaxPool"]


def _write(rng, values):
    """An int when every dimension has the same value (half the time), else a list."""
    if len(set(values)) == 1 and rng.random() < 0.5:
        return values[0]
    return list(values)


def _window_case(rng, kind, rank, edge):
    k = [rng.randint(1, 7 if rank < 3 else 4) for _ in range(rank)]
    args = {"kernel_size": k[0] if kind == "LPPool" and rank == 1 else _write(rng, k)}  # LPPool1d: int only
    s = k
    if rng.random() < 0.6:
        s = [rng.randint(1, 3) for _ in range(rank)]
        args["stride"] = _write(rng, s)
    p = [0] * rank
    d = [1] * rank
    if kind != "LPPool" and rng.random() < 0.6:
        p = [rng.randint(0, ki // 2 + (1 if edge and rng.random() < 0.3 else 0)) for ki in k]
        args["padding"] = _write(rng, p)
    if kind == "MaxPool":
        if rng.random() < 0.5:
            d = [rng.randint(1, 3) for _ in range(rank)]
            args["dilation"] = _write(rng, d)
        if rng.random() < 0.4:
            args["return_indices"] = True
    if kind == "AvgPool":
        if rng.random() < 0.4:
            args["count_include_pad"] = rng.random() < 0.5
        if rank > 1 and rng.random() < 0.3:
            args["divisor_override"] = rng.choice([-2, 1, 3, 7])
    if kind == "LPPool":
        args = {"norm_type": rng.choice([1, 2, 3, 1.5]), **args}
    if rng.random() < 0.5:
        args["ceil_mode"] = True
    lo = [max(1, di * (ki - 1) + 1 - 2 * pi) for ki, pi, di in zip(k, p, d)]
    if rank == 3 and kind != "MaxPool":
        lo = [max(v, ki) for v, ki in zip(lo, k)]  # avg_pool3d needs the unpadded input >= kernel
    jitter = (lambda: rng.choice([-2, -1, 0, 0, 1])) if edge else (lambda: rng.randint(0, 5 if rank < 3 else 3))
    return args, [max(1, v + jitter()) for v in lo]


def _adaptive_case(rng, kind, rank, edge):
    spatial = [rng.randint(1, 12 if rank < 3 else 6) for _ in range(rank)]
    out = [rng.randint(1, length + 3) for length in spatial]
    if rank > 1 and rng.random() < 0.4:
        out[rng.randrange(rank)] = None
    args = {"output_size": _write(rng, out) if rank > 1 or rng.random() < 0.5 else out[0]}
    if kind == "AdaptiveMaxPool" and rng.random() < 0.4:
        args["return_indices"] = True
    return args, spatial


def _pool_case(rng, edge):
    kind = rng.choice(WINDOW + ADAPTIVE)
    rank = rng.randint(1, 3)
    make = _window_case if kind in WINDOW else _adaptive_case
    args, spatial = make(rng, kind, rank, edge)
    lead = [] if rng.random() < 0.3 else [rng.randint(1, 2)]
    return f"{kind}{rank}d", args, lead + [rng.randint(1, 3)] + spatial


def _cases(n, seed, edge):
    rng = random.Random(seed)
    return [_pool_case(rng, edge) for _ in range(n)]


def _window_sum(length, out):
    """Sum of torch's adaptive window sizes along one dimension: pool the rows of eye(length)."""
    pooled = torch.nn.functional.adaptive_avg_pool1d(torch.eye(length).unsqueeze(1), out)
    return int(torch.count_nonzero(pooled))


def _expected_flops(layer_type, args, in_shape, out_shape):
    rank = int(layer_type[-2])
    k = args.get("kernel_size")
    k = prod(k) if isinstance(k, list) else (k or 0) ** rank
    n = prod(out_shape)
    if layer_type.startswith("MaxPool"):
        return n * k  # one comparison per window position
    if layer_type.startswith("AvgPool"):
        return n * (k + 1)  # adds, one divide
    if layer_type.startswith("LPPool"):
        return n * (2 * k + 1)  # power and add per position, one root
    visited = prod(in_shape[:-rank]) * prod(_window_sum(L, o) for L, o in zip(in_shape[-rank:], out_shape[-rank:]))
    return visited + (n if layer_type.startswith("AdaptiveAvg") else 0)


def _compare(layer_type, args, shape, row, ref):
    assert row.output_shape == ref["outputs"][0]
    extras = {"indices": ref["outputs"][1]} if args.get("return_indices") else {}
    assert row.extra_outputs == extras
    assert (row.params, row.buffers, row.macs) == (ref["params"], ref["buffers"], ref["macs"]) == (0, 0, 0)
    assert row.flops == _expected_flops(layer_type, args, shape, row.output_shape)


def _id(case):
    layer_type, args, shape = case
    return f"{layer_type}-{shape}-" + ",".join(f"{k}={v}" for k, v in args.items())


VALID = _cases(N_VALID, seed=21, edge=False)
EDGE = _cases(N_EDGE, seed=22, edge=True)


@pytest.mark.parametrize("case", VALID, ids=[_id(c) for c in VALID])
def test_pooling_matches_torch(case):
    layer_type, args, shape = case
    ref = torch_measure(getattr(torch.nn, layer_type)(**args), [torch.randn(*shape)])
    _compare(layer_type, args, shape, ours(layer_type, args, [shape]), ref)


@pytest.mark.parametrize("case", EDGE, ids=[_id(c) for c in EDGE])
def test_pooling_edges_agree_with_torch(case):
    layer_type, args, shape = case
    try:
        ref = torch_measure(getattr(torch.nn, layer_type)(**args), [torch.randn(*shape)])
    except (RuntimeError, ValueError):
        with pytest.raises(SpecError):
            ours(layer_type, args, [shape])
        return
    _compare(layer_type, args, shape, ours(layer_type, args, [shape]), ref)


def test_generators_cover_every_type_and_argument():
    types = {c[0] for c in VALID}
    assert types >= {f"{kind}{r}d" for kind in WINDOW + ADAPTIVE for r in (1, 2, 3)}
    seen = {k for c in VALID for k in c[1]}
    assert seen >= {"kernel_size", "stride", "padding", "dilation", "return_indices", "ceil_mode", "count_include_pad",
                    "divisor_override", "norm_type", "output_size"}
    assert any(isinstance(c[1].get("output_size"), list) and None in c[1]["output_size"] for c in VALID)
    assert any(len(c[2]) == int(c[0][-2]) + 1 for c in VALID), "unbatched inputs"
    assert sum(1 for c in EDGE if c[1].get("ceil_mode")) >= 20


@pytest.mark.parametrize("layer", [{"MaxPool2d": {"kernel_size": 2, "return_indices": True}},
                                   {"AdaptiveMaxPool2d": {"output_size": 3, "return_indices": True}}])
def test_indices_are_int64(layer):
    # the indices feed a layer that takes floats: the engine must refuse their int64 dtype
    spec = {"layercalc": 1, "inputs": {"x": [1, 3, 8, 8]},
            "layers": [dict(layer, name="pool"), {"MaxPool2d": {"kernel_size": 2}, "from": "pool.indices"}]}
    report = layercalc.analyze({**spec, "layers": spec["layers"][:1]})
    assert report.layers[0].extra_outputs == {"indices": report.layers[0].output_shape}
    with pytest.raises(SpecError) as info:
        layercalc.analyze(spec)
    assert info.value.code == "G007" and "int64" in str(info.value)


# Worked examples, the arithmetic next to the expected numbers.


def test_ceil_mode_drops_a_window_starting_in_the_padding():
    # L=4, k=2, s=2, p=1, ceil: ceil((4 + 2 - 2) / 2) + 1 = 3; the last window starts at 2*2=4 < 4+1: kept
    row = ours("MaxPool1d", {"kernel_size": 2, "stride": 2, "padding": 1, "ceil_mode": True}, [[1, 1, 4]])
    assert row.output_shape == [1, 1, 3]
    # L=5, k=2, s=2, p=1, ceil: ceil((5 + 2 - 2) / 2) + 1 = 4, but window 3 starts at 6 >= 5 + 1: dropped
    row = ours("MaxPool1d", {"kernel_size": 2, "stride": 2, "padding": 1, "ceil_mode": True}, [[1, 1, 5]])
    assert row.output_shape == [1, 1, 3]
    assert row.flops == 3 * 2  # numel(y) * kernel


def test_adaptive_avg_flops():
    # L=5 -> 3: windows [0,2) [1,4) [3,5): sizes 2 + 3 + 2 = 7 adds per channel, plus 3 divides
    row = ours("AdaptiveAvgPool1d", {"output_size": 3}, [[2, 4, 5]])
    assert row.output_shape == [2, 4, 3]
    assert row.flops == 2 * 4 * 7 + 2 * 4 * 3  # 80
    # 2-D: (5 -> 3) x (4 -> None = 4): 7 * 4 = 28 elements per channel, plus 12 divides
    row = ours("AdaptiveAvgPool2d", {"output_size": [3, None]}, [[1, 5, 4]])
    assert row.output_shape == [1, 3, 4]
    assert row.flops == 28 + 12


def test_global_average_pool():
    # ResNet's head: AdaptiveAvgPool2d(1) on 1x512x7x7 adds 49 values and divides once per channel
    row = ours("AdaptiveAvgPool2d", {"output_size": 1}, [[1, 512, 7, 7]])
    assert row.output_shape == [1, 512, 1, 1]
    assert row.flops == 512 * (49 + 1)


def test_lppool_infinite_power_is_a_max_pool():
    # norm_type inf runs max_pool3d on |x|, which (unlike avg_pool3d) accepts an input of depth 2 < kernel 3 in
    # ceil mode: D_out = ceil((2 - 3) / 3) + 1 = 1, H_out = W_out = ceil((4 - 3) / 3) + 1 = 2
    args = {"norm_type": float("inf"), "kernel_size": 3, "ceil_mode": True}
    ref = torch_measure(torch.nn.LPPool3d(**args), [torch.randn(1, 2, 2, 4, 4)])
    assert ours("LPPool3d", args, [[1, 2, 2, 4, 4]]).output_shape == ref["outputs"][0] == [1, 2, 1, 2, 2]
    with pytest.raises(SpecError, match="at least as large as the kernel"):
        ours("LPPool3d", {**args, "norm_type": 2}, [[1, 2, 2, 4, 4]])
