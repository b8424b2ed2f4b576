"""Renderers of a symbolic report: table, markdown, csv, json and latex.

A figure that depends on a symbolic dim prints as a formula (``B·T·(2·T + 1,536)``
in tables, ``2*B*T**2 + 1536*B*T`` in json and csv, ``2 B T^{2} + 1536 B T`` in
latex); the others print as the concrete reports print them.
"""

from __future__ import annotations

import json

from . import poly as P
from .sym import SymInt


def _sym(x) -> bool:
    return isinstance(x, SymInt) and not P.is_const(x.poly)


def figure(x, srep):
    """A figure as json: an int, or ``{"expr", "valid", "terms"}`` when it depends on a symbolic dim."""
    if _sym(x):
        return {"expr": P.to_python(x.poly, srep.symbols), "valid": srep.valid, **P.terms(x.poly, srep.symbols)}
    return int(x) if isinstance(x, int) and not isinstance(x, bool) else x


def _convert(value, srep):
    if isinstance(value, dict):
        return {k: _convert(v, srep) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_convert(v, srep) for v in value]
    if isinstance(value, int):
        return figure(value, srep)
    return value


def to_dict(srep) -> dict:
    from ..tree import has_groups

    d = _convert(srep.report.to_dict(), srep)
    if has_groups(srep.report.layers):  # the block tree, whatever the depth: each group the sum of its layers
        d["tree"] = _convert([node.to_dict() for node in srep.report.tree()], srep)
    d["dims"] = {k: ({"expr": k, "valid": srep.valid, "vars": [k], "terms": [[1, [1]]]} if k in srep.symbols else v)
                 for k, v in srep.report.dims.items()}
    d["symbolic"] = {"dims": srep.symbols, "valid": srep.valid, "checked_at": srep.checked_at,
                     "notes": list(srep.notes),
                     "floors": {name: {"expr": P.to_python(p, srep.symbols), "divisor": dv}
                                for name, (p, dv) in srep.trace.atoms.items()}}
    return d


def to_json(srep) -> str:
    return json_text(to_dict(srep))


def json_text(d: dict) -> str:
    """The JSON of a symbolic report: one line per row of ``layers`` and ``tree``, one per other key."""
    lines = []
    for key, value in d.items():
        if key in ("layers", "tree") and value:
            body = ",\n    ".join(json.dumps(row) for row in value)
            lines.append(f'  "{key}": [\n    {body}\n  ]')
        else:
            lines.append(f"  {json.dumps(key)}: {json.dumps(value)}")
    return "{\n" + ",\n".join(lines) + "\n}"


# --- the columns -------------------------------------------------------------------------------


def _text(x, srep, human=None) -> str:
    if _sym(x):
        return P.to_text(x.poly, srep.symbols)
    if human is not None:
        return human(int(x))
    return f"{int(x):,}" if isinstance(x, int) else str(x)


def _cells(srep, view: str, style, number, depth=None, indent=None):
    """(columns, rows, footer, shown) of a view, each figure through ``style`` (symbolic) or ``number``
    (concrete); folded to ``depth`` as the concrete reports are (a block row: the sums of its layers'
    formulas), nested names prefixed with ``indent`` per level."""
    from ..render.columns import columns, view_rows

    report = srep.report
    shown = view_rows(report, depth)
    cols = columns(view, report, shown.folded)
    if any(_sym(r.flops) for r in report.layers):  # a share of a formula is not a number
        cols = [c for c in cols if c.key != "share"]

    def fig(x):
        return style(x, srep) if _sym(x) else number(int(x))

    def shape(s):
        return "[" + ", ".join(style(d, srep) if _sym(d) else str(int(d)) for d in s) + "]"

    def cell(c, row):
        if c.key == "input_shapes":
            return ", ".join(shape(s) for s in row.input_shapes) or "-"
        if c.key == "output_shape":
            return shape(row.output_shape) + "".join(f" {k}={shape(v)}" for k, v in row.extra_outputs.items())
        v = c.cell(row)
        return fig(v) if c.numeric and isinstance(v, int) else str(v)

    rows = []
    for row in shown.rows:
        cells = [cell(c, row) for c in cols]
        if shown.folded and indent and row.level > 1:
            cells[0] = indent * (row.level - 1) + cells[0]
        rows.append(cells)
    footer = []
    for c in cols:
        t = c.total(report.totals) if c.total else ""
        footer.append(fig(t) if c.numeric and isinstance(t, int) else str(t))
    return cols, rows, footer, shown


def _depth_line(shown) -> list[str]:
    if shown.depth is None or not shown.folded:
        return []
    d = shown.depth
    return [f"Depth {d} of {shown.deepest}" + (": totals only" if d == 0 else ": a block row sums the formulas of "
            "the layers inside it") + f". Expand with --depth {d + 1} or --depth all."]


def _lines(srep, view, style, number) -> list[str]:
    report = srep.report
    t = report.totals

    def fig(x):
        return style(x, srep) if _sym(x) else number(int(x))

    def shp(s):
        return "[" + ", ".join(fig(d) if _sym(d) else str(int(d)) for d in s) + "]"

    lines = [f"Inputs: {', '.join(f'{k} {shp(v)}' for k, v in report.inputs.items())}",
             f"Outputs: {', '.join(f'{k} {shp(v)}' for k, v in report.outputs.items())}"]
    if view != "shape":
        lines.append(f"Params: {fig(t['params'])}; trainable {fig(t['trainable_params'])}; buffers {fig(t['buffers'])}")
    if view in ("flops", "summary"):
        lines += [f"MACs: {fig(t['macs'])}", f"FLOPs: {fig(t['flops'])}"]
    if srep.symbols:
        lines.append(f"Symbolic dims: {', '.join(srep.symbols)}; valid for: {srep.valid or 'every size >= 1'}")
        for name, (p, d) in srep.trace.atoms.items():
            lines.append(f"  {P._atom_text(name)}: the floor of ({P.to_text(p, srep.symbols)}) / {d}")
        if srep.checked_at:
            lines.append("Checked against the concrete analysis at "
                         + ", ".join(f"{k}={v}" for k, v in srep.checked_at.items()))
        lines += [f"Note: {n}" for n in srep.notes]
    return lines


def print_table(srep, view: str, width: int | None = None, color: bool | None = None, file=None,
                depth=None) -> None:
    import sys

    from ..render.table import emit_table, human

    cols, rows, footer, shown = _cells(srep, view, _text, human, depth, "  ")
    title = srep.report.name + (f" (symbolic in {', '.join(srep.symbols)})" if srep.symbols else "")
    lines = _lines(srep, view, _text, lambda n: f"{n:,}") + _depth_line(shown)
    if shown.depth == 0:
        (file or sys.stdout).write("\n".join([title, ""] + lines) + "\n")
        return
    # formulas are wide cells, which rich measures and wraps slowly: beyond a page of rows, the plain layout
    emit_table(title, [c.header for c in cols], [c.numeric for c in cols], rows, footer, lines, file=file,
               width=width, color=color, plain=True if len(rows) > PLAIN_ROWS else None)


#: Tables of more rows than this are drawn in the plain fixed-width layout (same look, no wrapping).
PLAIN_ROWS = 200


def to_markdown(srep, view: str, depth=None) -> str:
    cols, rows, footer, shown = _cells(srep, view, _text, lambda n: f"{n:,}", depth, "&nbsp;&nbsp;")
    title = srep.report.name + (f" (symbolic in {', '.join(srep.symbols)})" if srep.symbols else "")
    out = [f"### {title}", "", "| " + " | ".join(c.header for c in cols) + " |",
           "| " + " | ".join("---:" if c.numeric else "---" for c in cols) + " |"]
    for r in rows:
        out.append("| " + " | ".join(x.replace("|", "\\|") for x in r) + " |")
    out.append("| " + " | ".join(f"**{x}**" if x else "" for x in footer) + " |")
    out += [""] + [f"- {line}" for line in _lines(srep, view, _text, lambda n: f"{n:,}") + _depth_line(shown)]
    return "\n".join(out)


def to_csv(srep, view: str, depth=None) -> str:
    import csv
    import io

    def py(x, s):
        return P.to_python(x.poly, s.symbols)

    cols, rows, footer, shown = _cells(srep, view, py, str, depth)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow([c.key for c in cols] + (["level"] if shown.folded else []))
    w.writerows([r + [n.level] for r, n in zip(rows, shown.rows)] if shown.folded else rows)
    w.writerow(footer)
    return buf.getvalue().rstrip("\n")


_LATEX_ESC = {"\\": r"\textbackslash{}", "_": r"\_", "%": r"\%", "&": r"\&", "#": r"\#", "$": r"\$",
              "{": r"\{", "}": r"\}", "^": r"\^{}", "~": r"\~{}"}


def latex_escape(text: str) -> str:
    return "".join(_LATEX_ESC.get(ch, ch) for ch in text)


#: the indentation of a folded table's rows in LaTeX, one per level below the top
LATEX_INDENT = r"\quad "


def latex_cell(cell: str) -> str:
    """A text cell escaped for LaTeX, its leading indentation (``LATEX_INDENT`` per level) kept as LaTeX."""
    level = 0
    while cell.startswith(LATEX_INDENT, level * len(LATEX_INDENT)):
        level += 1
    return LATEX_INDENT * level + latex_escape(cell[level * len(LATEX_INDENT):])


def to_latex(srep, view: str, depth=None) -> str:
    """A ``tabular`` (booktabs rules) with every figure in math mode, and the domain below it."""

    def lx(x, s):
        return "$" + P.to_latex(x.poly, s.symbols) + "$"

    def num(n):
        return f"${n:,}$".replace(",", "{,}")

    cols, rows, footer, shown = _cells(srep, view, lx, num, depth, LATEX_INDENT)
    spec = "".join("r" if c.numeric else "l" for c in cols)

    def line(cells, numeric):
        return " & ".join(c if (n and c.startswith("$")) else
                          ("$" + c.replace(",", "{,}") + "$" if c.startswith("[") else latex_cell(c))
                          for c, n in zip(cells, numeric)) + r" \\"

    numeric = [c.numeric for c in cols]
    out = [f"% {latex_escape(srep.report.name)}: generated by layercalc", r"\begin{tabular}{" + spec + "}",
           r"\toprule", " & ".join(latex_escape(c.header) for c in cols) + r" \\", r"\midrule"]
    out += [line(r, numeric) for r in rows]
    out += [r"\midrule", line(footer, numeric), r"\bottomrule", r"\end{tabular}"]
    if srep.symbols and srep.valid:
        out.append("")
        out.append("% valid for: " + srep.valid)
        out.append(r"Valid for $" + latex_escape(srep.valid).replace(r"\%", r"\bmod").replace("==", "=")
                   .replace(">=", r"\geq").replace("<=", r"\leq").replace("!=", r"\neq").replace(" and ", r",\ ")
                   + "$.")
    return "\n".join(out)


def render(srep, view: str, fmt: str, width: int | None = None, color: bool | None = None,
           depth=None) -> str | None:
    """``depth`` as for the concrete reports (:func:`layercalc.render.columns.view_rows`): None lists
    every layer; json always has every layer and the block tree."""
    if fmt == "json":
        return to_json(srep)
    if fmt == "csv":
        return to_csv(srep, view, depth)
    if fmt == "markdown":
        return to_markdown(srep, view, depth)
    if fmt == "latex":
        return to_latex(srep, view, depth)
    print_table(srep, view, width=width, color=color, depth=depth)
    return None
