"""Differential tests of the attention family against torch (skipped without torch).

torch runs with the math attention backend (``sdpa_kernel(SDPBackend.MATH)``)
and without the MultiheadAttention/TransformerEncoderLayer fast path, so that
FlopCounterMode sees both attention products as ``bmm``/``matmul``; MACs are
its total / 2 (``tests.oracle.torch_measure``).
"""

import contextlib
import math
import random

import pytest

torch = pytest.importorskip("torch")

from torch.nn.attention import SDPBackend, sdpa_kernel  # noqa: E402

import layercalc  # noqa: E402
from tests.oracle import ours, torch_measure  # noqa: E402
from tests.torch_spec import LlamaAttention, torchvision_swin, window_cases  # noqa: E402

# softmax per score, by the FLOPs convention (docs/flops.md): max 1, subtract 1, exp 1, sum 1, divide 1 = 5;
# written here, not read from layercalc.costs, so a change of the table fails
SOFTMAX = 5


@contextlib.contextmanager
def visible_attention():
    """The math backend and no fused fast path: every product runs as an op FlopCounterMode counts."""
    was = torch.backends.mha.get_fastpath_enabled()
    torch.backends.mha.set_fastpath_enabled(False)
    try:
        with sdpa_kernel(SDPBackend.MATH):
            yield
    finally:
        torch.backends.mha.set_fastpath_enabled(was)


def causal_mask(lq, s):
    return torch.triu(torch.full((lq, s), float("-inf")), diagonal=1)


def measure(module, inputs, **kwargs):
    with visible_attention():
        return torch_measure(module, inputs, **kwargs)


# --- MultiheadAttention -----------------------------------------------------------------------------------


def mha_cases(n=90, seed=51):
    rng = random.Random(seed)
    for _ in range(n):
        heads, head_dim = rng.randint(1, 8), rng.randint(1, 4)
        e = heads * head_dim
        kdim = e if rng.random() < 0.5 else rng.randint(1, 12)
        vdim = e if rng.random() < 0.5 else rng.randint(1, 12)
        args = {"num_heads": heads}
        # each flag: written half the time, otherwise torch's default (compared with torch as well)
        for name, value, default in (("bias", rng.random() < 0.7, True), ("add_bias_kv", rng.random() < 0.3, False),
                                     ("add_zero_attn", rng.random() < 0.3, False),
                                     ("batch_first", rng.random() < 0.5, False),
                                     ("need_weights", rng.random() < 0.7, True),
                                     ("average_attn_weights", rng.random() < 0.6, True)):
            if value != default or rng.random() < 0.5:
                args[name] = value
        if rng.random() < 0.2:
            args["dropout"] = 0.1
        if rng.random() < 0.2:
            args["is_causal"] = True
        for name, value in (("embed_dim", e), ("kdim", kdim), ("vdim", vdim)):
            if rng.random() < 0.4 or value != e and name != "embed_dim" and rng.random() < 0.5:
                args[name] = value
        n_b, lq, s = rng.randint(1, 3), rng.randint(1, 5), rng.randint(1, 5)
        batched = rng.random() < 0.75
        mode = "self" if kdim == vdim == e and rng.random() < 0.5 else "qkv"
        if mode == "self":
            s = lq

        def shape(length, features):
            if not batched:
                return [length, features]
            return [n_b, length, features] if args.get("batch_first") else [length, n_b, features]

        shapes = [shape(lq, e)] if mode == "self" else [shape(lq, e), shape(s, kdim), shape(s, vdim)]
        yield args, e, kdim, vdim, shapes


@pytest.mark.parametrize("args,e,kdim,vdim,shapes", list(mha_cases()))
def test_mha_matches_torch(args, e, kdim, vdim, shapes):
    row = ours("MultiheadAttention", args, shapes)
    forward = ("need_weights", "average_attn_weights", "is_causal")
    ctor = {k: v for k, v in args.items() if k not in forward + ("embed_dim",)}
    ctor.update(kdim=kdim, vdim=vdim)
    module = torch.nn.MultiheadAttention(e, **ctor)
    tensors = [torch.randn(*s) for s in shapes]
    if len(tensors) == 1:
        tensors = tensors * 3  # the same tensor: self-attention
    kwargs = {k: args[k] for k in forward if k in args}
    if args.get("is_causal"):  # torch takes the mask and the is_causal hint together
        lq = tensors[0].shape[1 if args.get("batch_first") and tensors[0].dim() == 3 else 0]
        s = tensors[1].shape[1 if args.get("batch_first") and tensors[1].dim() == 3 else 0]
        kwargs["attn_mask"] = causal_mask(lq, s)
    ref = measure(module, tensors, **kwargs)
    # torch returns (output, weights or None): the shapes of all outputs must match
    assert [row.output_shape] + list(row.extra_outputs.values()) == ref["outputs"]
    assert (row.params, row.buffers, row.macs) == (ref["params"], ref["buffers"], ref["macs"])


def test_mha_flops_formula():
    # MHA(E=8, 2 heads) self-attention on (L=5, N=2, 8), need_weights averaged
    row = ours("MultiheadAttention", {"num_heads": 2}, [[5, 2, 8]])
    proj = 4 * 10 * 8 * 8  # q, k, v, out: 10 tokens of 8 -> 8
    products = 2 * 2 * 5 * 5 * 4 * 2  # N * heads * L * S * head_dim, Q·Kᵀ and A·V
    assert row.macs == proj + products == 3360
    scores = 2 * 2 * 5 * 5
    bias_adds = 4 * 10 * 8
    average = 2 * 5 * 5 * (2 + 1)  # the mean over 2 heads per returned weight
    assert row.flops == 2 * row.macs + bias_adds + scores * (1 + SOFTMAX) + average


def test_attn_weights_feed_later_layers():
    spec = """
layercalc: 1
inputs: {x: [2, 6, 16]}
layers:
  - MultiheadAttention: {num_heads: 4, batch_first: true, average_attn_weights: false}
    name: mha
  - Softmax: {dim: -1}
    from: mha.attn_weights
outputs: [mha, softmax_1]
"""
    assert layercalc.analyze(spec).outputs == {"mha": [2, 6, 16], "softmax_1": [2, 4, 6, 6]}


def test_no_attn_weights_without_need_weights():
    spec = """
layercalc: 1
inputs: {x: [2, 6, 16]}
layers:
  - MultiheadAttention: {num_heads: 4, need_weights: false}
    name: mha
  - Identity:
    from: mha.attn_weights
"""
    with pytest.raises(layercalc.SpecError) as err:
        layercalc.analyze(spec)
    assert err.value.code == "G009"


# --- ScaledDotProductAttention ----------------------------------------------------------------------------


def sdpa_cases(n=50, seed=52):
    rng = random.Random(seed)
    for _ in range(n):
        lq, s, e, ev = rng.randint(1, 5), rng.randint(1, 5), rng.randint(1, 6), rng.randint(1, 6)
        gqa = rng.random() < 0.3
        args = {"is_causal": rng.random() < 0.4, "enable_gqa": gqa}
        if rng.random() < 0.3:
            args["scale"] = 0.5
        if gqa:
            hk = rng.randint(1, 3)
            hq = hk * rng.randint(1, 3)
            lead = [rng.randint(1, 3) for _ in range(rng.randint(0, 1))]
            q, k, v = lead + [hq], lead + [hk], lead + [hk]
        else:
            lead = [rng.randint(1, 3) for _ in range(rng.randint(0, 3))]
            # broadcasting: the key/value may drop leading dims or have 1s
            k = [d if rng.random() < 0.7 else 1 for d in lead][rng.randint(0, len(lead)):] if lead else []
            q, v = lead, k
        yield args, [q + [lq, e], k + [s, e], v + [s, ev]]


@pytest.mark.parametrize("args,shapes", list(sdpa_cases()))
def test_sdpa_matches_torch(args, shapes):
    row = ours("ScaledDotProductAttention", args, shapes)

    class SDPA(torch.nn.Module):
        def forward(self, q, k, v):
            return torch.nn.functional.scaled_dot_product_attention(q, k, v, **args)

    ref = measure(SDPA(), [torch.randn(*s) for s in shapes])
    assert row.output_shape == ref["outputs"][0]
    assert (row.params, row.buffers, row.macs) == (0, 0, ref["macs"])
    lead = row.output_shape[:-2]
    scores = math.prod(lead) * shapes[0][-2] * shapes[1][-2]
    assert row.flops == 2 * row.macs + scores * (1 + (1 if args["is_causal"] else 0) + SOFTMAX)


# --- the transformer layers -------------------------------------------------------------------------------


def transformer_cases(n=40, seed=53):
    rng = random.Random(seed)
    for i in range(n):
        heads = rng.randint(1, 4)
        d = heads * rng.randint(1, 4)
        args = {"nhead": heads, "dim_feedforward": rng.randint(1, 24), "activation": rng.choice(["relu", "gelu"]),
                "batch_first": rng.random() < 0.5, "norm_first": rng.random() < 0.5, "bias": rng.random() < 0.7,
                "dropout": rng.choice([0.0, 0.1]), "layer_norm_eps": rng.choice([1e-5, 1e-6])}
        if rng.random() < 0.5:
            args["d_model"] = d
        causal = rng.random() < 0.3
        n_b, t, s = rng.randint(1, 3), rng.randint(1, 5), rng.randint(1, 5)
        batched = rng.random() < 0.75

        def shape(length):
            if not batched:
                return [length, d]
            return [n_b, length, d] if args["batch_first"] else [length, n_b, d]

        kind = "TransformerDecoderLayer" if i % 2 else "TransformerEncoderLayer"
        if causal:
            args["tgt_is_causal" if i % 2 else "is_causal"] = True
        shapes = [shape(t), shape(s)] if kind == "TransformerDecoderLayer" else [shape(t)]
        yield kind, args, d, shapes


@pytest.mark.parametrize("kind,args,d,shapes", list(transformer_cases()))
def test_transformer_layer_matches_torch(kind, args, d, shapes):
    row = ours(kind, args, shapes)
    forward = ("is_causal", "tgt_is_causal")
    ctor = {k: v for k, v in args.items() if k not in forward + ("d_model",)}
    module = getattr(torch.nn, kind)(d, **ctor)
    tensors = [torch.randn(*s) for s in shapes]
    kwargs = {}
    t = tensors[0].shape[1 if args["batch_first"] and tensors[0].dim() == 3 else 0]
    if args.get("is_causal"):
        kwargs = {"src_mask": causal_mask(t, t), "is_causal": True}
    if args.get("tgt_is_causal"):
        kwargs = {"tgt_mask": causal_mask(t, t), "tgt_is_causal": True}
    ref = measure(module, tensors, **kwargs)
    assert row.output_shape == ref["outputs"][0]
    assert (row.params, row.buffers, row.macs) == (ref["params"], ref["buffers"], ref["macs"])


def test_encoder_layer_counts_as_its_sublayers():
    # TransformerEncoderLayer(d=8, nhead=2, ff=16) post-norm on (T=5, N=2, 8) = MHA + Linear x 2 + ReLU +
    # 2 LayerNorms + 2 residual adds, each counted by its own rule
    x = [[5, 2, 8]]
    layer = ours("TransformerEncoderLayer", {"nhead": 2, "dim_feedforward": 16}, x)
    mha = ours("MultiheadAttention", {"num_heads": 2, "need_weights": False}, x)
    lin1 = ours("Linear", {"out_features": 16}, x)
    relu = ours("ReLU", {}, [[5, 2, 16]])
    lin2 = ours("Linear", {"out_features": 8}, [[5, 2, 16]])
    norm = ours("LayerNorm", {"normalized_shape": 8}, x)
    parts = [mha, lin1, relu, lin2, norm, norm]
    assert layer.params == sum(p.params for p in parts) == 4 * 8 * 8 + 4 * 8 + 2 * 8 * 16 + 16 + 8 + 2 * 2 * 8
    assert layer.macs == sum(p.macs for p in parts)
    assert layer.flops == sum(p.flops for p in parts) + 2 * 5 * 2 * 8


# --- GroupedQueryAttention and RotaryEmbedding ------------------------------------------------------------


def gqa_cases(n=30, seed=54):
    rng = random.Random(seed)
    for _ in range(n):
        kv = rng.randint(1, 3)
        heads = kv * rng.randint(1, 3)
        e = heads * rng.randint(1, 4)
        hd = e // heads if rng.random() < 0.6 else 2 * rng.randint(1, 4)
        args = {"num_heads": heads, "bias": rng.random() < 0.3, "is_causal": rng.random() < 0.5,
                "rotary": hd % 2 == 0 and rng.random() < 0.5}
        if kv != heads or rng.random() < 0.5:
            args["num_kv_heads"] = kv
        if hd != e // heads or rng.random() < 0.3:
            args["head_dim"] = hd
        t = rng.randint(1, 6)
        shape = [t, e] if rng.random() < 0.2 else [rng.randint(1, 3), t, e]
        yield args, e, kv, hd, shape


@pytest.mark.parametrize("args,e,kv,hd,shape", list(gqa_cases()))
def test_gqa_matches_llama_attention(args, e, kv, hd, shape):
    row = ours("GroupedQueryAttention", args, [shape])
    module = LlamaAttention(e, args["num_heads"], kv, hd, args["bias"], args["is_causal"], rotary=False)
    ref = measure(module, [torch.randn(*shape)])
    assert row.output_shape == ref["outputs"][0]
    assert (row.params, row.buffers, row.macs) == (ref["params"], ref["buffers"], ref["macs"])


def test_gqa_flops_formula():
    # GQA(E=8, 4 heads, 2 kv heads, head_dim 2), causal, rotary, on (B=2, T=5, 8)
    row = ours("GroupedQueryAttention", {"num_heads": 4, "num_kv_heads": 2, "is_causal": True, "rotary": True},
               [[2, 5, 8]])
    proj = 10 * 8 * (4 * 2) + 2 * 10 * 8 * (2 * 2) + 10 * (4 * 2) * 8  # q, k and v, o
    products = 2 * 4 * 5 * 5 * 2 * 2
    assert row.macs == proj + products
    rotary = 3 * 10 * 4 * 2 + 3 * 10 * 2 * 2  # 3 per element of q (B, T, 4, 2) and k (B, T, 2, 2)
    scores = 2 * 4 * 5 * 5
    assert row.flops == 2 * row.macs + rotary + scores * (1 + 1 + SOFTMAX)


def test_rotary_embedding():
    row = ours("RotaryEmbedding", {}, [[2, 5, 3, 8]])
    assert (row.output_shape, row.params, row.buffers, row.macs, row.flops) == ([2, 5, 3, 8], 0, 0, 0, 3 * 240)
    partial = ours("RotaryEmbedding", {"rotary_dim": 4}, [[2, 5, 8]])
    assert partial.flops == 3 * 2 * 5 * 4


# --- RelativePositionBias ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tv_swin():
    return torchvision_swin()


class SwinBias(torch.nn.Module):
    """torchvision's Swin relative position bias: its table, its index buffer and its gather."""

    def __init__(self, tv, window, heads):
        super().__init__()
        self.tv, self.window_size, self.num_heads = tv, list(window), heads
        tv.ShiftedWindowAttention.define_relative_position_bias_table(self)
        tv.ShiftedWindowAttention.define_relative_position_index(self)

    def forward(self):
        return self.tv._get_relative_position_bias(self.relative_position_bias_table, self.relative_position_index,
                                                   self.window_size)


@pytest.mark.parametrize("window,heads", [((7, 7), 3), ((2, 3), 2), ((1, 1), 1), ((8, 8), 4), ((4, 1), 5)])
def test_relative_position_bias_matches_swin(tv_swin, window, heads):
    row = ours("RelativePositionBias", {"window_size": list(window), "num_heads": heads}, [])
    ref = measure(SwinBias(tv_swin, window, heads), [])
    n = window[0] * window[1]
    assert row.output_shape == ref["outputs"][0] == [1, heads, n, n]
    assert (row.params, row.buffers, row.macs, row.flops) == (ref["params"], ref["buffers"], ref["macs"], 0)
    # (7, 7) x 3 heads: a 13 * 13 table of 3 columns = 507 params, 49 * 49 = 2,401 index elements
    assert (row.params, row.buffers) == ((2 * window[0] - 1) * (2 * window[1] - 1) * heads, n * n)


def test_relative_position_bias_values_are_swins_and_maxvits(tv_swin):
    from layercalc.reference.attention import window_offsets
    from tests.reference_helpers import reference_run, to_torch

    maxvit = pytest.importorskip("torchvision.models.maxvit")
    for window in ((3, 3), (2, 4), (5, 2)):
        _, run = reference_run("RelativePositionBias", {"window_size": list(window), "num_heads": 2}, [])
        module = SwinBias(tv_swin, window, 2).double()
        assert window_offsets(*window) == module.relative_position_index.tolist()
        assert window_offsets(*window) == maxvit._get_relative_position_index(*window).view(-1).tolist()
        with torch.no_grad():
            module.relative_position_bias_table.copy_(to_torch(run.params["relative_position_bias_table"]))
        assert torch.equal(module(), to_torch(run.output))


# --- ShiftedWindowAttention, ShiftedWindowAttentionV2 ---------------------------------------------------------


@pytest.mark.parametrize("t,args,window,shift,shape", list(window_cases()))
def test_shifted_window_attention_matches_torchvision(tv_swin, t, args, window, shift, shape):
    row = ours(t, args, [shape])
    module = getattr(tv_swin, t)(shape[-1], window, shift, args["num_heads"], qkv_bias=args.get("qkv_bias", True),
                                 proj_bias=args.get("proj_bias", True))
    ref = measure(module, [torch.randn(*shape)])
    assert row.output_shape == ref["outputs"][0] == shape
    assert (row.params, row.buffers, row.macs) == (ref["params"], ref["buffers"], ref["macs"])


def test_swin_t_and_swin_v2_t_first_blocks_on_meta(tv_swin):
    # swin_t's first attention: (1, 56, 56, 96), window 7, 3 heads: 64 windows of 49 tokens;
    # qkv 3136*96*288 + Q·Kᵀ and A·V 2*64*49*49*96 + proj 3136*96*96 = 145,108,992 MACs
    # swin_v2_t's: (1, 64, 64, 96), window 8: 64 windows of 64 tokens, cpb_mlp on 15*15 = 225 offsets:
    # 4096*96*288 + 2*64*64*64*96 + 4096*96*96 + 225*2*512 + 225*512*3 = 201,902,592 MACs
    for t, shape, window, macs in (("ShiftedWindowAttention", [1, 56, 56, 96], 7, 145_108_992),
                                   ("ShiftedWindowAttentionV2", [1, 64, 64, 96], 8, 201_902_592)):
        row = ours(t, {"window_size": window, "shift_size": window // 2, "num_heads": 3}, [shape])
        with torch.device("meta"):
            module = getattr(tv_swin, t)(96, [window] * 2, [window // 2] * 2, 3)
            ref = measure(module, [torch.zeros(*shape)])
        assert (row.params, row.buffers, row.macs) == (ref["params"], ref["buffers"], ref["macs"]) == \
            (row.params, row.buffers, macs)


def test_shifted_window_attention_flops_formula():
    # (1, 5, 7, 4), window 3, shift 1, 2 heads: padded to 6 x 9, T = 2 * 3 = 6 windows of N = 9 tokens
    t_rows, c, n, heads = 6 * 9, 4, 9, 2
    products = 2 * 6 * n * n * c
    macs = t_rows * c * 3 * c + products + t_rows * c * c
    scores = 6 * heads * n * n
    v1 = ours("ShiftedWindowAttention", {"window_size": 3, "shift_size": 1, "num_heads": 2}, [[1, 5, 7, 4]])
    assert v1.macs == macs
    # bias adds of qkv and proj, q times the scale, per score: bias add, mask add, softmax
    assert v1.flops == 2 * macs + t_rows * 3 * c + t_rows * c + t_rows * c + scores * (1 + 1 + SOFTMAX)
    unshifted = ours("ShiftedWindowAttention", {"window_size": 3, "shift_size": 0, "num_heads": 2}, [[1, 5, 7, 4]])
    assert unshifted.flops == v1.flops - scores
    v2 = ours("ShiftedWindowAttentionV2", {"window_size": 3, "shift_size": 1, "num_heads": 2}, [[1, 5, 7, 4]])
    m = 5 * 5  # offsets of a 3 x 3 window
    cpb = m * 2 * 512 + m * 512 * heads
    assert v2.macs == macs + cpb
    # cpb_mlp: bias adds m*512 and ReLU m*512; 16 * sigmoid on heads*N*N: 4 + 1; normalize q and k: 3 per
    # element; per score: logit scale, bias add, mask add, softmax
    assert v2.flops == (2 * (macs + cpb) + t_rows * 3 * c + t_rows * c + 2 * m * 512 + 5 * heads * n * n
                        + 2 * t_rows * c * 3 + scores * (1 + 1 + 1 + SOFTMAX))


@pytest.mark.parametrize("t,shape,window,shift,heads", [
    ("ShiftedWindowAttention", [2, 7, 7, 6], 3, 1, 2), ("ShiftedWindowAttention", [1, 5, 8, 6], [4, 3], [2, 1], 3),
    ("ShiftedWindowAttention", [1, 6, 6, 4], 3, [0, 1], 2), ("ShiftedWindowAttention", [1, 3, 3, 4], 3, 1, 2),
    ("ShiftedWindowAttentionV2", [2, 7, 7, 6], 3, 1, 2), ("ShiftedWindowAttentionV2", [1, 5, 8, 6], [4, 3], [2, 1], 3),
])
def test_shifted_window_attention_values_are_torchvisions(tv_swin, t, shape, window, shift, heads):
    """The reference kernel, written per token, computes torchvision's outputs on the same weights, and its
    buffers are torchvision's."""
    from tests.reference_helpers import close, load_params, reference_run, to_torch

    pair = lambda v: v if isinstance(v, list) else [v, v]  # noqa: E731
    xs, run = reference_run(t, {"window_size": window, "shift_size": shift, "num_heads": heads}, [shape])
    module = getattr(tv_swin, t)(shape[-1], pair(window), pair(shift), heads).double()
    for name, buf in module.named_buffers():
        assert torch.allclose(buf.double(), to_torch(run.buffers[name]), equal_nan=True), name
    load_params(module, run)
    module.eval()
    assert close(module(to_torch(xs[0])), to_torch(run.output))


@pytest.mark.parametrize("t", ["ShiftedWindowAttention", "ShiftedWindowAttentionV2"])
@pytest.mark.parametrize("mode", ["train", "frozen", "first"])
def test_shifted_window_attention_training_macs_equal_flop_counter(tv_swin, t, mode):
    """`layercalc cost`: forward and backward MACs equal FlopCounterMode over torchvision's forward and backward,
    with the input requiring grad (after a Linear) or not (first), the layer trainable or frozen."""
    from torch.utils.flop_counter import FlopCounterMode

    shape, window, shift = [2, 5, 7, 4], [3, 2], [1, 1]
    module = getattr(tv_swin, t)(4, window, shift, 2)
    if mode == "frozen":
        module.requires_grad_(False)
    model = module if mode == "first" else torch.nn.Sequential(torch.nn.Linear(4, 4), module)
    with FlopCounterMode(display=False) as counter:
        model(torch.randn(*shape)).sum().backward()
    entry = {t: {"window_size": window, "shift_size": shift, "num_heads": 2}}
    if mode == "frozen":
        entry["trainable"] = False
    layers = [] if mode == "first" else [{"Linear": {"out_features": 4}, "name": "p"}]
    spec = {"layercalc": 1, "name": "w", "inputs": {"x": shape}, "layers": layers + [entry]}
    assert layercalc.cost(spec).totals["training_macs"] == counter.get_total_flops() // 2


@pytest.mark.parametrize("mode", ["train", "frozen", "first", "memory-only", "tgt-only"])
@pytest.mark.parametrize("args", [{"batch_first": True}, {"norm_first": True, "activation": "gelu", "tgt_is_causal": True},
                                  {"batch_first": True, "norm_first": True, "bias": False}])
def test_decoder_layer_training_macs_equal_flop_counter(mode, args):
    """`layercalc cost` of a TransformerDecoderLayer: forward and backward MACs equal FlopCounterMode over
    torch's forward and backward, with tgt and memory each requiring grad (after a Linear) or not, the
    layer trainable or frozen (math attention kernel)."""
    from torch.utils.flop_counter import FlopCounterMode

    d, heads, ff, t, s, n = 6, 2, 10, 5, 3, 2
    first = args.get("batch_first", False)
    tshape, mshape = ([n, t, d], [n, s, d]) if first else ([t, n, d], [s, n, d])
    layer = torch.nn.TransformerDecoderLayer(d, heads, ff, dropout=0.0, **{k: v for k, v in args.items()
                                                                             if k != "tgt_is_causal"})
    if mode == "frozen":
        layer.requires_grad_(False)
    tgt_lin = mode in ("train", "frozen", "tgt-only")
    mem_lin = mode in ("train", "frozen", "memory-only")
    pre_t, pre_m = torch.nn.Linear(d, d), torch.nn.Linear(d, d)
    x, m = torch.randn(*tshape), torch.randn(*mshape)
    with FlopCounterMode(display=False) as counter, sdpa_kernel(SDPBackend.MATH):
        out = layer(pre_t(x) if tgt_lin else x, pre_m(m) if mem_lin else m,
                    tgt_is_causal=args.get("tgt_is_causal", False),
                    tgt_mask=torch.nn.Transformer.generate_square_subsequent_mask(t)
                    if args.get("tgt_is_causal") else None)
        if out.requires_grad:
            out.sum().backward()
    layers = ([{"Linear": {"out_features": d}, "name": "pt", "from": "tgt"}] if tgt_lin else []) \
        + ([{"Linear": {"out_features": d}, "name": "pm", "from": "memory"}] if mem_lin else [])
    entry = {"TransformerDecoderLayer": {"nhead": heads, "dim_feedforward": ff, "dropout": 0.0, **args},
             "from": ["pt" if tgt_lin else "tgt", "pm" if mem_lin else "memory"]}
    if mode == "frozen":
        entry["trainable"] = False
    spec = {"layercalc": 1, "name": "dec", "inputs": {"tgt": tshape, "memory": mshape}, "layers": layers + [entry]}
    assert layercalc.cost(spec).totals["training_macs"] == counter.get_total_flops() // 2


@pytest.mark.parametrize("mode", ["train", "frozen", "first", "memory-only", "query-only"])
def test_cross_attention_training_macs_equal_flop_counter(mode):
    """`layercalc cost` of MultiheadAttention on a memory (key = value, not the query): each input projection
    has an input gradient only when its own input requires grad. Example, memory-only: the weights' gradients
    (2*5*6*6 + 2*3*12*6 + 2*5*6*6 = 1,152 MACs) and the memory's (2*3*12*6 = 432), not the query's."""
    from torch.utils.flop_counter import FlopCounterMode

    d, heads, t, s, n = 6, 2, 5, 3, 2
    mha = torch.nn.MultiheadAttention(d, heads, batch_first=True)
    if mode == "frozen":
        mha.requires_grad_(False)
    q_lin, m_lin = mode in ("train", "frozen", "query-only"), mode in ("train", "frozen", "memory-only")
    pre_q, pre_m = torch.nn.Linear(d, d), torch.nn.Linear(d, d)
    q, m = torch.randn(n, t, d), torch.randn(n, s, d)
    with FlopCounterMode(display=False) as counter, sdpa_kernel(SDPBackend.MATH):
        mem = pre_m(m) if m_lin else m
        out, _ = mha(pre_q(q) if q_lin else q, mem, mem, need_weights=False)
        if out.requires_grad:
            out.sum().backward()
    layers = ([{"Linear": {"out_features": d}, "name": "pq", "from": "q"}] if q_lin else []) \
        + ([{"Linear": {"out_features": d}, "name": "pm", "from": "m"}] if m_lin else [])
    kv = "pm" if m_lin else "m"
    entry = {"MultiheadAttention": {"num_heads": heads, "batch_first": True, "need_weights": False},
             "from": ["pq" if q_lin else "q", kv, kv]}
    if mode == "frozen":
        entry["trainable"] = False
    spec = {"layercalc": 1, "name": "x", "inputs": {"q": [n, t, d], "m": [n, s, d]}, "layers": layers + [entry]}
    assert layercalc.cost(spec).totals["training_macs"] == counter.get_total_flops() // 2


# --- errors -------------------------------------------------------------------------------------------------


def _error(spec: str):
    with pytest.raises(layercalc.SpecError) as err:
        layercalc.analyze(spec, file="m.yaml")
    return err.value


def test_embed_dim_not_divisible_by_num_heads():
    e = _error("""layercalc: 1
inputs: {x: [5, 2, 10]}
layers:
  - MultiheadAttention: {num_heads: 3}
""")
    assert e.code == "G004" and str(e).startswith("m.yaml:4:37:")
    assert "embed_dim=10 is not divisible by num_heads=3" in e.message and "1, 2, 5, 10" in e.fix


def test_nhead_not_dividing_d_model():
    e = _error("""layercalc: 1
inputs: {x: [5, 2, 10]}
layers:
  - TransformerEncoderLayer: {nhead: 4}
""")
    assert e.code == "G004" and "d_model=10 is not divisible by nhead=4" in e.message


def test_mismatched_kdim():
    e = _error("""layercalc: 1
inputs: {q: [5, 2, 16], kv: [7, 2, 12]}
layers:
  - MultiheadAttention: {num_heads: 4, kdim: 16}
    from: [q, kv, kv]
""")
    assert e.code == "G003" and str(e).startswith("m.yaml:4:46:")
    assert "kdim=16" in e.message and "key's last dimension is 12" in e.message


def test_mismatched_batch():
    e = _error("""layercalc: 1
inputs: {q: [5, 2, 16], kv: [7, 3, 16]}
layers:
  - MultiheadAttention: {num_heads: 4}
    from: [q, kv, kv]
""")
    assert e.code == "G003" and "batch sizes 2, 3, 3" in e.message


def test_gqa_kv_heads_must_divide_heads():
    e = _error("""layercalc: 1
inputs: {x: [1, 5, 24]}
layers:
  - GroupedQueryAttention: {num_heads: 6, num_kv_heads: 4}
""")
    assert e.code == "G004" and "num_heads=6 is not divisible by num_kv_heads=4" in e.message


def test_rotary_needs_an_even_head_dim():
    e = _error("""layercalc: 1
inputs: {x: [1, 5, 24]}
layers:
  - GroupedQueryAttention: {num_heads: 8, rotary: true}
""")
    assert e.code == "S006" and str(e).startswith("m.yaml:4:51:") and "head_dim=3 is odd" in e.message


def test_causal_mask_adds_one_flop_per_score():
    # MHA(E=8, 2 heads) on (L=5, N=2, 8): N * heads * L * S = 100 scores; the products are not halved
    plain = ours("MultiheadAttention", {"num_heads": 2}, [[5, 2, 8]])
    causal = ours("MultiheadAttention", {"num_heads": 2, "is_causal": True}, [[5, 2, 8]])
    assert causal.macs == plain.macs and causal.flops == plain.flops + 2 * 2 * 5 * 5
    enc = ours("TransformerEncoderLayer", {"nhead": 2, "dim_feedforward": 16, "is_causal": True}, [[5, 2, 8]])
    enc0 = ours("TransformerEncoderLayer", {"nhead": 2, "dim_feedforward": 16}, [[5, 2, 8]])
    assert enc.macs == enc0.macs and enc.flops == enc0.flops + 2 * 2 * 5 * 5
