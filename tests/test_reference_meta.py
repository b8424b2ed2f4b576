"""Meta-tests of the reference executor: independence from the rules, and completeness against the registry."""

import ast
import inspect
import pathlib
import re

import pytest

from layercalc.layers import REGISTRY
from layercalc.reference.registry import KERNELS
from tests.reference_configs import CONFIGS

ROOT = pathlib.Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "layercalc" / "reference"
#: the rules, the engine that applies them (and hands out resolved arguments), the cost table, the resolver
FORBIDDEN = ("layercalc.layers", "layercalc.engine", "layercalc.costs", "layercalc.layers.resolve")


def imported_modules(path: pathlib.Path) -> list[str]:
    """Absolute names of the modules a file imports (relative imports resolved against layercalc.reference)."""
    tree = ast.parse(path.read_text(), str(path))
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = ["layercalc", "reference"][:3 - node.level] if node.level <= 2 else []
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            names.append(module)
            names += [f"{module}.{a.name}" for a in node.names]  # `from layercalc import layers`
    return names


@pytest.mark.parametrize("path", sorted(REFERENCE.glob("*.py")), ids=lambda p: p.name)
def test_reference_never_imports_the_rules(path):
    bad = [m for m in imported_modules(path) if any(m == f or m.startswith(f + ".") for f in FORBIDDEN)]
    assert not bad, (f"{path.name} imports {bad}: the reference executor reads the spec itself and shares nothing "
                     "with the rules, the engine or the cost table (the comparison lives in layercalc/verify.py)")


def test_the_import_check_sees_relative_imports(tmp_path):
    f = tmp_path / "x.py"
    f.write_text("from ..layers import shapes\nfrom .. import layers\nimport layercalc.layers.conv\n"
                 "from ..layers.resolve import resolve_args\nfrom .. import costs, engine\n")
    assert imported_modules(f) == ["layercalc.layers", "layercalc.layers.shapes", "layercalc",
                                   "layercalc.layers", "layercalc.layers.conv", "layercalc.layers.resolve",
                                   "layercalc.layers.resolve.resolve_args", "layercalc", "layercalc.costs",
                                   "layercalc.engine"]


def test_every_registered_type_has_a_reference_kernel():
    missing = sorted(set(REGISTRY) - set(KERNELS))
    assert not missing, f"layer types without a reference kernel (add one in layercalc/reference/): {missing}"
    assert not sorted(set(KERNELS) - set(REGISTRY)), "reference kernels for types the registry does not know"


@pytest.mark.parametrize("layer_type", sorted(REGISTRY))
def test_every_registered_type_documents_its_counts(layer_type):
    rule = REGISTRY[layer_type]
    doc = inspect.cleandoc(type(rule).__doc__ or "")
    assert doc, f"{layer_type} has no docstring"
    assert re.search(r"MACs|FLOPs|no params, MACs or FLOPs|MACs: 0", doc, re.I), \
        f"{layer_type}'s docstring does not state its MACs/FLOPs"
    assert isinstance(rule.macs, str) and rule.macs.strip(), f"{layer_type} has no macs formula string"
    assert isinstance(rule.flops, str) and rule.flops.strip(), f"{layer_type} has no flops formula string"


def covered_by_torch_tests() -> set:
    """Types named in a differential test against torch (tests/test_torch_*.py)."""
    text = "\n".join(p.read_text() for p in (ROOT / "tests").glob("test_torch_*.py"))
    return {t for t in REGISTRY if re.search(rf"\b{t}\b", text)}


def test_every_registered_type_is_tested():
    untested = sorted(t for t in REGISTRY if t not in CONFIGS and t not in covered_by_torch_tests())
    assert not untested, ("layer types with no configuration generator in tests/reference_configs.py and no "
                          f"differential test in tests/test_torch_*.py: {untested}")
    assert not sorted(set(REGISTRY) - set(CONFIGS)), "every type needs a property-test generator"


def test_every_registered_type_has_a_signature_of_its_own():
    from layercalc.reference.signatures import SIGNATURES

    missing = sorted(set(REGISTRY) - set(SIGNATURES))
    assert not missing, (f"no signature in layercalc/reference/signatures.py for {', '.join(missing)}: write one from "
                         "torch's constructor (see the docstring of layercalc/reference/__init__.py)")
