"""`shape`, `params`, `flops` and `summary`: one report, four views of its columns."""

from typing import List, Optional

import typer

from .options import (DepthOpt, DimOpt, DtypeOpt, MaxLayersOpt, REPORT_FORMATS, SpecArg, SymbolicOpt,
                      VarOpt, analyze_or_exit, analyze_symbolic_or_exit, check_choice, fail, parse_depth,
                      parse_pairs)

FORMATS = REPORT_FORMATS + ("latex", "html")

VIEWS = (
    ("shape", "Per-layer input and output shapes (named extra outputs too); --receptive-field for convolutional "
              "graphs."),
    ("params", "Per-layer parameters (trainable and not), buffers and bytes."),
    ("flops", "Per-layer MACs, FLOPs and their share of the total."),
    ("summary", "Shapes, parameters, buffers, MACs and FLOPs of every layer, with totals."),
)

ReportFormatOpt = typer.Option("table", "--format", "-f", help="Output format: table, json, csv, markdown, latex "
                               "(with --symbolic) or html (one self-contained page: totals, the table folded by "
                               "block, charts and the graph).")
ReceptiveFieldOpt = typer.Option(False, "--receptive-field", help="Per layer: the receptive field, effective stride "
                                 "and effective padding of its output in input positions, through skips and "
                                 "concatenations (the largest over the paths); '-' where positions mix.")


def _run(view: str, spec: str, fmt: str, dim, var, dtype: str, max_layers: int, depth, symbolic) -> None:
    check_choice(fmt, FORMATS, "--format")
    folding = parse_depth(depth)
    if fmt == "html":
        if symbolic is not None:
            raise typer.BadParameter("--format html shows concrete numbers; drop --symbolic", param_hint="--symbolic")
        _html(view, spec, dim, var, dtype, max_layers)
        return
    if symbolic is not None or fmt == "latex":
        srep = analyze_symbolic_or_exit(spec, symbolic, dim, var, dtype, max_layers)
        from ..symbolic.render import render as render_symbolic

        text = render_symbolic(srep, view, fmt, depth=("auto" if fmt == "table" else None) if folding is None
                               else folding)
        if text is not None:
            typer.echo(text)
        return
    report = analyze_or_exit(spec, dim, var, dtype, max_layers)
    from ..render import DEFAULT, render

    text = render(report, view, fmt, depth=DEFAULT if folding is None else folding)
    if text is not None:
        typer.echo(text)


def _html(view: str, spec: str, dim, var, dtype: str, max_layers: int) -> None:
    """One self-contained page: totals, the table folded by block, charts and the graph."""
    from ..dtypes import DTYPES
    from ..errors import SpecError
    from ..render.html import report_html

    check_choice(dtype, DTYPES, "--dtype")
    try:
        text = report_html(spec, view, parse_pairs(dim, "--dim", True), parse_pairs(var, "--var", False), dtype,
                           max_layers)
    except SpecError as exc:
        fail(str(exc))
    typer.echo(text, nl=False)


def _report_command(view: str, doc: str):
    """One report command (the four differ only in the columns of their view; `shape` also
    takes --receptive-field)."""

    def command(spec: str = SpecArg, fmt: str = ReportFormatOpt, dim: Optional[List[str]] = DimOpt,
                var: Optional[List[str]] = VarOpt, dtype: str = DtypeOpt, max_layers: int = MaxLayersOpt,
                depth: Optional[str] = DepthOpt, symbolic: Optional[str] = SymbolicOpt):
        _run(view, spec, fmt, dim, var, dtype, max_layers, depth, symbolic)

    def shape(spec: str = SpecArg, fmt: str = ReportFormatOpt, dim: Optional[List[str]] = DimOpt,
              var: Optional[List[str]] = VarOpt, dtype: str = DtypeOpt, max_layers: int = MaxLayersOpt,
              depth: Optional[str] = DepthOpt, symbolic: Optional[str] = SymbolicOpt,
              receptive_field: bool = ReceptiveFieldOpt):
        if receptive_field:
            check_choice(fmt, REPORT_FORMATS, "--format")
            _receptive_fields(spec, fmt, dim, var, max_layers)
            return
        _run(view, spec, fmt, dim, var, dtype, max_layers, depth, symbolic)

    chosen = shape if view == "shape" else command
    chosen.__doc__ = doc
    return chosen


def _receptive_fields(spec: str, fmt: str, dim, var, max_layers: int) -> None:
    from ..errors import SpecError
    from ..receptive import fields_of
    from ..render import receptive as r

    try:
        report, image, rows, note = fields_of(spec, parse_pairs(dim, "--dim", True), parse_pairs(var, "--var", False),
                                              max_layers)
    except SpecError as exc:
        fail(str(exc))
    if fmt == "json":
        typer.echo(r.to_json(report.name, image, rows, note))
    elif fmt == "csv":
        typer.echo(r.to_csv(rows))
    elif fmt == "markdown":
        typer.echo(r.to_markdown(report.name, image, rows, note))
    else:
        r.print_fields(report.name, image, rows, note)


def register(app) -> None:
    for view, doc in VIEWS:
        app.command(name=view)(_report_command(view, doc))
