"""Reference kernel of ``RotaryTables``: the cos and sin tables of rotary position embedding, computed
from the position ids as HuggingFace's rotary modules compute them, loop by loop."""

from __future__ import annotations

import math

from .ops import Ops
from .tensor import Tensor


def rotary_tables(ctx, pos: Tensor):
    """inv_freq[j] = base^(-2j/dim); angle[b, t, j] = pos[b, t] * inv_freq[j] (an element-wise outer product,
    a multiply each); cos and sin of cat(angles, angles), times scaling."""
    if pos.rank != 2:
        raise ValueError(f"position ids of shape {list(pos.shape)}: expected (batch, time)")
    dim = ctx.dim
    if dim % 2:
        raise ValueError(f"dim={dim} is odd: the tables hold each frequency twice")
    half = dim // 2
    o = Ops(ctx)
    inv_freq = ctx.buffer("inv_freq", (half,), value=0.0)
    inv_freq.data[:] = [ctx.base ** (-2 * j / dim) for j in range(half)]
    if ctx.original:
        original = ctx.buffer("original_inv_freq", (half,), value=0.0)
        original.data[:] = list(inv_freq.data)
    cos, sin = [], []
    for p in pos.data:
        angles = []
        for f in inv_freq.data:
            angles.append(o.mul(float(p), f))
        for a in angles + angles:
            ctx.flops += 2  # cos and sin
            cos.append(o.mul(math.cos(a), ctx.scaling))
            sin.append(o.mul(math.sin(a), ctx.scaling))
    shape = pos.shape + (dim,)
    return Tensor(shape, cos), {"sin": Tensor(shape, sin)}


KERNELS = {"RotaryTables": rotary_tables}
