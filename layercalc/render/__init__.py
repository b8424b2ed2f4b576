"""Renderers: a Report in, text out. ``RENDERERS`` maps a --format name to its function.

Views select the columns: ``shape``, ``params``, ``flops`` and ``summary``
(all of them). JSON is always the whole report, whatever the view and the
depth: every leaf row in ``layers`` and the block structure in ``tree``.

``depth`` folds block instances and repeats (see :func:`.columns.view_rows`):
an int, ``"all"``, ``"auto"`` or ``None`` (flat). Tables default to ``"auto"``
(a depth that keeps them readable), CSV and Markdown to ``None``.
"""

from __future__ import annotations

VIEWS = ("shape", "params", "flops", "summary")
FORMATS = ("table", "json", "csv", "markdown")


DEFAULT = "default"


def render(report, view: str, fmt: str, width: int | None = None, color: bool | None = None,
           depth=DEFAULT) -> str | None:
    """Return the report as text in ``fmt``; ``table`` prints directly and returns None."""
    if fmt == "json":
        from .plain import to_json

        return to_json(report)
    if fmt == "csv":
        from .plain import to_csv

        return to_csv(report, view, None if depth == DEFAULT else depth)
    if fmt == "markdown":
        from .plain import to_markdown

        return to_markdown(report, view, None if depth == DEFAULT else depth)
    from .table import print_table

    print_table(report, view, width=width, color=color, depth="auto" if depth == DEFAULT else depth)
    return None
