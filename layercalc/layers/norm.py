"""Layer rules of the normalization family: ``BatchNorm1d/2d/3d``, ``LayerNorm``,
``GroupNorm``, ``InstanceNorm1d/2d/3d``, ``RMSNorm``, ``LocalResponseNorm``.

Semantics, parameters, buffers and the input checks are those of
``torch/nn/modules/{batchnorm,instancenorm,normalization}.py`` in eval mode.
FLOPs follow :mod:`layercalc.costs` (per element of the input; the work done
once per channel or group, such as ``1/sqrt(var + eps)``, is not counted).
MACs are 0.
"""

from __future__ import annotations

from math import prod

from .. import costs
from ..errors import LayerError
from .base import Arg, Out, Rule, infer, need_min_rank, need_rank
from .registry import register
from .shapes import small_divisors

_RANK_FIX = "check the previous layer's output shape (`layercalc shape`), or insert a Reshape/Flatten"


def _affine_cost(affine: bool, bias: bool) -> int:
    if not affine:
        return 0
    return costs.AFFINE if bias else costs.AFFINE_NO_BIAS


def _affine_params(affine: bool, bias: bool, shape: tuple[int, ...]) -> dict:
    params = {}
    if affine:
        params["weight"] = shape
        if bias:
            params["bias"] = shape
    return params


def _running_buffers(track: bool, c: int) -> dict:
    """The buffers of ``_NormBase``: running_mean (C), running_var (C), num_batches_tracked (a scalar)."""
    if not track:
        return {}
    return {"running_mean": (c,), "running_var": (c,), "num_batches_tracked": ()}


_NORM_ARGS = (
    Arg("eps", "float", 1e-5, doc="added to the variance for numerical stability"),
    Arg("momentum", "float", 0.1, nullable=True, doc="running-average factor (default 0.1; null: cumulative average); "
        "training only"),
)


class _BatchNorm(Rule):
    """Shared logic of BatchNorm1d/2d/3d; the subclasses set the accepted ranks."""

    family = "normalization"
    ranks: tuple[int, ...] = ()
    layout = ""
    args = (
        Arg("num_features", "int", None, min=1, infer=True, doc="C, the channel dimension (dim 1; inferred)"),
        *_NORM_ARGS,
        Arg("affine", "bool", True, doc="learn a per-channel weight and bias"),
        Arg("track_running_stats", "bool", True, doc="keep running mean and variance buffers"),
        Arg("bias", "bool", True, doc="learn the bias when affine (keyword-only in torch)"),
    )
    macs = "0"
    flops = ("numel(x) * (2 + 2 if affine [1 without bias]) with running statistics; "
             "numel(x) * (5 + 2 if affine) when track_running_stats is false")

    def forward(self, a, xs):
        x = xs[0]
        need_rank(x, self.ranks, self.type, self.layout)
        c = infer(a, "num_features", x.shape[1], "channel dimension (dim 1)")
        if c < 1:
            raise LayerError(f"{self.type} needs at least one channel, got an input of shape {list(x.shape)}",
                             "check the previous layer's output shape (`layercalc shape`)")
        if a.track_running_stats:
            if a.eps < 0:
                raise LayerError(f"eps={a.eps:g} is negative; batch_norm expects eps >= 0",
                                 "use a small positive eps such as 1e-5", arg="eps", code="S006")
            per = costs.NORM_RUNNING_STATS
        else:
            # without running statistics, eval mode normalizes with the batch's own statistics
            if a.eps <= 0:
                raise LayerError(f"eps={a.eps:g}; without running statistics batch_norm computes the batch's "
                                 "statistics and needs eps > 0", "use a small positive eps such as 1e-5",
                                 arg="eps", code="S006")
            if x.shape[0] * prod(x.shape[2:]) == 1:
                raise LayerError(f"{self.type} without running statistics needs more than 1 value per channel, "
                                 f"got an input of shape {list(x.shape)}",
                                 "use a batch larger than 1, or track_running_stats: true")
            per = costs.NORM_INPUT_STATS
        per += _affine_cost(a.affine, a.bias)
        return Out(x.shape, params=_affine_params(a.affine, a.bias, (c,)),
                   buffers=_running_buffers(a.track_running_stats, c), flops=per * x.numel)


@register
class BatchNorm1d(_BatchNorm):
    """Batch normalization over a 2-D (N, C) or 3-D (N, C, L) input.

    y = (x - mean) / sqrt(var + eps) * weight + bias, per channel.

    Args: num_features (C, inferred), eps (1e-5), momentum (0.1, null allowed),
    affine (true), track_running_stats (true), bias (true, used when affine).
    Input shape: (N, C) or (N, C, L). Output shape: the same.
    Params: weight (C) and bias (C) when affine.
    Buffers: running_mean (C), running_var (C), num_batches_tracked (1) when
    track_running_stats.
    FLOPs: in eval mode the running statistics are used: 2 per element
    (subtract the mean, multiply by 1/sqrt(var + eps)), + 2 if affine (1 without
    bias). With track_running_stats false, the batch's statistics are computed
    even in eval mode: 5 per element (mean 1, subtract 1, square and sum 2,
    normalize 1) + the affine part. Per-channel work (the sqrt) is not counted.
    """

    ranks = (2, 3)
    layout = "(N, C) or (N, C, L)"


@register
class BatchNorm2d(_BatchNorm):
    """Batch normalization over a 4-D input (N, C, H, W).

    Args, params, buffers and FLOPs as BatchNorm1d: 2 per element with the
    running statistics (5 without them), + 2 if affine (1 without bias).
    Input shape: (N, C, H, W). Output shape: the same.
    """

    ranks = (4,)
    layout = "(N, C, H, W)"


@register
class BatchNorm3d(_BatchNorm):
    """Batch normalization over a 5-D input (N, C, D, H, W).

    Args, params, buffers and FLOPs as BatchNorm1d: 2 per element with the
    running statistics (5 without them), + 2 if affine (1 without bias).
    Input shape: (N, C, D, H, W). Output shape: the same.
    """

    ranks = (5,)
    layout = "(N, C, D, H, W)"


class _InstanceNorm(Rule):
    """Shared logic of InstanceNorm1d/2d/3d; ``spatial`` is the number of spatial dimensions."""

    family = "normalization"
    spatial = 0
    layout = ""
    args = (
        Arg("num_features", "int", None, min=1, infer=True, doc="C, the channel dimension (inferred)"),
        *_NORM_ARGS,
        Arg("affine", "bool", False, doc="learn a per-channel weight and bias"),
        Arg("track_running_stats", "bool", False, doc="keep running statistics and use them in eval mode"),
        Arg("bias", "bool", True, doc="learn the bias when affine (keyword-only in torch)"),
    )
    macs = "0"
    flops = ("numel(x) * (5 + 2 if affine [1 without bias]); "
             "numel(x) * (2 + affine) with track_running_stats (eval uses the running statistics)")

    def forward(self, a, xs):
        x = xs[0]
        unbatched = self.spatial + 1
        need_rank(x, (unbatched, unbatched + 1), self.type, self.layout)
        cdim = 0 if x.rank == unbatched else 1
        c = infer(a, "num_features", x.shape[cdim], f"channel dimension (dim {cdim})")
        if a.track_running_stats:
            per = costs.NORM_RUNNING_STATS
        else:
            if prod(x.shape[cdim + 1:]) == 1:
                raise LayerError(f"{self.type} computes statistics over the spatial dimensions and needs more than "
                                 f"1 spatial element, got an input of shape {list(x.shape)}",
                                 "normalize an input with more than one spatial element, or use track_running_stats")
            per = costs.NORM_INPUT_STATS
        per += _affine_cost(a.affine, a.bias)
        return Out(x.shape, params=_affine_params(a.affine, a.bias, (c,)),
                   buffers=_running_buffers(a.track_running_stats, c), flops=per * x.numel)


@register
class InstanceNorm1d(_InstanceNorm):
    """Instance normalization over (N, C, L) or unbatched (C, L) inputs.

    Each (sample, channel) is normalized with the mean and variance of its own
    L values, in eval mode too (unless track_running_stats).

    Args: num_features (C, inferred), eps (1e-5), momentum (0.1, null allowed),
    affine (false), track_running_stats (false), bias (true, used when affine).
    Input shape: (N, C, L) or (C, L). Output shape: the same.
    Params: weight (C) and bias (C) when affine.
    Buffers: running_mean (C), running_var (C), num_batches_tracked (1) when
    track_running_stats.
    FLOPs: 5 per element (mean 1, subtract 1, square and sum 2, normalize 1),
    + 2 if affine (1 without bias). With track_running_stats, eval mode uses
    the running statistics: 2 per element + the affine part. Per-channel work
    (the sqrt) is not counted.
    """

    spatial = 1
    layout = "(N, C, L) or (C, L)"


@register
class InstanceNorm2d(_InstanceNorm):
    """Instance normalization over (N, C, H, W) or unbatched (C, H, W) inputs.

    Args, params, buffers and FLOPs as InstanceNorm1d: 5 per element, + 2 if
    affine (1 without bias); 2 + affine with track_running_stats.
    Input shape: (N, C, H, W) or (C, H, W). Output shape: the same.
    """

    spatial = 2
    layout = "(N, C, H, W) or (C, H, W)"


@register
class InstanceNorm3d(_InstanceNorm):
    """Instance normalization over (N, C, D, H, W) or unbatched (C, D, H, W) inputs.

    Args, params, buffers and FLOPs as InstanceNorm1d: 5 per element, + 2 if
    affine (1 without bias); 2 + affine with track_running_stats.
    Input shape: (N, C, D, H, W) or (C, D, H, W). Output shape: the same.
    """

    spatial = 3
    layout = "(N, C, D, H, W) or (C, D, H, W)"


def _normalized_shape(a, x, layer: str) -> tuple[int, ...]:
    """normalized_shape as a tuple, checked against the trailing dimensions of ``x``."""
    shape = a.normalized_shape if isinstance(a.normalized_shape, tuple) else (a.normalized_shape,)
    a.normalized_shape = shape
    if not shape:
        raise LayerError("normalized_shape is empty; it must name at least one trailing dimension",
                         f"write the size of the last dimension, here {x.shape[-1] if x.rank else 1}",
                         arg="normalized_shape", code="S006")
    if x.rank < len(shape) or x.shape[-len(shape):] != shape:
        tail = list(x.shape[-len(shape):]) if x.rank >= len(shape) else list(x.shape)
        raise LayerError(f"normalized_shape={list(shape)} does not match the input: {layer} normalizes the last "
                         f"{len(shape)} dimension(s), which are {tail} in an input of shape {list(x.shape)}",
                         f"set normalized_shape to the trailing dimensions of the input, e.g. {list(x.shape[-1:])}",
                         arg="normalized_shape")
    return shape


@register
class LayerNorm(Rule):
    """Layer normalization over the trailing dimensions given by normalized_shape.

    y = (x - mean) / sqrt(var + eps) * weight + bias, the statistics taken over
    the last len(normalized_shape) dimensions of each sample.

    Args: normalized_shape (an int or a list: the trailing dimensions, which
    the input must end with), eps (1e-5), elementwise_affine (true), bias
    (true, used when elementwise_affine).
    Input shape: (*, *normalized_shape). Output shape: the same.
    Params: weight (normalized_shape) and bias (normalized_shape) when
    elementwise_affine.
    FLOPs: 5 per element (mean 1, subtract 1, square and sum 2, normalize 1),
    + 2 with elementwise_affine (1 without bias). Per-row work (the sqrt) is
    not counted.
    """

    family = "normalization"
    args = (
        Arg("normalized_shape", "ints", min=0, doc="the trailing dimensions to normalize over (an int or a list)"),
        Arg("eps", "float", 1e-5, doc="added to the variance for numerical stability"),
        Arg("elementwise_affine", "bool", True, doc="learn a weight and a bias of shape normalized_shape"),
        Arg("bias", "bool", True, doc="learn the bias when elementwise_affine"),
    )
    macs = "0"
    flops = "numel(x) * (5 + 2 if elementwise_affine [1 without bias])"

    def forward(self, a, xs):
        x = xs[0]
        shape = _normalized_shape(a, x, "LayerNorm")
        per = costs.NORM_INPUT_STATS + _affine_cost(a.elementwise_affine, a.bias)
        return Out(x.shape, params=_affine_params(a.elementwise_affine, a.bias, shape), flops=per * x.numel)


@register
class GroupNorm(Rule):
    """Group normalization: the channels are split into num_groups groups, each
    normalized with the mean and variance of its values in each sample.

    Args: num_groups (must divide the channels), num_channels (C, dim 1,
    inferred), eps (1e-5), affine (true), bias (true, used when affine).
    Input shape: (N, C, *). Output shape: the same.
    Params: weight (C) and bias (C) when affine. No buffers.
    FLOPs: 5 per element (mean 1, subtract 1, square and sum 2, normalize 1),
    + 2 if affine (1 without bias). Per-group work (the sqrt) is not counted.
    """

    family = "normalization"
    args = (
        Arg("num_groups", "int", min=1, doc="number of groups; must divide num_channels"),
        Arg("num_channels", "int", None, min=1, infer=True, doc="C, the channel dimension (dim 1; inferred)"),
        Arg("eps", "float", 1e-5, doc="added to the variance for numerical stability"),
        Arg("affine", "bool", True, doc="learn a per-channel weight and bias"),
        Arg("bias", "bool", True, doc="learn the bias when affine (keyword-only in torch)"),
    )
    macs = "0"
    flops = "numel(x) * (5 + 2 if affine [1 without bias])"

    def forward(self, a, xs):
        x = xs[0]
        need_min_rank(x, 2, "GroupNorm", "(N, C, *)")
        c = infer(a, "num_channels", x.shape[1], "channel dimension (dim 1)")
        g = a.num_groups
        if c % g:
            divisors = small_divisors(c, limit=max(64, min(2 * g, 4096)))
            near = min(divisors, key=lambda d: (abs(d - g), d))
            raise LayerError(f"num_channels={c} is not divisible by num_groups={g}",
                             f"use a num_groups that divides {c} (e.g. {near})", arg="num_groups", code="G004")
        if x.shape[0] * c // g * prod(x.shape[2:]) == 1:
            raise LayerError(f"GroupNorm needs more than 1 value per group, got num_groups={g} for an input of "
                             f"shape {list(x.shape)}", "use fewer groups, or a larger input", arg="num_groups")
        per = costs.NORM_INPUT_STATS + _affine_cost(a.affine, a.bias)
        return Out(x.shape, params=_affine_params(a.affine, a.bias, (c,)), flops=per * x.numel)


@register
class RMSNorm(Rule):
    """Root-mean-square normalization over the trailing dimensions given by normalized_shape.

    y = x / sqrt(mean(x^2) + eps) * weight.

    Args: normalized_shape (an int or a list: the trailing dimensions, which
    the input must end with), eps (null, the default: torch.finfo(dtype).eps),
    elementwise_affine (true).
    Input shape: (*, *normalized_shape). Output shape: the same.
    Params: weight (normalized_shape) when elementwise_affine. No bias.
    FLOPs: 3 per element (square and sum 2, multiply by 1/sqrt(mean + eps) 1),
    + 1 with elementwise_affine. Per-row work (the sqrt) is not counted.
    """

    family = "normalization"
    args = (
        Arg("normalized_shape", "ints", min=0, doc="the trailing dimensions to normalize over (an int or a list)"),
        Arg("eps", "float", None, doc="added to the mean square; null: the dtype's machine epsilon"),
        Arg("elementwise_affine", "bool", True, doc="learn a weight of shape normalized_shape"),
    )
    macs = "0"
    flops = "numel(x) * (3 + 1 if elementwise_affine)"

    def forward(self, a, xs):
        x = xs[0]
        shape = _normalized_shape(a, x, "RMSNorm")
        per = costs.RMS_NORM + (costs.RMS_WEIGHT if a.elementwise_affine else 0)
        return Out(x.shape, params={"weight": shape} if a.elementwise_affine else {}, flops=per * x.numel)


@register
class LocalResponseNorm(Rule):
    """Local response normalization across channels (AlexNet).

    y_c = x_c / (k + alpha / size * sum of x^2 over the size channels around c) ** beta,
    the window zero-padded by size // 2 before and (size - 1) // 2 after.

    Args: size (channels in the window), alpha (1e-4), beta (0.75), k (1.0).
    Input shape: (N, C, *), at least 3-D. Output shape: the same.
    No params or buffers.
    FLOPs: (size + 5) per element: square 1, the window average size
    (size - 1 adds and a divide), times alpha 1, plus k 1, pow beta 1,
    divide the input 1.
    """

    family = "normalization"
    args = (
        Arg("size", "int", min=1, doc="number of neighbouring channels in the window"),
        Arg("alpha", "float", 1e-4, doc="multiplicative factor"),
        Arg("beta", "float", 0.75, doc="exponent"),
        Arg("k", "float", 1.0, doc="additive factor"),
    )
    macs = "0"
    flops = "numel(x) * (size + 5)"

    def forward(self, a, xs):
        x = xs[0]
        if x.rank < 3:
            raise LayerError(f"LocalResponseNorm expects an input with at least 3 dimensions (N, C, *), got shape "
                             f"{list(x.shape)}", _RANK_FIX)
        return Out(x.shape, flops=costs.local_response_norm(a.size) * x.numel)
