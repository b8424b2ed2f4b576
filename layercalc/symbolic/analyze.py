"""The symbolic analysis: the engine run with some dims as :class:`~.sym.SymInt`.

:func:`analyze_symbolic` returns a :class:`SymbolicReport`: the usual report
whose figures are symbolic integers where they depend on a symbolic dim, the
domain where they hold (``valid``), and the point where they were confirmed
against a concrete analysis.
"""

from __future__ import annotations

from math import ceil, floor
from fractions import Fraction

from ..errors import Mark, SpecError, did_you_mean
from . import poly as P
from .sym import SymInt, Trace, tracing


class SymbolicUsage(ValueError):
    """A usage error of --symbolic (an unknown dim, a dim also given with --dim)."""


class SymbolicReport:
    """A report with symbolic figures; ``symbols`` in the order of the spec's dims."""

    def __init__(self, report, symbols: list[str], trace: Trace, valid: str, checked_at: dict | None, graph=None):
        #: what the domain leaves out and why (a dim that disagrees at 1, a spec value outside the domain)
        self.notes: list[str] = []
        self.report = report
        self.graph = graph
        self.symbols = symbols
        self.trace = trace
        self.valid = valid
        self.checked_at = checked_at


def parse_symbols(text: str | None) -> list[str]:
    """``"B,T"`` -> ``["B", "T"]``; ``"all"`` -> ``["all"]``."""
    if text is None:
        return []
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise SymbolicUsage("--symbolic needs dim names, e.g. --symbolic B,T (or all)")
    return names


def analyze_symbolic(source, symbols: list[str], dims: dict | None = None, vars: dict | None = None,
                     dtype: str = "float32", max_layers: int | None = None, file: str | None = None,
                     check: bool = True) -> SymbolicReport:
    """Analyze ``source`` with the dims named in ``symbols`` (or ``["all"]``) symbolic.

    Raises :class:`SymbolicUsage` for an unknown dim and :class:`~layercalc.errors.SpecError`
    (located) for a layer whose figures have no symbolic form or whose parameters depend on a
    symbolic dim.
    """
    from ..engine import _no_gc, read_source, run_graph
    from ..spec.graph import DEFAULT_MAX_LAYERS, expand
    from ..spec.model import parse_spec
    from ..spec.yamlload import load_yaml

    max_layers = max_layers or DEFAULT_MAX_LAYERS
    dims = dict(dims or {})
    with _no_gc():
        if isinstance(source, dict):
            import yaml

            text, file = yaml.safe_dump(source, sort_keys=False), file or "<dict>"
        else:
            text, file = read_source(source, file)
        doc = load_yaml(text, file)
        spec = parse_spec(doc, file, dims=dims, vars=vars)
        if symbols == ["all"]:
            symbols = list(spec.dims)
        for name in symbols:
            if name not in spec.dims:
                hint = did_you_mean(name, spec.dims)
                raise SymbolicUsage(f"--symbolic {name}: the spec has no dim '{name}'" + (f"; {hint}" if hint else "")
                                    + f" (its dims: {', '.join(spec.dims) or 'none'})")
            if name in dims:
                raise SymbolicUsage(f"--symbolic {name}: the dim is also given with --dim; give it one way")
        symbols = [d for d in spec.dims if d in symbols]
        # a size of 1 broadcasts and squeezes: like PyTorch, trace at a generic size (2 for a dim of 1)
        hints = {name: max(spec.dims[name], 2) for name in symbols}
        trace = Trace(hints)
        with tracing(trace):
            sym_dims = {**dims, **{name: SymInt.dim(name, v) for name, v in hints.items()}}
            graph = expand(parse_spec(doc, file, dims=sym_dims, vars=vars), max_layers=max_layers)
            report = run_graph(graph, dtype, exact=_keep)
        _check_params(report, graph)
        report.dims = {k: (k if k in hints else v) for k, v in report.dims.items()}
        checked = None
        srep = SymbolicReport(report, symbols, trace, "", None, graph)
        if check and symbols:
            checked = _confirm(report, graph, trace, doc, file, dims, vars, dtype, max_layers)

            def confirm(point):
                _confirm_at(point, report, graph, trace, doc, file, dims, vars, dtype, max_layers)

            check_at_one(srep, confirm)
        srep.checked_at = checked
        srep.valid = validity(trace, symbols)
        srep.spec_dims = {name: spec.dims[name] for name in symbols}
        spec_one_notes(srep)
    return srep


def spec_one_notes(srep) -> None:
    """A note for each symbolic dim that is 1 in the spec but outside the (final) domain."""
    srep.notes = [n for n in srep.notes if not n.endswith(_OUTSIDE)]
    for name, value in getattr(srep, "spec_dims", {}).items():
        if value == 1 and not holds(srep.trace, one_point(srep.trace, name)):
            srep.notes.append(f"{name} is 1 in the spec, outside the domain ({srep.valid}); for {name} = 1"
                              + _OUTSIDE)


_OUTSIDE = ", run without --symbolic"


def one_point(trace: Trace, name: str) -> dict:
    """The hints with ``name`` at 1."""
    return {v: (1 if v == name else h) for v, h in trace.hints.items()}


def check_at_one(srep, confirm) -> None:
    """A size of 1 broadcasts and squeezes, and a dim is traced at 2 or more: for each symbolic dim whose
    domain admits 1, ``confirm(point)`` (which raises SpecError where a figure disagrees) runs at the
    hints with that dim at 1. Where the figures disagree, the domain is narrowed to ``dim >= 2`` and a
    note says where and why; nothing is claimed at 1 that was not seen there."""
    trace = srep.trace
    for name in srep.symbols:
        point = one_point(trace, name)
        if not holds(trace, point):
            continue
        try:
            confirm(point)
        except SpecError as exc:
            trace.guard("ge", P.sub(P.var(name), P.const(2)))
            srep.notes.append(f"at {name} = 1 (a size of 1 broadcasts or squeezes), {exc.mark.file}:{exc.mark.line}: "
                              f"{exc.message.replace('no symbolic form', 'the formula differs', 1)}; the formulas "
                              f"hold for {name} >= 2")


def _keep(x):
    return x if isinstance(x, SymInt) else int(x)


def _symbolic(x) -> bool:
    return isinstance(x, SymInt) and not P.is_const(x.poly)


def _check_params(report, graph) -> None:
    for row, node in zip(report.layers, graph.nodes):
        for kind, shapes in (("parameter", row.param_shapes), ("buffer", row.buffer_shapes)):
            for pname, shape in shapes.items():
                if any(_symbolic(s) for s in shape):
                    dims = sorted(set().union(*(P.names(s.poly) for s in shape if _symbolic(s))))
                    text = "[" + ", ".join(P.to_python(s.poly) if _symbolic(s) else str(s) for s in shape) + "]"
                    raise SpecError(node.mark, f"{row.type} '{row.name}': the {kind} '{pname}' has shape {text}, "
                                    f"which depends on the symbolic dim(s) {', '.join(dims)}; a {kind} count must "
                                    f"be a number", f"leave {', '.join(dims)} concrete (remove it from --symbolic)",
                                    code="G102")


def holds(trace: Trace, point: dict) -> bool:
    """Whether the dims ``point`` lie in the domain that ``trace`` recorded."""
    env = dict(point)
    for v, (m, r) in trace.mods.items():
        if point[v] % m != r:
            return False
    for kind, key in trace.guards:
        value = P.evaluate(dict(key), env, trace.atoms)
        if (kind == "ge" and value < 0) or (kind == "eq" and value != 0) or (kind == "ne" and value == 0):
            return False
    return True


def _candidates(trace: Trace):
    steps = {v: trace.mods.get(v, (1, 0))[0] for v in trace.hints}
    for k in (1, 2, 3, -1, 5, -2, 8, 13, -3):
        point = {v: h + k * steps[v] for v, h in trace.hints.items()}
        if all(x >= 1 for x in point.values()):
            yield point


def second_point(trace: Trace) -> dict | None:
    """The first point near the traced one that lies in the domain, where the figures are checked
    concretely a second time; None when none of the candidates does."""
    return next((point for point in _candidates(trace) if holds(trace, point)), None)


def _confirm(report, graph, trace, doc, file, dims, vars, dtype, max_layers):
    """Run the concrete analysis at a second point of the domain and compare every figure:
    arithmetic that the traced integers did not see (a gcd, a slice) shows up here, at its layer."""
    from ..engine import run_graph
    from ..spec.graph import expand
    from ..spec.model import parse_spec

    point = second_point(trace)
    if point is None:
        return None
    _confirm_at(point, report, graph, trace, doc, file, dims, vars, dtype, max_layers)
    return point


def _confirm_at(point, report, graph, trace, doc, file, dims, vars, dtype, max_layers) -> None:
    """Compare every figure with the concrete analysis at ``point``; SpecError (G101) at the first that differs."""
    from ..engine import run_graph
    from ..spec.graph import expand
    from ..spec.model import parse_spec

    try:
        concrete = run_graph(expand(parse_spec(doc, file, dims={**dims, **point}, vars=vars), max_layers=max_layers),
                             dtype)
    except SpecError as exc:
        raise SpecError(exc.mark, f"no symbolic form: at {_point_text(point)}, inside the domain the symbolic analysis "
                        f"recorded, the spec fails: {exc.message}", "leave these dims concrete", code="G101") from None
    if len(concrete.layers) != len(report.layers):
        raise SpecError(graph.spec.mark, f"no symbolic form: the spec has {len(report.layers)} layers at "
                        f"{_point_text(trace.hints)} and {len(concrete.layers)} at {_point_text(point)} (a `repeat` "
                        f"or a block that follows a symbolic dim)", "leave these dims concrete", code="G101")
    for row, crow, node in zip(report.layers, concrete.layers, graph.nodes):
        for figure, sym, value in _figures(row, crow):
            env = dict(point)
            got = P.evaluate(sym.poly, env, trace.atoms) if isinstance(sym, SymInt) else int(sym)
            if got != value:
                raise SpecError(node.mark, f"{row.type} '{row.name}': no symbolic form for its {figure}: the traced "
                                f"expression {P.to_python(sym.poly) if isinstance(sym, SymInt) else sym} gives {got} at "
                                f"{_point_text(point)}, where the layer computes {value} (its arithmetic on the symbolic "
                                f"dims is not a polynomial there)", "leave these dims concrete", code="G101")
    for key, sym in report.totals.items():
        got = P.evaluate(sym.poly, dict(point), trace.atoms) if isinstance(sym, SymInt) else int(sym)
        if got != concrete.totals[key]:
            raise SpecError(graph.spec.mark, f"no symbolic form for the total {key}: the traced expression gives "
                            f"{got} at {_point_text(point)}, where the analysis computes {concrete.totals[key]}",
                            "leave these dims concrete", code="G101")


def _point_text(point: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in point.items())


def _figures(row, crow):
    for key in ("params", "buffers", "macs", "flops"):
        yield key, getattr(row, key), getattr(crow, key)
    for i, (d, c) in enumerate(zip(row.output_shape, crow.output_shape)):
        yield f"output size {i}", d, c
    for name, shape in row.extra_outputs.items():
        for i, (d, c) in enumerate(zip(shape, crow.extra_outputs[name])):
            yield f"'{name}' size {i}", d, c


# --- the domain ----------------------------------------------------------------------


def validity(trace: Trace, order: list[str]) -> str:
    """The recorded guards and congruence classes as one condition: ``H >= 32 and H % 32 == 0``
    (``""`` when the figures hold for every dim >= 1)."""
    lo: dict[str, int] = {}
    hi: dict[str, int] = {}
    ne: dict[str, set] = {}
    eq: dict[str, int] = {}
    other: list[str] = []
    for kind, key in trace.guards:
        p = dict(key)
        vs = P.names(p)
        if len(vs) == 1 and P.degree(p) == 1 and not (vs & set(trace.atoms)):
            (v,) = vs
            a = Fraction(p[((v, 1),)])
            b = Fraction(p.get((), 0))
            root = -b / a
            if kind == "ge":
                if a > 0:
                    lo[v] = max(lo.get(v, 1), ceil(root))
                else:
                    hi[v] = min(hi.get(v, floor(root)), floor(root))
            elif root.denominator == 1:
                if kind == "eq":
                    eq[v] = int(root)
                else:
                    ne.setdefault(v, set()).add(int(root))
            elif kind == "eq":
                other.append("False")
            continue
        rel = {"ge": ">=", "eq": "==", "ne": "!="}[kind]
        other.append(f"{P.to_python(p, order)} {rel} 0")
    parts = []
    for v in order:
        low = lo.get(v, 1)
        for x in sorted(ne.get(v, ())):
            if x == low:
                low += 1
        if v in eq:
            parts.append(f"{v} == {eq[v]}")
            continue
        m, r = trace.mods.get(v, (1, 0))
        while low % m != r or low in ne.get(v, ()):
            low += 1
        if low > 1:
            parts.append(f"{v} >= {low}")
        if v in hi:
            parts.append(f"{v} <= {hi[v]}")
        for x in sorted(ne.get(v, ())):
            if x > low and (v not in hi or x <= hi[v]):
                parts.append(f"{v} != {x}")
        if m > 1:
            parts.append(f"{v} % {m} == {r}")
    return " and ".join(parts + other)
