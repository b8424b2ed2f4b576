"""What torch refuses, checked by the reference executor before (and after) a kernel runs.

Each check is written from the refusal in torch (the constructor's ``ValueError``, the functional's
``RuntimeError``), on the arguments as the executor parsed them (:mod:`.signatures`) and the input
shapes. :func:`refusal` returns the sentence torch's refusal amounts to, or None; ``verify`` reports a
layer that the rules accepted and torch would refuse as "reference refuses: ...". The kernels need
not repeat these checks.
"""

from __future__ import annotations

from math import prod

UPSAMPLE_RANKS = {"linear": 3, "bilinear": 4, "bicubic": 4, "trilinear": 5}


def _rank(layer_type: str) -> int:
    return int(layer_type[-2]) if layer_type[-1] == "d" and layer_type[-2].isdigit() else 0


def _given_matches(args: dict, name: str, actual: int, what: str):
    if args.get(name) is not None and args[name] != actual:
        return f"{name}={args[name]} but the input's {what} is {actual}"
    return None


def _positive(args: dict, *names):
    for name in names:
        v = args.get(name)
        for item in (v if isinstance(v, tuple) else (v,)):
            if isinstance(item, int) and item < 1:
                return f"{name} must be positive, got {v}"
    return None


def _probability(args: dict, name: str):
    p = args.get(name)
    if p is not None and not 0 <= p <= 1:
        return f"{name} probability has to be between 0 and 1, but got {p}"
    return None


def conv(t: str, a: dict, shapes: list) -> str | None:
    n = _rank(t)
    x = shapes[0]
    if len(x) not in (n + 1, n + 2):
        return f"{t} takes a {n + 1}-D or {n + 2}-D input, got {len(x)}-D"
    cin = x[-n - 1]
    why = _given_matches(a, "in_channels", cin, "channel count") or _positive(a, "kernel_size", "stride", "dilation",
                                                                              "groups")
    if why:
        return why
    for name, v in (("in_channels", cin), ("out_channels", a["out_channels"])):
        if v % a["groups"]:
            return f"{name} must be divisible by groups ({name}={v}, groups={a['groups']})"
    if a["out_channels"] < 1:
        return f"out_channels must be positive, got {a['out_channels']}"
    transposed = t.startswith("ConvTranspose")
    if transposed:
        if a["padding_mode"] != "zeros":
            return f'Only "zeros" padding mode is supported for {t}'
        for op, s, d in zip(a["output_padding"], a["stride"], a["dilation"]):
            if op >= s and op >= d:
                return "output padding must be smaller than either stride or dilation"
        return None
    padding = a["padding"]
    if padding == "same" and any(s != 1 for s in a["stride"]):
        return "padding='same' is not supported for strided convolutions"
    if isinstance(padding, tuple) and any(p < 0 for p in padding):
        return f"negative padding is not supported, got {list(padding)}"
    if isinstance(padding, tuple):
        for length, k, d, p in zip(x[-n:], a["kernel_size"], a["dilation"], padding):
            if length + 2 * p < d * (k - 1) + 1:
                return "the kernel size can't be greater than the padded input size"
    return None


def pool(t: str, a: dict, shapes: list) -> str | None:
    n = _rank(t)
    x = shapes[0]
    if len(x) not in (n + 1, n + 2):
        return f"{t} takes a {n + 1}-D or {n + 2}-D input, got {len(x)}-D"
    why = _positive(a, "kernel_size", "stride", "dilation")
    if why:
        return why
    if "padding" in a:
        if any(p > k // 2 for p, k in zip(a["padding"], a["kernel_size"])):
            return "pad should be at most half of effective kernel size"
        if any(p < 0 for p in a["padding"]):
            return "pad must be non-negative"
    if a.get("divisor_override") == 0:
        return "divisor must be not zero"
    if t.startswith(("AvgPool3d", "LPPool3d")) and any(length < k for length, k in zip(x[-n:], a["kernel_size"])):
        return "avg_pool3d: the input is smaller than the kernel"
    return None


def adaptive(t: str, a: dict, shapes: list) -> str | None:
    n = _rank(t)
    x = shapes[0]
    if len(x) not in (n + 1, n + 2):
        return f"{t} takes a {n + 1}-D or {n + 2}-D input, got {len(x)}-D"
    if n == 1 and a["output_size"][0] is None:
        return "AdaptivePool1d takes no None in output_size"
    if any(o is not None and o < 0 for o in a["output_size"]):
        return "output_size must be non-negative"
    return None


def recurrent(t: str, a: dict, shapes: list) -> str | None:
    x = shapes[0]
    cell = t.endswith("Cell")
    if len(x) not in ((1, 2) if cell else (2, 3)):
        return f"{t} takes a {'1-D or 2-D' if cell else '2-D or 3-D'} input, got {len(x)}-D"
    why = _given_matches(a, "input_size", x[-1], "last dimension") or _positive(a, "hidden_size", "num_layers")
    if why:
        return why
    if not cell:
        if not 0 <= a["dropout"] <= 1:
            return "dropout should be a number in range [0, 1] representing the probability of an element being zeroed"
        proj = a.get("proj_size", 0)
        if proj < 0:
            return "proj_size should be a positive integer or zero to disable projections"
        if proj >= a["hidden_size"]:
            return "proj_size has to be smaller than hidden_size"
    return None


def norm(t: str, a: dict, shapes: list) -> str | None:
    x = shapes[0]
    if t.startswith(("BatchNorm", "InstanceNorm")):
        n = _rank(t)
        ranks = {"BatchNorm1d": (2, 3), "BatchNorm2d": (4,), "BatchNorm3d": (5,)}.get(t, (n + 1, n + 2))
        if len(x) not in ranks:
            return f"{t} expects a {' or '.join(f'{r}-D' for r in ranks)} input, got {len(x)}-D"
        channels = x[0] if t.startswith("InstanceNorm") and len(x) == n + 1 else x[1]
        return _given_matches(a, "num_features", channels, "channel count")
    if t == "GroupNorm":
        if a["num_groups"] < 1 or (len(x) > 1 and x[1] % a["num_groups"]):
            return "num_channels must be divisible by num_groups"
        return _given_matches(a, "num_channels", x[1] if len(x) > 1 else 0, "channel count")
    if t in ("LayerNorm", "RMSNorm"):
        ns = a["normalized_shape"]
        ns = tuple(ns) if isinstance(ns, tuple) else (ns,)
        if tuple(x[len(x) - len(ns):]) != ns or len(ns) > len(x):
            return f"normalized_shape={list(ns)} does not match the input's trailing sizes {list(x)}"
    if t == "LocalResponseNorm" and len(x) < 3:
        return "LocalResponseNorm expects a 3-D or higher input"
    return None


def attention(t: str, a: dict, shapes: list) -> str | None:
    if t == "MultiheadAttention":
        e = shapes[0][-1]
        why = _given_matches(a, "embed_dim", e, "last dimension") or _probability(a, "dropout")
        if why:
            return why
        if e % a["num_heads"]:
            return "embed_dim must be divisible by num_heads"
        key = shapes[1] if len(shapes) > 1 else shapes[0]
        value = shapes[2] if len(shapes) > 2 else key
        return _given_matches(a, "kdim", key[-1], "key size") or _given_matches(a, "vdim", value[-1], "value size")
    if t.startswith("Transformer"):
        d = shapes[0][-1]
        why = _given_matches(a, "d_model", d, "last dimension") or _probability(a, "dropout")
        if why:
            return why
        if d % a["nhead"]:
            return "embed_dim must be divisible by num_heads"
    if t == "GroupedQueryAttention":
        e = shapes[0][-1]
        why = _given_matches(a, "embed_dim", e, "last dimension")
        if why:
            return why
        kv = a["num_kv_heads"] or a["num_heads"]
        if a["num_heads"] % kv:
            return "num_heads must be divisible by num_kv_heads"
        if a["head_dim"] is None and e % a["num_heads"]:
            return "embed_dim must be divisible by num_heads"
        hd = a["head_dim"] or e // a["num_heads"]
        if a["rotary"] and hd % 2:
            return "a rotary embedding needs an even head_dim"
    if t == "RotaryEmbedding":
        rot = a["rotary_dim"] if a["rotary_dim"] is not None else shapes[0][-1]
        if rot % 2 or rot > shapes[0][-1] or rot < 2:
            return f"rotary_dim={rot} must be even, at least 2 and at most the last dimension {shapes[0][-1]}"
    if t == "RelativePositionBias":
        return _positive(a, "window_size", "num_heads")
    if t.startswith("ShiftedWindowAttention"):
        x = shapes[0]
        if len(x) != 4:
            return f"expected a 4-D input (B, H, W, C), got {len(x)}-D"
        why = (_given_matches(a, "dim", x[-1], "last dimension") or _positive(a, "window_size", "num_heads")
               or _probability(a, "attention_dropout") or _probability(a, "dropout"))
        if why:
            return why
        if any(s < 0 for s in a["shift_size"]):
            return f"shift_size must not be negative, got {a['shift_size']}"
        if x[-1] % a["num_heads"]:
            return f"the channels {x[-1]} cannot be reshaped into {a['num_heads']} heads"
    if t == "ScaledDotProductAttention":
        if _probability(a, "dropout_p"):
            return _probability(a, "dropout_p")
    return None


def structure(t: str, a: dict, shapes: list) -> str | None:
    x = shapes[0] if shapes else ()
    if t == "PixelShuffle" and (len(x) < 3 or x[-3] % (a["upscale_factor"] ** 2)):
        return "pixel_shuffle expects its input's channel dimension to be divisible by the square of upscale_factor"
    if t == "PixelUnshuffle" and (len(x) < 3 or x[-2] % a["downscale_factor"] or x[-1] % a["downscale_factor"]):
        return "pixel_unshuffle expects height and width to be divisible by downscale_factor"
    if t == "ChannelShuffle" and (len(x) < 3 or x[1] % a["groups"]):
        return "Number of channels must be divisible by groups"
    if t == "Upsample":
        if (a["size"] is None) == (a["scale_factor"] is None):
            return "either size or scale_factor should be defined, not both"
        want = UPSAMPLE_RANKS.get(a["mode"])
        if want is not None and len(x) != want:
            return f"mode {a['mode']!r} takes a {want}-D input, got {len(x)}-D"
        if a["align_corners"] is not None and a["mode"] not in UPSAMPLE_RANKS:
            return "align_corners option can only be set with the interpolating modes"
    if t in ("Add", "Sub", "Mul", "Div") and any(len(s) > 64 for s in shapes):
        return "too many dimensions"
    if t == "Slice" and a.get("step") is not None and a["step"] < 1:
        return "slice step must be positive"
    if t in ("Parameter", "Buffer"):
        shape = a["shape"] if isinstance(a["shape"], tuple) else (a["shape"],)
        if any(d < 0 for d in shape):
            return f"negative dimension in {list(shape)}"
    return None


def simple(t: str, a: dict, shapes: list) -> str | None:
    if t in ("Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout", "FeatureAlphaDropout"):
        return _probability(a, "p")
    if t == "StochasticDepth":  # torchvision's stochastic_depth; in train mode "row" reads input.shape[0]
        if a["mode"] == "row" and not shapes[0]:
            return "mode 'row' draws one value per sample of dimension 0, and a 0-d input has none"
        return _probability(a, "p")
    if t == "Linear":
        return _given_matches(a, "in_features", shapes[0][-1] if shapes[0] else 1, "last dimension")
    if t == "Bilinear":
        return _given_matches(a, "in1_features", shapes[0][-1], "first input's last dimension") or \
            _given_matches(a, "in2_features", shapes[1][-1], "second input's last dimension")
    if t in ("Embedding", "EmbeddingBag"):
        pad, n = a["padding_idx"], a["num_embeddings"]
        if pad is not None and not -n <= pad < n:
            return "padding_idx must be within num_embeddings"
        if t == "EmbeddingBag" and len(shapes[0]) not in (1, 2):
            return "EmbeddingBag takes a 1-D or 2-D input"
    if t == "Hardtanh" and a["max_val"] <= a["min_val"]:
        return "max_val must be greater than min_val"
    if t == "CELU" and a["alpha"] == 0:
        return "ZeroDivisionError: alpha cannot be 0 for CELU"
    if t == "PReLU" and a["num_parameters"] > 1:
        x = shapes[0]
        if len(x) < 2 or x[1] != a["num_parameters"]:
            return "num_parameters must equal the number of channels (dim 1) of the input"
    return None


CHECKS = {
    **{f"{kind}{n}d": conv for n in (1, 2, 3) for kind in ("Conv", "ConvTranspose")},
    **{f"{kind}Pool{n}d": pool for n in (1, 2, 3) for kind in ("Max", "Avg", "LP")},
    **{f"Adaptive{kind}Pool{n}d": adaptive for n in (1, 2, 3) for kind in ("Max", "Avg")},
    **{t: recurrent for t in ("RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell")},
    **{t: norm for t in ("BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "InstanceNorm1d", "InstanceNorm2d",
                         "InstanceNorm3d", "GroupNorm", "LayerNorm", "RMSNorm", "LocalResponseNorm")},
    **{t: attention for t in ("MultiheadAttention", "TransformerEncoderLayer", "TransformerDecoderLayer",
                              "GroupedQueryAttention", "RotaryEmbedding", "ScaledDotProductAttention",
                              "RelativePositionBias", "ShiftedWindowAttention", "ShiftedWindowAttentionV2")},
    **{t: structure for t in ("PixelShuffle", "PixelUnshuffle", "ChannelShuffle", "Upsample", "Add", "Sub", "Mul",
                              "Div", "Slice", "Parameter", "Buffer")},
}


def refusal(layer_type: str, args: dict, shapes: list) -> str | None:
    """Why torch would refuse this layer on inputs of these shapes, or None."""
    check = CHECKS.get(layer_type, simple)
    try:
        return check(layer_type, args, [tuple(s) for s in shapes])
    except (IndexError, KeyError, TypeError, ZeroDivisionError) as exc:
        return f"the arguments do not fit the input ({type(exc).__name__}: {exc})"


def empty_output(layer_type: str, shape) -> str | None:
    """After the run: torch's window layers refuse an output with an empty spatial dimension."""
    if "Pool" in layer_type and "Adaptive" not in layer_type or layer_type.startswith(("Conv",)):
        n = _rank(layer_type)
        if n and prod(shape[-n:]) == 0:
            return f"the output size {list(shape[-n:])} is too small"
    return None
