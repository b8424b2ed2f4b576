"""RotaryTables against torch: HuggingFace's rotary modules (transformers) and the class `layercalc export`
writes, measured by torch (output shapes, buffers, MACs) and compared value by value with the reference
kernel (skipped without torch; the HuggingFace cases without transformers)."""

from __future__ import annotations

import sys
import types

import pytest

torch = pytest.importorskip("torch")

from layercalc.bridge.export import HELPERS  # noqa: E402
from tests.oracle import ours, torch_measure  # noqa: E402
from tests.reference_helpers import reference_run, to_torch  # noqa: E402


def hf_rotary(cls_name: str, **config):
    """transformers' rotary module of a model type, built from a config."""
    if "torchvision" not in sys.modules:
        sys.modules.setdefault("torchvision._meta_registrations", types.ModuleType("torchvision._meta_registrations"))
    transformers = pytest.importorskip("transformers")
    module_name, config_name = {"LlamaRotaryEmbedding": ("llama", "LlamaConfig"),
                                "Qwen2RotaryEmbedding": ("qwen2", "Qwen2Config"),
                                "GPTNeoXRotaryEmbedding": ("gpt_neox", "GPTNeoXConfig")}[cls_name]
    modeling = __import__(f"transformers.models.{module_name}.modeling_{module_name}", fromlist=[cls_name])
    return getattr(modeling, cls_name)(getattr(transformers, config_name)(**config))


# (HuggingFace module, its config, the spec's arguments, position ids (B, T))
CASES = [
    ("LlamaRotaryEmbedding", {"hidden_size": 64, "num_attention_heads": 4}, {"dim": 16}, (2, 7)),
    ("LlamaRotaryEmbedding", {"hidden_size": 48, "num_attention_heads": 2, "rope_theta": 500000.0},
     {"dim": 24, "base": 500000.0}, (1, 5)),
    ("Qwen2RotaryEmbedding", {"hidden_size": 32, "num_attention_heads": 4}, {"dim": 8}, (3, 4)),
    # GPT-NeoX rotates a quarter of each head: dim = head_dim * rotary_pct = 16 * 0.25
    ("GPTNeoXRotaryEmbedding", {"hidden_size": 64, "num_attention_heads": 4, "rotary_pct": 0.25}, {"dim": 4}, (2, 6)),
]


@pytest.mark.parametrize("cls_name,config,args,size", CASES, ids=[f"{c[0]}-{c[2]['dim']}" for c in CASES])
def test_huggingface_rotary_modules(cls_name, config, args, size):
    module = hf_rotary(cls_name, **config)
    b, t = size
    positions = torch.arange(t).expand(b, t).clone()
    x = torch.zeros(b, t, 8)
    measured = torch_measure(module, [x, positions])
    row = ours("RotaryTables", args, [((b, t), "int64")])
    # (B, T, dim) tables, cos then sin; no parameters; inv_freq and original_inv_freq (dim/2 each); no dense
    # product (the angles are an element-wise outer product), so MACs 0
    assert measured == {"outputs": [[b, t, args["dim"]]] * 2, "params": 0, "trainable_params": 0,
                        "buffers": args["dim"], "macs": 0}
    assert [row.output_shape, row.extra_outputs["sin"]] == measured["outputs"]
    assert (row.params, row.buffers, row.macs) == (0, measured["buffers"], 0)
    # FLOPs: B*T*dim/2 angles (a multiply each) + 2 tables * B*T*dim * (cos or sin 1 + scaling 1)
    assert row.flops == b * t * args["dim"] // 2 + 4 * b * t * args["dim"]
    # the reference kernel's tables are HuggingFace's, value by value
    (pos,), run = reference_run("RotaryTables", args, [[b, t]], ["int64"], high=t)
    with torch.no_grad():
        cos, sin = module(x.double(), to_torch(pos).long())
    assert torch.allclose(to_torch(run.output), cos.double(), atol=1e-5)
    assert torch.allclose(to_torch(run.extras["sin"]), sin.double(), atol=1e-5)
    assert run.macs == 0 and sorted(run.buffers) == ["inv_freq", "original_inv_freq"]


def exported_rotary():
    namespace = {"torch": torch, "nn": torch.nn}
    exec(HELPERS["RotaryTables"], namespace)
    return namespace["RotaryTables"]


@pytest.mark.parametrize("args", [{"dim": 8}, {"dim": 6, "base": 100.0, "scaling": 0.5, "original": False}],
                         ids=["defaults", "all-arguments"])
def test_the_exported_class(args):
    """The class `layercalc export` writes: torch's figures, and the reference kernel's values."""
    module = exported_rotary()(**args)
    positions = torch.arange(5).expand(2, 5).clone()
    measured = torch_measure(module, [positions])
    row = ours("RotaryTables", args, [((2, 5), "int64")])
    assert measured["outputs"] == [row.output_shape, row.extra_outputs["sin"]] == [[2, 5, args["dim"]]] * 2
    # buffers: dim/2 for inv_freq, and as many again for original_inv_freq unless original is false
    assert measured["buffers"] == row.buffers == (args["dim"] if args.get("original", True) else args["dim"] // 2)
    assert measured["macs"] == row.macs == 0
    (pos,), run = reference_run("RotaryTables", args, [[2, 5]], ["int64"], high=5)
    cos, sin = module.double()(to_torch(pos).long())
    assert torch.allclose(to_torch(run.output), cos, atol=1e-6)
    assert torch.allclose(to_torch(run.extras["sin"]), sin, atol=1e-6)


def test_odd_dim_is_refused():
    import layercalc

    with pytest.raises(layercalc.SpecError) as err:
        layercalc.analyze("layercalc: 1\ninputs: {p: {shape: [1, 4], dtype: int64}}\nlayers:\n"
                          "  - RotaryTables: {dim: 7}\n", file="m.yaml")
    assert err.value.code == "S006" and "dim=7 is odd" in err.value.message
