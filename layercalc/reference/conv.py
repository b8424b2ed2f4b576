"""Reference kernels of the convolution family: Conv1d/2d/3d and ConvTranspose1d/2d/3d.

A convolution pads its input (with ``padding_mode``), then slides the kernel
over every window that fits the padded input::

    y[n, o, p] = b[o] + sum_{c in group(o)} sum_k x_pad[n, c, p*stride + k*dilation] * w[o, c, k]

A transposed convolution scatters every input element through its group's
kernels into a full-size buffer, then crops ``padding`` from both sides
(``output_padding`` extends the far end)::

    full[n, o, i*stride + k*dilation] += x[n, c, i] * w[c, o, k]
"""

from __future__ import annotations

import itertools
from math import prod

from .kernel import tuple_of
from .tensor import Tensor, pad, strides


def batched(x: Tensor, rank: int) -> tuple[Tensor, bool]:
    """(N, C, *spatial): add a batch of 1 to an unbatched (C, *spatial) input."""
    if x.rank == rank + 1:
        return x.reshape((1,) + x.shape), True
    return x, False


def padding_pairs(ctx, rank: int, kernel, dilation) -> list[tuple[int, int]]:
    """(before, after) per spatial dimension: numbers, 'valid' (none) or 'same' (the extra one after)."""
    if ctx.padding == "valid":
        return [(0, 0)] * rank
    if ctx.padding == "same":
        totals = [d * (k - 1) for k, d in zip(kernel, dilation)]
        return [(t // 2, t - t // 2) for t in totals]
    return [(p, p) for p in tuple_of(ctx.padding, rank)]


def conv(ctx, x: Tensor, rank: int) -> Tensor:
    kernel = tuple_of(ctx.kernel_size, rank)
    stride, dilation = tuple_of(ctx.stride, rank), tuple_of(ctx.dilation, rank)
    x, unbatched = batched(x, rank)
    n, cin = x.shape[0], x.shape[1]
    cout, groups = ctx.out_channels, ctx.groups
    cin_g, cout_g = cin // groups, cout // groups
    weight = ctx.param("weight", (cout, cin_g) + kernel)
    bias = ctx.param("bias", (cout,), fan_in=cin_g * prod(kernel)) if ctx.bias else None
    mode = {"zeros": "zeros"}.get(ctx.padding_mode, ctx.padding_mode)
    xp = pad(x, padding_pairs(ctx, rank, kernel, dilation), mode)
    spatial = xp.shape[2:]
    # the windows that fit in the padded input, per dimension: their first positions
    starts = [list(range(0, length - d * (k - 1), s)) for length, k, s, d in zip(spatial, kernel, stride, dilation)]
    sp = strides(spatial)
    plane = prod(spatial)
    # one tap per (input channel of the group, kernel position): (offset in x_pad, offset in w)
    taps = []
    for c in range(cin_g):
        for j, kpos in enumerate(itertools.product(*(range(k) for k in kernel))):
            taps.append((c * plane + sum(kp * d * s for kp, d, s in zip(kpos, dilation, sp)), c * prod(kernel) + j))
    wd, xd = weight.data, xp.data
    w_per_out = cin_g * prod(kernel)
    out = []
    for b in range(n):
        for o in range(cout):
            g = o // cout_g
            x_base = (b * cin + g * cin_g) * plane
            w_base = o * w_per_out
            for pos in itertools.product(*starts):
                at = x_base + sum(p * s for p, s in zip(pos, sp))
                acc = sum(xd[at + xo] * wd[w_base + wo] for xo, wo in taps)
                ctx.macs += len(taps)
                if bias is not None:
                    acc += bias.data[o]
                    ctx.flops += 1
                out.append(acc)
    y = Tensor((n, cout) + tuple(len(s) for s in starts), out)
    return y.reshape(y.shape[1:]) if unbatched else y


def conv_transpose(ctx, x: Tensor, rank: int) -> Tensor:
    kernel = tuple_of(ctx.kernel_size, rank)
    stride, dilation = tuple_of(ctx.stride, rank), tuple_of(ctx.dilation, rank)
    padding, out_pad = tuple_of(ctx.padding, rank), tuple_of(ctx.output_padding, rank)
    x, unbatched = batched(x, rank)
    n, cin = x.shape[0], x.shape[1]
    cout, groups = ctx.out_channels, ctx.groups
    cin_g, cout_g = cin // groups, cout // groups
    weight = ctx.param("weight", (cin, cout_g) + kernel, fan_in=cout_g * prod(kernel))
    bias = ctx.param("bias", (cout,), fan_in=cout_g * prod(kernel)) if ctx.bias else None
    spatial = x.shape[2:]
    # the buffer every scattered product lands in: as far as the furthest product reaches, with room for
    # output_padding at the far end (measured over the positions, not a formula of the output length)
    full = tuple(max((i * s + kp * d for i in range(length) for kp in range(k)), default=-1) + 1 + op
                 for length, k, s, d, op in zip(spatial, kernel, stride, dilation, out_pad))
    fs = strides(full)
    buf = [0.0] * (n * cout * prod(full))
    kpositions = list(itertools.product(*(range(k) for k in kernel)))
    for b in range(n):
        for c in range(cin):
            g = c // cin_g
            for i, pos in enumerate(itertools.product(*(range(length) for length in spatial))):
                v = x.data[(b * cin + c) * prod(spatial) + i]
                for oc in range(cout_g):
                    o = g * cout_g + oc
                    base = (b * cout + o) * prod(full)
                    wbase = (c * cout_g + oc) * len(kpositions)
                    for j, kpos in enumerate(kpositions):
                        at = base + sum((p * s + kp * d) * st for p, s, kp, d, st in zip(pos, stride, kpos, dilation, fs))
                        buf[at] += v * weight.data[wbase + j]
                        ctx.macs += 1
    # crop `padding` from both sides of every spatial dimension
    crops = [range(p, f - p) for p, f in zip(padding, full)]
    out = []
    for b in range(n):
        for o in range(cout):
            base = (b * cout + o) * prod(full)
            for idx in itertools.product(*crops):
                v = buf[base + sum(i * s for i, s in zip(idx, fs))]
                if bias is not None:
                    v += bias.data[o]
                    ctx.flops += 1
                out.append(v)
    y = Tensor((n, cout) + tuple(len(r) for r in crops), out)
    return y.reshape(y.shape[1:]) if unbatched else y


def conv1d(ctx, x):
    return conv(ctx, x, 1)


def conv2d(ctx, x):
    return conv(ctx, x, 2)


def conv3d(ctx, x):
    return conv(ctx, x, 3)


def conv_transpose1d(ctx, x):
    return conv_transpose(ctx, x, 1)


def conv_transpose2d(ctx, x):
    return conv_transpose(ctx, x, 2)


def conv_transpose3d(ctx, x):
    return conv_transpose(ctx, x, 3)


KERNELS = {"Conv1d": conv1d, "Conv2d": conv2d, "Conv3d": conv3d, "ConvTranspose1d": conv_transpose1d,
           "ConvTranspose2d": conv_transpose2d, "ConvTranspose3d": conv_transpose3d}
