"""Linting one file: load -> parse -> engine -> checks, collecting every problem.

The engine stops at its first error, and for errors that is right: a wrong
shape makes every later shape meaningless. But problems that do not depend on
each other are all reported:

1. the YAML and the spec's structure must load (otherwise: one problem, done);
2. the graph is expanded and the engine runs to its first error; then the
   arguments of *every* layer are resolved, each on its own, so that argument
   errors in later layers are reported too;
3. the checks of :mod:`.checks` read the parsed spec, so unknown types,
   unknown arguments, unused names and style problems are found even when the
   engine failed; budgets need the engine's totals.

Problems are de-duplicated by place and code (the engine's message wins),
filtered by the file's code selection, and sorted by position. An unexpected
exception becomes one ``X001`` problem for the file, so one bad file never
stops a run (``LAYERCALC_DEBUG=1`` re-raises it).
"""

from __future__ import annotations

import os

from ..errors import SpecError
from .config import FileSettings
from .problem import Problem


def _resolve_every_node(graph) -> list[Problem]:
    """Resolve the arguments of every expanded layer (each instance of a block: its params differ)."""
    from ..layers import REGISTRY
    from ..layers.resolve import resolve_args

    out = []
    seen: set = set()
    for node in graph.nodes:
        key = (node.type, id(node.args), id(node.env))
        if key in seen:
            continue
        seen.add(key)
        try:
            resolve_args(REGISTRY[node.type], node)
        except SpecError as exc:
            out.append(Problem.from_error(exc))
    return out


def _run(text: str, file: str, settings: FileSettings) -> list[Problem]:
    from ..engine import run_graph
    from ..spec.graph import expand
    from ..spec.model import parse_spec
    from ..spec.yamlload import load_yaml
    from .checks import CHECKS, Context

    try:
        doc = load_yaml(text, file)
        if isinstance(doc, dict) and "layercalc" not in doc:
            return [_not_a_spec(doc, file)]
        spec = parse_spec(doc, file)
    except SpecError as exc:
        return [Problem.from_error(exc)]
    problems: list[Problem] = []
    graph = report = None
    try:
        graph = expand(spec, max_layers=settings.max_layers)
    except SpecError as exc:
        problems.append(Problem.from_error(exc))
    else:
        try:
            report = run_graph(graph, settings.dtype)
        except SpecError as exc:
            problems.append(Problem.from_error(exc))
            problems += _resolve_every_node(graph)  # argument errors of the other layers, independent of shapes
    ctx = Context(file, spec, graph, report, settings)
    for module in CHECKS:
        problems += module.check(ctx)
    return problems


def _not_a_spec(doc, file: str) -> Problem:
    """The one problem of a YAML mapping without a top-level ``layercalc:`` key."""
    keys = [str(k) for k in doc]
    shown = ", ".join(keys[:6]) + (", ..." if len(keys) > 6 else "")
    return Problem(file, 1, 1, "S008", "this YAML file is not a layercalc spec: it has no top-level `layercalc:` key"
                   + (f" (its top-level keys: {shown})" if keys else ""),
                   "if it is a spec, add `layercalc: 1` at the top; if not, leave it out of the paths to lint "
                   "(directories and globs pass over such files, and so does --specs-only for named files)")


def lint_text(text: str, file: str, settings: FileSettings | None = None) -> list[Problem]:
    """Every problem of the spec ``text`` (named ``file`` in the problems), sorted by position."""
    import gc

    settings = settings or FileSettings()
    gc_was_enabled = gc.isenabled()
    gc.disable()  # many small objects, few cycles: the collector's passes only cost time (as in engine.analyze)
    try:
        problems = _run(text, file, settings)
    except Exception as exc:  # noqa: BLE001 - reported as X001, never a traceback
        if os.environ.get("LAYERCALC_DEBUG"):
            raise
        problems = [Problem(file, 1, 1, "X001", f"internal error while checking this file: "
                            f"{type(exc).__name__}: {exc}",
                            "this is a bug in layercalc: please report it with this file")]
    finally:
        if gc_was_enabled:
            gc.enable()
    unique: dict = {}
    for p in problems:
        if p.file != file:  # marks always name the file; keep the place, but never another name
            p = Problem(file, p.line, p.col, p.code, p.message, p.fix)
        key = (p.line, p.col, p.code)
        if key not in unique and settings.enabled(p.code):
            unique[key] = p
    return sorted(unique.values(), key=Problem.sort_key)


def read_file(path: str) -> tuple[str | None, Problem | None]:
    """(text, None) or (None, a Y006/Y005 problem) for a path or ``-``."""
    from ..engine import read_source
    from pathlib import Path

    try:
        if path == "-":
            text, _ = read_source("-")
        else:
            if os.path.isdir(path):
                return None, Problem(path, 1, 1, "Y006", "this is a directory, not a spec file",
                                     "name a .yaml file, or the directory to lint every spec in it")
            text, _ = read_source(Path(path), path)
    except SpecError as exc:
        return None, Problem.from_error(exc)
    except UnicodeDecodeError as exc:  # standard input
        return None, Problem(path, 1, 1, "Y006", f"the input is not UTF-8 text ({exc.reason})", "save it as UTF-8")
    return text, None


def lint_file(path: str, settings: FileSettings | None = None) -> list[Problem]:
    """Every problem of the spec file ``path`` (``-``: standard input)."""
    name = "<stdin>" if path == "-" else path
    text, problem = read_file(path)
    if problem is not None:
        return [Problem(name, problem.line, problem.col, problem.code, problem.message, problem.fix)]
    return lint_text(text, name, settings)

