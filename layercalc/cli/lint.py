"""`lint`: every problem of every spec file, for CI, pre-commit and editors."""

import sys
from typing import List, Optional

import typer

from .options import fail, use_color

LINT_HELP = """Check spec files for CI: every problem of every file, with stable codes.

PATH is a spec file, a directory (searched recursively for *.yaml and *.yml), a glob, or - for standard input.
In directories and globs only layercalc specs (YAML with a top-level `layercalc:` key) are checked; other
YAML files (CI workflows, .pre-commit-config.yaml, docker-compose files) are passed over silently (--verbose
lists them). A file named explicitly that is not a spec is an error, unless --specs-only.
Prints `path:line:col: CODE level: message [slug]` lines sorted by file and position, then a summary.
Exit status: 0 no problems (warnings allowed unless --strict), 1 problems found, 2 usage error.

Budgets and code selection can also be set in [tool.layercalc] of the nearest pyproject.toml,
with per-file overrides in [tool.layercalc.per-file."specs/big/*.yaml"]. `--explain CODE` describes a code.

Examples:

  layercalc lint specs/

  layercalc lint specs/ --max-params 25M --max-macs 5G --format github

  layercalc lint --explain W002
"""


def register(app) -> None:
    @app.command(help=LINT_HELP)
    def lint(
        paths: Optional[List[str]] = typer.Argument(None, metavar="PATH...", show_default=False,
                                                    help="Spec files, directories, globs, or - for standard input."),
        fmt: str = typer.Option("text", "--format", "-f", metavar="FORMAT",
                                help="text, github, json, sarif, junit, or auto (github inside GitHub Actions, "
                                     "text elsewhere)."),
        select: Optional[List[str]] = typer.Option(None, "--select", metavar="CODES",
                                                   help="Report only these B/W codes, prefixes or slugs "
                                                        "(comma-separated or repeated). Default: all but W001."),
        ignore: Optional[List[str]] = typer.Option(None, "--ignore", metavar="CODES",
                                                   help="Do not report these B/W codes, prefixes or slugs."),
        strict: bool = typer.Option(False, "--strict", help="Warnings fail too (exit 1)."),
        exit_zero: bool = typer.Option(False, "--exit-zero", help="Exit 0 even when problems are found."),
        max_params: Optional[str] = typer.Option(None, "--max-params", metavar="N",
                                                 help="Budget of parameters per spec, e.g. 25M (B001)."),
        max_macs: Optional[str] = typer.Option(None, "--max-macs", metavar="N",
                                               help="Budget of MACs per forward pass, e.g. 4.5G (B002)."),
        max_param_bytes: Optional[str] = typer.Option(None, "--max-param-bytes", metavar="N",
                                                      help="Budget of parameter bytes, e.g. 100MiB (B003)."),
        dtype: Optional[str] = typer.Option(None, "--dtype", metavar="DTYPE", help="Parameter dtype for the byte budget "
                                                                  "(default float32)."),
        max_layers: Optional[int] = typer.Option(None, "--max-layers", min=1,
                                                 help="Cap on the number of layers after expansion (G006)."),
        config: Optional[str] = typer.Option(None, "--config", metavar="FILE",
                                             help="Read [tool.layercalc] from this TOML file instead of the "
                                                  "nearest pyproject.toml."),
        isolated: bool = typer.Option(False, "--isolated", help="Ignore pyproject.toml."),
        verbose: bool = typer.Option(False, "--verbose", "-v", help="List the YAML files passed over because they "
                                                                    "are not layercalc specs (on standard error)."),
        specs_only: bool = typer.Option(False, "--specs-only", help="Pass over named files that are not layercalc "
                                                                    "specs too, as in directories (for pre-commit, "
                                                                    "which names every YAML file)."),
        explain: Optional[str] = typer.Option(None, "--explain", metavar="CODE",
                                              help="Explain a code (W002), a slug or a prefix (W), and exit."),
    ):
        if explain is not None:
            from ..lint.explain import explain_text

            text = explain_text(explain)
            if text is None:
                from ..codes import CODES
                from ..errors import did_you_mean

                hint = did_you_mean(explain, list(CODES) + [c.slug for c in CODES.values()])
                fail(f"layercalc lint: unknown code '{explain}'" + (f"; {hint}" if hint else ".")
                     + " The codes are listed in docs/lint.md.", 2)
            typer.echo(text)
            return
        from ..lint.reporters import FORMATS, REPORTER_BY_NAME, resolve_format

        if fmt not in FORMATS:
            raise typer.BadParameter(f"{fmt!r} is not one of {', '.join(FORMATS)}", param_hint="--format")
        if not paths:
            raise typer.BadParameter("give at least one spec file, directory or glob", param_hint="PATH...")
        from ..lint.config import ConfigError, apply_cli, load_settings
        from ..lint.run import lint_paths

        try:
            settings = load_settings(config, isolated)
            settings = apply_cli(settings, {"max-params": max_params, "max-macs": max_macs,
                                            "max-param-bytes": max_param_bytes}, dtype, select, ignore, strict,
                                 max_layers)
        except ConfigError as exc:
            fail(f"layercalc lint: {exc}", 2)
        result, notes = lint_paths(paths, settings, specs_only)
        for note in notes:
            typer.echo(f"layercalc lint: {note}", err=True)
        if verbose:
            for path, why in result.skipped:
                typer.echo(f"layercalc lint: skipped {path}: {why}", err=True)
        if not result.files:
            if not result.skipped:
                fail("layercalc lint: no spec files to check", 2)
            n = len(result.skipped)
            typer.echo(f"layercalc lint: no layercalc spec among the {n} YAML file{'s' if n != 1 else ''} found"
                       + ("" if verbose else " (--verbose lists them)"), err=True)
        name = resolve_format(fmt)
        color = name == "text" and use_color()
        REPORTER_BY_NAME[name](result, sys.stdout, color)
        sys.stdout.flush()
        raise typer.Exit(result.exit_code(exit_zero))
