"""Reporters: a :class:`~layercalc.lint.result.LintResult` in, text out.

``REPORTER_BY_NAME`` maps a ``--format`` name to a function
``(result, out, color) -> None`` that writes to the stream ``out``:

* ``text``: ``path:line:col: CODE level: message [slug]`` lines, then a summary
  line; with colours (rich) on a terminal, plain otherwise;
* ``github``: GitHub Actions workflow commands (``::error file=...,line=...,
  col=...,title=CODE::message``), which become annotations on the pull request;
* ``json``: one object with every problem, per-file counts and a summary;
* ``sarif``: SARIF 2.1.0 for code scanning (ruleId = code, rule name = slug,
  paths relative to the current directory through ``%SRCROOT%``);
* ``junit``: JUnit XML, one test case per file, for CI test reports.
"""

from __future__ import annotations

import json
import os
import re

from .. import __version__
from ..codes import CODES
from .result import LintResult

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def one_line(text: str) -> str:
    """Control characters (newlines, escapes) written as escapes, so a problem stays one line and inert."""
    named = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
    return _CONTROL.sub(lambda m: named.get(m.group(), f"\\x{ord(m.group()):02x}"), text)


def display_path(path: str, base: str | None = None) -> str:
    """``path`` relative to ``base`` (default: the current directory) when inside it, with / separators."""
    if path in ("-", "<stdin>"):
        return "<stdin>"
    base = os.path.abspath(base or os.getcwd())
    full = os.path.abspath(path)
    try:
        rel = os.path.relpath(full, base)
    except ValueError:  # another drive
        return full.replace(os.sep, "/")
    return (full if rel.startswith("..") else rel).replace(os.sep, "/")


# --- text ------------------------------------------------------------------------

def text(result: LintResult, out, color: bool = False) -> None:
    problems = result.problems
    if not color:
        lines = [f"{one_line(p.file)}:{p.line}:{p.col}: {p.code} {p.level}: {one_line(p.text)} [{p.slug}]"
                 for p in problems]
        lines.append(result.summary())
        out.write("\n".join(lines) + "\n")
        return
    from rich.console import Console
    from rich.text import Text

    console = Console(file=out, highlight=False, soft_wrap=True)
    for p in problems:
        t = Text()
        t.append(f"{one_line(p.file)}:{p.line}:{p.col}:", style="bold")
        t.append(f" {p.code} ", style="bold red" if p.level == "error" else "bold yellow")
        t.append(f"{p.level}:", style="red" if p.level == "error" else "yellow")
        t.append(f" {one_line(p.text)} ")
        t.append(f"[{p.slug}]", style="dim")
        console.print(t)
    style = "bold green" if not problems else "bold red" if not result.success else "bold yellow"
    console.print(Text(result.summary(), style=style))


# --- github ----------------------------------------------------------------------

def _gh_data(value: str) -> str:
    return one_line(value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A"))


def _gh_prop(value: str) -> str:
    return _gh_data(value).replace(":", "%3A").replace(",", "%2C")


def github(result: LintResult, out, color: bool = False) -> None:
    """Workflow commands; paths relative to $GITHUB_WORKSPACE (or the current directory)."""
    base = os.environ.get("GITHUB_WORKSPACE") or None
    lines = []
    for p in result.problems:
        level = "error" if result.fails(p) else "warning"
        props = f"file={_gh_prop(display_path(p.file, base))},line={p.line},col={p.col},title={_gh_prop(p.code)}"
        lines.append(f"::{level} {props}::{_gh_data(p.text + f' [{p.slug}]')}")
    lines.append(result.summary())
    out.write("\n".join(lines) + "\n")


# --- json ------------------------------------------------------------------------

def to_json(result: LintResult) -> dict:
    return {
        "version": 1,
        "problems": [p.to_dict() for p in result.problems],
        "files": [{"path": f.path, "errors": f.errors, "warnings": f.warnings} for f in result.files],
        "summary": {"files": len(result.files), "files_with_problems": sum(1 for f in result.files if f.problems),
                    "errors": result.errors, "warnings": result.warnings, "strict": result.strict,
                    "success": result.success},
    }


def json_reporter(result: LintResult, out, color: bool = False) -> None:
    out.write(json.dumps(to_json(result), indent=2) + "\n")


# --- sarif -----------------------------------------------------------------------

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def to_sarif(result: LintResult, base: str | None = None) -> dict:
    from pathlib import Path
    from urllib.parse import quote

    base = os.path.abspath(base or os.getcwd())
    codes = list(CODES)
    rules = []
    for c in CODES.values():
        rules.append({
            "id": c.code, "name": c.slug,
            "shortDescription": {"text": c.summary},
            "fullDescription": {"text": c.explanation or c.summary},
            "help": {"text": c.explanation or c.summary},
            "defaultConfiguration": {"level": "error" if c.level == "error" else "warning"},
            "properties": {"tags": [c.slug.split(".")[0]]},
        })
    results = []
    for p in result.problems:
        path = display_path(p.file, base)
        if path == "<stdin>":
            artifact = {"uri": "stdin"}
        elif os.path.isabs(path) or re.match(r"^[A-Za-z]:/", path):
            artifact = {"uri": Path(path).as_uri()}
        else:
            artifact = {"uri": quote(path), "uriBaseId": "%SRCROOT%"}
        results.append({
            "ruleId": p.code, "ruleIndex": codes.index(p.code),
            "level": "error" if result.fails(p) else "warning",
            "message": {"text": p.text},
            "locations": [{"physicalLocation": {"artifactLocation": artifact,
                                                "region": {"startLine": p.line, "startColumn": p.col}}}],
        })
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "layercalc", "version": __version__, "semanticVersion": __version__,
                                "rules": rules}},
            "originalUriBaseIds": {"%SRCROOT%": {"uri": Path(base).as_uri().rstrip("/") + "/"}},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    }


def sarif(result: LintResult, out, color: bool = False) -> None:
    out.write(json.dumps(to_sarif(result), indent=2) + "\n")


# --- junit -----------------------------------------------------------------------

_XML_BAD = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml(text: str) -> str:
    from xml.sax.saxutils import escape

    return escape(_XML_BAD.sub("\ufffd", text), {'"': "&quot;"})


def junit(result: LintResult, out, color: bool = False) -> None:
    """One <testcase> per file: failed when it has a failing problem; other problems in <system-out>."""
    cases = []
    failures = 0
    for f in result.files:
        lines = [f"{p.file}:{p.line}:{p.col}: {p.code} {p.level}: {one_line(p.text)} [{p.slug}]"
                 for p in sorted(f.problems, key=lambda p: p.sort_key())]
        failing = [p for p in f.problems if result.fails(p)]
        body = ""
        if failing:
            failures += 1
            first = failing[0]
            body = (f'<failure type="{_xml(first.code)}" message="{_xml(one_line(first.text))}">'
                    f"{_xml(chr(10).join(lines))}</failure>")
        elif lines:
            body = f"<system-out>{_xml(chr(10).join(lines))}</system-out>"
        name = _xml(display_path(f.path))
        cases.append(f'    <testcase classname="layercalc.lint" name="{name}" file="{name}">{body}</testcase>')
    n = len(result.files)
    out.write('<?xml version="1.0" encoding="utf-8"?>\n'
              f'<testsuites name="layercalc lint" tests="{n}" failures="{failures}" errors="0">\n'
              f'  <testsuite name="layercalc lint" tests="{n}" failures="{failures}" errors="0" skipped="0">\n'
              + "".join(c + "\n" for c in cases)
              + "  </testsuite>\n</testsuites>\n")


REPORTER_BY_NAME = {"text": text, "github": github, "json": json_reporter, "sarif": sarif, "junit": junit}
FORMATS = tuple(REPORTER_BY_NAME) + ("auto",)


def resolve_format(fmt: str) -> str:
    """``auto``: github inside GitHub Actions, text elsewhere."""
    if fmt == "auto":
        return "github" if os.environ.get("GITHUB_ACTIONS") == "true" else "text"
    return fmt
