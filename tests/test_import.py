"""`layercalc import` and `layercalc.from_torch`: PyTorch models read into specs whose report is torch's.

Every model is imported, the spec analyzed by layercalc, and the same module measured by torch
(tests/torch_bridge.measure: params, trainable params, buffers, output shapes, and MACs as
FlopCounterMode's total / 2 with mkldnn off, the math attention backend, no MultiheadAttention fast
path). The expected numbers are torch's, never layercalc's.
"""

from __future__ import annotations

import subprocess
import sys
import sys as _sys
import types
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

import layercalc  # noqa: E402
from layercalc.bridge.api import from_torch  # noqa: E402
from layercalc.bridge.errors import ImportFailed  # noqa: E402
from layercalc.bridge.export import export  # noqa: E402
from tests.models import handwritten as hw  # noqa: E402
from tests.torch_bridge import load_module, measure, ours  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def _zeros(inputs):
    items = inputs.values() if isinstance(inputs, dict) else inputs
    out = []
    for item in items:
        if isinstance(item[1], str):
            out.append(torch.zeros(*item[0], dtype=getattr(torch, item[1])))
        else:
            out.append(torch.zeros(*item))
    return out


MODELS = {
    "lstm-tagger": (hw.LSTMTagger, [((2, 12), "int64")]),
    "gpt": (hw.TinyGPT, {"input_ids": ((2, 16), "int64"), "position_ids": ((1, 16), "int64")}),
    "llama": (hw.TinyLlama, [((2, 16), "int64")]),
    "encoder-stack": (hw.EncoderStack, [(2, 10, 64)]),
    "siamese": (hw.Siamese, {"a": (2, 1, 28, 28), "b": (2, 1, 28, 28)}),
    "two-inputs": (hw.TwoInputs, {"image": (2, 3, 32, 32), "features": (2, 12)}),
    "scalars": (hw.Scalars, [(2, 10, 32)]),
}


@pytest.fixture(scope="module", params=sorted(MODELS))
def imported(request):
    make, inputs = MODELS[request.param]
    torch.manual_seed(0)
    model = make()
    text = from_torch(model, inputs)
    return request.param, model, inputs, text


def test_import_gives_torchs_numbers(imported):
    _, model, inputs, text = imported
    assert ours(layercalc.analyze(text)) == measure(model, _zeros(inputs))


def test_export_of_the_import_gives_torchs_numbers(imported):
    """export(import(model)) builds a module with the same numbers as the model."""
    _, model, inputs, text = imported
    module = load_module(export(text))
    with torch.device("meta"):
        again = module.Model()
        example = module.example_inputs()
    assert measure(again, example) == measure(model, _zeros(inputs))


def test_specs_read_like_a_person_wrote_them(imported):
    name, _, _, text = imported
    spec = layercalc.analyze(text)
    if name == "gpt":
        # GPT-2: one block repeated, the head tied to the token embedding, names from the module paths
        assert "  - GPTBlock:\n    name: h\n    repeat: 3\n" in text
        assert "    tie: wte\n" in text
        names = [r.name for r in spec.layers]
        assert names[3:5] == ["h.0.ln_1", "h.0.attn"] and names[-3] == "h.2.add_2"
    elif name == "llama":
        assert "    name: layers\n    repeat: 4\n" in text
        assert "ScaledDotProductAttention: {is_causal: true, enable_gqa: true}" in text
        assert "RMSNorm: {normalized_shape: 64, eps: 1e-05}" in text
    elif name == "encoder-stack":
        assert "repeat: 3" in text and "TransformerEncoderLayer: {nhead: 4, dim_feedforward: 128" in text
    elif name == "siamese":
        assert "share: tower_0" in text and "share: tower_7" in text
    elif name == "lstm-tagger":
        assert "LSTM: {hidden_size: 128, num_layers: 2, batch_first: true, bidirectional: true, proj_size: 48}" in text
    elif name == "scalars":
        # x * 0.125 and 1 - x: one layer each, with the number as the spec's scalar
        assert "Mul: {scalar: 0.3535533905932738}" in text and "Sub: {scalar: 1, scalar_first: true}" in text
        assert "Div: {scalar: 2, scalar_first: true}" in text
    elif name == "two-inputs":
        assert "  image: [2, 3, 32, 32]\n  features: [2, 12]\n" in text


# --- torchvision --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def torchvision():
    if "torchvision" not in _sys.modules:
        _sys.modules.setdefault("torchvision._meta_registrations", types.ModuleType("torchvision._meta_registrations"))
    return pytest.importorskip("torchvision")


# (name, crop size of its default weights, published num_params, published GMACs as torchvision rounds them)
TORCHVISION = [
    ("resnet50", 224, 25557032, 4.09),
    ("mobilenet_v2", 224, 3504872, 0.3),
    ("efficientnet_b0", 224, 5288548, 0.39),
    # built with its default aux_logits=True: the auxiliary head that eval's forward never calls is
    # counted as torch counts it (8 Parameter and 6 Buffer layers: its BatchNorm statistics)
    ("inception_v3", 299, 27161264, 5.71),
    ("swin_t", 224, 28288354, 4.49),  # torchvision's _ops: 4.491
    ("swin_v2_t", 256, 28351570, 5.94),  # 5.94
    ("maxvit_t", 224, 30919624, 5.56),  # 5.558: its relative position bias read as RelativePositionBias
]


@pytest.mark.parametrize("name,size,params,gmacs", TORCHVISION, ids=[t[0] for t in TORCHVISION])
def test_torchvision_model(torchvision, name, size, params, gmacs):
    with torch.device("meta"):
        model = torchvision.models.get_model(name)
    text = from_torch(model, [(1, 3, size, size)], name=name)
    report = layercalc.analyze(text)
    assert ours(report) == measure(model, [torch.zeros(1, 3, size, size, device="meta")])
    assert report.totals["params"] == params
    assert round(report.totals["macs"] / 1e9, 2) == gmacs


def test_resnet50_reads_as_blocks(torchvision):
    with torch.device("meta"):
        model = torchvision.models.resnet50()
    text = from_torch(model, [(1, 3, 224, 224)], name="resnet50")
    assert text.count("\n") <= 150
    assert "repeat: 5" in text  # layer3: a downsampling bottleneck, then 5 equal ones


def test_frozen_stages(torchvision):
    """A ResNet with its stem and first two stages frozen: trainable params as torch counts them."""
    model = torchvision.models.resnet18()
    for part in (model.conv1, model.bn1, model.layer1, model.layer2):
        part.requires_grad_(False)
    text = from_torch(model, [(1, 3, 64, 64)])
    want = measure(model, [torch.zeros(1, 3, 64, 64)])
    assert ours(layercalc.analyze(text)) == want
    # conv1 7*7*3*64 = 9408, bn1 128, layer1 147,968 and layer2 525,568 are frozen
    assert want["params"] - want["trainable_params"] == 9408 + 128 + 147968 + 525568
    assert "trainable: false" in text


# --- round trip from the spec side ---------------------------------------------------------------------------

SPECS = sorted((ROOT / "specs").glob("*.yaml"))
DIMS = {"gpt3-175b": {"T": 16}, "llama2-7b": {"T": 16}, "bert-base": {"T": 16}, "gpt2-small": {"T": 16}}
VARS = {"gpt3-175b": {"layers": 2}}


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.stem)
def test_import_of_the_export_gives_the_specs_report(path):
    """import(export(spec)) has the spec's totals and outputs."""
    dims, vars = DIMS.get(path.stem), VARS.get(path.stem)
    module = load_module(export(str(path), dims=dims, vars=vars))
    with torch.device("meta"):
        model = module.Model()
        inputs = module.example_inputs()
    text = from_torch(model, list(inputs), name=path.stem)
    want = layercalc.analyze(path, dims=dims, vars=vars)
    got = layercalc.analyze(text)
    assert {k: got.totals[k] for k in ("params", "trainable_params", "buffers", "macs")} == \
        {k: want.totals[k] for k in ("params", "trainable_params", "buffers", "macs")}
    assert list(got.outputs.values()) == list(want.outputs.values())


WINDOWED = """
layercalc: 1
name: windowed
inputs:
  scores: [2, 3, 12, 12]
  image: [2, 5, 7, 6]
layers:
  - RelativePositionBias: {window_size: [3, 4], num_heads: 3}
    name: bias
  - Add:
    from: [scores, bias]
  - ShiftedWindowAttention: {window_size: 3, shift_size: 1, num_heads: 2}
    from: image
  - ShiftedWindowAttentionV2: {window_size: [2, 3], shift_size: [1, 0], num_heads: 3, qkv_bias: false}
outputs: [add_1, shiftedwindowattentionv2_1]
"""


def test_import_of_the_export_of_windowed_attention():
    """The types torch.nn lacks come back as themselves: the exported classes are read by name and attributes."""
    module = load_module(export(WINDOWED))
    with torch.device("meta"):
        model = module.Model()
        inputs = module.example_inputs()
    text = from_torch(model, list(inputs), name="windowed")
    assert "RelativePositionBias: {window_size: [3, 4], num_heads: 3}" in text
    assert "ShiftedWindowAttention: {window_size: 3, shift_size: 1, num_heads: 2}" in text
    assert "ShiftedWindowAttentionV2: {window_size: [2, 3], shift_size: [1, 0], num_heads: 3, qkv_bias: false}" in text
    got, want = layercalc.analyze(text), layercalc.analyze(WINDOWED)
    assert got.totals == want.totals
    # bias: 5 * 7 * 3 = 105 params, 12 * 12 = 144 index elements; v1: qkv 6*18 + 18, proj 6*6 + 6, table 5*5*2
    # = 218, index 81; v2: qkv 6*18 (no bias), proj 42, logit scale 3, cpb_mlp 2*512 + 512 + 512*3 = 3,072:
    # 3,225; buffers: coords 3*5*2 + index 6*6 = 66
    assert (got.totals["params"], got.totals["buffers"]) == (105 + 218 + 3225, 144 + 81 + 66)
    assert list(got.outputs.values()) == list(want.outputs.values())


# --- errors ---------------------------------------------------------------------------------------------------


class Untraceable(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(4, 4)

    def forward(self, x):
        if x.sum() > 0:  # control flow on a tensor's value
            return self.fc(x)
        return x


class Sorts(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.block = torch.nn.Sequential(torch.nn.Linear(4, 4))

    def forward(self, x):
        return torch.sort(self.block(x), dim=-1).values


class Trace(torch.nn.Module):
    def forward(self, x):
        return torch.einsum("bii->bi", x)  # a diagonal, not a matrix product


def test_einsum_that_is_not_a_matrix_product_is_refused():
    with pytest.raises(ImportFailed, match=r"torch.einsum\('bii->bi'\), which is not a matrix product.*Fix: write it"):
        from_torch(Trace(), [(2, 3, 3)])


def test_untraceable_model():
    with pytest.raises(ImportFailed, match=r"torch.fx cannot trace Untraceable: TraceError"):
        from_torch(Untraceable(), [(2, 4)])


def test_unsupported_op_names_path_op_line_and_fix():
    with pytest.raises(ImportFailed) as err:
        from_torch(Sorts(), [(2, 4)])
    message = str(err.value)
    assert message.startswith("(the model's forward): torch.sort has no layercalc equivalent")
    assert "test_import.py" in message and "Fix: " in message


def _cli(*args, env_code=""):
    code = (env_code + "import sys; from layercalc.cli import main; sys.argv = ['layercalc'] + sys.argv[1:]; main()")
    return subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, capture_output=True, text=True)


def test_cli_import_file_target(tmp_path):
    out = tmp_path / "tagger.yaml"
    run = _cli("import", "tests/models/handwritten.py:LSTMTagger", "--input", "tokens=2,12:int64",
               "--arg", "tags=5", "-o", str(out))
    assert run.returncode == 0, run.stderr
    text = out.read_text()
    assert text.startswith("# imported by `layercalc import tests/models/handwritten.py:LSTMTagger` --arg tags=5")
    assert "  tokens: {shape: [2, 12], dtype: int64}" in text
    assert layercalc.analyze(text).outputs == {"classifier": [2, 12, 5]}


def test_cli_import_dim_names_an_axis():
    run = _cli("import", "tests/models/handwritten.py:TwoInputs", "--input", "image=4,3,32,32",
               "--input", "features=4,12", "--dim", "B")
    assert run.returncode == 0, run.stderr
    assert "dims: {B: 4}\ninputs:\n  image: [B, 3, 32, 32]\n  features: [B, 12]\n" in run.stdout


@pytest.mark.parametrize("args,status,message", [
    (["import", "resnet50", "--input", "1,3,224,224"], 2, "is not `module:callable` or `file.py:callable`"),
    (["import", "no_such_module:f", "--input", "1,4"], 2, "no module named 'no_such_module'"),
    (["import", "tests/models/handwritten.py:Tagger", "--input", "1,4"], 2, "has no callable 'Tagger'"),
    (["import", "tests/models/missing.py:Net", "--input", "1,4"], 2, "does not exist"),
    (["import", "tests/models/handwritten.py:TinyLlama", "--input", "1,x"], 2, "expected NAME=D1,D2"),
    (["import", "tests/models/handwritten.py:TinyLlama"], 2, "give the example inputs"),
    (["import", "tests/test_import.py:Sorts", "--input", "2,4"], 1, "torch.sort has no layercalc equivalent"),
    (["import", "tests/test_import.py:Untraceable", "--input", "2,4"], 1, "torch.fx cannot trace"),
])
def test_cli_errors(args, status, message):
    run = _cli(*args)
    assert run.returncode == status
    assert message in run.stderr
    assert "Traceback" not in run.stderr and len(run.stderr.strip().splitlines()) <= 4


def test_cli_without_torch():
    run = _cli("import", "tests/models/handwritten.py:TinyLlama", "--input", "1,8:int64",
               env_code="import sys; sys.modules['torch'] = None; ")
    assert run.returncode == 2
    assert 'pip install "layercalc[torch]"' in run.stderr and "Traceback" not in run.stderr


def test_summary_does_not_import_torch():
    code = ("import sys; from layercalc.cli import main; sys.argv = ['layercalc', 'summary', 'specs/resnet50.yaml'];\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "print('TORCH' if 'torch' in sys.modules else 'NO-TORCH', file=sys.stderr)")
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert run.stderr.strip().splitlines()[-1] == "NO-TORCH"


@pytest.mark.parametrize("name", ["resnet50", "mobilenet_v2", "swin_t"])
def test_checked_in_examples_are_what_import_writes(torchvision, name):
    from layercalc.bridge.api import read_model

    with torch.device("meta"):
        model = torchvision.models.get_model(name)
    text = read_model(model, [(1, 3, 224, 224)], name=name,
                      header=f"imported by `layercalc import torchvision.models:{name}`")
    assert text == (ROOT / "specs" / "imported" / f"{name}.yaml").read_text()


def test_convnext_layer_norm_over_channels(torchvision):
    """torchvision's LayerNorm2d subclasses nn.LayerNorm but permutes: traced through, not taken as a LayerNorm."""
    with torch.device("meta"):
        model = torchvision.models.convnext_tiny()
    text = from_torch(model, [(1, 3, 224, 224)], name="convnext_tiny")
    report = layercalc.analyze(text)
    assert ours(report) == measure(model, [torch.zeros(1, 3, 224, 224, device="meta")])
    assert report.totals["params"] == 28589128  # torchvision's published num_params


def test_from_torch_takes_tensors_and_names_dims():
    model = hw.TwoInputs()
    text = layercalc.from_torch(model, {"image": torch.zeros(3, 3, 32, 32), "features": torch.zeros(3, 12)},
                                name="two", dims={"B": 0})
    assert text.startswith("layercalc: 1\nname: two\ndims: {B: 3}\ninputs:\n  image: [B, 3, 32, 32]\n")
    # the same spec at another batch size: torch's numbers for that batch
    report = layercalc.analyze(text, dims={"B": 5})
    assert ours(report) == measure(model, [torch.zeros(5, 3, 32, 32), torch.zeros(5, 12)])


def test_hf_needs_a_config():
    run = _cli("import", "--hf", "config.json", "--input", "input_ids=1,8:int64")
    assert run.returncode == 2 and "--hf config.json: no such file" in run.stderr


@pytest.mark.parametrize("name", ["resnet18", "vit_tiny_patch16_224", "convnext_atto", "resnetv2_18"])
def test_timm_model(torchvision, name):
    """timm models built with pretrained=False (timm imports torchvision, prepared by the fixture);
    resnetv2_18's pre-activations are timm's BatchNormAct2d, read as a BatchNorm2d and its ReLU."""
    timm = pytest.importorskip("timm")
    with torch.device("meta"):
        model = timm.create_model(name, pretrained=False)
    text = from_torch(model, [(1, 3, 224, 224)], name=name)
    assert ours(layercalc.analyze(text)) == measure(model, [torch.zeros(1, 3, 224, 224, device="meta")])
