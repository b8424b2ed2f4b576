"""The reference executor's own reading of a layer's written arguments.

Each layer type has a signature here, written from torch's constructor (and,
for the layers that are torch functions rather than modules, from the
function: ``torch.cat``, ``Tensor.reshape``, ``F.scaled_dot_product_attention``
...): the arguments in order, each with torch's default and the form torch
takes it in. :func:`parse_args` reads the arguments that a spec WROTE (the raw
YAML of one layer, evaluated in its scope) against that signature: unknown
names are refused, the defaults are torch's, an int for a per-dimension
argument is repeated once per dimension, a list of one value too (what
torch's C++ side does with ``stride=[2]``), and any other length is refused.

Nothing here is taken from the rules (``layercalc.layers``): a default or an
expansion that the rules get wrong is then seen by ``verify`` as a different
weight, shape or count.

Forms::

    "int" "float" "bool"       one value (an int written as 2.0 is 2; 2.5 is refused)
    "number"                   an int or a float, kept as written (a Python number operand)
    ("str", choices)           one of the strings
    ("ints", n)                an int, or a list of 1 or n ints, read as an n-tuple
    ("ints", None)             an int or a list of ints, kept as written (a tuple)
    "shape"                    a list of ints (-1 allowed)
    ("size", n)                adaptive output size: an int or None, or a list of n of them
    ("floats", n)              a number, or a list of 1 or n numbers (Upsample's scale_factor)
    ("padding", n)             an int for all 2*n sides, or a list of 2*n ints (F.pad order)
    ("int|str", choices)       an int-per-dimension form that also takes one of the strings

A default of :data:`REQUIRED` must be written; :data:`INFER` marks an
argument that torch requires but that follows from the input (``in_features``):
it may be left out, and is then ``None`` for the kernel to infer.
"""

from __future__ import annotations

from ..spec.expr import ExprError, evaluate

REQUIRED = object()
INFER = None

_CONV_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def _conv(n: int) -> tuple:
    return (("in_channels", INFER, "int"), ("out_channels", REQUIRED, "int"), ("kernel_size", REQUIRED, ("ints", n)),
            ("stride", 1, ("ints", n)), ("padding", 0, ("int|str", n, ("same", "valid"))),
            ("dilation", 1, ("ints", n)), ("groups", 1, "int"), ("bias", True, "bool"),
            ("padding_mode", "zeros", ("str", _CONV_PADDING_MODES)))


def _conv_transpose(n: int) -> tuple:
    return (("in_channels", INFER, "int"), ("out_channels", REQUIRED, "int"), ("kernel_size", REQUIRED, ("ints", n)),
            ("stride", 1, ("ints", n)), ("padding", 0, ("ints", n)), ("output_padding", 0, ("ints", n)),
            ("groups", 1, "int"), ("bias", True, "bool"), ("dilation", 1, ("ints", n)),
            ("padding_mode", "zeros", ("str", _CONV_PADDING_MODES)))


def _max_pool(n: int) -> tuple:
    return (("kernel_size", REQUIRED, ("ints", n)), ("stride", None, ("ints", n)), ("padding", 0, ("ints", n)),
            ("dilation", 1, ("ints", n)), ("return_indices", False, "bool"), ("ceil_mode", False, "bool"))


def _avg_pool(n: int) -> tuple:
    base = (("kernel_size", REQUIRED, ("ints", n)), ("stride", None, ("ints", n)), ("padding", 0, ("ints", n)),
            ("ceil_mode", False, "bool"), ("count_include_pad", True, "bool"))
    return base + ((("divisor_override", None, "int"),) if n > 1 else ())


def _lp_pool(n: int) -> tuple:
    return (("norm_type", REQUIRED, "float"), ("kernel_size", REQUIRED, ("ints", n)),
            ("stride", None, ("ints", n)), ("ceil_mode", False, "bool"))


def _batch_norm(affine: bool, track: bool) -> tuple:
    return (("num_features", INFER, "int"), ("eps", 1e-5, "float"), ("momentum", 0.1, "float"),
            ("affine", affine, "bool"), ("track_running_stats", track, "bool"), ("bias", True, "bool"))


_P = ("p", 0.5, "float")
_INPLACE = ("inplace", False, "bool")
_DIM_NONE = (("dim", None, "int"),)
_RNN_COMMON = (("num_layers", 1, "int"), ("bias", True, "bool"), ("batch_first", False, "bool"),
               ("dropout", 0.0, "float"), ("bidirectional", False, "bool"))
_TRANSFORMER = (("d_model", INFER, "int"), ("nhead", REQUIRED, "int"), ("dim_feedforward", 2048, "int"),
                ("dropout", 0.1, "float"), ("activation", "relu", ("str", ("relu", "gelu"))),
                ("layer_norm_eps", 1e-5, "float"), ("batch_first", False, "bool"), ("norm_first", False, "bool"),
                ("bias", True, "bool"))
_EMBEDDING_NORM = (("max_norm", None, "float"), ("norm_type", 2.0, "float"), ("scale_grad_by_freq", False, "bool"))
_DTYPES = ("float16", "bfloat16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool")
_UPSAMPLE_MODES = ("nearest", "nearest-exact", "linear", "bilinear", "bicubic", "trilinear")

SIGNATURES: dict[str, tuple] = {
    # linear (torch.nn.Linear, Bilinear, Identity)
    "Identity": (),
    "Linear": (("in_features", INFER, "int"), ("out_features", REQUIRED, "int"), ("bias", True, "bool")),
    "Bilinear": (("in1_features", INFER, "int"), ("in2_features", INFER, "int"), ("out_features", REQUIRED, "int"),
                 ("bias", True, "bool")),
    # convolution
    **{f"Conv{n}d": _conv(n) for n in (1, 2, 3)},
    **{f"ConvTranspose{n}d": _conv_transpose(n) for n in (1, 2, 3)},
    # pooling
    **{f"MaxPool{n}d": _max_pool(n) for n in (1, 2, 3)},
    **{f"AvgPool{n}d": _avg_pool(n) for n in (1, 2, 3)},
    **{f"LPPool{n}d": _lp_pool(n) for n in (1, 2, 3)},
    **{f"AdaptiveAvgPool{n}d": (("output_size", REQUIRED, ("size", n)),) for n in (1, 2, 3)},
    **{f"AdaptiveMaxPool{n}d": (("output_size", REQUIRED, ("size", n)), ("return_indices", False, "bool"))
       for n in (1, 2, 3)},
    # recurrent (torch.nn.RNNBase and the cells)
    "RNN": (("input_size", INFER, "int"), ("hidden_size", REQUIRED, "int"), ("num_layers", 1, "int"),
            ("nonlinearity", "tanh", ("str", ("tanh", "relu"))), *_RNN_COMMON[1:]),
    "LSTM": (("input_size", INFER, "int"), ("hidden_size", REQUIRED, "int"), *_RNN_COMMON, ("proj_size", 0, "int")),
    "GRU": (("input_size", INFER, "int"), ("hidden_size", REQUIRED, "int"), *_RNN_COMMON),
    "RNNCell": (("input_size", INFER, "int"), ("hidden_size", REQUIRED, "int"), ("bias", True, "bool"),
                ("nonlinearity", "tanh", ("str", ("tanh", "relu")))),
    "LSTMCell": (("input_size", INFER, "int"), ("hidden_size", REQUIRED, "int"), ("bias", True, "bool")),
    "GRUCell": (("input_size", INFER, "int"), ("hidden_size", REQUIRED, "int"), ("bias", True, "bool")),
    # normalization
    **{f"BatchNorm{n}d": _batch_norm(True, True) for n in (1, 2, 3)},
    **{f"InstanceNorm{n}d": _batch_norm(False, False) for n in (1, 2, 3)},
    "LayerNorm": (("normalized_shape", REQUIRED, ("ints", None)), ("eps", 1e-5, "float"),
                  ("elementwise_affine", True, "bool"), ("bias", True, "bool")),
    "RMSNorm": (("normalized_shape", REQUIRED, ("ints", None)), ("eps", None, "float"),
                ("elementwise_affine", True, "bool")),
    "GroupNorm": (("num_groups", REQUIRED, "int"), ("num_channels", INFER, "int"), ("eps", 1e-5, "float"),
                  ("affine", True, "bool"), ("bias", True, "bool")),
    "LocalResponseNorm": (("size", REQUIRED, "int"), ("alpha", 1e-4, "float"), ("beta", 0.75, "float"),
                          ("k", 1.0, "float")),
    # dropout
    **{name: (_P, _INPLACE) for name in ("Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout",
                                         "FeatureAlphaDropout")},
    # torchvision.ops.StochasticDepth(p, mode): both required
    "StochasticDepth": (("p", REQUIRED, "float"), ("mode", REQUIRED, ("str", ("batch", "row")))),
    # activation
    **{name: (_INPLACE,) for name in ("ReLU", "ReLU6", "SELU", "SiLU", "Mish", "Hardsigmoid", "Hardswish")},
    **{name: () for name in ("Sigmoid", "Tanh", "LogSigmoid", "Softsign", "Tanhshrink")},
    "Hardtanh": (("min_val", -1.0, "float"), ("max_val", 1.0, "float"), _INPLACE),
    "Threshold": (("threshold", REQUIRED, "float"), ("value", REQUIRED, "float"), _INPLACE),
    "LeakyReLU": (("negative_slope", 0.01, "float"), _INPLACE),
    "RReLU": (("lower", 1 / 8, "float"), ("upper", 1 / 3, "float"), _INPLACE),
    "ELU": (("alpha", 1.0, "float"), _INPLACE),
    "CELU": (("alpha", 1.0, "float"), _INPLACE),
    "GELU": (("approximate", "none", ("str", ("none", "tanh"))),),
    "Softplus": (("beta", 1.0, "float"), ("threshold", 20.0, "float")),
    "Hardshrink": (("lambd", 0.5, "float"),),
    "Softshrink": (("lambd", 0.5, "float"),),
    "PReLU": (("num_parameters", 1, "int"), ("init", 0.25, "float")),
    "GLU": (("dim", -1, "int"),),
    "Softmax": _DIM_NONE, "Softmin": _DIM_NONE, "LogSoftmax": _DIM_NONE,
    # embedding
    "Embedding": (("num_embeddings", REQUIRED, "int"), ("embedding_dim", REQUIRED, "int"),
                  ("padding_idx", None, "int"), *_EMBEDDING_NORM, ("sparse", False, "bool")),
    "EmbeddingBag": (("num_embeddings", REQUIRED, "int"), ("embedding_dim", REQUIRED, "int"), *_EMBEDDING_NORM,
                     ("mode", "mean", ("str", ("sum", "mean", "max"))), ("sparse", False, "bool"),
                     ("include_last_offset", False, "bool"), ("padding_idx", None, "int")),
    # attention: nn.MultiheadAttention's constructor, then its forward's flags
    "MultiheadAttention": (("embed_dim", INFER, "int"), ("num_heads", REQUIRED, "int"), ("dropout", 0.0, "float"),
                           ("bias", True, "bool"), ("add_bias_kv", False, "bool"), ("add_zero_attn", False, "bool"),
                           ("kdim", None, "int"), ("vdim", None, "int"), ("batch_first", False, "bool"),
                           ("need_weights", True, "bool"), ("average_attn_weights", True, "bool"),
                           ("is_causal", False, "bool")),
    "TransformerEncoderLayer": (*_TRANSFORMER, ("is_causal", False, "bool")),
    "TransformerDecoderLayer": (*_TRANSFORMER, ("tgt_is_causal", False, "bool"), ("memory_is_causal", False, "bool")),
    # F.scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False,
    #                                scale=None, enable_gqa=False)
    "ScaledDotProductAttention": (("dropout_p", 0.0, "float"), ("is_causal", False, "bool"), ("scale", None, "float"),
                                  ("enable_gqa", False, "bool")),
    # the decoder attention of Llama-style models (docs/spec-format.md): q/k/v/o projections without bias
    "GroupedQueryAttention": (("embed_dim", INFER, "int"), ("num_heads", REQUIRED, "int"),
                              ("num_kv_heads", None, "int"), ("head_dim", None, "int"), ("bias", False, "bool"),
                              ("is_causal", False, "bool"), ("rotary", False, "bool")),
    "RotaryEmbedding": (("rotary_dim", None, "int"),),
    # the relative position bias of windowed attention (torchvision's Swin and MaxViT build it inside their
    # attention modules from window_size and num_heads)
    "RelativePositionBias": (("window_size", REQUIRED, ("ints", 2)), ("num_heads", REQUIRED, "int")),
    # torchvision.models.swin_transformer.ShiftedWindowAttention(dim, window_size, shift_size, num_heads,
    # qkv_bias=True, proj_bias=True, attention_dropout=0.0, dropout=0.0), and ShiftedWindowAttentionV2 alike
    **{name: (("dim", INFER, "int"), ("window_size", REQUIRED, ("ints", 2)), ("shift_size", REQUIRED, ("ints", 2)),
              ("num_heads", REQUIRED, "int"), ("qkv_bias", True, "bool"), ("proj_bias", True, "bool"),
              ("attention_dropout", 0.0, "float"), ("dropout", 0.0, "float"))
       for name in ("ShiftedWindowAttention", "ShiftedWindowAttentionV2")},
    # structure: nn modules
    "Flatten": (("start_dim", 1, "int"), ("end_dim", -1, "int")),
    "Unflatten": (("dim", REQUIRED, "int"), ("unflattened_size", REQUIRED, "shape")),
    "PixelShuffle": (("upscale_factor", REQUIRED, "int"),),
    "PixelUnshuffle": (("downscale_factor", REQUIRED, "int"),),
    "ChannelShuffle": (("groups", REQUIRED, "int"),),
    "Upsample": (("size", None, ("ints", None)), ("scale_factor", None, ("floats", None)),
                 ("mode", "nearest", ("str", _UPSAMPLE_MODES)), ("align_corners", None, "bool"),
                 ("recompute_scale_factor", None, "bool")),
    **{f"{kind}Pad{n}d": (("padding", REQUIRED, ("padding", n)),)
       for n in (1, 2, 3) for kind in ("Zero", "Reflection", "Replication", "Circular")},
    **{f"ConstantPad{n}d": (("padding", REQUIRED, ("padding", n)), ("value", REQUIRED, "float")) for n in (1, 2, 3)},
    # structure: tensor functions (torch.add, torch.cat(dim=0), Tensor.reshape/permute/transpose/select,
    # x[start:end:step] along dim, Tensor.expand, torch.mean(dim=None, keepdim=False), torch.matmul,
    # torch.abs/neg, nn.Parameter(torch.empty(shape)))
    **{name: (("scalar", None, "number"),) for name in ("Add", "Mul")},
    **{name: (("scalar", None, "number"), ("scalar_first", False, "bool")) for name in ("Sub", "Div")},
    **{name: () for name in ("MatMul", "Abs", "Neg")},
    "Concat": (("dim", 0, "int"),),
    "Reshape": (("shape", REQUIRED, "shape"),),
    "Permute": (("dims", REQUIRED, "shape"),),
    "Transpose": (("dim0", REQUIRED, "int"), ("dim1", REQUIRED, "int")),
    "Select": (("dim", REQUIRED, "int"), ("index", REQUIRED, "int")),
    "Slice": (("dim", REQUIRED, "int"), ("start", None, "int"), ("end", None, "int"), ("step", None, "int")),
    "Expand": (("shape", REQUIRED, "shape"),),
    "Mean": (("dim", None, ("ints", None)), ("keepdim", False, "bool")),
    "Parameter": (("shape", REQUIRED, ("ints", None)),),
    # HuggingFace-style decoders: the rotary tables computed once for every layer (layercalc/layers/rotary.py)
    "RotaryTables": (("dim", REQUIRED, "int"), ("base", 10000.0, "float"), ("scaling", 1.0, "float"),
                     ("original", True, "bool")),
    # a registered buffer (register_buffer(name, torch.zeros(shape, dtype=dtype)))
    "Buffer": (("shape", REQUIRED, ("ints", None)), ("dtype", "float32", ("str", _DTYPES))),
}


class ArgError(ValueError):
    """The written arguments are ones torch would refuse (or does not have)."""


def _choices(form) -> tuple:
    if isinstance(form, tuple) and form[0] == "str":
        return form[1]
    if isinstance(form, tuple) and form[0] == "int|str":
        return form[2]
    return ()


def _evaluate(raw, env: dict, name: str, choices: tuple):
    """One written value: numbers as they are, strings as a literal choice, a name holding true/false or a
    literal string, or an expression of the scope's names; lists item by item."""
    if isinstance(raw, list):
        return [_evaluate(r, env, name, ()) for r in raw]
    if isinstance(raw, str):
        text = raw.strip()
        if text in choices:
            return text
        named = env.get(text)
        if isinstance(named, (bool, str)):
            return _evaluate(named, {}, name, choices)
        try:
            return evaluate(raw, env)
        except ExprError as exc:
            raise ArgError(f"{name}: {exc}") from None
        except (ArithmeticError, ValueError, TypeError) as exc:
            raise ArgError(f"{name}: cannot evaluate {raw!r} ({exc})") from None
    return raw


def _int(v, name: str):
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise ArgError(f"{name} must be an integer, got {v!r}")
    if isinstance(v, float):
        if not v.is_integer():
            raise ArgError(f"{name} must be an integer, got {v!r}")
        v = int(v)
    return v


def _float(v, name: str):
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise ArgError(f"{name} must be a number, got {v!r}")
    return float(v)


def per_dim(v, n: int, name: str, one=_int) -> tuple:
    """torch's expansion of a per-dimension argument: an int repeated n times, a list of one value
    repeated, a list of n values as it is; any other length is refused."""
    if isinstance(v, (list, tuple)):
        items = tuple(one(i, name) for i in v)
        if len(items) == 1:
            return items * n
        if len(items) != n:
            raise ArgError(f"{name} takes 1 or {n} values, got {len(items)}: {list(items)}")
        return items
    return (one(v, name),) * n


def convert(v, form, name: str):
    """A written value in its signature's form (None stays None: torch's optional arguments)."""
    if v is None:
        return None
    if form == "int":
        return _int(v, name)
    if form == "float":
        return _float(v, name)
    if form == "number":
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise ArgError(f"{name} must be a number, got {v!r}")
        return v
    if form == "bool":
        if not isinstance(v, bool):
            raise ArgError(f"{name} must be true or false, got {v!r}")
        return v
    if form == "shape":
        if not isinstance(v, (list, tuple)):
            v = [v]
        return tuple(_int(i, name) for i in v)
    kind = form[0]
    if kind == "str":
        if v not in form[1]:
            raise ArgError(f"{name} must be one of {', '.join(form[1])}, got {v!r}")
        return v
    if kind == "int|str":
        if isinstance(v, str):
            if v not in form[2]:
                raise ArgError(f"{name} must be an int, a list of ints or one of {', '.join(form[2])}, got {v!r}")
            return v
        return per_dim(v, form[1], name)
    if kind == "ints":
        if form[1] is None:
            return tuple(_int(i, name) for i in v) if isinstance(v, (list, tuple)) else _int(v, name)
        return per_dim(v, form[1], name)
    if kind == "floats":
        if isinstance(v, (list, tuple)):
            return tuple(_float(i, name) for i in v)
        return _float(v, name)
    if kind == "size":
        if isinstance(v, (list, tuple)):
            items = tuple(None if i is None else _int(i, name) for i in v)
            if len(items) != form[1]:
                raise ArgError(f"{name} takes {form[1]} values, got {len(items)}")
            return items
        return (_int(v, name),) * form[1]
    if kind == "padding":
        n = 2 * form[1]
        if isinstance(v, (list, tuple)):
            items = tuple(_int(i, name) for i in v)
            if len(items) % 2 or len(items) > n:  # F.pad: pairs from the last dimension, up to n of them
                raise ArgError(f"{name} takes one int or up to {n} values in pairs (left, right, top, bottom, ...), "
                               f"got {len(items)}")
            return items
        return (_int(v, name),) * n
    raise AssertionError(form)


def parse_args(layer_type: str, raw, env: dict | None = None) -> dict:
    """The arguments of one layer as the executor reads them: ``raw`` is the mapping the spec wrote (YAML
    values, expressions allowed), ``env`` its scope. Returns every argument of the signature, with torch's
    default where nothing was written. Raises :class:`ArgError` for what torch would refuse."""
    try:
        sig = SIGNATURES[layer_type]
    except KeyError:
        raise ArgError(f"the reference executor has no signature for {layer_type}") from None
    raw = dict(raw or {})
    env = env or {}
    names = {name for name, _, _ in sig}
    for key in raw:
        if key not in names:
            raise ArgError(f"{layer_type} has no argument {key!r} (its arguments: {', '.join(sorted(names)) or 'none'})")
    out = {}
    for name, default, form in sig:
        if name in raw:
            out[name] = convert(_evaluate(raw[name], env, name, _choices(form)), form, name)
        elif default is REQUIRED:
            raise ArgError(f"{layer_type} requires the argument {name!r}")
        else:
            out[name] = convert(default, form, name)  # torch expands its defaults as it expands what is written
    return out


def written(layer_type: str, raw, env: dict | None = None) -> dict:
    """Only the arguments the spec wrote, read as :func:`parse_args` reads them (for building probes)."""
    args = parse_args(layer_type, raw, env)
    return {k: args[k] for k in (raw or {})}
