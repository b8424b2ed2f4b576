"""Reference kernels of the normalization family, in counted operations (eval mode).

    batch norm (running statistics):  y = (x - running_mean[c]) * 1/sqrt(running_var[c] + eps) * w[c] + b[c]
    statistics of the input:          mean = sum(v) / n, var = sum((v - mean)^2) / n,
                                      y = (x - mean) * 1/sqrt(var + eps) * w + b
    RMSNorm:                          y = x * 1/sqrt(sum(x^2) / n + eps) * w
    LocalResponseNorm:                y_c = x_c / (k + alpha * avg_{size channels around c}(x^2)) ^ beta

The statistics are taken over each (sample, channel) for InstanceNorm, each
(sample, group) for GroupNorm, each sample's trailing ``normalized_shape`` for
LayerNorm and RMSNorm, and each channel over the batch for BatchNorm without
running statistics. The once-per-group work (the division by n, the inverse
square root) is plain Python and not counted.
"""

from __future__ import annotations

import math

from .ops import Ops
from .tensor import Tensor


def normalize(o: Ops, values: list, eps: float) -> list:
    """(v - mean) / sqrt(var + eps) with the statistics of ``values`` (biased variance)."""
    n = len(values)
    mean = o.sum(values) / n  # the sum is counted, the divide is once per group
    centered = [o.sub(v, mean) for v in values]
    var = o.sum(o.square(c) for c in centered) / n
    inv = 1 / math.sqrt(var + eps)
    return [o.mul(c, inv) for c in centered]


def affine_params(ctx, shape, affine: bool, bias: bool):
    if not affine:
        return None, None
    w = ctx.param("weight", shape)
    return w, (ctx.param("bias", shape) if bias else None)


def apply_affine(o: Ops, v, w, b):
    if w is not None:
        v = o.mul(v, w)
    if b is not None:
        v = o.add(v, b)
    return v


def running_buffers(ctx, c: int):
    mean = ctx.buffer("running_mean", (c,), low=-0.5, high=0.5)
    var = ctx.buffer("running_var", (c,), low=0.5, high=1.5)
    ctx.buffer("num_batches_tracked", (), value=0, dtype="int64")
    return mean, var


def channel_norm(ctx, x: Tensor, batched: bool) -> Tensor:
    """BatchNorm and InstanceNorm: channel dim 1 (0 when unbatched); statistics per channel
    over the batch (BatchNorm) or per sample and channel (InstanceNorm), or the running ones."""
    o = Ops(ctx)
    n = x.shape[0] if batched else 1
    c = x.shape[1] if batched else x.shape[0]
    inner = x.numel // (n * c) if n * c else 0
    w, b = affine_params(ctx, (c,), ctx.affine, ctx.args.get("bias", True))
    y = list(x.data)
    at = lambda s, ch: range((s * c + ch) * inner, (s * c + ch + 1) * inner)  # noqa: E731
    if ctx.track_running_stats:
        mean, var = running_buffers(ctx, c)
        for i, v in enumerate(x.data):
            ch = (i // inner) % c
            y[i] = o.mul(o.sub(v, mean.data[ch]), 1 / math.sqrt(var.data[ch] + ctx.eps))
    elif ctx.kind == "batch":  # eval without running statistics: the batch's own
        for ch in range(c):
            idx = [i for s in range(n) for i in at(s, ch)]
            for i, v in zip(idx, normalize(o, [x.data[i] for i in idx], ctx.eps)):
                y[i] = v
    else:
        for s in range(n):
            for ch in range(c):
                idx = at(s, ch)
                for i, v in zip(idx, normalize(o, [x.data[i] for i in idx], ctx.eps)):
                    y[i] = v
    for i in range(len(y)):
        ch = (i // inner) % c
        y[i] = apply_affine(o, y[i], w.data[ch] if w else None, b.data[ch] if b else None)
    return Tensor(x.shape, y)


def batch_norm(rank: int):
    def kernel(ctx, x):
        ctx.args["kind"] = "batch"
        return channel_norm(ctx, x, True)
    kernel.__name__ = f"batch_norm{rank}d"
    return kernel


def instance_norm(rank: int):
    def kernel(ctx, x):
        ctx.args["kind"] = "instance"
        return channel_norm(ctx, x, x.rank == rank + 2)
    kernel.__name__ = f"instance_norm{rank}d"
    return kernel


def trailing(ctx, x: Tensor):
    shape = ctx.normalized_shape
    shape = tuple(shape) if isinstance(shape, (list, tuple)) else (shape,)
    size = math.prod(shape)
    return shape, size


def layer_norm(ctx, x: Tensor) -> Tensor:
    """Statistics over the trailing normalized_shape of each sample, then the element-wise affine."""
    o = Ops(ctx)
    shape, size = trailing(ctx, x)
    w, b = affine_params(ctx, shape, ctx.elementwise_affine, ctx.bias)
    y = []
    for start in range(0, x.numel, size):
        for j, v in enumerate(normalize(o, x.data[start:start + size], ctx.eps)):
            y.append(apply_affine(o, v, w.data[j] if w else None, b.data[j] if b else None))
    return Tensor(x.shape, y)


def group_norm(ctx, x: Tensor) -> Tensor:
    """Statistics over each (sample, group of channels), then a per-channel affine."""
    o = Ops(ctx)
    n, c = x.shape[0], x.shape[1]
    g = ctx.num_groups
    inner = x.numel // (n * c)
    w, b = affine_params(ctx, (c,), ctx.affine, ctx.bias)
    y = []
    group = (c // g) * inner
    for start in range(0, x.numel, group):
        for i, v in enumerate(normalize(o, x.data[start:start + group], ctx.eps), start):
            ch = (i // inner) % c
            y.append(apply_affine(o, v, w.data[ch] if w else None, b.data[ch] if b else None))
    return Tensor(x.shape, y)


def rms_norm(ctx, x: Tensor) -> Tensor:
    """x / sqrt(mean(x^2) + eps) * w over the trailing normalized_shape."""
    o = Ops(ctx)
    shape, size = trailing(ctx, x)
    w = ctx.param("weight", shape) if ctx.elementwise_affine else None
    eps = ctx.eps if ctx.eps is not None else 2.0 ** -23  # torch.finfo(float32).eps
    y = []
    for start in range(0, x.numel, size):
        row = x.data[start:start + size]
        inv = 1 / math.sqrt(o.sum(o.square(v) for v in row) / size + eps)  # per row: not counted
        for j, v in enumerate(row):
            v = o.mul(v, inv)
            y.append(o.mul(v, w.data[j]) if w else v)
    return Tensor(x.shape, y)


def local_response_norm(ctx, x: Tensor) -> Tensor:
    """x_c / (k + alpha * mean of x^2 over channels c - size//2 .. c + (size-1)//2, zero-padded) ^ beta."""
    o = Ops(ctx)
    n, c = x.shape[0], x.shape[1]
    inner = x.numel // (n * c)
    size = ctx.size
    sq = [o.square(v) for v in x.data]
    y = []
    for i, v in enumerate(x.data):
        s, ch, p = i // (c * inner), (i // inner) % c, i % inner
        window = [sq[(s * c + j) * inner + p] if 0 <= j < c else 0.0
                  for j in range(ch - size // 2, ch + (size - 1) // 2 + 1)]
        total = window[0]
        for w in window[1:]:
            total = o.add(total, w)
        avg = o.div(total, size)
        y.append(o.div(v, o.pow(o.add(ctx.k, o.mul(ctx.alpha, avg)), ctx.beta)))
    return Tensor(x.shape, y)


KERNELS = {
    "BatchNorm1d": batch_norm(1), "BatchNorm2d": batch_norm(2), "BatchNorm3d": batch_norm(3),
    "InstanceNorm1d": instance_norm(1), "InstanceNorm2d": instance_norm(2), "InstanceNorm3d": instance_norm(3),
    "LayerNorm": layer_norm, "GroupNorm": group_norm, "RMSNorm": rms_norm, "LocalResponseNorm": local_response_norm,
}
