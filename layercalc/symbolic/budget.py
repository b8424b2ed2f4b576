"""``layercalc memory --symbolic``: the byte counts of :mod:`layercalc.budget` as formulas in the dims.

The memory analysis runs unchanged on the rows of a symbolic report: its sums and products build
polynomials, and its maxima (the peaks) record which layer was the largest as guards, so a peak's
formula holds in the regime of the hint, and ``valid`` says where that is (``T <= 1902``). As for
the report, the result is confirmed against the concrete analysis at a second point of its domain.
"""

from __future__ import annotations

from ..errors import SpecError
from . import poly as P
from .analyze import _point_text, analyze_symbolic, check_at_one, second_point, spec_one_notes, validity
from .sym import SymInt, tracing


def memory_symbolic(source, symbols: list[str], dims: dict | None = None, vars: dict | None = None,
                    optimizer: str = "adamw", precision: str = "fp32", device: str = "cuda", attention: str = "math",
                    checkpoint=(), max_layers: int | None = None):
    """Return ``(symbolic report, MemoryReport)``; the report's ``valid`` covers the memory figures too."""
    from ..budget import MemoryReport, check_checkpoint, memory
    from ..budget.analysis import FIELDS, Options, analyze_memory

    opts = Options(optimizer, precision, device, attention, tuple(checkpoint))
    srep = analyze_symbolic(source, symbols, dims=dims, vars=vars, max_layers=max_layers)
    check_checkpoint(srep.report, opts.checkpoint)
    with tracing(srep.trace):
        out = analyze_memory(srep.graph, srep.report, opts)
    srep.valid = validity(srep.trace, srep.symbols)
    m = MemoryReport(srep.report, out["rows"], out["totals"], out["breakdown"], opts)
    if srep.symbols:
        point = srep.checked_at = second_point(srep.trace)

        def confirm(at):
            concrete = memory(source, dims={**(dims or {}), **at}, vars=vars, optimizer=optimizer,
                              precision=precision, device=device, attention=attention, checkpoint=tuple(checkpoint),
                              max_layers=max_layers)
            for i, (row, crow) in enumerate(zip(m.rows, concrete.rows)):
                for key in FIELDS:
                    _same(row[key], crow[key], at, srep, key, srep.report.layers[i], srep.graph.nodes[i].mark)
            for key in FIELDS:
                _same(m.totals[key], concrete.totals[key], at, srep, key, None, srep.graph.spec.mark)

        if point is not None:
            confirm(point)
        check_at_one(srep, confirm)
        srep.valid = validity(srep.trace, srep.symbols)
        spec_one_notes(srep)
    return srep, m


def _same(sym, value, point, srep, key, row, mark) -> None:
    got = P.evaluate(sym.poly, dict(point), srep.trace.atoms) if isinstance(sym, SymInt) else int(sym)
    if got != value:
        where = f"{row.type} '{row.name}': " if row is not None else "the totals: "
        raise SpecError(mark, f"{where}no symbolic form for {key}: the traced expression gives {got} at "
                        f"{_point_text(point)}, where the memory analysis computes {value}",
                        "leave these dims concrete", code="G101")


def to_dict(srep, m) -> dict:
    from .render import _convert

    d = _convert(m.to_dict(), srep)
    d["symbolic"] = {"dims": srep.symbols, "valid": srep.valid, "checked_at": srep.checked_at,
                     "notes": list(srep.notes)}
    return d


def to_text(srep, m) -> str:
    """The totals as formulas, with the domain."""
    from ..budget.analysis import FIELDS

    lines = [f"{srep.report.name}: memory (symbolic in {', '.join(srep.symbols) or 'nothing'})"]
    width = max(len(k) for k in FIELDS)
    for key in FIELDS:
        v = m.totals[key]
        text = P.to_text(v.poly, srep.symbols) if isinstance(v, SymInt) else f"{int(v):,}"
        lines.append(f"  {key.ljust(width)}  {text}")
    lines.append(f"Valid for: {srep.valid or 'every size >= 1'}")
    if srep.checked_at:
        lines.append("Checked against the concrete analysis at " + _point_text(srep.checked_at))
    lines += [f"Note: {n}" for n in srep.notes]
    return "\n".join(lines)
