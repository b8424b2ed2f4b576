"""The rotary position tables of HuggingFace-style decoders: ``RotaryTables``, a layercalc extension
of the attention family.

Llama, Mistral, Qwen2 and most decoders since compute the cos and sin tables of rotary position
embedding once per forward pass, in a module of the base model (``model.rotary_emb``), and hand
them to every layer, which rotates q and k with them (``q * cos + rotate_half(q) * sin``: ``Mul``,
``Slice``, ``Neg``, ``Concat``, ``Add``). ``RotaryEmbedding`` (:mod:`.attention`) is the
self-contained form, tables included in each call; this type is the shared one, with the buffers
and the product that torch counts.
"""

from __future__ import annotations

from ..errors import LayerError
from .base import REQUIRED, Arg, Out, Rule, need_rank
from .registry import register


@register
class RotaryTables(Rule):
    """The cos and sin tables of rotary position embedding, from position ids, computed once for every layer. A layercalc extension.

    inv_freq[j] = base^(-2j / dim) for j < dim/2; the angles
    pos[b, t] * inv_freq[j], each twice (cat(freqs, freqs)); cos = cos(angles)
    * scaling and sin = sin(angles) * scaling, as HuggingFace's LlamaRotaryEmbedding
    (and Mistral's, Qwen2's...) computes them.
    Args: dim (required, even: the features of a row, head_dim times the
    rotated fraction), base (10000.0), scaling (1.0: the attention_scaling the
    tables are multiplied by), original (true: a second buffer original_inv_freq,
    a copy of inv_freq, as transformers 5 keeps for dynamic rope types).
    Input: position ids (B, T), integer. Output: cos (B, T, dim), float32;
    extra output sin, the same shape.
    Params: none. Buffers: inv_freq (dim/2,), and original_inv_freq (dim/2,)
    when original.
    MACs: 0: the angles are an outer product computed element-wise
    (positions[:, :, None] * inv_freq, as transformers 5 does), not a matrix
    product.
    FLOPs: B*T*dim/2 for the angles (a multiply each), plus per element of
    each table (2 * B*T*dim elements) the cos or sin 1 and the scaling 1:
    B*T*dim/2 + 4 * B*T*dim.
    """

    family = "attention"
    input_dtype = "int"
    input_names = ("position_ids",)
    extra_outputs = ("sin",)
    args = (Arg("dim", "int", REQUIRED, min=2, doc="features of a table row (even)"),
            Arg("base", "float", 10000.0, min=0, doc="base of the angles' frequencies (not counted)"),
            Arg("scaling", "float", 1.0, doc="attention_scaling the tables are multiplied by"),
            Arg("original", "bool", True, doc="keep original_inv_freq as a second buffer"))
    macs = "0"
    flops = "B*T*dim/2 + 4 * B*T*dim"

    def forward(self, a, xs):
        x = xs[0]
        need_rank(x, (2,), "RotaryTables", "(B, T) position ids")
        if a.dim % 2:
            raise LayerError(f"dim={a.dim} is odd; the tables hold each of dim/2 frequencies twice",
                             "use an even dim (the head size)", arg="dim", code="S006")
        b, t = x.shape
        half = a.dim // 2
        buffers = {"inv_freq": (half,)}
        if a.original:
            buffers["original_inv_freq"] = (half,)
        return Out((b, t, a.dim), dtype="float32", extras={"sin": (b, t, a.dim)}, buffers=buffers,
                   flops=b * t * half + 4 * b * t * a.dim)
