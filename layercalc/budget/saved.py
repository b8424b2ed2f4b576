"""What autograd saves for backward, per layer type: one table, in one place.

``SAVED[type](c)`` returns the tensors that PyTorch's autograd keeps when the layer runs in train mode
with a grad_fn (some input requires grad, or the layer has trainable parameters), as a list of
``(where, bytes)``: ``where`` is ``"in0"``, ``"in1"``... (the storage of that input), ``"out"`` (the
storage of the output) or ``None`` (a tensor the layer makes and keeps). Parameters and buffers are
never listed (they are counted as weights). The caller counts each storage once, at the first layer
that saves it.

The context ``c`` gives the shapes and numbers of elements of the inputs and of the output, the
resolved arguments, which inputs require grad (``c.req``), whether the layer's weights do
(``c.w``), and the sizes that depend on the precision and the device:

- ``c.act``: bytes of an activation (4 for float32, 2 for bfloat16/float16);
- ``c.stat``: bytes of the per-row statistics of a normalization (mean, rstd): the activation's size
  on the CPU, float32 on CUDA (its accumulation type);
- ``c.mask``: bytes per element of a dropout mask: 1 on CUDA (a bool mask from ``native_dropout``),
  the activation's size on the CPU (``input * noise``);
- ``c.sdpa``: bytes of the math attention kernel's internals (scaled q and k, the probabilities, v):
  float32 on the CPU for a 16-bit activation (the CPU math kernel upcasts), the activation's otherwise;
- ``c.flash``: True for the flash kernel (``--attention flash``), which saves q, k, v, the output and
  the float32 log-sum-exp (B, heads, T) instead of the T x T probabilities.

Every entry was read from PyTorch (``torch.autograd.graph.saved_tensors_hooks``) and is checked by
``tests/test_memory_torch.py`` against it.
"""

from __future__ import annotations

from math import prod

from ..layers.attention import CPB_HIDDEN, relative_position_sizes
from ..layers.registry import takes_no_input
from ..layers.shapes import window_partition

# --- activations ------------------------------------------------------------------------------------

#: Element-wise layers whose backward needs their input.
SAVES_INPUT = ("CELU", "ELU", "SELU", "GELU", "Hardshrink", "Hardsigmoid", "Hardswish", "Hardtanh", "LeakyReLU",
               "Mish", "PReLU", "ReLU6", "SiLU", "Softplus", "Softshrink", "Threshold", "GLU", "Abs")
#: Element-wise layers whose backward needs their output.
SAVES_OUTPUT = ("ReLU", "Sigmoid", "Tanh", "Softmax", "LogSoftmax", "Softmin")
#: Layers that save nothing: shape changes, views, sums, concatenations, constant pads, nearest and
#: linear interpolation (their backward needs only sizes); RelativePositionBias gathers its table by
#: its index buffer, and the index that backward keeps is that buffer's storage (a view of it).
SAVES_NOTHING = ("Identity", "Add", "Sub", "Neg", "Concat", "Mean", "Flatten", "Unflatten", "Reshape", "Permute",
                 "Transpose", "Select", "Slice", "Expand", "Parameter", "Buffer", "RelativePositionBias", "PixelShuffle", "PixelUnshuffle",
                 "ChannelShuffle", "Upsample", "ConstantPad1d", "ConstantPad2d", "ConstantPad3d", "ZeroPad1d",
                 "ZeroPad2d", "ZeroPad3d", "CircularPad1d", "CircularPad2d", "CircularPad3d")


def _input(c):
    return [("in0", c.in_bytes(0))]


def _output(c):
    return [("out", c.out_bytes)]


def _nothing(c):
    return []


def _log_sigmoid(c):
    return [("in0", c.in_bytes(0)), (None, c.numel(0) * c.act)]  # input and the CPU kernel's buffer


def _rrelu(c):
    return [("in0", c.in_bytes(0)), (None, c.numel(0) * c.act)]  # input and the random slopes (train mode)


def _softsign(c):
    return [("in0", c.in_bytes(0)), (None, c.numel(0) * c.act)]  # x / (1 + |x|): x and the denominator


def _tanhshrink(c):
    return [(None, c.numel(0) * c.act)]  # x - tanh(x): tanh's result


# --- linear and convolution ----------------------------------------------------------------------------


def _linear(c):
    return [("in0", c.in_bytes(0))] if c.w else []  # the input, for the weight's gradient


def _conv(c):
    return [("in0", c.in_bytes(0))]  # convolution_backward keeps the input whenever it runs


def _bilinear(c):
    return [("in0", c.in_bytes(0)), ("in1", c.in_bytes(1))]


def _matmul(c):  # a @ b: a for b's gradient, b for a's
    out = []
    if c.req[1]:
        out.append(("in0", c.in_bytes(0)))
    if c.req[0]:
        out.append(("in1", c.in_bytes(1)))
    return out


def _mul(c):
    if len(c.req) == 1:  # x * number: backward needs only the number
        return []
    if len(c.req) > 2:  # folded left to right: each product keeps its two factors
        out, running = [], c.req[0]
        for i in range(1, len(c.req)):
            if c.req[i]:
                out.append(("in0", c.in_bytes(0)) if i == 1 else (None, c.out_numel * c.act))
            if running:
                out.append((f"in{i}", c.in_bytes(i)))
            running = running or c.req[i]
        return out
    return _matmul(c)


def _div(c):  # a / b: b for both gradients, a for b's
    if len(c.req) == 1:  # x / number needs only the number; number / x is x.reciprocal() * number: 1/x is kept
        return [(None, c.numel(0) * c.act)] if c.args.get("scalar_first") else []
    out = [("in1", c.in_bytes(1))]
    if c.req[1]:
        out.append(("in0", c.in_bytes(0)))
    return out


# --- normalization ----------------------------------------------------------------------------------


def _batch_norm(c):
    channels = c.shape(0)[1]
    return [("in0", c.in_bytes(0)), (None, 2 * channels * c.stat)]  # input, save_mean and save_invstd


def _instance_norm(c):
    """Batch norm over (1, B*C, ...): the input, 2 statistics per (sample, channel), and with affine the
    weight repeated B times (a tensor made from the parameter, saved)."""
    s = c.shape(0)
    groups = s[0] * s[1] if len(s) > c.rank_no_batch else s[0]
    repeated = groups * c.act if c.args.get("affine") else 0
    return [("in0", c.in_bytes(0)), (None, 2 * groups * c.stat + repeated)]


def _layer_norm(c):
    rows = c.numel(0) // prod(c.args["normalized_shape"])
    return [("in0", c.in_bytes(0)), (None, 2 * rows * c.stat)]  # input, mean and rstd per row


def _group_norm(c):
    return [("in0", c.in_bytes(0)), (None, 2 * c.shape(0)[0] * c.args["num_groups"] * c.stat)]


def _rms_norm(c):
    """Computed in float32: x (a float32 copy when 16-bit), rstd per row, and x * rstd for the weight."""
    rows = c.numel(0) // prod(c.args["normalized_shape"])
    out = []
    if c.req[0]:
        out.append(("in0", c.in_bytes(0)) if c.act == 4 else (None, c.numel(0) * 4))
        out.append((None, rows * 4))
    if c.w:
        out.append((None, c.numel(0) * 4))
    return out


def _lrn(c):
    s = c.shape(0)
    size = c.args["size"]
    padded = s[0] * (s[1] + size - 1) * prod(s[2:])  # the zero-padded squares
    return [("in0", c.in_bytes(0)), (None, padded * c.act), (None, 2 * c.numel(0) * c.act)]


# --- pooling --------------------------------------------------------------------------------------------


def _max_pool(c):
    return [("in0", c.in_bytes(0)), (None, c.out_numel * 8)]  # input and int64 indices


def _adaptive_avg_pool(c):
    if all(v == 1 for v in c.out_shape[2:]):
        return []  # an output of size 1 is a mean, which keeps only sizes
    return [("in0", c.in_bytes(0))]


def _lp_pool(c):  # x.pow(p), avg_pool, sign/abs/relu of the sum, pow(1/p)
    return [("in0", c.in_bytes(0)), (None, c.numel(0) * c.act), (None, 4 * c.out_numel * c.act)]


# --- dropout --------------------------------------------------------------------------------------------


def noise_bytes(p, n: int, mask: int, elem: int) -> int:
    """Bytes a dropout keeps for backward: its noise or mask, ``n`` elements of ``mask`` bytes; with p = 1
    torch computes ``input * zeros({})`` on every device and keeps that 0-dim zero (``elem`` bytes, the
    input's dtype); p = 0 keeps nothing."""
    return 0 if not p else elem if p == 1 else n * mask


def _dropout(c):
    p = c.args.get("p", 0)
    return [(None, noise_bytes(p, c.numel(0), c.mask, c.act))] if p else []


def _feature_dropout(c):
    p = c.args.get("p", 0)
    s = c.shape(0)
    per_channel = s[0] * s[1] if len(s) > c.rank_no_batch else s[0]
    return [(None, noise_bytes(p, per_channel, c.act, c.act))] if p else []  # noise: one value per channel


def _alpha_dropout(c):
    p = c.args.get("p", 0)
    return [(None, noise_bytes(p, c.numel(0), c.act, c.act))] if p else []


def _stochastic_depth(c):
    """torchvision's ``input * noise``: p = 0 hands back the input (nothing kept); otherwise the noise, one
    value per sample (mode "row", (N, 1, ..., 1)) or one for the batch ("batch"), in the input's dtype on
    every device (a Bernoulli tensor, not ``native_dropout``'s mask), p = 1 included (all zeros)."""
    if c.args["p"] == 0:
        return []
    values = c.shape(0)[0] if c.args["mode"] == "row" else 1
    return [(None, values * c.act)]


# --- embedding ----------------------------------------------------------------------------------------


def _embedding(c):
    return [("in0", c.in_bytes(0))] if c.w else []  # the indices


def _embedding_bag(c):
    """``_embedding_bag`` on the CPU, for B bags of L indices (N = B x L) of i bytes each (the input's
    dtype) and embedding_dim E: the indices (the input), the offsets (B x i, made by F.embedding_bag),
    offset2bag ((N + 1) x i; empty for mode sum without padding_idx), bag_size (B x i) and max_indices
    (B x E x i for mode max, B x i otherwise). Example: B = 3, L = 5, int64, mode mean:
    120 + 24 + 128 + 24 + 24 = 320 bytes."""
    if not c.w:
        return []
    s = c.shape(0)
    b = s[0] if len(s) == 2 else 1
    n = c.numel(0)
    i = c.in_bytes(0) // n if n else 8
    mode = c.args.get("mode", "mean")
    offset2bag = 0 if mode == "sum" and c.args.get("padding_idx") is None else (n + 1) * i
    max_indices = b * c.args["embedding_dim"] * i if mode == "max" else b * i
    return [("in0", c.in_bytes(0)), (None, b * i + offset2bag + b * i + max_indices)]


# --- attention ----------------------------------------------------------------------------------------


def _sdpa_core(c, b, h, lq, s, e, ev, v_where, v_bytes, dropout, req=(True, True, True)):
    """The attention kernel's own tensors: (math) scaled q and k, the probabilities, v; (flash) the log-sum-exp.
    ``dropout`` is the probability (0 or False: none).
    ``req`` says which of q, k, v require grad: the scaled q is kept for k's gradient, the scaled k for q's,
    v and (with dropout) the noise when the probabilities require grad, the dropped probabilities for v's."""
    if c.flash:
        return [(None, b * h * lq * 4)]
    rq, rk, rv = req
    probs = rq or rk
    out = [(None, b * h * lq * s * c.sdpa)]
    if rk:
        out.append((None, b * h * lq * e * c.sdpa))
    if rq:
        out.append((None, b * h * s * e * c.sdpa))
    if dropout:  # the mask (a bool mask on CUDA; the kernel's dtype on the CPU) and the dropped probabilities
        mask = c.mask if c.mask == 1 else c.sdpa
        if probs:
            out.append((None, noise_bytes(dropout, b * h * lq * s, mask, c.sdpa)))
        if rv:
            out.append((None, b * h * lq * s * c.sdpa))
    if probs:
        if c.sdpa != c.act:
            out.append((None, b * h * s * ev * c.sdpa))  # v, upcast
        else:
            out.append((v_where, v_bytes))
    return out


def _sdpa(c):
    q, k, v = c.shape(0), c.shape(1), c.shape(2)
    lead = prod(q[:-3]) if len(q) > 3 else 1
    h, lq, e = (q[-3], q[-2], q[-1]) if len(q) >= 3 else (1, q[-2], q[-1])
    s = k[-2]
    out = _sdpa_core(c, lead, h, lq, s, e, v[-1], "in2", c.in_bytes(2), c.args.get("dropout_p", 0), c.req[:3])
    if c.flash:
        out = [("in0", c.in_bytes(0)), ("in1", c.in_bytes(1)), ("in2", c.in_bytes(2))] + out + [("out", c.out_bytes)]
    return out


def _mha(c):
    """torch.nn.MultiheadAttention (``F.multi_head_attention_forward``) with 1, 2 or 3 inputs, E = embed_dim,
    B rows, L queries, S keys (S' with the extra rows of add_bias_kv and add_zero_attn), heads h.

    - The projections' inputs (when the weights are trainable): the query, key and value as they come, or
      a contiguous (L, B, E) copy of each when batch_first has B > 1 and L > 1 (a copy per projection).
    - The projected q, k, v: one batched input (self-attention): one packed 3 x B x L x E projection;
      two batched inputs (or the same key and value), kdim = vdim = E: q (B x L x E) and a packed
      2 x B x S x E key/value projection; otherwise (and always for unbatched inputs, which torch
      unsqueezes one by one) three projections. add_bias_kv and add_zero_attn
      make new k and v (B x S' x E each).
    - need_weights: q scaled (B x L x E), k, the probabilities (B x h x L x S'; with dropout the noise and
      the dropped probabilities), v. Otherwise the attention kernel (see ``_sdpa_core``; flash keeps q,
      k, v, its output and the log-sum-exp).
    - The output projection's input (L x B x E, made contiguous), when the weights are trainable."""
    a = c.args
    n_in = len(c.shapes)
    shapes = [c.shape(0), c.shape(min(1, n_in - 1)), c.shape(min(2, n_in - 1))]
    if n_in == 2:
        shapes[2] = shapes[1]
    batched = len(shapes[0]) == 3
    bf = a["batch_first"] and batched
    e, heads = a["embed_dim"], a["num_heads"]
    hd = e // heads
    x = c.act

    def rows(shape):
        return ((shape[0], shape[1]) if bf else (shape[1], shape[0])) if batched else (1, shape[0])

    b, lq = rows(shapes[0])
    s = rows(shapes[1])[1]
    kdim, vdim = a.get("kdim") or e, a.get("vdim") or e
    same_dim = kdim == e and vdim == e
    srcs = getattr(c, "srcs", None) or list(range(n_in))
    kv_same = n_in == 2 or (n_in == 3 and srcs[1] == srcs[2])
    which = [0, 0, 0] if n_in == 1 else [0, 1, 1] if n_in == 2 else [0, 1, 2]

    def read(i):
        shape = c.shape(i)
        if bf and shape[0] > 1 and shape[1] > 1:
            return (None, prod(shape) * x)  # the transposed input, made contiguous by the projection
        return (f"in{i}", c.in_bytes(i))

    out = []
    if n_in == 1 and batched:
        reads = [read(0)]
        q_st = k_st = v_st = ("qkv", 3 * b * lq * e * x)
    elif kv_same and same_dim and batched:
        reads = [read(0), read(which[1])]
        q_st, k_st = ("q", b * lq * e * x), ("kv", 2 * b * s * e * x)
        v_st = k_st
    else:
        reads = [read(which[i]) for i in range(3)]
        q_st, k_st, v_st = ("q", b * lq * e * x), ("k", b * s * e * x), ("v", b * s * e * x)
    s2 = s + (1 if a["add_bias_kv"] else 0) + (1 if a["add_zero_attn"] else 0)
    if s2 != s:
        k_st, v_st = ("k2", b * s2 * e * x), ("v2", b * s2 * e * x)
    if c.w:
        out += reads
    dropout = a["dropout"]  # the probability: 0, 1 (a 0-dim zero kept instead of a mask) or between
    req = [c.w or c.req[which[i]] for i in range(3)]  # q, k, v require grad
    if a["need_weights"]:  # the explicit path: q scaled, bmm, softmax, (dropout), bmm
        scores = b * heads * lq * s2 * x
        kept = dict([v_st]) if req[0] or req[1] else {}
        if req[0]:
            kept[k_st[0]] = k_st[1]
        out.append((None, scores))
        if req[1]:
            out.append((None, b * lq * e * x))
        out += [(None, size) for size in kept.values()]
        if dropout:
            out += [(None, noise_bytes(dropout, b * heads * lq * s2, c.mask, x))] if req[0] or req[1] else []
            out += [(None, scores)] if req[2] else []
    elif c.flash:
        out += [(None, size) for _, size in dict([q_st, k_st, v_st]).items()]
        out += [(None, b * heads * lq * 4), (None, b * lq * e * x)]  # the log-sum-exp and the kernel's output
        return out
    else:
        v_where, v_bytes = None, v_st[1]
        if v_st[0] == "qkv" and c.sdpa == x:
            v_bytes = v_st[1]
        out += _sdpa_core(c, b, heads, lq, s2, hd, hd, v_where, v_bytes, dropout, req)
    if c.w:
        out.append((None, b * lq * e * x))  # out_proj's input: (L, B, E) made contiguous
    return out


def _gqa(c):
    """Llama's attention: q/k/v projections, rotary on q and k, repeat of k/v heads, SDPA, o_proj."""
    a = c.args
    shape = c.shape(0)
    b, t = (shape[0], shape[1]) if len(shape) == 3 else (1, shape[0])
    heads = a["num_heads"]
    kv = a["num_kv_heads"] or heads
    hd = a["head_dim"] or a["embed_dim"] // heads
    out = [("in0", c.in_bytes(0))] if c.w else []
    if a["rotary"]:
        out.append((None, 2 * t * hd * c.act))  # the cos and sin tables, (T, head_dim) each
    qkv = b * t * hd * c.act
    if c.flash:
        k_bytes = qkv * (heads if kv != heads or a["rotary"] else kv)
        out += [(None, qkv * heads), (None, k_bytes), (None, qkv * heads if kv != heads else qkv * kv)]
        out.append((None, b * heads * t * 4))  # log-sum-exp
        out.append((None, b * t * heads * hd * c.act))  # the output, also o_proj's input
        return out
    v_bytes = qkv * (heads if kv != heads else kv)
    out += _sdpa_core(c, b, heads, t, t, hd, hd, None, v_bytes, False)
    if c.w:
        out.append((None, b * t * heads * hd * c.act))  # o_proj's input
    return out


def _window_attention(c):
    """torchvision's ShiftedWindowAttention and ShiftedWindowAttentionV2 (``shifted_window_attention``) in
    train mode, over R = T x N padded rows (T windows of N tokens, ``window_partition``), C = dim, h heads,
    S = T x h x N x N score elements. ``lo`` is the bytes of the products (the activation's; 16-bit under
    autocast), ``sc`` of the scores (the activation's; float32 under autocast, where the float32 position
    bias promotes them). The padded, rolled and partitioned input is always a new tensor (F.pad copies).

    - v1: qkv's input R x C (when the weights are trainable); q scaled and kᵀ copied for the product
      (R x C each); the softmax output S; v copied for the second product (R x C); proj's input R x C
      (trainable weights). With one head or one window, kᵀ and v are views of the whole qkv output
      (3 R x C) instead.
    - v2: qkv's input; the qkv output (3 R x C, kept by normalize through q and k); per row of q and k
      normalize's norm and its clamped copy (4 x T x h x N); normalize(q) and normalize(k)ᵀ (R x C
      each); exp(logit_scale) (h, float32 under autocast); with trainable weights the cosine scores for
      logit_scale's gradient (S), the position-bias MLP's hidden (M x 512, M = (2Wh - 1)(2Ww - 1)) and
      16 x sigmoid's output (h x N x N); the softmax output S; v (R x C; with one head or one window a
      view of the qkv output, already kept); proj's input.
    - attention_dropout: the noise (S, the scores' bytes on the CPU; a 1-byte mask on CUDA) and the
      dropped probabilities (S); dropout: the output's noise (R x C).
    - autocast: the 16-bit copies the lowered products keep: the probabilities (S x 2), qkv's weight
      (3C x C, when the input requires grad), proj's (C x C), and for v2 the coordinates table (M x 2)
      and cpb_mlp.2's weight (h x 512).
    """
    a = c.args
    b, hh, ww, ch = c.shape(0)
    heads = a["num_heads"]
    windows, n, _ = window_partition(b, hh, ww, a["window_size"], a["shift_size"])
    rows, scores = windows * n * ch, windows * heads * n * n
    amp = c.autocast
    lo, sc = c.act, (4 if amp else c.act)
    v2 = c.type == "ShiftedWindowAttentionV2"
    views = windows == 1 or heads == 1  # the products read k and v as views of the qkv output
    out = []
    if c.w:
        out.append((None, rows * lo))  # qkv's input
    if amp and c.req[0]:
        out.append((None, 3 * ch * ch * 2))  # qkv's weight, 16-bit
    if v2:
        if c.w:
            m, _ = relative_position_sizes(a["window_size"])
            if amp:
                out += [(None, m * 2 * 2), (None, heads * CPB_HIDDEN * 2)]  # the table and cpb_mlp.2's weight
            out += [(None, m * CPB_HIDDEN * lo), (None, heads * n * n * lo)]  # the hidden, 16 * sigmoid
        out += [(None, 3 * rows * lo), (None, 4 * windows * heads * n * lo), (None, 2 * rows * lo)]
        out.append((None, heads * (4 if amp else c.act)))  # exp(logit_scale)
        if c.w:
            out.append((None, scores * lo))  # the cosine scores, for logit_scale's gradient
    else:
        out += [(None, rows * lo), (None, (3 if views else 1) * rows * lo)]  # q scaled, kᵀ
    out.append((None, scores * sc))  # softmax's output
    if a["attention_dropout"] > 0:  # the noise, and the dropped probabilities
        out.append((None, noise_bytes(a["attention_dropout"], scores, 1 if c.mask == 1 else sc, sc)))
        if not amp:
            out.append((None, scores * sc))
    if amp:
        out.append((None, scores * 2))  # the probabilities, 16-bit
    if not views:
        out.append((None, rows * lo))  # v
    if c.w:
        out.append((None, rows * lo))  # proj's input
    if amp:
        out.append((None, ch * ch * 2))  # proj's weight, 16-bit
    if a["dropout"] > 0:
        out.append((None, noise_bytes(a["dropout"], rows, 1 if c.mask == 1 else lo, lo)))
    return out


def _rotary(c):
    s = c.shape(0)
    d = c.args.get("rotary_dim") or s[-1]
    t = s[1] if len(s) == 4 else s[-2]
    return [(None, 2 * t * d * c.act)]  # the cos and sin tables


def _sub(c, type, args, shapes, out_shape, req, w, elems=None, act=None):
    """The context of a sublayer: ``elems`` the bytes per element of its inputs, ``act`` of its output."""
    act = c.act if act is None else act
    elems = elems or [act] * len(shapes)
    s = c.__class__()
    s.type, s.args, s.shapes, s.out_shape = type, args, shapes, out_shape
    s.numels = [prod(x) for x in shapes]
    s.in_storage = [n * e for n, e in zip(s.numels, elems)]
    s.in_elems = elems
    s.out_numel = prod(out_shape)
    s.out_bytes = s.out_numel * act
    s.req, s.w = req, w
    s.act, s.stat, s.flash, s.rank_no_batch, s.cpu, s.srcs = act, c.stat, c.flash, 0, c.cpu, None
    s.mask = 1 if c.mask == 1 else act
    s.sdpa = c.sdpa if c.cpu else act
    s.autocast = getattr(c, "autocast", False)
    return s


class _Row:
    """The parts of a report row that ``autocast_copies`` reads, for a sublayer."""

    def __init__(self, type, args, input_shapes, param_shapes):
        self.type, self.args, self.input_shapes, self.param_shapes = type, args, input_shapes, param_shapes


def _transformer_steps(c):
    """The sublayers of torch.nn.TransformerEncoderLayer / TransformerDecoderLayer in the order torch runs
    them: (type, args, inputs, output, shape of the output); ``x`` is the layer's input (tgt), ``mem``
    the decoder's memory, ``out`` the layer's output."""
    a = c.args
    shape = c.shape(0)
    d, ff, p = a["d_model"], a["dim_feedforward"], a["dropout"]
    ff_shape = list(shape[:-1]) + [ff]
    mha = {"embed_dim": d, "num_heads": a["nhead"], "dropout": p, "bias": a["bias"], "add_bias_kv": False,
           "add_zero_attn": False, "batch_first": a["batch_first"], "need_weights": False}
    norm = {"normalized_shape": (d,)}
    act = "ReLU" if a["activation"] == "relu" else "GELU"
    drop = {"p": p}
    decoder = c.type == "TransformerDecoderLayer"
    steps = []
    if a["norm_first"]:  # x = x + block(norm(x)), for each block
        blocks = [("sa", []), ("ca", ["mem"])] if decoder else [("sa", [])]
        last = "x"
        for k, (block, extra) in enumerate(blocks + [("ff", [])]):
            normed = f"n{k + 1}"
            steps.append(("LayerNorm", norm, [last], normed, shape))
            if block == "ff":
                steps += [("Linear", {}, [normed], "l1", ff_shape), (act, {}, ["l1"], "a", ff_shape),
                          ("Dropout", drop, ["a"], "d", ff_shape), ("Linear", {}, ["d"], "l2", shape)]
                made = "l2"
            else:
                steps.append(("MultiheadAttention", mha, [normed] + extra, block, shape))
                made = block
            steps.append(("Dropout", drop, [made], f"d{k + 1}", shape))
            res = "out" if block == "ff" else f"r{k + 1}"
            steps.append(("Add", {}, [last, f"d{k + 1}"], res, shape))
            last = res
    else:  # x = norm(x + block(x)), for each block
        blocks = [("sa", []), ("ca", ["mem"])] if decoder else [("sa", [])]
        last = "x"
        blocks = blocks + [("ff", [])]
        for k, (block, extra) in enumerate(blocks):
            if block == "ff":
                steps += [("Linear", {}, [last], "l1", ff_shape), (act, {}, ["l1"], "a", ff_shape),
                          ("Dropout", drop, ["a"], "d", ff_shape), ("Linear", {}, ["d"], "l2", shape)]
                made = "l2"
            else:
                steps.append(("MultiheadAttention", mha, [last] + extra, block, shape))
                made = block
            steps.append(("Dropout", drop, [made], f"d{k + 1}", shape))
            steps.append(("Add", {}, [last, f"d{k + 1}"], f"r{k + 1}", shape))
            normed = "out" if k == len(blocks) - 1 else f"n{k + 1}"
            steps.append(("LayerNorm", norm, [f"r{k + 1}"], normed, shape))
            last = normed
    return steps


def _encoder(c):
    """torch.nn.TransformerEncoderLayer and TransformerDecoderLayer as their sublayers run (self-attention;
    for the decoder, cross-attention on the memory, a MultiheadAttention with the memory as key and value;
    dropouts, norms, feed-forward: ``_transformer_steps``), each sublayer by its own rule, each storage
    once; the fast path of TransformerEncoderLayer is not taken in train mode."""
    shape = c.shape(0)
    p = c.args["dropout"]
    req = {"x": c.req[0]}
    shapes = {"x": shape}
    where_of = {"x": ("in0", c.in_bytes(0))}
    if len(c.shapes) > 1:
        req["mem"] = c.req[1]
        shapes["mem"] = c.shape(1)
        where_of["mem"] = ("in1", c.in_bytes(1))
    alias = {}
    autocast = getattr(c, "autocast", False)
    elems = {"x": c.in_elems[0] if autocast else c.act}
    if len(c.shapes) > 1:
        elems["mem"] = c.in_elems[1] if autocast else c.act
    out, seen = [], set()
    for t, args, ins, name, oshape in _transformer_steps(c):
        r = [req[i] for i in ins]
        w = c.w and t in ("MultiheadAttention", "LayerNorm", "Linear")
        req[name] = any(r) or w
        shapes[name] = oshape
        in_elems = [elems[i] for i in ins]
        elems[name] = autocast_dtype(t, in_elems) if autocast else c.act
        if t == "Dropout" and p == 0:
            alias[name] = alias.get(ins[0], ins[0])  # dropout(p=0) hands back its input
        if not req[name]:
            continue
        in_shapes = [shapes[i] for i in ins]
        items = SAVED[t](_sub(c, t, args, in_shapes, oshape, r, w, in_elems, elems[name]))
        if autocast and t in LOWERED:  # 16-bit copies of float32 inputs and of the weights
            params = {"weight": (oshape[-1], in_shapes[0][-1])} if t == "Linear" else {}
            items = autocast_copies(_Row(t, args, in_shapes, params), items, in_elems, r)
        for where, size in items:
            key = None if where is None else alias.get(name, name) if where == "out" else alias.get(
                ins[int(where[2:])], ins[int(where[2:])])
            if key is None:
                out.append((None, size))
            elif key not in seen:
                seen.add(key)
                out.append(where_of[key] if key in where_of else ("out", c.out_bytes) if key == "out"
                           else (None, size))
    return out


# --- recurrent ---------------------------------------------------------------------------------------


def _good_ld(n, size):
    """oneDNN's leading dimension of a matrix of rows of ``n`` elements of ``size`` bytes: ``n`` rounded up
    to 64 bytes, and 64 bytes more when the result is a multiple of 256 elements."""
    step = 64 // size
    ld = -(-n // step) * step
    return ld + step if ld % 256 == 0 else ld


def _pages(n):
    return -(-n // 4096) * 4096


def onednn_lstm_workspace(t, b, i, h, e):
    """Bytes of the workspace that oneDNN's LSTM keeps for backward, for one layer and direction
    (``mkldnn_rnn_layer``: T steps, B rows, input width I, hidden size H, ``e`` bytes per element of the
    activations, the differentials in float32). Seven parts, each rounded up to a 4,096-byte page:

    - gates: T x B x ld(4H, e) x e; the h of each step: T x B x ld(H, e) x e;
    - the states (layer and iteration share one buffer): 2 x (T + 1) x B x ld(max(I, H), e) x e;
    - the c states: 2 x (T + 1) x B x H x e;
    - the differentials of the states, layer and iteration: 2 x (T + 1) x B x ld(max(I, H), 4) x 4 each;
    - the differentials of the c states: 2 x (T + 1) x B x H x 4;

    where ld(n, e) = n rounded up to a multiple of 64 / e, plus 64 / e when that is a multiple of 256.
    Example: T = 4, B = 2, I = 3, H = 5, float32: 1,024 + 512 + 1,280 + 400 + 1,280 + 1,280 + 400 bytes,
    seven pages: 28,672 bytes."""
    rows = 2 * (t + 1) * b
    parts = (t * b * _good_ld(4 * h, e) * e, t * b * _good_ld(h, e) * e, rows * _good_ld(max(i, h), e) * e,
             rows * h * e, rows * _good_ld(max(i, h), 4) * 4, rows * _good_ld(max(i, h), 4) * 4, rows * h * 4)
    return sum(_pages(p) for p in parts)


def _recurrent_sizes(c):
    """(batch_first with a batch, T, B, input size, hidden size, proj_size or 0, the state's size, layers,
    directions) of a recurrent layer."""
    a, s = c.args, c.shape(0)
    batched = len(s) == 3
    bf = a.get("batch_first") and batched
    t = s[1] if bf else s[0]
    b = (s[0] if bf else s[1]) if batched else 1
    h = a["hidden_size"]
    proj = a.get("proj_size") or 0
    return bf, t, b, s[-1], h, proj, proj or h, a["num_layers"], 2 if a.get("bidirectional") else 1


def _recurrent(c):
    """RNN, LSTM and GRU as torch runs them in train mode on the CPU, per layer l and direction, with T
    steps, B rows (1 unbatched), hidden size H, R = proj_size or H (the size of h), D directions, L
    layers, e bytes per element.

    The initial states are zeros that torch makes in ``forward``: h0 (L x D x B x R) and, for LSTM, c0
    (L x D x B x H), one storage each, saved by the first step that uses them. With ``batch_first`` and
    B > 1 and T > 1 the first layer reads a contiguous (T, B, I) copy of the input (one per direction on the
    step-by-step path), otherwise the input itself.
    Between layers, dropout (p > 0) keeps its noise (T x B x D x R) and the next layer reads the dropped
    values (a new tensor); with D = 2 the next layer reads the concatenation of the two directions.

    LSTM without projection in float32 or bfloat16 runs oneDNN's kernel (``mkldnn_rnn_layer``) per layer
    and direction, which keeps, whatever requires grad: h0, c0, its input, its output (T x B x H), the
    last h and c (B x H each) and its workspace (:func:`onednn_lstm_workspace`); without bias, also the
    two tensors that stand in for the biases, of the weights' shapes (4H x I_l and 4H x H).

    The others run one step at a time (torch's ``_VF`` kernels decomposed): the input projection of the
    whole sequence keeps the layer's input (when the weights are trainable; both directions read one),
    and each step t keeps (B x H each unless said):

    - RNN: the output of tanh or relu (the new h);
    - GRU: the three hidden gates (3 x B x H: r and z after sigmoid), a copy of the hidden candidate
      before it is multiplied by r, n = tanh(...), and a copy of h - n before it is multiplied by z;
    - LSTM (with projection): the four gates (4 x B x H), tanh(c_t), and h_t before the projection;
    - and, when the weights are trainable, the h of the step before (h0, then the output of the
      previous step: B x R); LSTM also c of the step before (c0, then the previous c_t) always.
    """
    a = c.args
    e = c.act
    bf, t, b, i, h, proj, r, layers, dirs = _recurrent_sizes(c)
    lstm = c.type == "LSTM"
    onednn = lstm and not proj and c.cpu and e in (2, 4)
    if getattr(c, "autocast", False):
        return _recurrent_autocast(c)
    p = a.get("dropout") or 0
    out = []
    copy = bf and b > 1 and t > 1  # (B, T, I) read as (T, B, I): a copy unless B or T is 1
    state = [(None, layers * dirs * b * r * e)]  # h0
    if lstm:
        state.append((None, layers * dirs * b * h * e))  # c0
    for layer in range(layers):
        width = i if layer == 0 else dirs * r
        if layer == 0:
            reads = (None, t * b * i * e) if copy else ("in0", c.in_bytes(0))
        elif onednn and dirs == 1 and not p:
            reads = None  # the previous layer's output, already kept
        else:
            reads = (None, t * b * width * e)  # the stacked output, the concatenation, or the dropped values
        if onednn:
            if layer == 0:
                out += state
            if reads is not None:
                out.append(reads)
            for _ in range(dirs):
                if not a.get("bias", True):  # zeros of the weights' shapes stand in for the biases
                    out += [(None, 4 * h * width * e), (None, 4 * h * h * e)]
                out += [(None, t * b * h * e), (None, 2 * b * h * e), (None, onednn_lstm_workspace(t, b, width, h, e))]
        else:
            if layer == 0 and lstm:
                out.append(state[1])  # c0, for f * c of the first step
            if layer == 0 and c.w:
                out.append(state[0])  # h0, for the weight's gradient of the first step
            if c.w:  # a (T, B, I) copy of a batch_first input is made by each direction's projection
                out += [reads] * (dirs if layer == 0 and copy else 1)
            per_step = {"RNN": 1, "GRU": 6, "LSTM": 5 + (1 if proj and c.w else 0)}[c.type]
            kept = t * per_step * b * h
            if c.w and not c.type == "RNN":
                kept += (t - 1) * b * r  # the previous h (RNN's is the activation's output, kept already)
            if lstm:
                kept += (t - 1) * b * h  # the previous c
            out += [(None, kept * e)] * dirs
        if layer < layers - 1 and p:  # dropout's noise (input * noise on the CPU)
            out.append((None, noise_bytes(p, t * b * dirs * r, c.mask, c.act)))
    return out


def _recurrent_autocast(c):
    """RNN, LSTM and GRU under torch.autocast (16-bit, e = 2) on the CPU: as ``_recurrent``, with x the bytes
    per element of the layer's input; the zero initial states are made in the input's dtype.

    - oneDNN's LSTM is a lower-precision op: per layer and direction it keeps 16-bit copies of h0 and
      c0 (B x H each; with a 16-bit input, the zeros themselves, once), of a float32 input (one per
      direction), of its four weights (4H x I_l, 4H x H, and the biases, or without bias two tensors of
      the weights' shapes), and its output, last h and c and workspace in 16 bits.
    - The step-by-step kernels run their products (the input projection, h W_hh, the projection) in 16
      bits on 16-bit copies of float32 operands, and their element-wise steps in the widest dtype of
      their operands: with a float32 input GRU's h and LSTM's c stay float32 (so its copy of h - n,
      tanh(c_t) and h_t before the projection are float32), RNN's h and the gates are 16-bit. The
      previous h is kept as a 16-bit copy when it is float32. The 16-bit copies of the weights are
      kept once each when trainable (autocast caches them); frozen weights are cast at every use, and
      W_hh is kept at each step from the second; W_hr is used transposed (a view, never cached) and its
      copy is kept at every step."""
    a = c.args
    xe = c.in_elems[0]
    bf, t, b, i, h, proj, r, layers, dirs = _recurrent_sizes(c)
    kind = c.type
    gates = {"RNN": 1, "GRU": 3, "LSTM": 4}[kind]
    onednn = kind == "LSTM" and not proj and c.cpu
    p = a.get("dropout") or 0
    copy = bf and b > 1 and t > 1
    out = []
    le = xe  # bytes per element of the current layer's input
    for layer in range(layers):
        width = i if layer == 0 else dirs * r
        first = layer == 0
        if first and le == 2:  # a contiguous copy under batch_first: one per direction step by step
            reads = [(None, t * b * i * 2)] * (1 if onednn else dirs) if copy else [("in0", c.in_bytes(0))]
        elif first:
            reads = [(None, t * b * i * 2)] * dirs  # a 16-bit copy per direction
        elif onednn and dirs == 1 and not p:
            reads = []
        elif le == 4:
            reads = [(None, t * b * width * 2)] * dirs
        else:
            reads = [(None, t * b * width * 2)]
        req_in = c.req[0] if first else (c.req[0] or c.w)
        if onednn:
            if xe == 2 and first:
                out += [(None, layers * dirs * b * h * 2)] * 2  # h0 and c0
            elif xe == 4:
                out += [(None, 2 * b * h * 2)] * dirs  # 16-bit copies of h0 and c0, per layer and direction
            out += reads
            for _ in range(dirs):
                weights = 4 * h * width + 4 * h * h
                out.append((None, (weights + (8 * h if a.get("bias", True) else weights)) * 2))
                out += [(None, t * b * h * 2), (None, 2 * b * h * 2), (None, onednn_lstm_workspace(t, b, width, h, 2))]
            le = 2
        else:
            he = xe  # h0 and c0 are zeros of the input's dtype
            if first and kind == "LSTM":
                out.append((None, layers * dirs * b * h * xe))  # c0
            if first and c.w and xe == 2:
                out.append((None, layers * dirs * b * r * 2))  # h0, 16-bit already
            if c.w:
                out += reads
            for _ in range(dirs):
                kept = 0
                if req_in:
                    kept += gates * h * width  # W_ih's copy
                if c.w and xe == 4:
                    kept += b * r  # h0's 16-bit copy
                if t > 1 and (c.w or c.req[0]):
                    kept += gates * h * r * (1 if c.w else t - 1)  # W_hh's copies
                if kind == "RNN":
                    kept += t * b * h  # tanh or relu, 16-bit
                    if c.w:
                        pass  # the previous h is that output
                    kept *= 2
                elif kind == "GRU":
                    wide = max(he, 2)
                    kept = kept * 2 + t * b * h * (5 * 2 + wide)  # 3 gates, copy of hn, n; copy of h - n
                    if c.w:
                        kept += (t - 1) * b * h * 2  # the previous h (or its 16-bit copy)
                else:  # LSTM with a projection
                    wide = max(he, 2)
                    kept = kept * 2 + t * b * h * (4 * 2 + wide)  # 4 gates; tanh(c_t)
                    kept += (t - 1) * b * h * wide  # the previous c
                    if c.w:
                        kept += t * b * h * 2 + (t - 1) * b * r * 2  # h_t's 16-bit copy, the previous h
                    kept += t * proj * h * 2  # W_hr^T's copy, cast at every step (a view is not cached)
                out.append((None, kept))
            le = max(he, 2) if kind == "GRU" else 2
        if layer < layers - 1 and p:  # dropout's noise
            out.append((None, noise_bytes(p, t * b * dirs * r, 1 if c.mask == 1 else le, le)))
    return out


def _cell(c):
    """RNNCell, LSTMCell and GRUCell as one step of ``_recurrent``'s step-by-step kernels (B rows, hidden size
    H): the cell makes h (and, for LSTM, c: the same zeros) in ``forward``; with trainable weights the input
    and those zeros (B x H) for the products' weight gradients; then RNNCell its output, GRUCell 6 x B x H
    (three gates, copies of the candidate and of h - n, n), LSTMCell the zeros as c, the four gates and
    tanh(c'): 5 x B x H. Under autocast the products are 16-bit on 16-bit copies of float32 operands, with
    W_ih's 16-bit copy when the input requires grad (W_hh's is not kept: the zeros need no gradient), and the
    element-wise update in the widest dtype (a float32 input keeps GRU's and LSTM's h float32)."""
    h = c.args["hidden_size"]
    s = c.shape(0)
    b = s[0] if len(s) == 2 else 1
    gates = {"RNNCell": 1, "GRUCell": 3, "LSTMCell": 4}[c.type]
    if getattr(c, "autocast", False):
        xe = c.in_elems[0]
        wide = max(xe, 2)
        out = []
        if c.w:
            out += [(None, c.numel(0) * 2) if xe == 4 else ("in0", c.in_bytes(0)), (None, b * h * 2)]  # x, h0
        if c.req[0]:
            out.append((None, gates * h * s[-1] * 2))  # W_ih's copy
        if c.type == "RNNCell":
            out.append(("out", c.out_bytes))
        elif c.type == "GRUCell":
            out.append((None, b * h * (5 * 2 + wide)))
        else:
            c0 = 0 if c.w and xe == 2 else xe  # the zeros (of the input's dtype), unless kept already as h0
            out.append((None, b * h * (4 * 2 + c0 + wide)))  # the gates, c0, tanh(c')
        return out
    e = c.act
    out = [("in0", c.in_bytes(0)), (None, b * h * e)] if c.w else []  # the input, the zeros
    if c.type == "RNNCell":
        out.append(("out", c.out_bytes))
    elif c.type == "GRUCell":
        out.append((None, 6 * b * h * e))
    else:
        out.append((None, (5 + (0 if c.w else 1)) * b * h * e))  # (the zeros as c), the gates, tanh(c')
    return out


# --- torch.autocast --------------------------------------------------------------------------------------

#: torch.autocast's lower-precision ops: their outputs are 16-bit, their float32 inputs and weights are cast
#: to 16-bit copies, and those copies are what backward keeps.
LOWERED = frozenset({"Linear", "Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d",
                     "MatMul", "MultiheadAttention", "GroupedQueryAttention", "ScaledDotProductAttention"})
#: Ops whose output takes the widest dtype of their inputs under autocast.
PROMOTE = frozenset({"Add", "Sub", "Mul", "Div", "Concat"})


def autocast_dtype(type: str, ins: list) -> int:
    """Bytes per element of a layer's output under torch.autocast (16-bit lowered, float32 otherwise kept)."""
    if type in LOWERED:
        return 2
    if type in ("LSTM", "RNN", "RNNCell", "ShiftedWindowAttention", "ShiftedWindowAttentionV2"):
        # oneDNN's LSTM is lowered; RNN's h and a projected LSTM's h come from 16-bit products; Swin's
        # attention ends in its lowered proj
        return 2
    if type in ("Embedding", "EmbeddingBag") or takes_no_input(type) or not ins:
        return 4  # the float32 weight itself
    if type in PROMOTE:
        return max(ins)
    return ins[0]


def autocast_copies(row, items, in_elems, req) -> list:
    """A lowered layer saves 16-bit copies: of its float32 inputs instead of them, and of the weights its
    backward multiplies by (a Linear's when its input requires grad, a convolution's always, the output
    projection of attention always)."""
    out = []
    for where, size in items:
        if where is not None and where.startswith("in") and in_elems[int(where[2:])] == 4:
            k = int(where[2:])
            n = prod(row.input_shapes[k])
            copies = 3 if row.type == "GroupedQueryAttention" else 1  # q, k and v cast the input each
            out += [(None, n * 2)] * copies
        else:
            out.append((where, size))
    p = row.param_shapes
    t = row.type
    if t == "Linear" and req and req[0]:
        out.append((None, prod(p["weight"]) * 2))
    elif t.startswith(("Conv", "ConvTranspose")):
        out.append((None, prod(p["weight"]) * 2))
    elif t == "MultiheadAttention":  # the query's, key's and value's parts of the input projection, as needed
        a = row.args
        e = a["embed_dim"]
        n = len(row.input_shapes)
        rq, rk, rv = [req[i] for i in ((0, 0, 0) if n == 1 else (0, 1, 1) if n == 2 else (0, 1, 2))]
        out.append((None, e * (e * rq + (a.get("kdim") or e) * rk + (a.get("vdim") or e) * rv) * 2))
        out.append((None, e * e * 2))  # out_proj's
    elif t == "GroupedQueryAttention":
        if req[0]:
            out.append((None, sum(prod(p[f"{x}_proj.weight"]) for x in "qkv") * 2))
        out.append((None, prod(p["o_proj.weight"]) * 2))
    return out


# --- the table ------------------------------------------------------------------------------------------

SAVED = {}
for _t in SAVES_INPUT:
    SAVED[_t] = _input
for _t in SAVES_OUTPUT:
    SAVED[_t] = _output
for _t in SAVES_NOTHING:
    SAVED[_t] = _nothing
SAVED.update({
    "LogSigmoid": _log_sigmoid, "RReLU": _rrelu, "Softsign": _softsign, "Tanhshrink": _tanhshrink,
    "Linear": _linear, "Bilinear": _bilinear, "MatMul": _matmul, "Mul": _mul, "Div": _div,
    "BatchNorm1d": _batch_norm, "BatchNorm2d": _batch_norm, "BatchNorm3d": _batch_norm,
    "InstanceNorm1d": _instance_norm, "InstanceNorm2d": _instance_norm, "InstanceNorm3d": _instance_norm,
    "LayerNorm": _layer_norm, "GroupNorm": _group_norm, "RMSNorm": _rms_norm, "LocalResponseNorm": _lrn,
    "Embedding": _embedding, "EmbeddingBag": _embedding_bag,
    "ScaledDotProductAttention": _sdpa, "MultiheadAttention": _mha, "GroupedQueryAttention": _gqa,
    "RotaryEmbedding": _rotary, "ShiftedWindowAttention": _window_attention,
    "ShiftedWindowAttentionV2": _window_attention, "TransformerEncoderLayer": _encoder, "TransformerDecoderLayer": _encoder, "LSTM": _recurrent, "GRU": _recurrent, "RNN": _recurrent,
    "LSTMCell": _cell, "GRUCell": _cell, "RNNCell": _cell,
    "Dropout": _dropout, "AlphaDropout": _alpha_dropout, "Dropout1d": _feature_dropout,
    "Dropout2d": _feature_dropout, "Dropout3d": _feature_dropout, "FeatureAlphaDropout": _feature_dropout,
    "StochasticDepth": _stochastic_depth,
})
for _n in (1, 2, 3):
    SAVED[f"Conv{_n}d"] = SAVED[f"ConvTranspose{_n}d"] = _conv
    SAVED[f"MaxPool{_n}d"] = SAVED[f"AdaptiveMaxPool{_n}d"] = _max_pool
    SAVED[f"AvgPool{_n}d"] = _input
    SAVED[f"AdaptiveAvgPool{_n}d"] = _adaptive_avg_pool
    SAVED[f"LPPool{_n}d"] = _lp_pool
    SAVED[f"ReflectionPad{_n}d"] = SAVED[f"ReplicationPad{_n}d"] = _input

#: Types whose output is a view of their first input (same storage): saving it keeps the input's storage.
VIEWS = frozenset({"Identity", "Flatten", "Unflatten", "Reshape", "Permute", "Transpose", "Select", "Slice",
                   "Expand"})
