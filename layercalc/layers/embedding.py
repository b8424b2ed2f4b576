"""Layer rules of the embedding family: ``Embedding`` and ``EmbeddingBag``.

Both take integer indices (``dtype: int64`` or ``int32`` on the input, the two
index dtypes of PyTorch's lookups; any other dtype is refused by the engine with
G007) and return float32
vectors. A lookup is not arithmetic: no MACs, and no FLOPs unless ``max_norm``
renormalizes the rows looked up or a bag reduces its rows.
"""

from __future__ import annotations

from ..errors import LayerError
from .base import Arg, Out, Rule, need_rank, numel
from .registry import register


def _check_padding_idx(a) -> None:
    """torch's range check: -num_embeddings <= padding_idx < num_embeddings."""
    p, n = a.padding_idx, a.num_embeddings
    if p is not None and not -n <= p < n:
        raise LayerError(f"padding_idx={p} is outside the table of num_embeddings={n} rows "
                         f"(expected {-n} to {n - 1})", f"use a padding_idx between {-n} and {n - 1}, or null",
                         arg="padding_idx", code="S006")


def _renorm_flops(a, lookups: int) -> int:
    """max_norm: 3 FLOPs per looked-up element (norm: a multiply and an add each; rescale: a multiply each)."""
    return 3 * lookups * a.embedding_dim if a.max_norm is not None else 0


_COMMON = (
    Arg("num_embeddings", "int", min=1, doc="size of the table (number of rows)"),
    Arg("embedding_dim", "int", min=0, doc="size of each embedding vector"),
    Arg("padding_idx", "int", None, doc="row that gets no gradient (negative counts from the end)"),
    Arg("max_norm", "float", None, min=0, doc="renormalize looked-up rows to this norm"),
    Arg("norm_type", "float", 2.0, doc="p of the p-norm for max_norm"),
    Arg("scale_grad_by_freq", "bool", False, doc="scale gradients by the inverse word frequency (training only)"),
)


@register
class Embedding(Rule):
    """A lookup table: each integer index selects a row of ``weight``.

    Args: num_embeddings, embedding_dim, padding_idx (null; torch's range
    check: -num_embeddings <= padding_idx < num_embeddings), max_norm (null),
    norm_type (2.0), scale_grad_by_freq (false), sparse (false).
    Input: integer indices of any shape (*), including a scalar ().
    Output shape: (*, embedding_dim), float32.
    Params: weight (num_embeddings, embedding_dim).
    MACs: 0 (a lookup).
    FLOPs: 0; with max_norm, 3 * numel(input) * embedding_dim (each looked-up
    row's norm, a multiply and an add per element, and its rescaling, a
    multiply per element, counted as if every row were rescaled).
    """

    family = "embedding"
    input_dtype = "int"
    input_names = ("indices",)
    args = _COMMON + (Arg("sparse", "bool", False, doc="sparse gradient for weight (training only)"),)
    macs = "0"
    flops = "3 * numel(input) * embedding_dim if max_norm else 0"

    def forward(self, a, xs):
        x = xs[0]
        _check_padding_idx(a)
        shape = x.shape + (a.embedding_dim,)
        return Out(shape, dtype="float32", params={"weight": (a.num_embeddings, a.embedding_dim)},
                   flops=_renorm_flops(a, x.numel))


@register
class EmbeddingBag(Rule):
    """Sums, averages or takes the maximum of the embeddings of each bag of indices, without the intermediate tensor.

    Args: num_embeddings, embedding_dim, max_norm (null), norm_type (2.0),
    scale_grad_by_freq (false), mode (sum | mean | max, default mean), sparse
    (false), include_last_offset (false), padding_idx (null).
    Input: integer indices of shape (B, bag): B bags of the same length.
    Only this 2-D form is supported: the 1-D form needs an ``offsets`` tensor
    whose values (not only its shape) decide the bags, and a spec holds shapes.
    ``per_sample_weights`` is not supported either. ``include_last_offset``
    does not change the result for a 2-D input (torch builds the offsets).
    Output shape: (B, embedding_dim), float32.
    Params: weight (num_embeddings, embedding_dim).
    MACs: 0.
    FLOPs: the reduction, per bag and embedding element, counted as
    :mod:`layercalc.costs` counts a reduction over n values (n): sum: bag;
    mean: bag + 1 (the sum and a divide); max: bag. So
    B * embedding_dim * (bag, or bag + 1 for mean), plus 3 * numel(input) *
    embedding_dim with max_norm (as Embedding). Rows skipped because of
    padding_idx depend on the values and are counted as if present.
    """

    family = "embedding"
    input_dtype = "int"
    input_names = ("indices",)
    args = _COMMON[:5] + (
        Arg("scale_grad_by_freq", "bool", False, doc="scale gradients by inverse frequency (not with mode max)"),
        Arg("mode", "str", "mean", choices=("sum", "mean", "max"), doc="how a bag is reduced"),
        Arg("sparse", "bool", False, doc="sparse gradient for weight (not with mode max)"),
        Arg("include_last_offset", "bool", False, doc="offsets has one more element (1-D form only)"),
    )
    macs = "0"
    flops = "B * embedding_dim * (bag + 1 if mode == mean else bag) + (3 * numel(input) * embedding_dim if max_norm)"

    def forward(self, a, xs):
        x = xs[0]
        if x.rank == 1:
            raise LayerError(f"EmbeddingBag takes 2-D indices (B, bag) here, got a 1-D input of shape {list(x.shape)}; "
                             "the 1-D form needs an offsets tensor, whose values decide the bags",
                             "reshape the indices to (bags, indices per bag), with bags of equal length")
        need_rank(x, (2,), "EmbeddingBag", "(B, bag) of integer indices")
        _check_padding_idx(a)
        if a.mode == "max" and (a.scale_grad_by_freq or a.sparse):
            what = "scale_grad_by_freq" if a.scale_grad_by_freq else "sparse"
            raise LayerError(f"mode max does not support {what}=true", f"set {what}: false, or use mode sum or mean",
                             arg=what, code="S006")
        bags, bag = x.shape
        if bag == 0:
            raise LayerError(f"EmbeddingBag got bags of length 0 (input shape {list(x.shape)})",
                             "give each bag at least one index")
        per_bag = bag + 1 if a.mode == "mean" else bag
        flops = bags * a.embedding_dim * per_bag + _renorm_flops(a, numel(x.shape))
        return Out((bags, a.embedding_dim), dtype="float32", params={"weight": (a.num_embeddings, a.embedding_dim)},
                   flops=flops)
