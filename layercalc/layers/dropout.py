"""Layer rules of the dropout family: ``Dropout``, ``Dropout1d/2d/3d``,
``AlphaDropout``, ``FeatureAlphaDropout``, and torchvision's ``StochasticDepth``
(a layercalc extension).

At inference (eval mode) every dropout is the identity: output shape = input
shape, no params, buffers, MACs or FLOPs. The rules still check what PyTorch
checks: ``0 <= p <= 1`` (in the constructor) and the input rank where the
functional form raises (``dropout1d`` needs a 2-D or 3-D input; ``dropout2d``
and ``dropout3d`` only warn about other ranks, so they are accepted).
"""

from __future__ import annotations

from ..errors import LayerError
from .base import REQUIRED, Arg, Out, Rule, need_min_rank, need_rank
from .registry import register


class _Dropout(Rule):
    """Shared logic: validate p (and the rank when ``ranks`` is set); return the input shape."""

    family = "dropout"
    input_dtype = "float"
    ranks: tuple[int, ...] | None = None
    layout = ""
    args = (
        Arg("p", "float", 0.5, doc="probability of an element (or channel) to be zeroed, in [0, 1]"),
        Arg("inplace", "bool", False, doc="operate in place (no effect on the counts)"),
    )
    macs = "0"
    flops = "0 (the identity at inference)"

    def forward(self, a, xs):
        x = xs[0]
        if not 0.0 <= a.p <= 1.0:
            raise LayerError(f"p={a.p:g} is not a probability; expected a number between 0 and 1",
                             "use a dropout probability such as 0.1 or 0.5", arg="p", code="S006")
        if self.ranks is not None:
            need_rank(x, self.ranks, self.type, self.layout)
        return Out(x.shape)


@register
class Dropout(_Dropout):
    """Zeroes each element with probability p during training; the identity at inference.

    Args: p (0.5, in [0, 1]), inplace (false).
    Input shape: any. Output shape: the same.
    No params, buffers, MACs or FLOPs (eval mode).
    """


@register
class Dropout1d(_Dropout):
    """Zeroes whole channels with probability p during training; the identity at inference.

    Args: p (0.5, in [0, 1]), inplace (false).
    Input shape: (N, C, L) or unbatched (C, L); other ranks are an error, as in
    torch. Output shape: the same.
    No params, buffers, MACs or FLOPs (eval mode).
    """

    ranks = (2, 3)
    layout = "(N, C, L) or (C, L)"


@register
class Dropout2d(_Dropout):
    """Zeroes whole channels with probability p during training; the identity at inference.

    Args: p (0.5, in [0, 1]), inplace (false).
    Input shape: (N, C, H, W) or (C, H, W); torch accepts other ranks with a
    deprecation warning, and so does layercalc. Output shape: the same.
    No params, buffers, MACs or FLOPs (eval mode).
    """


@register
class Dropout3d(_Dropout):
    """Zeroes whole channels with probability p during training; the identity at inference.

    Args: p (0.5, in [0, 1]), inplace (false).
    Input shape: (N, C, D, H, W) or (C, D, H, W); torch accepts other ranks
    with a deprecation warning, and so does layercalc. Output shape: the same.
    No params, buffers, MACs or FLOPs (eval mode).
    """


@register
class AlphaDropout(_Dropout):
    """Dropout that keeps the mean and variance of self-normalizing (SELU)
    activations during training; the identity at inference.

    Args: p (0.5, in [0, 1]), inplace (false; torch accepts it and ignores it).
    Input shape: any. Output shape: the same.
    No params, buffers, MACs or FLOPs (eval mode).
    """


@register
class FeatureAlphaDropout(_Dropout):
    """Alpha dropout of whole channels during training; the identity at inference.

    Args: p (0.5, in [0, 1]), inplace (false; torch accepts it and ignores it).
    Input shape: (N, C, *) usually; any rank is accepted, as in torch.
    Output shape: the same.
    No params, buffers, MACs or FLOPs (eval mode).
    """


@register
class StochasticDepth(_Dropout):
    """Drops whole residual branches during training, as torchvision's ``torchvision.ops.StochasticDepth``;
    the identity at inference. A layercalc extension.

    In train mode with 0 < p: y = x * noise, where noise is one Bernoulli(1 - p) value per
    sample, shape (N, 1, ..., 1), for mode "row", or one value for the whole batch, shape
    (1, ..., 1), for mode "batch", divided by 1 - p when p < 1. With p = 0, and at
    inference, y is x itself.
    Args: p (required, in [0, 1]: the probability of dropping a sample's branch),
    mode (required, "row" or "batch"), as torchvision requires both.
    Input shape: (N, *) for "row" (the first dimension is the batch); any for
    "batch". Output shape: the same.
    No params, buffers, MACs or FLOPs (eval mode).
    """

    args = (Arg("p", "float", REQUIRED, doc="probability of dropping a sample (row) or the batch, in [0, 1]"),
            Arg("mode", "str", REQUIRED, choices=("row", "batch"), doc="'row': one draw per sample; 'batch': one for the whole batch"))

    def forward(self, a, xs):
        if a.mode == "row":
            need_min_rank(xs[0], 1, "StochasticDepth", "(N, *): mode 'row' draws one value per sample of dimension 0")
        return super().forward(a, xs)
