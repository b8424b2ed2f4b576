"""Layer rules of the attention family: ``MultiheadAttention``,
``ScaledDotProductAttention``, ``TransformerEncoderLayer``,
``TransformerDecoderLayer``, and the layercalc extensions
``GroupedQueryAttention`` and ``RotaryEmbedding`` for Llama-style decoders
and ``RelativePositionBias`` for windowed vision attention (Swin, MaxViT).

Counting conventions shared by every type here:

- MACs: the projections (as ``Linear`` counts them) plus both attention
  products, Q·Kᵀ and A·V, over all keys: B * L * S * (E_qk + E_v) for B
  batch-heads, L queries, S keys. A causal mask does not halve them (the
  products are computed, then masked).
- FLOPs: 2 * MACs, plus the projections' bias adds (as ``Linear``), plus per
  score element (B * L * S of them): 1 for the scaling by 1/sqrt(head_dim),
  1 for the mask add when causal, and the softmax over the keys at the
  per-element cost of ``Softmax`` in :mod:`layercalc.costs` (5). Dropout is
  the identity at inference (0).
- Composite layers (the transformer layers, ``GroupedQueryAttention``) apply
  the rules of their sublayers (``Linear``, ``LayerNorm``, ``ReLU``/``GELU``,
  ``RotaryEmbedding``) and the attention arithmetic of this module, so a
  composite counts exactly what the same sublayers written one by one count;
  the residual adds cost 1 per element.
"""

from __future__ import annotations


from .. import costs
from ..errors import LayerError
from .base import Arg, Args, Out, Rule, T, infer, need_min_rank, need_rank, numel
from .registry import REGISTRY, register
from .shapes import broadcast, small_divisors, window_partition


def apply_rule(type_name: str, xs: list[T], **args) -> Out:
    """Apply the registered rule ``type_name`` to ``xs`` with ``args`` (defaults for the others).

    This is how a composite layer counts its sublayers: with the very rule a
    standalone layer of that type uses, so the two can never disagree.
    """
    rule = REGISTRY.get(type_name)
    if rule is None:
        raise LayerError(f"the layer type {type_name}, a part of this layer, is not registered",
                         f"add {type_name} to its family module")
    values = {}
    for arg in rule.args:
        if arg.name in args:
            values[arg.name] = args.pop(arg.name)
        elif arg.required:
            raise TypeError(f"apply_rule: {type_name} needs the argument {arg.name}")
        else:
            values[arg.name] = arg.default
    if args:
        raise TypeError(f"apply_rule: {type_name} has no argument(s) {', '.join(args)}")
    return rule.forward(Args(values, set(values)), xs)


def _divisible(size: int, heads: int, size_name: str, heads_name: str) -> None:
    if size % heads:
        raise LayerError(f"{size_name}={size} is not divisible by {heads_name}={heads}",
                         f"choose a {heads_name} that divides {size} (e.g. "
                         f"{', '.join(map(str, small_divisors(size)))})",
                         arg=heads_name, code="G004")


# --- the attention arithmetic, shared by every type of the family ----------------------------------------


def attention_core(batch: int, queries: int, keys: int, e_qk: int, e_v: int, causal: bool = False) -> tuple[int, int]:
    """(MACs, FLOPs) of softmax(Q Kᵀ * scale [+ mask]) V for ``batch`` independent heads.

    MACs = batch * queries * keys * (e_qk + e_v): Q·Kᵀ and A·V over all keys.
    FLOPs = 2 * MACs + scores * (1 [scale] + 1 [mask add, when causal] +
    Softmax's per-element cost from :mod:`layercalc.costs`), with
    scores = batch * queries * keys.
    """
    scores = batch * queries * keys
    macs = scores * (e_qk + e_v)
    per_score = 1 + (1 if causal else 0) + costs.ELEMENTWISE["Softmax"]
    return macs, 2 * macs + scores * per_score


class _Cost:
    """Params, MACs and FLOPs accumulated over the parts of a layer."""

    def __init__(self):
        self.params: dict = {}
        self.macs = 0
        self.flops = 0

    def add(self, part, prefix: str | None = None):
        """Add an :class:`Out` or another :class:`_Cost`; its params are renamed ``prefix.NAME``."""
        for k, v in part.params.items():
            self.params[f"{prefix}.{k}" if prefix else k] = v
        self.macs += part.macs
        self.flops += part.flops
        return part


def _linear(rows: int, fin: int, fout: int, bias: bool) -> Out:
    """A projection of ``rows`` vectors of size ``fin`` to ``fout``, counted by the Linear rule."""
    return apply_rule("Linear", [T((rows, fin))], out_features=fout, bias=bias)


def mha_cost(embed_dim: int, num_heads: int, batch: int, queries: int, keys: int, kdim: int, vdim: int,
             bias: bool = True, add_bias_kv: bool = False, add_zero_attn: bool = False, need_weights: bool = False,
             average_attn_weights: bool = True, causal: bool = False) -> tuple[_Cost, int]:
    """Params (torch's names), MACs and FLOPs of ``nn.MultiheadAttention``, and the number of keys attended.

    ``batch`` sequences of ``queries`` queries attend to ``keys`` keys. The
    four projections are counted by the Linear rule; torch packs the q, k, v
    weights into ``in_proj_weight`` when kdim = vdim = embed_dim, which changes
    the names, not the counts. Used by MultiheadAttention and the transformer layers.
    """
    e = embed_dim
    cost = _Cost()
    for rows, fin in ((batch * queries, e), (batch * keys, kdim), (batch * keys, vdim)):
        part = _linear(rows, fin, e, bias)
        cost.macs += part.macs
        cost.flops += part.flops
    if kdim == e and vdim == e:
        cost.params["in_proj_weight"] = (3 * e, e)
    else:
        cost.params.update(q_proj_weight=(e, e), k_proj_weight=(e, kdim), v_proj_weight=(e, vdim))
    if bias:
        cost.params["in_proj_bias"] = (3 * e,)
    if add_bias_kv:
        cost.params.update(bias_k=(1, 1, e), bias_v=(1, 1, e))
    attended = keys + int(add_bias_kv) + int(add_zero_attn)
    head_dim = e // num_heads
    macs, flops = attention_core(batch * num_heads, queries, attended, head_dim, head_dim, causal)
    cost.macs += macs
    cost.flops += flops
    if need_weights and average_attn_weights:  # the mean over heads: a sum of num_heads values and a divide
        cost.flops += batch * queries * attended * (num_heads + 1)
    cost.add(_linear(batch * queries, e, e, bias), "out_proj")
    return cost, attended


# --- MultiheadAttention ----------------------------------------------------------------------------------


def _mha_inputs(layer: str, xs: list[T], batch_first: bool):
    """Split q, k, v (one input: self-attention; two: query and key = value) and their sizes."""
    if len(xs) == 1:
        q = k = v = xs[0]
    elif len(xs) == 2:
        q, k = xs
        v = k
    else:
        q, k, v = xs
    need_rank(q, (2, 3), layer, "query (L, E) unbatched, (L, N, E), or (N, L, E) with batch_first")
    if k.rank != q.rank or v.rank != q.rank:
        raise LayerError(f"{layer}: for a {q.rank}-D query, key and value must be {q.rank}-D too, got "
                         f"{k.rank}-D and {v.rank}-D", "give query, key and value the same layout")
    if q.rank == 3:
        (n, lq), (nk, s), (nv, sv) = [(x.shape[0], x.shape[1]) if batch_first else (x.shape[1], x.shape[0])
                                       for x in (q, k, v)]
        if nk != n or nv != n:
            raise LayerError(f"{layer}: query, key and value have batch sizes {n}, {nk}, {nv}",
                             "use the same batch size" + ("" if batch_first else " (dimension 1: batch_first is false)"))
    else:
        n, lq, s, sv = 1, q.shape[0], k.shape[0], v.shape[0]
    if sv != s:
        raise LayerError(f"{layer}: key has {s} positions and value {sv}", "give key and value the same length")
    return q, k, v, n, lq, s


_MHA_ARGS = (
    Arg("embed_dim", "int", None, min=1, infer=True, doc="model size E (inferred from the query's last dimension)"),
    Arg("num_heads", "int", min=1, doc="parallel heads; must divide embed_dim"),
    Arg("dropout", "float", 0.0, min=0, doc="dropout on the attention weights (training only)"),
    Arg("bias", "bool", True, doc="biases of the input and output projections"),
    Arg("add_bias_kv", "bool", False, doc="learned bias_k, bias_v appended to the keys and values"),
    Arg("add_zero_attn", "bool", False, doc="a zero key and value appended"),
    Arg("kdim", "int", None, min=1, infer=True, doc="key features (inferred from the key's last dimension)"),
    Arg("vdim", "int", None, min=1, infer=True, doc="value features (inferred from the value's last dimension)"),
    Arg("batch_first", "bool", False, doc="inputs and output are (N, L, E) instead of (L, N, E)"),
    Arg("need_weights", "bool", True, doc="also return the attention weights (extra output attn_weights)"),
    Arg("average_attn_weights", "bool", True, doc="average the returned weights over the heads"),
    Arg("is_causal", "bool", False, doc="apply a causal mask (torch also needs attn_mask; counted as a mask add)"),
)


@register
class MultiheadAttention(Rule):
    """Multi-head attention as ``torch.nn.MultiheadAttention``: softmax(Q Kᵀ / sqrt(head_dim)) V, projected.

    Inputs: one (self-attention: query = key = value), ``from: [query, key,
    value]``, or ``from: [query, key]`` (value = key).
    Args: embed_dim E (inferred from the query), num_heads (must divide E:
    G004), dropout (0.0), bias (true), add_bias_kv (false), add_zero_attn
    (false), kdim, vdim (inferred from the key and value, must agree when
    given), batch_first (false), need_weights (true), average_attn_weights
    (true), is_causal (false: a causal mask, which torch takes as attn_mask
    with the is_causal hint). need_weights, average_attn_weights and is_causal
    are arguments of torch's forward; here they belong to the layer.
    Input shapes: query (L, N, E), key (S, N, kdim), value (S, N, vdim);
    (N, L, E)... with batch_first; (L, E), (S, kdim), (S, vdim) unbatched.
    Output shape: the query's. S' = S + 1 with add_bias_kv, + 1 with add_zero_attn.
    Extra output attn_weights (when need_weights): (N, L, S') averaged, or
    (N, num_heads, L, S'); unbatched without N.
    Params: in_proj_weight (3E, E) when kdim = vdim = E, otherwise
    q_proj_weight (E, E), k_proj_weight (E, kdim), v_proj_weight (E, vdim);
    in_proj_bias (3E) when bias; bias_k, bias_v (1, 1, E) when add_bias_kv;
    out_proj.weight (E, E), out_proj.bias (E) when bias.
    MACs: N * (L*E*E [q] + S*kdim*E [k] + S*vdim*E [v] + L*E*E [out]) +
    N * num_heads * L * S' * head_dim * 2 [Q·Kᵀ and A·V], i.e. 2 * N * L * S' * E.
    FLOPs: 2 * MACs + bias adds N * (2L + 2S) * E when bias + per score
    element (N * num_heads * L * S'): 1 [scale] + 1 [mask add, when
    is_causal] + Softmax (5); with need_weights
    and average_attn_weights, num_heads + 1 per returned weight (the mean
    over the heads: a sum of num_heads values, as costs.py counts a
    reduction, and a divide).
    """

    family = "attention"
    n_inputs = (1, 3)
    input_names = ("query", "key", "value")
    extra_outputs = ("attn_weights",)
    args = _MHA_ARGS
    macs = "N * (2*L*E*E + S*(kdim + vdim)*E) + 2 * N * L * S' * E"
    flops = ("2 * MACs + N*(2L + 2S)*E if bias + N*heads*L*S' * (1 + 1 if is_causal + softmax) "
             "+ N*L*S'*(heads + 1) if need_weights and average_attn_weights")

    def forward(self, a, xs):
        q, k, v, n, lq, s = _mha_inputs("MultiheadAttention", xs, a.batch_first)
        e = infer(a, "embed_dim", q.shape[-1], "query's last dimension")
        kdim = infer(a, "kdim", k.shape[-1], "key's last dimension")
        vdim = infer(a, "vdim", v.shape[-1], "value's last dimension")
        _divisible(e, a.num_heads, "embed_dim", "num_heads")
        if a.dropout > 1:
            raise LayerError(f"dropout={a.dropout:g} is not a probability", "use a dropout between 0 and 1",
                             arg="dropout", code="S006")
        cost, attended = mha_cost(e, a.num_heads, n, lq, s, kdim, vdim, a.bias, a.add_bias_kv, a.add_zero_attn,
                                  a.need_weights, a.average_attn_weights, a.is_causal)
        extras = {}
        if a.need_weights:
            lead = (n,) if q.rank == 3 else ()
            heads = () if a.average_attn_weights else (a.num_heads,)
            extras["attn_weights"] = lead + heads + (lq, attended)
        return Out(q.shape[:-1] + (e,), extras=extras, params=cost.params, macs=cost.macs, flops=cost.flops)


# --- ScaledDotProductAttention ---------------------------------------------------------------------------


@register
class ScaledDotProductAttention(Rule):
    """``torch.nn.functional.scaled_dot_product_attention`` as a layer: softmax(Q Kᵀ * scale + mask) V.

    Inputs: ``from: [query, key, value]``.
    Args: is_causal (false), scale (null: 1/sqrt(E)), enable_gqa (false),
    dropout_p (0.0, training only). No params.
    Input shapes: query (*, L, E), key (*, S, E), value (*, S, Ev), at least
    2-D each; the leading dimensions broadcast as in torch.matmul. With
    enable_gqa the dimension -3 holds the heads (Hq for the query, Hk and Hv
    dividing Hq for key and value), and each key/value head is repeated
    Hq / Hk (Hq / Hv) times, as torch does.
    Output shape: (*, L, Ev) with * the broadcast leading dimensions.
    MACs: numel(*) * L * S * (E + Ev): Q·Kᵀ and A·V over all keys (causal or not).
    FLOPs: 2 * MACs + numel(*) * L * S * (1 [scale] + 1 [mask add, when
    is_causal] + Softmax per score element).
    """

    family = "attention"
    n_inputs = (3, 3)
    input_names = ("query", "key", "value")
    args = (
        Arg("is_causal", "bool", False, doc="mask future keys (upper-left aligned when L != S)"),
        Arg("scale", "float", None, doc="score scale (null: 1/sqrt(E))"),
        Arg("enable_gqa", "bool", False, doc="repeat key/value heads (dimension -3) to the query's"),
        Arg("dropout_p", "float", 0.0, min=0, doc="dropout on the weights (training only)"),
    )
    macs = "numel(*) * L * S * (E + Ev)"
    flops = "2 * MACs + numel(*) * L * S * (1 + 1 if is_causal + softmax)"

    def forward(self, a, xs):
        q, k, v = xs
        for x, what in ((q, "query (*, L, E)"), (k, "key (*, S, E)"), (v, "value (*, S, Ev)")):
            need_min_rank(x, 2, "ScaledDotProductAttention", what)
        if k.shape[-1] != q.shape[-1]:
            raise LayerError(f"the query has {q.shape[-1]} features per head and the key {k.shape[-1]}",
                             "give query and key the same last dimension E")
        if v.shape[-2] != k.shape[-2]:
            raise LayerError(f"the key has {k.shape[-2]} positions and the value {v.shape[-2]}",
                             "give key and value the same second-to-last dimension S")
        if a.dropout_p > 1:
            raise LayerError(f"dropout_p={a.dropout_p:g} is not a probability", "use a dropout_p between 0 and 1",
                             arg="dropout_p", code="S006")
        lead_q, lead_k, lead_v = q.shape[:-2], k.shape[:-2], v.shape[:-2]
        if a.enable_gqa:
            for x, what in ((q, "query"), (k, "key"), (v, "value")):
                need_min_rank(x, 3, "ScaledDotProductAttention with enable_gqa", f"{what} (*, heads, positions, E)")
            hq = q.shape[-3]
            for x, what in ((k, "key"), (v, "value")):
                if hq % x.shape[-3]:
                    raise LayerError(f"enable_gqa: the {what} has {x.shape[-3]} heads (dimension -3), which does not "
                                     f"divide the query's {hq}", f"use a number of {what} heads that divides {hq}",
                                     arg="enable_gqa", code="G004")
            lead_k, lead_v = lead_k[:-1] + (hq,), lead_v[:-1] + (hq,)
        lead = broadcast([lead_q, lead_k, lead_v])
        lq, s, e, ev = q.shape[-2], k.shape[-2], q.shape[-1], v.shape[-1]
        macs, flops = attention_core(numel(lead), lq, s, e, ev, a.is_causal)
        return Out(lead + (lq, ev), macs=macs, flops=flops)


# --- the transformer layers ------------------------------------------------------------------------------


_TRANSFORMER_ARGS = (
    Arg("d_model", "int", None, min=1, infer=True, doc="model size (inferred from the input's last dimension)"),
    Arg("nhead", "int", min=1, doc="attention heads; must divide d_model"),
    Arg("dim_feedforward", "int", 2048, min=1, doc="hidden size of the feed-forward network"),
    Arg("dropout", "float", 0.1, min=0, doc="dropout (training only)"),
    Arg("activation", "str", "relu", choices=("relu", "gelu"), doc="activation of the feed-forward network"),
    Arg("layer_norm_eps", "float", 1e-5, min=0, doc="eps of the LayerNorms"),
    Arg("batch_first", "bool", False, doc="input and output are (N, T, d) instead of (T, N, d)"),
    Arg("norm_first", "bool", False, doc="pre-norm (LayerNorm before each sublayer) instead of post-norm"),
    Arg("bias", "bool", True, doc="biases of the Linear layers and LayerNorms"),
)
_CAUSAL = "causal mask on the self-attention (an argument of torch's forward; counted as a mask add, no halving)"


def _feedforward_and_norms(cost: _Cost, a, x: T, norms: int) -> None:
    """linear1 -> activation -> linear2, the LayerNorms and the residual adds (one per sublayer)."""
    d = x.shape[-1]
    rows = numel(x.shape[:-1])
    h = cost.add(_linear(rows, d, a.dim_feedforward, a.bias), "linear1")
    cost.add(apply_rule("ReLU" if a.activation == "relu" else "GELU", [T(h.shape)]))
    cost.add(_linear(rows, a.dim_feedforward, d, a.bias), "linear2")
    for i in range(1, norms + 1):
        cost.add(apply_rule("LayerNorm", [x], normalized_shape=(d,), eps=a.layer_norm_eps, bias=a.bias), f"norm{i}")
    cost.flops += norms * x.numel  # the residual adds


def _transformer_common(a) -> None:
    _divisible(a.d_model, a.nhead, "d_model", "nhead")
    if a.dropout > 1:
        raise LayerError(f"dropout={a.dropout:g} is not a probability", "use a dropout between 0 and 1",
                         arg="dropout", code="S006")


@register
class TransformerEncoderLayer(Rule):
    """Self-attention and a feed-forward network, each with a residual add and a LayerNorm (``torch.nn.TransformerEncoderLayer``).

    Args: d_model (inferred), nhead (must divide d_model: G004),
    dim_feedforward (2048), dropout (0.1), activation (relu | gelu),
    layer_norm_eps (1e-5), batch_first (false), norm_first (false), bias
    (true), is_causal (false; torch's forward argument, with src_mask).
    Input shape: (T, N, d_model), (N, T, d_model) with batch_first, or
    (T, d_model) unbatched. Output shape: the same.
    Params: self_attn (a MultiheadAttention(d_model, nhead, bias=bias):
    4*d^2 + 4d with bias), linear1 (d*ff + ff), linear2 (ff*d + d), norm1 and
    norm2 (LayerNorm(d_model): 2d each with bias, d without).
    MACs: MultiheadAttention over T queries and T keys + N*T*d*ff * 2.
    FLOPs: MultiheadAttention (need_weights false, as torch calls it; a mask
    add per score when is_causal) + Linear linear1, linear2 + ReLU/GELU on N*T*ff + 2 LayerNorms on the
    input's shape + 2 * N*T*d residual adds. pre- and post-norm cost the same.
    """

    family = "attention"
    args = _TRANSFORMER_ARGS + (Arg("is_causal", "bool", False, doc=_CAUSAL),)
    macs = "MHA(T, T) + 2 * N*T*d_model*dim_feedforward"
    flops = "MHA(T, T) + Linear x 2 + act(N*T*ff) + LayerNorm x 2 + 2 * N*T*d_model"

    def forward(self, a, xs):
        x = xs[0]
        need_rank(x, (2, 3), "TransformerEncoderLayer", "(T, N, d_model), (N, T, d_model) with batch_first, or "
                  "(T, d_model)")
        d = infer(a, "d_model", x.shape[-1], "last dimension")
        _transformer_common(a)
        _, _, _, n, t, _ = _mha_inputs("TransformerEncoderLayer", [x], a.batch_first)
        cost = _Cost()
        cost.add(mha_cost(d, a.nhead, n, t, t, d, d, a.bias, causal=a.is_causal)[0], "self_attn")
        _feedforward_and_norms(cost, a, x, 2)
        return Out(x.shape, params=cost.params, macs=cost.macs, flops=cost.flops)


@register
class TransformerDecoderLayer(Rule):
    """Self-attention, cross-attention on the memory, and a feed-forward network (``torch.nn.TransformerDecoderLayer``).

    Inputs: ``from: [tgt, memory]``.
    Args: as TransformerEncoderLayer: d_model (inferred from tgt), nhead,
    dim_feedforward (2048), dropout (0.1), activation (relu | gelu),
    layer_norm_eps (1e-5), batch_first (false), norm_first (false), bias
    (true); tgt_is_causal and memory_is_causal (false; torch's forward
    arguments, with tgt_mask and memory_mask).
    Input shapes: tgt (T, N, d_model), memory (S, N, d_model); batch-first or
    unbatched (T, d_model), (S, d_model) likewise. Output shape: tgt's.
    Params: self_attn and multihead_attn (each a MultiheadAttention(d_model,
    nhead, bias=bias)), linear1, linear2, norm1, norm2, norm3.
    MACs: MultiheadAttention(T, T) + MultiheadAttention(T queries, S keys) +
    2 * N*T*d_model*dim_feedforward. No causal halving of the self-attention.
    FLOPs: both attentions (need_weights false; a mask add per score for each
    causal one) + linear1, linear2 + ReLU/GELU
    on N*T*ff + 3 LayerNorms on tgt's shape + 3 * N*T*d residual adds.
    """

    family = "attention"
    n_inputs = (2, 2)
    input_names = ("tgt", "memory")
    args = _TRANSFORMER_ARGS + (Arg("tgt_is_causal", "bool", False, doc=_CAUSAL),
                                Arg("memory_is_causal", "bool", False, doc="causal mask on the cross-attention"))
    macs = "MHA(T, T) + MHA(T, S) + 2 * N*T*d_model*dim_feedforward"
    flops = "MHA(T, T) + MHA(T, S) + Linear x 2 + act(N*T*ff) + LayerNorm x 3 + 3 * N*T*d_model"

    def forward(self, a, xs):
        x, mem = xs
        need_rank(x, (2, 3), "TransformerDecoderLayer", "tgt (T, N, d_model), (N, T, d_model) with batch_first, "
                  "or (T, d_model)")
        d = infer(a, "d_model", x.shape[-1], "tgt's last dimension")
        if mem.shape[-1] != d:
            raise LayerError(f"memory has {mem.shape[-1]} features, tgt {d}", "give memory the size d_model of tgt")
        _transformer_common(a)
        _, _, _, n, t, s = _mha_inputs("TransformerDecoderLayer", [x, mem], a.batch_first)
        cost = _Cost()
        for name, keys, causal in (("self_attn", t, a.tgt_is_causal), ("multihead_attn", s, a.memory_is_causal)):
            cost.add(mha_cost(d, a.nhead, n, t, keys, d, d, a.bias, causal=causal)[0], name)
        _feedforward_and_norms(cost, a, x, 3)
        return Out(x.shape, params=cost.params, macs=cost.macs, flops=cost.flops)


# --- layercalc extensions for Llama-style decoders -------------------------------------------------------


@register
class RotaryEmbedding(Rule):
    """Rotary position embedding (RoPE): rotates pairs of features by a position-dependent angle. A layercalc extension.

    Args: rotary_dim (null: the whole last dimension; otherwise an even number
    of leading features that are rotated, the rest passing through, as in
    GPT-NeoX's partial rotary).
    Input shape: (B, T, D) or (B, T, H, D) (any layout with the features
    last); D, or rotary_dim, even. Output shape: the same.
    Params and buffers: none (the cos/sin tables are constants; torch.nn has
    no rotary module, and implementations differ in whether they keep them).
    MACs: 0 (element-wise).
    FLOPs: 3 per rotated element, x * cos + rotate_half(x) * sin: 2 multiplies
    and 1 add (the sign of rotate_half is folded into the sin table), i.e.
    3 * numel(x) / D * rotary_dim.
    """

    family = "attention"
    args = (Arg("rotary_dim", "int", None, min=2, doc="features rotated (null: all)"),)
    macs = "0"
    flops = "3 * numel(x) / D * rotary_dim"

    def forward(self, a, xs):
        x = xs[0]
        need_rank(x, (3, 4), "RotaryEmbedding", "(B, T, D) or (B, T, H, D)")
        d = x.shape[-1]
        rot = d if a.rotary_dim is None else a.rotary_dim
        if a.rotary_dim is None and d % 2:
            raise LayerError(f"the feature size (last dimension) is {d}, an odd number; rotary embedding rotates "
                             "pairs of features", "make the last dimension even, or rotate part of it with an even "
                             "rotary_dim", code="G003")
        if rot > d or rot % 2:
            raise LayerError(f"rotary_dim={rot} must be even and at most the feature size {d}",
                             f"use an even rotary_dim no larger than {d}", arg="rotary_dim", code="S006")
        return Out(x.shape, flops=3 * numel(x.shape[:-1]) * rot)


@register
class GroupedQueryAttention(Rule):
    """Causal self-attention as in Llama: q/k/v/o projections, num_kv_heads shared key/value heads. A layercalc extension.

    q = x W_q (num_heads * head_dim), k = x W_k and v = x W_v (num_kv_heads *
    head_dim each), optional rotary embedding of q and k, each key/value head
    serving num_heads / num_kv_heads query heads, softmax(q kᵀ / sqrt(head_dim)
    [+ causal mask]) v, then o = attn W_o back to embed_dim.
    num_kv_heads = num_heads is multi-head attention (Llama-2-7B), 1 is
    multi-query attention.
    Args: embed_dim (inferred), num_heads, num_kv_heads (null: num_heads; must
    divide num_heads: G004), head_dim (null: embed_dim // num_heads, which must
    then divide: G004), bias (false; on all four projections), is_causal
    (false), rotary (false: apply RotaryEmbedding to q and k, counted as that
    rule counts it).
    Input shape: (B, T, embed_dim) or (T, embed_dim). Output shape: the same.
    Params: q_proj.weight (num_heads*head_dim, E), k_proj.weight and
    v_proj.weight (num_kv_heads*head_dim, E), o_proj.weight (E,
    num_heads*head_dim), and their biases when bias (HuggingFace's names).
    MACs: B*T*E*head_dim*(2*num_heads + 2*num_kv_heads) [projections] +
    2 * B*num_heads*T*T*head_dim [Q·Kᵀ and A·V, all keys even when causal].
    FLOPs: 2 * MACs + the projections' bias adds when bias + RotaryEmbedding on
    q and k when rotary + per score element (B*num_heads*T*T): 1 [scale] +
    1 [mask add, when is_causal] + Softmax.
    """

    family = "attention"
    args = (
        Arg("embed_dim", "int", None, min=1, infer=True, doc="model size E (inferred from the last dimension)"),
        Arg("num_heads", "int", min=1, doc="query heads"),
        Arg("num_kv_heads", "int", None, min=1, doc="key/value heads (null: num_heads)"),
        Arg("head_dim", "int", None, min=1, doc="features per head (null: embed_dim // num_heads)"),
        Arg("bias", "bool", False, doc="biases of the q, k, v and o projections"),
        Arg("is_causal", "bool", False, doc="causal mask (counted as a mask add; no halving)"),
        Arg("rotary", "bool", False, doc="rotary embedding of q and k"),
    )
    macs = "B*T*E*head_dim*2*(heads + kv_heads) + 2*B*heads*T*T*head_dim"
    flops = "2 * MACs + bias adds + rotary(q, k) + B*heads*T*T * (1 + 1 if is_causal + softmax)"

    def forward(self, a, xs):
        x = xs[0]
        need_rank(x, (2, 3), "GroupedQueryAttention", "(B, T, embed_dim) or (T, embed_dim)")
        e = infer(a, "embed_dim", x.shape[-1], "last dimension")
        heads = a.num_heads
        kv = heads if a.num_kv_heads is None else a.num_kv_heads
        _divisible(heads, kv, "num_heads", "num_kv_heads")
        if a.head_dim is None:
            _divisible(e, heads, "embed_dim", "num_heads")
        hd = a.head_dim or e // heads
        if a.rotary and hd % 2:
            raise LayerError(f"rotary embedding rotates pairs of features, and head_dim={hd} is odd",
                             "use an even head_dim, or rotary: false", arg="rotary", code="S006")
        b, t = (x.shape[0], x.shape[1]) if x.rank == 3 else (1, x.shape[0])
        rows = b * t
        cost = _Cost()
        cost.add(_linear(rows, e, heads * hd, a.bias), "q_proj")
        cost.add(_linear(rows, e, kv * hd, a.bias), "k_proj")
        cost.add(_linear(rows, e, kv * hd, a.bias), "v_proj")
        if a.rotary:
            cost.add(apply_rule("RotaryEmbedding", [T((b, t, heads, hd))]))
            cost.add(apply_rule("RotaryEmbedding", [T((b, t, kv, hd))]))
        macs, flops = attention_core(b * heads, t, t, hd, hd, a.is_causal)
        cost.macs += macs
        cost.flops += flops
        cost.add(_linear(rows, heads * hd, e, a.bias), "o_proj")
        return Out(x.shape, params=cost.params, macs=cost.macs, flops=cost.flops)


# --- layercalc extensions for windowed vision attention ---------------------------------------------------


def relative_position_sizes(window: tuple[int, int]) -> tuple[int, int]:
    """(rows of the bias table, N) for a Wh x Ww window: (2Wh - 1)(2Ww - 1) relative offsets, N = Wh * Ww."""
    wh, ww = window
    return (2 * wh - 1) * (2 * ww - 1), wh * ww


@register
class RelativePositionBias(Rule):
    """A learned relative position bias for attention inside a Wh x Ww window (Swin, MaxViT). A layercalc extension.

    A table holds one learned value per head for each of the (2Wh - 1)(2Ww - 1)
    relative offsets between two positions of a window; an index buffer gives,
    for every pair (i, j) of the N = Wh * Ww positions, the row of their
    offset, (hi - hj + Wh - 1) * (2Ww - 1) + (wi - wj + Ww - 1). The layer
    gathers the table by the index: bias[0, h, i, j] = table[index[i, j], h],
    as torchvision's Swin (``_get_relative_position_bias``) and MaxViT
    (``get_relative_positional_bias``) compute it, to be added to the
    attention scores.
    It takes no input and ignores ``from``, as ``Parameter`` does.
    Args: window_size (Wh, Ww; one int for a square window), num_heads.
    Output shape: (1, num_heads, N, N), float32.
    Params: relative_position_bias_table ((2Wh - 1)(2Ww - 1), num_heads).
    Buffers: relative_position_index (N * N,), int64 (MaxViT registers it as
    (N, N): the same N * N elements).
    MACs: 0 (a gather). FLOPs: 0.
    Example: window_size 7, num_heads 3 (swin_t's first stage): 13 * 13 * 3 =
    507 params, 49 * 49 = 2,401 buffer elements, output (1, 3, 49, 49).
    """

    family = "attention"
    n_inputs = (0, 0)
    input_names = ()
    args = (
        Arg("window_size", "ints", n=2, min=1, doc="window height and width (one int: a square window)"),
        Arg("num_heads", "int", min=1, doc="heads: one column of the table each"),
    )
    macs = "0"
    flops = "0"

    def forward(self, a, xs):
        window = tuple(a.window_size)
        if len(window) != 2:
            raise LayerError(f"window_size has {len(window)} values; a window has a height and a width",
                             "write window_size as one int or as [height, width]", arg="window_size", code="S006")
        rows, n = relative_position_sizes(window)
        return Out((1, a.num_heads, n, n), dtype="float32",
                   params={"relative_position_bias_table": (rows, a.num_heads)},
                   buffers={"relative_position_index": (n * n,)})


def _window_attention_args(v2: bool) -> tuple:
    return (
        Arg("dim", "int", None, min=1, infer=True, doc="channels C (inferred from the input's last dimension)"),
        Arg("window_size", "ints", n=2, min=1, doc="window height and width (one int: a square window)"),
        Arg("shift_size", "ints", n=2, min=0, doc="cyclic shift of the windows along H and W (0: none)"),
        Arg("num_heads", "int", min=1, doc="heads; must divide dim"),
        Arg("qkv_bias", "bool", True, doc="bias of the q, k, v projection" + (" (its k third is zeroed in forward)"
                                                                            if v2 else "")),
        Arg("proj_bias", "bool", True, doc="bias of the output projection"),
        Arg("attention_dropout", "float", 0.0, min=0, doc="dropout on the attention weights (training only)"),
        Arg("dropout", "float", 0.0, min=0, doc="dropout on the output (training only)"),
    )


#: the hidden size of Swin v2's continuous position bias MLP (torchvision's ShiftedWindowAttentionV2)
CPB_HIDDEN = 512


def window_attention(layer: str, a, xs, v2: bool) -> Out:
    """The rule of ShiftedWindowAttention (v1) and ShiftedWindowAttentionV2: see their docstrings."""
    x = xs[0]
    need_rank(x, (4,), layer, "(B, H, W, C)")
    b, h, w, c = x.shape
    c = infer(a, "dim", c, "last dimension")
    _divisible(c, a.num_heads, "dim", "num_heads")
    for name in ("window_size", "shift_size"):
        if len(tuple(getattr(a, name))) != 2:
            raise LayerError(f"{name} has {len(tuple(getattr(a, name)))} values; it takes one per axis, H and W",
                             f"write {name} as one int or as [height, width]", arg=name, code="S006")
    for name in ("attention_dropout", "dropout"):
        if getattr(a, name) > 1:
            raise LayerError(f"{name}={getattr(a, name):g} is not a probability", f"use a {name} between 0 and 1",
                             arg=name, code="S006")
    (wh, ww), heads = tuple(a.window_size), a.num_heads
    windows, n, shifted = window_partition(b, h, w, a.window_size, a.shift_size)
    rows = windows * n
    cost = _Cost()
    cost.add(_linear(rows, c, 3 * c, a.qkv_bias), "qkv")
    macs, _ = attention_core(windows * heads, n, n, c // heads, c // heads)
    scores = windows * heads * n * n
    cost.macs += macs
    cost.flops += 2 * macs + scores * (1 + (1 if shifted else 0) + costs.ELEMENTWISE["Softmax"])  # bias, mask
    bias = apply_rule("RelativePositionBias", [], window_size=(wh, ww), num_heads=heads)
    buffers = dict(bias.buffers)
    if v2:
        cost.flops += 2 * rows * c * 3 + scores  # normalize q and k (square, sum, divide); times the logit scale
        table_rows, _ = relative_position_sizes((wh, ww))
        cost.params["logit_scale"] = (heads, 1, 1)
        hidden = cost.add(_linear(table_rows, 2, CPB_HIDDEN, True), "cpb_mlp.0")
        cost.add(apply_rule("ReLU", [T(hidden.shape)]))
        cost.add(_linear(table_rows, CPB_HIDDEN, heads, False), "cpb_mlp.2")
        cost.add(apply_rule("Sigmoid", [T(bias.shape)]))
        cost.flops += numel(bias.shape)  # 16 * sigmoid(bias)
        buffers["relative_coords_table"] = (1, 2 * wh - 1, 2 * ww - 1, 2)
    else:
        cost.add(bias)
        cost.flops += rows * c  # q * head_dim ** -0.5
    cost.add(_linear(rows, c, c, a.proj_bias), "proj")
    return Out(x.shape, params=cost.params, buffers=buffers, macs=cost.macs, flops=cost.flops)


@register
class ShiftedWindowAttention(Rule):
    """Swin's (shifted) window attention, as torchvision's ``ShiftedWindowAttention``. A layercalc extension.

    The (B, H, W, C) input is padded with zeros at the bottom and right to
    whole Wh x Ww windows (Hp x Wp), rolled by -shift_size along H and W, and
    cut into T = B * (Hp / Wh) * (Wp / Ww) windows of N = Wh * Ww tokens; in
    each window, multi-head self-attention with a RelativePositionBias added
    to the scores (and, when shifted, a mask of -100 between tokens that come
    from different regions of the rolled map), then the projection; the
    windows are put back, rolled back and cropped to H x W. As torchvision
    does, an axis whose window covers the padded size is not shifted.
    Args: dim C (inferred), window_size (Wh, Ww), shift_size (sh, sw), num_heads
    (must divide C: G004), qkv_bias (true), proj_bias (true),
    attention_dropout (0.0), dropout (0.0).
    Input shape: (B, H, W, C). Output shape: the same.
    Params: qkv.weight (3C, C), qkv.bias (3C) when qkv_bias, proj.weight (C,
    C), proj.bias (C) when proj_bias, relative_position_bias_table ((2Wh -
    1)(2Ww - 1), num_heads). Buffers: relative_position_index (N * N).
    MACs: T*N*C*3C [qkv] + 2 * T*N*N*C [Q·Kᵀ and A·V, per head N*N*C/heads]
    + T*N*C*C [proj]: padded tokens are computed, the mask halves nothing.
    FLOPs: 2 * MACs + the projections' bias adds (T*N*3C, T*N*C) + T*N*C
    [q times head_dim^-0.5] + per score element (T*heads*N*N): 1 [bias add] +
    1 [mask add, when shifted] + Softmax (5). Padding, rolls and the gather
    cost nothing.
    Example: swin_t's first block, (1, 56, 56, 96), window 7, 3 heads: T = 64,
    N = 49; MACs 64*49*96*288 + 2*64*49*49*96 + 64*49*96*96 = 145,108,992.
    """

    family = "attention"
    args = _window_attention_args(False)
    macs = "T*N*C*3C + 2*T*N*N*C + T*N*C*C"
    flops = "2 * MACs + bias adds + T*N*C + T*heads*N*N * (1 + 1 if shifted + softmax)"

    def forward(self, a, xs):
        return window_attention("ShiftedWindowAttention", a, xs, v2=False)


@register
class ShiftedWindowAttentionV2(Rule):
    """Swin v2's (shifted) window attention, as torchvision's ``ShiftedWindowAttentionV2``. A layercalc extension.

    As ShiftedWindowAttention (padding, shift, windows, mask), with scaled
    cosine attention: scores = normalize(q) · normalize(k) * exp(min(logit_scale,
    log 100)) per head, and a continuous position bias: an MLP (cpb_mlp:
    Linear(2, 512), ReLU, Linear(512, num_heads, no bias)) maps the
    relative_coords_table buffer, the log-spaced coordinates of the
    (2Wh - 1)(2Ww - 1) offsets, to a table that relative_position_index
    gathers into (1, heads, N, N), and 16 * sigmoid of it is added. The k third
    of the qkv bias is zeroed in forward (it still counts as parameters).
    Args: as ShiftedWindowAttention: dim C (inferred), window_size,
    shift_size, num_heads (must divide C: G004), qkv_bias (true), proj_bias
    (true), attention_dropout (0.0), dropout (0.0).
    Input shape: (B, H, W, C). Output shape: the same.
    Params: qkv.weight (3C, C), qkv.bias (3C) when qkv_bias, proj.weight (C,
    C), proj.bias (C) when proj_bias, logit_scale (num_heads, 1, 1),
    cpb_mlp.0.weight (512, 2), cpb_mlp.0.bias (512), cpb_mlp.2.weight
    (num_heads, 512). Buffers: relative_coords_table (1, 2Wh - 1, 2Ww - 1, 2),
    relative_position_index (N * N).
    MACs: ShiftedWindowAttention's + M*2*512 + M*512*num_heads [cpb_mlp on
    the M = (2Wh - 1)(2Ww - 1) offsets, once per call].
    FLOPs: 2 * MACs + bias adds (qkv, proj, M*512 of cpb_mlp.0) + ReLU
    (M*512) + 5 per bias element (heads*N*N: Sigmoid 4, times 16) + 3 per
    element of q and k (normalize: square and sum 2, divide 1; the norm's
    square root is once per row) + per score element: 1 [logit scale] + 1 [bias
    add] + 1 [mask add, when shifted] + Softmax (5).
    Example: swin_v2_t's first block, (1, 64, 64, 96), window 8, 3 heads: T =
    64, N = 64, M = 225; MACs 64*64*96*288 + 2*64*64*64*96 + 64*64*96*96 +
    225*2*512 + 225*512*3 = 201,902,592.
    """

    family = "attention"
    args = _window_attention_args(True)
    macs = "T*N*C*3C + 2*T*N*N*C + T*N*C*C + M*512*(2 + heads)"
    flops = ("2 * MACs + bias adds + 6*T*N*C + M*512 + 5*heads*N*N "
             "+ T*heads*N*N * (1 + 1 + 1 if shifted + softmax)")

    def forward(self, a, xs):
        return window_attention("ShiftedWindowAttentionV2", a, xs, v2=True)
