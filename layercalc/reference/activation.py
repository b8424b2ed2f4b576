"""Reference kernels of the activation family, each written as its formula in counted operations.

An element-wise activation is a function of one value ``f(o, x, ctx)`` built
from :class:`~layercalc.reference.ops.Ops`; its FLOPs per element are the
operations that formula performs. Branches are written as selects, so every
element costs the same (what a vectorized kernel does). The softmax family
reduces along a dimension; GLU halves one.
"""

from __future__ import annotations

import math

from .kernel import wrap_dim
from .ops import Ops
from .tensor import Tensor, moveaxis, split_last, stack_rows

INV_SQRT2 = 1 / math.sqrt(2)  # constants are folded: free
SQRT_2_OVER_PI = math.sqrt(2 / math.pi)
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def sigmoid(o: Ops, x):
    return o.div(1.0, o.add(1.0, o.exp(o.neg(x))))


def elu(o: Ops, x, alpha):
    return o.where(x > 0, x, o.mul(alpha, o.sub(o.exp(x), 1.0)))


def relu6(o: Ops, x):
    return o.min(o.max(x, 0.0), 6.0)


def softplus(o: Ops, x, beta=1.0, threshold=20.0):
    bx = o.mul(beta, x)
    return o.where(bx > threshold, x, o.div(o.log(o.add(1.0, o.exp(bx))), beta))


# x -> y, per element; ``a`` holds the layer's arguments
ELEMENTWISE = {
    "ReLU": lambda o, x, a: o.max(x, 0.0),
    "ReLU6": lambda o, x, a: relu6(o, x),
    "Hardtanh": lambda o, x, a: o.min(o.max(x, a["min_val"]), a["max_val"]),
    "Threshold": lambda o, x, a: o.where(x > a["threshold"], x, a["value"]),
    "LeakyReLU": lambda o, x, a: o.where(x >= 0, x, o.mul(x, a["negative_slope"])),
    # eval mode: the slope is fixed at (lower + upper) / 2, a folded constant
    "RReLU": lambda o, x, a: o.where(x >= 0, x, o.mul(x, (a["lower"] + a["upper"]) / 2)),
    "ELU": lambda o, x, a: elu(o, x, a["alpha"]),
    "CELU": lambda o, x, a: o.where(x > 0, x, o.mul(a["alpha"], o.sub(o.exp(o.div(x, a["alpha"])), 1.0))),
    "SELU": lambda o, x, a: o.mul(SELU_SCALE, elu(o, x, SELU_ALPHA)),
    "GELU": lambda o, x, a: (
        o.mul(x, o.mul(0.5, o.add(1.0, o.tanh(o.mul(SQRT_2_OVER_PI, o.add(x, o.mul(0.044715, o.mul(x, o.mul(x, x)))))))))
        if a["approximate"] == "tanh" else
        o.mul(x, o.mul(0.5, o.add(1.0, o.erf(o.mul(x, INV_SQRT2)))))),
    "Sigmoid": lambda o, x, a: sigmoid(o, x),
    "SiLU": lambda o, x, a: o.mul(x, sigmoid(o, x)),
    "Mish": lambda o, x, a: o.mul(x, o.tanh(o.log(o.add(1.0, o.exp(x))))),
    "LogSigmoid": lambda o, x, a: o.log(sigmoid(o, x)),
    "Tanh": lambda o, x, a: o.tanh(x),
    "Hardswish": lambda o, x, a: o.div(o.mul(x, relu6(o, o.add(x, 3.0))), 6.0),
    "Hardsigmoid": lambda o, x, a: o.div(relu6(o, o.add(x, 3.0)), 6.0),
    "Hardshrink": lambda o, x, a: o.where(o.abs(x) > a["lambd"], x, 0.0),
    # x - clamp(x, -lambd, lambd): x - lambd above, x + lambd below, 0 between
    "Softshrink": lambda o, x, a: o.sub(x, o.min(o.max(x, -a["lambd"]), a["lambd"])),
    "Tanhshrink": lambda o, x, a: o.sub(x, o.tanh(x)),
    "Softplus": lambda o, x, a: softplus(o, x, a["beta"], a["threshold"]),
    "Softsign": lambda o, x, a: o.div(x, o.add(1.0, o.abs(x))),
}


def elementwise(layer_type: str):
    f = ELEMENTWISE[layer_type]

    def kernel(ctx, x: Tensor) -> Tensor:
        o = Ops(ctx)
        return Tensor(x.shape, [f(o, v, ctx.args) for v in x.data])

    kernel.__name__ = layer_type.lower()
    kernel.__doc__ = f"{layer_type}, element by element."
    return kernel


def prelu(ctx, x: Tensor) -> Tensor:
    """x if x >= 0 else w[c] * x, with one slope per channel (dim 1) or one shared."""
    n = ctx.num_parameters
    weight = ctx.param("weight", (n,))
    o = Ops(ctx)
    if n == 1:
        return Tensor(x.shape, [o.where(v >= 0, v, o.mul(weight.data[0], v)) for v in x.data])
    inner = x.numel // (x.shape[0] * x.shape[1])
    return Tensor(x.shape, [o.where(v >= 0, v, o.mul(weight.data[(i // inner) % n], v))
                            for i, v in enumerate(x.data)])


# --- along a dimension ------------------------------------------------------------------------


def softmax_dim(ctx, x: Tensor) -> int:
    """torch's implicit dim when none is given: 0 for 0-, 1- and 3-D inputs, else 1."""
    if ctx.dim is None:
        return 0 if x.rank in (0, 1, 3) else 1
    return wrap_dim(ctx.dim, x.rank)


def along(x: Tensor, dim: int, f) -> Tensor:
    """Apply ``f(row) -> row`` to every 1-D slice of ``x`` along ``dim``."""
    if x.rank == 0:
        return Tensor((), f(list(x.data)))
    moved = moveaxis(x, dim, x.rank - 1)
    rows = [f(r) for r in split_last(moved)]
    return moveaxis(stack_rows(rows, moved.shape[:-1]), x.rank - 1, dim)


def softmax_row(o: Ops, row):
    m = o.amax(row)
    e = [o.exp(o.sub(v, m)) for v in row]
    s = o.sum(e)
    return [o.div(v, s) for v in e]


def softmax(ctx, x: Tensor) -> Tensor:
    """exp(x_i - max) / sum_j exp(x_j - max) along dim."""
    o = Ops(ctx)
    return along(x, softmax_dim(ctx, x), lambda row: softmax_row(o, row))


def log_softmax(ctx, x: Tensor) -> Tensor:
    """(x_i - max) - log(sum_j exp(x_j - max)) along dim; the log of the sum is once per row."""
    o = Ops(ctx)

    def row_fn(row):
        m = o.amax(row)
        shifted = [o.sub(v, m) for v in row]
        log_sum = math.log(o.sum(o.exp(v) for v in shifted))  # per row: not counted
        return [o.sub(v, log_sum) for v in shifted]

    return along(x, softmax_dim(ctx, x), row_fn)


def softmin(ctx, x: Tensor) -> Tensor:
    """softmax(-x) along dim."""
    o = Ops(ctx)
    return along(x, softmax_dim(ctx, x), lambda row: softmax_row(o, [o.neg(v) for v in row]))


def glu(ctx, x: Tensor) -> Tensor:
    """a * sigmoid(b), where a and b are the two halves of x along dim."""
    o = Ops(ctx)
    dim = wrap_dim(ctx.dim, x.rank)

    def halves(row):
        h = len(row) // 2
        return [o.mul(a, sigmoid(o, b)) for a, b in zip(row[:h], row[h:])]

    return along(x, dim, halves)


KERNELS = {t: elementwise(t) for t in ELEMENTWISE}
KERNELS.update({"PReLU": prelu, "Softmax": softmax, "LogSoftmax": log_softmax, "Softmin": softmin, "GLU": glu})
