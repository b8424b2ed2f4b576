"""JSON, CSV and Markdown renderers: exact integers, no colours, no rich import."""

from __future__ import annotations

import json

from .columns import columns


def to_json(report) -> str:
    """The JSON report, one layer per line.

    The layers are encoded in one call of json's C encoder (fast on 20,000-layer
    models) and put one per line: names, types and keys are identifiers, so the
    separator ``}, {`` occurs only between layers.
    """
    d = report.to_dict()
    dumps = json.dumps
    lines = []
    for key, value in d.items():
        if key == "layers" and value:
            body = dumps(value)[1:-1].replace("}, {", "},\n    {")
            lines.append(f'  "layers": [\n    {body}\n  ]')
        else:
            lines.append(f"  {dumps(key)}: {dumps(value)}")
    return "{\n" + ",\n".join(lines) + "\n}"


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
