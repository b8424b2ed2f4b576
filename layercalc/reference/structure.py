"""Reference kernels of the structure family: moving data, element-wise arithmetic, reductions, products.

Moving data (reshapes, permutations, indexing, joining, padding, shuffles) is
no arithmetic. Element-wise arithmetic is one counted operation per output
element and operand after the first; ``Mean`` sums (one add per element
reduced) and divides; ``MatMul`` is dense products; ``Upsample`` interpolates
with linear steps ``a + (b - a) * t`` (3 operations) or 4-tap cubic sums
(4 multiplies, 3 adds), the weights depending on the position only.
"""

from __future__ import annotations

import itertools
import math
from math import prod

from .kernel import tuple_of, wrap_dim
from .ops import Ops
from .tensor import (FLOAT_DTYPES, Tensor, broadcast_shape, broadcast_to, indices, moveaxis, pad, permute,
                     strides)

# --- moving data -----------------------------------------------------------------------------


def resolve_shape(shape, numel: int) -> tuple:
    """A target shape with its one -1 filled in so that it holds ``numel`` elements."""
    known = prod(d for d in shape if d != -1)
    return tuple(numel // known if d == -1 and known else (0 if d == -1 else d) for d in shape)


def flatten(ctx, x: Tensor) -> Tensor:
    if x.rank == 0:
        return x.reshape((1,))
    start, end = wrap_dim(ctx.start_dim, x.rank), wrap_dim(ctx.end_dim, x.rank)
    return x.reshape(x.shape[:start] + (prod(x.shape[start:end + 1]),) + x.shape[end + 1:])


def unflatten(ctx, x: Tensor) -> Tensor:
    d = wrap_dim(ctx.dim, x.rank)
    return x.reshape(x.shape[:d] + resolve_shape(ctx.unflattened_size, x.shape[d]) + x.shape[d + 1:])


def reshape(ctx, x: Tensor) -> Tensor:
    return x.reshape(resolve_shape(ctx.shape, x.numel))


def permute_kernel(ctx, x: Tensor) -> Tensor:
    dims = (ctx.dims,) if isinstance(ctx.dims, int) else ctx.dims
    return permute(x, [wrap_dim(d, x.rank) for d in dims])


def transpose(ctx, x: Tensor) -> Tensor:
    if x.rank == 0:
        return x.copy()
    dims = list(range(x.rank))
    a, b = wrap_dim(ctx.dim0, x.rank), wrap_dim(ctx.dim1, x.rank)
    dims[a], dims[b] = dims[b], dims[a]
    return permute(x, dims)


def expand(ctx, x: Tensor) -> Tensor:
    """Repeat size-1 dimensions to the target; -1 keeps a dimension, new leading ones are added."""
    target = tuple(ctx.shape)
    lead = len(target) - x.rank
    shape = tuple(x.shape[i - lead] if d == -1 else d for i, d in enumerate(target))
    return broadcast_to(x, shape)


def select(ctx, x: Tensor) -> Tensor:
    d = wrap_dim(ctx.dim, x.rank)
    moved = moveaxis(x, d, 0)
    i = ctx.index % x.shape[d]
    inner = moved.numel // x.shape[d]
    return Tensor(moved.shape[1:], moved.data[i * inner:(i + 1) * inner], x.dtype)


def slice_kernel(ctx, x: Tensor) -> Tensor:
    d = wrap_dim(ctx.dim, x.rank)
    kept = range(x.shape[d])[ctx.start:ctx.end:ctx.step]  # Python's slicing: the same rules as torch's
    moved = moveaxis(x, d, 0)
    inner = moved.numel // x.shape[d] if x.shape[d] else 0
    data = [v for i in kept for v in moved.data[i * inner:(i + 1) * inner]]
    return moveaxis(Tensor((len(kept),) + moved.shape[1:], data, x.dtype), 0, d)


def concat(ctx, *xs: Tensor) -> Tensor:
    parts = [x for x in xs if not (x.rank == 1 and x.shape[0] == 0)]  # torch.cat skips legacy empty (0,) tensors
    if not parts:
        return xs[0].copy()
    d = wrap_dim(ctx.dim, parts[0].rank)
    moved = [moveaxis(x, d, 0) for x in parts]
    data = [v for m in moved for v in m.data]
    shape = (sum(m.shape[0] for m in moved),) + moved[0].shape[1:]
    dtype = result_dtype(parts)
    return moveaxis(Tensor(shape, data, dtype), 0, d)


def parameter(ctx) -> Tensor:
    shape = (ctx.shape,) if isinstance(ctx.shape, int) else tuple(ctx.shape)
    return ctx.param("weight", shape).copy()


def buffer(ctx) -> Tensor:
    shape = (ctx.shape,) if isinstance(ctx.shape, int) else tuple(ctx.shape)
    return ctx.buffer("buffer", shape, value=0, dtype=ctx.dtype).copy()


def pad_kernel(rank: int, mode: str):
    """(left, right[, top, bottom[, front, back]]): pairs from the last dimension backwards. torch's
    ``F.pad`` takes fewer pairs too (``ZeroPad2d([1, 1])`` pads the last dimension only)."""
    def kernel(ctx, x: Tensor) -> Tensor:
        p = tuple(ctx.padding)
        pairs = [(p[2 * i], p[2 * i + 1]) for i in range(len(p) // 2)][::-1]
        if mode != "zeros" and x.rank not in (rank + 1, rank + 2):
            raise ValueError(f"{mode} padding of {rank} dimension(s) takes a {rank + 1}-D or {rank + 2}-D input, "
                             f"got {x.rank}-D")
        if len(pairs) > x.rank:
            raise ValueError(f"{len(p)} padding values need at least {len(pairs)} dimensions, the input has {x.rank}")
        return pad(x, pairs, mode, ctx.args.get("value", 0.0))
    kernel.__name__ = f"{mode}_pad{rank}d"
    return kernel


def pixel_shuffle(ctx, x: Tensor) -> Tensor:
    """out[..., c, h*r + i, w*r + j] = in[..., c*r*r + i*r + j, h, w]"""
    r = ctx.upscale_factor
    c, h, w = x.shape[-3:]
    lead = x.shape[:-3]
    oc = c // (r * r)
    out = []
    for base in range(0, x.numel, c * h * w) if x.numel else []:
        for ch, y, z in itertools.product(range(oc), range(h * r), range(w * r)):
            src = (ch * r * r + (y % r) * r + z % r) * h * w + (y // r) * w + z // r
            out.append(x.data[base + src])
    return Tensor(lead + (oc, h * r, w * r), out, x.dtype)


def pixel_unshuffle(ctx, x: Tensor) -> Tensor:
    """out[..., c*r*r + i*r + j, h, w] = in[..., c, h*r + i, w*r + j]"""
    r = ctx.downscale_factor
    c, h, w = x.shape[-3:]
    if not x.numel:
        return x.copy()
    lead = x.shape[:-3]
    out = []
    for base in range(0, x.numel, c * h * w):
        for ch, y, z in itertools.product(range(c * r * r), range(h // r), range(w // r)):
            src_c, i, j = ch // (r * r), (ch // r) % r, ch % r
            out.append(x.data[base + src_c * h * w + (y * r + i) * w + z * r + j])
    return Tensor(lead + (c * r * r, h // r, w // r), out, x.dtype)


def channel_shuffle(ctx, x: Tensor) -> Tensor:
    """Channel k = i*g + j of the output is channel j*(C/g) + i of the input."""
    g, c = ctx.groups, x.shape[1]
    per = c // g
    inner = x.numel // (x.shape[0] * c)
    out = []
    for n in range(x.shape[0]):
        for k in range(c):
            src = (k % g) * per + k // g
            out += x.data[(n * c + src) * inner:(n * c + src + 1) * inner]
    return Tensor(x.shape, out, x.dtype)


# --- element-wise arithmetic ---------------------------------------------------------------------


def result_dtype(xs) -> str:
    """Floating wins over integer, integer over bool (enough for what flows between layers here)."""
    floats = [x.dtype for x in xs if x.dtype in FLOAT_DTYPES]
    if floats:
        return "float64" if "float64" in floats else floats[0]
    ints = [x.dtype for x in xs if x.dtype != "bool"]
    return ints[0] if ints else "bool"


def scalar_tensor(value) -> Tensor:
    """A Python number as an operand: a 0-D tensor of its kind (bool, int64, or the default float32)."""
    dtype = "bool" if isinstance(value, bool) else "int64" if isinstance(value, int) else "float32"
    return Tensor((), [value], dtype)


def operands(ctx, xs) -> tuple:
    """The inputs, or the one input and the constant ``scalar`` (first with ``scalar_first``)."""
    scalar = ctx.args.get("scalar")
    if scalar is None:
        if len(xs) < 2:
            raise ValueError(f"{len(xs)} input(s) and no scalar: an element-wise op needs two operands")
        if ctx.args.get("scalar_first"):
            raise ValueError("scalar_first without a scalar")
        return xs
    if len(xs) != 1:
        raise ValueError(f"a scalar operand and {len(xs)} inputs: with a scalar the op takes one input")
    s = scalar_tensor(scalar)
    return (s, xs[0]) if ctx.args.get("scalar_first") else (xs[0], s)


def result_dtype_of(xs) -> str:
    """The dtype of tensors and Python numbers: a number (0-D here) decides only when its kind is higher."""
    dimmed = [x for x in xs if x.rank]
    if not dimmed or len(dimmed) == len(xs):
        return result_dtype(xs)
    kind = {"bool": 0}
    rank_of = lambda d: 2 if d in FLOAT_DTYPES else kind.get(d, 1)  # noqa: E731
    top = max(rank_of(x.dtype) for x in xs if not x.rank)
    out = result_dtype(dimmed)
    return result_dtype([x for x in xs if not x.rank]) if top > rank_of(out) else out


def nary(op_name: str):
    """x0 op x1 op x2 ...: one operation per output element and operand after the first."""
    def kernel(ctx, *xs: Tensor) -> Tensor:
        xs = operands(ctx, xs)
        o = Ops(ctx)
        op = getattr(o, op_name)
        shape = broadcast_shape(*(x.shape for x in xs))
        acc = broadcast_to(xs[0], shape).data
        for x in xs[1:]:
            acc = [op(a, b) for a, b in zip(acc, broadcast_to(x, shape).data)]
        return Tensor(shape, acc, result_dtype_of(xs))
    kernel.__name__ = op_name
    return kernel


def unary(op_name: str):
    def kernel(ctx, x: Tensor) -> Tensor:
        op = getattr(Ops(ctx), op_name)
        return Tensor(x.shape, [op(v) for v in x.data], x.dtype)
    kernel.__name__ = op_name
    return kernel


def divide(ctx, *xs: Tensor) -> Tensor:
    out = nary("div")(ctx, *xs)
    if out.dtype not in FLOAT_DTYPES:
        out.dtype = "float32"  # true division
    return out


# --- reductions and products ---------------------------------------------------------------------


def mean(ctx, x: Tensor) -> Tensor:
    """sum over the reduced dimensions (one add per element), then one divide per output."""
    o = Ops(ctx)
    dims = (ctx.dim,) if isinstance(ctx.dim, int) else (ctx.dim or ())
    if x.rank == 0:  # a 0-d tensor: its one value is the mean (dims 0 and -1 name it)
        for d in dims:
            wrap_dim(d, 0)
        return Tensor((), [o.div(o.sum(x.data), 1)])
    dims = sorted({wrap_dim(d, x.rank) for d in dims}) if dims else list(range(x.rank))
    kept = [d for d in range(x.rank) if d not in dims]
    moved = permute(x, kept + dims)
    count = prod(x.shape[d] for d in dims)
    out = [o.div(o.sum(moved.data[i:i + count]), count) for i in range(0, moved.numel, count)] if count else \
        [math.nan] * prod(x.shape[d] for d in kept)
    shape = tuple(1 if d in dims else x.shape[d] for d in range(x.rank)) if ctx.keepdim else \
        tuple(x.shape[d] for d in kept)
    return Tensor(shape, out)


def matmul(ctx, a: Tensor, b: Tensor) -> Tensor:
    """torch.matmul: a 1-D first operand is a row, a 1-D second a column (removed from the result);
    the batch dimensions broadcast; y[..., i, j] = sum_k a[..., i, k] * b[..., k, j]."""
    a2 = a.reshape((1,) + a.shape) if a.rank == 1 else a
    b2 = b.reshape(b.shape + (1,)) if b.rank == 1 else b
    n, k = a2.shape[-2:]
    m = b2.shape[-1]
    batch = broadcast_shape(a2.shape[:-2], b2.shape[:-2])
    a2, b2 = broadcast_to(a2, batch + (n, k)), broadcast_to(b2, batch + (k, m))
    out = []
    for t in range(prod(batch)):
        A, B = a2.data[t * n * k:(t + 1) * n * k], b2.data[t * k * m:(t + 1) * k * m]
        for i in range(n):
            for j in range(m):
                out.append(sum(A[i * k + q] * B[q * m + j] for q in range(k)))
                ctx.macs += k
    shape = batch + ((n,) if a.rank > 1 else ()) + ((m,) if b.rank > 1 else ())
    return Tensor(shape, out, result_dtype([a, b]))


# --- resampling ------------------------------------------------------------------------------------


def source_coordinate(ctx, dst: int, length: int, out: int, scale_factor, cubic: bool) -> float:
    """Where output position ``dst`` samples the input (F.interpolate's coordinate rules)."""
    if ctx.align_corners:
        return dst * (length - 1) / (out - 1) if out > 1 else 0.0
    scale = 1 / scale_factor if scale_factor and not ctx.recompute_scale_factor else length / out
    src = (dst + 0.5) * scale - 0.5
    return src if cubic else max(src, 0.0)


def cubic_weights(t: float, a: float = -0.75) -> list[float]:
    def near(x):
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x):
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a

    return [far(t + 1), near(t), near(1 - t), far(2 - t)]


def upsample(ctx, x: Tensor) -> Tensor:
    o = Ops(ctx)
    spatial = x.shape[2:]
    n = len(spatial)
    if ctx.size is not None:
        out = tuple_of(ctx.size, n)
        factors = (None,) * n
    else:
        factors = tuple_of(ctx.scale_factor, n)
        out = tuple(math.floor(length * f) for length, f in zip(spatial, factors))
    mode = ctx.mode
    sp = strides(spatial)
    cubic = mode == "bicubic"
    data = []
    for base in range(0, x.numel, prod(spatial)):
        plane = x.data[base:base + prod(spatial)]
        at = lambda idx: plane[sum(min(max(i, 0), length - 1) * s for i, length, s in zip(idx, spatial, sp))]  # noqa
        for pos in indices(out):
            if mode in ("nearest", "nearest-exact"):
                idx = []
                for d, length, size, f in zip(pos, spatial, out, factors):
                    scale = 1 / f if f and not ctx.recompute_scale_factor else length / size
                    src = math.floor(((d + 0.5) if mode == "nearest-exact" else d) * scale)
                    idx.append(min(src, length - 1))
                data.append(at(idx))
                continue
            coords = [source_coordinate(ctx, d, length, size, f, cubic)
                      for d, length, size, f in zip(pos, spatial, out, factors)]
            if cubic:
                (sy, sx) = coords
                y0, x0 = math.floor(sy), math.floor(sx)
                wy, wx = cubic_weights(sy - y0), cubic_weights(sx - x0)
                rows = []
                for r in range(4):  # a 4-tap sum along W for each of 4 rows
                    taps = [o.mul(at((y0 - 1 + r, x0 - 1 + c)), wx[c]) for c in range(4)]
                    rows.append(o.add(o.add(o.add(taps[0], taps[1]), taps[2]), taps[3]))
                taps = [o.mul(rows[r], wy[r]) for r in range(4)]  # then one along H
                data.append(o.add(o.add(o.add(taps[0], taps[1]), taps[2]), taps[3]))
                continue
            # (bi/tri)linear: interpolate along the last dimension first, then the ones before
            lows = [min(math.floor(c), length - 1) for c, length in zip(coords, spatial)]
            fracs = [c - lo for c, lo in zip(coords, lows)]
            highs = [min(lo + 1, length - 1) for lo, length in zip(lows, spatial)]
            corners = {}
            for choice in itertools.product((0, 1), repeat=n):
                corners[choice] = at([h if ch else lo for ch, lo, h in zip(choice, lows, highs)])
            for dim in reversed(range(n)):
                merged = {}
                for key in itertools.product((0, 1), repeat=dim):
                    lo, hi = corners[key + (0,)], corners[key + (1,)]
                    merged[key] = o.add(lo, o.mul(o.sub(hi, lo), fracs[dim]))
                corners = merged
            data.append(corners[()])
    return Tensor(x.shape[:2] + out, data, x.dtype)


KERNELS = {
    "Flatten": flatten, "Unflatten": unflatten, "Reshape": reshape, "Permute": permute_kernel,
    "Transpose": transpose, "Expand": expand, "Select": select, "Slice": slice_kernel, "Concat": concat,
    "Parameter": parameter, "Buffer": buffer,
    "Add": nary("add"), "Mul": nary("mul"), "Sub": nary("sub"), "Div": divide, "Abs": unary("abs"),
    "Neg": unary("neg"),
    "Mean": mean, "MatMul": matmul, "Upsample": upsample,
    "ZeroPad1d": pad_kernel(1, "zeros"), "ZeroPad2d": pad_kernel(2, "zeros"), "ZeroPad3d": pad_kernel(3, "zeros"),
    "ConstantPad1d": pad_kernel(1, "zeros"), "ConstantPad2d": pad_kernel(2, "zeros"),
    "ConstantPad3d": pad_kernel(3, "zeros"),
    "ReflectionPad1d": pad_kernel(1, "reflect"), "ReflectionPad2d": pad_kernel(2, "reflect"),
    "ReflectionPad3d": pad_kernel(3, "reflect"),
    "ReplicationPad1d": pad_kernel(1, "replicate"), "ReplicationPad2d": pad_kernel(2, "replicate"),
    "ReplicationPad3d": pad_kernel(3, "replicate"),
    "CircularPad1d": pad_kernel(1, "circular"), "CircularPad2d": pad_kernel(2, "circular"),
    "CircularPad3d": pad_kernel(3, "circular"),
    "PixelShuffle": pixel_shuffle, "PixelUnshuffle": pixel_unshuffle, "ChannelShuffle": channel_shuffle,
}
