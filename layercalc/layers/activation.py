"""Layer rules of the activation family.

Almost every activation is element-wise: the output has the input's shape, no
parameters (PReLU has one weight per channel) and costs a fixed number of FLOPs
per element, read from :data:`layercalc.costs.ELEMENTWISE`. They share one base
class, :class:`Elementwise`; each type below is a docstring, its arguments
(PyTorch's names and defaults) and, where PyTorch rejects some values, a
``check``. The softmax family adds a ``dim``; GLU halves one dimension.
"""

from __future__ import annotations

from typing import ClassVar

from .. import costs
from ..errors import LayerError
from .base import Arg, Out, Rule, T
from .registry import register
from .shapes import norm_dim

INPLACE = Arg("inplace", "bool", False, doc="operate in place (no effect on the counts)")


class Elementwise(Rule):
    """Shared logic of the element-wise activations: y has x's shape and costs
    ``costs.ELEMENTWISE[type]`` FLOPs per element; MACs are 0."""

    family = "activation"
    macs = "0"
    cost_key: ClassVar[str] = ""  # the row of costs.ELEMENTWISE; default: the type name

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        key = cls.cost_key or cls.__name__
        if "flops" not in cls.__dict__ and key in costs.ELEMENTWISE:
            cls.flops = f"{costs.ELEMENTWISE[key]} * numel(x)"

    def check(self, a, x: T) -> None:
        """Raise :class:`LayerError` for arguments or inputs PyTorch rejects; the default accepts all."""

    def params(self, a, x: T) -> dict:
        return {}

    def cost(self, a) -> int:
        """FLOPs per element."""
        return costs.ELEMENTWISE[self.cost_key or self.type]

    def forward(self, a, xs):
        x = xs[0]
        self.check(a, x)
        return Out(x.shape, params=self.params(a, x), flops=self.cost(a) * x.numel)


def _bound_order(a, low: str, high: str, strict: bool) -> None:
    lo, hi = getattr(a, low), getattr(a, high)
    if hi < lo or (strict and hi == lo):
        rel = "greater than" if strict else "at least"
        raise LayerError(f"{high}={hi:g} must be {rel} {low}={lo:g}",
                         f"swap them, or choose {high} {'>' if strict else '>='} {low}",
                         arg=high if a.given(high) or not a.given(low) else low, code="S006")


# --- the element-wise activations, one small class each ----------------------------


@register
class ReLU(Elementwise):
    """max(x, 0), element-wise.

    Args: inplace (false). Shape: any, unchanged. No params.
    FLOPs: 1 per element (a max).
    """

    args = (INPLACE,)


@register
class ReLU6(Elementwise):
    """min(max(x, 0), 6), element-wise.

    Args: inplace (false). Shape: any, unchanged. No params.
    FLOPs: 2 per element (a max and a min).
    """

    args = (INPLACE,)


@register
class LeakyReLU(Elementwise):
    """x if x >= 0 else negative_slope * x, element-wise.

    Args: negative_slope (0.01), inplace (false). Shape: any, unchanged. No params.
    FLOPs: 2 per element (compare, multiply).
    """

    args = (Arg("negative_slope", "float", 0.01, doc="slope for x < 0"), INPLACE)


@register
class RReLU(Elementwise):
    """Randomized leaky ReLU: in training the negative slope is drawn from
    U(lower, upper); at inference it is (lower + upper) / 2.

    Args: lower (1/8), upper (1/3; must be >= lower), inplace (false).
    Shape: any, unchanged. No params.
    FLOPs: 2 per element (eval: compare, multiply).
    """

    args = (Arg("lower", "float", 1.0 / 8, doc="lower bound of the slope"),
            Arg("upper", "float", 1.0 / 3, doc="upper bound of the slope"), INPLACE)

    def check(self, a, x):
        _bound_order(a, "lower", "upper", strict=False)


@register
class ELU(Elementwise):
    """x if x > 0 else alpha * (exp(x) - 1), element-wise.

    Args: alpha (1.0), inplace (false). Shape: any, unchanged. No params.
    FLOPs: 4 per element (compare, exp, subtract, multiply).
    """

    args = (Arg("alpha", "float", 1.0, doc="scale of the negative part"), INPLACE)


@register
class SELU(Elementwise):
    """scale * ELU(x, alpha) with PyTorch's fixed alpha = 1.6733 and scale = 1.0507.

    Args: inplace (false). Shape: any, unchanged. No params.
    FLOPs: 5 per element (ELU's 4, multiply by scale).
    """

    args = (INPLACE,)


@register
class CELU(Elementwise):
    """max(0, x) + min(0, alpha * (exp(x / alpha) - 1)), element-wise.

    Args: alpha (1.0; not 0), inplace (false). Shape: any, unchanged. No params.
    FLOPs: 5 per element (divide, exp, subtract, multiply, compare).
    """

    args = (Arg("alpha", "float", 1.0, doc="scale of the negative part; not 0"), INPLACE)

    def check(self, a, x):
        if a.alpha == 0:
            raise LayerError("alpha=0 is not allowed for CELU (it divides by alpha)",
                             "use a non-zero alpha such as 1.0", arg="alpha", code="S006")


@register
class GELU(Elementwise):
    """Gaussian error linear unit: x * Phi(x), Phi the standard normal CDF.

    Args: approximate ('none': exact, with erf; 'tanh': the tanh approximation).
    Shape: any, unchanged. No params.
    FLOPs: 5 per element with approximate='none' (multiply by 1/sqrt(2), erf,
    add 1, multiply by 0.5, multiply by x); 9 with 'tanh' (x^3 2, times
    0.044715, plus x, times sqrt(2/pi), tanh, plus 1, times 0.5, times x).
    """

    args = (Arg("approximate", "str", "none", choices=("none", "tanh"), doc="'none' or 'tanh'"),)
    flops = (f"{costs.ELEMENTWISE['GELU']} * numel(x); "
             f"{costs.ELEMENTWISE['GELU_tanh']} * numel(x) when approximate='tanh'")

    def cost(self, a):
        return costs.ELEMENTWISE["GELU_tanh" if a.approximate == "tanh" else "GELU"]


@register
class SiLU(Elementwise):
    """x * sigmoid(x) (also called swish), element-wise.

    Args: inplace (false). Shape: any, unchanged. No params.
    FLOPs: 5 per element (sigmoid's 4, multiply by x).
    """

    args = (INPLACE,)


@register
class Mish(Elementwise):
    """x * tanh(softplus(x)), element-wise.

    Args: inplace (false). Shape: any, unchanged. No params.
    FLOPs: 5 per element (exp, add 1, log, tanh, multiply by x).
    """

    args = (INPLACE,)


@register
class Sigmoid(Elementwise):
    """1 / (1 + exp(-x)), element-wise.

    No args. Shape: any, unchanged. No params.
    FLOPs: 4 per element (negate, exp, add 1, divide).
    """


@register
class LogSigmoid(Elementwise):
    """log(1 / (1 + exp(-x))), element-wise.

    No args. Shape: any, unchanged. No params.
    FLOPs: 5 per element (sigmoid's 4, log).
    """


@register
class Tanh(Elementwise):
    """tanh(x), element-wise.

    No args. Shape: any, unchanged. No params.
    FLOPs: 1 per element (a tanh).
    """


@register
class Hardtanh(Elementwise):
    """x clamped to [min_val, max_val], element-wise.

    Args: min_val (-1.0), max_val (1.0; must be greater than min_val), inplace (false).
    Shape: any, unchanged. No params.
    FLOPs: 2 per element (two clamps).
    """

    args = (Arg("min_val", "float", -1.0, doc="lower end of the linear region"),
            Arg("max_val", "float", 1.0, doc="upper end of the linear region; > min_val"), INPLACE)

    def check(self, a, x):
        _bound_order(a, "min_val", "max_val", strict=True)


@register
class Hardswish(Elementwise):
    """x * relu6(x + 3) / 6, element-wise.

    Args: inplace (false). Shape: any, unchanged. No params.
    FLOPs: 5 per element (add 3, two clamps, multiply by x, divide by 6).
    """

    args = (INPLACE,)


@register
class Hardsigmoid(Elementwise):
    """relu6(x + 3) / 6, element-wise.

    Args: inplace (false). Shape: any, unchanged. No params.
    FLOPs: 4 per element (add 3, two clamps, divide by 6).
    """

    args = (INPLACE,)


@register
class Hardshrink(Elementwise):
    """x if |x| > lambd else 0, element-wise.

    Args: lambd (0.5). Shape: any, unchanged. No params.
    FLOPs: 2 per element (abs, compare-and-select).
    """

    args = (Arg("lambd", "float", 0.5, doc="the threshold"),)


@register
class Softshrink(Elementwise):
    """x - lambd if x > lambd, x + lambd if x < -lambd, else 0, element-wise.

    Args: lambd (0.5; must be >= 0). Shape: any, unchanged. No params.
    FLOPs: 3 per element (two compares, one add or subtract).
    """

    args = (Arg("lambd", "float", 0.5, doc="the threshold; >= 0"),)

    def check(self, a, x):
        if a.lambd < 0:
            raise LayerError(f"lambd={a.lambd:g} is negative; Softshrink expects lambd >= 0",
                             "use a non-negative lambd such as 0.5", arg="lambd", code="S006")


@register
class Tanhshrink(Elementwise):
    """x - tanh(x), element-wise.

    No args. Shape: any, unchanged. No params.
    FLOPs: 2 per element (tanh, subtract).
    """


@register
class Softplus(Elementwise):
    """log(1 + exp(beta * x)) / beta, and x where beta * x > threshold, element-wise.

    Args: beta (1.0), threshold (20.0). Shape: any, unchanged. No params.
    FLOPs: 6 per element (multiply by beta, exp, add 1, log, divide by beta, compare).
    """

    args = (Arg("beta", "float", 1.0, doc="sharpness"),
            Arg("threshold", "float", 20.0, doc="above beta * x > threshold the function is linear"))


@register
class Softsign(Elementwise):
    """x / (1 + |x|), element-wise.

    No args. Shape: any, unchanged. No params.
    FLOPs: 3 per element (abs, add 1, divide).
    """


@register
class Threshold(Elementwise):
    """x if x > threshold else value, element-wise.

    Args: threshold (required), value (required), inplace (false).
    Shape: any, unchanged. No params.
    FLOPs: 1 per element (a compare-and-select).
    """

    args = (Arg("threshold", "float", doc="the value to compare with"),
            Arg("value", "float", doc="the replacement below or at the threshold"), INPLACE)


@register
class PReLU(Elementwise):
    """x if x >= 0 else a * x with a learned slope a, one per channel or one shared.

    Args: num_parameters (1: one slope shared by all channels; otherwise it must
    equal the channel dimension, dim 1; a 0-D or 1-D input has no channel
    dimension for torch, so it takes num_parameters 1 only), init (0.25, the
    initial slope).
    Shape: any, unchanged. Params: weight (num_parameters).
    FLOPs: 2 per element (compare, multiply).
    """

    args = (Arg("num_parameters", "int", 1, min=0, doc="1, or the number of channels (dim 1)"),
            Arg("init", "float", 0.25, doc="initial value of the slopes"))

    def check(self, a, x):
        n = a.num_parameters
        if n == 1:
            return
        if x.rank == 0:
            raise LayerError(f"num_parameters={n} needs a channel dimension, but the input is a 0-D scalar",
                             "use num_parameters: 1", arg="num_parameters")
        channels = x.shape[1] if x.rank > 1 else 1  # torch: a 1-D input has one channel
        if n != channels:
            where = (f"channel dimension (dim 1) of the input of shape {list(x.shape)} is {channels}" if x.rank > 1
                     else f"1-D input of shape {list(x.shape)} counts as one channel for torch")
            raise LayerError(f"num_parameters={n} does not match the input: the {where}",
                             f"use num_parameters: {channels} (one slope per channel) or 1 (one shared slope)",
                             arg="num_parameters")

    def params(self, a, x):
        return {"weight": (a.num_parameters,)}


# --- softmax and friends: a dim -------------------------------------------------------


def softmax_dim(dim: int | None, rank: int) -> int:
    """The dimension a softmax runs over, as a non-negative index.

    dim null is torch's legacy implicit choice (``_get_softmax_dim``, deprecated
    with a warning): dim 0 for 0-D, 1-D and 3-D inputs, dim 1 otherwise. A 0-D
    input is treated as 1-D for the range check (dim -1 or 0), as torch does.
    """
    if dim is None:
        return 0 if rank in (0, 1, 3) else 1
    return norm_dim(dim, max(rank, 1))


class _Softmax(Elementwise):
    """Shared logic of Softmax, LogSoftmax, Softmin: a dim, checked against the input's rank."""

    args = (Arg("dim", "int", None, doc="the dimension to normalize over; null: torch's implicit choice "
                "(0 for 0-D, 1-D and 3-D inputs, 1 otherwise)"),)

    def check(self, a, x):
        softmax_dim(a.dim, x.rank)


@register
class Softmax(_Softmax):
    """exp(x_i) / sum_j exp(x_j) along dim.

    Args: dim (null: torch's deprecated implicit choice, dim 0 for 0-D, 1-D and
    3-D inputs and dim 1 otherwise; write it explicitly).
    Shape: any, unchanged. No params.
    FLOPs: 5 per element (max, subtract the max, exp, sum, divide by the sum).
    """


@register
class LogSoftmax(_Softmax):
    """log(softmax(x)) along dim, computed as x - max - log(sum(exp(x - max))).

    Args: dim (null: torch's implicit choice, as Softmax).
    Shape: any, unchanged. No params.
    FLOPs: 5 per element (max, subtract the max, exp, sum, subtract log(sum));
    the log, once per row, is not counted.
    """


@register
class Softmin(_Softmax):
    """softmax(-x) along dim.

    Args: dim (null: torch's implicit choice, as Softmax).
    Shape: any, unchanged. No params.
    FLOPs: 6 per element (negate, then Softmax's 5).
    """


@register
class GLU(Rule):
    """Gated linear unit: splits the input in halves a, b along dim; y = a * sigmoid(b).

    Args: dim (-1; the size of that dimension must be even).
    Input shape: (*, 2n, *). Output shape: (*, n, *).
    No params.
    FLOPs: 5 per output element (sigmoid's 4, multiply).
    """

    family = "activation"
    args = (Arg("dim", "int", -1, doc="the dimension to split; its size must be even"),)
    macs = "0"
    flops = f"{costs.ELEMENTWISE['GLU']} * numel(y)"

    def forward(self, a, xs):
        x = xs[0]
        if x.rank == 0:
            raise LayerError("GLU cannot split a 0-D scalar input", "give GLU an input with at least one dimension")
        d = norm_dim(a.dim, x.rank)
        size = x.shape[d]
        if size % 2:
            raise LayerError(f"GLU halves dimension {a.dim}, whose size is {size} in the input of shape "
                             f"{list(x.shape)}; it must be even",
                             f"make dimension {a.dim} even (e.g. {size + 1}), or choose another dim", arg="dim",
                             code="G004")
        shape = x.shape[:d] + (size // 2,) + x.shape[d + 1:]
        out = T(shape)
        return Out(shape, flops=costs.ELEMENTWISE["GLU"] * out.numel)
