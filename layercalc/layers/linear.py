"""Layer rules of the linear family: ``Linear``, ``Bilinear``, ``Identity``."""

from __future__ import annotations

from ..errors import LayerError
from .base import Arg, Out, Rule, infer, need_min_rank, numel
from .registry import register


@register
class Linear(Rule):
    """Applies y = x W^T + b over the last dimension.

    Args: in_features (inferred from the input's last dimension), out_features,
    bias (default true).
    Input shape: (*, in_features). Output shape: (*, out_features).
    Params: weight (out_features, in_features) + bias (out_features).
    MACs: numel(y) * in_features.
    FLOPs: 2 * MACs + numel(y) when bias (one add per output element).
    """

    family = "linear"
    args = (
        Arg("in_features", "int", None, min=0, infer=True, doc="size of each input sample (inferred)"),
        Arg("out_features", "int", min=0, doc="size of each output sample"),
        Arg("bias", "bool", True, doc="learn an additive bias"),
    )
    macs = "numel(y) * in_features"
    flops = "2 * MACs + numel(y) if bias"

    def forward(self, a, xs):
        x = xs[0]
        need_min_rank(x, 1, "Linear", "(*, in_features)")
        fin = infer(a, "in_features", x.shape[-1], "last dimension")
        shape = x.shape[:-1] + (a.out_features,)
        params = {"weight": (a.out_features, fin)}
        if a.bias:
            params["bias"] = (a.out_features,)
        macs = numel(shape) * fin
        return Out(shape, params=params, macs=macs, flops=2 * macs + (numel(shape) if a.bias else 0))


@register
class Bilinear(Rule):
    """Applies y_k = x1^T A_k x2 + b_k to two inputs (``from: [x1, x2]``).

    Args: in1_features, in2_features (both inferred), out_features, bias.
    Input shapes: (*, in1_features) and (*, in2_features), with the same leading
    dimensions. Output shape: (*, out_features).
    Params: weight (out_features, in1_features, in2_features) + bias (out_features).
    MACs: per leading element and output feature, A_k x2 costs in1*in2 and the
    dot product with x1 costs in1, so MACs = N * out * in1 * (in2 + 1) with N
    the product of the leading dimensions. (torch's FlopCounterMode does not
    see ``aten._trilinear``; this derivation is the reference.)
    FLOPs: 2 * MACs + numel(y) when bias.
    """

    family = "linear"
    n_inputs = (2, 2)
    input_names = ("input1", "input2")
    args = (
        Arg("in1_features", "int", None, min=1, infer=True),
        Arg("in2_features", "int", None, min=1, infer=True),
        Arg("out_features", "int", min=1),
        Arg("bias", "bool", True),
    )
    macs = "N * out_features * in1_features * (in2_features + 1)"
    flops = "2 * MACs + numel(y) if bias"

    def forward(self, a, xs):
        x1, x2 = xs
        need_min_rank(x1, 1, "Bilinear", "(*, in1_features)")
        need_min_rank(x2, 1, "Bilinear", "(*, in2_features)")
        if x1.shape[:-1] != x2.shape[:-1]:
            raise LayerError(f"Bilinear needs inputs with the same leading dimensions, got {list(x1.shape)} and "
                             f"{list(x2.shape)}", "make the leading dimensions of both inputs equal")
        i1 = infer(a, "in1_features", x1.shape[-1], "first input's last dimension")
        i2 = infer(a, "in2_features", x2.shape[-1], "second input's last dimension")
        shape = x1.shape[:-1] + (a.out_features,)
        params = {"weight": (a.out_features, i1, i2)}
        if a.bias:
            params["bias"] = (a.out_features,)
        n = numel(x1.shape[:-1])
        macs = n * a.out_features * i1 * (i2 + 1)
        return Out(shape, params=params, macs=macs, flops=2 * macs + (numel(shape) if a.bias else 0))


@register
class Identity(Rule):
    """Returns its input unchanged. Any shape; no params, MACs or FLOPs."""

    family = "linear"
    input_dtype = "any"

    def forward(self, a, xs):
        return Out(xs[0].shape)
