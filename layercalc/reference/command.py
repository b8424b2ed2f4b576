"""The `verify` command (registered on the CLI's app)."""


def register(app) -> None:
    """Add the `verify` command to ``app``."""
