"""Layer rules of the convolution family: ``Conv1d`` ``Conv2d`` ``Conv3d`` and
``ConvTranspose1d`` ``ConvTranspose2d`` ``ConvTranspose3d``.

One base class, :class:`_ConvNd`, holds the argument schema (built from the
class's ``rank``), PyTorch's validation and the counting; each type sets
``rank`` (and ``transposed``) and carries its documentation. The length
formulas live in :mod:`layercalc.layers.shapes`.

MACs follow ``torch.utils.flop_counter``: a convolution costs
``numel(y) * in_channels/groups * prod(kernel_size)``; a transposed one costs
``N * in_channels * prod(input spatial) * out_channels/groups * prod(kernel_size)``
(every input element is scattered through its group's kernels). Bias adds are
counted in the FLOPs only.
"""

from __future__ import annotations

from math import gcd, prod
from typing import ClassVar

from ..errors import LayerError
from . import shapes
from .base import Arg, Out, Rule, infer, numel
from .registry import register

PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def _conv_args(rank: int, transposed: bool) -> tuple[Arg, ...]:
    """The arguments of a convolution of ``rank`` spatial dimensions, in torch.nn's order."""
    n = rank
    head = (
        Arg("in_channels", "int", None, min=1, infer=True, doc="channels of the input (inferred)"),
        Arg("out_channels", "int", min=1, doc="channels of the output"),
        Arg("kernel_size", "ints", min=1, n=n, doc="window size: an int or one per spatial dimension"),
        Arg("stride", "ints", 1, min=1, n=n, one=True, doc="step of the window"),
    )
    if transposed:
        return head + (
            Arg("padding", "ints", 0, min=0, n=n, one=True, doc="dilation*(kernel_size-1)-padding zeros added to both sides"),
            Arg("output_padding", "ints", 0, min=0, n=n, one=True,
                doc="extra size on one side of the output; smaller than stride or dilation"),
            Arg("groups", "int", 1, min=1, doc="blocked connections; divides in_channels and out_channels"),
            Arg("bias", "bool", True, doc="learn an additive bias"),
            Arg("dilation", "ints", 1, min=1, n=n, one=True, doc="spacing between kernel elements"),
            Arg("padding_mode", "str", "zeros", choices=PADDING_MODES, doc="only 'zeros' for transposed convolutions"),
        )
    return head + (
        Arg("padding", "ints", 0, choices=("same", "valid"), min=0, n=n, one=True,
            doc="zeros (or padding_mode values) added to both sides; 'same' needs stride 1"),
        Arg("dilation", "ints", 1, min=1, n=n, one=True, doc="spacing between kernel elements"),
        Arg("groups", "int", 1, min=1, doc="blocked connections; divides in_channels and out_channels"),
        Arg("bias", "bool", True, doc="learn an additive bias"),
        Arg("padding_mode", "str", "zeros", choices=PADDING_MODES, doc="how the padding is filled"),
    )


class _ConvNd(Rule):
    """The shared rule of the convolutions; subclasses set ``rank`` and ``transposed``."""

    family = "convolution"
    rank: ClassVar[int] = 0
    transposed: ClassVar[bool] = False
    macs = "numel(y) * in_channels/groups * prod(kernel_size)"
    flops = "2 * MACs + numel(y) if bias"

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.rank:
            cls.args = _conv_args(cls.rank, cls.transposed)

    def forward(self, a, xs):
        x = xs[0]
        lead, channels, spatial = shapes.channels_first(x.shape, self.rank, self.type)
        cin = infer(a, "in_channels", channels, f"channel dimension (dim {-self.rank - 1})")
        cout = a.out_channels
        self._check_groups(cin, cout, a.groups)
        k = a.kernel_size
        s, d = shapes.per_dim(a.stride, self.rank), shapes.per_dim(a.dilation, self.rank)
        if self.transposed:
            out = self._transposed_sizes(a, spatial, k, s, d)
            weight = (cin, cout // a.groups) + k
            macs = numel(lead) * cin * prod(spatial) * (cout // a.groups) * prod(k)
        else:
            out = self._sizes(a, spatial, k, s, d)
            weight = (cout, cin // a.groups) + k
            macs = numel(lead + (cout,) + out) * (cin // a.groups) * prod(k)
        shape = lead + (cout,) + out
        params = {"weight": weight}
        if a.bias:
            params["bias"] = (cout,)
        return Out(shape, params=params, macs=macs, flops=2 * macs + (numel(shape) if a.bias else 0))

    def _check_groups(self, cin: int, cout: int, groups: int) -> None:
        for name, value in (("in_channels", cin), ("out_channels", cout)):
            if value % groups:
                common = gcd(cin, cout)
                fits = shapes.small_divisors(common)
                raise LayerError(f"{name}={value} is not divisible by groups={groups} "
                                 f"({name} must be divisible by groups)",
                                 f"use a groups value that divides both in_channels={cin} and out_channels={cout}: "
                                 f"{', '.join(map(str, fits))}", arg="groups", code="G004")

    def _pads(self, a, k, s, d) -> list[tuple[int, int]]:
        """(left, right) padding per spatial dimension."""
        if a.padding == "valid":
            return [(0, 0)] * self.rank
        if a.padding == "same":
            if any(v != 1 for v in s):
                half = [di * (ki - 1) // 2 for ki, di in zip(k, d)]
                raise LayerError(f"padding='same' is not supported for strided convolutions (stride={list(s)})",
                                 f"use stride 1 with padding 'same', or give numbers, e.g. padding: {half}",
                                 arg="padding", code="S006")
            return [shapes.same_padding(ki, di) for ki, di in zip(k, d)]
        return [(p, p) for p in shapes.per_dim(a.padding, self.rank)]

    def _sizes(self, a, spatial, k, s, d) -> tuple[int, ...]:
        pads = self._pads(a, k, s, d)
        names = shapes.SPATIAL_NAMES[self.rank]
        if a.padding_mode == "circular":  # F.pad first, with the same per-dimension limits as the Pad layers
            for name, length, (left, right) in zip(names, spatial, pads):
                shapes.circular_pad_len(length, left, right, name)
        elif a.padding_mode in ("reflect", "replicate"):
            for name, length, (left, right) in zip(names, spatial, pads):
                shapes.reflect_pad_len(length, left, right, name, a.padding_mode == "reflect")
        padded = [length + left + right for length, (left, right) in zip(spatial, pads)]
        extent = [shapes.effective_kernel(ki, di) for ki, di in zip(k, d)]
        if any(p < e for p, e in zip(padded, extent)):
            raise LayerError(f"the padded input size per channel {shapes.dims_text(padded)} is smaller than the "
                             f"kernel {shapes.dims_text(extent)} (dilation*(kernel_size-1)+1, kernel_size={list(k)}, "
                             f"dilation={list(d)}); the kernel can't be greater than the input",
                             "use a smaller kernel_size or dilation, more padding, or a larger input",
                             arg="kernel_size")
        return tuple(shapes.conv_out_lr(length, ki, si, left, right, di)
                     for length, ki, si, (left, right), di in zip(spatial, k, s, pads, d))

    def _transposed_sizes(self, a, spatial, k, s, d) -> tuple[int, ...]:
        if a.padding_mode != "zeros":
            raise LayerError(f"{self.type} only supports padding_mode='zeros', got '{a.padding_mode}'",
                             "remove padding_mode, or pad with a separate layer before", arg="padding_mode",
                             code="S006")
        p, op = shapes.per_dim(a.padding, self.rank), shapes.per_dim(a.output_padding, self.rank)
        for name, opi, si, di in zip(shapes.SPATIAL_NAMES[self.rank], op, s, d):
            if opi >= si and opi >= di:
                raise LayerError(f"output_padding must be smaller than either stride or dilation, got "
                                 f"output_padding={list(op)}, stride={list(s)}, dilation={list(d)} ({name}: {opi})",
                                 f"use an output_padding below {max(si, di)} for {name}", arg="output_padding",
                                 code="S006")
        out = tuple(shapes.conv_transpose_out(length, ki, si, pi, opi, di)
                    for length, ki, si, pi, opi, di in zip(spatial, k, s, p, op, d))
        if any(v < 1 for v in out):
            raise LayerError(f"the output size per channel would be {shapes.dims_text(out)} for an input of "
                             f"{shapes.dims_text(spatial)} ((L-1)*stride - 2*padding + dilation*(kernel_size-1) + "
                             f"output_padding + 1); the output size is too small",
                             "use a smaller padding, or a larger kernel_size or stride", arg="padding")
        return out


_CONV_DOC = """

    Args: in_channels (inferred from the input), out_channels, kernel_size,
    stride (1), padding (0; an int, one per dimension, 'valid' = 0, or 'same':
    stride 1 only, total dilation*(kernel_size-1) split left = total//2, right =
    the rest), dilation (1), groups (1; divides in_channels and out_channels),
    bias (true), padding_mode ('zeros', 'reflect', 'replicate', 'circular';
    reflect needs each padding < the input size, circular <= it).
    Params: weight (out_channels, in_channels/groups, *kernel_size) + bias (out_channels).
    MACs: numel(y) * in_channels/groups * prod(kernel_size).
    FLOPs: 2 * MACs + numel(y) when bias.
"""

_TRANSPOSED_DOC = """

    Args: in_channels (inferred from the input), out_channels, kernel_size,
    stride (1), padding (0; numbers only), output_padding (0; per dimension
    smaller than stride or dilation), groups (1; divides in_channels and
    out_channels), bias (true), dilation (1), padding_mode ('zeros' only).
    Output length: (L_in-1)*stride - 2*padding + dilation*(kernel_size-1) + output_padding + 1.
    Params: weight (in_channels, out_channels/groups, *kernel_size) + bias (out_channels).
    MACs: N * in_channels * prod(input spatial) * out_channels/groups * prod(kernel_size)
    (N = 1 for an unbatched input).
    FLOPs: 2 * MACs + numel(y) when bias.
"""


@register
class Conv1d(_ConvNd):
    """1-D convolution over (N, C_in, L) or unbatched (C_in, L); output (N, C_out, L_out) or (C_out, L_out),
    L_out = floor((L + pad_left + pad_right - dilation*(kernel_size-1) - 1) / stride) + 1."""

    __doc__ += _CONV_DOC
    rank = 1


@register
class Conv2d(_ConvNd):
    """2-D convolution over (N, C_in, H, W) or unbatched (C_in, H, W); output
    (N, C_out, H_out, W_out) or (C_out, H_out, W_out), each length as for Conv1d."""

    __doc__ += _CONV_DOC
    rank = 2


@register
class Conv3d(_ConvNd):
    """3-D convolution over (N, C_in, D, H, W) or unbatched (C_in, D, H, W); output
    (N, C_out, D_out, H_out, W_out) or (C_out, D_out, H_out, W_out), each length as for Conv1d."""

    __doc__ += _CONV_DOC
    rank = 3


class _ConvTransposeNd(_ConvNd):
    """The shared rule of the transposed convolutions."""

    transposed = True
    macs = "N * in_channels * prod(input spatial) * out_channels/groups * prod(kernel_size)"


@register
class ConvTranspose1d(_ConvTransposeNd):
    """1-D transposed convolution ("deconvolution") over (N, C_in, L) or unbatched
    (C_in, L); output (N, C_out, L_out) or (C_out, L_out)."""

    __doc__ += _TRANSPOSED_DOC
    rank = 1


@register
class ConvTranspose2d(_ConvTransposeNd):
    """2-D transposed convolution over (N, C_in, H, W) or unbatched (C_in, H, W);
    output (N, C_out, H_out, W_out) or (C_out, H_out, W_out)."""

    __doc__ += _TRANSPOSED_DOC
    rank = 2


@register
class ConvTranspose3d(_ConvTransposeNd):
    """3-D transposed convolution over (N, C_in, D, H, W) or unbatched
    (C_in, D, H, W); output (N, C_out, D_out, H_out, W_out) or (C_out, D_out, H_out, W_out)."""

    __doc__ += _TRANSPOSED_DOC
    rank = 3
