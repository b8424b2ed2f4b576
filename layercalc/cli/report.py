"""`shape`, `params`, `flops` and `summary`: one report, four views of its columns."""

from typing import List, Optional

import typer

from .options import (DepthOpt, DimOpt, DtypeOpt, FormatOpt, MaxLayersOpt, REPORT_FORMATS, SpecArg, SymbolicOpt,
                      VarOpt, analyze_or_exit, analyze_symbolic_or_exit, check_choice, parse_depth)

FORMATS = REPORT_FORMATS + ("latex",)

VIEWS = (
    ("shape", "Per-layer input and output shapes (named extra outputs too)."),
    ("params", "Per-layer parameters (trainable and not), buffers and bytes."),
    ("flops", "Per-layer MACs, FLOPs and their share of the total."),
    ("summary", "Shapes, parameters, buffers, MACs and FLOPs of every layer, with totals."),
)


def _report_command(view: str, doc: str):
    """One report command (the four differ only in the columns of their view)."""

    def command(spec: str = SpecArg, fmt: str = FormatOpt, dim: Optional[List[str]] = DimOpt,
                var: Optional[List[str]] = VarOpt, dtype: str = DtypeOpt, max_layers: int = MaxLayersOpt,
                depth: Optional[str] = DepthOpt, symbolic: Optional[str] = SymbolicOpt):
        check_choice(fmt, FORMATS, "--format")
        folding = parse_depth(depth)
        if symbolic is not None or fmt == "latex":
            if folding is not None:
                raise typer.BadParameter("--depth does not combine with --symbolic or --format latex yet; "
                                         "drop one of them", param_hint="--depth")
            srep = analyze_symbolic_or_exit(spec, symbolic, dim, var, dtype, max_layers)
            from ..symbolic.render import render as render_symbolic

            text = render_symbolic(srep, view, fmt)
            if text is not None:
                typer.echo(text)
            return
        report = analyze_or_exit(spec, dim, var, dtype, max_layers)
        from ..render import DEFAULT, render

        text = render(report, view, fmt, depth=DEFAULT if folding is None else folding)
        if text is not None:
            typer.echo(text)

    command.__doc__ = doc
    return command


def register(app) -> None:
    for view, doc in VIEWS:
        app.command(name=view)(_report_command(view, doc))
