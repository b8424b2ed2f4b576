"""Forward, backward and training MACs and FLOPs, per layer: the backward cost of each type, one table.

``BACKWARD[type](c)`` returns the MACs of the layer's backward as PyTorch runs it: for every dense
product of the forward, the gradient of each operand that needs one (an input gradient when the
operand requires grad, a weight gradient when the weight is trainable) costs the product's MACs
again. ``c`` has ``macs`` (the forward's), ``req`` (which inputs require grad), ``w`` (trainable
weights), the row's ``args`` and shapes, and ``flash`` (the flash kernel's backward recomputes the
scores: 5 products where the math kernel has 4).

FLOPs of the backward: 2 per MAC, plus the element-wise work of the forward counted twice
(``ELEMENTWISE_BACKWARD``: the local derivative and its product with the incoming gradient) when the
layer computes any gradient at all. Checkpointed block instances pay their forward again.
"""

from __future__ import annotations

from math import prod

from ..layers.attention import CPB_HIDDEN, relative_position_sizes
from ..layers.shapes import window_partition
from .analysis import instance_of, saved_where
from .flow import grad_flow

#: Backward FLOPs per forward FLOP of element-wise work (everything that is not a dense product).
ELEMENTWISE_BACKWARD = 2

#: Backward products of the attention kernel per forward product (Q·Kᵀ and A·V): math computes the
#: gradient of each operand (4 products for 2); flash recomputes Q·Kᵀ first (5 for 2).
FLASH_BACKWARD_PRODUCTS = 5


def _dense(c):
    """One product of the input and the weight: its input gradient and its weight gradient."""
    return (c.macs if c.req and c.req[0] else 0) + (c.macs if c.w else 0)


def _bilinear(c):
    return (c.macs if c.req[0] else 0) + (c.macs if c.req[1] else 0) + (c.macs if c.w else 0)


def _matmul(c):
    return (c.macs if c.req[0] else 0) + (c.macs if c.req[1] else 0)


def _products(c, products, q_req, k_req, v_req):
    """Backward MACs of the two attention products (Q·Kᵀ and A·V, ``products`` MACs together)."""
    if not (q_req or k_req or v_req):
        return 0
    if c.flash:
        return products * FLASH_BACKWARD_PRODUCTS // 2
    half = products // 2
    scores = q_req or k_req  # the probabilities require grad
    return (half if q_req else 0) + (half if k_req else 0) + (half if scores else 0) + (half if v_req else 0)


def _sdpa(c):
    return _products(c, c.macs, *c.req)


def _mha_parts(a, shapes):
    """(query projection, key/value projections, output projection) MACs of MultiheadAttention."""
    q = shapes[0]
    k = shapes[1] if len(shapes) > 1 else q
    batched = len(q) == 3
    first = a["batch_first"]
    n = (q[0] if first else q[1]) if batched else 1
    lq = (q[1] if first else q[0]) if batched else q[0]
    s = (k[1] if first else k[0]) if batched else k[0]
    e = a["embed_dim"]
    return n * lq * e * e, n * s * a["kdim"] * e, n * s * a["vdim"] * e, n * lq * e * e


def _mha(c):
    """Each input projection has an input gradient when its input (query, key, value) requires grad; the
    projected q, k and v require grad when their input does or the weights train."""
    a = c.args
    proj_q, proj_k, proj_v, proj_out = _mha_parts(a, c.shapes)
    products = c.macs - proj_q - proj_k - proj_v - proj_out
    q_req = c.req[0]
    k_req = c.req[1] if len(c.req) > 1 else q_req
    v_req = c.req[2] if len(c.req) > 2 else k_req
    total = (proj_q + proj_k + proj_v + proj_out) if c.w else 0  # weight gradients
    total += (proj_q if q_req else 0) + (proj_k if k_req else 0) + (proj_v if v_req else 0)
    qi, ki, vi = q_req or c.w, k_req or c.w, v_req or c.w
    total += proj_out if (qi or ki or vi) else 0  # the attention output's gradient through out_proj
    return total + _products(c, products, qi, ki, vi)


def _gqa(c):
    a = c.args
    s = c.shapes[0]
    b, t = (s[0], s[1]) if len(s) == 3 else (1, s[0])
    heads = a["num_heads"]
    kv = a["num_kv_heads"] or heads
    hd = a["head_dim"] or a["embed_dim"] // heads
    e = a["embed_dim"]
    proj_in = b * t * e * hd * (heads + 2 * kv)
    proj_out = b * t * heads * hd * e
    products = c.macs - proj_in - proj_out
    inner = c.req[0] or c.w
    total = (proj_in + proj_out) if c.w else 0
    total += proj_in if c.req[0] else 0
    total += proj_out if inner else 0
    return total + _products(c, products, inner, inner, inner)


def _encoder(c):
    """TransformerEncoderLayer: self-attention, then linear1 and linear2 (d_model x dim_feedforward each)."""
    a = c.args
    s = c.shapes[0]
    d, ff = a["d_model"], a["dim_feedforward"]
    rows = prod(s[:-1])
    proj_in, proj_out = 3 * rows * d * d, rows * d * d
    ffn = rows * d * ff
    products = c.macs - proj_in - proj_out - 2 * ffn
    x_req = c.req[0]
    proj_input = x_req or (a["norm_first"] and c.w)  # pre-norm: a trainable norm1 makes in_proj's input require grad
    inner = x_req or c.w
    total = (proj_in + proj_out + 2 * ffn) if c.w else 0
    total += proj_in if proj_input else 0
    total += (proj_out + 2 * ffn) if inner else 0
    return total + _products(c, products, inner, inner, inner)


def _decoder(c):
    """TransformerDecoderLayer: self-attention on tgt (T), cross-attention of tgt on the memory (S), then
    linear1 and linear2. The memory's key/value projection has an input gradient only when the memory
    requires grad; everything after the self-attention requires grad when tgt does or the weights train."""
    a = c.args
    x, m = c.shapes[0], c.shapes[1]
    first = a["batch_first"]
    if len(x) == 3:
        n, t, s = (x[0], x[1], m[1]) if first else (x[1], x[0], m[0])
    else:
        n, t, s = 1, x[0], m[0]
    d, ff = a["d_model"], a["dim_feedforward"]
    sa_in, out, ca_kv, ffn = 3 * n * t * d * d, n * t * d * d, 2 * n * s * d * d, n * t * d * ff
    sa_products, ca_products = 2 * n * t * t * d, 2 * n * t * s * d
    x_req, m_req = c.req[0], c.req[1]
    total = (sa_in + out + out + ca_kv + out + 2 * ffn) if c.w else 0  # weight gradients
    total += sa_in if x_req or (a["norm_first"] and c.w) else 0  # pre-norm: a trainable norm1 makes it require grad
    inner = x_req or c.w  # the self-attention's q, k, v and everything after them
    total += out if inner else 0  # self_attn.out_proj
    total += _products(c, sa_products, inner, inner, inner)
    kv = m_req or c.w  # the cross-attention's keys and values
    total += out if inner else 0  # multihead_attn's query projection
    total += ca_kv if m_req else 0
    after = inner or kv  # the cross-attention's output and all that follows it
    total += out if after else 0  # multihead_attn.out_proj
    total += _products(c, ca_products, inner, kv, kv)
    return total + (2 * ffn if after else 0)


def _window(c):
    """Swin's window attention: the qkv and output projections over the padded windows, the two attention
    products, and (v2) the position bias MLP on the relative_coords_table buffer, which needs no input
    gradient: its weight gradients and, behind its first layer, the hidden gradient of its second."""
    a = c.args
    b, h, w, ch = c.shapes[0]
    windows, n, _ = window_partition(b, h, w, a["window_size"], a["shift_size"])
    rows = windows * n
    proj_in, proj_out = rows * ch * 3 * ch, rows * ch * ch
    offsets, _ = relative_position_sizes(a["window_size"])
    v2 = c.type == "ShiftedWindowAttentionV2"
    cpb_in, cpb_out = (offsets * 2 * CPB_HIDDEN, offsets * CPB_HIDDEN * a["num_heads"]) if v2 else (0, 0)
    products = c.macs - proj_in - proj_out - cpb_in - cpb_out
    inner = c.req[0] or c.w
    total = (proj_in + proj_out + cpb_in + 2 * cpb_out) if c.w else 0
    total += proj_in if c.req[0] else 0
    total += proj_out if inner else 0
    return total + _products(c, products, inner, inner, inner)


def _recurrent(c):
    """Per layer and direction: the input product (W_ih), the hidden product (W_hh) at every step, the
    projection (LSTM proj_size). Gradients: the weights', the input's (layer 0 only when the input
    requires grad), and the hidden state's through W_hh for every step but the first (h0 is zeros)."""
    a = c.args
    s = c.shapes[0]
    batched = len(s) == 3
    first = a.get("batch_first")
    t = (s[1] if first else s[0]) if batched else s[0]
    n = (s[0] if first else s[1]) if batched else 1
    h = a["hidden_size"]
    p = a.get("proj_size") or 0
    r = p or h
    g = {"LSTM": 4, "GRU": 3, "RNN": 1}[c.type]
    dirs = 2 if a.get("bidirectional") else 1
    total = 0
    for layer in range(a.get("num_layers", 1)):
        width = s[-1] if layer == 0 else dirs * r
        ih, hh, proj = t * n * width * g * h, t * n * r * g * h, t * n * h * p
        inner = c.w or (c.req[0] if c.req else False) or layer > 0
        grads = (ih + hh + proj) if c.w else 0
        if layer > 0 or (c.req and c.req[0]):
            grads += ih
        if inner:
            grads += hh * (t - 1) // t + proj
        total += dirs * grads
    return total


def _cell(c):
    """One step: W_ih x and W_hh h; the hidden state given (or zeros) does not require grad."""
    a = c.args
    s = c.shapes[0]
    n = s[0] if len(s) == 2 else 1
    g = {"LSTMCell": 4, "GRUCell": 3, "RNNCell": 1}[c.type]
    ih, hh = n * s[-1] * g * a["hidden_size"], n * a["hidden_size"] * g * a["hidden_size"]
    return ((ih + hh) if c.w else 0) + (ih if c.req[0] else 0)


BACKWARD = {
    "Linear": _dense, "Bilinear": _bilinear, "MatMul": _matmul, "ScaledDotProductAttention": _sdpa,
    "MultiheadAttention": _mha, "GroupedQueryAttention": _gqa, "TransformerEncoderLayer": _encoder,
    "TransformerDecoderLayer": _decoder,
    "LSTM": _recurrent, "GRU": _recurrent, "RNN": _recurrent, "LSTMCell": _cell, "GRUCell": _cell,
    "RNNCell": _cell, "ShiftedWindowAttention": _window, "ShiftedWindowAttentionV2": _window,
}
for _n in (1, 2, 3):
    BACKWARD[f"Conv{_n}d"] = BACKWARD[f"ConvTranspose{_n}d"] = _dense


def backward_macs(c) -> int:
    """Backward MACs of one layer (0 for types without dense products)."""
    rule = BACKWARD.get(c.type)
    return rule(c) if rule else 0


class CostCtx:
    __slots__ = ("type", "args", "shapes", "macs", "req", "w", "flash")


def _not_recomputed(rows, flow, checkpoint, flash) -> dict:
    """MACs at the end of each checkpointed instance that backward does not run again.

    torch.utils.checkpoint (non-reentrant) stops recomputing as soon as the last tensor the block saved
    is back, and an operation saves its inputs before it runs: when the last layer that saves anything
    saves only its inputs (a Linear, a convolution), its product is not recomputed; when it is an
    attention layer, its output projection is not."""

    last: dict = {}
    for i, row in enumerate(rows):
        inst = instance_of(row.name, checkpoint)
        if inst is not None and flow[i][2] and saved_where(row, flow[i][0], flow[i][1], flash):
            last[inst] = i
    skip = {}
    for i in last.values():
        row = rows[i]
        where = saved_where(row, flow[i][0], flow[i][1], flash)
        if all(w is not None and w.startswith("in") for w in where):
            skip[row.name] = row.macs
        elif row.type in ("MultiheadAttention", "GroupedQueryAttention") and flow[i][1] and not flash:
            s, a = row.input_shapes[0], row.args
            if row.type == "MultiheadAttention":
                skip[row.name] = _mha_parts(a, row.input_shapes)[3]
            else:
                heads = a["num_heads"]
                hd = a["head_dim"] or a["embed_dim"] // heads
                skip[row.name] = (prod(s[:-1])) * heads * hd * a["embed_dim"]
    return skip


def analyze_cost(graph, report, flash: bool = False, checkpoint=()) -> dict:
    """Per-row and total forward, backward and training MACs and FLOPs (section 7 of the format)."""
    flow = grad_flow(graph, report)
    skip = _not_recomputed(report.layers, flow, checkpoint, flash) if checkpoint else {}
    rows = []
    totals = {k: 0 for k in ("forward_macs", "backward_macs", "recompute_macs", "training_macs", "forward_flops",
                             "backward_flops", "recompute_flops", "training_flops")}
    for (r_in, w, o), row in zip(flow, report.layers):
        c = CostCtx()
        c.type, c.args, c.shapes, c.macs, c.req, c.w, c.flash = row.type, row.args, row.input_shapes, row.macs, r_in, \
            w, flash
        bwd = backward_macs(c) if o else 0
        elementwise = row.flops - 2 * row.macs
        bwd_flops = 2 * bwd + (ELEMENTWISE_BACKWARD * elementwise if o else 0)
        again = checkpoint and instance_of(row.name, checkpoint) is not None
        rec_macs, rec_flops = (row.macs - skip.get(row.name, 0), row.flops - 2 * skip.get(row.name, 0)) if again \
            else (0, 0)
        d = {"forward_macs": row.macs, "backward_macs": bwd, "recompute_macs": rec_macs,
             "training_macs": row.macs + bwd + rec_macs, "forward_flops": row.flops, "backward_flops": bwd_flops,
             "recompute_flops": rec_flops, "training_flops": row.flops + bwd_flops + rec_flops}
        rows.append(d)
        for k in totals:
            totals[k] += d[k]
    return {"rows": rows, "totals": totals}
