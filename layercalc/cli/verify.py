"""`verify`: the reference executor's cross-check of every layer, for one spec, several, or a folder."""

from typing import List, Optional

import typer

from .options import DimOpt, MaxLayersOpt, VarOpt, check_choice, fail, parse_pairs

SpecsArg = typer.Argument(..., metavar="SPEC...",
                          help="Spec files or folders (every *.yaml / *.yml inside, recursively), or - for "
                               "standard input.")


def spec_files(items: List[str]) -> List[str]:
    """The spec files named on the command line, folders expanded to their YAML files in sorted order."""
    from pathlib import Path

    out = []
    for item in items:
        path = Path(item)
        if item != "-" and path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())
            if not found:
                raise typer.BadParameter(f"the folder {item} holds no .yaml or .yml file", param_hint="SPEC")
            out += [str(p) for p in found]
        else:
            out.append(item)
    return out


def register(app) -> None:
    @app.command()
    def verify(specs: List[str] = SpecsArg,
               budget: int = typer.Option(10**7, "--budget", min=0,
                                          help="Run the whole spec when the executor's work (products, elements "
                                               "times windows, tables) fits this budget; otherwise probe each "
                                               "layer alone at a small size."),
               fmt: str = typer.Option("table", "--format", "-f", help="Output format: table or json."),
               dim: Optional[List[str]] = DimOpt, var: Optional[List[str]] = VarOpt,
               max_layers: int = MaxLayersOpt):
        """Cross-check every layer with the reference executor (tiny forward passes); exit 1 on any mismatch.

        Several specs, or a folder, are checked one after the other (`layercalc verify specs/`).
        """
        import json

        from ..errors import SpecError
        from ..reference.render import Progress, print_table
        from ..verify import verify as run_verify

        check_choice(fmt, ("table", "json"), "--format")
        dims, vars_ = parse_pairs(dim, "--dim", True), parse_pairs(var, "--var", False)
        files = spec_files(specs)
        results, failed = [], False
        for path in files:
            progress = Progress(f"verify {path}" if len(files) > 1 else "verify")
            try:
                result = run_verify(path, dims=dims, vars=vars_, budget=budget, progress=progress,
                                    max_layers=max_layers)
            except SpecError as exc:
                progress.stop()
                if len(files) == 1:
                    fail(str(exc))
                typer.echo(str(exc), err=True)
                results.append({"file": path, "ok": False, "error": str(exc)})
                failed = True
                continue
            progress.stop()
            failed = failed or not result.ok
            if fmt == "json":
                results.append(result.to_dict())
            else:
                print_table(result)
        if fmt == "json":
            doc = results[0] if len(files) == 1 else {"ok": not failed, "files": results}
            typer.echo(json.dumps(doc, indent=2, default=list))
        elif len(files) > 1:
            typer.echo(f"{len(files)} specs: " + ("all agree with the reference executor" if not failed
                                                   else "some disagree or failed (see above)"))
        if failed:
            raise typer.Exit(1)
