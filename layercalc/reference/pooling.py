"""Reference kernels of the pooling family: max, average and power-average windows, and adaptive pooling.

A window of ``kernel_size`` positions (``dilation`` apart) slides by ``stride``
over the input padded by ``padding`` on both sides. Window ``i`` starts at
``i * stride`` in padded coordinates and is visited when it starts inside the
input or its left padding, and either fits the padded input or (ceil_mode)
the window one stride earlier would leave some of the padded input uncovered::

    max:  y = max over the window (padding is -inf)
    avg:  y = sum over the window / (positions inside the padded input, or inside the input
          without count_include_pad, or divisor_override)
    lp:   y = (sum over the window of x^p) ^ (1/p)

Every window position is one operation (a compare or an add), the positions
of a ceil-mode window that run past the end included; averages add one
divide, power averages a power per position and one root.

Adaptive pooling splits each dimension of length L into ``out`` windows
[floor(i*L/out), ceil((i+1)*L/out)) and visits every element of each.
"""

from __future__ import annotations

import itertools
import math
from math import prod

from .conv import batched
from .kernel import tuple_of
from .tensor import Tensor, strides


def window_starts(length: int, kernel: int, stride: int, padding: int, dilation: int, ceil_mode: bool) -> list[int]:
    """The first positions (in padded coordinates) of the windows visited along one dimension."""
    extent = dilation * (kernel - 1) + 1
    padded = length + 2 * padding
    starts, i = [], 0
    while i * stride < padding + length:
        fits = i * stride + extent <= padded
        leftover = (i - 1) * stride + extent < padded  # the window one stride earlier ends before the padded end
        if not (fits or (ceil_mode and leftover)):
            break
        starts.append(i * stride)
        i += 1
    return starts


def slide(ctx, x: Tensor, rank: int, kernel, stride, padding, dilation, ceil_mode, reduce):
    """Apply ``reduce(values, positions)`` to every window; ``values`` holds None where the window
    is outside the input (in the padding or past its end), ``positions`` each position's place:
    'in', 'pad' (inside the padded input) or 'out' (past it)."""
    x, unbatched = batched(x, rank)
    n, c = x.shape[0], x.shape[1]
    spatial = x.shape[2:]
    sp = strides(spatial)
    starts = [window_starts(length, k, s, p, d, ceil_mode)
              for length, k, s, p, d in zip(spatial, kernel, stride, padding, dilation)]
    offsets = list(itertools.product(*(range(k) for k in kernel)))
    out, extra = [], []
    for plane in range(n * c):
        base = plane * prod(spatial)
        for window in itertools.product(*starts):
            values, places, flat = [], [], []
            for off in offsets:
                idx = [w + o * d - p for w, o, d, p in zip(window, off, dilation, padding)]
                if all(0 <= i < length for i, length in zip(idx, spatial)):
                    at = sum(i * s for i, s in zip(idx, sp))
                    values.append(x.data[base + at])
                    places.append("in")
                    flat.append(at)
                else:
                    values.append(None)
                    places.append("pad" if all(i < length + p for i, length, p in zip(idx, spatial, padding))
                                  else "out")
                    flat.append(None)
            y, index = reduce(values, places, flat)
            out.append(y)
            extra.append(-1 if index is None else index)
    shape = (n, c) + tuple(len(s) for s in starts)
    y, idx = Tensor(shape, out), Tensor(shape, extra, "int64")
    if unbatched:
        y, idx = y.reshape(shape[1:]), idx.reshape(shape[1:])
    return y, idx


def max_pool(ctx, x: Tensor, rank: int):
    kernel = tuple_of(ctx.kernel_size, rank)
    stride = kernel if ctx.stride is None else tuple_of(ctx.stride, rank)

    def reduce(values, places, flat):
        best, at = -math.inf, None
        for v, f in zip(values, flat):
            ctx.flops += 1  # one comparison per window position
            if v is not None and (v > best or at is None or math.isnan(v)):
                best, at = v, f
        return best, at

    y, indices = slide(ctx, x, rank, kernel, stride, tuple_of(ctx.padding, rank), tuple_of(ctx.dilation, rank),
                       ctx.ceil_mode, reduce)
    return (y, {"indices": indices}) if ctx.return_indices else y


def avg_pool(ctx, x: Tensor, rank: int):
    kernel = tuple_of(ctx.kernel_size, rank)
    stride = kernel if ctx.stride is None else tuple_of(ctx.stride, rank)
    override = ctx.args.get("divisor_override")

    def reduce(values, places, flat):
        total = 0.0
        for v in values:
            total += 0.0 if v is None else v
            ctx.flops += 1  # one add per window position
        if override:
            divisor = override
        elif ctx.count_include_pad:
            divisor = sum(p != "out" for p in places)
        else:
            divisor = sum(p == "in" for p in places)
        ctx.flops += 1  # the divide
        return total / divisor, None

    y, _ = slide(ctx, x, rank, kernel, stride, tuple_of(ctx.padding, rank), (1,) * rank, ctx.ceil_mode, reduce)
    return y


def power(v: float, p: float) -> float:
    try:
        return math.pow(v, p)
    except (ValueError, OverflowError):
        return math.nan


def lp_pool(ctx, x: Tensor, rank: int):
    kernel = tuple_of(ctx.kernel_size, rank)
    stride = kernel if ctx.stride is None else tuple_of(ctx.stride, rank)
    p = ctx.norm_type

    def reduce(values, places, flat):
        total = 0.0
        for v in values:
            if v is not None:
                total += abs(v) if math.isinf(p) else power(v, p)
            ctx.flops += 2  # a power and an add per window position
        ctx.flops += 1  # the root
        root = total if math.isinf(p) else math.copysign(power(abs(total), 1 / p), total)
        return root, None

    zeros, ones = (0,) * rank, (1,) * rank
    y, _ = slide(ctx, x, rank, kernel, stride, zeros, ones, ctx.ceil_mode, reduce)
    return y


# --- adaptive pooling -------------------------------------------------------------------------


def adaptive_windows(length: int, out: int) -> list[range]:
    """Window i covers [floor(i*L/out), ceil((i+1)*L/out))."""
    return [range(i * length // out, -(-(i + 1) * length // out)) for i in range(out)]


def adaptive(ctx, x: Tensor, rank: int, average: bool):
    x, unbatched = batched(x, rank)
    n, c = x.shape[0], x.shape[1]
    spatial = x.shape[2:]
    size = ctx.output_size
    sizes = tuple_of(size, rank) if not isinstance(size, (list, tuple)) else tuple(size)
    sizes = tuple(length if o is None else o for o, length in zip(sizes, spatial))
    windows = [adaptive_windows(length, o) for length, o in zip(spatial, sizes)]
    sp = strides(spatial)
    out, extra = [], []
    for plane in range(n * c):
        base = plane * prod(spatial)
        for cell in itertools.product(*windows):
            best, at, total, count = -math.inf, None, 0.0, 0
            for idx in itertools.product(*cell):
                f = sum(i * s for i, s in zip(idx, sp))
                v = x.data[base + f]
                ctx.flops += 1  # an add, or a comparison
                total += v
                count += 1
                if at is None or v > best or math.isnan(v):
                    best, at = v, f
            if average:
                out.append(total / count)
                ctx.flops += 1  # the divide
            else:
                out.append(best)
            extra.append(at)
    shape = (n, c) + tuple(len(w) for w in windows)
    y, idx = Tensor(shape, out), Tensor(shape, extra, "int64")
    if unbatched:
        y, idx = y.reshape(shape[1:]), idx.reshape(shape[1:])
    if not average and ctx.return_indices:
        return y, {"indices": idx}
    return y


def _family(fn, rank, **kw):
    def kernel(ctx, x):
        return fn(ctx, x, rank, **kw)
    kernel.__name__ = f"{fn.__name__}{rank}d"
    return kernel


KERNELS = {}
for _r in (1, 2, 3):
    KERNELS[f"MaxPool{_r}d"] = _family(max_pool, _r)
    KERNELS[f"AvgPool{_r}d"] = _family(avg_pool, _r)
    KERNELS[f"LPPool{_r}d"] = _family(lp_pool, _r)
    KERNELS[f"AdaptiveAvgPool{_r}d"] = _family(adaptive, _r, average=True)
    KERNELS[f"AdaptiveMaxPool{_r}d"] = _family(adaptive, _r, average=False)
