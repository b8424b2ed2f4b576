"""`layers [TYPE]`: the registry's types, one type's arguments and formulas, the FLOPs table."""

from typing import Optional

import typer

from .options import check_choice, fail


def register(app) -> None:
    @app.command()
    def layers(type_name: Optional[str] = typer.Argument(None, metavar="[TYPE]", help="A layer type, e.g. Conv2d."),
               fmt: str = typer.Option("text", "--format", "-f", help="text or json."),
               flops_table: bool = typer.Option(False, "--flops", help="Print the FLOPs convention table "
                                                "(one row per type: family, type, MACs, FLOPs) as Markdown.")):
        """The supported layer types; with TYPE, its arguments, defaults and formulas."""
        from ..docs import layer_help, layer_list, layers_json

        check_choice(fmt, ("text", "json"), "--format")
        if flops_table:
            from ..docs import flops_table_markdown

            typer.echo(flops_table_markdown(), nl=False)
            return
        if fmt == "json":
            text = layers_json(type_name) if not type_name or type_name in _registry() else None
        else:
            text = layer_help(type_name) if type_name else layer_list()
        if text is None:
            from ..errors import did_you_mean
            from ..layers import REGISTRY

            hint = did_you_mean(type_name, REGISTRY)
            fail(f"unknown layer type '{type_name}'" + (f"; {hint}" if hint else ".")
                 + " Run `layercalc layers` for the list.", 2)
        typer.echo(text)


def _registry():
    from ..layers import REGISTRY

    return REGISTRY
