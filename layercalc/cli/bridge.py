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
    register_import(app)

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


IMPORT_HELP = """Read a PyTorch model into a spec (needs torch: pip install "layercalc[torch]").

TARGET is package.module:callable or path/to/file.py:callable, a class or a factory called
with no arguments or with --arg. The model is traced with torch.fx (torch.nn modules as
leaves), run on meta tensors of the --input shapes, and written as a spec with the module
paths as layer names and repeated sub-modules as blocks. Examples:

  layercalc import torchvision.models:resnet50 --input 1,3,224,224 -o resnet50.yaml

  layercalc import model.py:Tagger --input tokens=1,32:int64 --arg vocab=5000

  layercalc import --hf path/to/config.json -o llama.yaml

With --hf CONFIG_OR_DIR (needs transformers: pip install "layercalc[hf]"), the HuggingFace model
of a config.json (the class its "architectures" names, else AutoModel) is built offline with
random weights on the meta device (nothing is downloaded) and traced with torch.export. Its
inputs are keyword arguments of its forward: by default input_ids=1,128:int64, plus position_ids
(0, 1, 2...) of the same shape, and token_type_ids where the model keeps a buffer of them (BERT);
--input NAME=SHAPE[:DTYPE] changes them (dtype int64 for *_ids), e.g. --input input_ids=4,512.

Exit status: 0, 1 when the model cannot be imported (one line per unsupported op: module path,
op, source line, fix), 2 for a usage error (missing torch or transformers, a bad TARGET, --input
or config.json, an unknown model_type).
"""


def parse_input(item: str, single: bool):
    """``NAME=SHAPE[:DTYPE]`` or, alone, ``SHAPE[:DTYPE]`` -> (name or None, shape, dtype)."""
    name, sep, rest = item.partition("=")
    if not sep:
        name, rest = None, item
    shape_text, _, dtype = rest.partition(":")
    try:
        shape = [int(d) for d in shape_text.split(",") if d.strip()]
    except ValueError:
        raise typer.BadParameter(f"{item!r}: expected NAME=D1,D2,...[:DTYPE], e.g. x=1,3,224,224",
                                 param_hint="--input") from None
    if not shape or any(d < 0 for d in shape):
        raise typer.BadParameter(f"{item!r}: expected sizes >= 0, e.g. 1,3,224,224", param_hint="--input")
    if name is not None and not name.isidentifier():
        raise typer.BadParameter(f"{item!r}: the input name {name!r} is not an identifier", param_hint="--input")
    return name, shape, dtype or None


def register_import(app) -> None:
    @app.command(name="import", help=IMPORT_HELP)
    def import_(target: Optional[str] = typer.Argument(None, metavar="TARGET",
                                                        help="module:callable or file.py:callable."),
                input: Optional[List[str]] = typer.Option(None, "--input", "-i", metavar="NAME=SHAPE[:DTYPE]",
                                                          help="An example input, e.g. x=1,3,224,224 or "
                                                               "ids=1,128:int64 (repeatable, in forward's order)."),
                arg: Optional[List[str]] = typer.Option(None, "--arg", "-a", metavar="NAME=VALUE",
                                                        help="An argument of TARGET (repeatable), e.g. "
                                                             "--arg num_classes=10."),
                dim: Optional[List[str]] = typer.Option(None, "--dim", "-d", metavar="NAME[=AXIS]",
                                                        help="Write the size of this axis (default 0) of the "
                                                             "inputs as a dim, e.g. --dim B (repeatable)."),
                hf: Optional[str] = typer.Option(None, "--hf", metavar="CONFIG_OR_DIR",
                                                 help="Build a HuggingFace transformers model from its config.json "
                                                      "(a file or its directory), offline, on the meta device."),
                output: Optional[str] = typer.Option(None, "--output", "-o", metavar="FILE",
                                                     help="Write the spec to FILE (default: standard output)."),
                name: Optional[str] = typer.Option(None, "--name", help="The spec's name.")):
        if (target is None) == (hf is None):
            raise typer.BadParameter("give a TARGET or --hf CONFIG, not both or neither", param_hint="TARGET")
        inputs = [parse_input(item, len(input or []) == 1) for item in input or []]
        if not inputs and hf is None:
            raise typer.BadParameter("give the example inputs, e.g. --input 1,3,224,224", param_hint="--input")
        if hf is not None and arg:
            raise typer.BadParameter("--arg is for a TARGET; --hf builds the model from its config alone",
                                     param_hint="--arg")
        args = {}
        for item in arg or []:
            key, sep, value = item.partition("=")
            if not sep or not key.strip().isidentifier():
                raise typer.BadParameter(f"expected NAME=VALUE, got {item!r}", param_hint="--arg")
            from ..bridge.target import parse_value

            args[key.strip()] = parse_value(value)
        dims = {}
        for item in dim or []:
            key, sep, axis = item.partition("=")
            if not key.isidentifier() or (sep and not axis.strip().isdigit()):
                raise typer.BadParameter(f"expected NAME or NAME=AXIS, got {item!r}", param_hint="--dim")
            dims[key] = int(axis) if sep else 0
        from ..bridge.errors import BridgeError, ImportFailed

        try:
            from ..bridge.errors import require_torch

            require_torch()
            if hf is not None:
                from ..bridge.hf import read_hf

                text = read_hf(hf, inputs, name=name, dims=dims)
                _write(text, output)
                return
            from ..bridge.api import read_model

            names = [n for n, _, _ in inputs]
            if any(n is None for n in names):
                if len(inputs) > 1:
                    raise BridgeError("several --input need names: --input x=1,3,224,224 --input y=...")
                names = None
            shapes = [(shape, dtype or "float32") for _, shape, dtype in inputs]
            from ..bridge.target import build

            model = build(target, args)
            header = f"imported by `layercalc import {target}`" + "".join(
                f" --arg {k}={v!r}" for k, v in args.items())
            text = read_model(model, shapes, name=name or target.rpartition(":")[2], dims=dims,
                              header=header, input_names=names)
        except BridgeError as exc:
            fail(f"layercalc import: {exc}", 2)
        except ImportFailed as exc:
            fail(f"layercalc import: {exc}", 1)
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
