"""The command line: a thin layer over the library.

Each command parses its options, calls the library, picks a renderer and maps
errors to exit codes: 0 success, 1 the spec has errors (or lint/verify found
problems), 2 usage error. No input produces a Python traceback.
"""


import os
import sys
from typing import List, Optional

import typer

from . import __version__

HELP = """Shapes, parameters, buffers, MACs and FLOPs of a neural network written as a YAML spec, without a framework.

Layers are named and configured as in torch.nn. Examples:

  layercalc summary specs/resnet18.yaml

  layercalc shape model.yaml --dim B=8 --format json

  cat model.yaml | layercalc params -

  layercalc layers Conv2d

  layercalc verify specs/lenet5.yaml

  layercalc lint specs/ --format github

Every error names its place in the spec (file:line:col). Exit status: 0 success,
1 the spec has errors (or lint/verify found problems), 2 usage error.
"""

app = typer.Typer(help=HELP, no_args_is_help=True, add_completion=False, rich_markup_mode=None,
                  context_settings={"help_option_names": ["-h", "--help"]})

FORMATS = ("table", "json", "csv", "markdown")
DTYPES = ("float16", "bfloat16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool")


def _version(value: bool):
    if value:
        typer.echo(f"layercalc {__version__}")
        raise typer.Exit()


@app.callback()
def _root(version: bool = typer.Option(False, "--version", "-V", help="Print the version and exit.",
                                       callback=_version, is_eager=True)):
    """Shapes, parameters, buffers, MACs and FLOPs of a network written as a YAML spec."""


def fail(message: str, code: int = 1):
    typer.echo(message, err=True)
    raise typer.Exit(code)


def _pairs(items: Optional[List[str]], option: str, integer: bool) -> dict:
    out = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep or not name:
            raise typer.BadParameter(f"expected NAME=VALUE, got {item!r}", param_hint=option)
        try:
            out[name] = int(value) if integer else (int(value) if value.strip().lstrip("+-").isdigit() else float(value))
        except ValueError:
            kind = "an integer" if integer else "a number"
            raise typer.BadParameter(f"{name}={value!r}: expected {kind}", param_hint=option) from None
        if integer and out[name] < 1:
            raise typer.BadParameter(f"{name}={value}: a dim must be >= 1", param_hint=option)
    return out


def _check_choice(value: str, choices, option: str) -> str:
    if value not in choices:
        raise typer.BadParameter(f"{value!r} is not one of {', '.join(choices)}", param_hint=option)
    return value


SpecArg = typer.Argument(..., metavar="SPEC", help="The spec file, or - to read it from standard input.")
FormatOpt = typer.Option("table", "--format", "-f", help="Output format: table, json, csv or markdown.")
DimOpt = typer.Option(None, "--dim", "-d", metavar="NAME=VALUE", help="Override a dim, e.g. --dim B=8 (repeatable).")
VarOpt = typer.Option(None, "--var", metavar="NAME=VALUE", help="Override a var, e.g. --var w=128 (repeatable).")
DtypeOpt = typer.Option("float32", "--dtype", help="Parameter dtype for the byte counts (float32, float16, bfloat16...).")
MaxLayersOpt = typer.Option(100_000, "--max-layers", min=1, help="Cap on the number of layers after expansion.")


def analyze_or_exit(spec: str, dim, var, dtype: str, max_layers: int):
    from .engine import analyze
    from .errors import SpecError

    _check_choice(dtype, DTYPES, "--dtype")
    dims = _pairs(dim, "--dim", True)
    vars_ = _pairs(var, "--var", False)
    try:
        return analyze(spec, dims=dims, vars=vars_, dtype=dtype, max_layers=max_layers)
    except SpecError as exc:
        fail(str(exc))


def _report(view: str, spec, fmt, dim, var, dtype, max_layers):
    _check_choice(fmt, FORMATS, "--format")
    report = analyze_or_exit(spec, dim, var, dtype, max_layers)
    from .render import render

    text = render(report, view, fmt)
    if text is not None:
        typer.echo(text)


def _report_command(view: str, doc: str):
    """One report command (the four differ only in the columns of their view)."""

    def command(spec: str = SpecArg, fmt: str = FormatOpt, dim: Optional[List[str]] = DimOpt,
                var: Optional[List[str]] = VarOpt, dtype: str = DtypeOpt, max_layers: int = MaxLayersOpt):
        _report(view, spec, fmt, dim, var, dtype, max_layers)

    command.__doc__ = doc
    return command


for _view, _doc in (
    ("shape", "Per-layer input and output shapes (named extra outputs too)."),
    ("params", "Per-layer parameters (trainable and not), buffers and bytes."),
    ("flops", "Per-layer MACs, FLOPs and their share of the total."),
    ("summary", "Shapes, parameters, buffers, MACs and FLOPs of every layer, with totals."),
):
    app.command(name=_view)(_report_command(_view, _doc))


@app.command()
def layers(type_name: Optional[str] = typer.Argument(None, metavar="[TYPE]", help="A layer type, e.g. Conv2d."),
           fmt: str = typer.Option("text", "--format", "-f", help="text or json."),
           flops_table: bool = typer.Option(False, "--flops", help="Print the FLOPs convention table "
                                            "(one row per type: family, type, MACs, FLOPs) as Markdown.")):
    """The supported layer types; with TYPE, its arguments, defaults and formulas."""
    from .docs import layer_help, layer_list, layers_json

    _check_choice(fmt, ("text", "json"), "--format")
    if flops_table:
        from .docs import flops_table_markdown

        typer.echo(flops_table_markdown(), nl=False)
        return
    if fmt == "json":
        typer.echo(layers_json(type_name))
        return
    text = layer_help(type_name) if type_name else layer_list()
    if text is None:
        from .errors import did_you_mean
        from .layers import REGISTRY

        hint = did_you_mean(type_name, REGISTRY)
        fail(f"unknown layer type '{type_name}'" + (f"; {hint}" if hint else "") + ". Run `layercalc layers` for the list.",
             2)
    typer.echo(text)


# --- commands of other modules: each module's register(app) adds its commands ---------
# (their heavy imports happen inside the commands, so start-up stays cheap)

from .reference import command as _verify_command  # noqa: E402
from .lint import command as _lint_command  # noqa: E402

_verify_command.register(app)
_lint_command.register(app)


def main():
    """Console entry point: never lets a traceback reach the user."""
    import gc

    # A short-lived process whose memory is bounded by the spec (1 MiB, --max-layers): the cyclic
    # collector's passes over many small objects only cost time (a third of a 20,000-layer run).
    gc.disable()
    try:
        app()
    except SystemExit:
        raise
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        sys.exit(130)
    except BrokenPipeError:  # `layercalc ... | head`: the reader left; stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(1)
    except Exception as exc:  # noqa: BLE001 - the last guard of "never a traceback"
        if os.environ.get("LAYERCALC_DEBUG"):
            raise
        sys.stderr.write(f"layercalc: internal error: {type(exc).__name__}: {exc}\n"
                         "This is a bug in layercalc; set LAYERCALC_DEBUG=1 to see the traceback.\n")
        sys.exit(1)


if __name__ == "__main__":  # pragma: no cover
    main()
