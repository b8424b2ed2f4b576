"""Reference kernels of the attention family.

The core, per head, for queries q_i, keys k_j and values v_j::

    s_ij = (q_i . k_j) * scale  (+ mask_ij: 0, or -inf above the diagonal when causal)
    a_i  = softmax_j(s_ij)
    y_i  = sum_j a_ij v_j

over every key (a causal mask is added, not skipped). Projections are dense
products with their bias adds; the transformer layers and grouped-query
attention are written from their sublayers' kernels (``ctx.call``), with a
residual add per element and sublayer.
"""

from __future__ import annotations

import math

from .activation import ELEMENTWISE, sigmoid, softmax_row
from .linear import affine_rows, linear
from .norm import layer_norm
from .ops import Ops
from .tensor import Tensor, broadcast_shape, broadcast_to, split_last


def attend(ctx, o: Ops, q: list, k: list, v: list, scale: float, causal: bool = False, masked_keys: int | None = None):
    """One head: (outputs L x Ev, weights L x S) from rows q (L x E), k (S x E), v (S x Ev).

    ``causal`` adds the mask to every score: -inf for key j > query i among the first ``masked_keys``
    keys (all by default; keys appended by add_bias_kv / add_zero_attn are never masked), else 0."""
    limit = len(k) if masked_keys is None else masked_keys
    weights, out = [], []
    for i, qi in enumerate(q):
        scores = []
        for j, kj in enumerate(k):
            s = sum(a * b for a, b in zip(qi, kj))
            ctx.macs += len(qi)
            s = o.mul(s, scale)
            if causal:
                s = o.add(s, -math.inf if i < j < limit else 0.0)
            scores.append(s)
        a = softmax_row(o, scores) if scores else []
        weights.append(a)
        row = []
        for c in range(len(v[0]) if v else 0):
            row.append(sum(a[j] * v[j][c] for j in range(len(v))))
            ctx.macs += len(v)
        out.append(row)
    return out, weights


def view(t: Tensor, start: int, rows: int) -> Tensor:
    """Rows [start, start + rows) of a 2-D (or 1-D) tensor, as a tensor of its own."""
    width = t.numel // t.shape[0] if t.shape[0] else 0
    shape = (rows,) + t.shape[1:]
    return Tensor(shape, t.data[start * width:(start + rows) * width])


# --- MultiheadAttention ----------------------------------------------------------------------


def mha(ctx, query: Tensor, key: Tensor | None = None, value: Tensor | None = None):
    key = query if key is None else key
    value = key if value is None else value
    unbatched = query.rank == 2
    seqs = []
    for t in (query, key, value):  # -> per batch element, a list of position rows
        if unbatched:
            seqs.append([split_last(t)])
        elif ctx.batch_first:
            seqs.append([split_last(t)[n * t.shape[1]:(n + 1) * t.shape[1]] for n in range(t.shape[0])])
        else:
            rows = split_last(t)
            seqs.append([rows[n::t.shape[1]] for n in range(t.shape[1])])
    q_seq, k_seq, v_seq = seqs
    e, heads = query.shape[-1], ctx.num_heads
    kdim, vdim = key.shape[-1], value.shape[-1]
    hd = e // heads
    bias = ctx.bias
    if kdim == e and vdim == e:
        w = ctx.param("in_proj_weight", (3 * e, e))
        wq, wk, wv = view(w, 0, e), view(w, e, e), view(w, 2 * e, e)
    else:
        wq, wk, wv = (ctx.param("q_proj_weight", (e, e)), ctx.param("k_proj_weight", (e, kdim)),
                      ctx.param("v_proj_weight", (e, vdim)))
    if bias:
        b = ctx.param("in_proj_bias", (3 * e,), fan_in=e)
        bq, bk, bv = view(b, 0, e), view(b, e, e), view(b, 2 * e, e)
    else:
        bq = bk = bv = None
    bias_k = ctx.param("bias_k", (1, 1, e), fan_in=e) if ctx.add_bias_kv else None
    bias_v = ctx.param("bias_v", (1, 1, e), fan_in=e) if ctx.add_bias_kv else None
    out_proj = {"out_features": e, "bias": bias}
    o = Ops(ctx)
    outputs, all_weights = [], []
    for qs, ks, vs in zip(q_seq, k_seq, v_seq):
        q = affine_rows(ctx, qs, wq, bq)
        k = affine_rows(ctx, ks, wk, bk)
        v = affine_rows(ctx, vs, wv, bv)
        if bias_k is not None:
            k, v = k + [list(bias_k.data)], v + [list(bias_v.data)]
        if ctx.add_zero_attn:
            k, v = k + [[0.0] * e], v + [[0.0] * e]
        heads_out, heads_w = [], []
        for h in range(heads):
            cut = slice(h * hd, (h + 1) * hd)
            y, a = attend(ctx, o, [r[cut] for r in q], [r[cut] for r in k], [r[cut] for r in v], 1 / math.sqrt(hd),
                          ctx.args.get("is_causal", False), len(ks))
            heads_out.append(y)
            heads_w.append(a)
        concat = [[v for h in range(heads) for v in heads_out[h][i]] for i in range(len(q))]
        outputs.append(concat)
        all_weights.append(heads_w)
    proj = ctx.call(linear, "out_proj", out_proj, Tensor((sum(len(c) for c in outputs), e),
                                                        [v for c in outputs for r in c for v in r]))
    rows = split_last(proj)
    n, length = len(outputs), len(q_seq[0])
    if unbatched:
        y = Tensor((length, e), [v for r in rows for v in r])
    elif ctx.batch_first:
        y = Tensor((n, length, e), [v for r in rows for v in r])
    else:
        y = Tensor((length, n, e), [v for i in range(length) for b in range(n) for v in rows[b * length + i]])
    if not ctx.need_weights:
        return y
    keys = len(all_weights[0][0][0]) if length else 0
    if ctx.average_attn_weights:  # the mean over the heads: a sum of `heads` values and a divide
        data = [o.div(o.sum(all_weights[b][h][i][j] for h in range(heads)), heads)
                for b in range(n) for i in range(length) for j in range(keys)]
        shape = (n, length, keys)
    else:
        data = [w for b in range(n) for h in range(heads) for row in all_weights[b][h] for w in row]
        shape = (n, heads, length, keys)
    weights = Tensor(shape[1:] if unbatched else shape, data)
    return y, {"attn_weights": weights}


# --- ScaledDotProductAttention ---------------------------------------------------------------------


def sdpa(ctx, q: Tensor, k: Tensor, v: Tensor) -> Tensor:
    """softmax(q kᵀ * scale + mask) v over the broadcast leading dimensions (key/value heads repeated with enable_gqa)."""
    if ctx.enable_gqa:  # repeat each key/value head to serve query heads: dimension -3
        k, v = (repeat_heads(t, q.shape[-3]) for t in (k, v))
    lead = broadcast_shape(q.shape[:-2], k.shape[:-2], v.shape[:-2])
    q, k, v = (broadcast_to(t, lead + t.shape[-2:]) for t in (q, k, v))
    e = q.shape[-1]
    scale = ctx.scale if ctx.scale is not None else 1 / math.sqrt(e)
    o = Ops(ctx)
    lq, s, ev = q.shape[-2], k.shape[-2], v.shape[-1]
    out = []
    for b in range(q.numel // (lq * e) if lq * e else 0):
        rows = lambda t, n, w: [t.data[(b * n + i) * w:(b * n + i + 1) * w] for i in range(n)]  # noqa: E731
        y, _ = attend(ctx, o, rows(q, lq, e), rows(k, s, e), rows(v, s, ev), scale, ctx.is_causal)
        out += [x for r in y for x in r]
    return Tensor(lead + (lq, ev), out)


def repeat_heads(t: Tensor, heads: int) -> Tensor:
    """(..., Hk, S, E) -> (..., heads, S, E): each head repeated heads / Hk times (repeat_interleave)."""
    hk, s, e = t.shape[-3:]
    block = s * e
    data = []
    for start in range(0, t.numel, hk * block):
        for h in range(heads):
            src = start + (h // (heads // hk)) * block
            data += t.data[src:src + block]
    return Tensor(t.shape[:-3] + (heads, s, e), data)


# --- transformer layers ----------------------------------------------------------------------


def residual(o: Ops, x: Tensor, y: Tensor) -> Tensor:
    return Tensor(x.shape, [o.add(a, b) for a, b in zip(x.data, y.data)])


def _activation(name: str):
    f = ELEMENTWISE["ReLU" if name == "relu" else "GELU"]
    return lambda ctx, x: Tensor(x.shape, [f(Ops(ctx), v, {"approximate": "none"}) for v in x.data])


def feedforward(ctx, x: Tensor) -> Tensor:
    d, ff = x.shape[-1], ctx.dim_feedforward
    h = ctx.call(linear, "linear1", {"out_features": ff, "bias": ctx.bias}, x)
    h = ctx.call(_activation(ctx.activation), "activation", {}, h)
    return ctx.call(linear, "linear2", {"out_features": d, "bias": ctx.bias}, h)


def _norm(ctx, name: str, x: Tensor) -> Tensor:
    args = {"normalized_shape": (x.shape[-1],), "eps": ctx.layer_norm_eps, "elementwise_affine": True,
            "bias": ctx.bias}
    return ctx.call(layer_norm, name, args, x)


def _attn(ctx, name: str, x: Tensor, mem: Tensor | None = None, causal: bool = False) -> Tensor:
    args = {"num_heads": ctx.nhead, "bias": ctx.bias, "batch_first": ctx.batch_first, "need_weights": False,
            "add_bias_kv": False, "add_zero_attn": False, "average_attn_weights": True, "is_causal": causal}
    return ctx.call(mha, name, args, x, mem, mem) if mem is not None else ctx.call(mha, name, args, x)


def encoder_layer(ctx, x: Tensor) -> Tensor:
    """post-norm: x = norm1(x + sa(x)); x = norm2(x + ff(x)). pre-norm: x = x + sa(norm1(x)); x = x + ff(norm2(x))."""
    o = Ops(ctx)
    causal = ctx.args.get("is_causal", False)
    if ctx.norm_first:
        x = residual(o, x, _attn(ctx, "self_attn", _norm(ctx, "norm1", x), causal=causal))
        return residual(o, x, feedforward(ctx, _norm(ctx, "norm2", x)))
    x = _norm(ctx, "norm1", residual(o, x, _attn(ctx, "self_attn", x, causal=causal)))
    return _norm(ctx, "norm2", residual(o, x, feedforward(ctx, x)))


def decoder_layer(ctx, x: Tensor, memory: Tensor) -> Tensor:
    """As the encoder layer, with cross-attention on the memory (norm2) between self-attention and feed-forward."""
    o = Ops(ctx)
    tgt_causal, mem_causal = ctx.args.get("tgt_is_causal", False), ctx.args.get("memory_is_causal", False)
    if ctx.norm_first:
        x = residual(o, x, _attn(ctx, "self_attn", _norm(ctx, "norm1", x), causal=tgt_causal))
        x = residual(o, x, _attn(ctx, "multihead_attn", _norm(ctx, "norm2", x), memory, mem_causal))
        return residual(o, x, feedforward(ctx, _norm(ctx, "norm3", x)))
    x = _norm(ctx, "norm1", residual(o, x, _attn(ctx, "self_attn", x, causal=tgt_causal)))
    x = _norm(ctx, "norm2", residual(o, x, _attn(ctx, "multihead_attn", x, memory, mem_causal)))
    return _norm(ctx, "norm3", residual(o, x, feedforward(ctx, x)))


# --- Llama-style extensions ------------------------------------------------------------------------


def rotary_embedding(ctx, x: Tensor) -> Tensor:
    """Rotate feature pairs (i, i + r/2) of the first r features by angle pos * 10000^(-2i/r); pos = dim 1.

    y_i = x_i * cos - x_{i+r/2} * sin, y_{i+r/2} = x_{i+r/2} * cos + x_i * sin (the sign folded into the
    sin table): two multiplies and an add per rotated element.
    """
    o = Ops(ctx)
    d = x.shape[-1]
    r = d if ctx.rotary_dim is None else ctx.rotary_dim
    half = r // 2
    per_pos = x.numel // (x.shape[0] * x.shape[1])
    out = []
    for row_start in range(0, x.numel, d):
        pos = (row_start // per_pos) % x.shape[1]
        row = x.data[row_start:row_start + d]
        rotated = []
        for i in range(r):
            angle = pos * 10000 ** (-2 * (i % half) / r)
            partner = -row[i + half] if i < half else row[i - half]
            rotated.append(o.add(o.mul(row[i], math.cos(angle)), o.mul(partner, math.sin(angle))))
        out += rotated + row[r:]
    return Tensor(x.shape, out)


def grouped_query_attention(ctx, x: Tensor) -> Tensor:
    e, heads = x.shape[-1], ctx.num_heads
    kv = ctx.num_kv_heads or heads
    hd = ctx.head_dim or e // heads
    b, t = (x.shape[0], x.shape[1]) if x.rank == 3 else (1, x.shape[0])
    flat = x.reshape((b, t, e))
    proj = {"bias": ctx.bias}
    q = ctx.call(linear, "q_proj", {**proj, "out_features": heads * hd}, flat).reshape((b, t, heads, hd))
    k = ctx.call(linear, "k_proj", {**proj, "out_features": kv * hd}, flat).reshape((b, t, kv, hd))
    v = ctx.call(linear, "v_proj", {**proj, "out_features": kv * hd}, flat).reshape((b, t, kv, hd))
    if ctx.rotary:
        q = ctx.call(rotary_embedding, "rotary", {"rotary_dim": None}, q)
        k = ctx.call(rotary_embedding, "rotary", {"rotary_dim": None}, k)
    o = Ops(ctx)
    group = heads // kv
    out = [[0.0] * (heads * hd) for _ in range(b * t)]
    for n in range(b):
        for h in range(heads):
            rows = lambda z, hh: [z.data[((n * t + i) * z.shape[2] + hh) * hd:((n * t + i) * z.shape[2] + hh + 1) * hd]  # noqa: E731
                                  for i in range(t)]
            y, _ = attend(ctx, o, rows(q, h), rows(k, h // group), rows(v, h // group), 1 / math.sqrt(hd),
                          ctx.is_causal)
            for i in range(t):
                out[n * t + i][h * hd:(h + 1) * hd] = y[i]
    att = Tensor((b, t, heads * hd), [v for r in out for v in r])
    y = ctx.call(linear, "o_proj", {**proj, "out_features": e}, att)
    return y.reshape(x.shape)


# --- windowed vision attention -------------------------------------------------------------------------


def window_offsets(wh: int, ww: int) -> list[int]:
    """For every pair (i, j) of the wh * ww positions of a window (row-major), the row of the bias table
    that holds their offset: (hi - hj + wh - 1) * (2 ww - 1) + (wi - wj + ww - 1)."""
    cells = [(h, w) for h in range(wh) for w in range(ww)]
    return [(hi - hj + wh - 1) * (2 * ww - 1) + (wi - wj + ww - 1) for hi, wi in cells for hj, wj in cells]


def relative_position_bias(ctx) -> Tensor:
    """bias[0, h, i, j] = table[index[i * N + j], h]: a gather, nothing computed."""
    wh, ww = ctx.window_size
    heads = ctx.num_heads
    n = wh * ww
    table = ctx.param("relative_position_bias_table", ((2 * wh - 1) * (2 * ww - 1), heads))
    index = ctx.buffer("relative_position_index", (n * n,), value=0, dtype="int64")
    index.data[:] = window_offsets(wh, ww)
    data = [table.data[index.data[i * n + j] * heads + h] for h in range(heads) for i in range(n) for j in range(n)]
    return Tensor((1, heads, n, n), data)


def _regions(size: int, window: int, shift: int) -> list[list[int]]:
    """The slices of one axis that torchvision's shifted window mask numbers, as the positions they set
    (``mask[a:b] = id``, later slices overwriting earlier ones; with a shift of 0 the last slice is the
    whole axis)."""
    axis = list(range(size))
    return [axis[a:b] for a, b in ((0, -window), (-window, -shift), (-shift, None))]


def swin_coords_table(wh: int, ww: int) -> Tensor:
    """Swin v2's relative_coords_table: the offsets (dh, dw) of a window, scaled to [-8, 8] and log-spaced,
    sign(x) * log2(|x| + 1) / 3, of shape (1, 2wh - 1, 2ww - 1, 2)."""
    def scaled(d: int, w: int) -> float:
        v = d / (w - 1) * 8 if w > 1 else math.nan  # torch's 0 / 0
        return math.copysign(1.0, v) * math.log2(abs(v) + 1.0) / 3.0 if v else (v if v != v else 0.0)
    data = [scaled(d, w) for dh in range(1 - wh, wh) for dw in range(1 - ww, ww) for d, w in ((dh, wh), (dw, ww))]
    return Tensor((1, 2 * wh - 1, 2 * ww - 1, 2), data)


def normalize(o: Ops, vec: list) -> list:
    """F.normalize: vec / max(||vec||, 1e-12); squares and their sum counted, the root and the clamp are once
    per vector."""
    norm = max(math.sqrt(o.sum(o.square(e) for e in vec)), 1e-12)
    return [o.div(e, norm) for e in vec]


def shifted_window_attention(ctx, x: Tensor, v2: bool = False) -> Tensor:
    """Swin's window attention on (B, H, W, C), written per token rather than with pad/roll/view.

    The map is padded to whole windows (Hp, Wp); after the roll by -shift, the token at (r, c) of the rolled
    map is the token at ((r + sh) % Hp, (c + sw) % Wp) of the padded one (zeros beyond H, W). Window (i, j)
    holds the rolled positions (i*wh + p, j*ww + q), p < wh, q < ww, row-major. Per window and head:
    scores = q·k * head_dim^-0.5 (v1; the scale multiplies q) or normalize(q)·normalize(k) * exp(min(
    logit_scale, log 100)) (v2), + the relative position bias (v2: 16 * sigmoid of the cpb_mlp table
    gathered), + -100 between tokens of different mask regions when shifted, softmax, times v. The
    projection's output goes back to the position it came from, and H x W is kept.
    """
    o = Ops(ctx)
    b, h, w, c = x.shape
    wh, ww = ctx.window_size
    sh, sw = ctx.shift_size
    heads = ctx.num_heads
    hd = c // heads
    hp, wp = -(-h // wh) * wh, -(-w // ww) * ww
    if wh >= hp:
        sh = 0
    if ww >= wp:
        sw = 0
    n = wh * ww
    weight = ctx.param("qkv.weight", (3 * c, c))
    bias = ctx.param("qkv.bias", (3 * c,), fan_in=c) if ctx.qkv_bias else None
    if bias is not None and v2:  # v2 zeroes the k third of the bias in forward
        bias = Tensor(bias.shape, bias.data[:c] + [0.0] * c + bias.data[2 * c:])
    index = ctx.buffer("relative_position_index", (n * n,), value=0, dtype="int64")
    index.data[:] = window_offsets(wh, ww)
    if v2:
        scale = ctx.param("logit_scale", (heads, 1, 1))
        scales = [math.exp(min(v, math.log(100.0))) for v in scale.data]  # once per head: not counted
        coords = ctx.buffer("relative_coords_table", (1, 2 * wh - 1, 2 * ww - 1, 2), value=0.0)
        coords.data[:] = swin_coords_table(wh, ww).data
        hidden = ctx.call(linear, "cpb_mlp.0", {"out_features": 512, "bias": True}, coords)
        hidden = Tensor(hidden.shape, [ELEMENTWISE["ReLU"](o, v, {}) for v in hidden.data])
        table = ctx.call(linear, "cpb_mlp.2", {"out_features": heads, "bias": False}, hidden)
        gathered = [table.data[index.data[i] * heads + k] for k in range(heads) for i in range(n * n)]
        rel = [o.mul(16.0, sigmoid(o, v)) for v in gathered]
    else:
        table = ctx.param("relative_position_bias_table", ((2 * wh - 1) * (2 * ww - 1), heads))
        rel = [table.data[index.data[i] * heads + k] for k in range(heads) for i in range(n * n)]
    region = [[0] * wp for _ in range(hp)]
    count = 0
    for rows in _regions(hp, wh, sh):
        for cols in _regions(wp, ww, sw):
            for r in rows:
                for col in cols:
                    region[r][col] = count
            count += 1
    shifted = sh + sw > 0
    windows = []  # per window: the padded positions (r, c) of its tokens, and their mask regions
    for n_b in range(b):
        for i in range(hp // wh):
            for j in range(wp // ww):
                cells = [(i * wh + p, j * ww + q) for p in range(wh) for q in range(ww)]
                windows.append((n_b, [((r + sh) % hp, (col + sw) % wp) for r, col in cells],
                                [region[r][col] for r, col in cells]))
    zero = [0.0] * c
    tokens = [x.data[((n_b * h + r) * w + col) * c:((n_b * h + r) * w + col + 1) * c] if r < h and col < w else zero
              for n_b, cells, _ in windows for r, col in cells]
    qkv = affine_rows(ctx, tokens, weight, bias)
    attended = []
    for k_win, (_, _, regions) in enumerate(windows):
        rows = qkv[k_win * n:(k_win + 1) * n]
        out = [[] for _ in range(n)]
        for head in range(heads):
            q = [r[head * hd:(head + 1) * hd] for r in rows]
            k = [r[c + head * hd:c + (head + 1) * hd] for r in rows]
            v = [r[2 * c + head * hd:2 * c + (head + 1) * hd] for r in rows]
            if v2:
                q, k = [normalize(o, vec) for vec in q], [normalize(o, vec) for vec in k]
            else:
                q = [[o.mul(e, hd ** -0.5) for e in vec] for vec in q]
            for i in range(n):
                scores = []
                for j in range(n):
                    s = sum(a * bb for a, bb in zip(q[i], k[j]))
                    ctx.macs += hd
                    if v2:
                        s = o.mul(s, scales[head])
                    s = o.add(s, rel[(head * n + i) * n + j])
                    if shifted:
                        s = o.add(s, 0.0 if regions[i] == regions[j] else -100.0)
                    scores.append(s)
                a = softmax_row(o, scores)
                for e in range(hd):
                    out[i].append(sum(a[j] * v[j][e] for j in range(n)))
                    ctx.macs += n
        attended += out
    proj_w = ctx.param("proj.weight", (c, c))
    proj_b = ctx.param("proj.bias", (c,), fan_in=c) if ctx.proj_bias else None
    projected = affine_rows(ctx, attended, proj_w, proj_b)
    y = [0.0] * x.numel
    for k_win, (n_b, cells, _) in enumerate(windows):
        for t, (r, col) in enumerate(cells):
            if r < h and col < w:
                start = ((n_b * h + r) * w + col) * c
                y[start:start + c] = projected[k_win * n + t]
    return Tensor(x.shape, y)


def shifted_window_attention_v2(ctx, x: Tensor) -> Tensor:
    return shifted_window_attention(ctx, x, v2=True)


KERNELS = {"MultiheadAttention": mha, "ScaledDotProductAttention": sdpa, "TransformerEncoderLayer": encoder_layer,
           "TransformerDecoderLayer": decoder_layer, "RotaryEmbedding": rotary_embedding,
           "GroupedQueryAttention": grouped_query_attention, "RelativePositionBias": relative_position_bias,
           "ShiftedWindowAttention": shifted_window_attention, "ShiftedWindowAttentionV2": shifted_window_attention_v2}
