"""Reference kernels of the embedding family: Embedding and EmbeddingBag.

A lookup copies rows of ``weight`` (no arithmetic). With ``max_norm`` each
looked-up row is renormalized first: its p-norm (|v|^p and a sum per
element; the root is once per row) and a rescale by min(1, max_norm / norm)
(a multiply per element, every row counted as if rescaled). A bag reduces
its rows per feature: sum, mean (the sum and a divide) or max.
"""

from __future__ import annotations

import math

from .ops import Ops
from .tensor import Tensor


def lookup(ctx, o: Ops, weight: Tensor, index: int) -> list:
    dim = weight.shape[1]
    row = weight.data[index * dim:(index + 1) * dim]
    if ctx.max_norm is not None:
        p = ctx.args.get("norm_type", 2.0)
        total = o.sum(o.pow(abs(v), p) for v in row)
        norm = total ** (1 / p) if p else total  # per row: not counted
        scale = ctx.max_norm / (norm + 1e-7) if norm > ctx.max_norm else 1.0
        row = [o.mul(v, scale) for v in row]
    return row


def embedding(ctx, x: Tensor) -> Tensor:
    """y[..., :] = weight[x[...], :]"""
    weight = ctx.param("weight", (ctx.num_embeddings, ctx.embedding_dim), fan_in=1)
    o = Ops(ctx)
    out = []
    for i in x.data:
        out += lookup(ctx, o, weight, i % ctx.num_embeddings)
    return Tensor(x.shape + (ctx.embedding_dim,), out)


def embedding_bag(ctx, x: Tensor) -> Tensor:
    """y[b, :] = reduce over the bag's indices i of weight[i, :] (padding_idx rows left out)."""
    n, dim = ctx.num_embeddings, ctx.embedding_dim
    weight = ctx.param("weight", (n, dim), fan_in=1)
    o = Ops(ctx)
    pad = None if ctx.padding_idx is None else ctx.padding_idx % n
    bags, size = x.shape
    out = []
    for b in range(bags):
        idx = [i % n for i in x.data[b * size:(b + 1) * size]]
        rows = [lookup(ctx, o, weight, i) for i in idx]
        kept = [i != pad for i in idx]
        for j in range(dim):
            column = [r[j] if k else 0.0 for r, k in zip(rows, kept)]
            if ctx.mode == "max":
                m = o.amax([v if k else -math.inf for v, k in zip(column, kept)])
                out.append(m if any(kept) else 0.0)
            else:
                s = o.sum(column)
                out.append(o.div(s, max(1, sum(kept))) if ctx.mode == "mean" else s)
    return Tensor((bags, dim), out)


KERNELS = {"Embedding": embedding, "EmbeddingBag": embedding_bag}
