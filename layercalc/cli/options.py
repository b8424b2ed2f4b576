"""Options and helpers shared by the commands: the spec argument, --format, --dim, --var,
--dtype, --max-layers, and the one way a command reports a usage or spec error."""

from typing import List, Optional

import typer

REPORT_FORMATS = ("table", "json", "csv", "markdown")

SpecArg = typer.Argument(..., metavar="SPEC", help="The spec file, or - to read it from standard input.")
FormatOpt = typer.Option("table", "--format", "-f", help="Output format: table, json, csv or markdown.")
DimOpt = typer.Option(None, "--dim", "-d", metavar="NAME=VALUE", help="Override a dim, e.g. --dim B=8 (repeatable).")
VarOpt = typer.Option(None, "--var", metavar="NAME=VALUE", help="Override a var, e.g. --var w=128 (repeatable).")
DtypeOpt = typer.Option("float32", "--dtype", help="Parameter dtype for the byte counts (float32, float16, bfloat16...).")
SymbolicOpt = typer.Option(None, "--symbolic", "-s", metavar="DIM,...",
                           help="Keep these dims symbolic (or 'all'): shapes, MACs and FLOPs become exact formulas in "
                                "them, with the domain where they hold, e.g. --symbolic B,T.")
MaxLayersOpt = typer.Option(100_000, "--max-layers", min=1, help="Cap on the number of layers after expansion.")
DepthOpt = typer.Option(None, "--depth", metavar="N|all",
                        help="Fold block instances and repeats deeper than N into one row each (0: totals only; "
                             "all: every level). Default: a table picks a readable depth; csv and markdown list "
                             "every layer. JSON always has every layer and the block tree.")


def parse_depth(value: Optional[str]):
    """``--depth``: None (the format's default), ``"all"`` or an int >= 0; anything else is a usage error."""
    if value is None:
        return None
    text = value.strip().lower()
    if text == "all":
        return "all"
    if not text.isdigit():
        raise typer.BadParameter(f"{value!r}: expected a number >= 0 or 'all'", param_hint="--depth")
    return int(text)


def fail(message: str, code: int = 1):
    """Print ``message`` on standard error and exit with ``code`` (1: the spec, 2: usage)."""
    typer.echo(message, err=True)
    raise typer.Exit(code)


def parse_pairs(items: Optional[List[str]], option: str, integer: bool) -> dict:
    """``["B=8", "w=64"]`` -> ``{"B": 8, "w": 64}``; a usage error names the option."""
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
        if not abs(out[name]) <= 10**18:  # also refuses nan
            raise typer.BadParameter(f"{name}={value}: expected a value up to 10**18 in absolute value",
                                     param_hint=option)
    return out


def check_choice(value: str, choices, option: str) -> str:
    """A usage error (exit 2) unless ``value`` is one of ``choices``."""
    if value not in choices:
        raise typer.BadParameter(f"{value!r} is not one of {', '.join(choices)}", param_hint=option)
    return value


def analyze_or_exit(spec: str, dim, var, dtype: str, max_layers: int):
    """Analyze ``spec`` with the command line's overrides; a spec error exits 1 with its location."""
    from ..dtypes import DTYPES
    from ..engine import analyze
    from ..errors import SpecError

    check_choice(dtype, DTYPES, "--dtype")
    dims = parse_pairs(dim, "--dim", True)
    vars_ = parse_pairs(var, "--var", False)
    try:
        return analyze(spec, dims=dims, vars=vars_, dtype=dtype, max_layers=max_layers)
    except SpecError as exc:
        fail(str(exc))


def analyze_symbolic_or_exit(spec: str, symbolic: str, dim, var, dtype: str, max_layers: int):
    """The symbolic analysis (``--symbolic``): a usage error exits 2, a spec error 1, both located."""
    from ..dtypes import DTYPES
    from ..symbolic.analyze import analyze_symbolic

    check_choice(dtype, DTYPES, "--dtype")
    dims = parse_pairs(dim, "--dim", True)
    vars_ = parse_pairs(var, "--var", False)
    return symbolic_or_exit(analyze_symbolic, spec, symbolic, dims=dims, vars=vars_, dtype=dtype,
                            max_layers=max_layers)


def symbolic_or_exit(analysis, spec: str, symbolic: str, **options):
    """``analysis(spec, symbols, **options)`` for ``--symbolic``: a usage error (an unknown dim) exits 2 at
    --symbolic, a spec error 1, located, and another bad value 2."""
    from ..errors import SpecError
    from ..symbolic.analyze import SymbolicUsage, parse_symbols

    try:
        return analysis(spec, parse_symbols(symbolic), **options)
    except SymbolicUsage as exc:
        raise typer.BadParameter(str(exc), param_hint="--symbolic") from None
    except SpecError as exc:
        fail(str(exc))
    except ValueError as exc:
        fail(str(exc), 2)


def use_color() -> bool:
    """Colour on a terminal, unless NO_COLOR; FORCE_COLOR forces it."""
    import os
    import sys

    if os.environ.get("NO_COLOR"):
        return False
    return bool(os.environ.get("FORCE_COLOR")) or sys.stdout.isatty()
