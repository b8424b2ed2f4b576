"""`shape`, `params`, `flops` and `summary`: one report, four views of its columns."""

from typing import List, Optional

import typer

from .options import (DepthOpt, DimOpt, DtypeOpt, FormatOpt, MaxLayersOpt, REPORT_FORMATS, SpecArg, VarOpt,
                      analyze_or_exit, check_choice, fail, parse_depth, parse_pairs)

VIEWS = (
    ("shape", "Per-layer input and output shapes (named extra outputs too); --receptive-field for convolutional "
              "graphs."),
    ("params", "Per-layer parameters (trainable and not), buffers and bytes."),
    ("flops", "Per-layer MACs, FLOPs and their share of the total."),
    ("summary", "Shapes, parameters, buffers, MACs and FLOPs of every layer, with totals."),
)

ReceptiveFieldOpt = typer.Option(False, "--receptive-field", help="Per layer: the receptive field, effective stride "
                                 "and effective padding of its output in input positions, through skips and "
                                 "concatenations (the largest over the paths); '-' where positions mix.")


def _render(report, view: str, fmt: str, folding) -> None:
    from ..render import DEFAULT, render

    text = render(report, view, fmt, depth=DEFAULT if folding is None else folding)
    if text is not None:
        typer.echo(text)


def _report_command(view: str, doc: str):
    """One report command (the four differ only in the columns of their view)."""

    def command(spec: str = SpecArg, fmt: str = FormatOpt, dim: Optional[List[str]] = DimOpt,
                var: Optional[List[str]] = VarOpt, dtype: str = DtypeOpt, max_layers: int = MaxLayersOpt,
                depth: Optional[str] = DepthOpt):
        check_choice(fmt, REPORT_FORMATS, "--format")
        folding = parse_depth(depth)
        _render(analyze_or_exit(spec, dim, var, dtype, max_layers), view, fmt, folding)

    def shape(spec: str = SpecArg, fmt: str = FormatOpt, dim: Optional[List[str]] = DimOpt,
              var: Optional[List[str]] = VarOpt, dtype: str = DtypeOpt, max_layers: int = MaxLayersOpt,
              depth: Optional[str] = DepthOpt, receptive_field: bool = ReceptiveFieldOpt):
        check_choice(fmt, REPORT_FORMATS, "--format")
        folding = parse_depth(depth)
        if receptive_field:
            _receptive_fields(spec, fmt, dim, var, max_layers)
            return
        _render(analyze_or_exit(spec, dim, var, dtype, max_layers), view, fmt, folding)

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
