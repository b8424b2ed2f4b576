"""`export` and `import`: the PyTorch bridge (layercalc.bridge)."""

from typing import List, Optional

import typer

from .options import DimOpt, SpecArg, VarOpt, check_choice, fail, parse_pairs

EXPORT_HELP = """Write a spec as a standalone PyTorch module (Python source that imports only torch).

The module defines one nn.Module class per block and `class Model(nn.Module)`, built with no
arguments (the spec's dims and vars are keyword arguments with the spec's defaults), whose forward
takes the inputs in declared order and returns the outputs; `example_inputs(**dims)` returns zero
tensors of the inputs' shapes. Attribute names are the spec's layer names. Examples:

  layercalc export specs/resnet18.yaml -o resnet18.py

  layercalc export specs/gpt2-small.yaml --var layers=2 | python -c "import sys; exec(sys.stdin.read())"
"""


def register(app) -> None:
    @app.command(help=EXPORT_HELP)
    def export(spec: str = SpecArg,
               output: Optional[str] = typer.Option(None, "--output", "-o", metavar="FILE",
                                                    help="Write the module to FILE (default: standard output)."),
               to: str = typer.Option("pytorch", "--to", help="Target framework: pytorch."),
               dim: Optional[List[str]] = DimOpt, var: Optional[List[str]] = VarOpt):
        from ..bridge.export import export as run_export
        from ..errors import SpecError

        check_choice(to, ("pytorch",), "--to")
        dims, vars_ = parse_pairs(dim, "--dim", True), parse_pairs(var, "--var", False)
        try:
            text = run_export(spec, dims=dims, vars=vars_)
        except SpecError as exc:
            fail(str(exc))
        _write(text, output)


def _write(text: str, output: Optional[str]) -> None:
    if output is None or output == "-":
        typer.echo(text, nl=False)
        return
    try:
        with open(output, "w", encoding="utf-8") as fh:
            fh.write(text)
    except OSError as exc:
        fail(f"cannot write {output}: {exc.strerror or exc}", 2)
