"""Every command of the CLI survives the fuzz corpus (tests/lint_fuzz.py: HOSTILE): exit 0, 1 or 2,
no traceback, no internal error, a file:line:col for spec errors.

The commands are read from the typer app itself, so a command added later is included at once;
RECIPES says how each is called on a spec, and a command without a recipe fails the test with a
message saying what to add. In-process (CliRunner) for speed; the memory-capped subprocess runs are
in test_harden_bounds.py.
"""

from __future__ import annotations

import re

import pytest
import typer
from typer.testing import CliRunner

from layercalc.cli import app
from tests.harden_helpers import LOCATED
from tests.lint_fuzz import HOSTILE


def cli_commands(group=None, prefix: str = "") -> list[str]:
    """Every leaf command of the app, as its name (``group sub`` for a command in a group)."""
    group = group or typer.main.get_command(app)
    out = []
    for name, command in sorted(getattr(group, "commands", {}).items()):
        if hasattr(command, "commands"):
            out += cli_commands(command, prefix + name + " ")
        else:
            out.append(prefix + name)
    return out


# How each command is run on one corpus entry: ``spec`` is the path of the entry written to a file,
# ``text`` its text. A command that takes no spec gets something derived from the text instead.
RECIPES = {
    "shape": lambda spec, text: ["shape", spec],
    "params": lambda spec, text: ["params", spec, "--format", "json"],
    "flops": lambda spec, text: ["flops", spec, "--format", "csv"],
    "summary": lambda spec, text: ["summary", spec, "--format", "markdown"],
    "memory": lambda spec, text: ["memory", spec, "--format", "json"],
    "cost": lambda spec, text: ["cost", spec, "--format", "json"],
    "explain": lambda spec, text: ["explain", spec],
    "diff": lambda spec, text: ["diff", spec, "specs/lenet5.yaml"],
    "graph": lambda spec, text: ["graph", spec],
    "verify": lambda spec, text: ["verify", spec, "--format", "json", "--max-layers", "2000"],
    "lint": lambda spec, text: ["lint", "--isolated", spec],
    "layers": lambda spec, text: ["layers", text.split("\n", 1)[0][:200] or "Conv2d", "--format", "json"],
    "schema": lambda spec, text: ["schema", "--indent", str(len(text) % 20)],
    "export": lambda spec, text: ["export", spec],
    # the corpus file as an import TARGET: refused as not a Python file, never run
    "import": lambda spec, text: ["import", f"{spec}:Model", "--input", "x=1,4"],
}

runner = CliRunner()
COMMANDS = cli_commands()
#: corpus entries left out here: a 20,000-layer plain chain is a speed case, not a hostile input; its
#: time is measured by benchmarks/bench_cli.py and the memory of larger ones by test_harden_bounds.py
SPEED_ONLY = {k for k, text in enumerate(HOSTILE) if text.count("\n") > 15_000}
CORPUS = [k for k in range(len(HOSTILE)) if k not in SPEED_ONLY]


def test_every_command_has_a_recipe():
    missing = [c for c in COMMANDS if c not in RECIPES]
    assert not missing, (f"commands without a recipe in tests/test_harden_cli_corpus.py RECIPES: {missing}; add one "
                         "saying how the command is run on a spec file")
    assert {"shape", "params", "flops", "summary", "verify", "lint", "schema", "layers"} <= set(COMMANDS)


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("k", CORPUS)
def test_every_command_survives_the_corpus(command, k, tmp_path):
    if command not in RECIPES:
        pytest.fail(f"the command '{command}' has no recipe in RECIPES (tests/test_harden_cli_corpus.py)")
    text = HOSTILE[k]
    spec = tmp_path / "fuzz.yaml"
    spec.write_bytes(text.encode("utf-8", "surrogatepass"))
    args = RECIPES[command](str(spec), text)
    result = runner.invoke(app, args, catch_exceptions=True)
    label = f"layercalc {' '.join(a[:60] for a in args)} (HOSTILE[{k}])"
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        import traceback

        pytest.fail(f"{label}: {''.join(traceback.format_exception(result.exception))[-3000:]}")
    assert result.exit_code in (0, 1, 2), f"{label}: exit {result.exit_code}\n{result.output[-2000:]}"
    output = result.output
    assert "Traceback" not in output and "internal error" not in output, f"{label}\n{output[-3000:]}"
    if result.exit_code == 1 and command not in ("lint", "verify", "diff"):
        first = output.strip().splitlines()[-1] if output.strip() else ""
        spec_errors = [line for line in output.splitlines() if re.match(rf"^{re.escape(str(spec))}:\d+:\d+: ", line)]
        assert spec_errors and all(LOCATED.match(line) for line in spec_errors), f"{label}: {first}"
