"""`explain`: the derivation of every figure of chosen layers, with the spec's values substituted."""

from typing import List, Optional

import typer

from .options import DimOpt, DtypeOpt, MaxLayersOpt, SpecArg, VarOpt, check_choice, fail, parse_pairs

EXPLAIN_FORMATS = ("text", "markdown", "json", "latex")

EXPLAIN_HELP = """How each figure of a layer's row is computed: the arithmetic of its rule with the spec's values
substituted, step by step.

For every chosen layer (default: all; LAYER is a name, a block instance such as layer1, which
expands to its layers, or a glob such as 'layer1.*'): the input and output shapes, the arguments
inferred from the input and where they came from, then each computed output size, the
parameters (per tensor and in total), buffers, MACs and FLOPs, each as an expression and its
value. The expression is the rule's own arithmetic, recorded while it computes the number.
With --memory, also the bytes of activations the layer saves for backward (the memory
analysis's arithmetic on the layer's shapes; each storage counted once, at its first saver).

Examples:

  layercalc explain specs/resnet18.yaml conv1

  layercalc explain specs/gpt2-small.yaml 'h.0.*' --format markdown

  layercalc explain specs/lenet5.yaml --format json
"""


def register(app) -> None:
    @app.command(help=EXPLAIN_HELP)
    def explain(spec: str = SpecArg,
                layers: Optional[List[str]] = typer.Argument(None, metavar="[LAYER]...",
                                                             help="Layer names, block instances or globs (default: all)."),
                fmt: str = typer.Option("text", "--format", "-f", help="text, markdown, json or latex."),
                dim: Optional[List[str]] = DimOpt, var: Optional[List[str]] = VarOpt, dtype: str = DtypeOpt,
                max_layers: int = MaxLayersOpt,
                memory: bool = typer.Option(False, "--memory", help="Also derive the bytes each layer saves for "
                                            "backward (see `layercalc memory`)."),
                precision: str = typer.Option("fp32", "--precision", help="With --memory: the precision of the "
                                              "activations (as `layercalc memory --precision`)."),
                device: str = typer.Option("cuda", "--device", help="With --memory: cuda or cpu."),
                attention: str = typer.Option("math", "--attention", help="With --memory: math or flash.")):
        check_choice(fmt, EXPLAIN_FORMATS, "--format")
        from ..dtypes import DTYPES
        from ..errors import SpecError
        from ..symbolic import explain as lib

        check_choice(dtype, DTYPES, "--dtype")
        dims = parse_pairs(dim, "--dim", True)
        vars_ = parse_pairs(var, "--var", False)
        options = None
        if memory:
            from ..budget.analysis import Options

            try:
                options = Options(precision=precision, device=device, attention=attention)
            except ValueError as exc:
                fail(str(exc), 2)
        try:
            report, items = lib.explain(spec, layers or [], dims=dims, vars=vars_, dtype=dtype, max_layers=max_layers,
                                        memory=options)
        except lib.ExplainUsage as exc:
            raise typer.BadParameter(str(exc), param_hint="LAYER") from None
        except SpecError as exc:
            fail(str(exc))
        if fmt == "json":
            typer.echo(lib.to_json(report, items))
        elif fmt == "latex":
            typer.echo(lib.to_latex(report, items))
        else:
            typer.echo(lib.to_text(report, items, markdown=fmt == "markdown"))
