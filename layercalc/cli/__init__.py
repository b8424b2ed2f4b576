"""The command line: a thin typer layer over libraries that return data.

One module per command or group (``report``: shape, params, flops, summary; ``layers``;
``verify``; ``lint``; ``schema``...), each with ``register(app)``; shared options and helpers in
:mod:`.options`. A command parses its options, calls the library, picks a renderer and maps
errors to exit codes: 0 success, 1 the spec has errors (or lint/verify found problems),
2 usage error. Libraries and renderers are imported inside the commands, so registering a
command costs nothing at start-up. No input produces a Python traceback.

Only this package imports typer.
"""

import os
import sys
from importlib import import_module

import typer

from .. import __version__

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

# The command modules, in the order of `layercalc --help`; each has `register(app)`.
COMMANDS = ("report", "memory", "explain", "diff", "graph", "verify", "lint", "layers", "schema", "bridge")


def _version(value: bool):
    if value:
        typer.echo(f"layercalc {__version__}")
        raise typer.Exit()


@app.callback()
def _root(version: bool = typer.Option(False, "--version", "-V", help="Print the version and exit.",
                                       callback=_version, is_eager=True)):
    """Shapes, parameters, buffers, MACs and FLOPs of a network written as a YAML spec."""


for _name in COMMANDS:
    import_module(f"{__name__}.{_name}").register(app)


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
