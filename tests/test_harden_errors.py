"""No internal error on odd values: complex results of expressions, integers beyond Python's
int-to-string limit (in a spec, a lint budget flag, [tool.layercalc]), bytes that are not UTF-8 on
standard input, blocks nested hundreds deep, absurd `schema --indent` values.

Each class is generated (a seeded generator or hypothesis) over every place that takes a number;
the bulk runs in-process, and a few cases run the real command under a memory cap.
"""

from __future__ import annotations

import io
import random
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from layercalc.cli import app
from layercalc.engine import read_source
from layercalc.errors import SpecError
from layercalc.lint.config import ConfigError, apply_cli, parse_quantity, settings_from_table
from tests.harden_helpers import accepted, check_cli, outcome, refused, run_capped

runner = CliRunner()

# Every place of a spec that takes a number; {v} is the value, written as YAML. The line of {v}
# is where the error must point.
PLACES = {
    "dim": "layercalc: 1\ndims:\n  B: {v}\ninputs: {{x: [B, 4]}}\nlayers:\n  - ReLU\n",
    "var": "layercalc: 1\nvars:\n  w: {v}\ninputs: {{x: [1, 4]}}\nlayers:\n  - Linear: {{out_features: w}}\n",
    "shape": "layercalc: 1\ninputs:\n  x: [1, {v}]\nlayers:\n  - ReLU\n",
    "arg": "layercalc: 1\ninputs: {{x: [1, 4]}}\nlayers:\n  - Linear:\n      out_features: {v}\n",
    "float arg": "layercalc: 1\ninputs: {{x: [1, 4]}}\nlayers:\n  - Dropout:\n      p: {v}\n",
    "list arg": "layercalc: 1\ninputs: {{x: [1, 2, 8, 8]}}\nlayers:\n  - Conv2d:\n      out_channels: 2\n"
                "      kernel_size: [3, {v}]\n",
    "repeat": "layercalc: 1\ninputs: {{x: [1, 4]}}\nlayers:\n  - ReLU:\n    repeat: {v}\n",
    "block param": "layercalc: 1\ninputs: {{x: [1, 4]}}\nblocks:\n  F:\n    params: {{n: 1}}\n    layers:\n"
                   "      - Linear: {{out_features: n}}\nlayers:\n  - F:\n      n: {v}\n",
    "param default": "layercalc: 1\ninputs: {{x: [1, 4]}}\nblocks:\n  F:\n    params:\n      n: {v}\n"
                     "    layers:\n      - Linear: {{out_features: n}}\nlayers:\n  - F\n",
}
#: the line of {v} in each template
LINES = {"dim": 3, "var": 3, "shape": 3, "arg": 5, "float arg": 5, "list arg": 6, "repeat": 5, "block param": 10,
         "param default": 6}


def _complex_expressions(n: int, seed: int = 0) -> list[str]:
    """Expressions whose value is complex: a negative base to a fractional power, in many shapes."""
    rng = random.Random(seed)
    out = ["'(-8) ** 0.5'", "'(-1) ** (1/3)'", "'(-2) ** 0.5 * 4'", "'max(1, (-3) ** 0.25)'",
           "'ceil((-4) ** 0.5)'", "'(1 - 5) ** (1 / 2)'", "'-(((-9) ** 1.5)))'".replace(")))", "))"),
           "'round((-2) ** -0.5)'", "'4 + (-7) ** 0.1'", "'((-3) ** 0.5) ** 2'"]
    while len(out) < n:
        base = rng.randint(1, 10**6)
        num, den = rng.randint(1, 9), rng.choice([2, 3, 4, 5, 7, 10])
        if num % den == 0:
            num += 1
        form = rng.choice(["'(-{b}) ** ({n}/{d})'", "'(0 - {b}) ** {f}'", "'min(9, (-{b}) ** {f})'",
                           "'(-{b}) ** {f} + 1'", "'floor((-{b}) ** {f})'"])
        out.append(form.format(b=base, n=num, d=den, f=round(num / den, 3)))
    return out


@pytest.mark.parametrize("place", sorted(PLACES))
def test_a_complex_result_is_refused_wherever_a_number_is_taken(place):
    for expr in _complex_expressions(12, seed=sum(map(ord, place))):
        text = PLACES[place].format(v=expr)
        exc = refused(text, "S007", LINES[place])
        assert "complex" in exc.message, exc.message


def test_a_complex_var_used_later_is_refused_where_it_is_defined():
    text = "layercalc: 1\nvars:\n  a: '(-8) ** (1/3)'\n  b: a * 2\ninputs: {x: [1, 4]}\nlayers:\n  - ReLU\n"
    assert refused(text, "S007", 3)


def _huge_literals(seed: int = 0) -> list[str]:
    """Integer literals larger than 10**18, up to far beyond the int-to-string limit (4,300 digits)."""
    rng = random.Random(seed)
    out = [str(10**18 + 1), "-" + str(10**18 + 1), "9" * 20, "9" * 41, "1" + "0" * 4300, "7" * 5000,
           "-" + "3" * 10_000, "1_000_000_000_000_000_000_000", "0x" + "f" * 5000, "0b" + "1" * 200,
           "+" + "9" * 4400]
    for _ in range(6):
        n = rng.randint(20, 6000)  # digits: at least 10**19
        out.append(str(rng.randint(1, 9)) + "".join(rng.choice("0123456789") for _ in range(n - 1)))
    return out


@pytest.mark.parametrize("place", sorted(PLACES))
def test_integer_literals_beyond_1e18_are_refused_where_they_are_written(place):
    for literal in _huge_literals(seed=len(place)):
        text = PLACES[place].format(v=literal)
        exc = refused(text, "S006", LINES[place])
        assert "10**18" in exc.message, exc.message


def test_integer_limit_is_inclusive():
    # 10**18 is accepted as a value (here a var), 10**18 + 1 is refused where it is written
    accepted(PLACES["var"].format(v=str(10**18)).replace("out_features: w", "out_features: 4"))
    refused(PLACES["var"].format(v=str(10**18 + 1)), "S006", 3)


@settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(st.integers(min_value=-(10**5000), max_value=10**5000))
def test_any_integer_literal_is_accepted_or_located(value):
    if abs(value) > 10**100:
        value_text = "9" * 4400 if value > 0 else "-" + "9" * 4400
    else:
        value_text = str(value)
    text = PLACES["var"].format(v=value_text).replace("out_features: w", "out_features: 4")
    exc = outcome(text)
    if abs(value) <= 10**18:
        assert exc is None
    else:
        assert exc.code == "S006" and exc.mark.line == 3


def test_dim_and_var_overrides_are_held_to_the_same_limits():
    text = PLACES["dim"].format(v=1)
    for value in (10**18 + 1, 10**5000, -(10**19)):
        refused(text, "S006", dims={"B": value})
    refused(PLACES["var"].format(v=4), "S006", vars={"w": float("inf")})
    for args in (["--dim", "B=" + "9" * 5000], ["--dim", "B=" + "9" * 30], ["--var", "w=1e999"], ["--var", "w=nan"]):
        result = runner.invoke(app, ["shape", "specs/lenet5.yaml", *args])
        assert result.exit_code == 2, (args, result.output)


# --- budgets: flags and [tool.layercalc] ---------------------------------------------------------

BUDGET_TEXTS = ["9" * 5000, "9" * 4301 + "M", "1e99999999", "1e-99999999", "1" + "0" * 31, "10**40", "1e31",
                "1.5e30G", "0." + "5" * 5000, "9" * 64 + "K", "-5", "nan", "inf", "1e308", "1.0e2Mi"]


@pytest.mark.parametrize("text", BUDGET_TEXTS)
def test_a_budget_flag_is_a_number_or_a_usage_error(text):
    try:
        value = parse_quantity(text, "--max-params")
    except ConfigError as exc:
        assert "--max-params" in str(exc)
    else:
        assert 0 <= value <= 10**30


@settings(max_examples=100, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(st.one_of(st.integers(min_value=-(10**4000), max_value=10**4000), st.floats(),
                 st.text(alphabet="0123456789.eE+-_KMGTiBkmgt, ", max_size=80)))
def test_any_budget_value_is_a_number_or_a_config_error(value):
    for call in (lambda: settings_from_table({"max-params": value}, "pyproject.toml"),
                 lambda: settings_from_table({"per-file": {"*.yaml": {"max-macs": value}}}, "pyproject.toml"),
                 lambda: apply_cli(settings_from_table({}, "pyproject.toml"), {"max-params": str(value)}, None, None,
                                   None, False, None)):
        try:
            call()
        except ConfigError:
            pass


def test_huge_integers_in_pyproject_and_flags_exit_2(tmp_path):
    spec = tmp_path / "m.yaml"
    spec.write_text("layercalc: 1\ninputs: {x: [1, 4]}\nlayers:\n  - Linear: {out_features: 4}\n")
    (tmp_path / "pyproject.toml").write_text("[tool.layercalc]\nmax-params = " + "9" * 5000 + "\n")
    proc = run_capped(["lint", spec], cwd=tmp_path)
    assert proc.returncode == 2 and "pyproject.toml" in check_cli(proc)
    proc = run_capped(["lint", "--isolated", "--max-macs", "9" * 5000, spec], cwd=tmp_path)
    assert proc.returncode == 2 and "--max-macs" in check_cli(proc)


# --- standard input that is not UTF-8 ------------------------------------------------------------

@settings(max_examples=100, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(st.binary(min_size=1, max_size=200), st.binary(max_size=50))
def test_stdin_bytes_that_are_not_utf8_are_y006(head, tail):
    data = head + b"\xff" + tail  # 0xff never occurs in UTF-8
    saved = sys.stdin
    sys.stdin = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8")
    try:
        with pytest.raises(SpecError) as err:
            read_source("-")
    finally:
        sys.stdin = saved
    assert err.value.code == "Y006" and str(err.value.mark) == "<stdin>:1:1"


@pytest.mark.parametrize("command", ["shape", "lint"])
def test_stdin_bytes_that_are_not_utf8_through_the_cli(command):
    data = b"layercalc: 1\ninputs: {x: [1, 4]}\nlayers:\n  - ReLU  # caf\xe9\n"  # Latin-1, as the same file would be
    proc = run_capped([command, "-"] + (["--isolated"] if command == "lint" else []), stdin=data)
    text = check_cli(proc) + proc.stdout.decode()
    assert proc.returncode == 1 and "<stdin>:1:1" in text and "Y006" in text and "UTF-8" in text


# --- nesting -------------------------------------------------------------------------------------

def nested_blocks(depth: int, repeat: int = 1) -> str:
    """B0 uses B1 ... uses B{depth-1}, which holds a ReLU; the entry of B{k} is on line 6 + 3k."""
    blocks = "".join(f"  B{i}:\n    layers:\n      - B{i + 1}:\n        repeat: {repeat}\n"
                     if repeat > 1 else f"  B{i}:\n    layers:\n      - B{i + 1}\n" for i in range(depth - 1))
    blocks += f"  B{depth - 1}:\n    layers:\n      - ReLU\n"
    return f"layercalc: 1\ninputs: {{x: [1, 4]}}\nblocks:\n{blocks}layers:\n  - B0\n"


@pytest.mark.parametrize("depth", [1, 2, 31, 32, 33, 34, 100, 300, 1000, 3000])
def test_blocks_nest_up_to_32_deep_and_beyond_get_a_located_error(depth):
    text = nested_blocks(depth)
    if depth <= 32:
        report = accepted(text)
        assert report.layers[0].name == ".".join(f"b{i}_1" for i in range(depth)) + ".relu_1"
    else:
        # the 33rd level: the entry `- B32` inside block B31, on line 6 + 3 * 31 = 99
        exc = refused(text, "G011", 6 + 3 * 31)
        assert "32" in exc.message


def test_nesting_with_repeats_and_mutual_use_is_refused_not_recursed():
    rng = random.Random(3)
    for _ in range(8):
        depth = rng.randint(33, 400)
        outcome(nested_blocks(depth, repeat=rng.randint(2, 3)))  # located, whatever it is (G006 or G011)
    for deep in ("[" * 5000 + "]" * 5000, "{a: " * 3000 + "1" + "}" * 3000, "- " * 4000 + "x"):
        outcome(deep)


# --- CLI options with absurd values --------------------------------------------------------------

@pytest.mark.parametrize("indent", ["-1", "17", "1000000000", "9" * 30, "9" * 5000, "x"])
def test_schema_indent_out_of_range_is_a_usage_error(indent):
    result = runner.invoke(app, ["schema", "--indent", indent])
    assert result.exit_code == 2, result.output


@pytest.mark.parametrize("indent", ["0", "4", "16"])
def test_schema_indent_in_range(indent):
    import json

    result = runner.invoke(app, ["schema", "--indent", indent])
    assert result.exit_code == 0 and json.loads(result.output)["type"] == "object"


@pytest.mark.parametrize("name", ["Conv9d", "conv2", "", "Linear2", "\x1b[31m", "9" * 5000])
@pytest.mark.parametrize("fmt", ["text", "json"])
def test_layers_unknown_type_exits_2_in_every_format(name, fmt):
    result = runner.invoke(app, ["layers", name, "--format", fmt])
    if name == "":  # no type: the list
        assert result.exit_code == 0
    else:
        assert result.exit_code == 2 and "unknown layer type" in result.output, result.output
