"""layercalc explain: every printed derivation evaluates to the number of the report.

The derivations are read from the printed text and evaluated here (exact
fractions; ``·`` is ``*``, ``−`` is ``-``, ``mod`` is ``%``, ``^`` is ``**``),
then compared with the report's row, which the engine computed on plain ints.
"""

from __future__ import annotations

import ast
import math
import re
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from layercalc.cli import app
from layercalc.errors import SpecError
from layercalc.layers import REGISTRY
from layercalc.symbolic.explain import explain, to_text
from layercalc.verify import one_layer_spec
from tests.reference_configs import CONFIGS

SPECS = Path(__file__).resolve().parent.parent / "specs"
runner = CliRunner()
LINE = re.compile(r"^  ([\w.\[\]]+): (?:(.+?) = )?([\d,]+)( \(.*\))?$")


def ev(text: str) -> Fraction:
    py = text.replace("·", "*").replace("−", "-").replace(" mod ", " % ").replace("^", "**")

    def walk(n):
        if isinstance(n, ast.Constant) and type(n.value) is int:
            return Fraction(n.value)
        if isinstance(n, ast.UnaryOp) and isinstance(n.op, ast.USub):
            return -walk(n.operand)
        if isinstance(n, ast.BinOp):
            a, b = walk(n.left), walk(n.right)
            return {ast.Add: lambda: a + b, ast.Sub: lambda: a - b, ast.Mult: lambda: a * b, ast.Div: lambda: a / b,
                    ast.Mod: lambda: a % b, ast.Pow: lambda: a ** int(b)}[type(n.op)]()
        if isinstance(n, ast.Call) and n.func.id in ("floor", "ceil"):
            return Fraction(getattr(math, n.func.id)(walk(n.args[0])))
        raise AssertionError(f"not arithmetic: {ast.dump(n)} in {text}")

    return walk(ast.parse(py, mode="eval").body)


def printed(text: str) -> dict:
    """{layer name: {figure: (expression or None, value)}} from the text output."""
    out: dict = {}
    name = None
    for line in text.splitlines():
        if line and not line.startswith(" "):
            name = line.split()[0]
            out[name] = {}
            continue
        m = LINE.match(line)
        if m and name is not None:
            out[name][m.group(1)] = (m.group(2), int(m.group(3).replace(",", "")))
    return out


def check(report, items) -> int:
    """Every printed derivation evaluates to its value, and the values are the report's; returns the
    number of derivations evaluated."""
    shown = printed(to_text(report, items))
    rows = {r.name: r for r in report.layers}
    n = 0
    for name, figures in shown.items():
        row = rows[name]
        for figure, (expr, value) in figures.items():
            if expr is not None:
                assert ev(expr) == value, (name, figure, expr)
                n += 1
            want = {"params": row.params, "MACs": row.macs, "FLOPs": row.flops, "buffers": row.buffers}.get(figure)
            if figure.startswith("output["):
                want = row.output_shape[int(figure[7:-1])]
            elif "[" in figure and not figure.startswith("params."):
                extra, j = figure[:-1].split("[")
                want = row.extra_outputs[extra][int(j)]
            if want is not None:
                assert value == want, (name, figure, value, want)
        for figure in ("params", "MACs", "FLOPs"):
            assert figure in figures, (name, figure)
    return n


@pytest.mark.parametrize("spec", sorted(SPECS.glob("*.yaml")) + sorted(SPECS.glob("coverage/*.yaml")),
                         ids=lambda p: str(p.relative_to(SPECS)))
def test_every_derivation_of_every_spec_is_the_reports_number(spec):
    report, items = explain(str(spec))
    assert len(items) == len(report.layers)
    derived = check(report, items)
    assert derived >= sum(1 for r in report.layers if r.flops)  # at least every non-zero FLOPs is derived


@pytest.mark.parametrize("layer_type", sorted(REGISTRY))
@settings(max_examples=2, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
@given(data=st.data())
def test_every_registered_type(layer_type, data):
    args, shapes, dtypes = CONFIGS[layer_type](data.draw)
    spec = one_layer_spec(layer_type, args, shapes, dtypes)
    try:
        report, items = explain(spec)
    except SpecError:
        assume(False)  # a configuration the rules reject
        return
    check(report, items)


@pytest.mark.parametrize("spec", sorted(SPECS.glob("*.yaml")), ids=lambda p: p.stem)
def test_saved_activations_are_the_memory_reports(spec):
    """explain --memory: the derivation of each layer's saved activation bytes evaluates to the number of
    `layercalc memory` (default options: fp32, cuda, math attention)."""
    assert_saved_explained(str(spec))


def assert_saved_explained(spec, **options):
    """Each layer's printed derivation of its saved activation bytes evaluates to `layercalc memory`'s
    figure with the same options."""
    import layercalc
    from layercalc.budget.analysis import Options

    report, items = explain(spec, memory=Options(**options))
    check(report, items)
    rows = layercalc.memory(spec, **options).to_dict()["layers"]
    shown = printed(to_text(report, items))
    for row in rows:
        expr, value = shown[row["name"]]["saved_activation_bytes"]
        assert value == row["saved_activation_bytes"], row["name"]
        if expr is not None:
            assert ev(expr) == value


@pytest.mark.parametrize("name", ["char-lstm", "gru-encoder", "bert-base"])
@pytest.mark.parametrize("precision", ["fp32", "bf16", "amp-bf16"])
def test_saved_activations_on_the_cpu_are_the_memory_reports(name, precision):
    """explain --memory with the CPU's conventions (oneDNN's LSTM workspace, the step-by-step recurrent
    kernels, autocast's copies) evaluates to `layercalc memory --device cpu`."""
    assert_saved_explained(str(SPECS / f"{name}.yaml"), precision=precision, device="cpu")


def test_conv_output_length_and_params_read_as_the_formula():
    spec = {"layercalc": 1, "inputs": {"x": [1, 3, 32, 32]},
            "layers": [{"Conv2d": {"out_channels": 64, "kernel_size": 3, "stride": 2, "padding": 1}, "name": "c"}]}
    report, (item,) = explain(spec)
    text = to_text(report, [item])
    # floor((L + pad_left + pad_right - dilation*(kernel - 1) - 1) / stride) + 1 with L = 32
    assert "output[2]: floor((32 + 1 + 1 − 1·(3 − 1) − 1) / 2) + 1 = 16" in text
    assert "params: 64·floor(3 / 1)·3·3 + 64 = 1,792" in text  # weight (64, 3/groups, 3, 3) + bias 64
    assert "in_channels = 3, from the input's dim 1" in text


def test_a_mutated_formula_changes_the_derivation(monkeypatch):
    spec = {"layercalc": 1, "inputs": {"x": [1, 3, 32, 32]},
            "layers": [{"Conv2d": {"out_channels": 8, "kernel_size": 3, "stride": 2, "padding": 1}, "name": "c"}]}
    report, items = explain(spec)
    before = to_text(report, items)
    from layercalc.layers import shapes

    # the mutant forgets the "- 1" of the output length
    monkeypatch.setattr(shapes, "conv_out_lr", lambda length, kernel, stride=1, left=0, right=0, dilation=1:
                        (length + left + right - dilation * (kernel - 1)) // stride + 1)
    report2, items2 = explain(spec)
    after = to_text(report2, items2)
    assert "floor((32 + 1 + 1 − 1·(3 − 1) − 1) / 2) + 1 = 16" in before
    assert "floor((32 + 1 + 1 − 1·(3 − 1)) / 2) + 1 = 17" in after  # (34 - 2) // 2 + 1 = 17
    assert report2.layers[0].output_shape == [1, 8, 17, 17]  # the report follows the same (mutated) arithmetic
    check(report2, items2)


def test_selection_and_formats():
    resnet = str(SPECS / "resnet18.yaml")
    result = runner.invoke(app, ["explain", resnet, "layer1"])
    assert result.exit_code == 0
    names = list(printed(result.output))
    assert names and all(n.startswith("layer1.") for n in names)
    glob = runner.invoke(app, ["explain", resnet, "layer1.*.conv1"])
    assert glob.exit_code == 0 and all(n.endswith("conv1") for n in printed(glob.output))
    bad = runner.invoke(app, ["explain", resnet, "nosuch"])
    assert bad.exit_code == 2 and "no layer matches 'nosuch'" in bad.output and "Traceback" not in bad.output
    for fmt in ("markdown", "json", "latex"):
        out = runner.invoke(app, ["explain", resnet, "conv1", "-f", fmt])
        assert out.exit_code == 0, out.output
    import json

    data = json.loads(runner.invoke(app, ["explain", resnet, "conv1", "-f", "json"]).output)
    for step in data["layers"][0]["steps"]:
        assert ev(step["expr"]) == step["value"]
