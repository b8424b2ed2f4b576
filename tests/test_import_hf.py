"""`layercalc import --hf`: HuggingFace models built from a config.json, read into specs whose report is torch's.

The configs are in tests/models/hf (written here, nothing comes from a hub). Each is imported by the
command line, the spec analyzed by layercalc, and the same architecture built by transformers on the
CPU and measured by torch with the same inputs (tests/torch_bridge: params, trainable params,
buffers, output shapes, MACs as FlopCounterMode's total / 2 with the math attention backend). The
expected numbers are torch's, never layercalc's.
"""

from __future__ import annotations

import functools
import subprocess
import sys
import types
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
if "torchvision" not in sys.modules:  # transformers imports torchvision; its compiled operators are not needed
    sys.modules.setdefault("torchvision._meta_registrations", types.ModuleType("torchvision._meta_registrations"))
transformers = pytest.importorskip("transformers")

import layercalc  # noqa: E402
from tests.torch_bridge import counting  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
CONFIGS = ROOT / "tests" / "models" / "hf"


def run(*args):
    """The command line, in this process (transformers is imported once)."""
    from typer.testing import CliRunner

    from layercalc.cli import app

    result = CliRunner().invoke(app, list(args), catch_exceptions=False)
    return types.SimpleNamespace(returncode=result.exit_code, stdout=result.stdout, stderr=result.stderr)


def torch_figures(config_file: Path, inputs: dict) -> dict:
    """The architecture of the config built by transformers on the CPU, measured by torch on ``inputs``."""
    from torch.utils.flop_counter import FlopCounterMode

    config = transformers.AutoConfig.from_pretrained(str(config_file))
    config.use_cache = False
    torch.manual_seed(0)
    model = getattr(transformers, config.architectures[0])._from_config(config).eval()
    with counting(), FlopCounterMode(display=False) as counter:
        out = model(**inputs)
    shapes = [list(t.shape) for t in out.values() if isinstance(t, torch.Tensor)]
    return {"params": sum(p.numel() for p in model.parameters()),
            "trainable_params": sum(p.numel() for p in model.parameters() if p.requires_grad),
            "buffers": sum(b.numel() for b in model.buffers()),
            "outputs": shapes, "macs": counter.get_total_flops() // 2}


def ours(text: str) -> dict:
    t = layercalc.analyze(text).totals
    report = layercalc.analyze(text)
    return {"params": t["params"], "trainable_params": t["trainable_params"], "buffers": t["buffers"],
            "outputs": list(report.outputs.values()), "macs": t["macs"]}


def ids(b, t):
    return torch.zeros(b, t, dtype=torch.int64)


def positions(b, t):
    return torch.arange(t).expand(b, t).clone()


# name -> (config file, --input options, the inputs torch is called with)
MODELS = {
    "gpt2": ("gpt2.json", ["--input", "input_ids=2,32"], {"input_ids": ids(2, 32), "position_ids": positions(2, 32)}),
    "bert-base": ("bert-base.json", [], {"input_ids": ids(1, 128), "token_type_ids": ids(1, 128),
                                         "position_ids": positions(1, 128)}),
    "tiny-llama-gqa": ("tiny-llama-gqa.json", ["--input", "input_ids=2,16"],
                       {"input_ids": ids(2, 16), "position_ids": positions(2, 16)}),
}


@functools.lru_cache(maxsize=None)
def spec_of(name: str) -> str:
    config, options, _ = MODELS[name]
    proc = run("import", "--hf", str(CONFIGS / config), *options)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


@pytest.fixture(scope="module", params=sorted(MODELS))
def imported(request):
    config, _, inputs = MODELS[request.param]
    return request.param, spec_of(request.param), torch_figures(CONFIGS / config, inputs)


def test_import_gives_torchs_numbers(imported):
    name, text, expected = imported
    assert ours(text) == expected


def test_bert_buffers():
    """BERT keeps position_ids and token_type_ids buffers (2 * 512) that forward does not read once they are
    inputs: written as Buffer layers, counted as model.buffers() counts them."""
    text = spec_of("bert-base")
    assert ours(text)["buffers"] == 2 * 512
    assert text.count("  - Buffer: {shape: [1, 512], dtype: int64}") == 2


def test_specs_read_like_a_person_wrote_them(imported):
    name, text, _ = imported
    if name == "gpt2":
        # GPT-2 small: 12 equal blocks, Conv1D read as Linear, gelu_new as GELU tanh, the head tied to wte
        assert "  - GPT2Block:\n    name: h\n    repeat: 12\n" in text
        assert "      - Linear: {out_features: 2304}\n        name: c_attn\n" in text
        assert "GELU: {approximate: tanh}" in text
        assert "ScaledDotProductAttention: {is_causal: true}" in text
        assert "    tie: wte\n" in text
    elif name == "tiny-llama-gqa":
        # the rotary tables computed once and handed to every layer; 4 query heads sharing 2 key/value heads
        assert ("  - LlamaDecoderLayer:\n    name: layers\n    from: [embed_tokens, rotary_emb, rotary_emb.sin]\n"
                "    repeat: 3\n") in text
        assert "  - RotaryTables: {dim: 16}\n    name: rotary_emb\n    from: position_ids\n" in text
        assert "RMSNorm: {normalized_shape: 64, eps: 1e-06}" in text
        assert "Expand: {shape: [2, 2, 2, 16, 16]}" in text  # repeat_kv
    elif name == "bert-base":
        assert "  - BertLayer:\n    name: layer\n    repeat: 12\n" in text
        assert "ScaledDotProductAttention:\n" in text  # BERT's full mask: no mask at all
        assert "outputs: [layer, pooler]" in text
    assert text.count("\n") < 200


def test_llama2_7b():
    """The Llama-2-7B config on the meta device: the published parameter count, one decoder block repeated 32 times."""
    proc = run("import", "--hf", str(CONFIGS / "llama2-7b.json"))
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout
    report = layercalc.analyze(text)
    config = transformers.AutoConfig.from_pretrained(str(CONFIGS / "llama2-7b.json"))
    with torch.device("meta"):
        model = transformers.LlamaForCausalLM._from_config(config)
    # embed_tokens 32000*4096 = 131,072,000; 32 layers * (q, k, v, o 4*4096*4096 + gate, up, down
    # 3*4096*11008 + two RMSNorms 2*4096) = 32 * 202,383,360 = 6,476,267,520; norm 4096; lm_head 131,072,000
    assert report.totals["params"] == sum(p.numel() for p in model.parameters()) == 6_738_415_616
    # inv_freq and original_inv_freq of the rotary tables: 2 * 128/2
    assert report.totals["buffers"] == sum(b.numel() for b in model.buffers()) == 128
    # T = 128: per layer projections 4*4096*4096*128 = 8,589,934,592, MLP 3*4096*11008*128 = 17,314,086,912,
    # attention 2*128*128*4096 = 134,217,728: 26,038,239,232 * 32 = 833,223,655,424; head 4096*32000*128 =
    # 16,777,216,000; total 850,000,871,424
    assert report.totals["macs"] == 850_000_871_424
    assert ("  - LlamaDecoderLayer:\n    name: layers\n    from: [embed_tokens, rotary_emb, rotary_emb.sin]\n"
            "    repeat: 32\n") in text
    assert text.count("\n  LlamaDecoderLayer:\n") == 1 and report.outputs == {"lm_head": [1, 128, 32000]}
    # the checked-in example is what import writes (below its header line, which names the config's path)
    example = (ROOT / "specs" / "imported" / "llama2-7b-hf.yaml").read_text(encoding="utf-8")
    assert text.split("\n", 1)[1] == example.split("\n", 1)[1]


# --- errors: one line, exit 1 or 2, no traceback ------------------------------------------------------------


def _error(proc, status, *words):
    assert proc.returncode == status, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    for w in words:
        assert w in lines[0], lines[0]


def test_bad_config_path(tmp_path):
    _error(run("import", "--hf", str(tmp_path / "missing.json")), 2, "no such file")
    _error(run("import", "--hf", str(tmp_path)), 2, "a directory without config.json")
    (tmp_path / "config.json").write_text("{", encoding="utf-8")
    _error(run("import", "--hf", str(tmp_path)), 2, "not a JSON config")
    (tmp_path / "config.json").write_text('{"hidden_size": 8}', encoding="utf-8")
    _error(run("import", "--hf", str(tmp_path)), 2, 'no "model_type"')


def test_unknown_model_type(tmp_path):
    (tmp_path / "config.json").write_text('{"model_type": "lama"}', encoding="utf-8")
    _error(run("import", "--hf", str(tmp_path)), 2, "unknown model_type 'lama'", "llama")


def test_bad_input_name():
    _error(run("import", "--hf", str(CONFIGS / "gpt2.json"), "--input", "pixels=1,3"), 2,
           "has no argument 'pixels'", "input_ids")


def test_missing_transformers():
    code = ("import sys; sys.modules['transformers'] = None; from layercalc.cli import main; "
            f"sys.argv = ['layercalc', 'import', '--hf', {str(CONFIGS / 'gpt2.json')!r}]; main()")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=300)
    _error(proc, 2, "needs transformers", 'pip install "layercalc[hf]"')


def test_untraceable_model():
    """A forward that branches on a tensor's values cannot be exported: one message, ImportFailed."""
    from layercalc.bridge.errors import ImportFailed
    from layercalc.bridge.program import read_program

    class Branchy(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = torch.nn.Linear(4, 4)

        def forward(self, x):
            return self.fc(x) if x.sum() > 0 else -x

    with pytest.raises(ImportFailed) as err:
        read_program(Branchy(), {"x": torch.zeros(2, 4)})
    assert str(err.value).startswith("torch.export cannot trace Branchy") and "\n" not in str(err.value)


def test_untraceable_model_on_the_command_line(tmp_path):
    """A config whose model needs inputs it is not given (an encoder-decoder without decoder inputs)."""
    (tmp_path / "config.json").write_text('{"model_type": "t5", "architectures": ["T5Model"], "d_model": 16, '
                                          '"d_ff": 32, "num_layers": 1, "num_heads": 2, "d_kv": 8, '
                                          '"vocab_size": 50}', encoding="utf-8")
    proc = run("import", "--hf", str(tmp_path))
    _error(proc, 1, "T5Model")
