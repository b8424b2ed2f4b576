"""Renderers: a Report in, text out. ``RENDERERS`` maps a --format name to its function.

Views select the columns: ``shape``, ``params``, ``flops`` and ``summary``
(all of them). JSON is always the whole report, whatever the view.
"""

from __future__ import annotations

VIEWS = ("shape", "params", "flops", "summary")
FORMATS = ("table", "json", "csv", "markdown")


def render(report, view: str, fmt: str, width: int | None = None, color: bool | None = None) -> str | None:
    """Return the report as text in ``fmt``; ``table`` prints directly and returns None."""
    if fmt == "json":
        from .plain import to_json

        return to_json(report)
    if fmt == "csv":
        from .plain import to_csv

        return to_csv(report, view)
    if fmt == "markdown":
        from .plain import to_markdown

        return to_markdown(report, view)
    from .table import print_table

    print_table(report, view, width=width, color=color)
    return None
