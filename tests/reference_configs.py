"""Random valid configurations of every layer type, for the property tests of the reference executor.

``CONFIGS[type](draw)`` returns ``(args, input shapes, input dtypes)``, tiny
so that the pure-Python kernels stay fast. ``draw`` is hypothesis's
``data.draw``. A configuration the rules engine still rejects is discarded by
the test (``assume``), so a generator may be a little loose.
"""

from __future__ import annotations

from hypothesis import strategies as st

F = "float32"


def ints(lo, hi):
    return st.integers(lo, hi)


def flag():
    return st.booleans()


def batch_shape(draw, rank, lo=1, hi=3):
    return [draw(ints(lo, hi)) for _ in range(rank)]


# --- linear --------------------------------------------------------------------------------------


def linear(draw):
    lead = batch_shape(draw, draw(ints(0, 2)))
    return {"out_features": draw(ints(1, 4)), "bias": draw(flag())}, [lead + [draw(ints(1, 4))]], [F]


def bilinear(draw):
    lead = batch_shape(draw, draw(ints(0, 2)))
    return ({"out_features": draw(ints(1, 3)), "bias": draw(flag())},
            [lead + [draw(ints(1, 3))], lead + [draw(ints(1, 3))]], [F, F])


def identity(draw):
    return {}, [batch_shape(draw, draw(ints(0, 3)))], [F]


# --- convolution and pooling ----------------------------------------------------------------------


def conv(rank, transposed):
    def gen(draw):
        g = draw(ints(1, 2))
        kmax = 7 if rank < 3 else 3
        args = {"out_channels": g * draw(ints(1, 2)), "kernel_size": [draw(ints(1, kmax)) for _ in range(rank)],
                "stride": [draw(ints(1, 3)) for _ in range(rank)], "dilation": [draw(ints(1, 2)) for _ in range(rank)],
                "groups": g, "bias": draw(flag())}
        if transposed:
            args["padding"] = [draw(ints(0, 1)) for _ in range(rank)]
            args["output_padding"] = [draw(ints(0, 1)) for _ in range(rank)]
        else:
            args["padding"] = draw(st.sampled_from([0, 1, 2, [1, 0, 2][:rank], "valid", "same"]))
            if args["padding"] == "same":
                args["stride"] = 1
            args["padding_mode"] = draw(st.sampled_from(["zeros", "reflect", "replicate", "circular"]))
        lead = [draw(ints(1, 2))] if draw(flag()) else []
        # inputs from 2 up to a little more than the dilated kernel, so that large kernels still fit
        sizes = [draw(ints(2, max(2, (k - 1) * d + (3 if rank < 3 else 1)))) if not transposed else draw(ints(1, 3))
                 for k, d in zip(args["kernel_size"], args["dilation"])]
        return args, [lead + [g * draw(ints(1, 2))] + sizes], [F]
    return gen


def pool(rank, kind):
    def gen(draw):
        lead = ([draw(ints(1, 2))] if draw(flag()) else []) + [draw(ints(1, 2))]
        spatial = [draw(ints(2 if rank < 3 else 3, 5 if rank < 3 else 4)) for _ in range(rank)]
        if kind.startswith("Adaptive"):
            args = {"output_size": [draw(st.one_of(ints(1, 4), st.none()) if rank > 1 else ints(1, 4))
                                    for _ in range(rank)]}
            if kind == "AdaptiveMax":
                args["return_indices"] = draw(flag())
            return args, [lead + spatial], [F]
        k = draw(ints(1, 3))
        args = {"kernel_size": k, "stride": draw(st.one_of(st.none(), ints(1, 3))), "ceil_mode": draw(flag())}
        if kind == "LP":
            args["norm_type"] = draw(st.sampled_from([1.0, 2.0, 3.0]))
        else:
            args["padding"] = draw(ints(0, k // 2))
        if kind == "Max":
            args["dilation"] = draw(ints(1, 2))
            args["return_indices"] = draw(flag())
        if kind == "Avg":
            args["count_include_pad"] = draw(flag())
            if rank > 1 and draw(flag()):
                args["divisor_override"] = draw(ints(1, 3))
        return args, [lead + spatial], [F]
    return gen


# --- normalization, dropout, activation -------------------------------------------------------------


def batch_norm(rank):
    def gen(draw):
        shape = [draw(ints(2, 3)), draw(ints(1, 3))] + batch_shape(draw, {1: draw(ints(0, 1)), 2: 2, 3: 3}[rank], 1, 2)
        return ({"affine": draw(flag()), "track_running_stats": draw(flag()), "bias": draw(flag()),
                 "eps": 1e-3}, [shape], [F])
    return gen


def instance_norm(rank):
    def gen(draw):
        lead = [draw(ints(1, 2))] if draw(flag()) else []
        shape = lead + [draw(ints(1, 3))] + batch_shape(draw, rank, 2, 3)
        return ({"affine": draw(flag()), "track_running_stats": draw(flag()), "bias": draw(flag())}, [shape], [F])
    return gen


def layer_norm(draw):
    shape = batch_shape(draw, draw(ints(1, 3)))
    k = draw(ints(1, len(shape)))
    return ({"normalized_shape": shape[-k:], "elementwise_affine": draw(flag()), "bias": draw(flag())},
            [shape], [F])


def rms_norm(draw):
    shape = batch_shape(draw, draw(ints(1, 3)))
    k = draw(ints(1, len(shape)))
    args = {"normalized_shape": shape[-k:], "elementwise_affine": draw(flag())}
    if draw(flag()):
        args["eps"] = 1e-6
    return args, [shape], [F]


def group_norm(draw):
    g = draw(ints(1, 3))
    shape = [draw(ints(1, 2)), g * draw(ints(1, 2))] + batch_shape(draw, draw(ints(1, 2)), 2, 3)
    return {"num_groups": g, "affine": draw(flag()), "bias": draw(flag())}, [shape], [F]


def local_response_norm(draw):
    shape = [draw(ints(1, 2)), draw(ints(1, 5))] + batch_shape(draw, draw(ints(1, 2)), 1, 2)
    return {"size": draw(ints(1, 4)), "k": 2.0}, [shape], [F]


def dropout(rank):
    def gen(draw):
        if rank is None:
            shape = batch_shape(draw, draw(ints(1, 3)))
        else:
            shape = batch_shape(draw, rank + draw(ints(1, 2)))
        return {"p": draw(st.sampled_from([0.0, 0.1, 0.5]))}, [shape], [F]
    return gen


def stochastic_depth(draw):
    mode = draw(st.sampled_from(["row", "batch"]))
    shape = batch_shape(draw, draw(ints(1 if mode == "row" else 0, 3)))
    return {"p": draw(st.sampled_from([0.0, 0.2, 1.0])), "mode": mode}, [shape], [F]


ACTIVATION_ARGS = {
    "LeakyReLU": {"negative_slope": 0.1}, "RReLU": {"lower": 0.1, "upper": 0.3}, "ELU": {"alpha": 0.5},
    "CELU": {"alpha": 1.5}, "Hardtanh": {"min_val": -0.5, "max_val": 0.5}, "Hardshrink": {"lambd": 0.2},
    "Softshrink": {"lambd": 0.2}, "Softplus": {"beta": 2.0, "threshold": 1.0},
    "Threshold": {"threshold": 0.1, "value": -1.0},
}


def activation(name):
    def gen(draw):
        args = dict(ACTIVATION_ARGS.get(name, {}))
        if name == "GELU":
            args["approximate"] = draw(st.sampled_from(["none", "tanh"]))
        return args, [batch_shape(draw, draw(ints(0, 3)))], [F]
    return gen


def prelu(draw):
    shape = batch_shape(draw, draw(ints(2, 3)))
    return {"num_parameters": draw(st.sampled_from([1, shape[1]]))}, [shape], [F]


def softmax_like(draw):
    shape = batch_shape(draw, draw(ints(1, 3)))
    return {"dim": draw(st.one_of(st.none(), ints(-len(shape), len(shape) - 1)))}, [shape], [F]


def glu(draw):
    shape = batch_shape(draw, draw(ints(1, 3)))
    d = draw(ints(-len(shape), len(shape) - 1))
    shape[d] = 2 * draw(ints(1, 2))
    return {"dim": d}, [shape], [F]


# --- recurrent, embedding, attention ----------------------------------------------------------------


def sequence(name):
    def gen(draw):
        h = draw(st.sampled_from([1, 2, 3, 8, 32]))
        args = {"hidden_size": h, "num_layers": draw(ints(1, 3)), "bias": draw(flag()),
                "bidirectional": draw(flag()), "batch_first": draw(flag())}
        if name == "RNN":
            args["nonlinearity"] = draw(st.sampled_from(["tanh", "relu"]))
        if name == "LSTM" and h > 1 and draw(flag()):
            args["proj_size"] = draw(ints(1, h - 1))
        t, n, i = draw(ints(1, 2 if h > 3 else 3)), draw(ints(1, 2)), draw(ints(1, 3))
        shape = draw(st.sampled_from([[t, i], [n, t, i] if args["batch_first"] else [t, n, i]]))
        return args, [shape], [F]
    return gen


def cell(name):
    def gen(draw):
        args = {"hidden_size": draw(ints(1, 3)), "bias": draw(flag())}
        if name == "RNNCell":
            args["nonlinearity"] = draw(st.sampled_from(["tanh", "relu"]))
        return args, [batch_shape(draw, draw(ints(0, 1))) + [draw(ints(1, 3))]], [F]
    return gen


def embedding(draw):
    n = draw(ints(1, 6))
    args = {"num_embeddings": n, "embedding_dim": draw(ints(1, 3)),
            "padding_idx": draw(st.one_of(st.none(), ints(-n, n - 1)))}
    if draw(flag()):
        args["max_norm"] = draw(st.sampled_from([0.1, 1.0]))
    return args, [batch_shape(draw, draw(ints(0, 2)))], ["int64"]


def embedding_bag(draw):
    n = draw(ints(1, 6))
    args = {"num_embeddings": n, "embedding_dim": draw(ints(1, 3)), "mode": draw(st.sampled_from(["sum", "mean",
                                                                                                    "max"])),
            "padding_idx": draw(st.one_of(st.none(), ints(0, n - 1)))}
    if draw(flag()):
        args["max_norm"] = 0.5
    return args, [batch_shape(draw, 2)], ["int64"]


def mha(draw):
    heads = draw(ints(1, 8))
    e = heads * draw(ints(1, 2))
    args = {"num_heads": heads, "bias": draw(flag()), "add_bias_kv": draw(flag()), "add_zero_attn": draw(flag()),
            "batch_first": draw(flag()), "need_weights": draw(flag()), "average_attn_weights": draw(flag()),
            "is_causal": draw(flag())}
    n, length, keys = draw(ints(1, 2)), draw(ints(1, 3)), draw(ints(1, 3))
    batched = draw(flag())

    def shape(pos, feat):
        if not batched:
            return [pos, feat]
        return [n, pos, feat] if args["batch_first"] else [pos, n, feat]

    count = draw(ints(1, 3))
    if count == 1:
        return args, [shape(length, e)], [F]
    kdim, vdim = draw(st.one_of(st.just(e), ints(1, 9))), draw(st.one_of(st.just(e), ints(1, 9)))
    shapes = [shape(length, e), shape(keys, kdim), shape(keys, vdim)][:count]
    if count == 2:
        shapes[1] = shape(keys, e)
    return args, shapes, [F] * count


def transformer(decoder):
    def gen(draw):
        heads = draw(ints(1, 2))
        d = heads * draw(ints(1, 2))
        args = {"nhead": heads, "dim_feedforward": draw(ints(1, 4)), "activation": draw(st.sampled_from(["relu",
                                                                                                            "gelu"])),
                "batch_first": draw(flag()), "norm_first": draw(flag()), "bias": draw(flag())}
        if decoder:
            args.update(tgt_is_causal=draw(flag()), memory_is_causal=draw(flag()))
        else:
            args["is_causal"] = draw(flag())
        n, t, s = draw(ints(1, 2)), draw(ints(1, 3)), draw(ints(1, 3))
        batched = draw(flag())

        def shape(pos):
            return ([n, pos, d] if args["batch_first"] else [pos, n, d]) if batched else [pos, d]

        shapes = [shape(t), shape(s)] if decoder else [shape(t)]
        return args, shapes, [F] * len(shapes)
    return gen


def sdpa(draw):
    e, ev, length, keys = draw(ints(1, 3)), draw(ints(1, 3)), draw(ints(1, 3)), draw(ints(1, 3))
    args = {"is_causal": draw(flag()), "scale": draw(st.sampled_from([None, 0.5]))}
    if draw(flag()):
        hk = draw(ints(1, 2))
        hq = hk * draw(ints(1, 2))
        args["enable_gqa"] = True
        return args, [[2, hq, length, e], [2, hk, keys, e], [2, hk, keys, ev]], [F, F, F]
    lead = batch_shape(draw, draw(ints(0, 2)), 1, 2)
    lead_kv = [draw(st.sampled_from([d, 1])) for d in lead]
    return args, [lead + [length, e], lead_kv + [keys, e], lead + [keys, ev]], [F, F, F]


def rotary(draw):
    shape = batch_shape(draw, draw(ints(2, 3))) + [2 * draw(ints(1, 2))]
    return {"rotary_dim": draw(st.sampled_from([None, 2]))}, [shape], [F]


def gqa(draw):
    kv = draw(ints(1, 4))
    heads = kv * draw(ints(1, 2))
    args = {"num_heads": heads, "num_kv_heads": kv, "head_dim": 2 * draw(ints(1, 2)), "bias": draw(flag()),
            "is_causal": draw(flag()), "rotary": draw(flag())}
    return args, [batch_shape(draw, draw(ints(1, 2)), 1, 3) + [draw(ints(1, 4))]], [F]


def relative_position_bias(draw):
    return {"window_size": draw(st.sampled_from([draw(ints(1, 4)), [draw(ints(1, 4)), draw(ints(1, 4))]])),
            "num_heads": draw(ints(1, 3))}, [], []


def window_attention(draw):
    heads = draw(ints(1, 2))
    def pair(lo, hi):  # one int for both axes, or one per axis
        return draw(st.sampled_from([draw(ints(lo, hi)), [draw(ints(lo, hi)), draw(ints(lo, hi))]]))

    args = {"window_size": pair(1, 3), "shift_size": pair(0, 2), "num_heads": heads, "qkv_bias": draw(flag()),
            "proj_bias": draw(flag())}
    return args, [[draw(ints(1, 2)), draw(ints(1, 5)), draw(ints(1, 5)), heads * draw(ints(1, 2))]], [F]


# --- structure -----------------------------------------------------------------------------------


def shape_rank(draw, lo=1, hi=3):
    return batch_shape(draw, draw(ints(lo, hi)))


def flatten(draw):
    shape = shape_rank(draw)
    r = len(shape)
    s = draw(ints(-r, r - 1))
    e = draw(ints(s % r - r, -1)) if draw(flag()) else r - 1
    return {"start_dim": s, "end_dim": e}, [shape], [F]


def unflatten(draw):
    a, b = draw(ints(1, 3)), draw(ints(1, 3))
    shape = shape_rank(draw)
    d = draw(ints(0, len(shape) - 1))
    shape[d] = a * b
    return {"dim": d, "unflattened_size": [a, draw(st.sampled_from([b, -1]))]}, [shape], [F]


def reshape(draw):
    shape = shape_rank(draw)
    total = 1
    for s in shape:
        total *= s
    return {"shape": draw(st.sampled_from([[total], [-1], [1, total], [total, -1]]))}, [shape], [F]


def permute(draw):
    shape = shape_rank(draw)
    return {"dims": draw(st.permutations(list(range(len(shape)))))}, [shape], [F]


def transpose(draw):
    shape = shape_rank(draw)
    r = len(shape)
    return {"dim0": draw(ints(-r, r - 1)), "dim1": draw(ints(-r, r - 1))}, [shape], [F]


def expand(draw):
    shape = [draw(st.sampled_from([1, 2])) for _ in range(draw(ints(1, 3)))]
    target = [draw(ints(1, 3)) if s == 1 else draw(st.sampled_from([s, -1])) for s in shape]
    return {"shape": [draw(ints(1, 2))] * draw(ints(0, 1)) + target}, [shape], [F]


def select(draw):
    shape = shape_rank(draw)
    d = draw(ints(0, len(shape) - 1))
    return {"dim": d, "index": draw(ints(-shape[d], shape[d] - 1))}, [shape], [F]


def slice_(draw):
    shape = shape_rank(draw)
    d = draw(ints(0, len(shape) - 1))
    return ({"dim": d, "start": draw(ints(-4, 4)), "end": draw(st.one_of(st.none(), ints(-4, 4))),
             "step": draw(ints(1, 3))}, [shape], [F])


def concat(draw):
    shape = shape_rank(draw)
    d = draw(ints(0, len(shape) - 1))
    shapes = []
    for _ in range(draw(ints(2, 3))):
        s = list(shape)
        s[d] = draw(ints(1, 3))
        shapes.append(s)
    return {"dim": d}, shapes, [F] * len(shapes)


def parameter(draw):
    return {"shape": batch_shape(draw, draw(ints(1, 3)))}, [], []


def buffer(draw):
    dtype = draw(st.sampled_from(["float32", "int64", "float16"]))
    return {"shape": batch_shape(draw, draw(ints(0, 3))), **({"dtype": dtype} if dtype != "float32" else {})}, [], []


def scalar_op(first: bool):
    """One input and a constant operand (x * 0.125, 1 - x)."""
    def gen(draw):
        args = {"scalar": draw(st.sampled_from([0.125, 2, -1.5, 1]))}
        if first and draw(st.booleans()):
            args["scalar_first"] = True
        return args, [shape_rank(draw)], []
    return gen


def tensors_or_scalar(tensors, scalar):
    """Element-wise ops: of tensors, or of one tensor and a constant, drawn half of the time each."""
    def gen(draw):
        return scalar(draw) if draw(st.booleans()) else tensors(draw)
    return gen


def broadcasting(n_lo, n_hi):
    def gen(draw):
        shape = shape_rank(draw)
        shapes = [shape]
        for _ in range(draw(ints(n_lo, n_hi)) - 1):
            other = [draw(st.sampled_from([d, 1])) for d in shape][draw(ints(0, len(shape) - 1)):]
            shapes.append(other)
        return {}, shapes, [F] * len(shapes)
    return gen


def mean(draw):
    shape = shape_rank(draw)
    r = len(shape)
    dim = draw(st.one_of(st.none(), ints(-r, r - 1), st.lists(ints(0, r - 1), min_size=1, max_size=r, unique=True)))
    return {"dim": dim, "keepdim": draw(flag())}, [shape], [F]


def matmul(draw):
    n, k, m = draw(ints(1, 3)), draw(ints(1, 3)), draw(ints(1, 3))
    lead = batch_shape(draw, draw(ints(0, 2)), 1, 2)
    a = draw(st.sampled_from([[k], lead + [n, k]]))
    b = draw(st.sampled_from([[k], [k, m], [1] * len(lead) + [k, m]]))
    return {}, [a, b], [F, F]


def upsample(draw):
    mode = draw(st.sampled_from(["nearest", "nearest-exact", "linear", "bilinear", "bicubic", "trilinear"]))
    rank = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}.get(mode, draw(ints(1, 3)))
    shape = [draw(ints(1, 2)), draw(ints(1, 2))] + [draw(ints(1, 3)) for _ in range(rank)]
    args = {"mode": mode}
    if draw(flag()):
        args["size"] = [draw(ints(1, 4)) for _ in range(rank)]
    else:
        args["scale_factor"] = draw(st.sampled_from([1.0, 1.5, 2.0]))
    if mode in ("linear", "bilinear", "bicubic", "trilinear") and draw(flag()):
        args["align_corners"] = draw(flag())
    return args, [shape], [F]


def padding(rank, kind):
    def gen(draw):
        lo = 0 if kind in ("Reflection", "Replication", "Circular") else -1
        shape = [draw(ints(1, 2)), draw(ints(1, 2))] + [draw(ints(2, 3)) for _ in range(rank)]
        pads = [draw(ints(lo, 1)) for _ in range(2 * rank)]
        args = {"padding": pads}
        if kind == "Constant":
            args["value"] = 1.5
        return args, [shape], [F]
    return gen


def pixel_shuffle(draw):
    r = draw(ints(1, 2))
    return {"upscale_factor": r}, [[draw(ints(1, 2)), r * r * draw(ints(1, 2)), draw(ints(1, 2)),
                                    draw(ints(1, 2))]], [F]


def pixel_unshuffle(draw):
    r = draw(ints(1, 2))
    return {"downscale_factor": r}, [[draw(ints(1, 2)), draw(ints(1, 2)), r * draw(ints(1, 2)),
                                      r * draw(ints(1, 2))]], [F]


def channel_shuffle(draw):
    g = draw(ints(1, 3))
    return {"groups": g}, [[draw(ints(1, 2)), g * draw(ints(1, 2)), draw(ints(1, 3))]], [F]


CONFIGS = {
    "Linear": linear, "Bilinear": bilinear, "Identity": identity,
    **{f"Conv{r}d": conv(r, False) for r in (1, 2, 3)},
    **{f"ConvTranspose{r}d": conv(r, True) for r in (1, 2, 3)},
    **{f"{k}Pool{r}d": pool(r, k) for r in (1, 2, 3) for k in ("Max", "Avg", "LP", "AdaptiveAvg", "AdaptiveMax")},
    **{f"BatchNorm{r}d": batch_norm(r) for r in (1, 2, 3)},
    **{f"InstanceNorm{r}d": instance_norm(r) for r in (1, 2, 3)},
    "LayerNorm": layer_norm, "RMSNorm": rms_norm, "GroupNorm": group_norm, "LocalResponseNorm": local_response_norm,
    "Dropout": dropout(None), "AlphaDropout": dropout(None), "FeatureAlphaDropout": dropout(2),
    "Dropout1d": dropout(1), "Dropout2d": dropout(2), "Dropout3d": dropout(3),
    "StochasticDepth": stochastic_depth,
    **{name: activation(name) for name in (
        "ReLU", "ReLU6", "LeakyReLU", "RReLU", "ELU", "SELU", "CELU", "GELU", "SiLU", "Mish", "Sigmoid",
        "LogSigmoid", "Tanh", "Hardtanh", "Hardswish", "Hardsigmoid", "Hardshrink", "Softshrink", "Tanhshrink",
        "Softplus", "Softsign", "Threshold")},
    "PReLU": prelu, "Softmax": softmax_like, "LogSoftmax": softmax_like, "Softmin": softmax_like, "GLU": glu,
    "RNN": sequence("RNN"), "LSTM": sequence("LSTM"), "GRU": sequence("GRU"),
    "RNNCell": cell("RNNCell"), "LSTMCell": cell("LSTMCell"), "GRUCell": cell("GRUCell"),
    "Embedding": embedding, "EmbeddingBag": embedding_bag,
    "MultiheadAttention": mha, "TransformerEncoderLayer": transformer(False),
    "TransformerDecoderLayer": transformer(True), "ScaledDotProductAttention": sdpa,
    "RotaryEmbedding": rotary, "GroupedQueryAttention": gqa, "RelativePositionBias": relative_position_bias,
    "ShiftedWindowAttention": window_attention, "ShiftedWindowAttentionV2": window_attention,
    "Flatten": flatten, "Unflatten": unflatten, "Reshape": reshape, "Permute": permute, "Transpose": transpose,
    "Expand": expand, "Select": select, "Slice": slice_, "Concat": concat, "Parameter": parameter,
    "Buffer": buffer,
    "Add": tensors_or_scalar(broadcasting(2, 3), scalar_op(False)),
    "Mul": tensors_or_scalar(broadcasting(2, 3), scalar_op(False)),
    "Sub": tensors_or_scalar(broadcasting(2, 2), scalar_op(True)),
    "Div": tensors_or_scalar(broadcasting(2, 2), scalar_op(True)),
    "Abs": broadcasting(1, 1), "Neg": broadcasting(1, 1), "Mean": mean, "MatMul": matmul, "Upsample": upsample,
    **{f"{k}Pad{r}d": padding(r, k) for r in (1, 2, 3)
       for k in ("Zero", "Constant", "Reflection", "Replication", "Circular")},
    "PixelShuffle": pixel_shuffle, "PixelUnshuffle": pixel_unshuffle, "ChannelShuffle": channel_shuffle,
}


# --- HuggingFace-style rotary tables (layercalc/layers/rotary.py) -------------------------------------------


def rotary_tables(draw):
    args = {"dim": 2 * draw(ints(1, 3))}
    if draw(flag()):
        args["base"] = draw(st.sampled_from([100.0, 500000.0]))
    if draw(flag()):
        args["scaling"] = draw(st.sampled_from([0.5, 1.25]))
    if draw(flag()):
        args["original"] = draw(flag())
    return args, [[draw(ints(1, 2)), draw(ints(1, 4))]], ["int64"]


CONFIGS["RotaryTables"] = rotary_tables
