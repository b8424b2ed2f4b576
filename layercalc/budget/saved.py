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
``tests/test_memory_torch.py`` against it. Recurrent layers (RNN, LSTM, GRU) are an estimate: see
docs/memory.md.
"""

from __future__ import annotations

from math import prod

# --- activations ------------------------------------------------------------------------------------

#: Element-wise layers whose backward needs their input.
SAVES_INPUT = ("CELU", "ELU", "SELU", "GELU", "Hardshrink", "Hardsigmoid", "Hardswish", "Hardtanh", "LeakyReLU",
               "Mish", "PReLU", "ReLU6", "SiLU", "Softplus", "Softshrink", "Threshold", "GLU", "Abs")
#: Element-wise layers whose backward needs their output.
SAVES_OUTPUT = ("ReLU", "Sigmoid", "Tanh", "Softmax", "LogSoftmax", "Softmin")
#: Layers that save nothing: shape changes, views, sums, concatenations, constant pads, nearest and
#: linear interpolation (their backward needs only sizes).
SAVES_NOTHING = ("Identity", "Add", "Sub", "Neg", "Concat", "Mean", "Flatten", "Unflatten", "Reshape", "Permute",
                 "Transpose", "Select", "Slice", "Expand", "Parameter", "Buffer", "PixelShuffle", "PixelUnshuffle",
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


def _dropout(c):
    if c.args.get("p", 0) == 0:
        return []
    return [(None, c.numel(0) * c.mask)]


def _feature_dropout(c):
    if c.args.get("p", 0) == 0:
        return []
    s = c.shape(0)
    per_channel = s[0] * s[1] if len(s) > c.rank_no_batch else s[0]
    return [(None, per_channel * c.act)]  # input * noise: noise is one value per channel


def _alpha_dropout(c):
    if c.args.get("p", 0) == 0:
        return []
    return [(None, c.numel(0) * c.act)]


# --- embedding ----------------------------------------------------------------------------------------


def _embedding(c):
    return [("in0", c.in_bytes(0))] if c.w else []  # the indices


# --- attention ----------------------------------------------------------------------------------------


def _sdpa_core(c, b, h, lq, s, e, ev, v_where, v_bytes, dropout):
    """The attention kernel's own tensors: (math) scaled q and k, the probabilities, v; (flash) the log-sum-exp."""
    if c.flash:
        return [(None, b * h * lq * 4)]
    out = [(None, b * h * lq * e * c.sdpa), (None, b * h * s * e * c.sdpa), (None, b * h * lq * s * c.sdpa)]
    if dropout:  # the mask (a bool mask on CUDA; the kernel's dtype on the CPU) and the dropped probabilities
        mask = c.mask if c.mask == 1 else c.sdpa
        out += [(None, b * h * lq * s * mask), (None, b * h * lq * s * c.sdpa)]
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
    out = _sdpa_core(c, lead, h, lq, s, e, v[-1], "in2", c.in_bytes(2), c.args.get("dropout_p", 0) > 0)
    if c.flash:
        out = [("in0", c.in_bytes(0)), ("in1", c.in_bytes(1)), ("in2", c.in_bytes(2))] + out + [("out", c.out_bytes)]
    return out


def _mha(c):
    """torch.nn.MultiheadAttention as self-attention (one input): in_proj, attention, out_proj."""
    a = c.args
    shape = c.shape(0)
    batched = len(shape) == 3
    e, heads = a["embed_dim"], a["num_heads"]
    b = (shape[0] if a["batch_first"] else shape[1]) if batched else 1
    t = (shape[1] if a["batch_first"] else shape[0]) if batched else shape[0]
    hd = e // heads
    s = t + (1 if a["add_bias_kv"] else 0) + (1 if a["add_zero_attn"] else 0)
    out = []
    if c.w:  # in_proj's input: (T, B, E) rows; a contiguous copy when batch_first puts B > 1 first
        out.append(("in0", c.in_bytes(0)) if not (batched and a["batch_first"] and b > 1)
                   else (None, c.numel(0) * c.act))
    packed = 3 * b * t * e * c.act  # q, k, v from one projection: one storage
    if a["add_bias_kv"] or a["add_zero_attn"]:
        packed = b * s * e * c.act  # v: a new tensor with the extra key/value rows
    dropout = a["dropout"] > 0
    if a["need_weights"]:  # the explicit path: baddbmm, softmax, (dropout), bmm
        scores = b * heads * t * s * c.act
        out += [(None, b * t * e * c.act), (None, packed), (None, scores)]
        if dropout:
            out += [(None, b * heads * t * s * c.mask), (None, scores)]
    else:
        if c.flash:
            out += [(None, packed), (None, b * heads * t * 4), (None, b * t * e * c.act)]
            return out
        out += _sdpa_core(c, b, heads, t, s, hd, hd, None, packed, dropout)
    if c.w:
        out.append((None, b * t * e * c.act))  # out_proj's input: (T, B, E) made contiguous
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


def _rotary(c):
    s = c.shape(0)
    d = c.args.get("rotary_dim") or s[-1]
    t = s[1] if len(s) == 4 else s[-2]
    return [(None, 2 * t * d * c.act)]  # the cos and sin tables


def _sub(c, type, args, shapes, out_shape, req, w):
    s = c.__class__()
    s.type, s.args, s.shapes, s.out_shape = type, args, shapes, out_shape
    s.numels = [prod(x) for x in shapes]
    s.in_storage = [n * c.act for n in s.numels]
    s.out_numel = prod(out_shape)
    s.out_bytes = s.out_numel * c.act
    s.req, s.w = req, w
    s.act, s.stat, s.mask, s.sdpa, s.flash, s.rank_no_batch = c.act, c.stat, c.mask, c.sdpa, c.flash, 0
    return s


def _encoder(c):
    """torch.nn.TransformerEncoderLayer as its sublayers run (self-attention, dropouts, norms, feed-forward),
    each storage once; ``x`` is the layer's input, ``out`` its output."""
    a = c.args
    shape = c.shape(0)
    d, ff, p = a["d_model"], a["dim_feedforward"], a["dropout"]
    ff_shape = list(shape[:-1]) + [ff]
    mha = {"embed_dim": d, "num_heads": a["nhead"], "dropout": p, "bias": a["bias"], "add_bias_kv": False,
           "add_zero_attn": False, "batch_first": a["batch_first"], "need_weights": False}
    norm = {"normalized_shape": (d,)}
    act = "ReLU" if a["activation"] == "relu" else "GELU"
    drop = {"p": p}
    # (type, args, inputs, output, shape of the output)
    if a["norm_first"]:
        steps = [("LayerNorm", norm, ["x"], "n1", shape), ("MultiheadAttention", mha, ["n1"], "sa", shape),
                 ("Dropout", drop, ["sa"], "d1", shape), ("Add", {}, ["x", "d1"], "r1", shape),
                 ("LayerNorm", norm, ["r1"], "n2", shape), ("Linear", {}, ["n2"], "l1", ff_shape),
                 (act, {}, ["l1"], "a", ff_shape), ("Dropout", drop, ["a"], "d", ff_shape),
                 ("Linear", {}, ["d"], "l2", shape), ("Dropout", drop, ["l2"], "d2", shape),
                 ("Add", {}, ["r1", "d2"], "out", shape)]
    else:
        steps = [("MultiheadAttention", mha, ["x"], "sa", shape), ("Dropout", drop, ["sa"], "d1", shape),
                 ("Add", {}, ["x", "d1"], "r1", shape), ("LayerNorm", norm, ["r1"], "n1", shape),
                 ("Linear", {}, ["n1"], "l1", ff_shape), (act, {}, ["l1"], "a", ff_shape),
                 ("Dropout", drop, ["a"], "d", ff_shape), ("Linear", {}, ["d"], "l2", shape),
                 ("Dropout", drop, ["l2"], "d2", shape), ("Add", {}, ["n1", "d2"], "r2", shape),
                 ("LayerNorm", norm, ["r2"], "out", shape)]
    req = {"x": c.req[0]}
    alias = {}
    shapes = {"x": shape}
    out, seen = [], set()
    for t, args, ins, name, oshape in steps:
        r = [req[i] for i in ins]
        w = c.w and t in ("MultiheadAttention", "LayerNorm", "Linear")
        req[name] = any(r) or w
        shapes[name] = oshape
        if t == "Dropout" and p == 0:
            alias[name] = alias.get(ins[0], ins[0])  # dropout(p=0) hands back its input
        if not req[name]:
            continue
        for where, size in SAVED[t](_sub(c, t, args, [shapes[i] for i in ins], oshape, r, w)):
            key = None if where is None else alias.get(name, name) if where == "out" else alias.get(
                ins[int(where[2:])], ins[int(where[2:])])
            if key is None:
                out.append((None, size))
            elif key not in seen:
                seen.add(key)
                out.append(("in0", c.in_bytes(0)) if key == "x" else ("out", c.out_bytes) if key == "out"
                           else (None, size))
    return out


# --- recurrent (an estimate) -------------------------------------------------------------------------


def _recurrent(c):
    """Per layer and direction: the input rows, h0, and per step the gates and three (B, H) tensors."""
    a = c.args
    s = c.shape(0)
    batched = len(s) == 3
    t = (s[1] if a.get("batch_first") else s[0]) if batched else s[0]
    b = (s[0] if a.get("batch_first") else s[1]) if batched else 1
    h = a["hidden_size"]
    gates = {"LSTM": 4, "GRU": 3, "RNN": 1}[c.type]
    dirs = 2 if a.get("bidirectional") else 1
    total = 0
    for layer in range(a.get("num_layers", 1)):
        width = s[-1] if layer == 0 else dirs * h
        total += dirs * (t * b * width + b * h + t * b * h * (gates + 3))
    return [("in0", 0), (None, total * c.act)]


def _cell(c):
    h = c.args["hidden_size"]
    b = c.shape(0)[0] if len(c.shape(0)) == 2 else 1
    gates = {"LSTMCell": 4 + 3, "GRUCell": 3 + 4, "RNNCell": 1}[c.type]
    return [("in0", c.in_bytes(0)), (None, b * h * (1 + gates) * c.act)]


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
    "Embedding": _embedding, "EmbeddingBag": _embedding,
    "ScaledDotProductAttention": _sdpa, "MultiheadAttention": _mha, "GroupedQueryAttention": _gqa,
    "RotaryEmbedding": _rotary, "TransformerEncoderLayer": _encoder, "LSTM": _recurrent, "GRU": _recurrent, "RNN": _recurrent,
    "LSTMCell": _cell, "GRUCell": _cell, "RNNCell": _cell,
    "Dropout": _dropout, "AlphaDropout": _alpha_dropout, "Dropout1d": _feature_dropout,
    "Dropout2d": _feature_dropout, "Dropout3d": _feature_dropout, "FeatureAlphaDropout": _feature_dropout,
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

#: Types counted as an estimate rather than read from PyTorch (docs/memory.md says how).
ESTIMATED = frozenset({"LSTM", "GRU", "RNN", "LSTMCell", "GRUCell", "RNNCell", "EmbeddingBag"})
