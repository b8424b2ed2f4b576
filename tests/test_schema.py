"""`layercalc schema`: the JSON Schema is generated from the registry, and every bundled spec follows it.

The validation tests use the `jsonschema` package when it is installed (it is
not a dependency of layercalc); without it they are skipped, and the
structural tests below still run.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from layercalc.layers import REGISTRY
from layercalc.layers.base import REQUIRED
from layercalc.schema import spec_schema
from layercalc.spec.model import META_KEYS
from tests.lint_helpers import CASES, run_lint

ROOT = Path(__file__).resolve().parents[1]
SPEC_FILES = sorted((ROOT / "specs").glob("*.yaml"))
CLEAN_CASES = sorted(p for p in CASES.glob("clean_*.yaml"))


def _validator():
    jsonschema = pytest.importorskip("jsonschema")
    schema = spec_schema()
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema)


def test_schema_command_prints_the_schema():
    from typer.testing import CliRunner

    from layercalc.cli import app

    result = CliRunner().invoke(app, ["schema"])
    assert result.exit_code == 0
    assert json.loads(result.stdout) == spec_schema()


def test_one_property_per_layer_type_with_its_arguments():
    schema = spec_schema()
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    entry = schema["definitions"]["entry"]["else"]["properties"]
    assert set(entry) == set(REGISTRY) | set(META_KEYS)
    for name, rule in REGISTRY.items():
        props = entry[name]["properties"]
        assert list(props) == [a.name for a in rule.args], name
        required = [a.name for a in rule.args if a.default is REQUIRED]
        assert entry[name].get("required", []) == required, name
        for a in rule.args:
            if a.default is not REQUIRED and a.default is not None:
                assert "default" in props[a.name], (name, a.name)


def test_expressions_are_allowed_where_numbers_are():
    schema = spec_schema()
    linear = schema["definitions"]["entry"]["else"]["properties"]["Linear"]["properties"]
    kinds = json.dumps(linear["out_features"])
    assert '"type": "integer"' in kinds and "#/definitions/expression" in kinds


@pytest.mark.parametrize("path", SPEC_FILES + CLEAN_CASES, ids=lambda p: p.name)
def test_spec_files_follow_the_schema(path):
    validator = _validator()
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(doc)]
    assert not errors, errors


@pytest.mark.parametrize("case,where", [
    ("S005_unknown_argument.yaml", ["layers", 0, "Conv2d"]),     # kernal_size
    ("S003_wrong_type.yaml", ["layers", 0, "Linear", "bias"]),   # "false"
    ("S006_invalid_value.yaml", ["layers", 0, "Conv2d", "kernel_size"]),  # 0
    ("S001_unknown_top_key.yaml", []),                            # `layer:`
    ("S008_version.yaml", ["layercalc"]),
])
def test_broken_specs_do_not_follow_the_schema(case, where):
    validator = _validator()
    doc = yaml.safe_load((CASES / case).read_text(encoding="utf-8"))
    paths = [list(e.absolute_path) for e in validator.iter_errors(doc)]
    assert where in paths, paths


def test_schema_rejects_expression_injection():
    validator = _validator()
    doc = {"layercalc": 1, "inputs": {"x": [1, 4]},
           "layers": [{"Linear": {"out_features": "__import__('os').system('x')"}}]}
    assert list(validator.iter_errors(doc))


def test_lint_and_schema_commands_are_registered():
    assert run_lint("--help").exit_code == 0
