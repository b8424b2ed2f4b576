"""The inference peak of `layercalc memory` against torch eager (skipped without torch).

Every spec in specs/ (and specs/imported/) is written as a module by `layercalc export`, built on the
meta device (no memory: GPT-3's 175 billion parameters cost nothing) and called once in eval mode
under ``torch.no_grad()`` at batch 1 and 8, with the math attention kernel and no MultiheadAttention
fast path (the kernels layercalc counts). A ``TorchDispatchMode`` (``tests/torch_memory.LiveBytes``)
follows every storage that an aten op makes until it dies and records the peak of live bytes,
parameters and buffers excluded, the model's inputs included (the caller holds them for the whole
call, and so does layercalc: docs/memory.md, "Peaks").

layercalc's ``inference_activations`` (the inference peak without weights and buffers) must be within
10% of the measured peak; each ratio is printed (``pytest -s``). ``benchmarks/bench_memory_peak.py``
prints the whole table.
"""

from __future__ import annotations

from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

import layercalc  # noqa: E402
from tests.torch_memory import LiveBytes, export_peak, inference_peak  # noqa: E402
from tests.small_sizes import SMALL  # noqa: E402
from tests.torch_spec import torchvision_swin, window_cases  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SPECS = sorted((ROOT / "specs").glob("*.yaml")) + sorted((ROOT / "specs" / "imported").glob("*.yaml"))
TOLERANCE = 0.10


def _id(path: Path) -> str:
    return path.stem if path.parent.name == "specs" else f"{path.parent.name}-{path.stem}"


def _batches(path: Path):
    """1 and 8 on the spec's batch dim B; a spec without one (the imported vision models are written at
    batch 1) at its own size."""
    return [{"B": 1}, {"B": 8}] if "B" in layercalc.analyze(path).dims else [None]


@pytest.mark.parametrize("path", SPECS, ids=_id)
def test_inference_peak_is_within_10_percent_of_torch_eager(path):
    for dims in _batches(path):
        measured = export_peak(path, dims).peak
        ours = layercalc.memory(path, dims=dims).breakdown["inference_activations"]
        ratio = ours / measured
        print(f"\n{_id(path)} {dims}: layercalc {ours:,} B, torch {measured:,} B, ratio {ratio:.3f}")
        assert abs(ratio - 1) <= TOLERANCE, (ours, measured)


@pytest.mark.parametrize("dropouts", [["Dropout"], ["Dropout", "AlphaDropout"]])
def test_dropout_is_its_input_at_inference(dropouts, tmp_path):
    """In eval mode F.dropout hands back its input itself: nothing new lives. x (8, 64) = 2,048 bytes, the
    first Linear's output (8, 1000) = 32,000, the second's (8, 10) = 320; the peak is at the second
    Linear: 2,048 + 32,000 + 320 = 34,368 (a dropout counted as a new tensor would give 66,048)."""
    import yaml

    layers = [{"Linear": {"out_features": 1000}}] + [{t: {"p": 0.5}} for t in dropouts] + [
        {"Linear": {"out_features": 10}}]
    path = tmp_path / "mlp.yaml"
    path.write_text(yaml.safe_dump({"layercalc": 1, "name": "mlp", "dims": {"B": 8},
                                    "inputs": {"x": {"shape": ["B", 64]}}, "layers": layers}))
    ours = layercalc.memory(path).breakdown["inference_activations"]
    assert ours == export_peak(path).peak == 2_048 + 32_000 + 320


# --- the tracker itself -----------------------------------------------------------------------------------


def test_tracker_follows_storages_on_the_meta_device():
    """Views share a storage, a dead storage is freed at once, and the peak is taken when an op's inputs
    and output are both alive."""
    with torch.device("meta"):
        weight = torch.nn.Parameter(torch.zeros(1000))  # 4,000 bytes, excluded
        x = torch.zeros(1000)  # 4,000 bytes, held
        tracker = LiveBytes(exclude=[weight], held=[x])
        with tracker.mode():
            a = x * 2  # 4,000 + 4,000 = 8,000
            v = a.view(10, 100)  # a view: nothing new
            b = v + weight.view(10, 100)  # 12,000: x, a (through v), b
            del a, v  # a's storage dies: 8,000
            c = b.sum()  # 4 bytes: 8,004
            d = torch.cat([b.flatten(), b.flatten()])  # views of b, and 8,000 more: 16,004, the peak
            del b, d  # 4,004
    assert tracker.peak == 16_004
    assert tracker.bytes == 4_004  # x and c
    assert c.shape == ()


def test_tracker_counts_a_transient_of_a_composite_op():
    """softmax(q @ k^T) @ v through the math attention kernel: the scores and the probabilities are both
    alive inside the op (2 x 4 x 64 x 64 x 4 bytes), which the tracker sees because the kernel is a
    composition of aten ops."""
    from torch.nn.attention import SDPBackend, sdpa_kernel

    with torch.device("meta"):
        q = torch.zeros(1, 4, 64, 16)
        tracker = LiveBytes(held=[q])
        with torch.no_grad(), sdpa_kernel(SDPBackend.MATH), tracker.mode():
            torch.nn.functional.scaled_dot_product_attention(q, q, q)
    scores = 4 * 64 * 64 * 4
    assert tracker.peak >= 2 * scores + q.untyped_storage().nbytes()


# --- the training peak ------------------------------------------------------------------------------------

#: Small sizes of specs whose training step runs on the CPU in a moment: (dims, vars).
TRAIN_SMALL = {name: SMALL[name] for name in ("lenet5", "resnet-cifar", "gpt2-small", "gpt3-175b-layer", "llama2-7b")}
TRAIN_SMALL["gpt2-small@B=16"] = ({"B": 16, "T": 32}, {"vocab": 50, "context": 32, "d": 32, "layers": 2, "heads": 2})


def _exported_model(path, dims, vars):
    from layercalc.bridge.export import export
    from tests.torch_bridge import load_module
    from tests.torch_spec import build

    torch.manual_seed(0)
    module = load_module(export(str(path)))
    inputs = build(path, dims=dims, vars=vars)[3]  # random floats, zero indices
    return module.Model(**dims, **vars), inputs


@pytest.mark.parametrize("case", list(TRAIN_SMALL))
def test_training_peak_is_within_10_percent_of_torch(case):
    """forward + backward + AdamW step in train mode on the CPU (math attention, no fast path), the second
    step measured: the tracker's peak over the three phases against layercalc's `training_peak_bytes`
    with `--device cpu`. layercalc's convention (docs/memory.md): the model states (weights, buffers,
    gradients of the previous step, optimizer state) plus, at the end of the forward, every saved
    activation and the largest transient, or, at the step, the optimizer's temporaries. What the
    tracker sees beyond it: the model's inputs, and in the backward the first gradients beside the saved
    tensors not yet freed; hence a tolerance, not equality."""
    from torch.nn.attention import SDPBackend, sdpa_kernel

    from tests.torch_memory import training_peaks

    name = case.split("@")[0]
    dims, vars = TRAIN_SMALL[case]
    path = ROOT / "specs" / f"{name}.yaml"
    model, inputs = _exported_model(path, dims, vars)
    fast = torch.backends.mha.get_fastpath_enabled()
    torch.backends.mha.set_fastpath_enabled(False)
    try:
        with sdpa_kernel(SDPBackend.MATH):
            peaks = training_peaks(model, inputs, lambda p: torch.optim.AdamW(p, foreach=False))
    finally:
        torch.backends.mha.set_fastpath_enabled(fast)
    measured = max(peaks.values())
    ours = layercalc.memory(path, dims=dims, vars=vars, device="cpu", optimizer="adamw").totals["training_peak_bytes"]
    ratio = ours / measured
    print(f"\n{case}: layercalc {ours:,} B, torch {measured:,} B (forward {peaks['forward']:,}, backward "
          f"{peaks['backward']:,}, step {peaks['step']:,}), ratio {ratio:.3f}")
    assert abs(ratio - 1) <= TOLERANCE, (ours, peaks)


STEP_OPTIMIZERS = {
    "sgd": lambda p, fe: torch.optim.SGD(p, lr=0.1, foreach=fe),
    "sgd-momentum": lambda p, fe: torch.optim.SGD(p, lr=0.1, momentum=0.9, foreach=fe),
    "adam": lambda p, fe: torch.optim.Adam(p, foreach=fe),
    "adamw": lambda p, fe: torch.optim.AdamW(p, foreach=fe),
    "adam-amsgrad": lambda p, fe: torch.optim.Adam(p, amsgrad=True, foreach=fe),
    "adafactor": lambda p, fe: torch.optim.Adafactor(p, foreach=fe),
}


@pytest.mark.parametrize("optimizer", list(STEP_OPTIMIZERS))
@pytest.mark.parametrize("device", ["cpu", "cuda"])
def test_optimizer_step_temporaries_equal_torch(optimizer, device, tmp_path):
    """The bytes one step() makes and frees beside the weights, gradients and state: torch's single-tensor
    implementation (its default for CPU parameters) for `--device cpu`, the foreach one (its default for
    CUDA parameters, run here on the CPU with foreach=True) for `--device cuda`. For LeNet-5 (largest
    parameter C5's weight, 120 x 16 x 5 x 5 floats = 192,000 bytes; all 61,706 parameters 246,824 bytes),
    e.g. AdamW: 2 x 192,000 + 64 on the CPU, 246,824 with foreach (one sqrt(v) list)."""
    from tests.torch_memory import LiveBytes

    model, inputs = _exported_model(ROOT / "specs" / "lenet5.yaml", {"B": 2}, {})
    params = list(model.parameters())
    opt = STEP_OPTIMIZERS[optimizer](params, device == "cuda")
    model(*inputs)[0].sum().backward()
    opt.step()  # the state exists from here on
    model(*inputs)[0].sum().backward()
    state = [t for s in opt.state.values() for t in s.values() if isinstance(t, torch.Tensor)]
    tracker = LiveBytes(held=params + [p.grad for p in params] + state)
    before = tracker.bytes
    with tracker.mode():
        opt.step()
    measured = tracker.peak - before
    ours = layercalc.memory(ROOT / "specs" / "lenet5.yaml", optimizer=optimizer, device=device).breakdown[
        "optimizer_step"]
    # CPU: Adam's two temporaries of C5's weight beside C3's bias denominator (16 floats: the parameter
    # before it); Adafactor's variance estimate of C5's weight with its row and column means
    # (120 x 16 x 5 each) and its row factor's mean (120 x 16)
    expected = {"sgd": 0, "sgd-momentum": 0, "adam": 2 * 192_000 + 64, "adamw": 2 * 192_000 + 64,
                "adam-amsgrad": 2 * 192_000 + 64, "adafactor": 4 * (48_000 + 2 * 9_600 + 1_920)}[optimizer] \
        if device == "cpu" else (0 if optimizer.startswith("sgd") else 246_824)
    assert ours == expected
    if optimizer == "adafactor":
        # foreach Adafactor's lists of row and column statistics, and a few of the CPU loop's, not counted
        assert 0 <= measured - ours <= 0.03 * ours, measured
    else:
        assert measured == ours


# --- Swin's window attention, against torchvision's own modules -----------------------------------------------


def _window_peak(layer_type, args, window, shift, shape):
    tv = torchvision_swin()
    with torch.device("meta"):
        module = getattr(tv, layer_type)(shape[-1], window, shift, args["num_heads"],
                                         qkv_bias=args.get("qkv_bias", True), proj_bias=args.get("proj_bias", True))
        measured = inference_peak(module, lambda: [torch.empty(*shape)]).peak
    spec = {"layercalc": 1, "name": "w", "inputs": {"x": {"shape": list(shape)}}, "layers": [{layer_type: args}]}
    return layercalc.memory(spec).breakdown["inference_activations"], measured


def test_swin_t_first_attention_peak_equals_torchvision():
    """(1, 56, 56, 96), window 7, shift 3, 3 heads, float32 (bytes): the input x = 56 x 56 x 96 x 4 =
    1,204,224, and one padded map R x C the same; scores S = 64 x 3 x 49 x 49 x 4 = 1,843,968; the bias
    3 x 49 x 49 x 4 = 28,812; the mask 64 x 49 x 49 x 4 = 614,656. Kept to the end: the windows, the qkv
    output and q scaled, 5 R x C. The peak is at the second product: v copied beside its output (2 R x C),
    the scores, the mask, the bias: x + 7 R x C + S + mask + bias = 1,204,224 + 8,429,568 + 1,843,968
    + 614,656 + 28,812 = 12,121,228."""
    ours, measured = _window_peak("ShiftedWindowAttention", {"window_size": 7, "shift_size": 3, "num_heads": 3},
                                  [7, 7], [3, 3], [1, 56, 56, 96])
    assert ours == measured == 1_204_224 + 8_429_568 + 1_843_968 + 614_656 + 28_812


@pytest.mark.parametrize("layer_type,args,window,shift,shape", list(window_cases(n=40, seed=31)))
def test_window_attention_inference_peak_equals_torchvision(layer_type, args, window, shift, shape):
    """Exactly, op by op on the meta device: padding, shifts, one head, one window, 1 x 1 windows."""
    ours, measured = _window_peak(layer_type, args, window, shift, shape)
    assert ours == measured


# --- layouts: the copies a non-contiguous input makes (layercalc/budget/layout.py) --------------------------

_LIN12, _LIN5 = {"Linear": {"out_features": 12}}, {"Linear": {"out_features": 5}}
_T12 = {"Transpose": {"dim0": 1, "dim1": 2}}
_LIN1, _EXPAND = {"Linear": {"out_features": 1}}, {"Expand": {"shape": [4, 6, 12]}}

#: (id, layers after x (4, 6, 8) -> Linear(12) (or after their own first Linear), input shape, torch eager's
#: peak, what the tracker sees beyond it). x is 768 bytes, the first Linear's output (4, 6, 12) 1,152. When F.linear
#: takes matmul's route (a non-contiguous input of 3 dimensions) it adds the bias in place (``add_``), but out
#: of place under a dispatch mode (torch's composite compliance): the tracker sees one more output then,
#: unless the copy freed before it was larger.
LAYOUT_PEAKS = [
    # the fold's contiguous copy (1,152) beside mm's output (4 x 12 x 5 x 4 = 960)
    ("transpose-linear", [_T12, _LIN5], (4, 6, 8), 768 + 1_152 + 1_152 + 960, 0),
    # ReLU's output (1,152) keeps the transposed layout, and the Linear copies it: at the Linear
    # 768 + 1,152 (ReLU's) + 1,152 (copy) + 960; the first output is dead by then
    ("transpose-relu-linear", [_T12, {"ReLU": None}, _LIN5], (4, 6, 8), 768 + 1_152 + 1_152 + 960, 0),
    # native_layer_norm returns the output (1,152) and the mean and rstd of the 4 x 12 rows (2 x 192)
    ("transpose-layernorm", [_T12, {"LayerNorm": {"normalized_shape": 6}}], (4, 6, 8), 768 + 1_152 + 1_152 + 384, 0),
    # addmm reads the (4, 12) strided view itself: the output (4 x 5 x 4 = 80) only
    ("select-linear", [{"Select": {"dim": 1, "index": 0}}, _LIN5], (4, 6, 8), 768 + 1_152 + 80, 0),
    ("select-dim0-linear", [{"Select": {"dim": 0, "index": 1}}, _LIN5], (4, 6, 8), 768 + 1_152 + 120, 0),
    # (4, 6, 6) folds to a strided view: mm's output (480), and the tracker's out-of-place bias add (480)
    ("slice-dim2-linear", [{"Slice": {"dim": 2, "start": 0, "end": 6}}, _LIN5], (4, 6, 8), 768 + 1_152 + 480, 480),
    # (4, 4, 12) cannot fold without a copy (768), beside the output (320)
    ("slice-dim1-linear", [{"Slice": {"dim": 1, "start": 1, "end": 5}}, _LIN5], (4, 6, 8), 768 + 1_152 + 768 + 320, 0),
    # slicing the batch keeps a contiguous (2, 6, 12): addmm on a view, output 240
    ("slice-dim0-linear", [{"Slice": {"dim": 0, "start": 1, "end": 3}}, _LIN5], (4, 6, 8), 768 + 1_152 + 240, 0),
    # (6, 4, 12) transposed: a copy (1,152) beside the output (480)
    ("transpose01-linear", [{"Transpose": {"dim0": 0, "dim1": 1}}, _LIN5], (4, 6, 8), 768 + 1_152 + 1_152 + 480, 0),
    # Flatten of a transposed input is a contiguous copy (1,152), a new storage, made beside its input
    ("transpose-flatten-linear", [_T12, {"Flatten": {"start_dim": 1}}, _LIN5], (4, 6, 8), 768 + 1_152 + 1_152, 0),
    ("permute-reshape-linear", [{"Permute": {"dims": [0, 2, 1]}}, {"Reshape": {"shape": [4, -1]}}, _LIN5], (4, 6, 8),
     768 + 1_152 + 1_152, 0),
    # GELU keeps the transposed layout, Flatten copies it: at Flatten 768 + GELU's 1,152 + the copy 1,152
    ("transpose-gelu-flatten-linear", [_T12, {"GELU": None}, {"Flatten": {"start_dim": 1}}, _LIN5], (4, 6, 8),
     768 + 1_152 + 1_152, 0),
    # Unflatten of a contiguous input is a view: at the Linear 768 + 1,152 + its output 4 x 6 x 3 x 5 x 4
    ("unflatten-linear", [{"Unflatten": {"dim": 2, "unflattened_size": [3, 4]}}, _LIN5], (4, 6, 8),
     768 + 1_152 + 1_440, 0),
    # Linear(1)'s (4, 6, 1) (96) expanded: stride 0, not dense; Sigmoid writes a contiguous (4, 6, 12):
    # 768 + 96 + 1,152
    ("expand-sigmoid", [_LIN1, _EXPAND, {"Sigmoid": None}], (4, 6, 8), 768 + 96 + 1_152, 0),
    # ReLU's contiguous (4, 6, 12) and the Linear's output, the expanded (4, 6, 1) dead: 768 + 1,152 + 480
    ("expand-relu-linear", [_LIN1, _EXPAND, {"ReLU": None}, _LIN5], (4, 6, 8),
     768 + 1_152 + 480, 0),
    # batch 1: (1, 12, 6) folds to a (12, 6) view: no copy; mm's output 240 (and the tracker's add, 240)
    ("transpose-batch1-linear", [_T12, _LIN5], (1, 6, 8), 192 + 288 + 240, 240),
    # 2-D: addmm reads (12, 6) transposed as it is
    ("transpose-2d-linear", [{"Transpose": {"dim0": 0, "dim1": 1}}, _LIN5], (6, 8), 192 + 288 + 240, 0),
    # the convolution reads the transposed input itself (its own copy is made inside the kernel, unseen):
    # 768 + 1,152 + its output 4 x 5 x 4 x 4
    ("transpose-conv1d", [_T12, {"Conv1d": {"out_channels": 5, "kernel_size": 3}}], (4, 6, 8), 768 + 1_152 + 320, 0),
]


@pytest.mark.parametrize("layers,shape,eager,mode_extra", [c[1:] for c in LAYOUT_PEAKS],
                         ids=[c[0] for c in LAYOUT_PEAKS])
def test_inference_peak_follows_layouts_like_torch(layers, shape, eager, mode_extra, tmp_path):
    import yaml

    path = tmp_path / "layout.yaml"
    path.write_text(yaml.safe_dump({"layercalc": 1, "name": "layout", "inputs": {"x": {"shape": list(shape)}},
                                    "layers": ([] if "Linear" in layers[0] else [_LIN12]) + layers}))
    assert layercalc.memory(path).breakdown["inference_activations"] == eager
    assert export_peak(path).peak == eager + mode_extra


def test_linear_adds_its_bias_in_place_without_a_dispatch_mode():
    """The eager figure above: F.linear on a strided 3-D input ends in ``add_``, out of place only under a mode."""
    from torch.profiler import profile

    linear = torch.nn.Linear(6, 5)
    x = torch.zeros(4, 6, 12)[..., :6]
    with torch.no_grad(), profile() as prof:
        linear(x)
    names = [e.name for e in prof.events()]
    assert "aten::add_" in names and "aten::add" not in names
