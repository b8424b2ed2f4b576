"""`schema`: the JSON Schema of the spec format, for editors and validators."""

import typer


def register(app) -> None:
    @app.command()
    def schema(indent: int = typer.Option(2, "--indent", min=0, max=16,
                                    help="Indentation of the JSON, 0 to 16 spaces (0: one line).")):
        """JSON Schema (draft-07) of the spec format, for editors (yaml-language-server) and validators."""
        import json

        from ..schema import spec_schema

        typer.echo(json.dumps(spec_schema(), indent=indent or None))
