"""JSON, CSV and Markdown renderers: exact integers, no colours, no rich import."""

from __future__ import annotations

import json

from .columns import columns, view_rows


def to_json(report) -> str:
    """The JSON report, one layer per line, then ``tree``: the block instances and repeats with
    their summed figures and ``children``, one top-level entry per line.

    ``report`` is a :class:`~layercalc.report.Report` (or any object with ``to_dict()``; the
    tree is added when it also has ``layers`` and ``tree()``).
    """
    d = report.to_dict()
    if "tree" not in d and hasattr(report, "tree") and hasattr(report, "layers"):
        from ..tree import has_groups

        items = list(d.items())
        at = [k for k, _ in items].index("layers") + 1 if "layers" in d else len(items)
        if not has_groups(report.layers):  # the tree of a spec without blocks is its layers, one leaf each
            items.insert(at, ("tree", _Raw(_flat_tree_text(report.layers)) if report.layers else []))
        else:
            items.insert(at, ("tree", [node.to_dict() for node in report.tree()]))
        d = dict(items)
    return json_text(d)


class _Raw(str):
    """A list's entries already written as JSON text (one per line)."""


def _flat_tree_text(rows) -> str:
    """The tree of a spec without blocks, a leaf per layer, as text. Names and types are
    identifiers (checked at once), so they are written without an encoder call each: a
    20,000-layer chain would otherwise spend a tenth of a second on 20,000 small dicts."""
    import re

    if re.fullmatch(r"[A-Za-z0-9_.]*", "".join(r.name + r.type for r in rows)):
        return ",\n    ".join(f'{{"name": "{r.name}", "type": "{r.type}", "kind": "layer"}}' for r in rows)
    return ",\n    ".join(json.dumps({"name": r.name, "type": r.type, "kind": "layer"}) for r in rows)


def json_text(d: dict) -> str:
    """A JSON report dict as text: ``layers`` and ``tree`` one entry per line, the rest compact.

    The layers are encoded in one call of json's C encoder (fast on 20,000-layer
    models) and put one per line: names, types and keys are identifiers, so the
    separator ``}, {`` occurs only between layers (and between the leaves of a
    flat tree, which have no ``children``).
    """
    dumps = json.dumps
    lines = []
    for key, value in d.items():
        if key == "layers" and value:
            body = dumps(value)[1:-1].replace("}, {", "},\n    {")
            lines.append(f'  "layers": [\n    {body}\n  ]')
        elif isinstance(value, _Raw):
            lines.append(f"  {dumps(key)}: [\n    {value}\n  ]")
        elif key == "tree" and value:
            flat = all("children" not in node for node in value)
            body = (dumps(value)[1:-1].replace("}, {", "},\n    {") if flat
                    else ",\n    ".join(dumps(node) for node in value))
            lines.append(f'  "tree": [\n    {body}\n  ]')
        else:
            lines.append(f"  {dumps(key)}: {dumps(value)}")
    return "{\n" + ",\n".join(lines) + "\n}"


def to_csv(report, view: str, depth=None) -> str:
    """CSV with exact integers; folded to ``depth`` (see :func:`.columns.view_rows`), a
    ``level`` column gives each row's nesting."""
    import csv
    import io

    shown = view_rows(report, depth)
    cols = columns(view, report, shown.folded)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow([c.key for c in cols] + (["level"] if shown.folded else []))
    for row in shown.rows:
        w.writerow([c.cell(row) for c in cols] + ([row.level] if shown.folded else []))
    w.writerow([c.total(report.totals) if c.total else "" for c in cols] + ([""] if shown.folded else []))
    return buf.getvalue().rstrip("\n")


def _md_cell(value) -> str:
    return str(value).replace("|", "\\|")


def to_markdown(report, view: str, depth=None) -> str:
    """A Markdown table; folded to ``depth``, nested rows are indented with ``&nbsp;``."""
    shown = view_rows(report, depth)
    cols = columns(view, report, shown.folded)
    lines = [f"### {report.name}", "",
             "| " + " | ".join(c.header for c in cols) + " |",
             "| " + " | ".join("---:" if c.numeric else "---" for c in cols) + " |"]
    for row in shown.rows:
        cells = [_md_cell(f"{c.cell(row):,}" if c.numeric else c.cell(row)) for c in cols]
        if shown.folded and row.level > 1:
            cells[0] = "&nbsp;&nbsp;" * (row.level - 1) + cells[0]
        lines.append("| " + " | ".join(cells) + " |")
    totals = [c.total(report.totals) if c.total else "" for c in cols]
    lines.append("| " + " | ".join(f"**{t:,}**" if isinstance(t, int) else f"**{t}**" if t else "" for t in totals) + " |")
    return "\n".join(lines)
