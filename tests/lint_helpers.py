"""Helpers shared by the lint tests: running `layercalc lint` in-process and reading case files."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

from typer.testing import CliRunner

from layercalc.cli import app

CASES = Path(__file__).parent / "lint_cases"
LINE = re.compile(r"^(?P<file>.+?):(?P<line>\d+):(?P<col>\d+): (?P<code>[A-Z]\d{3}) (?P<level>error|warning): "
                  r"(?P<message>.*) \[(?P<slug>[a-z0-9.-]+)\]$")
EXPECT = re.compile(r'^# expect: (\d+):(\d+) ([A-Z]\d{3})(?: "(.*)")?\s*$')


def run_lint(*args: str, env: dict | None = None):
    """Invoke `layercalc lint ARGS` in-process; return the typer Result."""
    return CliRunner().invoke(app, ["lint", *args], env=env, catch_exceptions=False)


def parse_lines(stdout: str) -> list[dict]:
    """The problem lines of text output, as dicts (the summary line is left out)."""
    out = []
    for line in stdout.splitlines():
        m = LINE.match(line)
        if m:
            d = m.groupdict()
            d["line"], d["col"] = int(d["line"]), int(d["col"])
            out.append(d)
    return out


@dataclass
class Case:
    path: Path
    expects: list = field(default_factory=list)  # (line, col, code, substring or None)
    args: list = field(default_factory=list)
    exit: int | None = None

    @property
    def id(self) -> str:
        return self.path.stem

    def expected_exit(self) -> int:
        if self.exit is not None:
            return self.exit
        from layercalc.codes import CODES

        return 1 if any(CODES[c].level == "error" for _, _, c, _ in self.expects) else 0


def load_case(path: Path) -> Case:
    case = Case(path)
    for line in path.read_text(encoding="utf-8").splitlines():
        m = EXPECT.match(line)
        if m:
            case.expects.append((int(m.group(1)), int(m.group(2)), m.group(3), m.group(4)))
        elif line.startswith("# args:"):
            case.args = shlex.split(line[len("# args:"):])
        elif line.startswith("# exit:"):
            case.exit = int(line[len("# exit:"):])
    return case


def all_cases() -> list[Case]:
    return [load_case(p) for p in sorted(CASES.glob("*.yaml"))]
