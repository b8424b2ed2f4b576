"""Layer rules of the pooling family: ``MaxPool1d/2d/3d``, ``AvgPool1d/2d/3d``,
``AdaptiveAvgPool1d/2d/3d``, ``AdaptiveMaxPool1d/2d/3d`` and ``LPPool1d/2d/3d``.

One base class per kind of pooling holds the argument schema (built from the
class's ``rank``), PyTorch's validation and the counting; each type sets
``rank`` and carries its documentation. The length formulas live in
:mod:`layercalc.layers.shapes`.

Pooling has no parameters and no MACs. Its FLOPs, per output element, count
every window position, padded or past the edge in ceil mode included (the
work of a dense kernel):

| type            | FLOPs                                                              |
|-----------------|--------------------------------------------------------------------|
| MaxPool         | numel(y) * prod(kernel_size): one comparison per window position   |
| AvgPool         | numel(y) * (prod(kernel_size) + 1): the adds and one divide        |
| LPPool          | numel(y) * (2 * prod(kernel_size) + 1): a power and an add per     |
|                 | window position, one root                                          |
| AdaptiveAvgPool | N * C * prod_d(sum of the window sizes along d) + numel(y) divides |
| AdaptiveMaxPool | N * C * prod_d(sum of the window sizes along d)                    |
"""

from __future__ import annotations

from math import isinf, prod
from typing import ClassVar

from ..errors import LayerError
from . import shapes
from .base import Arg, Out, Rule, T, numel
from .registry import register


def _kernel(n: int, one: bool = True) -> Arg:
    return Arg("kernel_size", "ints", min=1, n=n, one=one, doc="window size: an int or one per spatial dimension")


def _stride(n: int) -> Arg:
    return Arg("stride", "ints", None, min=1, n=n, one=True, empty_null=True,
               doc="step of the window; null (or []): kernel_size")


def _padding(n: int) -> Arg:
    return Arg("padding", "ints", 0, min=0, n=n, one=True, doc="implicit padding on both sides, at most kernel_size/2")


_CEIL_MODE = Arg("ceil_mode", "bool", False, doc="ceil instead of floor for the output length")
_RETURN_INDICES = Arg("return_indices", "bool", False, doc="also output the argmax indices (extra output 'indices')")


class _PoolNd(Rule):
    """The shared part of the pooling rules: the schema built from ``rank``, the input layout."""

    family = "pooling"
    rank: ClassVar[int] = 0

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.rank:
            cls.args = cls.schema(cls.rank)

    @classmethod
    def schema(cls, rank: int) -> tuple[Arg, ...]:  # pragma: no cover - every family overrides it
        raise NotImplementedError

    def split(self, x: T):
        """``(lead, channels, spatial)`` of a batched or unbatched input."""
        return shapes.channels_first(x.shape, self.rank, self.type)


class _WindowPoolNd(_PoolNd):
    """Max, average and power-average pooling: a window of ``kernel_size`` slid by ``stride``."""

    def window_sizes(self, spatial, k, s, p, d, ceil_mode: bool) -> tuple[int, ...]:
        """Output lengths, with PyTorch's checks: padding <= kernel_size/2 and an output of at least 1."""
        if any(pi > ki // 2 for pi, ki in zip(p, k)):
            raise LayerError(f"padding={list(p)} is more than half of kernel_size={list(k)} (pad should be at most "
                             f"half of kernel size)", f"use a padding of at most {[ki // 2 for ki in k]}",
                             arg="padding", code="S006")
        out = tuple(shapes.pool_out(length, ki, si, pi, di, ceil_mode)
                    for length, ki, si, pi, di in zip(spatial, k, s, p, d))
        if any(v < 1 for v in out):
            dil = f", dilation={list(d)}" if any(di != 1 for di in d) else ""
            raise LayerError(f"the output size would be {shapes.dims_text(out)} for an input of "
                             f"{shapes.dims_text(spatial)} with kernel_size={list(k)}, stride={list(s)}, "
                             f"padding={list(p)}{dil}: the output size is too small",
                             "use a smaller kernel_size or stride, or a larger input", arg="kernel_size")
        return out

    def check_avg3d_input(self, spatial, k) -> None:
        """PyTorch's avg_pool3d (and so LPPool3d) also needs the unpadded input to be at least the kernel."""
        if self.rank == 3 and any(length < ki for length, ki in zip(spatial, k)):
            raise LayerError(f"{self.type} needs an input at least as large as the kernel in every spatial "
                             f"dimension, even with padding or ceil_mode: input {shapes.dims_text(spatial)} is "
                             f"smaller than kernel_size {shapes.dims_text(k)}",
                             "use a smaller kernel_size, or a larger input", arg="kernel_size")


# --- MaxPool -----------------------------------------------------------------------


class _MaxPoolNd(_WindowPoolNd):
    """Max pooling: the largest value of each window (padding counts as -inf)."""

    extra_outputs = ("indices",)
    flops = "numel(y) * prod(kernel_size)"

    @classmethod
    def schema(cls, rank):
        return (_kernel(rank), _stride(rank), _padding(rank),
                Arg("dilation", "ints", 1, min=1, n=rank, one=True, doc="spacing between window elements"),
                _RETURN_INDICES, _CEIL_MODE)

    def forward(self, a, xs):
        lead, channels, spatial = self.split(xs[0])
        k = a.kernel_size
        s = k if a.stride is None else a.stride
        p, d = shapes.per_dim(a.padding, self.rank), shapes.per_dim(a.dilation, self.rank)
        shape = lead + (channels,) + self.window_sizes(spatial, k, s, p, d, a.ceil_mode)
        extras = {"indices": T(shape, "int64")} if a.return_indices else {}
        return Out(shape, extras=extras, flops=numel(shape) * prod(k))


_MAX_DOC = """

    Args: kernel_size, stride (null: kernel_size), padding (0; at most
    kernel_size/2, filled with -inf), dilation (1), return_indices (false: true
    adds the extra output 'indices', int64, of the output's shape), ceil_mode
    (false; true rounds the length up, dropping a last window that would start
    in the right padding).
    Output length: floor((L + 2*padding - dilation*(kernel_size-1) - 1) / stride) + 1.
    Params: none. MACs: 0.
    FLOPs: numel(y) * prod(kernel_size), one comparison per window position.
"""


@register
class MaxPool1d(_MaxPoolNd):
    """1-D max pooling over (N, C, L) or unbatched (C, L); output (N, C, L_out) or (C, L_out)."""

    __doc__ += _MAX_DOC
    rank = 1


@register
class MaxPool2d(_MaxPoolNd):
    """2-D max pooling over (N, C, H, W) or unbatched (C, H, W); output (N, C, H_out, W_out) or (C, H_out, W_out)."""

    __doc__ += _MAX_DOC
    rank = 2


@register
class MaxPool3d(_MaxPoolNd):
    """3-D max pooling over (N, C, D, H, W) or unbatched (C, D, H, W); output (N, C, D_out, H_out, W_out)
    or (C, D_out, H_out, W_out)."""

    __doc__ += _MAX_DOC
    rank = 3


# --- AvgPool -----------------------------------------------------------------------


class _AvgPoolNd(_WindowPoolNd):
    """Average pooling: the mean of each window."""

    flops = "numel(y) * (prod(kernel_size) + 1)"

    @classmethod
    def schema(cls, rank):
        args = (_kernel(rank), _stride(rank), _padding(rank), _CEIL_MODE,
                Arg("count_include_pad", "bool", True, doc="count the zero padding in the divisor"))
        if rank > 1:  # as in torch.nn: AvgPool1d has no divisor_override
            args += (Arg("divisor_override", "int", None, doc="divide by this instead of the window size; not 0"),)
        return args

    def forward(self, a, xs):
        lead, channels, spatial = self.split(xs[0])
        if getattr(a, "divisor_override", None) == 0:
            raise LayerError("divisor_override=0 is not allowed (divisor must be not zero)",
                             "remove divisor_override to divide by the window size, or give a non-zero number",
                             arg="divisor_override", code="S006")
        k = a.kernel_size
        s = k if a.stride is None else a.stride
        p = shapes.per_dim(a.padding, self.rank)
        self.check_avg3d_input(spatial, k)
        shape = lead + (channels,) + self.window_sizes(spatial, k, s, p, (1,) * self.rank, a.ceil_mode)
        return Out(shape, flops=numel(shape) * (prod(k) + 1))


_AVG_DOC = """

    Args: kernel_size, stride (null: kernel_size), padding (0; at most
    kernel_size/2), ceil_mode (false), count_include_pad (true),
    divisor_override (null; 2-D and 3-D only, not 0).
    Output length: floor((L + 2*padding - kernel_size) / stride) + 1 (ceil in ceil_mode).
    Params: none. MACs: 0.
    FLOPs: numel(y) * (prod(kernel_size) + 1): one add per window position and one divide.
"""


@register
class AvgPool1d(_AvgPoolNd):
    """1-D average pooling over (N, C, L) or unbatched (C, L); output (N, C, L_out) or (C, L_out)."""

    __doc__ += _AVG_DOC
    rank = 1


@register
class AvgPool2d(_AvgPoolNd):
    """2-D average pooling over (N, C, H, W) or unbatched (C, H, W); output (N, C, H_out, W_out) or
    (C, H_out, W_out)."""

    __doc__ += _AVG_DOC
    rank = 2


@register
class AvgPool3d(_AvgPoolNd):
    """3-D average pooling over (N, C, D, H, W) or unbatched (C, D, H, W); output (N, C, D_out, H_out, W_out)
    or (C, D_out, H_out, W_out). As in PyTorch, the unpadded input must be at least kernel_size in every
    dimension."""

    __doc__ += _AVG_DOC
    rank = 3


# --- LPPool ------------------------------------------------------------------------


class _LPPoolNd(_WindowPoolNd):
    """Power-average pooling: an unpadded average pooling of x^p, scaled back by the window size, to the 1/p."""

    flops = "numel(y) * (2 * prod(kernel_size) + 1)"

    @classmethod
    def schema(cls, rank):
        # torch.nn.LPPool1d multiplies by kernel_size, so it takes a single int there
        # (and LPPool2d/3d unpack it into exactly 2 or 3 sizes: no one-element list)
        kernel = Arg("kernel_size", "int", min=1, doc="window size") if rank == 1 else _kernel(rank, one=False)
        return (Arg("norm_type", "float", doc="the power p (inf: max pooling of |x|); not 0"),
                kernel, _stride(rank), _CEIL_MODE)

    def forward(self, a, xs):
        lead, channels, spatial = self.split(xs[0])
        if a.norm_type == 0:
            raise LayerError("norm_type=0 is not allowed (LPPool takes the 1/norm_type-th root)",
                             "use a non-zero power, e.g. norm_type: 2", arg="norm_type", code="S006")
        k = shapes.per_dim(a.kernel_size, self.rank)
        s = k if a.stride is None else a.stride
        if not isinf(a.norm_type):  # an infinite power is a max pooling of |x|, without avg_pool3d's check
            self.check_avg3d_input(spatial, k)
        ones, zeros = (1,) * self.rank, (0,) * self.rank
        shape = lead + (channels,) + self.window_sizes(spatial, k, s, zeros, ones, a.ceil_mode)
        return Out(shape, flops=numel(shape) * (2 * prod(k) + 1))


_LP_DOC = """

    Computes (sum over the window of x^p)^(1/p), p = norm_type: an average
    pooling of x^p without padding, times the window size, to the power 1/p.
    Args: norm_type (not 0), kernel_size (LPPool1d: a single int, as in PyTorch),
    stride (null: kernel_size), ceil_mode (false).
    Output length: floor((L - kernel_size) / stride) + 1 (ceil in ceil_mode).
    Params: none. MACs: 0.
    FLOPs: numel(y) * (2 * prod(kernel_size) + 1): a power and an add per window
    position, one root (norm_type inf is counted the same).
"""


@register
class LPPool1d(_LPPoolNd):
    """1-D power-average pooling over (N, C, L) or unbatched (C, L); output (N, C, L_out) or (C, L_out)."""

    __doc__ += _LP_DOC
    rank = 1


@register
class LPPool2d(_LPPoolNd):
    """2-D power-average pooling over (N, C, H, W) or unbatched (C, H, W); output (N, C, H_out, W_out) or
    (C, H_out, W_out)."""

    __doc__ += _LP_DOC
    rank = 2


@register
class LPPool3d(_LPPoolNd):
    """3-D power-average pooling over (N, C, D, H, W) or unbatched (C, D, H, W); output
    (N, C, D_out, H_out, W_out) or (C, D_out, H_out, W_out). As in PyTorch, the input must be at least
    kernel_size in every dimension."""

    __doc__ += _LP_DOC
    rank = 3


# --- adaptive pooling --------------------------------------------------------------


class _AdaptivePoolNd(_PoolNd):
    """Adaptive pooling: ``output_size`` windows per dimension, start floor(i*L/out), end ceil((i+1)*L/out)."""

    def output_sizes(self, a, spatial) -> tuple[int, ...]:
        """Validate ``output_size`` (an int, or one entry per dimension; null keeps that size, 2-D and 3-D only)."""
        raw = a.output_size
        if raw is None:
            raise LayerError("the argument 'output_size' is required",
                             f"add `output_size: ...` to the arguments of {self.type}", arg="output_size", code="S002")
        items = raw if isinstance(raw, tuple) else (raw,) * self.rank
        if len(items) != self.rank:
            raise LayerError(f"output_size has {len(items)} values, expected {self.rank} (or a single number)",
                             f"give {self.rank} values, one per spatial dimension", arg="output_size", code="S006")
        sizes = []
        for v in items:
            if v is None and self.rank > 1:
                sizes.append(None)
                continue
            if v is None:
                raise LayerError(f"{self.type} does not take null in output_size (PyTorch's 1-D adaptive pooling "
                                 f"needs a number)", "give the output length as a number", arg="output_size",
                                 code="S003")
            if isinstance(v, bool) or not isinstance(v, (int, float)) or (isinstance(v, float) and not v.is_integer()):
                raise LayerError(f"output_size contains {v!r}, expected an integer (or null to keep that size)",
                                 "write an integer for every output size", arg="output_size", code="S003")
            if v < 1:
                raise LayerError(f"output_size={list(items)} has a size below 1 (the output would be empty)",
                                 "use output sizes of at least 1", arg="output_size", code="S006")
            sizes.append(int(v))
        return shapes.adaptive_out(tuple(sizes), spatial)

    def pooled(self, a, xs):
        """(output shape, elements visited: N * C * prod over dims of the window sums)."""
        lead, channels, spatial = self.split(xs[0])
        out = self.output_sizes(a, spatial)
        sums = [shapes.adaptive_window_sum(length, o) for length, o in zip(spatial, out)]
        visited = numel(lead) * channels * prod(sums)
        return lead + (channels,) + out, visited


_OUTPUT_SIZE_DOC = "an int, or one per dimension (null keeps the input's size; 2-D and 3-D only)"


class _AdaptiveAvgPoolNd(_AdaptivePoolNd):
    """Adaptive average pooling."""

    flops = "N * C * prod_d(adaptive window sum along d) + numel(y)"

    @classmethod
    def schema(cls, rank):
        return (Arg("output_size", "any", None, doc=_OUTPUT_SIZE_DOC),)

    def forward(self, a, xs):
        shape, visited = self.pooled(a, xs)
        return Out(shape, flops=visited + numel(shape))


class _AdaptiveMaxPoolNd(_AdaptivePoolNd):
    """Adaptive max pooling."""

    extra_outputs = ("indices",)
    flops = "N * C * prod_d(adaptive window sum along d)"

    @classmethod
    def schema(cls, rank):
        return (Arg("output_size", "any", None, doc=_OUTPUT_SIZE_DOC), _RETURN_INDICES)

    def forward(self, a, xs):
        shape, visited = self.pooled(a, xs)
        extras = {"indices": T(shape, "int64")} if a.return_indices else {}
        return Out(shape, extras=extras, flops=visited)


_ADAPTIVE_DOC = """

    Output position i of a dimension of length L pools the window
    [floor(i*L/out), ceil((i+1)*L/out)).
    Args: output_size (required: an int, or one value per dimension, each >= 1;
    in 2-D and 3-D, null keeps that input size){more}.
    Params: none. MACs: 0.
    FLOPs: N * C * prod over dimensions of the sum of the window sizes ({what}){divides}.
"""
_ADAPTIVE_AVG_DOC = _ADAPTIVE_DOC.format(more="", what="the adds", divides=", plus numel(y) divides")
_ADAPTIVE_MAX_DOC = _ADAPTIVE_DOC.format(
    more=", return_indices (false: true adds the extra\n    output 'indices', int64, of the output's shape)",
    what="the comparisons", divides="")


@register
class AdaptiveAvgPool1d(_AdaptiveAvgPoolNd):
    """1-D adaptive average pooling over (N, C, L) or unbatched (C, L) to (N, C, output_size) or (C, output_size)."""

    __doc__ += _ADAPTIVE_AVG_DOC
    rank = 1


@register
class AdaptiveAvgPool2d(_AdaptiveAvgPoolNd):
    """2-D adaptive average pooling over (N, C, H, W) or unbatched (C, H, W) to (N, C, H_out, W_out) or
    (C, H_out, W_out)."""

    __doc__ += _ADAPTIVE_AVG_DOC
    rank = 2


@register
class AdaptiveAvgPool3d(_AdaptiveAvgPoolNd):
    """3-D adaptive average pooling over (N, C, D, H, W) or unbatched (C, D, H, W) to (N, C, D_out, H_out, W_out)
    or (C, D_out, H_out, W_out)."""

    __doc__ += _ADAPTIVE_AVG_DOC
    rank = 3


@register
class AdaptiveMaxPool1d(_AdaptiveMaxPoolNd):
    """1-D adaptive max pooling over (N, C, L) or unbatched (C, L) to (N, C, output_size) or (C, output_size)."""

    __doc__ += _ADAPTIVE_MAX_DOC
    rank = 1


@register
class AdaptiveMaxPool2d(_AdaptiveMaxPoolNd):
    """2-D adaptive max pooling over (N, C, H, W) or unbatched (C, H, W) to (N, C, H_out, W_out) or
    (C, H_out, W_out)."""

    __doc__ += _ADAPTIVE_MAX_DOC
    rank = 2


@register
class AdaptiveMaxPool3d(_AdaptiveMaxPoolNd):
    """3-D adaptive max pooling over (N, C, D, H, W) or unbatched (C, D, H, W) to (N, C, D_out, H_out, W_out)
    or (C, D_out, H_out, W_out)."""

    __doc__ += _ADAPTIVE_MAX_DOC
    rank = 3
