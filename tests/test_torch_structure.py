"""Differential tests of the structure family against torch (skipped without torch).

Seeded generators produce random valid configurations of every type; each is
analyzed by layercalc and run through the torch equivalent (the nn module
where one exists, otherwise a tiny module wrapping the torch function), and
the output shape, params, buffers and MACs (FlopCounterMode's total / 2) must
agree. A second set of random configurations, valid or not, checks that
layercalc accepts exactly what torch accepts. FLOPs follow the family's
convention (layercalc/layers/structure.py) and are checked with the arithmetic
written out; invalid configurations raise SpecError with the right code.
"""

import functools
import operator
import random
import warnings

import pytest

torch = pytest.importorskip("torch")
nn = torch.nn

import layercalc  # noqa: E402
from layercalc.errors import SpecError  # noqa: E402
from layercalc.layers import REGISTRY  # noqa: E402
from layercalc.errors import LayerError  # noqa: E402
from layercalc.layers.base import Args, T  # noqa: E402
from layercalc.layers.structure import chain_dtype, promote  # noqa: E402
from tests.oracle import ours, torch_measure  # noqa: E402

DTYPES = ["float16", "bfloat16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool"]
PAD_KINDS = ("ZeroPad", "ConstantPad", "ReflectionPad", "ReplicationPad", "CircularPad")
UPSAMPLE_RANK = {"linear": 3, "bilinear": 4, "bicubic": 4, "trilinear": 5}


class Fn(nn.Module):
    """A torch function as a module, for the types that have no nn module."""

    def __init__(self, f):
        super().__init__()
        self.f = f

    def forward(self, *xs):
        return self.f(*xs)


class Param(nn.Module):
    """What a Parameter layer is: a module holding one nn.Parameter and returning it."""

    def __init__(self, shape):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(shape))

    def forward(self):
        return self.weight


class Buf(nn.Module):
    """What a Buffer layer is: a module holding one registered buffer and returning it."""

    def __init__(self, shape, dtype):
        super().__init__()
        self.register_buffer("buffer", torch.zeros(shape, dtype=getattr(torch, dtype)))

    def forward(self):
        return self.buffer


def _prod(xs):
    return functools.reduce(operator.mul, xs, 1)


def _shape(rng, lo, hi, smax=4):
    return [rng.randint(1, smax) for _ in range(rng.randint(lo, hi))]


def _slice_fn(dim, start, end, step):
    def f(x):
        s = slice(start, end, step)
        return x[(slice(None),) * dim + (s,)] if dim >= 0 else x[(Ellipsis, s) + (slice(None),) * (-dim - 1)]
    return f


def _upsample_module(args):
    kw = {k: tuple(v) if isinstance(v, list) else v for k, v in args.items()}
    return nn.Upsample(**kw)


def _pad_module(name, args):
    padding = tuple(args["padding"]) if isinstance(args["padding"], list) else args["padding"]
    cls = getattr(nn, name)
    return cls(padding, args["value"]) if "value" in args else cls(padding)


# --- valid configurations ------------------------------------------------------------


def structure_cases(seed=100):
    """(type, args, input shapes, module factory): every type, at least 200 in all."""
    rng = random.Random(seed)
    srng = random.Random(seed + 1)
    out = []

    def add(t, args, shapes, make):
        out.append((t, args, shapes, make))

    for _ in range(12):
        x = _shape(rng, 1, 5)
        s, e = sorted(rng.sample(range(len(x)), 2)) if len(x) > 1 else (0, 0)
        s, e = (s - len(x) if rng.random() < 0.3 else s), (e - len(x) if rng.random() < 0.3 else e)
        args = {} if rng.random() < 0.2 and len(x) > 1 else {"start_dim": s, "end_dim": e}
        add("Flatten", args, [x], lambda a=args: nn.Flatten(**a))
    for _ in range(10):
        x = _shape(rng, 1, 4, 6)
        d = rng.randrange(len(x))
        size = x[d]
        parts = [p for p in range(1, size + 1) if size % p == 0]
        p = rng.choice(parts)
        sizes = [p, size // p] + ([1] if rng.random() < 0.3 else [])
        if rng.random() < 0.5:
            sizes[rng.randrange(len(sizes))] = -1
        d = d - len(x) if rng.random() < 0.3 else d
        add("Unflatten", {"dim": d, "unflattened_size": sizes}, [x],
            lambda d=d, u=tuple(sizes): nn.Unflatten(d, u))
    for _ in range(10):
        x = _shape(rng, 0, 4)
        n = _prod(x)
        shape = []
        rest = n
        for _ in range(rng.randint(0, 3)):
            f = rng.choice([q for q in range(1, rest + 1) if rest % q == 0])
            shape.append(f)
            rest //= f
        shape.append(rest)
        rng.shuffle(shape)
        if rng.random() < 0.6:
            shape[rng.randrange(len(shape))] = -1
        add("Reshape", {"shape": shape}, [x], lambda s=shape: Fn(lambda t: t.reshape(s)))
    for _ in range(10):
        x = _shape(rng, 1, 5)
        dims = list(range(len(x)))
        rng.shuffle(dims)
        dims = [d - len(x) if rng.random() < 0.3 else d for d in dims]
        add("Permute", {"dims": dims}, [x], lambda d=dims: Fn(lambda t: t.permute(d)))
    for _ in range(10):
        x = _shape(rng, 1, 5)
        d0, d1 = rng.randint(-len(x), len(x) - 1), rng.randint(-len(x), len(x) - 1)
        add("Transpose", {"dim0": d0, "dim1": d1}, [x], lambda a=d0, b=d1: Fn(lambda t: t.transpose(a, b)))
    for _ in range(10):
        x = [rng.choice([1, 1, 2, 3]) for _ in range(rng.randint(0, 3))]
        target = [rng.randint(1, 3) for _ in range(rng.randint(0, 2))]
        target += [rng.choice([-1, d]) if d != 1 else rng.choice([-1, 1, 4]) for d in x]
        if not x:
            x = [1]
            target.append(rng.choice([-1, 5]))
        add("Expand", {"shape": target}, [x], lambda s=target: Fn(lambda t: t.expand(*s)))
    for _ in range(10):
        x = _shape(rng, 1, 4)
        d = rng.randint(-len(x), len(x) - 1)
        i = rng.randint(-x[d], x[d] - 1)
        add("Select", {"dim": d, "index": i}, [x], lambda d=d, i=i: Fn(lambda t: t.select(d, i)))
    for _ in range(12):
        x = _shape(rng, 1, 4, 8)
        d = rng.randint(-len(x), len(x) - 1)
        args = {"dim": d}
        if rng.random() < 0.7:
            args["start"] = rng.randint(-10, 10)
        if rng.random() < 0.6:
            args["end"] = rng.randint(-10, 10)
        if rng.random() < 0.5:
            args["step"] = rng.randint(1, 3)
        add("Slice", args, [x], lambda a=args: Fn(_slice_fn(a["dim"], a.get("start", 0), a.get("end"), a.get("step", 1))))

    def broadcastable(rank, n):
        full = _shape(rng, rank, rank)
        shapes = []
        for _ in range(n):
            s = [d if rng.random() < 0.7 else 1 for d in full]
            shapes.append(s[rng.randint(0, len(s)):] if rng.random() < 0.3 else s)
        return shapes

    for t, op, count, arity in (("Add", operator.add, 10, None), ("Mul", operator.mul, 8, None),
                                ("Sub", operator.sub, 6, 2), ("Div", operator.truediv, 6, 2)):
        for _ in range(count):
            shapes = broadcastable(rng.randint(1, 4), arity or rng.randint(2, 4))
            if not any(shapes):  # torch.randn needs one dimensioned operand here; any rank is fine
                shapes[0] = [1]
            add(t, {}, shapes, lambda op=op: Fn(lambda *xs: functools.reduce(op, xs)))
        for _ in range(3):  # one tensor and a constant: x * 0.125, 1 - x (drawn apart: the other cases stay)
            scalar = srng.choice([0.125, 1, -2, 2.5])
            first = arity == 2 and srng.random() < 0.5
            args = {"scalar": scalar, **({"scalar_first": True} if first else {})}
            add(t, args, [_shape(srng, 0, 4)],
                lambda op=op, c=scalar, f=first: Fn(lambda x: op(c, x) if f else op(x, c)))
    for t, f in (("Abs", torch.abs), ("Neg", torch.neg)):
        for _ in range(4):
            add(t, {}, [_shape(rng, 1, 4)], lambda f=f: Fn(f))
    for _ in range(12):
        base = _shape(rng, 1, 4)
        d = rng.randint(-len(base), len(base) - 1)
        shapes = []
        for _ in range(rng.randint(2, 4)):
            s = list(base)
            s[d] = rng.randint(1, 4)
            shapes.append(s)
        args = {"dim": d} if d != 0 or rng.random() < 0.5 else {}
        add("Concat", args, shapes, lambda d=d: Fn(lambda *xs: torch.cat(xs, d)))
    for _ in range(12):
        x = _shape(rng, 1, 4)
        k = rng.random()
        if k < 0.25:
            dim = None
        elif k < 0.5:
            dim = rng.randint(-len(x), len(x) - 1)
        else:
            dim = rng.sample(range(len(x)), rng.randint(1, len(x)))
            dim = [d - len(x) if rng.random() < 0.3 else d for d in dim]
        keep = rng.random() < 0.5
        args = {"keepdim": keep} if dim is None else {"dim": dim, "keepdim": keep}
        add("Mean", args, [x], lambda dim=dim, keep=keep:
            Fn(lambda t: t.mean(dim=dim, keepdim=keep) if dim is not None or keep else t.mean()))
    for i in range(16):
        n, k, m = rng.randint(1, 5), rng.randint(1, 5), rng.randint(1, 5)
        kind = i % 8
        batch = _shape(rng, 1, 2)
        other = [d if rng.random() < 0.6 else 1 for d in batch]
        a, b = {0: ([n, k], [k, m]), 1: ([k], [k, m]), 2: ([n, k], [k]), 3: ([k], [k]),
                4: (batch + [n, k], other + [k, m]), 5: (batch + [n, k], [k, m]),
                6: ([n, k], batch + [k, m]), 7: ([k], batch + [k, m])}[kind]
        add("MatMul", {}, [a, b], lambda: Fn(torch.matmul))
    for _ in range(6):
        shape = [rng.randint(1, 4) for _ in range(rng.randint(1, 3))]
        out.append(("Parameter", {"shape": shape}, [], lambda s=shape: Param(s)))
    for dtype in ("float32", "int64", "float16", "bool"):
        shape = [srng.randint(1, 4) for _ in range(srng.randint(0, 3))]
        args = {"shape": shape, **({"dtype": dtype} if dtype != "float32" else {})}
        out.append(("Buffer", args, [], lambda s=shape, d=dtype: Buf(s, d)))
    for _ in range(16):
        mode = rng.choice(["nearest", "nearest-exact", "linear", "bilinear", "bicubic", "trilinear"])
        rank = UPSAMPLE_RANK.get(mode) or rng.randint(3, 5)
        x = _shape(rng, rank, rank, 5)
        args = {"mode": mode}
        if rng.random() < 0.5:
            args["size"] = rng.randint(1, 7) if rng.random() < 0.5 else [rng.randint(1, 7) for _ in range(rank - 2)]
        else:
            args["scale_factor"] = (rng.choice([0.5, 1.5, 2.0, 2.5, 3.0]) if rng.random() < 0.5 else
                                    [rng.choice([1.0, 1.5, 2.0, 0.7, 3.0]) for _ in range(rank - 2)])
            if rng.random() < 0.3:
                args["recompute_scale_factor"] = rng.random() < 0.5
        if mode in UPSAMPLE_RANK and rng.random() < 0.5:
            args["align_corners"] = rng.random() < 0.5
        if "scale_factor" in args:  # keep every output size >= 1
            x = [max(d, 2) for d in x]
        add("Upsample", args, [x], lambda a=args: _upsample_module(a))
    for kind in PAD_KINDS:
        for d in (1, 2, 3):
            for _ in range(3):
                if kind in ("ZeroPad", "ConstantPad"):
                    x = _shape(rng, d, d + 2, 6)
                else:
                    x = _shape(rng, 1, 2, 3) + _shape(rng, d, d, 6)  # (C, *spatial) or (N, C, *spatial)
                spatial = x[-d:]
                pairs = []
                for size in reversed(spatial):  # torch's order: last dimension first
                    hi = {"ReflectionPad": size - 1, "CircularPad": size}.get(kind, 4)
                    lo = -(size - 1) // 2  # crop a little, keep at least 1 element
                    before, after = rng.randint(lo, hi), rng.randint(lo, hi)
                    if before + after + size < 1:
                        after = 0
                    if kind == "CircularPad":  # a positive pad wraps at most what the other side's crop keeps
                        before, after = min(before, size + min(after, 0)), min(after, size + min(before, 0))
                    pairs += [before, after]
                padding = pairs if rng.random() < 0.7 else max(0, min(min(spatial) - 1, rng.randint(0, 2)))
                args = {"padding": padding}
                if kind == "ConstantPad":
                    args["value"] = rng.choice([0.0, 1.5, -2])
                name = f"{kind}{d}d"
                add(name, args, [x], lambda n=name, a=args: _pad_module(n, a))
    for _ in range(8):
        r = rng.randint(1, 3)
        x = _shape(rng, 0, 2) + [rng.randint(1, 3) * r * r] + _shape(rng, 2, 2)
        add("PixelShuffle", {"upscale_factor": r}, [x], lambda r=r: nn.PixelShuffle(r))
    for _ in range(6):
        r = rng.randint(1, 3)
        x = _shape(rng, 0, 2) + [rng.randint(1, 3), rng.randint(1, 3) * r, rng.randint(1, 3) * r]
        add("PixelUnshuffle", {"downscale_factor": r}, [x], lambda r=r: nn.PixelUnshuffle(r))
    for _ in range(8):
        g = rng.randint(1, 4)
        x = [rng.randint(1, 3), g * rng.randint(1, 3)] + _shape(rng, 1, 3)
        add("ChannelShuffle", {"groups": g}, [x], lambda g=g: nn.ChannelShuffle(g))
    return out


CASES = structure_cases()


def test_enough_cases_over_every_type():
    types = {c[0] for c in CASES}
    family = {t for t, r in REGISTRY.items() if r.family == "structure"}
    assert types == family
    assert len(CASES) >= 200


def _ours_param(shape, t="Parameter", args=None):
    spec = {"layercalc": 1, "name": "t", "inputs": {"unused": [1]}, "layers": [{t: args or {"shape": shape}}]}
    return layercalc.analyze(spec).layers[-1]


@pytest.mark.parametrize("layer_type,args,shapes,make", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_structure_matches_torch(layer_type, args, shapes, make):
    if layer_type in ("Parameter", "Buffer"):
        row = _ours_param(args["shape"], layer_type, args)
    else:
        row = ours(layer_type, args, shapes)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = torch_measure(make(), [torch.randn(tuple(s)) for s in shapes])
    assert row.output_shape == ref["outputs"][0]
    assert (row.params, row.buffers) == (ref["params"], ref["buffers"])
    if layer_type == "MatMul" and len(shapes[1]) == 1:
        # FlopCounterMode does not see aten.dot and aten.mv: check the formula B * n * k * m instead.
        a = shapes[0]
        assert row.macs == _prod(a[:-1]) * a[-1]
    else:
        assert row.macs == ref["macs"]


# --- agreement on validity ---------------------------------------------------------


def _maybe_valid(rng):
    """One random configuration, valid or not: (type, args, shapes, torch function of the inputs)."""
    t = rng.choice(["Flatten", "Unflatten", "Reshape", "Permute", "Transpose", "Expand", "Select", "Slice", "Add",
                    "Concat", "Mean", "MatMul", "Upsample", "Pad", "PixelShuffle", "PixelUnshuffle",
                    "ChannelShuffle"])
    x = _shape(rng, 1, 4)
    if t == "Flatten":
        a = {"start_dim": rng.randint(-4, 4), "end_dim": rng.randint(-4, 4)}
        return t, a, [x], lambda t_: nn.Flatten(**a)(t_)
    if t == "Unflatten":
        a = {"dim": rng.randint(-4, 4), "unflattened_size": [rng.choice([-1, 1, 2, 3, 4]) for _ in range(rng.randint(1, 3))]}
        return t, a, [x], lambda t_: t_.unflatten(a["dim"], tuple(a["unflattened_size"]))
    if t == "Reshape":
        a = {"shape": [rng.choice([-1, 1, 2, 3, 4, 6]) for _ in range(rng.randint(0, 3))]}
        return t, a, [x], lambda t_: t_.reshape(a["shape"])
    if t == "Permute":
        a = {"dims": [rng.randint(-4, 3) for _ in range(rng.randint(1, 4))]}
        return t, a, [x], lambda t_: t_.permute(a["dims"])
    if t == "Transpose":
        a = {"dim0": rng.randint(-4, 3), "dim1": rng.randint(-4, 3)}
        return t, a, [x], lambda t_: t_.transpose(a["dim0"], a["dim1"])
    if t == "Expand":
        x = [rng.choice([1, 2]) for _ in range(rng.randint(1, 3))]
        a = {"shape": [rng.choice([-1, 1, 2, 3]) for _ in range(rng.randint(0, 4))]}
        return t, a, [x], lambda t_: t_.expand(*a["shape"])
    if t == "Select":
        a = {"dim": rng.randint(-4, 3), "index": rng.randint(-5, 4)}
        return t, a, [x], lambda t_: t_.select(a["dim"], a["index"])
    if t == "Slice":
        a = {"dim": rng.randint(-4, 3), "start": rng.randint(-6, 6), "end": rng.randint(-6, 6)}

        def f(t_):
            if not -t_.dim() <= a["dim"] < t_.dim():
                raise IndexError(a["dim"])
            return _slice_fn(a["dim"], a["start"], a["end"], 1)(t_)
        return t, a, [x], f
    if t == "Add":
        ys = [_shape(rng, 1, 3, 3) for _ in range(rng.randint(2, 3))]
        return t, {}, ys, lambda *ts: functools.reduce(operator.add, ts)
    if t == "Concat":
        ys = [x] + [[d if rng.random() < 0.8 else rng.randint(1, 4) for d in x][: len(x) + rng.choice([0, 0, 0, -1])]
                    for _ in range(rng.randint(1, 2))]
        ys = [y or [1] for y in ys]
        d = rng.randint(-4, 3)
        return t, {"dim": d}, ys, lambda *ts: torch.cat(ts, d)
    if t == "Mean":
        a = {"dim": [rng.randint(-4, 3) for _ in range(rng.randint(1, 3))], "keepdim": rng.random() < 0.5}
        return t, a, [x], lambda t_: t_.mean(dim=a["dim"], keepdim=a["keepdim"])
    if t == "MatMul":
        ys = [_shape(rng, 1, 4, 3), _shape(rng, 1, 4, 3)]
        return t, {}, ys, torch.matmul
    if t == "Upsample":
        x = _shape(rng, 2, 6, 4)
        a = {"mode": rng.choice(["nearest", "nearest-exact", "linear", "bilinear", "bicubic", "trilinear"])}
        if rng.random() < 0.6:
            a["size"] = rng.randint(1, 5) if rng.random() < 0.5 else [rng.randint(1, 5) for _ in range(rng.randint(1, 3))]
        if rng.random() < 0.6:
            a["scale_factor"] = rng.choice([0.3, 0.5, 1.0, 1.5, 2.0, 1 / 3])
        if rng.random() < 0.3:
            a["align_corners"] = rng.random() < 0.5
        return t, a, [x], lambda t_: _upsample_module(a)(t_)
    if t == "Pad":
        kind, d = rng.choice(PAD_KINDS), rng.randint(1, 3)
        x = _shape(rng, d - 1, d + 3, 5)
        if kind in ("ReflectionPad", "ReplicationPad") and d > 1 or kind == "CircularPad" and rng.random() < 0.5:
            pads = [rng.randint(0, 5) for _ in range(2 * d)]  # see the test's docstring
        elif kind == "CircularPad":
            pads = [rng.randint(-5, 0) for _ in range(2 * d)]
        else:
            pads = [rng.randint(-5, 5) for _ in range(2 * d)]
        a = {"padding": pads}
        if kind == "ConstantPad":
            a["value"] = 1.0
        name = f"{kind}{d}d"
        return name, a, [x], lambda t_: _pad_module(name, a)(t_)
    if t == "PixelShuffle":
        a = {"upscale_factor": rng.randint(1, 3)}
        return t, a, [x], lambda t_: nn.PixelShuffle(a["upscale_factor"])(t_)
    if t == "PixelUnshuffle":
        a = {"downscale_factor": rng.randint(1, 3)}
        return t, a, [x], lambda t_: nn.PixelUnshuffle(a["downscale_factor"])(t_)
    a = {"groups": rng.randint(1, 4)}
    return "ChannelShuffle", a, [x], lambda t_: nn.ChannelShuffle(a["groups"])(t_)


def test_accepts_exactly_what_torch_accepts():
    """Random configurations, about half of them invalid: layercalc rejects (with a SpecError) exactly
    those torch rejects, and agrees on the shape of the others. Two deliberate differences are left
    out: reflection and replication padding of 2-D/3-D inputs are drawn without negative pads (torch
    2.13 still accepts some crops to an empty output there, which layercalc rejects, like torch's later
    releases and its 1-D check), and circular padding either pads or crops (a pad that wraps more than
    the other side's crop keeps copies overlapping memory in torch: an error for a contiguous input,
    unspecified values otherwise; layercalc rejects it)."""
    rng = random.Random(7)
    accepted = rejected = 0
    for _ in range(400):
        t, args, shapes, f = _maybe_valid(rng)
        try:
            mine = ours(t, args, shapes).output_shape
        except SpecError:
            mine = None
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                theirs = list(f(*[torch.randn(tuple(s)) for s in shapes]).shape)
        except Exception:
            theirs = None
        assert mine == theirs, (t, args, shapes)
        accepted += mine is not None
        rejected += mine is None
    assert accepted > 100 and rejected > 100


# --- dtypes --------------------------------------------------------------------------


def test_type_promotion_matches_torch():
    rng = random.Random(3)
    for _ in range(300):
        xs = [T(tuple([2] * rng.choice([0, 1, 2])), rng.choice(DTYPES)) for _ in range(rng.randint(2, 4))]
        ts = [torch.ones(x.shape, dtype=getattr(torch, x.dtype)) for x in xs]
        # Add, Mul: left to right, each partial result a dimensioned operand of the next step
        assert chain_dtype(xs) == str(functools.reduce(operator.add, ts).dtype).removeprefix("torch."), xs
        # Sub, Div (two operands, 0-D ones included) and Concat (all at once, dimensioned)
        assert promote(xs[:2]) == str(torch.result_type(ts[0], ts[1])).removeprefix("torch."), xs
        dimmed = [t for t in ts if t.dim()]
        if dimmed:
            cat = torch.cat([t.reshape(-1) for t in dimmed])
            assert promote([x for x in xs if x.rank]) == str(cat.dtype).removeprefix("torch."), xs


def test_scalar_operand_dtype_matches_torch():
    """A Python number typed as torch types it: an int keeps an integer input's dtype, a float makes it
    float32, a float keeps float16; true division of an integer input by an int is float32."""
    for dtype in DTYPES:
        for scalar in (2, 0.5, -3):
            for t, op in (("Add", operator.add), ("Mul", operator.mul), ("Sub", operator.sub),
                          ("Div", operator.truediv)):
                x = torch.ones(3, dtype=getattr(torch, dtype))
                try:
                    theirs = str(op(x, scalar).dtype).removeprefix("torch.")
                except RuntimeError:
                    theirs = None
                args = Args({"scalar": scalar, "scalar_first": False}, {"scalar"})
                try:
                    out = REGISTRY[t].forward(args, [T((3,), dtype)])
                    mine = out.dtype or dtype
                except LayerError:
                    mine = None
                assert mine == theirs, (t, dtype, scalar)


def _spec(layers, **inputs):
    return {"layercalc": 1, "name": "t", "inputs": inputs, "layers": layers}


def test_dtypes_flow_through_data_movement():
    # int64 token ids survive Slice, Reshape and Concat: a later Mean (floats only) rejects them
    spec = _spec([{"Slice": {"dim": 1, "start": 1}}, {"Reshape": {"shape": [-1]}}, {"Mean": {}}],
                 x={"shape": [2, 5], "dtype": "int64"})
    with pytest.raises(SpecError) as err:
        layercalc.analyze(spec)
    assert err.value.code == "G007"
    # true division of integers gives float32, which Mean takes
    spec = _spec([{"Div": {}, "from": ["x", "y"]}, {"Mean": {}}],
                 x={"shape": [2, 5], "dtype": "int64"}, y={"shape": [5], "dtype": "int32"})
    assert layercalc.analyze(spec).layers[-1].output_shape == []


# --- FLOPs, with the arithmetic --------------------------------------------------------


FLOPS_CASES = [
    # (type, args, input shapes, expected MACs, expected FLOPs)
    ("Add", {}, [[2, 3, 4]] * 3, 0, 48),                        # (3 - 1) * 2*3*4 = 48
    ("Add", {}, [[8, 64, 1, 1], [8, 64, 56, 56]], 0, 1605632),  # (2 - 1) * 8*64*56*56 = 1,605,632
    ("Mul", {}, [[2, 3], [3]], 0, 6),                           # (2 - 1) * 2*3 = 6
    ("Mul", {}, [[4, 1], [1, 5], [5], [1]], 0, 60),             # (4 - 1) * 4*5 = 60
    ("Sub", {}, [[4, 5], [5]], 0, 20),                          # 4*5 = 20
    ("Div", {}, [[4, 1], [1, 5]], 0, 20),                       # 4*5 = 20
    ("Mul", {"scalar": 0.125}, [[8, 12, 197, 64]], 0, 1210368),  # (2 - 1) * 8*12*197*64 = 1,210,368
    ("Add", {"scalar": 1}, [[2, 3]], 0, 6),                     # (2 - 1) * 2*3 = 6
    ("Sub", {"scalar": 1, "scalar_first": True}, [[4, 5]], 0, 20),  # 1 - x: 4*5 = 20
    ("Div", {"scalar": 2}, [[3, 7]], 0, 21),                    # 3*7 = 21
    ("Abs", {}, [[3, 7]], 0, 21),                               # 3*7 = 21
    ("Neg", {}, [[2, 2, 2]], 0, 8),                             # 2*2*2 = 8
    ("Mean", {"dim": [2, 3]}, [[8, 512, 7, 7]], 0, 204800),     # 8*512*7*7 + 8*512 = 200,704 + 4,096
    ("Mean", {}, [[2, 3, 4]], 0, 25),                           # 24 adds + 1 divide
    ("Mean", {"dim": -1, "keepdim": True}, [[2, 3, 4]], 0, 30),  # 24 + 2*3*1 = 30
    ("MatMul", {}, [[8, 12, 197, 64], [8, 12, 64, 197]], 238442496, 476884992),  # 96*197*64*197; 2 * MACs
    ("MatMul", {}, [[5, 1, 2, 3], [4, 3, 2]], 240, 480),        # B = 5*4 = 20: 20 * 2*3*2 = 240
    ("MatMul", {}, [[5], [5]], 5, 10),                          # a dot product: 1 * 1*5*1
    ("MatMul", {}, [[3, 4], [4]], 12, 24),                      # a matrix-vector product: 3*4*1
    ("MatMul", {}, [[4], [2, 4, 6]], 48, 96),                   # B = 2: 2 * 1*4*6
    ("Upsample", {"scale_factor": 2}, [[1, 3, 4, 4]], 0, 0),    # nearest: data movement
    ("Upsample", {"size": 6, "mode": "linear"}, [[1, 2, 3]], 0, 36),  # 3 * 1*2*6
    ("Upsample", {"scale_factor": 2, "mode": "bilinear"}, [[1, 2, 3, 4]], 0, 864),  # 9 * 1*2*6*8
    ("Upsample", {"scale_factor": 2, "mode": "bicubic"}, [[1, 2, 3, 4]], 0, 3360),  # 35 * 1*2*6*8
    ("Upsample", {"scale_factor": 2, "mode": "trilinear"}, [[1, 1, 2, 2, 2]], 0, 1344),  # 21 * 1*1*4*4*4
    ("Upsample", {"scale_factor": 1.5, "mode": "nearest-exact"}, [[1, 1, 5]], 0, 0),  # floor(7.5) = 7, 0 FLOPs
    ("Flatten", {}, [[8, 64, 7, 7]], 0, 0),
    ("Reshape", {"shape": [4, -1]}, [[2, 6]], 0, 0),
    ("Concat", {"dim": 1}, [[2, 3], [2, 5]], 0, 0),
    ("ZeroPad2d", {"padding": 1}, [[1, 3, 4, 4]], 0, 0),
    ("PixelShuffle", {"upscale_factor": 2}, [[1, 8, 3, 3]], 0, 0),
]


@pytest.mark.parametrize("layer_type,args,shapes,macs,flops", FLOPS_CASES)
def test_flops_formulas(layer_type, args, shapes, macs, flops):
    row = ours(layer_type, args, shapes)
    assert (row.macs, row.flops) == (macs, flops)


def test_parameter_counts_its_elements():
    row = _ours_param([1, 1, 768])
    assert (row.output_shape, row.params, row.macs, row.flops) == ([1, 1, 768], 768, 0, 0)  # 1*1*768
    spec = _spec([{"Parameter": {"shape": [4, 8]}, "name": "pos", "trainable": False},
                  {"Add": {}, "from": ["x", "pos"]}], x=[2, 4, 8])
    report = layercalc.analyze(spec)
    assert report.totals["params"] == 32 and report.totals["trainable_params"] == 0  # 4*8
    assert report.layers[-1].output_shape == [2, 4, 8] and report.layers[-1].flops == 64  # 2*4*8


def test_every_rule_documents_its_counting():
    for t, rule in REGISTRY.items():
        if rule.family == "structure":
            assert rule.macs and rule.flops and "FLOPs" in rule.__doc__, t


# --- invalid configurations ----------------------------------------------------------


ERROR_CASES = [
    # (type, args, input shapes, code, text in the message)
    ("Add", {}, [[2, 3], [4]], "G003", "do not broadcast"),
    ("Mul", {}, [[2, 3], [3], [2, 2]], "G003", "do not broadcast"),
    ("Reshape", {"shape": [4, -1]}, [[2, 3]], "G003", "cannot reshape [2, 3] (6 elements) into [4, -1]"),
    ("Reshape", {"shape": [5]}, [[2, 3]], "G003", "cannot reshape [2, 3] (6 elements) into [5]"),
    ("Reshape", {"shape": [-1, -1]}, [[2, 3]], "S006", "only one size can be inferred"),
    ("Unflatten", {"dim": 1, "unflattened_size": [4, -1]}, [[2, 6]], "G003", "dimension 1 of size 6"),
    ("Concat", {"dim": 1}, [[2, 3], [3, 3]], "G003", "differ outside dim=1"),
    ("Concat", {"dim": 0}, [[2, 3], [3]], "G003", "same number"),
    ("Concat", {"dim": 2}, [[2, 3], [2, 3]], "G003", "dim=2 is out of range"),
    ("MatMul", {}, [[2, 3], [4, 5]], "G003", "do not multiply"),
    ("MatMul", {}, [[3], [4]], "G003", "do not multiply"),
    ("MatMul", {}, [[2, 2, 3], [3, 3, 4]], "G003", "batch dimensions"),
    ("MatMul", {}, [([2, 3], "float32"), ([3, 4], "float64")], "G007", "same dtype"),
    ("Select", {"dim": 1, "index": 3}, [[2, 3]], "G003", "index=3 is out of range"),
    ("Select", {"dim": 0, "index": -3}, [[2, 3]], "G003", "index=-3 is out of range"),
    ("Select", {"dim": 2, "index": 0}, [[2, 3]], "G003", "dim=2 is out of range"),
    ("Slice", {"dim": 0, "step": 0}, [[4]], "S006", "step=0"),
    ("Flatten", {"start_dim": 2, "end_dim": 1}, [[2, 3, 4]], "G003", "comes after"),
    ("Flatten", {}, [[5]], "G003", "start_dim=1 is out of range"),
    ("Permute", {"dims": [0, 0]}, [[2, 3]], "S006", "more than once"),
    ("Permute", {"dims": [1, 0, 2]}, [[2, 3]], "G003", "3 entries"),
    ("Transpose", {"dim0": 0, "dim1": 3}, [[2, 3]], "G003", "dim1=3 is out of range"),
    ("Expand", {"shape": [4, 5]}, [[2, 1]], "G003", "cannot expand [2, 1] to [4, 5]"),
    ("Expand", {"shape": [-1, 2, 3]}, [[2, 3]], "G003", "cannot be -1"),
    ("Expand", {"shape": [3]}, [[2, 3]], "G003", "fewer than"),
    ("Mean", {"dim": [1, -1]}, [[2, 6]], "S006", "more than once"),
    ("Mean", {}, [([2, 6], "int64")], "G007", "floating-point"),
    ("Sub", {}, [([2], "bool"), [2]], "G007", "bool"),
    ("Sub", {"scalar": 1}, [([2], "bool")], "G007", "bool"),
    ("Add", {}, [[2, 3]], "G008", "one input and a scalar"),
    ("Mul", {"scalar": 2}, [[2, 3], [2, 3]], "G008", "with a scalar takes one input"),
    ("Div", {"scalar_first": True}, [[2, 3], [2, 3]], "S006", "scalar_first is set without a scalar"),
    ("Sub", {}, [[2, 3], [2, 3], [2, 3]], "G008", "takes 1 to 2"),
    ("Neg", {}, [([2], "bool")], "G007", "bool"),
    ("PixelShuffle", {"upscale_factor": 2}, [[1, 6, 3, 3]], "G004", "not divisible by upscale_factor^2 = 4"),
    ("PixelShuffle", {"upscale_factor": 2}, [[6, 3]], "G003", "at least 3"),
    ("PixelUnshuffle", {"downscale_factor": 2}, [[1, 6, 3, 4]], "G004", "not divisible"),
    ("ChannelShuffle", {"groups": 4}, [[1, 6, 3, 3]], "G004", "not divisible by groups=4"),
    ("Upsample", {"scale_factor": 2, "mode": "linear"}, [[2, 3, 4, 4]], "G003", "needs a 3-D input"),
    ("Upsample", {"scale_factor": 2}, [[3, 4]], "G003", "expects a 3-D"),
    ("Upsample", {"scale_factor": 2, "size": 4}, [[1, 3, 4]], "S006", "got both"),
    ("Upsample", {}, [[1, 3, 4]], "S002", "got neither"),
    ("Upsample", {"size": 4, "align_corners": True}, [[1, 3, 4]], "S006", "does not interpolate"),
    ("Upsample", {"size": [4, 4]}, [[1, 3, 4]], "G003", "has 2 values"),
    ("Upsample", {"scale_factor": 0.2}, [[1, 3, 4]], "G003", "output size would be [0]"),
    ("Upsample", {"size": 4, "recompute_scale_factor": True}, [[1, 3, 4]], "S006", "not meaningful"),
    ("Upsample", {"size": 4, "mode": "cubic"}, [[1, 3, 4]], "S006", "not allowed"),
    ("ZeroPad2d", {"padding": [1, 2, 3]}, [[1, 3, 4]], "S006", "an even number"),  # [1, 2] pads the last dim
    ("ZeroPad2d", {"padding": 1}, [[4]], "G003", "at least 2 dimension"),
    ("ConstantPad1d", {"padding": [-3, -2], "value": 0}, [[2, 4]], "G003", "crops more"),
    ("ReflectionPad1d", {"padding": 3}, [[2, 3, 3]], "G003", "not smaller than"),
    ("ReflectionPad2d", {"padding": 1}, [[5, 5]], "G003", "3-D (C, H, W) or 4-D (N, C, H, W)"),
    ("ReplicationPad1d", {"padding": [-2, -2]}, [[1, 4]], "G003", "leaves 0 elements"),
    ("CircularPad1d", {"padding": [6, 0]}, [[1, 2, 5]], "G003", "more than once"),
    ("CircularPad2d", {"padding": 1}, [[4, 4]], "G003", "3-D (C, H, W)"),
]


@pytest.mark.parametrize("layer_type,args,shapes,code,text", ERROR_CASES)
def test_invalid_configurations(layer_type, args, shapes, code, text):
    with pytest.raises(SpecError) as err:
        ours(layer_type, args, shapes)
    assert err.value.code == code
    assert text in err.value.message
    assert err.value.fix  # every error says how to fix it


def test_errors_point_at_the_argument():
    text = "layercalc: 1\ninputs:\n  x: [2, 3]\nlayers:\n  - Select: {dim: 1, index: 7}\n"
    with pytest.raises(SpecError) as err:
        layercalc.analyze(text)
    assert (err.value.mark.line, err.value.mark.col) == (5, 29)  # the value of `index`
