"""The `lint` and `schema` commands (registered on the CLI's app)."""


def register(app) -> None:
    """Add the `lint` and `schema` commands to ``app``."""
