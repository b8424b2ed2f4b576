"""`diff`: what a change to a spec does to its layers, blocks and totals, with budgets on the change."""

from typing import List, Optional

import typer

from .options import DimOpt, DtypeOpt, MaxLayersOpt, VarOpt, check_choice, fail, parse_depth, parse_pairs, use_color

DIFF_FORMATS = ("table", "markdown", "json", "html")

DIFF_HELP = """Compare two specs: layers added, removed and changed, per-block and total deltas.

OLD and NEW are spec files, - for standard input, or git:REV:PATH for a spec at another revision of
the repository you are in (read with `git show REV:PATH`; PATH from the repository's root, or
./PATH from here). Layers are matched by name, then the rest by position, so a renamed layer is
reported as renamed, not as removed and added.

Budgets on the change: --max-params-increase 5% (of the old total) or an absolute 2M; the same
for --max-macs-increase and --max-flops-increase. Exit status: 0 within the budgets (and always
when only names changed), 1 a budget is exceeded or a spec has errors, 2 usage error.

Examples:

  layercalc diff specs/resnet18.yaml specs/resnet50.yaml

  layercalc diff git:main:model.yaml model.yaml -f markdown > comment.md

  layercalc diff git:HEAD~1:model.yaml model.yaml --max-params-increase 5%
"""


def register(app) -> None:
    @app.command(help=DIFF_HELP)
    def diff(
        old: str = typer.Argument(..., metavar="OLD", help="The spec before the change (file, -, or git:REV:PATH)."),
        new: str = typer.Argument(..., metavar="NEW", help="The spec after the change (file, -, or git:REV:PATH)."),
        fmt: str = typer.Option("table", "--format", "-f", help="Output format: table, markdown, json or html (one self-contained page with charts "
                                                                   "and both graphs)."),
        depth: Optional[str] = typer.Option("1", "--depth", metavar="N|all",
                                            help="Blocks listed down to this nesting level (json lists all)."),
        max_params_increase: Optional[str] = typer.Option(None, "--max-params-increase", metavar="N|P%",
                                                          help="Fail (exit 1) when params grow by more, e.g. 5% "
                                                               "or 2M."),
        max_macs_increase: Optional[str] = typer.Option(None, "--max-macs-increase", metavar="N|P%",
                                                        help="Fail (exit 1) when MACs grow by more, e.g. 1G or 10%."),
        max_flops_increase: Optional[str] = typer.Option(None, "--max-flops-increase", metavar="N|P%",
                                                         help="Fail (exit 1) when FLOPs grow by more."),
        dim: Optional[List[str]] = DimOpt, var: Optional[List[str]] = VarOpt, dtype: str = DtypeOpt,
        max_layers: int = MaxLayersOpt,
    ):
        check_choice(fmt, DIFF_FORMATS, "--format")
        if old == "-" and new == "-":
            raise typer.BadParameter("only one of OLD and NEW can be standard input", param_hint="OLD")
        folding = parse_depth(depth)
        from ..diff import check_gates, diff_specs, parse_gate
        from ..dtypes import DTYPES
        from ..errors import SpecError

        check_choice(dtype, DTYPES, "--dtype")
        gates = []
        for field, option, value in (("params", "--max-params-increase", max_params_increase),
                                     ("macs", "--max-macs-increase", max_macs_increase),
                                     ("flops", "--max-flops-increase", max_flops_increase)):
            if value is not None:
                try:
                    gates.append(parse_gate(field, value))
                except ValueError as exc:
                    raise typer.BadParameter(str(exc), param_hint=option) from None
        try:
            result = diff_specs(old, new, dims=parse_pairs(dim, "--dim", True), vars=parse_pairs(var, "--var", False),
                                dtype=dtype, max_layers=max_layers)
        except SpecError as exc:
            fail(str(exc))
        checked = check_gates(result, gates)
        level = None if folding == "all" else folding
        if fmt == "json":
            from ..render.diff import to_json

            typer.echo(to_json(result, checked))
        elif fmt == "html":
            from ..diff import read_spec
            from ..engine import load_graph
            from ..render.html import diff_page

            graphs = [None, None]
            if "-" not in (old, new):  # standard input is read once, by the comparison: no graphs then
                for k, arg in enumerate((old, new)):
                    text, label = read_spec(arg)
                    graphs[k] = load_graph(text, dims=parse_pairs(dim, "--dim", True),
                                           vars=parse_pairs(var, "--var", False), max_layers=max_layers, file=label)
            typer.echo(diff_page(result, graphs[0], graphs[1], level, checked), nl=False)
        elif fmt == "markdown":
            from ..render.diff import to_markdown

            typer.echo(to_markdown(result, level, checked))
        else:
            from ..render.diff import print_diff

            print_diff(result, level, color=use_color())
        for r in checked:
            typer.echo(("error: " if r.exceeded else "") + r.message(), err=True)
        if any(r.exceeded for r in checked):
            raise typer.Exit(1)
