"""Differential tests of `layercalc memory` against PyTorch (skipped without torch).

Saved activations: every spec in specs/ (at a small size) and one layer of every family runs in
torch in train mode under ``torch.autograd.graph.saved_tensors_hooks`` (tests/torch_memory.py):
each storage once, parameters and buffers excluded, the model's inputs not requiring grad. The
bytes per layer and in total must equal layercalc's with ``device="cpu"``, in float32 and bfloat16,
with the math and the flash attention kernels.

Optimizer state: torch.optim's state after one step(), for every ``--optimizer``.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from torch.nn.attention import SDPBackend, sdpa_kernel  # noqa: E402

import layercalc  # noqa: E402
from tests.torch_memory import saved_by_layer  # noqa: E402
from tests.small_sizes import SMALL  # noqa: E402
from tests.torch_spec import build, window_cases  # noqa: E402

SPECS = Path(__file__).resolve().parent.parent / "specs"



def test_every_spec_has_a_small_size():
    assert {p.stem for p in SPECS.glob("*.yaml")} == set(SMALL)


DTYPES = {"float32": (torch.float32, "fp32"), "bfloat16": (torch.bfloat16, "bf16")}
KERNELS = {"math": SDPBackend.MATH, "flash": SDPBackend.FLASH_ATTENTION}


def torch_saved(spec, dims, vars, dtype, kernel):
    torch.manual_seed(0)
    graph, report, model, inputs = build(spec, dims=dims, vars=vars)
    model.to(dtype)
    inputs = [x.to(dtype) if x.is_floating_point() else x for x in inputs]
    with sdpa_kernel(KERNELS[kernel]):
        per_layer, total, _ = saved_by_layer(model, inputs)
    return per_layer, total


def assert_saved_like_torch(spec, dtype, precision, kernel="math", dims=None, vars=None):
    """layercalc's saved activation bytes, per layer and in total, equal what torch's hooks see; the
    per-layer figures are returned."""
    per_layer, total = torch_saved(spec, dims, vars, dtype, kernel)
    ours = layercalc.memory(spec, dims=dims, vars=vars, precision=precision, device="cpu", attention=kernel)
    mine = {row.name: d["saved_activation_bytes"] for row, d in zip(ours.layers, ours.rows)
            if d["saved_activation_bytes"]}
    assert (mine, ours.totals["saved_activation_bytes"]) == (per_layer, total), (precision, kernel)
    return mine


#: bfloat16 convolutions are slow on the CPU: the 224 x 224 vision specs run in float32 only.
SLOW_IN_BF16 = {"alexnet", "vgg16", "resnet50", "resnet18", "mobilenet_v2"}
CASES = [(name, dt, k) for name in SMALL for dt in DTYPES for k in KERNELS
         if (k == "math" or name in ("gpt2-small", "gpt3-175b", "llama2-7b"))
         and not (dt == "bfloat16" and name in SLOW_IN_BF16)]  # bert: no CPU flash kernel with dropout


@pytest.mark.parametrize("name,dtype,kernel", CASES)
def test_saved_activations_of_every_spec_equal_torch(name, dtype, kernel):
    dims, vars = SMALL[name]
    path = SPECS / f"{name}.yaml"
    torch_dtype, precision = DTYPES[dtype]
    assert_saved_like_torch(path, torch_dtype, precision, kernel, dims, vars)


# --- one layer of every type -------------------------------------------------------------------------------

X4 = [[2, 3, 6, 6]]
X3 = [[2, 3, 6]]
ACTIVATIONS = ["CELU", "ELU", "GELU", "Hardshrink", "Hardsigmoid", "Hardswish", "Hardtanh", "LeakyReLU",
               "LogSigmoid", "Mish", "PReLU", "RReLU", "ReLU", "ReLU6", "SELU", "SiLU", "Sigmoid", "Softplus",
               "Softshrink", "Softsign", "Tanh", "Tanhshrink", "GLU", "Abs", "Neg"]
MHA = {"num_heads": 2, "batch_first": True, "need_weights": False}
LAYERS = [(t, {}, X3) for t in ACTIVATIONS] + [
    ("Threshold", {"threshold": 0.1, "value": 0.0}, X3), ("Softmax", {"dim": -1}, X3),
    ("LogSoftmax", {"dim": -1}, X3), ("Softmin", {"dim": 1}, X3),
    ("Linear", {"out_features": 5}, [[2, 3, 4]]), ("Linear", {"out_features": 5, "bias": False}, [[3, 4]]),
    ("Bilinear", {"out_features": 5}, [[3, 4], [3, 2]]), ("Identity", {}, X3),
    ("Conv1d", {"out_channels": 4, "kernel_size": 3}, X3), ("Conv2d", {"out_channels": 4, "kernel_size": 3}, X4),
    ("Conv3d", {"out_channels": 2, "kernel_size": 2}, [[1, 3, 4, 4, 4]]),
    ("ConvTranspose2d", {"out_channels": 4, "kernel_size": 3, "stride": 2}, X4),
    ("BatchNorm1d", {}, [[4, 3]]), ("BatchNorm2d", {}, X4), ("BatchNorm2d", {"affine": False}, X4),
    ("BatchNorm3d", {}, [[2, 3, 2, 2, 2]]), ("InstanceNorm2d", {"num_features": 3}, X4),
    ("InstanceNorm1d", {"num_features": 3, "affine": True}, X3),
    ("LayerNorm", {"normalized_shape": 6}, X3), ("LayerNorm", {"normalized_shape": [3, 6], "bias": False}, X3),
    ("GroupNorm", {"num_groups": 2, "num_channels": 4}, [[2, 4, 5]]), ("RMSNorm", {"normalized_shape": 6}, X3),
    ("RMSNorm", {"normalized_shape": 6, "elementwise_affine": False}, X3),
    ("LocalResponseNorm", {"size": 2}, X4),
    ("MaxPool2d", {"kernel_size": 2}, X4), ("MaxPool1d", {"kernel_size": 2}, X3),
    ("MaxPool3d", {"kernel_size": 2}, [[1, 2, 4, 4, 4]]), ("AvgPool2d", {"kernel_size": 2}, X4),
    ("AvgPool1d", {"kernel_size": 3}, X3), ("AdaptiveAvgPool2d", {"output_size": 1}, X4),
    ("AdaptiveAvgPool2d", {"output_size": [2, 3]}, X4), ("AdaptiveAvgPool1d", {"output_size": 2}, X3),
    ("AdaptiveMaxPool2d", {"output_size": 2}, X4), ("LPPool2d", {"norm_type": 2, "kernel_size": 2}, X4),
    ("Dropout", {"p": 0.5}, X4), ("Dropout", {"p": 0.0}, X3), ("Dropout1d", {}, X3), ("Dropout2d", {}, X4),
    ("Dropout", {"p": 1.0}, X3), ("Dropout2d", {"p": 1.0}, X4), ("AlphaDropout", {"p": 1.0}, X3),
    ("MultiheadAttention", {**MHA, "dropout": 1.0}, [[2, 3, 4]]),
    ("MultiheadAttention", {**MHA, "dropout": 1.0, "need_weights": True}, [[2, 3, 4]]),
    ("ScaledDotProductAttention", {"dropout_p": 1.0}, [[2, 3, 4], [2, 5, 4], [2, 5, 6]]),
    ("TransformerEncoderLayer", {"nhead": 2, "dim_feedforward": 8, "batch_first": True, "dropout": 1.0}, [[2, 3, 4]]),
    ("Dropout3d", {}, [[2, 3, 2, 2, 2]]), ("AlphaDropout", {}, X4), ("FeatureAlphaDropout", {}, X4),
    ("StochasticDepth", {"p": 0.5, "mode": "row"}, X4), ("StochasticDepth", {"p": 0.5, "mode": "batch"}, X3),
    ("StochasticDepth", {"p": 0.0, "mode": "row"}, X3), ("StochasticDepth", {"p": 1.0, "mode": "row"}, X3),
    ("StochasticDepth", {"p": 1.0, "mode": "batch"}, X4), ("StochasticDepth", {"p": 0.2, "mode": "row"}, [[5, 4]]),
    ("Add", {}, [[2, 3], [2, 3]]), ("Sub", {}, [[2, 3], [2, 3]]), ("Mul", {}, [[2, 3], [2, 3]]),
    ("Mul", {}, [[2, 3], [2, 3], [2, 3]]), ("Div", {}, [[2, 3], [2, 3]]), ("Mul", {"scalar": 0.125}, [[2, 3]]),
    ("Add", {"scalar": 1}, [[2, 3]]), ("Sub", {"scalar": 1, "scalar_first": True}, [[2, 3]]),
    ("Div", {"scalar": 2}, [[2, 3]]), ("Div", {"scalar": 2, "scalar_first": True}, [[2, 3]]), ("MatMul", {}, [[2, 3, 4], [2, 4, 5]]),
    ("Concat", {"dim": 1}, [[2, 3], [2, 4]]), ("Mean", {"dim": [1]}, X3), ("Flatten", {}, X4),
    ("Reshape", {"shape": [2, 18]}, X3), ("Permute", {"dims": [0, 2, 1]}, X3), ("Transpose", {"dim0": 1, "dim1": 2}, X3),
    ("Select", {"dim": 1, "index": 0}, X3), ("Slice", {"dim": 2, "start": 1, "end": 4}, X3),
    ("Unflatten", {"dim": 2, "unflattened_size": [2, 3]}, X3), ("Expand", {"shape": [2, 3, 6]}, [[2, 1, 6]]),
    ("PixelShuffle", {"upscale_factor": 2}, [[1, 4, 3, 3]]), ("ChannelShuffle", {"groups": 3}, X4),
    ("Upsample", {"scale_factor": 2}, X4), ("Upsample", {"scale_factor": 2, "mode": "bilinear"}, X4),
    ("ZeroPad2d", {"padding": 1}, X4), ("ConstantPad1d", {"padding": 1, "value": 0.5}, X3),
    ("ReflectionPad2d", {"padding": 1}, X4), ("ReplicationPad1d", {"padding": 1}, X3),
    ("CircularPad2d", {"padding": 1}, X4),
    ("MultiheadAttention", MHA, [[2, 3, 4]]), ("MultiheadAttention", {**MHA, "is_causal": True}, [[1, 3, 4]]),
    ("MultiheadAttention", {**MHA, "need_weights": True}, [[2, 3, 4]]),
    ("MultiheadAttention", {"num_heads": 2, "batch_first": False, "need_weights": False}, [[3, 2, 4]]),
    ("MultiheadAttention", {**MHA, "dropout": 0.5}, [[2, 3, 4]]),
    ("MultiheadAttention", {**MHA, "add_bias_kv": True, "add_zero_attn": True}, [[2, 3, 4]]),
    ("GroupedQueryAttention", {"num_heads": 4, "num_kv_heads": 2, "is_causal": True}, [[2, 3, 8]]),
    ("GroupedQueryAttention", {"num_heads": 2, "rotary": True}, [[2, 3, 8]]),
    ("GroupedQueryAttention", {"num_heads": 4, "num_kv_heads": 1, "rotary": True, "head_dim": 4}, [[3, 8]]),
    ("ScaledDotProductAttention", {"is_causal": True}, [[2, 2, 3, 4] for _ in range(3)]),
    ("ScaledDotProductAttention", {}, [[2, 3, 4], [2, 5, 4], [2, 5, 6]]),
    ("RotaryEmbedding", {}, [[2, 3, 4]]), ("RotaryEmbedding", {"rotary_dim": 2}, [[2, 5, 3, 4]]),
    ("TransformerEncoderLayer", {"nhead": 2, "dim_feedforward": 8, "batch_first": True, "activation": "gelu"},
     [[2, 3, 4]]),
    ("TransformerEncoderLayer", {"nhead": 2, "dim_feedforward": 8, "norm_first": True, "dropout": 0.0}, [[3, 2, 4]]),
    ("TransformerEncoderLayer", {"nhead": 2, "dim_feedforward": 8, "batch_first": True, "norm_first": True,
                                 "is_causal": True}, [[1, 3, 4]]),
    # cross-attention: query and key = value; three inputs; kdim and vdim; unbatched
    ("MultiheadAttention", MHA, [[2, 3, 4], [2, 5, 4]]),
    ("MultiheadAttention", {"num_heads": 2, "batch_first": False, "need_weights": True}, [[3, 2, 4], [5, 2, 4]]),
    ("MultiheadAttention", {**MHA, "dropout": 0.5}, [[2, 3, 4], [2, 5, 6], [2, 5, 3]]),
    ("MultiheadAttention", MHA, [[2, 3, 4], [2, 5, 4], [2, 5, 4]]), ("MultiheadAttention", MHA, [[3, 4], [5, 4]]),
    ("MultiheadAttention", {**MHA, "add_bias_kv": True}, [[2, 3, 4], [2, 5, 4]]),
    ("TransformerDecoderLayer", {"nhead": 2, "dim_feedforward": 8, "batch_first": True}, [[2, 3, 4], [2, 5, 4]]),
    ("TransformerDecoderLayer", {"nhead": 2, "dim_feedforward": 8, "norm_first": True, "activation": "gelu",
                                 "dropout": 0.0, "tgt_is_causal": True}, [[3, 2, 4], [5, 2, 4]]),
    ("TransformerDecoderLayer", {"nhead": 1, "dim_feedforward": 6, "batch_first": True, "norm_first": True,
                                 "dropout": 0.0, "bias": False}, [[1, 3, 4], [1, 3, 4]]),
    ("TransformerDecoderLayer", {"nhead": 2, "dim_feedforward": 8, "dropout": 0.0}, [[3, 4], [2, 4]]),
    ("TransformerDecoderLayer", {"nhead": 2, "dim_feedforward": 8, "activation": "gelu", "dropout": 0.2,
                                 "batch_first": True}, [[1, 2, 4], [1, 4, 4]]),
] + [
    # Swin: padded and shifted; one head (kᵀ and v are views of the qkv output); both dropouts; 1 x 1 windows
    (t, args, shapes) for t in ("ShiftedWindowAttention", "ShiftedWindowAttentionV2") for args, shapes in (
        ({"window_size": [3, 2], "shift_size": 1, "num_heads": 2}, [[2, 5, 7, 4]]),
        ({"window_size": 2, "shift_size": 1, "num_heads": 1, "attention_dropout": 0.5, "dropout": 0.5,
          "qkv_bias": False}, [[1, 4, 3, 6]]),
        ({"window_size": 1, "shift_size": 0, "num_heads": 2, "proj_bias": False}, [[1, 2, 3, 4]]),
        ({"window_size": [3, 2], "shift_size": 1, "num_heads": 2}, [[1, 3, 2, 4]]),  # one window
        ({"window_size": 2, "shift_size": 1, "num_heads": 2, "attention_dropout": 1.0, "dropout": 1.0},
         [[1, 4, 3, 4]]))
]


def one_layer_spec(layer_type, args, shapes, trainable=True, first=False):
    """The layer after one trainable Linear per input (so that its inputs require grad), or first."""
    ins = {f"in{i}": {"shape": s} for i, s in enumerate(shapes)}
    layers = [] if first else [{"Linear": {"out_features": s[-1]}, "name": f"p{i}", "from": f"in{i}"}
                               for i, s in enumerate(shapes)]
    entry = {layer_type: dict(args), "name": "L", "from": list(ins) if first else [f"p{i}" for i in range(len(shapes))]}
    if not trainable:
        entry["trainable"] = False
    return {"layercalc": 1, "name": "one", "inputs": ins, "layers": layers + [entry]}


def _ids(case):
    return case[0] + "".join(f"-{k}={v}" for k, v in sorted(case[1].items()) if k not in ("batch_first", "num_heads"))


@pytest.mark.parametrize("layer_type,args,shapes", LAYERS, ids=[_ids(c) for c in LAYERS])
@pytest.mark.parametrize("mode", ["train", "frozen", "first"])
def test_saved_activations_of_one_layer_equal_torch(layer_type, args, shapes, mode):
    spec = one_layer_spec(layer_type, args, shapes, trainable=mode != "frozen", first=mode == "first")
    for dtype, precision in DTYPES.values():
        if layer_type == "LocalResponseNorm" and precision == "bf16":
            continue  # torch has no bfloat16 avg_pool3d on the CPU
        for kernel in KERNELS if "Attention" in layer_type else ["math"]:
            if kernel == "flash" and (args.get("dropout") or args.get("need_weights") or args.get("add_bias_kv")
                                      or (layer_type == "ScaledDotProductAttention" and shapes[0] != shapes[-1])):
                continue
            assert_saved_like_torch(spec, dtype, precision, kernel)


def test_stochastic_depth_saves_one_value_per_sample():
    """torchvision's StochasticDepth after a trainable Linear, input (8, 3, 6, 6): ``input * noise`` keeps the
    noise only, (8, 1, 1, 1) for "row", (1, 1, 1, 1) for "batch", in the input's dtype; p = 0 returns the
    input itself and keeps nothing. Dropout's mask, for comparison, is the input's size on the CPU."""
    shape = [[8, 3, 6, 6]]
    for args, dtype, precision, expected in (
            ({"p": 0.1, "mode": "row"}, torch.float32, "fp32", 32),  # 8 samples x 4 bytes
            ({"p": 0.1, "mode": "row"}, torch.bfloat16, "bf16", 16),  # 8 x 2
            ({"p": 1.0, "mode": "row"}, torch.float32, "fp32", 32),  # all zeros, kept all the same: 8 x 4
            ({"p": 0.1, "mode": "batch"}, torch.float32, "fp32", 4),  # one value x 4
            ({"p": 0.0, "mode": "row"}, torch.float32, "fp32", None)):  # nothing saved
        saved = assert_saved_like_torch(one_layer_spec("StochasticDepth", args, shape), dtype, precision)
        assert saved.get("L") == expected, args
    dropout = assert_saved_like_torch(one_layer_spec("Dropout", {"p": 0.1}, shape), torch.float32, "fp32")
    assert dropout["L"] == 8 * 3 * 6 * 6 * 4  # 6,912 bytes: the noise of every element


@pytest.mark.parametrize("p,expected", [(0.0, 128 + 256), (0.5, 128 + 3 * 256)])
def test_dropout_with_p_0_is_its_input(p, expected):
    """Linear(16), ReLU, Dropout(p), Linear(4) on x (4, 8), float32 on the CPU: the first Linear keeps x
    (128 bytes), ReLU its output (4 x 16 x 4 = 256), the second Linear its input. With p = 0 the dropout
    hands back ReLU's output itself, one storage kept by both; with p = 0.5 the noise (256) and the
    dropped output (256) are new."""
    spec = {"layercalc": 1, "name": "mlp", "inputs": {"x": {"shape": [4, 8]}},
            "layers": [{"Linear": {"out_features": 16}}, {"ReLU": None}, {"Dropout": {"p": p}},
                       {"Linear": {"out_features": 4}}]}
    assert torch_saved(spec, None, None, torch.float32, "math")[1] == expected
    assert layercalc.memory(spec, device="cpu").totals["saved_activation_bytes"] == expected


@pytest.mark.parametrize("trainable", [True, False])
def test_relative_position_bias_saves_only_its_index_buffer(trainable):
    """RelativePositionBias: the gather keeps its index, which is the registered buffer (not counted as an
    activation), so the layer saves nothing; the Add after it saves nothing either, and the Linear
    before it keeps its input x, a model input: 1*2*6*6 floats = 72 x 4 = 288 bytes in float32."""
    bias = {"RelativePositionBias": {"window_size": [3, 2], "num_heads": 2}, "name": "bias"}
    if not trainable:
        bias["trainable"] = False
    spec = {"layercalc": 1, "name": "rpb", "inputs": {"x": {"shape": [1, 2, 6, 6]}},
            "layers": [{"Linear": {"out_features": 6}, "name": "p", "from": "x"}, bias,
                       {"Add": {}, "name": "sum", "from": ["p", "bias"]}]}
    for dtype, precision in DTYPES.values():
        assert "bias" not in assert_saved_like_torch(spec, dtype, precision)


@pytest.mark.parametrize("layer_type,args", [
    ("MultiheadAttention", {"num_heads": 2, "batch_first": True, "need_weights": False}),
    ("MultiheadAttention", {"num_heads": 2, "batch_first": True, "need_weights": True, "dropout": 0.5}),
    ("TransformerDecoderLayer", {"nhead": 2, "dim_feedforward": 8, "batch_first": True, "dropout": 0.0}),
    ("TransformerDecoderLayer", {"nhead": 2, "dim_feedforward": 8, "batch_first": True, "norm_first": True}),
])
@pytest.mark.parametrize("trainable", [True, False])
def test_cross_attention_on_a_model_input_equals_torch(layer_type, args, trainable):
    """The memory is a model input (no grad): with frozen weights the key and value need no gradient, so
    the scaled query and the dropped probabilities are not kept. Key and value given as one layer twice
    (``from: [q, mem, mem]``) take torch's packed key/value projection."""
    three = layer_type == "MultiheadAttention"
    entry = {layer_type: args, "name": "L", "from": ["p", "mem", "mem"] if three else ["p", "mem"]}
    if not trainable:
        entry["trainable"] = False
    spec = {"layercalc": 1, "name": "cross", "inputs": {"tgt": {"shape": [2, 3, 4]}, "mem": {"shape": [2, 5, 4]}},
            "layers": [{"Linear": {"out_features": 4}, "name": "p", "from": "tgt"}, entry]}
    for dtype, precision in DTYPES.values():
        for kernel in KERNELS if not (args.get("dropout", 0.1) or args.get("need_weights")) else ["math"]:
            assert_saved_like_torch(spec, dtype, precision, kernel)


# --- recurrent layers and EmbeddingBag ----------------------------------------------------------------------


def recurrent_cases(seed=11):
    """Six configurations of each of RNN, GRU and LSTM that together take every value of every option
    (num_layers 1-3, bidirectional, batch_first, bias, dropout between layers, LSTM's proj_size, RNN's
    nonlinearity, an unbatched input); the sizes are drawn (seeded), hidden sizes on both sides of
    oneDNN's 64-byte rows."""
    rng = random.Random(seed)
    cases = []
    for kind in ("RNN", "GRU", "LSTM"):
        for k in range(6):
            h = rng.choice([3, 5, 17, 64])
            args = {"hidden_size": h, "num_layers": (1, 2, 3)[k % 3], "bidirectional": k % 2 == 0,
                    "batch_first": k in (0, 1, 4), "bias": k not in (2, 5), "dropout": 0.5 if k in (1, 5) else 0.0}
            if kind == "LSTM" and k in (3, 4):
                args["proj_size"] = rng.randint(1, h - 1)
            if kind == "RNN":
                args["nonlinearity"] = "relu" if k % 2 else "tanh"
            t, b, i = rng.randint(1, 5), rng.randint(2, 4), rng.randint(1, 9)
            cases.append((kind, args, [[t, i] if k == 3 else [t, b, i]]))
    return cases


RECURRENT = recurrent_cases() + [
    ("RNNCell", {"hidden_size": 5}, [[3, 4]]), ("RNNCell", {"hidden_size": 3, "nonlinearity": "relu", "bias": False}, [[4]]),
    ("GRUCell", {"hidden_size": 8}, [[2, 6]]), ("GRUCell", {"hidden_size": 3, "bias": False}, [[5]]),
    ("LSTMCell", {"hidden_size": 5}, [[3, 4]]), ("LSTMCell", {"hidden_size": 3, "bias": False}, [[4]]),
] + [(t, {"hidden_size": 3, "num_layers": 2, "dropout": 1.0}, [[2, 3, 4]]) for t in ("LSTM", "GRU", "RNN")]


@pytest.mark.parametrize("layer_type,args,shapes", RECURRENT, ids=[_ids(c) for c in RECURRENT])
@pytest.mark.parametrize("mode", ["train", "frozen", "first"])
def test_saved_activations_of_recurrent_layers_equal_torch(layer_type, args, shapes, mode):
    """LSTM (oneDNN's kernel, or step by step with a projection), GRU and RNN (step by step) and the three
    cells against torch's CPU kernels, in float32 and bfloat16."""
    spec = one_layer_spec(layer_type, args, shapes, trainable=mode != "frozen", first=mode == "first")
    for dtype, precision in DTYPES.values():
        assert_saved_like_torch(spec, dtype, precision)


def test_recurrent_sample_covers_every_option():
    seen = {(t, k, str(v)) for t, a, _ in RECURRENT for k, v in a.items()}
    assert {t for t, _, _ in RECURRENT} == {"RNN", "GRU", "LSTM", "RNNCell", "GRUCell", "LSTMCell"}
    for kind in ("RNN", "GRU", "LSTM"):
        for k, values in (("num_layers", (1, 2, 3)), ("bidirectional", (True, False)), ("batch_first", (True, False)),
                          ("bias", (True, False)), ("dropout", (0.0, 0.5, 1.0))):
            assert all((kind, k, str(v)) in seen for v in values), (kind, k)
    assert any(t == "LSTM" and a.get("proj_size") for t, a, _ in RECURRENT)
    assert {a.get("nonlinearity", "tanh") for t, a, _ in RECURRENT if t == "RNN"} == {"tanh", "relu"}
    assert {len(s[0]) for t, _, s in RECURRENT if "Cell" not in t} == {2, 3}


def test_onednn_lstm_workspace_by_hand():
    """The workspace of oneDNN's LSTM (one layer and direction), seven parts rounded up to 4,096-byte pages."""
    from layercalc.budget.saved import onednn_lstm_workspace

    # T=4, B=2, I=3, H=5, float32: gates 4*2*32*4 = 1,024; h 4*2*16*4 = 512; states 2*5*2*16*4 = 1,280;
    # c 2*5*2*5*4 = 400; diff states 1,280 twice; diff c 400: every part under a page, 7 pages = 28,672
    assert onednn_lstm_workspace(4, 2, 3, 5, 4) == 28_672
    # T=50, B=8, I=20, H=100, float32: gates 50*8*400*4 = 640,000 (157 pages); h 50*8*112*4 = 179,200 (44);
    # states 2*51*8*112*4 = 365,568 (90); c 2*51*8*100*4 = 326,400 (80); diff states 90 + 90; diff c 80:
    # 631 pages = 2,584,576
    assert onednn_lstm_workspace(50, 8, 20, 100, 4) == 2_584_576
    # the same in bfloat16: gates 50*8*416*2 = 332,800 (82); h 50*8*128*2 = 102,400 (25);
    # states 2*51*8*128*2 = 208,896 (51); c 2*51*8*100*2 = 163,200 (40); diff (float32) 90 + 90 + 80:
    # 458 pages = 1,875,968
    assert onednn_lstm_workspace(50, 8, 20, 100, 2) == 1_875_968
    # I=130 > H=64: rows of max(I, H) = 130 -> 144 floats; 4H = 256 is a multiple of 256 -> 272:
    # gates 7*5*272*4 = 38,080 (10); h 7*5*64*4 = 8,960 (3); states 2*8*5*144*4 = 46,080 (12);
    # c 2*8*5*64*4 = 20,480 (5); diff 12 + 12; diff c 5: 59 pages = 241,664
    assert onednn_lstm_workspace(7, 5, 130, 64, 4) == 241_664


EMBEDDING_BAGS = [{"mode": "sum"}, {"mode": "mean"}, {"mode": "max"}, {"mode": "sum", "padding_idx": 0},
                  {"mode": "mean", "padding_idx": 2}, {"mode": "max", "padding_idx": 0}]


@pytest.mark.parametrize("args", EMBEDDING_BAGS, ids=lambda a: "-".join(f"{k}={v}" for k, v in a.items()))
@pytest.mark.parametrize("index", ["int64", "int32"])
@pytest.mark.parametrize("trainable", [True, False])
def test_saved_activations_of_embedding_bag_equal_torch(args, index, trainable):
    layer = {"EmbeddingBag": {"num_embeddings": 10, "embedding_dim": 4, **args}, "name": "L"}
    if not trainable:
        layer["trainable"] = False
    spec = {"layercalc": 1, "name": "bags", "inputs": {"idx": {"shape": [3, 5], "dtype": index}},
            "layers": [layer, {"Linear": {"out_features": 2}, "name": "out"}]}
    for dtype, precision in DTYPES.values():
        per_layer = assert_saved_like_torch(spec, dtype, precision)  # equal to torch's, asserted inside
    if trainable and args == {"mode": "mean"} and index == "int64":
        # 3 bags of 5 int64 indices: the indices 15*8 = 120, offsets 3*8 = 24, offset2bag (15+1)*8 = 128,
        # bag_size 24, max_indices 24
        assert per_layer["L"] == 320


# --- optimizer state --------------------------------------------------------------------------------------

OPTIMIZERS = {
    "sgd": lambda p: torch.optim.SGD(p, lr=0.1),
    "sgd-momentum": lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9),
    "adam": lambda p: torch.optim.Adam(p),
    "adamw": lambda p: torch.optim.AdamW(p),
    "adam-amsgrad": lambda p: torch.optim.Adam(p, amsgrad=True),
    "adafactor": lambda p: torch.optim.Adafactor(p),
}


@pytest.mark.parametrize("optimizer", list(OPTIMIZERS))
@pytest.mark.parametrize("name", ["lenet5", "gpt2-small", "llama2-7b"])
@pytest.mark.parametrize("dtype", list(DTYPES))
def test_optimizer_state_equals_torch_after_one_step(optimizer, name, dtype):
    dims, vars = SMALL[name]
    torch_dtype, precision = DTYPES[dtype]
    path = SPECS / f"{name}.yaml"
    graph, report, model, inputs = build(path, dims=dims, vars=vars)
    model.to(torch_dtype)
    chosen = [r for r in report.layers if "." not in r.name and r.params and not r.shared][-1].name
    frozen = chosen.replace(".", "__")  # the last top-level layer with parameters, frozen
    for p in model.layers[frozen].parameters():
        p.requires_grad_(False)
    opt = OPTIMIZERS[optimizer]([p for p in model.parameters() if p.requires_grad])
    outs = model(*[x.to(torch_dtype) if x.is_floating_point() else x for x in inputs])
    sum(o.float().sum() for o in outs).backward()
    opt.step()
    state = sum(t.untyped_storage().nbytes() for s in opt.state.values() for t in s.values()
                if isinstance(t, torch.Tensor))
    grads = sum(p.grad.untyped_storage().nbytes() for p in model.parameters() if p.grad is not None)
    weights = sum(p.untyped_storage().nbytes() for p in model.parameters())
    # the same spec with that layer marked `trainable: false`
    import yaml

    doc = yaml.safe_load(path.read_text())
    ours = layercalc.memory(_freeze(doc, chosen), dims=dims, vars=vars,
                                   optimizer=optimizer, precision=precision)
    assert ours.totals["optimizer_bytes"] == state
    assert ours.totals["gradient_bytes"] == grads
    assert ours.totals["weight_bytes"] == weights


def _freeze(doc, name):
    """Mark the top-level layer ``name`` `trainable: false` in the spec document."""
    entry = next(e for e in doc["layers"] if isinstance(e, dict) and e.get("name") == name)
    entry["trainable"] = False
    return doc


# --- training compute --------------------------------------------------------------------------------------


def grouped_conv_excess(model, inputs):
    """FlopCounterMode's weight gradient of a grouped convolution ignores the groups: it counts
    ``groups`` times the forward's MACs where the kernel does the forward's once. Returns the excess
    in MACs, (groups - 1) x forward MACs of every grouped conv whose weight is trainable, measured
    with the counter itself on the forward."""
    from torch.utils.flop_counter import FlopCounterMode

    excess = 0
    for m in model.modules():
        if isinstance(m, (torch.nn.Conv1d, torch.nn.Conv2d, torch.nn.Conv3d)) and m.groups > 1 \
                and m.weight.requires_grad:
            m._count = True
    calls = []

    def hook(module, args, output):
        if getattr(module, "_count", False):
            with FlopCounterMode(display=False) as c:
                module._conv_forward(args[0], module.weight, module.bias)
            calls.append((module.groups - 1) * c.get_total_flops() // 2)

    handles = [m.register_forward_hook(hook) for m in model.modules() if getattr(m, "_count", False)]
    with torch.no_grad():
        model(*inputs)
    for h in handles:
        h.remove()
    excess = sum(calls)
    return excess


def torch_training_macs(model, inputs, checkpoint=False):
    """FlopCounterMode over forward and backward, / 2 (math SDPA, mkldnn off)."""
    from torch.utils.flop_counter import FlopCounterMode

    mkldnn = torch.backends.mkldnn.enabled
    torch.backends.mkldnn.enabled = False
    try:
        with sdpa_kernel(SDPBackend.MATH), FlopCounterMode(display=False) as counter:
            outs = model(*inputs)
            sum(o.float().sum() for o in outs).backward()
    finally:
        torch.backends.mkldnn.enabled = mkldnn
    total = counter.get_total_flops()
    assert total % 2 == 0
    return total // 2


COST_SPECS = [name for name in SMALL if name not in ("vgg16", "alexnet", "resnet50")]
COST_SMALL = SMALL


@pytest.mark.parametrize("name", COST_SPECS + ["vgg16", "alexnet", "resnet50"])
@pytest.mark.parametrize("frozen", [False, True])
def test_training_macs_equal_flop_counter(name, frozen):
    dims, vars = COST_SMALL[name]
    path = SPECS / f"{name}.yaml"
    source = path
    if frozen:  # the first top-level layer with parameters frozen: no weight gradient, and no input gradient after it
        import yaml

        doc = yaml.safe_load(path.read_text())
        report = layercalc.analyze(path, dims=dims, vars=vars)
        first = next((r.name for r in report.layers if "." not in r.name and r.params and not r.shared), None)
        if first is None:
            pytest.skip("no top-level layer with parameters to freeze")
        source = _freeze(doc, first)
    torch.manual_seed(0)
    graph, report, model, inputs = build(source, dims=dims, vars=vars)
    theirs = torch_training_macs(model, inputs) - grouped_conv_excess(model, inputs)
    ours = layercalc.cost(source, dims=dims, vars=vars, attention="math")
    assert ours.totals["forward_macs"] + ours.totals["backward_macs"] == theirs
    assert ours.totals["training_macs"] == theirs


@pytest.mark.parametrize("name,blocks", [("gpt2-small", ["h"]), ("llama2-7b", ["layers.1"]),
                                         ("resnet-cifar", ["all"]), ("bert-base", ["encoder"])])
def test_training_macs_with_checkpointing_equal_flop_counter(name, blocks):
    dims, vars = SMALL[name]
    path = SPECS / f"{name}.yaml"
    torch.manual_seed(0)
    graph, report, model, inputs = build(path, dims=dims, vars=vars)
    if blocks == ["all"]:
        blocks = sorted({r.name.split(".")[0] for r in report.layers if "." in r.name})
    model.checkpoint = tuple(blocks)
    theirs = torch_training_macs(model, inputs) - grouped_conv_excess(model, inputs)
    ours = layercalc.cost(path, dims=dims, vars=vars, checkpoint=blocks)
    plain = layercalc.cost(path, dims=dims, vars=vars)
    assert ours.totals["recompute_macs"] > 0
    assert ours.totals["training_macs"] == plain.totals["training_macs"] + ours.totals["recompute_macs"] == theirs


# --- torch.autocast ---------------------------------------------------------------------------------------

AMP_SPECS = ["lenet5", "resnet-cifar", "gpt2-small", "gpt3-175b", "gpt3-175b-layer", "llama2-7b", "bert-base",
             "char-lstm", "gru-encoder"]
AMP_LAYERS = [
    ("Linear", {"out_features": 5}, [[2, 3, 4]]), ("Conv2d", {"out_channels": 4, "kernel_size": 3}, X4),
    ("MultiheadAttention", MHA, [[1, 3, 4]]), ("MultiheadAttention", MHA, [[2, 3, 4]]),
    ("GroupedQueryAttention", {"num_heads": 4, "num_kv_heads": 2, "rotary": True}, [[2, 3, 8]]),
    ("LayerNorm", {"normalized_shape": 6}, X3), ("BatchNorm2d", {}, X4), ("MatMul", {}, [[2, 3, 4], [2, 4, 5]]),
    ("RMSNorm", {"normalized_shape": 6}, X3), ("Dropout", {"p": 0.5}, X3), ("GELU", {}, X3),
    ("MultiheadAttention", {**MHA, "need_weights": True}, [[2, 3, 4], [2, 5, 4]]),
    ("MultiheadAttention", MHA, [[2, 3, 4], [2, 5, 6], [2, 5, 3]]), ("MultiheadAttention", MHA, [[3, 4], [5, 4]]),
    ("TransformerEncoderLayer", {"nhead": 2, "dim_feedforward": 8, "batch_first": True, "activation": "gelu"},
     [[2, 3, 4]]),
    ("TransformerEncoderLayer", {"nhead": 2, "dim_feedforward": 8, "norm_first": True, "dropout": 0.0}, [[3, 2, 4]]),
    ("TransformerEncoderLayer", {"nhead": 1, "dim_feedforward": 6, "norm_first": True, "bias": False}, [[3, 4]]),
    ("TransformerDecoderLayer", {"nhead": 2, "dim_feedforward": 8, "batch_first": True}, [[2, 3, 4], [2, 5, 4]]),
    ("TransformerDecoderLayer", {"nhead": 2, "dim_feedforward": 8, "norm_first": True, "activation": "gelu",
                                 "dropout": 0.0, "tgt_is_causal": True}, [[3, 2, 4], [5, 2, 4]]),
    ("ShiftedWindowAttention", {"window_size": [3, 2], "shift_size": 1, "num_heads": 2}, [[2, 5, 7, 4]]),
    ("ShiftedWindowAttention", {"window_size": 2, "shift_size": 1, "num_heads": 1, "attention_dropout": 0.5,
                                "dropout": 0.5}, [[1, 4, 3, 6]]),
    ("ShiftedWindowAttentionV2", {"window_size": [3, 2], "shift_size": 1, "num_heads": 3}, [[2, 5, 7, 6]]),
    ("ShiftedWindowAttentionV2", {"window_size": 2, "shift_size": 0, "num_heads": 1, "attention_dropout": 0.5,
                                  "dropout": 0.5}, [[1, 4, 3, 6]]),
    ("ShiftedWindowAttention", {"window_size": 2, "shift_size": 1, "num_heads": 2, "attention_dropout": 1.0,
                                "dropout": 1.0}, [[1, 4, 3, 4]]), ("Dropout", {"p": 1.0}, X3),
    ("StochasticDepth", {"p": 0.5, "mode": "row"}, X4), ("StochasticDepth", {"p": 1.0, "mode": "batch"}, X3),
]


def torch_saved_autocast(spec, dims=None, vars=None):
    torch.manual_seed(0)
    graph, report, model, inputs = build(spec, dims=dims, vars=vars)
    with sdpa_kernel(SDPBackend.MATH):
        per_layer, total, _ = saved_by_layer(model, inputs, autocast=torch.bfloat16)
    return per_layer, total


def _ours_amp(spec, dims=None, vars=None):
    ours = layercalc.memory(spec, dims=dims, vars=vars, precision="amp-bf16", device="cpu")
    return ({row.name: d["saved_activation_bytes"] for row, d in zip(ours.layers, ours.rows)
             if d["saved_activation_bytes"]}, ours.totals["saved_activation_bytes"])


@pytest.mark.parametrize("name", AMP_SPECS)
def test_amp_bf16_equals_torch_autocast(name):
    """amp-bf16 against torch.autocast("cpu", torch.bfloat16): float32 model, 16-bit matmuls, and the
    16-bit copies of inputs and weights that the lowered layers keep for backward."""
    dims, vars = SMALL[name]
    path = SPECS / f"{name}.yaml"
    assert _ours_amp(path, dims, vars) == torch_saved_autocast(path, dims, vars)


@pytest.mark.parametrize("layer_type,args,shapes", AMP_LAYERS + RECURRENT,
                         ids=[_ids(c) for c in AMP_LAYERS + RECURRENT])
@pytest.mark.parametrize("mode", ["train", "frozen", "first"])
def test_amp_bf16_of_one_layer_equals_torch_autocast(layer_type, args, shapes, mode):
    """After a Linear (train, frozen) the layer's input is 16-bit; first, it is the float32 model input."""
    spec = one_layer_spec(layer_type, args, shapes, trainable=mode != "frozen", first=mode == "first")
    assert _ours_amp(spec) == torch_saved_autocast(spec)


# --- Swin's window attention ---------------------------------------------------------------------------------


def test_saved_activations_of_swin_t_first_attention():
    """swin_t's first block: (1, 56, 56, 96), window 7, shift 3, 3 heads, float32 in train mode. T = 64 windows
    of N = 49 tokens: R x C = 3,136 x 96 = 301,056 elements; S = 64 x 3 x 49 x 49 = 460,992 scores. Saved:
    qkv's input, q scaled, kᵀ, v and proj's input (R x C each) and softmax's output (S):
    (5 x 301,056 + 460,992) x 4 = 7,865,088 bytes. Frozen: q scaled, kᵀ, v and the scores,
    (3 x 301,056 + 460,992) x 4 = 5,456,640 bytes."""
    args = {"window_size": 7, "shift_size": 3, "num_heads": 3}
    for trainable, expected in ((True, 7_865_088), (False, 5_456_640)):
        spec = one_layer_spec("ShiftedWindowAttention", args, [[1, 56, 56, 96]], trainable=trainable)
        assert assert_saved_like_torch(spec, torch.float32, "fp32")["L"] == expected


def test_saved_activations_of_swin_v2_attention():
    """Swin v2, (2, 5, 7, 4), window (3, 2), shift 1, 2 heads, float32: padded to 6 x 8, T = 16 windows of
    N = 6, R x C = 96 x 4 = 384, S = 16 x 2 x 6 x 6 = 1,152, M = 5 x 3 = 15 offsets. Saved (elements):
    the position-bias MLP's hidden 15 x 512 = 7,680 and 16 x sigmoid's output 2 x 36 = 72; qkv's input 384;
    the qkv output 3 x 384 = 1,152; normalize's norms and clamped norms for q and k, 4 x 16 x 2 x 6 = 768;
    normalize(q) and normalize(k)ᵀ 2 x 384 = 768; exp(logit_scale) 2; the cosine scores (for logit_scale)
    and softmax's output 2 x 1,152 = 2,304; v 384; proj's input 384. In all 13,898 x 4 = 55,592 bytes."""
    spec = one_layer_spec("ShiftedWindowAttentionV2", {"window_size": [3, 2], "shift_size": 1, "num_heads": 2},
                          [[2, 5, 7, 4]])
    assert 7_680 + 72 + 384 + 1_152 + 768 + 768 + 2 + 2_304 + 384 + 384 == 13_898
    assert assert_saved_like_torch(spec, torch.float32, "fp32")["L"] == 55_592


def _window_cases():
    """tests/torch_spec.py's random Swin layers; every third with both dropouts."""
    for i, (t, args, _, _, shape) in enumerate(window_cases(n=30, seed=23)):
        if i % 3 == 0:
            args = {**args, "attention_dropout": 0.25, "dropout": 0.5}
        yield t, args, shape


@pytest.mark.parametrize("layer_type,args,shape", list(_window_cases()))
def test_saved_activations_of_random_window_attention_equal_torch(layer_type, args, shape):
    """Padding, shifts, one head, one window, 1 x 1 windows, no biases: each mode and precision."""
    for mode in ("train", "frozen", "first"):
        spec = one_layer_spec(layer_type, args, [shape], trainable=mode != "frozen", first=mode == "first")
        assert_saved_like_torch(spec, torch.float32, "fp32")
        assert _ours_amp(spec) == torch_saved_autocast(spec)
    assert_saved_like_torch(one_layer_spec(layer_type, args, [shape]), torch.bfloat16, "bf16")


def _torchvision_saved(model, x, autocast=False):
    """Bytes torch's hooks see in one train-mode forward of a whole model: each storage once, parameters and
    buffers excluded."""
    model.train()
    state = {t.untyped_storage().data_ptr() for t in list(model.parameters()) + list(model.buffers())}
    sizes = {}

    def pack(t):
        storage = t.untyped_storage()
        if storage.data_ptr() not in state:
            sizes[storage.data_ptr()] = storage.nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t), \
            torch.autocast("cpu", torch.bfloat16, enabled=autocast):
        model(x)
    return sum(sizes.values())


@pytest.mark.parametrize("name", ["swin_t", "swin_v2_t"])
def test_torchvision_swin_saved_activations_and_training_macs_equal_torch(name):
    """The whole of torchvision's Swin, imported at batch 2 and 64 x 64 (windows padded in the last
    stages), in train mode with its stochastic depth (p from 0 to 0.2 by block):
    layercalc's saved total equals what torch saves in float32, bfloat16 and under autocast (there with
    the 16-bit copies of every Linear's weight), and its training MACs equal FlopCounterMode's over
    forward and backward. The noise is random, its size is not: two values per StochasticDepth with
    0 < p, one per sample."""
    from layercalc.bridge.api import read_model
    from tests.torch_spec import torchvision_swin

    torchvision_swin()
    import torchvision

    torch.manual_seed(0)
    model = torchvision.models.get_model(name)
    depths = [(m.p, m.mode) for m in model.modules() if type(m).__name__ == "StochasticDepth"]
    # one per block (called after the attention and after the MLP), 2 + 2 + 6 + 2 = 12 blocks, p = 0.2 * k / 11
    assert depths == [(0.2 * k / 11, "row") for k in range(12)]
    text = read_model(model, [(2, 3, 64, 64)], name=name)
    assert text.count("StochasticDepth") >= 2 and "Dropout: {p: p}" not in text
    x = torch.randn(2, 3, 64, 64)
    for precision in ("fp32", "bf16", "amp-bf16"):
        dtype = torch.bfloat16 if precision == "bf16" else torch.float32
        theirs = _torchvision_saved(model.to(dtype), x.to(dtype), autocast=precision == "amp-bf16")
        ours = layercalc.memory(text, device="cpu", precision=precision).totals["saved_activation_bytes"]
        assert ours == theirs, precision
    model.float()
    assert layercalc.cost(text).totals["training_macs"] == torch_training_macs(model, [x])


# --- layouts: what a non-contiguous input makes torch copy and keep (layercalc/budget/layout.py) ------------

_LIN12, _LIN5 = {"Linear": {"out_features": 12}}, {"Linear": {"out_features": 5}}
_T12 = {"Transpose": {"dim0": 1, "dim1": 2}}

#: (id, layers after x (4, 6, 8) -> Linear(12), input shape, saved bytes in float32). The first Linear keeps
#: x (4 x 6 x 8 x 4 = 768); its output (4, 6, 12) is 1,152 bytes.
LAYOUT_SAVED = [
    # F.linear on (4, 12, 6) transposed: matmul folds a contiguous copy (1,152), which mm keeps instead
    # of the first Linear's output: 768 + 1,152
    ("transpose-linear", [_T12, _LIN5], (4, 6, 8), 768 + 1_152),
    # ReLU keeps its output, in the transposed layout (1,152), and the Linear its copy: 768 + 2 x 1,152
    ("transpose-relu-linear", [_T12, {"ReLU": None}, _LIN5], (4, 6, 8), 768 + 2 * 1_152),
    # GELU keeps its input (the first output), then the copy of its transposed output: 768 + 2 x 1,152
    ("permute-gelu-linear", [{"Permute": {"dims": [0, 2, 1]}}, {"GELU": None}, _LIN5], (4, 6, 8), 768 + 2 * 1_152),
    # (6, 4, 12) with strides (12, 72, 1): the leading dims cannot merge, a copy: 768 + 2 x 1,152
    ("transpose01-relu-linear", [{"Transpose": {"dim0": 0, "dim1": 1}}, {"ReLU": None}, _LIN5], (4, 6, 8),
     768 + 2 * 1_152),
    # Softmax writes a contiguous output (kept, 1,152), which the Linear reads as it is: 768 + 1,152
    ("transpose-softmax-linear", [_T12, {"Softmax": {"dim": -1}}, _LIN5], (4, 6, 8), 768 + 1_152),
    # rows 1..4 of 6: (4, 4, 12) cannot fold to (16, 12) without a copy (4 x 4 x 12 x 4 = 768): 768 + 768
    ("slice-dim1-linear", [{"Slice": {"dim": 1, "start": 1, "end": 5}}, _LIN5], (4, 6, 8), 768 + 768),
    # columns 0..5 of 12: (4, 6, 6) folds to a strided (24, 6) view: the first output is kept, 768 + 1,152
    ("slice-dim2-linear", [{"Slice": {"dim": 2, "start": 0, "end": 6}}, _LIN5], (4, 6, 8), 768 + 1_152),
    # every other row: not dense, so ReLU writes a contiguous (4, 3, 12) output (576), read as it is
    ("slice-step-relu-linear", [{"Slice": {"dim": 1, "start": 0, "end": 6, "step": 2}}, {"ReLU": None}, _LIN5],
     (4, 6, 8), 768 + 576),
    # a 2-D strided input: addmm reads it as it is; ReLU's (4, 12) output is contiguous: 768 + 192
    ("select-relu-linear", [{"Select": {"dim": 1, "index": 0}}, {"ReLU": None}, _LIN5], (4, 6, 8), 768 + 192),
    # 2-D: (12, 6) transposed, addmm reads it transposed; ReLU keeps it in that layout: 192 + 288
    ("transpose-2d-relu-linear", [{"Transpose": {"dim0": 0, "dim1": 1}}, {"ReLU": None}, _LIN5], (6, 8), 192 + 288),
    # batch 1: (1, 12, 6) transposed folds to a (12, 6) view, no copy: x 192 and the first output 288
    ("transpose-batch1-linear", [_T12, _LIN5], (1, 6, 8), 192 + 288),
    # the Conv1d keeps its input as given (the transposed view of the first output): 768 + 1,152
    ("transpose-conv1d", [_T12, {"Conv1d": {"out_channels": 5, "kernel_size": 3}}], (4, 6, 8), 768 + 1_152),
    # Flatten of a transposed input is a contiguous copy, kept by the Linear in place of the first output
    ("transpose-flatten-linear", [_T12, {"Flatten": {"start_dim": 1}}, _LIN5], (4, 6, 8), 768 + 1_152),
]


@pytest.mark.parametrize("layers,shape,expected", [c[1:] for c in LAYOUT_SAVED], ids=[c[0] for c in LAYOUT_SAVED])
def test_saved_activations_follow_layouts_like_torch(layers, shape, expected):
    spec = {"layercalc": 1, "name": "layout", "inputs": {"x": {"shape": list(shape)}}, "layers": [_LIN12] + layers}
    assert assert_saved_like_torch(spec, torch.float32, "fp32")
    assert layercalc.memory(spec, device="cpu").totals["saved_activation_bytes"] == expected
    assert _ours_amp(spec) == torch_saved_autocast(spec)  # and the 16-bit copies under autocast


def _strided_tensors(n, seed):
    """Random views of random contiguous tensors: permuted, sliced (with steps), selected, expanded."""
    rng = random.Random(seed)
    for _ in range(n):
        shape = [rng.choice([1, 2, 3, 4]) for _ in range(rng.randint(1, 4))]
        t = torch.empty(shape)
        t = t.permute(*rng.sample(range(t.dim()), t.dim()))
        if rng.random() < 0.5:
            d = rng.randrange(t.dim())
            t = t.narrow(d, 0, rng.randint(1, t.shape[d]))
            t = t[(slice(None),) * d + (slice(None, None, rng.choice([1, 2])),)]
        if rng.random() < 0.3 and t.dim() > 1:
            t = t.select(rng.randrange(t.dim()), 0)
        if rng.random() < 0.3:
            t = t.unsqueeze(0).expand(rng.choice([1, 3]), *t.shape)
        yield t


def test_layout_rules_equal_torch_on_random_views():
    """computeStride (view or copy), is_contiguous, non-overlapping-and-dense, and TensorIterator's output
    layout (``relu`` on the CPU) against torch, on 300 random views."""
    from torch._prims_common import is_non_overlapping_and_dense_or_false as is_non_overlapping_and_dense

    from layercalc.budget import layout

    rng = random.Random(7)
    for t in _strided_tensors(300, 7):
        shape, strides = tuple(t.shape), t.stride()
        assert layout.is_contiguous(shape, strides) == t.is_contiguous(), (shape, strides)
        assert layout.is_dense(shape, strides) == is_non_overlapping_and_dense(t), (shape, strides)
        # the strides of dimensions of size 1 aside: they change no contiguity, density or view
        made = torch.relu(t)
        assert [x for s, x in zip(shape, layout._elementwise(shape, [(shape, strides)])) if s != 1] == \
            [x for s, x in zip(shape, made.stride()) if s != 1], (shape, strides)
        n = t.numel()
        for new in ((n,), (-1, shape[-1]), tuple(rng.sample(shape, len(shape))), (1,) + shape):
            new = tuple(t.reshape(new).shape)
            try:
                expected = t.view(new).stride()
            except RuntimeError:
                expected = None
            assert layout.view_strides(shape, strides, new) == expected, (shape, strides, new)
