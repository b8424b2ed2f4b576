"""Tiny configurations for probing one layer alone.

``probe_config(type, given, args, shapes)`` keeps the arguments that give a
layer its structure (kernel, stride, padding, dilation, groups, ceil_mode,
directions, layers, heads...) and reduces the sizes (batch, channels,
features, sequence, spatial extent) as far as those arguments allow. The
rules engine and the reference executor are then asked the same tiny
question. ``given`` holds the arguments the spec wrote (resolved), ``args``
all of them after the rules ran (with the inferred ones filled in).

Sizes are reduced by value (:func:`small`), so dimensions that were equal
stay equal and a broadcast 1 stays 1.
"""

from __future__ import annotations

from math import prod

from .kernel import tuple_of

BATCH, CHANNELS, FEATURES, SEQ = 2, 3, 4, 3


def small(d: int, cap: int = 3) -> int:
    """A size reduced to ``cap`` or ``cap + 1``, whichever has the parity of ``d``; sizes up to ``cap`` stay."""
    return d if d <= cap else cap + (d - cap) % 2


def _json(v):
    if isinstance(v, tuple):
        return [_json(i) for i in v]
    return v


def probe_config(layer_type: str, given: dict, args: dict, shapes: list[tuple]) -> tuple[dict, list[list[int]]]:
    fn = PROBES.get(layer_type, shrink_every_dim)
    new_args, new_shapes = fn(dict(given), args, [tuple(s) for s in shapes])
    return {k: _json(v) for k, v in new_args.items()}, [list(s) for s in new_shapes]


def drop(given: dict, *names) -> dict:
    """Remove inferable arguments, so that the probe infers them from its smaller input."""
    for n in names:
        given.pop(n, None)
    return given


# --- generic -----------------------------------------------------------------------------------


def shrink_every_dim(given, args, shapes):
    """Element-wise layers and the like: every dimension reduced by value."""
    return given, [tuple(small(d) for d in s) for s in shapes]


def keep(given, args, shapes):
    """Layers whose arguments pin every size (and that are cheap): probed as they are."""
    return given, shapes


# --- linear ------------------------------------------------------------------------------------


def linear_probe(given, args, shapes):
    (x,) = shapes
    given = drop(given, "in_features")
    given["out_features"] = small(args["out_features"], FEATURES)
    return given, [tuple(small(d) for d in x[:-1]) + (small(x[-1], FEATURES + 1),)]


def bilinear_probe(given, args, shapes):
    x1, x2 = shapes
    given = drop(given, "in1_features", "in2_features")
    given["out_features"] = small(args["out_features"])
    lead = tuple(small(d) for d in x1[:-1])
    return given, [lead + (small(x1[-1]),), lead + (small(x2[-1], FEATURES),)]


# --- convolution and pooling ---------------------------------------------------------------------


def window_length(length: int, kernel: int, stride: int, before: int, after: int, dilation: int = 1,
                  windows: int = 3, least: int = 1) -> int:
    """The smallest length not above ``length`` that still gives about ``windows`` windows,
    keeping ``length``'s remainder modulo the stride (what ceil_mode and the last partial
    window depend on) and the conditions that padding modes put on the length."""
    extent = dilation * (kernel - 1) + 1
    least = max(least, extent - before - after, before + 1, after + 1)
    want = least + stride * (windows - 1)
    if length <= want:
        return length
    return length - stride * ((length - want) // stride)


def shrink_windows(kernel, stride, dilation, pads, pool: bool = False):
    """Kernel, stride and dilation cut down (kernel to 3 or 4, dilation to 2 or 3, stride to 3 or 4, each
    keeping its parity, so 'same' keeps its uneven split), and explicit padding scaled with the kernel's
    extent (a padding of (k - 1) / 2 stays one). Pooling keeps torch's padding <= kernel / 2."""
    new_k = tuple(small(k) for k in kernel)
    new_d = tuple(small(d, 2) for d in dilation)
    new_s = tuple(small(st) for st in stride)
    new_p = []
    for k, d, k2, d2, (b, a) in zip(kernel, dilation, new_k, new_d, pads):
        span, span2 = d * (k - 1), d2 * (k2 - 1)
        scale = (lambda v: v) if span == span2 else (lambda v: (v * span2 + span // 2) // span if span else 0)
        b2, a2 = scale(b), scale(a)
        if pool:
            b2, a2 = min(b2, k2 // 2), min(a2, k2 // 2)
        new_p.append((b2, a2))
    return new_k, new_s, new_d, new_p


def conv_probe(rank: int, transposed: bool):
    def probe(given, args, shapes):
        (x,) = shapes
        given = drop(given, "in_channels")
        groups = args.get("groups", 1)
        cin, cout = x[-rank - 1], args["out_channels"]
        new_groups = small(groups, 2)
        if new_groups != groups:
            given["groups"] = new_groups
        given["out_channels"] = new_groups * small(cout // groups, 2)
        new_cin = new_groups * small(cin // groups, 2)
        kernel = tuple_of(args["kernel_size"], rank)
        stride, dilation = tuple_of(args["stride"], rank), tuple_of(args["dilation"], rank)
        padding = args["padding"]
        if padding in ("same", "valid"):
            pads = [(0, 0)] * rank
        else:
            pads = [(p, p) for p in tuple_of(padding, rank)]
        kernel2, stride2, dilation2, pads2 = shrink_windows(kernel, stride, dilation, pads)
        given["kernel_size"] = list(kernel2)
        if stride2 != stride:
            given["stride"] = list(stride2)
        if dilation2 != dilation:
            given["dilation"] = list(dilation2)
        if padding not in ("same", "valid") and [b for b, _ in pads2] != [b for b, _ in pads]:
            given["padding"] = [b for b, _ in pads2]
        if transposed:
            op = tuple_of(args["output_padding"], rank)
            op2 = tuple(min(o, max(s, d) - 1) for o, s, d in zip(op, stride2, dilation2))
            if op2 != op:
                given["output_padding"] = list(op2)
            spatial = []
            for length, k, s_, d, (p, _), o in zip(x[-rank:], kernel2, stride2, dilation2, pads2, op2):
                n = min(length, 3)
                while n < length and (n - 1) * s_ - 2 * p + d * (k - 1) + o + 1 < 1:
                    n += 1
                spatial.append(n)
            spatial = tuple(spatial)
        else:
            if padding == "same":
                pads2 = [(d * (k - 1) // 2, d * (k - 1) - d * (k - 1) // 2) for k, d in zip(kernel2, dilation2)]
            spatial = tuple(window_length(d, k, s_, b, a, dl)
                            for d, k, s_, (b, a), dl in zip(x[-rank:], kernel2, stride2, pads2, dilation2))
        lead = tuple(min(d, BATCH) for d in x[:-rank - 1])
        return given, [lead + (new_cin,) + spatial]
    return probe


def pool_probe(rank: int, kind: str):
    def probe(given, args, shapes):
        (x,) = shapes
        lead = tuple(small(d, BATCH) for d in x[:-rank])
        if kind == "adaptive":
            # the output cut down; the input keeps whether it divides evenly, and whether it is smaller
            size = args["output_size"]
            outs = tuple(size) if isinstance(size, (list, tuple)) else (size,) * rank
            spatial, new_outs = [], []
            for length, o in zip(x[-rank:], outs):
                if o is None:
                    new_outs.append(None)
                    spatial.append(small(length))
                    continue
                o2 = small(o)
                q, r = divmod(length, o)
                if q == 0:
                    spatial.append(max(1, min(length, o2 - 1)))
                else:
                    spatial.append(o2 * min(q, 3) + (max(1, min(r, o2 - 1)) if r else 0))
                new_outs.append(o2)
            given["output_size"] = new_outs
            return given, [lead + tuple(spatial)]
        kernel = tuple_of(args["kernel_size"], rank)
        stride = kernel if args.get("stride") is None else tuple_of(args["stride"], rank)
        padding = tuple_of(args.get("padding", 0), rank)
        dilation = tuple_of(args.get("dilation", 1), rank)
        kernel2, stride2, dilation2, pads2 = shrink_windows(kernel, stride, dilation, [(p, p) for p in padding],
                                                            pool=True)
        given["kernel_size"] = list(kernel2) if kind != "lp1" else kernel2[0]
        if args.get("stride") is not None:
            given["stride"] = list(stride2)
        elif kernel2 != kernel:
            stride2 = kernel2
        if "padding" in args and [b for b, _ in pads2] != list(padding):
            given["padding"] = [b for b, _ in pads2]
        if "dilation" in args and dilation2 != dilation:
            given["dilation"] = list(dilation2)
        at_least_kernel = kind in ("avg3", "lp3")  # torch's avg_pool3d needs the unpadded input >= kernel
        spatial = tuple(window_length(d, k, s_, b, b, dl, least=k if at_least_kernel else 1)
                        for d, k, s_, (b, _), dl in zip(x[-rank:], kernel2, stride2, pads2, dilation2))
        return given, [lead + spatial]
    return probe


# --- normalization ---------------------------------------------------------------------------------


def channel_norm_probe(spatial_rank: int):
    def probe(given, args, shapes):
        (x,) = shapes
        drop(given, "num_features")
        batched = len(x) != spatial_rank + 1 or spatial_rank == 0
        if not batched:
            return given, [(small(x[0], CHANNELS),) + tuple(small(d) for d in x[1:])]
        return given, [(small(x[0], BATCH), small(x[1], CHANNELS)) + tuple(small(d) for d in x[2:])]
    return probe


def trailing_norm_probe(given, args, shapes):
    (x,) = shapes
    ns = args["normalized_shape"]
    ns = tuple(ns) if isinstance(ns, (list, tuple)) else (ns,)
    new = tuple(small(d, FEATURES) for d in x)
    given["normalized_shape"] = list(new[len(x) - len(ns):])
    return given, [new]


def group_norm_probe(given, args, shapes):
    (x,) = shapes
    drop(given, "num_channels")
    g = args["num_groups"]
    c = g * small(x[1] // g, 2)
    return given, [(small(x[0], BATCH), c) + tuple(small(d) for d in x[2:])]


def lrn_probe(given, args, shapes):
    """The window over channels cut down with the channels (a window wider than the channels stays so)."""
    (x,) = shapes
    size = args["size"]
    new_size = small(size)
    if new_size != size:
        given["size"] = new_size
    c = min(x[1], max(small(x[1], CHANNELS), new_size + 1)) if size < x[1] else small(x[1], CHANNELS)
    return given, [(small(x[0], BATCH), c) + tuple(small(d) for d in x[2:])]


# --- activations ---------------------------------------------------------------------------------


def prelu_probe(given, args, shapes):
    (x,) = shapes
    new = tuple(small(d) for d in x)
    if args["num_parameters"] != 1:
        given["num_parameters"] = new[1]
    return given, [new]


def glu_probe(given, args, shapes):
    (x,) = shapes
    d = args["dim"] % len(x)
    new = [small(s) for s in x]
    new[d] = 2 * small(x[d] // 2, 2)
    return given, [tuple(new)]


# --- recurrent -----------------------------------------------------------------------------------


def sequence_probe(given, args, shapes):
    (x,) = shapes
    drop(given, "input_size")
    hidden = args["hidden_size"]
    given["hidden_size"] = small(hidden, 3)
    if args.get("proj_size"):
        given["hidden_size"] = max(3, small(hidden, 3))
        given["proj_size"] = min(args["proj_size"], given["hidden_size"] - 1, 2)
    caps = (SEQ, BATCH) if not args.get("batch_first") else (BATCH, SEQ)
    lead = tuple(small(d, c) for d, c in zip(x[:-1], caps if len(x) == 3 else (SEQ,)))
    return given, [lead + (small(x[-1], FEATURES),)]


def cell_probe(given, args, shapes):
    (x,) = shapes
    drop(given, "input_size")
    given["hidden_size"] = small(args["hidden_size"], 3)
    return given, [tuple(small(d, BATCH) for d in x[:-1]) + (small(x[-1], FEATURES),)]


# --- embedding -----------------------------------------------------------------------------------


def embedding_probe(given, args, shapes):
    """The table cut down to a few rows; a padding_idx stays a row of it, first or last as it was."""
    (x,) = shapes
    n = small(args["num_embeddings"], 5)
    pad = args.get("padding_idx")
    if pad is not None:
        given["padding_idx"] = min(pad, n - 1) if pad >= 0 else max(pad, -n)
    given["num_embeddings"] = n
    given["embedding_dim"] = small(args["embedding_dim"], FEATURES)
    return given, [tuple(small(d) for d in x)]


# --- attention -----------------------------------------------------------------------------------


def mha_probe(given, args, shapes):
    drop(given, "embed_dim", "kdim", "vdim")
    heads = args["num_heads"]
    e = heads * small(shapes[0][-1] // heads, 2)
    q = shapes[0]
    lead = lambda s: tuple(small(d, SEQ) for d in s[:-1])  # noqa: E731
    new = [lead(q) + (e,)]
    for s in shapes[1:]:
        same = s[-1] == shapes[0][-1]
        new.append(lead(s) + (e if same else small(s[-1]),))
    return given, new


def transformer_probe(given, args, shapes):
    drop(given, "d_model")
    d = args["nhead"] * 2
    given["dim_feedforward"] = small(args["dim_feedforward"], FEATURES)
    return given, [tuple(small(v, SEQ) for v in s[:-1]) + (d,) for s in shapes]


def sdpa_probe(given, args, shapes):
    new = [[small(d) for d in s] for s in shapes]
    if args.get("enable_gqa"):
        hq = shapes[0][-3]
        for s, n in zip(shapes[1:], new[1:]):
            n[-3] = small(s[-3], 2)
        kv = new[1][-3]
        if new[2][-3] != kv:
            new[2][-3] = kv
        new[0][-3] = kv * small(hq // shapes[1][-3], 2)
    return given, [tuple(s) for s in new]


def gqa_probe(given, args, shapes):
    (x,) = shapes
    drop(given, "embed_dim")
    heads = args["num_heads"]
    if args.get("head_dim"):
        given["head_dim"] = 2
        e = small(x[-1], FEATURES)
    else:
        e = heads * 2
    return given, [tuple(small(d, SEQ) for d in x[:-1]) + (e,)]


def rotary_probe(given, args, shapes):
    (x,) = shapes
    rot = args.get("rotary_dim")
    if rot is None:
        last = 2 * small(x[-1] // 2, 2)
    else:
        given["rotary_dim"] = 2
        last = 2 + (2 if x[-1] > rot else 0)
    return given, [tuple(small(d) for d in x[:-1]) + (last,)]


def relative_position_bias_probe(given, args, shapes):
    """A window of at most 3 x 3 (or 4 x 4, keeping parity) and at most 2 heads: the same gather."""
    given["window_size"] = [small(w) for w in tuple_of(args["window_size"], 2)]
    given["num_heads"] = small(args["num_heads"], 1)
    return given, []


def window_attention_probe(given, args, shapes):
    """Windows of at most 3 x 3 and at most two of them per axis, with what gives the layer its structure
    kept per axis: whether the size is padded (a partial last window), whether one window covers it (no
    shift then), whether it is shifted; at most 2 heads of 2 features (or 3 x 1)."""
    (x,) = shapes
    drop(given, "dim")
    heads = small(args["num_heads"], 2)
    given["num_heads"] = heads
    window, shift, size = [], [], []
    for s, w, d in zip(tuple_of(args["shift_size"], 2), tuple_of(args["window_size"], 2), x[1:3]):
        w2 = min(w, 3)
        windows, rest = -(-d // w), d % w
        part = min(rest, w2 - 1) if rest else 0
        size.append((min(windows, 2) - (1 if part else 0)) * w2 + part)
        window.append(w2)
        shift.append(0 if s == 0 else min(s, w2 - 1) or 1)
    given["window_size"], given["shift_size"] = window, shift
    return given, [(small(x[0], 1), size[0], size[1], heads * 2)]


# --- structure -----------------------------------------------------------------------------------


def reshape_probe(given, args, shapes):
    """Shrink the leading (then trailing) sizes that input and target share; the rest stays."""
    (x,) = shapes
    target = list(args["shape"])
    x = list(x)
    for order in (range(min(len(x), len(target))), [-i for i in range(1, min(len(x), len(target)) + 1)]):
        for i in order:
            if x[i] != target[i]:
                break
            x[i] = target[i] = small(x[i])
    given["shape"] = target
    return given, [tuple(x)]


def unflatten_probe(given, args, shapes):
    (x,) = shapes
    d = args["dim"] % len(x)
    sizes = list(args["unflattened_size"])
    new_sizes = [v if v == -1 else small(v) for v in sizes]
    total = prod(v for v in new_sizes if v != -1)
    if -1 in sizes:  # the inferred size, reduced too
        total *= small(x[d] // max(1, prod(v for v in sizes if v != -1)))
    given["unflattened_size"] = new_sizes
    new = [small(v) for v in x]
    new[d] = total
    return given, [tuple(new)]


def expand_probe(given, args, shapes):
    (x,) = shapes
    target = list(args["shape"])
    lead = len(target) - len(x)
    new_x = [small(d) for d in x]
    given["shape"] = [t if t == -1 else (new_x[i - lead] if i >= lead and x[i - lead] == t else small(t))
                      for i, t in enumerate(target)]
    return given, [tuple(new_x)]


def select_probe(given, args, shapes):
    (x,) = shapes
    d = args["dim"] % len(x)
    new = [small(s) for s in x]
    i = args["index"]
    new[d] = min(x[d], max(new[d], i + 1 if i >= 0 else -i))
    return given, [tuple(new)]


def slice_probe(given, args, shapes):
    (x,) = shapes
    d = args["dim"] % len(x)
    new = [small(s) for s in x]
    reach = max(abs(args.get("start") or 0), abs(args.get("end") or 0)) + (args.get("step") or 1) + 1
    new[d] = x[d] if x[d] <= 16 else min(x[d], max(16, reach))
    return given, [tuple(new)]


def concat_probe(given, args, shapes):
    d = args["dim"] % len(shapes[0])
    return given, [tuple(small(v) if i != d else small(v, 2) for i, v in enumerate(s)) for s in shapes]


def parameter_probe(given, args, shapes):
    shape = args["shape"]
    given["shape"] = [small(d) for d in ((shape,) if isinstance(shape, int) else shape)]
    return given, []


def upsample_probe(given, args, shapes):
    (x,) = shapes
    if args.get("size") is not None:
        n = len(x) - 2
        given["size"] = [small(s, 5) for s in tuple_of(args["size"], n)]
    return given, [(small(x[0], BATCH), small(x[1], 2)) + tuple(small(d) for d in x[2:])]


def pad_probe(rank: int):
    def probe(given, args, shapes):
        (x,) = shapes
        p = tuple_of(args["padding"], 2 * rank)
        pairs = [(p[2 * i], p[2 * i + 1]) for i in range(rank)][::-1]
        new = [small(d) for d in x]
        for i, (b, a) in enumerate(pairs):
            at = len(x) - rank + i
            new[at] = min(x[at], max(new[at], abs(b) + 1, abs(a) + 1, -b - a + 1))
        return given, [tuple(new)]
    return probe


def pixel_shuffle_probe(given, args, shapes):
    (x,) = shapes
    r = args["upscale_factor"]
    return given, [tuple(small(d) for d in x[:-3]) + (r * r * small(x[-3] // (r * r), 2), small(x[-2]),
                                                       small(x[-1]))]


def pixel_unshuffle_probe(given, args, shapes):
    (x,) = shapes
    r = args["downscale_factor"]
    return given, [tuple(small(d) for d in x[:-3]) + (small(x[-3]), r * small(x[-2] // r, 2),
                                                       r * small(x[-1] // r, 2))]


def channel_shuffle_probe(given, args, shapes):
    (x,) = shapes
    g = args["groups"]
    return given, [(small(x[0], BATCH), g * small(x[1] // g, 2)) + tuple(small(d) for d in x[2:])]

PROBES = {
    "Linear": linear_probe,
    "Bilinear": bilinear_probe,
    "Conv1d": conv_probe(1, False), "Conv2d": conv_probe(2, False), "Conv3d": conv_probe(3, False),
    "ConvTranspose1d": conv_probe(1, True), "ConvTranspose2d": conv_probe(2, True),
    "ConvTranspose3d": conv_probe(3, True),
    **{f"{kind}Pool{r}d": pool_probe(r, key + (str(r) if key in ("avg", "lp") else ""))
       for r in (1, 2, 3) for kind, key in (("Max", "max"), ("Avg", "avg"), ("LP", "lp"),
                                            ("AdaptiveAvg", "adaptive"), ("AdaptiveMax", "adaptive"))},
    "BatchNorm1d": channel_norm_probe(0), "BatchNorm2d": channel_norm_probe(0), "BatchNorm3d": channel_norm_probe(0),
    "InstanceNorm1d": channel_norm_probe(1), "InstanceNorm2d": channel_norm_probe(2),
    "InstanceNorm3d": channel_norm_probe(3),
    "LayerNorm": trailing_norm_probe, "RMSNorm": trailing_norm_probe, "GroupNorm": group_norm_probe,
    "LocalResponseNorm": lrn_probe,
    "PReLU": prelu_probe, "GLU": glu_probe,
    "RNN": sequence_probe, "LSTM": sequence_probe, "GRU": sequence_probe,
    "RNNCell": cell_probe, "LSTMCell": cell_probe, "GRUCell": cell_probe,
    "Embedding": embedding_probe, "EmbeddingBag": embedding_probe,
    "MultiheadAttention": mha_probe, "TransformerEncoderLayer": transformer_probe,
    "TransformerDecoderLayer": transformer_probe, "ScaledDotProductAttention": sdpa_probe,
    "GroupedQueryAttention": gqa_probe, "RotaryEmbedding": rotary_probe,
    "RelativePositionBias": relative_position_bias_probe,
    "ShiftedWindowAttention": window_attention_probe, "ShiftedWindowAttentionV2": window_attention_probe,
    "Reshape": reshape_probe, "Unflatten": unflatten_probe, "Expand": expand_probe, "Select": select_probe,
    "Slice": slice_probe, "Concat": concat_probe, "Parameter": parameter_probe, "Buffer": parameter_probe, "Upsample": upsample_probe,
    **{f"{kind}Pad{r}d": pad_probe(r) for r in (1, 2, 3)
       for kind in ("Zero", "Constant", "Reflection", "Replication", "Circular")},
    "PixelShuffle": pixel_shuffle_probe, "PixelUnshuffle": pixel_unshuffle_probe,
    "ChannelShuffle": channel_shuffle_probe,
}

