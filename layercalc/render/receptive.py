"""Renderers of receptive fields (``shape --receptive-field``): table, json, csv, markdown."""

from __future__ import annotations

import json

from .columns import shape_str

HEADERS = ["Layer", "Type", "Output shape", "Receptive field", "Stride", "Padding"]


def _dims(values) -> str:
    """(435, 435) -> '435'; (7, 17) -> '7x17'."""
    return str(values[0]) if len(set(values)) == 1 else "x".join(str(v) for v in values)


def cells(row) -> list[str]:
    if row.field is None:
        return [row.name, row.type, shape_str(row.output_shape), f"- ({row.note})" if row.note else "-", "", ""]
    f = row.field
    return [row.name, row.type, shape_str(row.output_shape), _dims(f.size), _dims(f.jump), _dims(f.padding)]


def _footer(image: str | None, note: str) -> list[str]:
    if image is None:
        return [f"No receptive fields: {note}."]
    return [f"Positions of the input '{image}'. Output position i reads input positions "
            "i*stride - padding ... i*stride - padding + field - 1 (the largest over the paths)."]


def print_fields(name: str, image, rows, note: str, width=None, color=None, file=None) -> None:
    from .table import emit_table

    emit_table(name, HEADERS, [False, False, False, True, True, True], [cells(r) for r in rows], None,
               _footer(image, note), file=file, width=width, color=color)


def to_json(name: str, image, rows, note: str) -> str:
    layers = [{"name": r.name, "type": r.type, "output_shape": r.output_shape,
               "receptive_field": r.field.to_dict() if r.field else None, **({"note": r.note} if r.note else {})}
              for r in rows]
    head = {"layercalc": 1, "name": name, "input": image, **({"note": note} if note else {})}
    body = ",\n    ".join(json.dumps(layer) for layer in layers)
    return json.dumps(head, indent=2)[:-2] + ',\n  "layers": [\n    ' + body + "\n  ]\n}"


def to_csv(rows) -> str:
    import csv
    import io

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["name", "type", "output_shape", "receptive_field", "stride", "padding", "note"])
    for r in rows:
        f = r.field
        w.writerow([r.name, r.type, "x".join(map(str, r.output_shape))]
                   + (["x".join(map(str, f.size)), "x".join(map(str, f.jump)), "x".join(map(str, f.padding)), ""]
                      if f else ["", "", "", r.note]))
    return buf.getvalue().rstrip("\n")


def to_markdown(name: str, image, rows, note: str) -> str:
    lines = [f"### {name}", "", "| " + " | ".join(HEADERS) + " |", "| --- | --- | --- | ---: | ---: | ---: |"]
    for r in rows:
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells(r)) + " |")
    return "\n".join(lines + [""] + _footer(image, note))
