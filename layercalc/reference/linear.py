"""Reference kernels of the linear family: Linear, Bilinear, Identity."""

from __future__ import annotations

from .tensor import Tensor, split_last


def affine_rows(ctx, rows, weight: Tensor, bias: Tensor | None) -> list[list[float]]:
    """y[o] = sum_i x[i] * W[o, i] (+ b[o]) for every row x: the product shared by every dense layer."""
    n_out, n_in = weight.shape
    w = [weight.data[o * n_in:(o + 1) * n_in] for o in range(n_out)]
    out = []
    for x in rows:
        y = []
        for o in range(n_out):
            acc = sum(xi * wi for xi, wi in zip(x, w[o]))
            ctx.macs += n_in
            if bias is not None:
                acc += bias.data[o]
                ctx.flops += 1
            y.append(acc)
        out.append(y)
    return out


def linear(ctx, x: Tensor) -> Tensor:
    """y = x W^T + b over the last dimension."""
    n_in = x.shape[-1]
    weight = ctx.param("weight", (ctx.out_features, n_in))
    bias = ctx.param("bias", (ctx.out_features,), fan_in=n_in) if ctx.bias else None
    rows = affine_rows(ctx, split_last(x), weight, bias)
    return Tensor(x.shape[:-1] + (ctx.out_features,), [v for r in rows for v in r])


def bilinear(ctx, x1: Tensor, x2: Tensor) -> Tensor:
    """y[k] = sum_i sum_j x1[i] A[k, i, j] x2[j] + b[k]: per k, A_k x2 (in1*in2 MACs), then x1 . (A_k x2) (in1 MACs)."""
    n1, n2, n_out = x1.shape[-1], x2.shape[-1], ctx.out_features
    weight = ctx.param("weight", (n_out, n1, n2), fan_in=n1)
    bias = ctx.param("bias", (n_out,), fan_in=n1) if ctx.bias else None
    out = []
    for a, b in zip(split_last(x1), split_last(x2)):
        for k in range(n_out):
            acc = 0.0
            for i in range(n1):
                row = weight.data[(k * n1 + i) * n2:(k * n1 + i + 1) * n2]
                ax = sum(w * bj for w, bj in zip(row, b))
                ctx.macs += n2
                acc += a[i] * ax
                ctx.macs += 1
            if bias is not None:
                acc += bias.data[k]
                ctx.flops += 1
            out.append(acc)
    return Tensor(x1.shape[:-1] + (n_out,), out)


def identity(ctx, x: Tensor) -> Tensor:
    return x.copy()


KERNELS = {"Linear": linear, "Bilinear": bilinear, "Identity": identity}
