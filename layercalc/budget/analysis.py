"""Memory of a spec for inference and training: weights, buffers, gradients, optimizer state, saved
activations, live activations and the KV cache, per layer and in total.

Plain integer arithmetic over the report's shapes and arguments; the conventions are in
``saved.py`` (what autograd keeps, per type) and ``tables.py`` (bytes per precision, optimizer state),
and documented in docs/memory.md.
"""

from __future__ import annotations

from math import prod

from ..dtypes import FLOAT_DTYPES
from ..layers.attention import CPB_HIDDEN, relative_position_sizes
from ..layers.registry import takes_no_input
from ..layers.shapes import window_partition
from ..spec.model import DTYPE_BYTES
from .flow import weights_trainable
from .layout import IDENTITY_AT_INFERENCE, contiguous, linear_copy, output_layout
from .liveness import held_until
from .saved import LOWERED, SAVED, VIEWS, autocast_copies, autocast_dtype
from .tables import INT_BUFFERS, OPTIMIZERS, PRECISIONS, optimizer_bytes, step_temporaries

DEVICES = ("cuda", "cpu")
#: Types whose output keeps the dtype of an integer input (the others make floating-point values).
PASS_DTYPE = VIEWS | {"Concat", "Add", "Sub", "Mul", "Neg", "Abs"}
ATTENTION = ("math", "flash")

#: The byte counts of a row and of the totals, in the order of the JSON report.
FIELDS = ("weight_bytes", "buffer_bytes", "gradient_bytes", "optimizer_bytes", "saved_activation_bytes",
          "output_bytes", "inference_peak_bytes", "training_peak_bytes", "kv_cache_bytes")
#: Fields whose total is the sum of the rows (the others are maxima over the run, or, for the rows,
#: the memory in use while that layer runs).
ADDITIVE = ("weight_bytes", "buffer_bytes", "gradient_bytes", "optimizer_bytes", "saved_activation_bytes",
            "kv_cache_bytes", "master_weight_bytes")


class Ctx:
    """What a SAVED rule sees of one layer (see saved.py)."""

    __slots__ = ("type", "args", "shapes", "numels", "in_storage", "out_shape", "out_numel", "out_bytes", "req", "w",
                 "act", "stat", "mask", "sdpa", "flash", "rank_no_batch", "cpu", "srcs", "autocast", "in_elems")

    def shape(self, i):
        return self.shapes[i]

    def numel(self, i):
        return self.numels[i]

    def in_bytes(self, i):
        return self.in_storage[i]


def _rank_no_batch(t: str) -> int:
    """The rank of an unbatched input of a 1d/2d/3d layer (Dropout2d: (C, H, W) is 3)."""
    for n in (1, 2, 3):
        if t.endswith(f"{n}d"):
            return n + 1
    return 0


def _causal_kv(row) -> int:
    """Elements of the KV cache of one causal self-attention layer (2 x B x T x kv_heads x head_dim)."""
    a = row.args
    t = row.type
    s = row.input_shapes[0] if row.input_shapes else []
    if t == "GroupedQueryAttention" and a.get("is_causal"):
        heads = a["num_heads"]
        kv = a["num_kv_heads"] or heads
        hd = a["head_dim"] or a["embed_dim"] // heads
        b, tt = (s[0], s[1]) if len(s) == 3 else (1, s[0])
        return 2 * b * tt * kv * hd
    if t == "MultiheadAttention" and a.get("is_causal") and len(row.input_shapes) == 1:
        b, tt = ((s[0], s[1]) if a["batch_first"] else (s[1], s[0])) if len(s) == 3 else (1, s[0])
        return 2 * b * tt * a["embed_dim"]
    if t in ("TransformerEncoderLayer",) and a.get("is_causal"):
        b, tt = ((s[0], s[1]) if a["batch_first"] else (s[1], s[0])) if len(s) == 3 else (1, s[0])
        return 2 * b * tt * a["d_model"]
    if t == "TransformerDecoderLayer" and a.get("tgt_is_causal"):
        b, tt = ((s[0], s[1]) if a["batch_first"] else (s[1], s[0])) if len(s) == 3 else (1, s[0])
        return 2 * b * tt * a["d_model"]
    return 0


def _transient(row, act: int, flash: bool) -> int:
    """Bytes a layer holds inside itself while it runs at inference, beyond its inputs and output:
    the attention kernels' projections and scores."""
    t, a, s = row.type, row.args, row.input_shapes[0] if row.input_shapes else []
    if t in ("MultiheadAttention", "TransformerEncoderLayer", "TransformerDecoderLayer", "GroupedQueryAttention"):
        if t == "GroupedQueryAttention":
            heads = a["num_heads"]
            kv = a["num_kv_heads"] or heads
            hd = a["head_dim"] or a["embed_dim"] // heads
            b, tt = (s[0], s[1]) if len(s) == 3 else (1, s[0])
            qkv = b * tt * hd * (heads + 2 * kv + 2 * heads * (kv != heads))
        else:
            e = a.get("embed_dim") or a.get("d_model")
            heads = a.get("num_heads") or a.get("nhead")
            first = a.get("batch_first")
            b, tt = ((s[0], s[1]) if first else (s[1], s[0])) if len(s) == 3 else (1, s[0])
            qkv = 3 * b * tt * e
            if t != "MultiheadAttention":
                qkv += b * tt * max(a.get("dim_feedforward", 0), e)
        scores = b * heads * tt * (4 if flash else 2 * tt)
        return (qkv + b * tt * (a.get("embed_dim") or a.get("d_model") or heads * hd)) * act + scores * act
    if t == "ScaledDotProductAttention":
        q, k = row.input_shapes[0], row.input_shapes[1]
        return (prod(q[:-1]) * 4 if flash else 2 * prod(q[:-1]) * k[-2] * act)
    if t in ("ShiftedWindowAttention", "ShiftedWindowAttentionV2"):
        return max(0, _window_inner(row, act) - prod(row.output_shape) * act)
    return 0


def _window_inner(row, act: int) -> int:
    """Swin's window attention at inference, beyond its input, in bytes, as torchvision's
    ``shifted_window_attention`` runs it, phase by phase: R x C = one padded map (rows R = T x N), S the
    scores (T x heads x N x N). The position bias (heads x N x N, made first: a gather and a copy) lives
    to the end; so do the windowed copy of the input (R x C), the qkv output (3 R x C) and, once made,
    the mask of a shifted layer (T / B x N x N, made from the scores' dtype: a difference, two
    ``masked_fill`` copies and a bool mask alive at once).

    The products fold (T, heads) into one batch dimension: q (v1 scaled, v2 normalized) needs a copy when
    T, heads and N all exceed 1, kᵀ and v (v1) and v (v2) when T and heads do; the heads are merged after
    the second product by a copy when heads and N exceed 1.

    - v1: q scaled (R x C) lives to the end; the first product; adding the bias, the mask and softmax each
      make new scores (2 S); the second product's copy of v and output; the merge's copy.
    - v2: first the position-bias MLP's hidden and output (M x (512 + heads), M = (2Wh - 1)(2Ww - 1)),
      then the gather of its output; the k third of the qkv bias zeroed in a copy (3C); normalize(q) and
      normalize(k) beside the first product; exp(logit_scale) (heads); then as v1 without q scaled.
    """
    a = row.args
    b, h, w, c = row.input_shapes[0]
    heads = a["num_heads"]
    windows, n, shifted = window_partition(b, h, w, a["window_size"], a["shift_size"])
    rc, scores = windows * n * c * act, windows * heads * n * n * act
    bias = heads * n * n * act
    mask = windows // b * n * n * act if shifted else 0
    making = 3 * mask + mask // act  # the mask as it is made
    copy_q = windows > 1 and heads > 1 and n > 1
    copy_kv = windows > 1 and heads > 1
    merge = heads > 1 and n > 1
    if row.type == "ShiftedWindowAttention":
        kept, first, later, start = 5 * rc, rc * (copy_kv + copy_q), 0, 2 * bias  # q scaled is kept
    else:
        m, _ = relative_position_sizes(a["window_size"])
        kept = 4 * rc + (3 * c * act if a["qkv_bias"] else 0)  # and the qkv bias's copy
        first = rc * (2 + 2 * copy_q)  # normalize(q), normalize(k) and their copies
        later = heads * act  # exp(logit_scale)
        start = max(m * (CPB_HIDDEN + heads) * act, m * heads * act + 2 * bias)
    return max(start, bias + kept + max(first + scores, later + max(2 * scores + mask, scores + making,
                                                                    scores + mask + rc * (1 + max(copy_kv, merge)))))


def _batch_time(s, batch_first=True) -> tuple:
    """(B, T) of an attention layer's (B, T, E) or (T, B, E) input; (1, T) unbatched."""
    if len(s) != 3:
        return 1, s[0]
    return (s[0], s[1]) if batch_first else (s[1], s[0])


def _sdpa_inner(q: int, k: int, out: int, scores: int, mask: int) -> int:
    """The math attention kernel's own peak beyond q, k and v, in bytes (``at::_scaled_dot_product_attention_math``):
    q scaled (kept to the end), the causal mask as a float T x S tensor (kept to the end), k scaled until
    q k^T is made, the scores; masking makes a new scores tensor, softmax a new one (each frees its input
    once made), then the output beside the probabilities."""
    return q + mask + max(k + scores, 2 * scores, scores + out)


def _mha_inner(e: int, scores: int, mask: int, packed: bool) -> int:
    """nn.MultiheadAttention without its fast path (F.multi_head_attention_forward), beyond its input, in
    bytes; ``e`` is one B x T x E activation. Self-attention projects q, k and v in one product and
    copies it to a contiguous (3, T, B, E) buffer (both alive: 6e); the buffer holds q, k and v to the
    end; beside it the kernel's peak, then the heads merged by a copy and the output projection (5e)."""
    return max(6 * e if packed else 3 * e, 3 * e + _sdpa_inner(e, e, e, scores, mask), 5 * e)


def _inner_peak(row, act: int, flash: bool) -> int:
    """Bytes a layer holds at its own peak at inference, beyond its inputs, as torch eager runs it (no
    fast path, the math attention kernel); at least its output. The attention layers make their
    projections and T x T scores inside (docs/memory.md, "Peaks"), LayerNorm its mean and rstd; every
    other layer only its output (a view makes nothing, and a Linear's copy of its input is layout.py's)."""
    t, a = row.type, row.args
    s = row.input_shapes[0] if row.input_shapes else []
    out = prod(row.output_shape) * act
    if t in IDENTITY_AT_INFERENCE:
        return 0  # the input itself
    if t == "LayerNorm":  # native_layer_norm returns the mean and rstd per row beside the output
        return out + 2 * prod(s) // prod(a["normalized_shape"]) * act
    if t in ("RNN", "LSTM", "GRU"):
        # ATen's composite implementation (meta, and the CPU without a fused kernel): each layer and direction
        # keeps its per-step outputs until it stacks them, both directions are concatenated, and the next
        # layer reads the previous one's output; h0 (and c0) are zeros made inside when not given
        k = 3 if a.get("bidirectional") else 2
        previous = out if a.get("num_layers", 1) > 1 else 0
        zeros = sum(prod(shape) for shape in row.extra_outputs.values()) * act if len(row.input_shapes) == 1 else 0
        return previous + k * out + zeros
    if flash or t not in ("MultiheadAttention", "TransformerEncoderLayer", "ScaledDotProductAttention",
                          "GroupedQueryAttention"):
        return out + _transient(row, act, flash)
    if t == "GroupedQueryAttention":
        # Llama's attention: q, k, v projected (and rotated), k and v repeated to the query heads by
        # ``repeat_interleave`` (a copy even for one group: q, k, v and both copies alive as it returns);
        # q and the copies held to the end beside the kernel's peak, then the heads merged by a copy and
        # the output projection
        heads = a["num_heads"]
        kv = a["num_kv_heads"] or heads
        hd = a["head_dim"] or a["embed_dim"] // heads
        b, tt = _batch_time(s)
        eq, ekv = b * tt * heads * hd * act, b * tt * kv * hd * act
        scores = b * heads * tt * tt * act
        mask = tt * tt * act if a.get("is_causal") else 0
        return max(3 * eq + 2 * ekv, 3 * eq + _sdpa_inner(eq, eq, eq, scores, mask), 5 * eq + out)
    if t == "ScaledDotProductAttention":
        q, k = row.input_shapes[0], row.input_shapes[1]
        scores = prod(q[:-1]) * k[-2] * act
        mask = q[-2] * k[-2] * act if a.get("is_causal") else 0
        return _sdpa_inner(prod(q) * act, prod(k) * act, out, scores, mask)
    if t == "MultiheadAttention":
        b, tt = _batch_time(s, a["batch_first"])
        e = b * tt * a["embed_dim"] * act
        causal = a.get("is_causal")
        scores = b * a["num_heads"] * tt * tt * act
        # causal: torch takes the T x T mask as an argument (a bool tensor, made by the caller), converts it
        # to a float one (``_canonical_mask``), and the kernel makes its own from ``is_causal``
        masks = tt * tt * (1 + act) if causal else 0
        return masks + _mha_inner(e, scores, tt * tt * act if causal else 0, len(row.input_shapes) == 1)
    # TransformerEncoderLayer: self-attention, then the feed-forward block (linear1's output and the
    # activation's, both alive while the activation runs); post-norm keeps norm1's output through the
    # feed-forward, pre-norm the residual sum and norm2's output
    b, tt = _batch_time(s, a["batch_first"])
    e = b * tt * a["d_model"] * act
    f = b * tt * a["dim_feedforward"] * act
    scores = b * a["nhead"] * tt * tt * act
    attention = _mha_inner(e, scores, tt * tt * act if a.get("is_causal") else 0, True)
    if a.get("norm_first"):
        return max(e + attention, 2 * e + 2 * f, 3 * e)
    return max(attention, e + 2 * f, 3 * e)


def saved_rule(row, file: str = "<spec>"):
    """The saved-for-backward rule of the row's type; a located refusal where there is none yet."""
    rule = SAVED.get(row.type)
    if rule is None:
        from ..errors import Mark, SpecError

        raise SpecError(Mark(file, row.line or 1, 1),
                        f"{row.type} '{row.name}': layercalc has no rule yet for the activations this type saves "
                        "for backward, so its memory cannot be counted exactly",
                        "use `layercalc cost` or `summary` for this spec, or build the layer from its parts "
                        "(MultiheadAttention, LayerNorm, Linear, Dropout)")
    return rule


def saved_where(row, req, w, flash, device="cpu", act=4, row_inputs=None) -> list:
    """Where the tensors a layer saves come from ("in0"..., "out", None), as SAVED lists them."""
    c = Ctx()
    c.type, c.args, c.shapes = row.type, row.args, row.input_shapes
    c.numels = [prod(s) for s in row.input_shapes]
    c.in_storage = [n * act for n in c.numels]
    c.out_shape, c.out_numel = row.output_shape, prod(row.output_shape)
    c.out_bytes = c.out_numel * act
    c.req, c.w, c.act = req, w, act
    c.stat = c.mask = c.sdpa = act
    c.flash = flash
    c.cpu = device == "cpu"
    c.srcs = [(s.node, s.extra) for s in row_inputs] if row_inputs is not None else None
    c.autocast = False
    c.in_elems = [act] * len(row.input_shapes)
    c.rank_no_batch = _rank_no_batch(row.type)
    return [where for where, _ in saved_rule(row)(c)]


class Options:
    """The choices of one memory analysis."""

    def __init__(self, optimizer: str = "adamw", precision: str = "fp32", device: str = "cuda",
                 attention: str = "math", checkpoint=()):
        for value, choices, what in ((optimizer, OPTIMIZERS, "optimizer"), (precision, PRECISIONS, "precision"),
                                     (device, DEVICES, "device"), (attention, ATTENTION, "attention")):
            if value not in choices:
                raise ValueError(f"unknown {what} {value!r}; expected one of {', '.join(choices)}")
        self.optimizer, self.precision, self.device, self.attention = optimizer, precision, device, attention
        self.checkpoint = tuple(checkpoint or ())


def instance_of(name: str, patterns) -> str | None:
    """The checkpointed block instance that layer ``name`` belongs to, or None.

    A pattern is a block instance's name (``h.3``), a repeated block's name (``h``: each of its
    instances ``h.0``, ``h.1``... separately) or ``all`` (every top-level block instance)."""
    parts = name.split(".")
    for p in patterns:
        if p == "all":
            if len(parts) < 2:
                continue
            head = parts[0]
            return head + "." + parts[1] if parts[1].isdigit() and len(parts) > 2 else head
        if name.startswith(p + "."):
            rest = name[len(p) + 1:].split(".")
            return p + "." + rest[0] if rest[0].isdigit() and len(rest) > 1 else p
    return None


def analyze_memory(graph, report, opts: Options) -> dict:
    """Per-row byte counts and totals (see FIELDS), plus the breakdown."""
    prec = PRECISIONS[opts.precision]
    act = prec.act
    cpu = opts.device == "cpu"
    flash = opts.attention == "flash"
    nodes = graph.nodes
    rows = report.layers
    n = len(rows)

    # storages: value -> storage id; storage id -> bytes
    storage_of: dict = {}
    storage_bytes: dict = {}
    value_bytes: dict = {}
    elem: dict = {}
    int_values: set = set()
    req: dict = {}
    layout: dict = {}  # value -> (shape, strides): layout.py
    for name, shape in report.inputs.items():
        layout[(name, None)] = (tuple(shape), contiguous(shape))
        dt = report.input_dtypes.get(name, "float32")
        size = prod(shape) * ((4 if prec.autocast else act) if dt.startswith(("float", "bfloat"))
                              else DTYPE_BYTES[dt])
        storage_of[(name, None)] = (name, None)
        storage_bytes[(name, None)] = size
        value_bytes[(name, None)] = size
        elem[(name, None)] = size // max(prod(shape), 1)
        if not dt.startswith(("float", "bfloat")):
            int_values.add((name, None))
        req[(name, None)] = False
    producer = {key: -1 for key in storage_of}
    last_use: dict = {}
    outputs = {(src.node, src.extra) for src, _, _ in graph.outputs}

    per_row = []
    own_param_shapes = []
    extras_of = {node.name: row.extra_outputs for node, row in zip(nodes, rows) if row.extra_outputs}
    trainable_of: dict = {}
    for i, (node, row) in enumerate(zip(nodes, rows)):
        ins = [(s.node, s.extra) for s in node.inputs] if not takes_no_input(row.type) else []
        in_sizes = [value_bytes[k] for k in ins]
        int_out = bool(ins) and row.type in PASS_DTYPE and ins[0] in int_values
        out_elem = elem[ins[0]] if int_out else autocast_dtype(row.type, [elem[k] for k in ins]) \
            if prec.autocast else act
        key = (node.name, None)
        out_size = prod(row.output_shape) * out_elem
        value_bytes[key] = out_size
        elem[key] = out_elem
        if int_out:
            int_values.add(key)
        strides, view = output_layout(row, [layout[k] for k in ins])
        layout[key] = (tuple(row.output_shape), strides)
        for extra, shape in row.extra_outputs.items():
            layout[(node.name, extra)] = (tuple(shape), contiguous(shape))
        copies = row.type == "Linear" and bool(ins) and linear_copy(*layout[ins[0]])
        if view:
            storage_of[key] = storage_of[ins[0]]  # a view, or a dropout with p = 0: the input itself
        else:
            storage_of[key] = key
            storage_bytes[key] = out_size
            producer[key] = i
        for extra, shape in row.extra_outputs.items():
            ek = (node.name, extra)
            # under autocast a recurrent layer's final states take its output's dtype; a projected LSTM's
            # c stays in its input's (the element-wise update runs in the widest dtype)
            ee = out_elem if prec.autocast and row.type in ("RNN", "LSTM", "GRU") else act
            if prec.autocast and extra == "c_n" and row.args.get("proj_size") and ins:
                ee = max(elem[ins[0]], 2)
            storage_of[ek] = ek
            storage_bytes[ek] = prod(shape) * ee
            value_bytes[ek] = prod(shape) * ee
            elem[ek] = ee
            producer[ek] = i
        for k in ins:
            last_use[storage_of[k]] = i
        # parameters this row owns (tied and shared ones are counted at their owner)
        if node.share is not None:
            own = {}
        elif node.tie is not None:
            own = {k: v for k, v in row.param_shapes.items() if k != "weight"}
        else:
            own = dict(row.param_shapes)
        own_param_shapes.append(own)
        w = weights_trainable(node, row, trainable_of)
        r_in = [req[k] for k in ins]
        out_req = any(r_in) or w
        req[key] = out_req
        for extra in row.extra_outputs:
            req[(node.name, extra)] = out_req
        per_row.append((ins, r_in, w, out_req, in_sizes, out_size, view, copies))
    for k in outputs:
        if k in storage_of:
            last_use[storage_of[k]] = n
    for (name, extra), i in held_until(graph, n).items():  # eager code's references (liveness.py)
        keys = [(name, extra)] + ([(name, e) for e in extras_of.get(name, ())] if extra is None else [])
        for k in keys:
            sk = storage_of.get(k)
            if sk is not None and last_use.get(sk, -1) < i:
                last_use[sk] = i

    # saved activations, each storage once, at its first saver; checkpointed instances keep their inputs
    seen = set()
    saved = [0] * n
    inst = [instance_of(r.name, opts.checkpoint) if opts.checkpoint else None for r in rows]
    recompute: dict = {}
    for i, (node, row) in enumerate(zip(nodes, rows)):
        ins, r_in, w, out_req, in_sizes, out_size, _, copies = per_row[i]
        items = []
        if out_req:
            c = Ctx()
            c.type, c.args, c.shapes = row.type, row.args, row.input_shapes
            c.numels = [prod(s) for s in row.input_shapes]
            c.in_storage = [storage_bytes[storage_of[k]] for k in ins]
            c.out_shape, c.out_numel = row.output_shape, prod(row.output_shape)
            c.out_bytes = storage_bytes[storage_of[(node.name, None)]]
            c.req, c.w = r_in, w
            lowered = prec.autocast and row.type in LOWERED
            c.act = elem[(node.name, None)] if prec.autocast else act
            c.stat = 4 if not cpu or prec.autocast else act
            c.mask = 1 if not cpu else c.act
            c.sdpa = 4 if cpu else c.act
            c.flash = flash
            c.cpu = cpu
            c.srcs = ins
            c.autocast = prec.autocast
            c.in_elems = [elem[k] for k in ins]
            c.rank_no_batch = _rank_no_batch(row.type)
            items = saved_rule(row, report.file)(c)
            if copies:  # matmul folds a contiguous copy of the input, which backward keeps (layout.py)
                items = [(None, c.numels[0] * c.act) if where == "in0" else (where, size) for where, size in items]
            if lowered:
                items = autocast_copies(row, items, [elem[k] for k in ins], r_in)
        if inst[i] is not None:
            total = 0
            for where, size in items:
                total += size
            recompute[inst[i]] = recompute.get(inst[i], 0) + total
            for k in ins:  # the instance's inputs from outside stay saved
                src = k[0]
                j = next((m for m in range(i - 1, -1, -1) if rows[m].name == src), None)
                if j is None or inst[j] != inst[i]:
                    sk = storage_of[k]
                    if sk not in seen and req.get(k) is not None:
                        seen.add(sk)
                        saved[i] += storage_bytes[sk]
            continue
        for where, size in items:
            if where is None:
                saved[i] += size
                continue
            sk = storage_of[(node.name, None)] if where == "out" else storage_of[ins[int(where[2:])]]
            if sk in seen:
                continue
            seen.add(sk)
            saved[i] += storage_bytes[sk]

    # live activations at inference: a storage lives from its producer to its last consumer; the
    # dropouts return their input itself in eval mode, so their output lives as their input's storage
    alias: dict = {}
    for i, (node, row) in enumerate(zip(nodes, rows)):
        ins = per_row[i][0]
        out = storage_of[(node.name, None)]
        if row.type in IDENTITY_AT_INFERENCE and ins and out != storage_of[ins[0]]:  # p = 0 is a view already
            alias[out] = alias.get(storage_of[ins[0]], storage_of[ins[0]])
    infer_last = dict(last_use)
    for sk, src in alias.items():
        infer_last[src] = max(infer_last.get(src, producer.get(src, -1)), last_use.get(sk, producer[sk]))
    starts: dict = {}
    ends: dict = {}
    for sk, size in storage_bytes.items():
        if sk in alias:
            continue
        p = producer.get(sk, -1)
        e = infer_last.get(sk, p)
        starts.setdefault(max(p, 0), []).append(size)
        ends.setdefault(e, []).append(size)
    made = [0] * n  # the storages each row makes (its output, unless a view, and its extra outputs)
    for sk, size in storage_bytes.items():
        if producer.get(sk, -1) >= 0 and sk not in alias:
            made[producer[sk]] += size
    live = 0
    infer = [0] * n
    for i in range(n):
        live += sum(starts.get(i, ()))
        inner = 0 if per_row[i][6] else _inner_peak(rows[i], act, flash)
        if per_row[i][7]:  # the folded copy beside mm's output (layout.py)
            inner += prod(rows[i].input_shapes[0]) * act
        infer[i] = live - made[i] + max(made[i], inner)
        live -= sum(ends.get(i, ()))

    # weights, gradients, optimizer state, KV cache
    result_rows = []
    totals = {f: 0 for f in FIELDS}
    totals["master_weight_bytes"] = 0
    trainable_shapes_all = []
    for i, (node, row) in enumerate(zip(nodes, rows)):
        own = own_param_shapes[i]
        n_params = sum(prod(s) for s in own.values())
        trainable_shapes = list(own.values()) if node.trainable else []
        trainable_shapes_all += trainable_shapes
        n_train = sum(prod(s) for s in trainable_shapes)
        buf = 0
        if node.share is None:
            for bname, shape in row.buffer_shapes.items():
                dtype = row.args.get("dtype") if row.type == "Buffer" else None
                size = (DTYPE_BYTES[dtype] if dtype and dtype not in FLOAT_DTYPES
                        else INT_BUFFERS.get(bname, prec.weight))
                buf += prod(shape) * size
        d = {
            "weight_bytes": n_params * prec.weight,
            "buffer_bytes": buf,
            "gradient_bytes": n_train * prec.grad,
            "optimizer_bytes": optimizer_bytes(opts.optimizer, trainable_shapes, prec.state),
            "saved_activation_bytes": saved[i],
            "output_bytes": per_row[i][5],
            "inference_peak_bytes": 0,
            "training_peak_bytes": 0,
            "kv_cache_bytes": _causal_kv(row) * act,
            "master_weight_bytes": n_train * prec.master,
        }
        result_rows.append(d)
        for f in ADDITIVE:
            totals[f] += d[f]
    states = (totals["weight_bytes"] + totals["buffer_bytes"] + totals["gradient_bytes"] +
              totals["optimizer_bytes"] + totals["master_weight_bytes"])
    running = 0
    biggest_transient = 0
    for i, d in enumerate(result_rows):
        running += d["saved_activation_bytes"]
        transient = d["output_bytes"] + _transient(rows[i], act, flash)
        biggest_transient = max(biggest_transient, transient)
        d["inference_peak_bytes"] = infer[i] + totals["weight_bytes"] + totals["buffer_bytes"]
        d["training_peak_bytes"] = states + running + transient
    recompute_peak = max(recompute.values(), default=0)
    activation_peak = max(infer, default=0)
    totals["output_bytes"] = sum(per_row[i][5] for i in range(n))
    totals["inference_peak_bytes"] = totals["weight_bytes"] + totals["buffer_bytes"] + activation_peak
    # the optimizer's step, after backward: the activations are freed, its own temporaries are made
    step = step_temporaries(opts.optimizer, trainable_shapes_all, prec.state, opts.device)
    totals["training_peak_bytes"] = max(states + totals["saved_activation_bytes"] + max(biggest_transient, recompute_peak),
                                        states + step)
    breakdown = {
        "weights": totals["weight_bytes"], "master_weights": totals["master_weight_bytes"],
        "buffers": totals["buffer_bytes"], "gradients": totals["gradient_bytes"],
        "optimizer_state": totals["optimizer_bytes"], "saved_activations": totals["saved_activation_bytes"],
        "largest_transient": max(biggest_transient, recompute_peak), "inference_activations": activation_peak,
        "kv_cache": totals["kv_cache_bytes"], "optimizer_step": step,
    }
    return {"rows": result_rows, "totals": totals, "breakdown": breakdown}
