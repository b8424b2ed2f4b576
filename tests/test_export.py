"""`layercalc export`: every spec in specs/ becomes a PyTorch module whose numbers are layercalc's.

Each exported module is executed, ``Model()`` built on the meta device and called on
``example_inputs()`` under FlopCounterMode (mkldnn off, math SDPA backend, no MultiheadAttention
fast path, grad enabled): its params, trainable params, buffers, output shapes and MACs
(the counter's total / 2) must equal layercalc's report of the same spec. Expected numbers come
from torch, never from layercalc's tables.
"""

from __future__ import annotations

import ast
import inspect
import subprocess
import sys
from pathlib import Path

import pytest

import layercalc
from layercalc.bridge.export import export
from tests.small_sizes import SMALL

ROOT = Path(__file__).resolve().parent.parent
SPECS = sorted((ROOT / "specs").glob("*.yaml")) + sorted((ROOT / "specs" / "coverage").glob("*.yaml"))
# a shorter sequence keeps GPT-3's 96 layers on the meta device quick; the spec is unchanged
DIMS = {"gpt3-175b": {"T": 64}, "llama2-7b": {"T": 256}}


def _exported(path: Path, vars=None) -> str:
    return export(str(path.relative_to(ROOT)) if path.is_absolute() else str(path), vars=vars)


def test_export_needs_no_torch():
    code = ("import sys; sys.modules['torch'] = None; from layercalc.bridge.export import export; "
            "print(len(export('specs/resnet50.yaml')) > 0, 'torch' in sys.modules and sys.modules['torch'] is not None)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "False"]


def _id(path: Path) -> str:
    return path.stem if path.parent.name == "specs" else f"{path.parent.name}-{path.stem}"


@pytest.mark.parametrize("path", SPECS, ids=_id)
def test_exported_module_imports_only_torch(path):
    tree = ast.parse(_exported(path))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module.split(".")[0])
    assert imported <= {"torch", "math"}
    classes = {n.name for n in tree.body if isinstance(n, ast.ClassDef)}
    functions = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
    assert "Model" in classes and "example_inputs" in functions


# --- against torch -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


def _build(torch, source: str, dims=None, **kwargs):
    from tests.torch_bridge import load_module

    module = load_module(source)
    sizes = dict(dims or {}, **kwargs)
    named = inspect.signature(module.example_inputs).parameters  # the dims and the vars the inputs use
    with torch.device("meta"):
        return module.Model(**sizes), module.example_inputs(**{k: v for k, v in sizes.items() if k in named})


def _unseen(row) -> bool:
    """Products FlopCounterMode has no formula for: Bilinear (aten._trilinear) and matmul with a 1-D
    operand (aten.mv, aten.dot). Their MACs are checked against torch in test_torch_linear and
    test_torch_structure with the formula; here they are left out of the comparison of totals."""
    return row.type == "Bilinear" or (row.type == "MatMul" and any(len(s) == 1 for s in row.input_shapes))


@pytest.mark.parametrize("path", SPECS, ids=_id)
def test_exported_module_has_layercalcs_numbers(torch, path):
    from tests.torch_bridge import measure, ours

    dims = DIMS.get(path.stem)
    model, inputs = _build(torch, _exported(path), dims)
    report = layercalc.analyze(path, dims=dims)
    want = ours(report)
    want["macs"] -= sum(r.macs for r in report.layers if _unseen(r))
    assert measure(model, inputs) == want


@pytest.mark.parametrize("spec,vars", [
    ("resnet50", {"num_classes": 10, "expansion": 2}),  # every in_channels follows planes * expansion
    ("gpt2-small", {"d": 96, "heads": 4, "layers": 2, "vocab": 100, "context": 64}),
    ("llama2-7b", {"d": 64, "heads": 4, "kv_heads": 2, "layers": 3, "ff": 160, "vocab": 50}),
    ("char-lstm", {"hidden": 32, "embed": 8, "layers": 3}),
    ("mobilenet_v2", {}),
])
def test_exported_vars_are_constructor_arguments(torch, spec, vars):
    """Model(**vars) is the spec with --var: the inferred sizes follow the vars they come from."""
    dims = {"T": 16} if spec in ("gpt2-small", "llama2-7b", "char-lstm") else None
    _assert_model_with(torch, spec, dims, vars)


@pytest.mark.parametrize("spec", sorted(SMALL))
def test_every_exported_model_takes_small_dims_and_vars(torch, spec):
    """Every bundled spec at its small test sizes: sizes inferred after a head split (Unflatten), a
    [CLS] token (Select) and a recurrent layer's final state follow the vars."""
    dims, vars = SMALL[spec]
    _assert_model_with(torch, spec, dims, vars)


def _assert_model_with(torch, spec, dims, vars):
    from tests.torch_bridge import measure, ours

    path = ROOT / "specs" / f"{spec}.yaml"
    model, inputs = _build(torch, _exported(path), dims, **vars)
    assert measure(model, inputs) == ours(layercalc.analyze(path, dims=dims, vars=vars))


def test_attribute_names_are_layer_names(torch):
    """state_dict keys are the spec's layer names plus torch's parameter names."""
    path = ROOT / "specs" / "gpt2-small.yaml"
    model, _ = _build(torch, _exported(path), {"T": 8}, layers=2)
    report = layercalc.analyze(path, dims={"T": 8}, vars={"layers": 2})
    owners = {key.rsplit(".", 1)[0] for key in model.state_dict()}
    with_params = {r.name for r in report.layers if r.param_shapes and r.shared is None}
    # MultiheadAttention keeps out_proj as a sub-module: its rows own attn and attn.out_proj
    assert with_params <= owners
    assert "h.1.attn" in with_params and "lm_head" not in with_params  # tied to wte: no weight of its own
    assert model.lm_head.weight is model.wte.weight


def test_frozen_and_shared_layers(torch):
    from tests.torch_bridge import load_module, measure, ours

    spec = """
layercalc: 1
name: siamese
inputs: {a: [2, 8], b: [2, 8]}
blocks:
  Tower:
    layers:
      - Linear: {out_features: 16}
      - ReLU
      - Linear: {out_features: 4}
layers:
  - Linear: {out_features: 8}
    name: stem
    trainable: false
  - Tower:
    name: left
  - Tower:
    name: right
    share: left
    from: b
  - Sub:
    from: [left, right]
  - Linear: {out_features: 3}
    repeat: 2
    name: head
"""
    source = export(spec)
    assert "self.stem.requires_grad_(False)" in source and "self.right" not in source
    module = load_module(source)
    got = measure(module.Model(), module.example_inputs())
    # stem 8*8+8 = 72 frozen; one tower 8*16+16 + 16*4+4 = 212 counted once; heads 4*3+3 + 3*3+3 = 27
    assert (got["params"], got["trainable_params"]) == (72 + 212 + 27, 212 + 27)
    assert got == ours(layercalc.analyze(spec))


# --- the command ---------------------------------------------------------------------------------------------


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "layercalc", *args], cwd=ROOT, capture_output=True, text=True)


def test_cli_writes_the_module(tmp_path):
    out = tmp_path / "lenet.py"
    run = _cli("export", "specs/lenet5.yaml", "-o", str(out))
    assert run.returncode == 0 and run.stdout == ""
    text = out.read_text()
    assert text.startswith('"""lenet5: a PyTorch module written by `layercalc export` from specs/lenet5.yaml.')
    assert _cli("export", "specs/lenet5.yaml").stdout == text


def test_cli_errors():
    missing = _cli("export", "nope.yaml")
    assert missing.returncode == 1 and missing.stderr.startswith("nope.yaml:1:1: cannot read the file")
    bad = _cli("export", "specs/lenet5.yaml", "--to", "jax")
    assert bad.returncode == 2 and "pytorch" in bad.stderr
    broken = subprocess.run([sys.executable, "-m", "layercalc", "export", "-"], cwd=ROOT, capture_output=True,
                            text=True, input="layercalc: 1\ninputs: {x: [1, 4]}\nlayers:\n  - Lineer\n")
    assert broken.returncode == 1 and "<stdin>:4:5: unknown layer type 'Lineer'" in broken.stderr
    assert "Traceback" not in missing.stderr + bad.stderr + broken.stderr
