"""``layercalc explain``: the derivation of every figure of a layer's row.

The engine analyzes the spec as usual; for each chosen layer the rule runs once
more on :class:`~.traced.Traced` integers (its input sizes and its arguments,
each a leaf that knows where it came from), so every figure it returns carries
the arithmetic that produced it. The derivation is that arithmetic printed with
the values substituted, never a second copy of the formula.
"""

from __future__ import annotations

import fnmatch
from math import prod

from ..errors import did_you_mean
from ..layers.base import T, param_count
from ..layers.resolve import resolve_args
from .traced import Traced, is_derived, leaf, render


class ExplainUsage(ValueError):
    """A layer name or pattern that matches nothing."""


class Step:
    """One figure: its name (``output[2]``, ``params``, ``MACs``), value and derivation (a Traced or int)."""

    __slots__ = ("figure", "value", "trace", "note")

    def __init__(self, figure: str, value: int, trace, note: str = ""):
        self.figure = figure
        self.value = int(value)
        self.trace = trace
        self.note = note

    def expr(self, style: str = "text") -> str:
        return render(self.trace, style) if is_derived(self.trace) else str(self.value)

    def to_dict(self) -> dict:
        d = {"figure": self.figure, "value": self.value, "expr": self.expr("python"), "text": self.expr("text")}
        if self.note:
            d["note"] = self.note
        return d


class Explained:
    """The derivations of one layer: inferred arguments and steps."""

    def __init__(self, row, node, inferred: list[tuple[str, int, str]], steps: list[Step]):
        self.row = row
        self.node = node
        self.inferred = inferred
        self.steps = steps

    def to_dict(self) -> dict:
        return {"name": self.row.name, "type": self.row.type, "line": self.row.line,
                "args": {k: _plain(v) for k, v in self.row.args.items()},
                "inferred": [{"arg": a, "value": v, "from": w} for a, v, w in self.inferred],
                "steps": [s.to_dict() for s in self.steps]}


def _plain(v):
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    return int(v) if isinstance(v, int) and not isinstance(v, bool) else v


def select(names: list[str], patterns: list[str]) -> list[str]:
    """The layers chosen by ``patterns``: exact names, globs (``layer1.*``), and block instances
    (``layer1`` expands to ``layer1.…``). No pattern: every layer."""
    if not patterns:
        return list(names)
    chosen: set[str] = set()
    for pat in patterns:
        hit = [n for n in names if n == pat or fnmatch.fnmatchcase(n, pat) or n.startswith(pat + ".")]
        if not hit:
            instances = {".".join(n.split(".")[:k]) for n in names for k in range(1, n.count(".") + 1)}
            hint = did_you_mean(pat, list(names) + sorted(instances))
            raise ExplainUsage(f"no layer matches '{pat}'" + (f"; {hint}" if hint else "")
                               + " (give a layer name, a block instance such as layer1, or a glob such as 'layer1.*')")
        chosen.update(hit)
    return [n for n in names if n in chosen]


def explain(source, layers: list[str] | None = None, dims: dict | None = None, vars: dict | None = None,
            dtype: str = "float32", max_layers: int | None = None, file: str | None = None, memory=None):
    """Return ``(report, [Explained, ...])`` for the chosen layers of ``source``.

    ``memory`` (a :class:`layercalc.budget.analysis.Options`, or None) adds the activations each
    layer saves for backward, derived by the memory analysis on traced shapes."""
    from ..engine import _no_gc, load_graph, run_graph
    from ..spec.graph import DEFAULT_MAX_LAYERS

    seen: dict[str, tuple] = {}

    def keep(node, rule, xs, row):
        seen[node.name] = (node, rule, list(xs))

    with _no_gc():
        graph = load_graph(source, dims=dims, vars=vars, max_layers=max_layers or DEFAULT_MAX_LAYERS, file=file)
        report = run_graph(graph, dtype, on_node=keep)
        chosen = set(select([r.name for r in report.layers], layers or []))
        out = []
        for row in report.layers:
            if row.name in chosen:
                node, rule, xs = seen[row.name]
                out.append(explain_row(row, node, rule, xs))
        if memory is not None and out:
            saved = saved_activations(graph, report, memory)
            for e in out:
                s = saved[e.row.name]
                e.steps.append(Step("saved_activation_bytes", s, s))
    return report, out


def saved_activations(graph, report, options) -> dict:
    """The saved activation bytes of every layer, from the memory analysis run on a copy of the report
    whose sizes are traced leaves: the derivation is that analysis's own arithmetic."""
    import copy

    from ..budget.analysis import analyze_memory

    def traced(shape, what):
        return [leaf(d, what) for d in shape]

    rows = []
    for row in report.layers:
        r = copy.copy(row)
        r.input_shapes = [traced(s, f"input {i} of {row.name}") for i, s in enumerate(row.input_shapes)]
        r.output_shape = traced(row.output_shape, f"output of {row.name}")
        r.extra_outputs = {k: traced(v, f"{k} of {row.name}") for k, v in row.extra_outputs.items()}
        rows.append(r)
    rep = copy.copy(report)
    rep.layers = rows
    rep.inputs = {k: traced(v, f"input {k}") for k, v in report.inputs.items()}
    out = analyze_memory(graph, rep, options)
    return {row.name: d["saved_activation_bytes"] for row, d in zip(report.layers, out["rows"])}


def _where(node, i: int, n_inputs: int) -> str:
    if n_inputs == 1:
        return "the input"
    src = node.inputs[i] if i < len(node.inputs) else None
    return f"input {i}" + (f" ({src})" if src is not None else "")


def explain_row(row, node, rule, xs: list[T]) -> Explained:
    """Run ``rule`` on traced inputs and arguments; return the derivation of each figure of ``row``."""
    txs = [T(tuple(leaf(d, f"{_where(node, i, len(xs))}'s dim {j}") for j, d in enumerate(x.shape)), x.dtype)
           for i, x in enumerate(xs)]
    a = resolve_args(rule, node)
    written = a.as_dict()
    for name, v in written.items():
        if isinstance(v, tuple):
            setattr(a, name, tuple(leaf(x, f"argument {name}") for x in v))
        else:
            setattr(a, name, leaf(v, f"argument {name}"))
    out = rule.forward(a, txs)
    inferred = []
    for name, v in a.as_dict().items():
        if written.get(name) is None and v is not None:
            vals = v if isinstance(v, tuple) else (v,)
            where = []
            for x in vals:
                if isinstance(x, Traced) and x.op == "leaf" and x.label:
                    where.append(x.label)
                elif is_derived(x):
                    where.append(render(x))
            inferred.append((name, _plain(v), ", ".join(where) or "the rule's default"))
    steps: list[Step] = []
    for j, d in enumerate(out.shape):
        if is_derived(d):
            steps.append(Step(f"output[{j}]", d, d))
    for ename, ex in out.extras.items():
        shape = ex.shape if isinstance(ex, T) else tuple(ex)
        for j, d in enumerate(shape):
            if is_derived(d):
                steps.append(Step(f"{ename}[{j}]", d, d))
    params = dict(out.params)
    counted = {} if node.share is not None else dict(params)
    if node.tie is not None:
        counted.pop("weight", None)
    for pname, shape in params.items():
        note = "" if pname in counted else f"shared with '{row.shared}', counted there"
        steps.append(Step(f"params.{pname}", prod(shape), prod(shape), note))
    steps.append(Step("params", param_count(counted), param_count(counted)))
    if out.buffers:
        counted_b = {} if node.share is not None else dict(out.buffers)
        steps.append(Step("buffers", param_count(counted_b), param_count(counted_b)))
    steps.append(Step("MACs", out.macs, out.macs))
    steps.append(Step("FLOPs", out.flops, out.flops))
    return Explained(row, node, inferred, steps)


# --- output ----------------------------------------------------------------------------------------


def _shape(s) -> str:
    return "[" + ", ".join(str(int(d)) for d in s) + "]"


def to_text(report, items: list[Explained], markdown: bool = False) -> str:
    out = []
    for e in items:
        row = e.row
        head = f"{row.name}  {row.type}  ({report.file}:{row.line})"
        out.append(f"### {row.name} ({row.type}, line {row.line})" if markdown else head)
        if markdown:
            out.append("")
        shapes = ", ".join(_shape(s) for s in row.input_shapes) or "-"
        bullet = "- " if markdown else "  "
        out.append(f"{bullet}input {shapes} -> output {_shape(row.output_shape)}")
        for name, value, where in e.inferred:
            out.append(f"{bullet}{name} = {value}, from {where}")
        for s in e.steps:
            text = s.expr("text")
            line = f"{s.figure}: {text} = {s.value:,}" if text != str(s.value) else f"{s.figure}: {s.value:,}"
            if s.note:
                line += f" ({s.note})"
            out.append(f"{bullet}`{line}`" if markdown else f"{bullet}{line}")
        out.append("")
    return "\n".join(out).rstrip("\n")


def to_json(report, items: list[Explained]) -> str:
    import json

    return json.dumps({"layercalc": 1, "name": report.name, "layers": [e.to_dict() for e in items]}, indent=1)


def to_latex(report, items: list[Explained]) -> str:
    from .render import latex_escape

    out = [f"% {latex_escape(report.name)}: derivations generated by layercalc explain"]
    for e in items:
        out.append(rf"\paragraph{{{latex_escape(e.row.name)} ({latex_escape(e.row.type)})}}")
        for name, value, where in e.inferred:
            out.append(rf"\texttt{{{latex_escape(name)}}} $= {value}$, from {latex_escape(where)}.\\")
        out.append(r"\begin{align*}")
        lines = []
        for s in e.steps:
            label = r"\text{" + latex_escape(s.figure) + "}"
            lines.append(f"{label} &= {s.expr('latex')} = {s.value:,}".replace(",", "{,}")
                         if s.expr("python") != str(s.value) else f"{label} &= {s.value:,}".replace(",", "{,}"))
        out.append(" \\\\\n".join(lines))
        out.append(r"\end{align*}")
    return "\n".join(out)
