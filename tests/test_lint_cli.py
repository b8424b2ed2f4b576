"""`layercalc lint` and `layercalc schema` on the command line: formats, configuration,
selection, exit codes, discovery, and the codes that no case file can show."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

from layercalc.codes import CODES
from layercalc.errors import Mark, SpecError
from layercalc.lint import reporters
from layercalc.lint.checker import lint_text
from layercalc.lint.config import ConfigError, Settings, is_enabled, parse_quantity
from layercalc.lint.problem import Problem
from layercalc.lint.result import LintResult
from tests.lint_helpers import CASES, parse_lines, run_lint

ROOT = Path(__file__).resolve().parents[1]
SPECS = ROOT / "specs"
CLEAN = """layercalc: 1
inputs: {x: [1, 4]}
layers:
  - Linear: {out_features: 4}
  - ReLU
  - Linear: {out_features: 2}
"""
TWO_LAYERS_PARAMS = 4 * 4 + 4 + 4 * 2 + 2  # 30


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# --- clean specs -------------------------------------------------------------------

def test_bundled_specs_are_clean():
    """Every spec in specs/ passes: no errors (warnings would not fail the run)."""
    result = run_lint("--isolated", str(SPECS))
    assert result.exit_code == 0, result.stdout
    assert not [p for p in parse_lines(result.stdout) if p["level"] == "error"]


def test_clean_spec_exits_0(tmp_path):
    f = write(tmp_path / "m.yaml", CLEAN)
    result = run_lint("--isolated", str(f))
    assert result.exit_code == 0
    assert result.stdout == "1 file checked: no problems.\n"


# --- codes no case file can show ----------------------------------------------------

def test_y005_file_too_large(tmp_path):
    f = tmp_path / "big.yaml"
    f.write_text(CLEAN + "# " + "x" * (1 << 20) + "\n", encoding="utf-8")
    result = run_lint("--isolated", str(f))
    assert result.exit_code == 1
    (p,) = parse_lines(result.stdout)
    assert (p["line"], p["col"], p["code"]) == (1, 1, "Y005")


def test_y006_missing_and_not_utf8(tmp_path):
    bad = tmp_path / "latin1.yaml"
    bad.write_bytes("layercalc: 1\nname: caf\xe9\n".encode("latin-1"))
    missing = tmp_path / "nope.yaml"
    good = write(tmp_path / "good.yaml", CLEAN)
    result = run_lint("--isolated", str(missing), str(bad), str(good))
    assert result.exit_code == 1
    problems = parse_lines(result.stdout)
    assert {(Path(p["file"]).name, p["code"]) for p in problems} == {("nope.yaml", "Y006"), ("latin1.yaml", "Y006")}
    assert "not UTF-8" in [p for p in problems if p["file"].endswith("latin1.yaml")][0]["message"]


def test_x001_internal_error_is_reported_and_other_files_go_on(tmp_path, monkeypatch):
    from layercalc.lint.checks import style

    def boom(ctx):
        raise RuntimeError("a bug")
        yield  # pragma: no cover

    monkeypatch.setattr(style, "check", boom)
    monkeypatch.delenv("LAYERCALC_DEBUG", raising=False)
    a = write(tmp_path / "a.yaml", CLEAN)
    b = write(tmp_path / "b.yaml", CLEAN.replace("ReLU", "Relu"))
    result = run_lint("--isolated", str(a), str(b))
    assert result.exit_code == 1
    problems = parse_lines(result.stdout)
    assert [(Path(p["file"]).name, p["code"]) for p in problems] == [("a.yaml", "X001"), ("b.yaml", "X001")]
    assert "RuntimeError: a bug" in problems[0]["message"]


def test_s000_for_an_error_without_a_specific_code():
    p = Problem.from_error(SpecError(Mark("m.yaml", 3, 4), "something is off"))
    assert (p.code, p.slug, p.line, p.col) == ("S000", "schema.invalid", 3, 4)
    assert Problem.from_error(SpecError(Mark("m.yaml", 1, 1), "x", code="Q999")).code == "S000"


# --- exit codes and options ----------------------------------------------------------

def test_exit_zero_and_strict(tmp_path):
    f = write(tmp_path / "m.yaml", CLEAN + "  - Softmax: {dim: -1}\n")
    assert run_lint("--isolated", str(f)).exit_code == 0  # a warning
    assert run_lint("--isolated", "--strict", str(f)).exit_code == 1
    assert run_lint("--isolated", "--strict", "--exit-zero", str(f)).exit_code == 0
    broken = write(tmp_path / "b.yaml", CLEAN.replace("ReLU", "Relu"))
    assert run_lint("--isolated", "--exit-zero", str(broken)).exit_code == 0


@pytest.mark.parametrize("args", [
    [],
    ["--format", "xml", "x.yaml"],
    ["--select", "S005", "x.yaml"],
    ["--ignore", "G", "x.yaml"],
    ["--select", "W999", "x.yaml"],
    ["--max-params", "lots", "x.yaml"],
    ["--max-params", "-5", "x.yaml"],
    ["--dtype", "float8", "x.yaml"],
    ["--explain", "Z123"],
    ["--no-such-option", "x.yaml"],
    ["--config", "/nonexistent/pyproject.toml", "x.yaml"],
])
def test_usage_errors_exit_2(args):
    assert run_lint(*args).exit_code == 2


def test_nothing_to_check_is_a_usage_error(tmp_path):
    (tmp_path / "empty").mkdir()
    result = run_lint("--isolated", str(tmp_path / "empty"), str(tmp_path / "*.yml"))
    assert result.exit_code == 2
    assert "no *.yaml or *.yml file" in result.stderr and "no YAML file matches" in result.stderr


def test_select_ignore_specificity():
    assert is_enabled("W002", None, ())
    assert not is_enabled("W001", None, ())  # off by default
    assert is_enabled("W001", ("W",), ())
    assert not is_enabled("W004", ("W",), ("W004",))
    assert is_enabled("W002", ("W002",), ("W",))
    assert not is_enabled("W002", ("B",), ())
    assert not is_enabled("W003", None, ("style",))
    assert is_enabled("W003", None, ("style.unused-output",))
    assert not is_enabled("W004", None, ("style.unused-output",))
    assert is_enabled("S005", (), ("ALL",))  # errors of invalid specs always show


def test_select_by_slug_on_the_command_line(tmp_path):
    f = write(tmp_path / "m.yaml", CLEAN + "  - Softmax: {dim: -1}\n  - Dropout\n")
    codes = [p["code"] for p in parse_lines(run_lint("--isolated", str(f)).stdout)]
    assert codes == ["W003"]  # the output is the Dropout
    codes = [p["code"] for p in parse_lines(run_lint("--isolated", "--ignore", "style.dropout-at-output",
                                                     str(f)).stdout)]
    assert codes == []


@pytest.mark.parametrize("text,value", [(12, 12), ("25M", 25_000_000), ("1.5G", 1_500_000_000), ("100MiB", 100 << 20),
                                        ("4.5e9", 4_500_000_000), ("2_000", 2000), ("1KB", 1000), (3.0, 3)])
def test_quantities(text, value):
    assert parse_quantity(text, "x") == value


@pytest.mark.parametrize("text", ["-1", "1.5", "ten", True, [1], "1.5K3"])
def test_bad_quantities(text):
    with pytest.raises(ConfigError):
        parse_quantity(text, "x")


# --- pyproject.toml ----------------------------------------------------------------------

PYPROJECT = """[project]
name = "models"

[tool.layercalc]
max-params = 20
ignore = ["W006"]

[tool.layercalc.per-file."specs/big/*.yaml"]
max-params = "1K"

[tool.layercalc.per-file."specs/free/*.yaml"]
max-params = false
"""


@pytest.fixture()
def project(tmp_path, monkeypatch):
    write(tmp_path / "pyproject.toml", PYPROJECT)
    for sub in ("small", "big", "free"):
        write(tmp_path / "specs" / sub / "m.yaml", CLEAN + "  - Softmax: {dim: -1}\n")
    monkeypatch.chdir(tmp_path / "specs")  # the nearest pyproject.toml is found upwards
    return tmp_path


def test_pyproject_budgets_and_per_file_overrides(project):
    result = run_lint(".")
    problems = parse_lines(result.stdout)
    assert [(p["file"], p["code"]) for p in problems] == [("small/m.yaml", "B001")]
    assert "over the budget of 20 (max-params from pyproject.toml [tool.layercalc])" in problems[0]["message"]
    assert result.exit_code == 1


def test_command_line_budget_wins_over_pyproject(project):
    problems = parse_lines(run_lint(".", "--max-params", "25").stdout)
    assert [(p["file"], p["code"]) for p in problems] == [("big/m.yaml", "B001"), ("free/m.yaml", "B001"),
                                                          ("small/m.yaml", "B001")]
    assert parse_lines(run_lint(".", "--max-params", "30").stdout) == []  # 30 params: not over


def test_isolated_ignores_pyproject(project):
    result = run_lint("--isolated", ".")
    assert [p["code"] for p in parse_lines(result.stdout)] == ["W006"] * 3
    assert result.exit_code == 0


@pytest.mark.parametrize("toml,message", [
    ('[tool.layercalc]\nmax-param = 5\n', "did you mean 'max-params'?"),
    ('[tool.layercalc]\nignore = ["S005"]\n', "cannot be selected or ignored"),
    ('[tool.layercalc]\nmax-macs = "many"\n', "is not a number"),
    ('[tool.layercalc.per-file."*.yaml"]\nstrict = true\n', "unknown key 'strict'"),
    ('[tool.layercalc\n', "not valid TOML"),
])
def test_bad_pyproject_is_a_usage_error(tmp_path, monkeypatch, toml, message):
    write(tmp_path / "pyproject.toml", toml)
    write(tmp_path / "m.yaml", CLEAN)
    monkeypatch.chdir(tmp_path)
    result = run_lint("m.yaml")
    assert result.exit_code == 2
    assert message in result.stderr


def test_config_option_and_python_310_fallback(tmp_path, monkeypatch):
    from layercalc.lint import config

    cfg = write(tmp_path / "lint.toml", "[tool.layercalc]\nmax-params = 1\n")
    f = write(tmp_path / "m.yaml", CLEAN)
    assert [p["code"] for p in parse_lines(run_lint("--config", str(cfg), str(f)).stdout)] == ["B001"]
    # without tomllib (Python 3.10) and without tomli, the table is skipped with a message
    import builtins

    real_import = builtins.__import__

    def no_toml(name, *args, **kwargs):
        if name in ("tomllib", "tomli"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_toml)
    messages = []
    settings = config.load_settings(str(cfg), warn=messages.append)
    assert settings.budgets == {} and "is ignored" in messages[0]


# --- formats ---------------------------------------------------------------------------

@pytest.fixture()
def broken(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "specs" / "a,b:c.yaml", CLEAN.replace("{out_features: 2}", "{out_features: 2, bais: false}"))
    write(tmp_path / "specs" / "ok.yaml", CLEAN + "  - Softmax: {dim: -1}\n")
    return tmp_path


def test_text_format_is_plain_when_not_a_terminal(broken):
    result = run_lint("--isolated", "specs")
    assert "\x1b[" not in result.stdout
    lines = result.stdout.splitlines()
    assert lines[0].startswith("specs/a,b:c.yaml:6:31: S005 error: Linear 'linear_2': Linear has no argument 'bais'; "
                               "did you mean 'bias'? Fix: ")
    assert lines[0].endswith("[schema.unknown-argument]")
    assert lines[1].startswith("specs/ok.yaml:7:5: W006 warning: ")
    assert lines[-1] == "1 error and 1 warning in 2 of 2 files."


def test_text_format_colours_with_force_color(broken):
    result = run_lint("--isolated", "specs", env={"FORCE_COLOR": "1", "NO_COLOR": ""})
    assert "\x1b[" in result.stdout
    assert "S005" in result.stdout


def test_github_format_and_escaping(broken):
    result = run_lint("--isolated", "--format", "github", "specs")
    lines = result.stdout.splitlines()
    assert lines[0].startswith("::error file=specs/a%2Cb%3Ac.yaml,line=6,col=31,title=S005::Linear 'linear_2'")
    assert lines[1].startswith("::warning file=specs/ok.yaml,line=7,col=5,title=W006::")
    assert reporters._gh_data("50% a\r\nb") == "50%25 a%0D%0Ab"
    assert reporters._gh_prop("a:b,c%") == "a%3Ab%2Cc%25"
    strict = run_lint("--isolated", "--format", "github", "--strict", "specs").stdout.splitlines()
    assert strict[1].startswith("::error file=specs/ok.yaml")  # a warning that fails is an error annotation


def test_auto_format_in_github_actions(broken):
    result = run_lint("--isolated", "--format", "auto", "specs", env={"GITHUB_ACTIONS": "true"})
    assert result.stdout.startswith("::error file=")
    result = run_lint("--isolated", "--format", "auto", "specs", env={"GITHUB_ACTIONS": ""})
    assert result.stdout.startswith("specs/a,b:c.yaml:6:31: S005")


def test_json_format(broken):
    result = run_lint("--isolated", "--format", "json", "specs")
    doc = json.loads(result.stdout)
    assert doc["summary"] == {"files": 2, "files_with_problems": 2, "errors": 1, "warnings": 1, "strict": False,
                              "success": False}
    p = doc["problems"][0]
    assert (p["path"], p["line"], p["col"], p["code"], p["slug"], p["level"]) == \
        ("specs/a,b:c.yaml", 6, 31, "S005", "schema.unknown-argument", "error")
    assert "did you mean 'bias'?" in p["message"] and p["fix"].startswith("its arguments are")
    assert result.exit_code == 1


def test_sarif_format(broken):
    doc = json.loads(run_lint("--isolated", "--format", "sarif", "specs").stdout)
    assert doc["version"] == "2.1.0"
    run = doc["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == list(CODES)
    assert all(r["name"] == CODES[r["id"]].slug and r["help"]["text"] for r in rules)
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"].endswith("/")
    first = run["results"][0]
    assert first["ruleId"] == "S005" and rules[first["ruleIndex"]]["id"] == "S005"
    loc = first["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"] == {"uri": "specs/a%2Cb%3Ac.yaml", "uriBaseId": "%SRCROOT%"}
    assert loc["region"] == {"startLine": 6, "startColumn": 31}
    assert [r["level"] for r in run["results"]] == ["error", "warning"]


def test_junit_format(broken):
    result = run_lint("--isolated", "--format", "junit", "specs")
    root = ET.fromstring(result.stdout)
    suite = root.find("testsuite")
    assert suite.get("tests") == "2" and suite.get("failures") == "1"
    cases = {c.get("name"): c for c in suite.iter("testcase")}
    assert cases["specs/a,b:c.yaml"].find("failure").get("type") == "S005"
    assert cases["specs/ok.yaml"].find("failure") is None
    assert "W006" in cases["specs/ok.yaml"].find("system-out").text


def test_control_characters_stay_inert(tmp_path):
    """A key with a newline or an escape sequence cannot break the one-line format or the XML."""
    f = write(tmp_path / "m.yaml", 'layercalc: 1\ninputs: {x: [1, 4]}\nlayers:\n  - "Re\\nLU\\x1b[31m"\n')
    result = run_lint("--isolated", str(f))
    (line, summary) = result.stdout.splitlines()
    assert "\\n" in line and "\\x1b" in line and "\x1b" not in line
    assert ET.fromstring(run_lint("--isolated", "--format", "junit", str(f)).stdout) is not None


# --- discovery and standard input ------------------------------------------------------

def test_directories_globs_and_dedup(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "specs" / "a.yaml", CLEAN)
    write(tmp_path / "specs" / "deep" / "b.yml", CLEAN)
    write(tmp_path / "specs" / ".hidden" / "c.yaml", "not: a spec")
    write(tmp_path / "specs" / "notes.txt", "text")
    from layercalc.lint.discover import discover

    files, notes = discover(["specs", "specs/a.yaml", "specs/**/*.yml"])
    assert files == ["specs/a.yaml", os.path.join("specs", "deep", "b.yml")] and notes == []
    assert run_lint("--isolated", "specs").stdout.endswith("2 files checked: no problems.\n")


def test_standard_input():
    from typer.testing import CliRunner

    from layercalc.cli import app

    r = CliRunner().invoke(app, ["lint", "--isolated", "-"], input=CLEAN.replace("ReLU", "Relu"))
    assert r.exit_code == 1
    assert r.stdout.startswith("<stdin>:5:5: S004 error: unknown layer type 'Relu'")


def test_lint_text_library_api():
    problems = lint_text(CLEAN.replace("ReLU", "Relu"), "m.yaml")
    assert [(p.line, p.col, p.code) for p in problems] == [(5, 5, "S004")]
    result = LintResult()
    result.add("m.yaml", problems)
    assert not result.success and result.exit_code() == 1 and result.exit_code(exit_zero=True) == 0


# --- --explain --------------------------------------------------------------------------

@pytest.mark.parametrize("query", ["W002", "w002", "style.bias-before-norm"])
def test_explain(query):
    result = run_lint("--explain", query)
    assert result.exit_code == 0
    assert result.stdout.startswith("W002 style.bias-before-norm (warning)")
    assert "bias: false" in result.stdout


def test_explain_prefix_and_did_you_mean():
    result = run_lint("--explain", "B")
    assert [line.split()[0] for line in result.stdout.splitlines() if line[:1] == "B" and line[1:4].isdigit()] == \
        ["B001", "B002", "B003"]
    bad = run_lint("--explain", "W0002")
    assert bad.exit_code == 2 and "did you mean 'W002'?" in bad.stderr


def test_every_code_is_explained():
    for code in CODES.values():
        assert code.explanation, code.code
        assert code.level in ("error", "warning")


# --- docs, hooks, no tracebacks -----------------------------------------------------------

def test_docs_code_reference_is_up_to_date():
    from layercalc.lint.docs import render

    doc = (ROOT / "docs" / "lint.md").read_text(encoding="utf-8")
    assert render(doc) == doc, "run `python -m layercalc.lint.docs` to regenerate docs/lint.md"
    for code in CODES.values():
        assert f"`{code.code}` | `{code.slug}`" in doc


def test_pre_commit_hook():
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    (hook,) = [h for h in hooks if h["id"] == "layercalc-lint"]
    assert hook["entry"] == "layercalc lint --specs-only" and hook["language"] == "python"
    # every staged YAML file, wherever it is: the files that are not specs are passed over
    assert hook["types"] == ["yaml"] and "files" not in hook


def test_cli_process_never_prints_a_traceback(tmp_path):
    """The real entry point, in a subprocess: broken specs give diagnostics, not tracebacks."""
    files = [str(p) for p in sorted(CASES.glob("*.yaml"))]
    proc = subprocess.run([sys.executable, "-m", "layercalc", "lint", "--isolated", *files],
                          capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr + proc.stdout
    assert "X001" not in proc.stdout
