"""``layercalc cost --symbolic``: forward, backward and training MACs and FLOPs as formulas in the dims.

The cost analysis of :mod:`layercalc.budget.compute` runs unchanged on the rows of a symbolic report
(its sums and products build polynomials), and so do the decoder's prefill, the totals over a number
of tokens or steps and the bytes each layer moves (the roofline's numerator). What is a ratio of two
formulas, a maximum whose branch depends on the dims, or a float (a datasheet rate, an MFU) has no
polynomial form: :data:`NOT_SYMBOLIC` names those figures and says why, and the report lists them
instead of printing a number that would hold at one point only. As for the report, every formula is
confirmed against the concrete analysis at a second point of its domain.
"""

from __future__ import annotations

from fractions import Fraction

from ..errors import SpecError
from . import poly as P
from .analyze import _point_text, analyze_symbolic, check_at_one, second_point, spec_one_notes, validity
from .render import LATEX_INDENT
from .sym import SymInt, poly_of, tracing

#: The figures of ``cost`` that stay numbers-at-a-point, and why they are not formulas.
NOT_SYMBOLIC = {
    "intensity": "FLOPs over bytes moved: a ratio of two formulas, not a polynomial",
    "bound": "whether FLOPs / peak or bytes / bandwidth is larger changes with the dims",
    "latency_floor_s": "the larger of two formulas, each over a datasheet rate (a float), in seconds",
    "forward_latency_floor_s": "the sum of the layers' floors, each the larger of two formulas over a float rate",
    "training_seconds": "the training FLOPs over the peak times --mfu: floats",
    "accelerator_hours": "the training FLOPs over the peak times --mfu: floats",
    "steps": "--tokens over the tokens in one step: a ratio, not a polynomial",
    "vs_six_nd": "the training FLOPs over 6ND: a ratio, not a polynomial",
}

#: Figures of the summary that are formulas when they are present.
SUMMARY_FIGURES = ("tokens_per_step", "training_flops_per_token", "training_flops_total", "six_nd", "context",
                   "prefill_macs", "prefill_flops", "per_token_macs", "per_token_flops")


def _quotient(a, b):
    """``a / b`` as a symbolic integer when ``b`` divides ``a`` as polynomials (every coefficient a
    whole number), else None."""
    pa, pb = poly_of(a), poly_of(b)
    if pa is None or pb is None or not pb:
        return None
    q = P.exact_quotient(pa, pb)
    if q is None:
        return None
    return SymInt(int(a) // int(b), q)


def symbolic_summary(c, precision: str, tokens=None, steps=None, acc=None, name: str | None = None,
                     mfu: float = 0.4) -> tuple[dict, list | None, dict]:
    """``cost``'s figures beyond the rows, as formulas where they are polynomials: ``(summary,
    bytes moved per row or None, {figure: why it is not a formula})``."""
    from ..budget.roofline import COMPUTE_DTYPE, bytes_moved, decoder_context, tokens_per_step

    report = c.report
    s: dict = {"precision": precision}
    omitted: dict = {}
    per_step = c.totals["training_flops"]
    if tokens is not None:
        if float(tokens) != int(tokens):
            raise ValueError(f"--tokens {tokens}: a formula needs a whole number of tokens")
        tokens = int(tokens)
        tps = tokens_per_step(report)
        if tps is None:
            raise ValueError("the spec has no integer (token id) input to count tokens in; use --steps")
        s.update(tokens=tokens, tokens_per_step=tps)
        q = _quotient(per_step, tps)
        if q is not None:
            s.update(training_flops_per_token=q, training_flops_total=q * tokens)
        else:
            omitted["training_flops_total"] = ("the training FLOPs of a step are not a multiple of the tokens in "
                                               "a step as polynomials: tokens x FLOPs / tokens per step is a ratio")
        s["six_nd"] = 6 * report.totals["trainable_params"] * tokens
        omitted["steps"], omitted["vs_six_nd"] = NOT_SYMBOLIC["steps"], NOT_SYMBOLIC["vs_six_nd"]
    elif steps is not None:
        if float(steps) != int(steps):
            raise ValueError(f"--steps {steps}: a formula needs a whole number of steps")
        s.update(steps=int(steps), training_flops_total=per_step * int(steps))
    t = decoder_context(report)
    if t:
        f, m = c.totals["forward_flops"], c.totals["forward_macs"]
        s.update(context=t, prefill_macs=m, prefill_flops=f)
        for key, v in (("per_token_macs", m), ("per_token_flops", f)):
            q = _quotient(v, t)
            if q is not None:
                s[key] = q
            else:
                omitted[key] = "the forward is not a multiple of the context as polynomials: a ratio"
    moved = None
    if acc is not None:
        peak = acc.peak.get(COMPUTE_DTYPE[precision]) or acc.peak.get("bf16")
        s.update(accelerator=name, mfu=mfu, peak_flops=peak, bandwidth=acc.bandwidth)
        moved = [bytes_moved(report, row, precision) for row in report.layers]
        for key in ("intensity", "bound", "latency_floor_s", "forward_latency_floor_s", "training_seconds",
                    "accelerator_hours"):
            omitted[key] = NOT_SYMBOLIC[key]
    return s, moved, omitted


class SymbolicCost:
    """A symbolic cost report: ``srep`` (the symbolic report), ``cost`` (a CostReport of formulas),
    ``summary``, ``moved`` (bytes per row with an accelerator) and ``omitted`` (figures that are not
    formulas, with the reason)."""

    def __init__(self, srep, cost, summary, moved, omitted):
        self.srep, self.cost, self.summary, self.moved, self.omitted = srep, cost, summary, moved, omitted


def cost_symbolic(source, symbols: list[str], dims: dict | None = None, vars: dict | None = None,
                  attention: str = "math", checkpoint=(), precision: str = "fp32", tokens=None, steps=None,
                  acc=None, name: str | None = None, mfu: float = 0.4, max_layers: int | None = None) -> SymbolicCost:
    """The cost report with the dims of ``symbols`` symbolic; ``valid`` covers every formula.

    Raises SymbolicUsage / ValueError for usage errors and SpecError (located) where a figure has no
    symbolic form."""
    from ..budget import ATTENTION, CostReport, check_checkpoint, cost
    from ..budget.compute import analyze_cost
    from ..budget.roofline import bytes_moved, cost_summary

    if attention not in ATTENTION:
        raise ValueError(f"unknown attention {attention!r}; expected one of {', '.join(ATTENTION)}")
    checkpoint = tuple(checkpoint or ())
    srep = analyze_symbolic(source, symbols, dims=dims, vars=vars, max_layers=max_layers)
    check_checkpoint(srep.report, checkpoint)
    with tracing(srep.trace):
        out = analyze_cost(srep.graph, srep.report, flash=attention == "flash", checkpoint=checkpoint)
        c = CostReport(srep.report, out["rows"], out["totals"],
                       {"attention": attention, "checkpoint": list(checkpoint)})
        summary, moved, omitted = symbolic_summary(c, precision, tokens, steps, acc, name, mfu)
        if moved is not None:  # the block tree sums the bytes moved too
            c.roofline = [{"bytes_moved": m} for m in moved]
    srep.valid = validity(srep.trace, srep.symbols)
    result = SymbolicCost(srep, c, summary, moved, omitted)
    if srep.symbols:
        point = srep.checked_at = second_point(srep.trace)

        def confirm(at):
            concrete = cost(source, dims={**(dims or {}), **at}, vars=vars, attention=attention,
                            checkpoint=checkpoint, max_layers=max_layers)
            csum, _ = cost_summary(concrete, precision, tokens, steps, None, None, mfu)
            marks = [node.mark for node in srep.graph.nodes]
            for i, (row, crow) in enumerate(zip(c.rows, concrete.rows)):
                for key in row:
                    _same(row[key], crow[key], at, srep, key, srep.report.layers[i], marks[i])
                if moved is not None:
                    _same(moved[i], bytes_moved(concrete.report, concrete.report.layers[i], precision), at, srep,
                          "bytes_moved", srep.report.layers[i], marks[i])
            for key in c.totals:
                _same(c.totals[key], concrete.totals[key], at, srep, key, None, srep.graph.spec.mark)
            if "training_flops_per_token" in summary:
                csum["training_flops_per_token"] = Fraction(concrete.totals["training_flops"], csum["tokens_per_step"])
                csum["training_flops_total"] = csum["training_flops_per_token"] * summary["tokens"]
            for key in SUMMARY_FIGURES:
                if key in summary and key != "six_nd":  # 6ND: the parameters (never symbolic) times --tokens
                    _same(summary[key], csum[key], at, srep, key, None, srep.graph.spec.mark)

        if point is not None:
            confirm(point)
        check_at_one(srep, confirm)
        srep.valid = validity(srep.trace, srep.symbols)
        spec_one_notes(srep)
    return result


def _same(sym, value, point, srep, key, row, mark) -> None:
    got = P.evaluate(sym.poly, dict(point), srep.trace.atoms) if isinstance(sym, SymInt) else sym
    if got != value:
        where = f"{row.type} '{row.name}': " if row is not None else "the totals: "
        raise SpecError(mark, f"{where}no symbolic form for {key}: the traced expression gives {got} at "
                        f"{_point_text(point)}, where the cost analysis computes {value}",
                        "leave these dims concrete", code="G101")


# --- output ----------------------------------------------------------------------------------------


def to_dict(sc: SymbolicCost) -> dict:
    """The JSON of ``cost`` with formula objects (``{"expr", "valid", "vars", "terms"}``) for every
    figure that depends on a symbolic dim; ``symbolic.not_symbolic`` lists the figures left out."""
    from .render import _convert

    d = sc.cost.to_dict()
    if sc.moved is not None:
        for row, m in zip(d["layers"], sc.moved):
            row["bytes_moved"] = m
    d["cost"].update(sc.summary)
    from ..tree import has_groups

    if has_groups(sc.cost.layers):  # the block tree: each group the sum of its layers' formulas
        d["tree"] = [node.to_dict() for node in sc.cost.tree()]
    d = _convert(d, sc.srep)
    d["symbolic"] = {"dims": sc.srep.symbols, "valid": sc.srep.valid, "checked_at": sc.srep.checked_at,
                     "notes": list(sc.srep.notes), "not_symbolic": dict(sc.omitted)}
    return d


def to_json(sc: SymbolicCost) -> str:
    from .render import json_text

    return json_text(to_dict(sc))


def _styles(fmt: str):
    """(formula, number) printers of a format."""
    from .render import latex_escape  # noqa: F401  (latex below)

    if fmt == "csv":
        return (lambda p, o: P.to_python(p, o)), str
    if fmt == "latex":
        return (lambda p, o: "$" + P.to_latex(p, o) + "$"), (lambda n: f"${n:,}$".replace(",", "{,}"))
    return (lambda p, o: P.to_text(p, o)), (lambda n: f"{n:,}")


def _lines(sc: SymbolicCost, fig) -> list[str]:
    t, s, srep = sc.cost.totals, sc.summary, sc.srep
    lines = [f"Per step: forward {fig(t['forward_flops'])} FLOPs; backward {fig(t['backward_flops'])}"
             + (f"; recomputation {fig(t['recompute_flops'])}" if t["recompute_flops"] else "")
             + f"; training {fig(t['training_flops'])}"]
    if "tokens" in s:
        text = f"Training on {s['tokens']:,} tokens ({fig(s['tokens_per_step'])} tokens per step): "
        if "training_flops_total" in s:
            text += (f"{fig(s['training_flops_per_token'])} FLOPs per token, {fig(s['training_flops_total'])} "
                     f"FLOPs in all")
        else:
            text += "the total is not a formula (see below)"
        lines.append(text + f"; 6ND = {fig(s['six_nd'])}")
    elif "steps" in s:
        lines.append(f"Training for {s['steps']:,} steps: {fig(s['training_flops_total'])} FLOPs")
    if "context" in s:
        per = (f"per generated token {fig(s['per_token_flops'])} FLOPs" if "per_token_flops" in s
               else "the per-token cost is not a formula (see below)")
        lines.append(f"Decoder at context {fig(s['context'])}: prefill {fig(s['prefill_flops'])} FLOPs; {per}"
                     + (f" ({fig(s['per_token_macs'])} MACs)" if "per_token_macs" in s else ""))
    if "accelerator" in s:
        lines.append(f"On {s['accelerator']} ({s['peak_flops'] / 1e12:g} TFLOP/s {s['precision']}, "
                     f"{s['bandwidth'] / 1e12:g} TB/s): bytes moved per layer as formulas")
    if sc.omitted:
        lines.append("Not formulas (run without --symbolic at the dims you need): "
                     + "; ".join(f"{key}: {why}" for key, why in sc.omitted.items()))
    lines.append(f"Symbolic dims: {', '.join(srep.symbols) or 'none'}; valid for: {srep.valid or 'every size >= 1'}")
    if srep.checked_at:
        lines.append("Checked against the concrete analysis at " + _point_text(srep.checked_at))
    lines += [f"Note: {n}" for n in srep.notes]
    return lines


INDENT = {"table": "  ", "markdown": "&nbsp;&nbsp;", "latex": LATEX_INDENT, "csv": ""}


def render(sc: SymbolicCost, fmt: str, width: int | None = None, color: bool | None = None,
           depth=None) -> str | None:
    """``cost --symbolic`` as json, csv, markdown, latex or a table (printed; returns None), folded to
    ``depth`` as the concrete report is (see :func:`layercalc.render.columns.view_rows`): a block row's
    formulas are the sums of its layers'."""
    from ..render.budget import COST_COLUMNS
    from ..render.columns import depth_note, view_rows

    if fmt == "json":
        return to_json(sc)
    order = sc.srep.symbols
    formula, number = _styles(fmt)

    def fig(x):
        if isinstance(x, SymInt) and not P.is_const(x.poly):
            return formula(x.poly, order)
        return number(int(x)) if isinstance(x, int) else str(x)

    cols = [(h, k) for h, k, _ in COST_COLUMNS] + ([("Bytes moved", "bytes_moved")] if sc.moved is not None else [])
    shown = view_rows(sc.cost.report, depth, sc.cost.tree)
    if shown.folded:
        cols = cols[:2] + [("Layers", "layers")] + cols[2:] + ([("Level", "level")] if fmt == "csv" else [])
        table = [dict(node.figures, name=INDENT[fmt] * (node.level - 1) + node.name, type=node.label,
                      layers=node.layers, level=node.level) for node in shown.rows]
    else:
        table = [dict(d, name=row.name, type=row.type) for row, d in zip(shown.rows, sc.cost.row_figures())]
    numeric = [k not in ("name", "type") for _, k in cols]
    rows = [[values[k] if k in ("name", "type") else fig(values[k]) for _, k in cols] for values in table]
    moved_total = None
    if sc.moved is not None:
        moved_total = 0
        for m in sc.moved:
            moved_total = moved_total + m
    totals = dict(sc.cost.totals, name="Total", type="", bytes_moved=moved_total, layers=len(sc.cost.layers))
    footer = [totals[k] if k in ("name", "type") else fig(totals[k]) if k in totals else "" for _, k in cols]
    name = sc.srep.report.name
    title = f"{name}: cost" + (f" (symbolic in {', '.join(order)})" if order else "")
    lines = _lines(sc, fig) + (depth_note(shown) if fmt != "csv" else [])
    if fmt == "csv":
        import csv
        import io

        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow([k for _, k in cols])
        w.writerows(rows)
        w.writerow(footer)
        return buf.getvalue().rstrip("\n")
    if fmt == "markdown":
        out = [f"### {title}", "", "| " + " | ".join(h for h, _ in cols) + " |",
               "| " + " | ".join("---:" if n else "---" for n in numeric) + " |"]
        out += ["| " + " | ".join(x.replace("|", "\\|") for x in r) + " |" for r in rows]
        out.append("| " + " | ".join(f"**{x}**" if x else "" for x in footer) + " |")
        return "\n".join(out + [""] + [f"- {line}" for line in lines])
    if fmt == "latex":
        from .render import latex_cell, latex_escape

        def line(cells):  # a folded row's indentation stays LaTeX (names are identifiers)
            return " & ".join(c if c.startswith("$") else latex_cell(c) for c in cells) + r" \\"

        out = [f"% {latex_escape(title)}: generated by layercalc",
               r"\begin{tabular}{" + "".join("r" if n else "l" for n in numeric) + "}", r"\toprule",
               " & ".join(latex_escape(h) for h, _ in cols) + r" \\", r"\midrule"]
        out += [line(r) for r in rows]
        out += [r"\midrule", line(footer), r"\bottomrule", r"\end{tabular}", ""]
        out += ["% " + ln for ln in _lines(sc, lambda x: P.to_python(x.poly, order) if isinstance(x, SymInt)
                                           and not P.is_const(x.poly) else f"{int(x):,}")]
        return "\n".join(out)
    from ..render.table import emit_table
    from .render import PLAIN_ROWS

    if shown.depth == 0:  # the totals only: no table
        import sys

        sys.stdout.write("\n".join([title, ""] + lines) + "\n")
        return None
    emit_table(title, [h for h, _ in cols], numeric, rows, footer, lines, width=width, color=color,
               plain=True if len(rows) > PLAIN_ROWS else None)
    return None
