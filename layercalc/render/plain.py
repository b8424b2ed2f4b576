"""JSON, CSV and Markdown renderers: exact integers, no colours, no rich import."""

from __future__ import annotations

import json
import re

from .columns import columns


_NUMBERS = re.compile(r"\[\s*(-?\d+(?:,\s*-?\d+)*)\s*\]")


def to_json(report) -> str:
    """Indented JSON with each shape on one line: ``"output_shape": [1, 64, 56, 56]``."""
    text = json.dumps(report.to_dict(), indent=2)
    return _NUMBERS.sub(lambda m: "[" + ", ".join(x.strip() for x in m.group(1).split(",")) + "]", text)


def to_csv(report, view: str) -> str:
    import csv
    import io

    cols = columns(view, report)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow([c.key for c in cols])
    for row in report.layers:
        w.writerow([c.cell(row) for c in cols])
    w.writerow([c.total(report.totals) if c.total else "" for c in cols])
    return buf.getvalue().rstrip("\n")


def _md_cell(value) -> str:
    return str(value).replace("|", "\\|")


def to_markdown(report, view: str) -> str:
    cols = columns(view, report)
    lines = [f"### {report.name}", "",
             "| " + " | ".join(c.header for c in cols) + " |",
             "| " + " | ".join("---:" if c.numeric else "---" for c in cols) + " |"]
    for row in report.layers:
        lines.append("| " + " | ".join(_md_cell(f"{c.cell(row):,}" if c.numeric else c.cell(row)) for c in cols) + " |")
    totals = [c.total(report.totals) if c.total else "" for c in cols]
    lines.append("| " + " | ".join(f"**{t:,}**" if isinstance(t, int) else f"**{t}**" if t else "" for t in totals) + " |")
    return "\n".join(lines)
