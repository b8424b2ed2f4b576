"""Differential tests of the convolution family against torch.nn (skipped without torch).

A seeded generator writes random configurations of the six types with every
argument: kernel_size, stride, padding (int, list, 'same', 'valid'), dilation,
groups, bias, padding_mode, output_padding, given or inferred in_channels, as an
int or a list, on batched and unbatched inputs. ``valid_cases`` are built to be
accepted and must match torch in output shape, parameter shapes, buffers and
MACs (FlopCounterMode). ``edge_cases`` sit on the boundaries (an input just as
large as the dilated kernel, output_padding at stride or dilation, reflect
padding equal to the input): layercalc must reject exactly what torch rejects,
and agree on the rest.
"""

import random
from math import prod

import pytest

torch = pytest.importorskip("torch")

from layercalc.errors import SpecError  # noqa: E402
from tests.oracle import ours, torch_measure  # noqa: E402

N_VALID, N_EDGE = 170, 90


def _write(rng, values):
    """An int when every dimension has the same value (half the time), else a list: both forms are tested."""
    if len(set(values)) == 1 and rng.random() < 0.5:
        return values[0]
    return list(values)


def _conv_case(rng, edge: bool):
    rank = rng.randint(1, 3)
    transposed = rng.random() < 0.4
    groups = rng.choice([1, 1, 1, 2, 3, 4])
    cin, cout = groups * rng.randint(1, 3), groups * rng.randint(1, 3)
    k = [rng.randint(1, {1: 7, 2: 7, 3: 4}[rank]) for _ in range(rank)]
    d = [rng.choice([1, 1, 2, 3]) for _ in range(rank)]
    s = [rng.choice([1, 1, 2, 3]) for _ in range(rank)]
    args = {"out_channels": cout, "kernel_size": _write(rng, k)}
    if rng.random() < 0.3:
        args["in_channels"] = cin
    if groups > 1 or rng.random() < 0.2:
        args["groups"] = groups
    if rng.random() < 0.5:
        args["bias"] = rng.random() < 0.5
    if any(v != 1 for v in d) or rng.random() < 0.2:
        args["dilation"] = _write(rng, d)
    jitter = (lambda: rng.choice([-1, 0, 0, 1])) if edge else (lambda: rng.randint(0, 4 if rank < 3 else 2))
    if transposed:
        limit = [max(si, di) for si, di in zip(s, d)]
        op = [rng.randint(0, lim - 1) if not edge or rng.random() < 0.6 else lim for lim in limit]
        p = [rng.randint(0, 3) for _ in range(rank)]
        args.update(stride=_write(rng, s), padding=_write(rng, p))
        if any(op) or rng.random() < 0.2:
            args["output_padding"] = _write(rng, op)
        # the smallest input whose output is at least 1: (L-1)*s - 2p + d(k-1) + op + 1 >= 1
        lo = [max(1, 1 + -(-(2 * pi - di * (ki - 1) - opi) // si)) for ki, si, pi, di, opi in zip(k, s, p, d, op)]
    else:
        mode = rng.choice(["zeros", "zeros", "reflect", "replicate", "circular"])
        if mode != "zeros" or rng.random() < 0.2:
            args["padding_mode"] = mode
        kind = rng.choice(["int", "int", "same", "valid"])
        if kind == "same":
            s = [1] * rank
            pads = [(di * (ki - 1) // 2, di * (ki - 1) - di * (ki - 1) // 2) for ki, di in zip(k, d)]
            args["padding"] = "same"
        elif kind == "valid":
            pads = [(0, 0)] * rank
            args["padding"] = "valid"
        else:
            p = [rng.randint(0, 3) for _ in range(rank)]
            pads = [(pi, pi) for pi in p]
            if any(p) or rng.random() < 0.3:
                args["padding"] = _write(rng, p)
        if any(v != 1 for v in s) or rng.random() < 0.2:
            args["stride"] = _write(rng, s)
        lo = []
        for ki, di, (left, right) in zip(k, d, pads):
            need = max(1, di * (ki - 1) + 1 - left - right)
            if mode == "reflect":
                need = max(need, max(left, right) + 1)
            elif mode == "circular":
                need = max(need, left, right)
            lo.append(need)
    spatial = [max(1, v + jitter()) for v in lo]
    lead = [] if rng.random() < 0.3 else [rng.randint(1, 2)]
    layer_type = f"{'ConvTranspose' if transposed else 'Conv'}{rank}d"
    return layer_type, args, lead + [cin] + spatial, cin


def _cases(n, seed, edge):
    rng = random.Random(seed)
    return [_conv_case(rng, edge) for _ in range(n)]


def _module(layer_type, args, cin):
    kwargs = {k: v for k, v in args.items() if k != "in_channels"}
    return getattr(torch.nn, layer_type)(cin, **kwargs)


def _compare(row, module, ref, args):
    assert row.output_shape == ref["outputs"][0]
    assert row.param_shapes == {name: tuple(p.shape) for name, p in module.named_parameters()}
    assert (row.params, row.buffers, row.macs) == (ref["params"], ref["buffers"], ref["macs"])
    bias_adds = prod(ref["outputs"][0]) if args.get("bias", True) else 0
    assert row.flops == 2 * ref["macs"] + bias_adds


def _id(case):
    layer_type, args, shape, _ = case
    return f"{layer_type}-{shape}-" + ",".join(f"{k}={v}" for k, v in args.items())


VALID = _cases(N_VALID, seed=11, edge=False)
EDGE = _cases(N_EDGE, seed=12, edge=True)


@pytest.mark.parametrize("case", VALID, ids=[_id(c) for c in VALID])
def test_conv_matches_torch(case):
    layer_type, args, shape, cin = case
    module = _module(layer_type, args, cin)
    ref = torch_measure(module, [torch.randn(*shape)])
    _compare(ours(layer_type, args, [shape]), module, ref, args)


@pytest.mark.parametrize("case", EDGE, ids=[_id(c) for c in EDGE])
def test_conv_edges_agree_with_torch(case):
    layer_type, args, shape, cin = case
    try:
        module = _module(layer_type, args, cin)
        ref = torch_measure(module, [torch.randn(*shape)])
    except (RuntimeError, ValueError):
        with pytest.raises(SpecError):
            ours(layer_type, args, [shape])
        return
    _compare(ours(layer_type, args, [shape]), module, ref, args)


def test_generators_cover_every_type_and_argument():
    seen_types = {c[0] for c in VALID}
    assert seen_types == {f"{kind}{r}d" for kind in ("Conv", "ConvTranspose") for r in (1, 2, 3)}
    seen_args = {k for c in VALID for k in c[1]}
    assert seen_args >= {"in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation", "groups",
                         "bias", "padding_mode", "output_padding"}
    assert {c[1]["padding"] for c in VALID if isinstance(c[1].get("padding"), str)} == {"same", "valid"}
    assert {c[1].get("padding_mode") for c in VALID} >= {"zeros", "reflect", "replicate", "circular"}
    assert any(len(c[2]) == int(c[0][-2]) + 1 for c in VALID), "unbatched inputs"


# Worked examples, the arithmetic next to the expected numbers.


def test_resnet_stem():
    # Conv2d(3, 64, 7, stride 2, padding 3, bias false) on 1x3x224x224: H_out = (224 + 6 - 6 - 1)//2 + 1 = 112
    row = ours("Conv2d", {"out_channels": 64, "kernel_size": 7, "stride": 2, "padding": 3, "bias": False},
               [[1, 3, 224, 224]])
    assert row.output_shape == [1, 64, 112, 112]
    assert row.params == 64 * 3 * 7 * 7  # 9408
    assert row.macs == 64 * 112 * 112 * 3 * 49  # 118,013,952: torchvision's resnet18 conv1
    assert row.flops == 2 * row.macs


def test_same_padding_even_kernel_with_dilation():
    # kernel 4, dilation 3: total padding 9, left 4, right 5; (10 + 9 - 9 - 1)//1 + 1 = 10
    row = ours("Conv1d", {"out_channels": 2, "kernel_size": 4, "dilation": 3, "padding": "same"}, [[1, 5, 10]])
    assert row.output_shape == [1, 2, 10]
    assert row.macs == 2 * 10 * 5 * 4  # numel(y) * in_channels * kernel = 400
    assert row.flops == 2 * 400 + 20  # + one bias add per output element


def test_depthwise_transposed_unbatched():
    # ConvTranspose2d(4, 8, 3, stride 2, groups 4) on (4, 5, 5): H_out = (5-1)*2 + 2 + 1 = 11
    row = ours("ConvTranspose2d", {"out_channels": 8, "kernel_size": 3, "stride": 2, "groups": 4}, [[4, 5, 5]])
    assert row.output_shape == [8, 11, 11]
    assert row.param_shapes == {"weight": (4, 2, 3, 3), "bias": (8,)}
    assert row.macs == 1 * 4 * 25 * 2 * 9  # N * in_channels * prod(input spatial) * out/groups * prod(k) = 1800
