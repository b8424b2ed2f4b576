"""`verify`: the reference executor's cross-check of every layer."""

from typing import List, Optional

import typer

from .options import DimOpt, MaxLayersOpt, SpecArg, VarOpt, check_choice, fail, parse_pairs


def register(app) -> None:
    @app.command()
    def verify(spec: str = SpecArg,
               budget: int = typer.Option(10**7, "--budget", min=0,
                                          help="Run the whole spec when the executor's work (products, elements times "
                                               "windows, tables) fits this budget; otherwise probe each layer "
                                               "alone at a small size."),
               fmt: str = typer.Option("table", "--format", "-f", help="Output format: table or json."),
               dim: Optional[List[str]] = DimOpt, var: Optional[List[str]] = VarOpt,
               max_layers: int = MaxLayersOpt):
        """Cross-check every layer with the reference executor (tiny forward passes); exit 1 on any mismatch."""
        from ..errors import SpecError
        from ..reference.render import Progress
        from ..verify import verify as run_verify

        check_choice(fmt, ("table", "json"), "--format")
        dims, vars_ = parse_pairs(dim, "--dim", True), parse_pairs(var, "--var", False)
        progress = Progress("verify")
        try:
            result = run_verify(spec, dims=dims, vars=vars_, budget=budget, progress=progress,
                                max_layers=max_layers)
        except SpecError as exc:
            progress.stop()
            fail(str(exc))
        progress.stop()
        if fmt == "json":
            from ..reference.render import to_json

            typer.echo(to_json(result))
        else:
            from ..reference.render import print_table

            print_table(result)
        if not result.ok:
            raise typer.Exit(1)
