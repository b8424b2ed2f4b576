"""Renderers of a :class:`layercalc.diff.Diff`: a table for a terminal, Markdown for a pull
request comment (a summary line, a totals table, the blocks and layers in a collapsible
``<details>`` section), and JSON.
"""

from __future__ import annotations

import json

from ..diff import ADDED, CHANGED, REMOVED, RENAMED, SAME, BlockChange, listed_changes
from .columns import shape_str

TOTAL_LABELS = {"params": "Params", "trainable_params": "Trainable", "non_trainable_params": "Non-trainable",
                "buffers": "Buffers", "param_bytes": "Param bytes", "macs": "MACs", "flops": "FLOPs"}
MARKS = {ADDED: "+", REMOVED: "-", CHANGED: "~", RENAMED: "=", SAME: " "}


def signed(n: int, human: bool) -> str:
    if n == 0:
        return "0"
    if human:
        from .table import human as h

        return ("+" if n > 0 else "-") + h(abs(n))
    return f"{n:+,}"


def percent(delta) -> str:
    if delta.change == 0:
        return "0%"
    if delta.percent is None:
        return "new" if not delta.old else ""
    return f"{delta.percent:+.2f}%"


def _value(v, human: bool) -> str:
    if v is None:
        return "-"
    if human:
        from .table import human as h

        return h(v)
    return f"{v:,}"


def headline(diff, human: bool = True) -> str:
    """One line: the change of params and MACs, and the counts of layers added, removed, changed."""
    t = diff.totals
    parts = []
    for key in ("params", "macs"):
        d = t[key]
        parts.append(f"{TOTAL_LABELS[key]} {signed(d.change, human)} ({percent(d)})" if d.change
                     else f"{TOTAL_LABELS[key]} unchanged")
    counts = ", ".join(f"{diff.count(s)} {s}" for s in (ADDED, REMOVED, CHANGED, RENAMED) if diff.count(s))
    layers = f"layers: {counts}" if counts else "no layer changed"
    return "; ".join(parts) + "; " + layers


def _describe(c, limit: int = 6) -> str:
    """What changed in a layer, briefly: renames, types, arguments, shapes."""
    if isinstance(c, BlockChange):
        node = c.new or c.old
        return f"{node.layers} layers"
    if c.status == ADDED:
        return f"-> {shape_str(c.new.output_shape)}"
    if c.status == REMOVED:
        return f"was {shape_str(c.old.output_shape)}"
    parts = []
    for key, (a, b) in c.changes.items():
        if key in ("params", "trainable_params", "buffers", "macs", "flops"):
            continue
        if key == "name":
            parts.append(f"renamed from {a}")
        elif key in ("output_shape",):
            parts.append(f"output {shape_str(a)} -> {shape_str(b)}")
        elif key == "input_shapes":
            parts.append("input " + ", ".join(shape_str(s) for s in a) + " -> " + ", ".join(shape_str(s) for s in b))
        elif key.startswith("args."):
            parts.append(f"{key[5:]} {a} -> {b}")
        else:
            parts.append(f"{key} {a} -> {b}")
    if len(parts) > limit:
        parts = parts[:limit] + [f"{len(parts) - limit} more"]
    return "; ".join(parts)


def _change_rows(diff, human: bool):
    """Rows of the layer list: mark, name, type, what changed, params change, MACs change."""
    rows = []
    for c in listed_changes(diff):
        if isinstance(c, BlockChange):
            node = c.new or c.old
            sign = 1 if c.status == ADDED else -1
            rows.append([MARKS[c.status], node.name, node.label, _describe(c),
                         signed(sign * node.figures["params"], human), signed(sign * node.figures["macs"], human)])
        else:
            rows.append([MARKS[c.status], c.name, (c.new or c.old).type if "type" not in c.changes
                         else f"{c.changes['type'][0]} -> {c.changes['type'][1]}", _describe(c),
                         signed(c.delta("params").change, human), signed(c.delta("macs").change, human)])
    return rows


def _block_rows(diff, depth: int | None, human: bool):
    rows = []
    for b in diff.blocks:
        if (depth is not None and b.level > depth) or b.status == SAME:
            continue
        lay = b.delta("layers")
        p, m = b.delta("params"), b.delta("macs")
        rows.append([("  " if human else "&nbsp;&nbsp;") * (b.level - 1) + b.name, b.label,
                     f"{lay.old} -> {lay.new}" if None not in lay and lay.old != lay.new else str(lay.new or lay.old),
                     _value(p.new if b.new else p.old, human), signed(p.change, human), percent(p),
                     _value(m.new if b.new else m.old, human), signed(m.change, human), percent(m)])
    return rows


BLOCK_HEADERS = ["Block", "Type", "Layers", "Params", "Change", "%", "MACs", "Change", "%"]
BLOCK_RIGHT = [False, False, True, True, True, True, True, True, True]
CHANGE_HEADERS = ["", "Layer", "Type", "What changed", "Params", "MACs"]
CHANGE_RIGHT = [False, False, False, False, True, True]


def _totals_rows(diff, human: bool):
    rows = []
    for key, d in diff.totals.items():
        if key == "param_bytes" and human:
            from .table import human_bytes

            old, new = human_bytes(d.old), human_bytes(d.new)
            change = ("+" if d.change > 0 else "-") + human_bytes(abs(d.change)) if d.change else "0"
        else:
            old, new, change = _value(d.old, human), _value(d.new, human), signed(d.change, human)
        rows.append([TOTAL_LABELS[key], old, new, change, percent(d)])
    return rows


def print_diff(diff, depth: int | None = 1, width: int | None = None, color: bool | None = None, file=None) -> None:
    """The comparison as tables: totals, the blocks that changed (to ``depth``), the layers."""
    import sys

    from .table import emit_table

    file = file or sys.stdout
    file.write(f"{diff.old.name} -> {diff.new.name}\nOld: {diff.old_label}\nNew: {diff.new_label}\n\n")
    outs = [f"Output {k}: {shape_str(a) if a else '-'} -> {shape_str(b) if b else '-'}"
            for k, (a, b) in diff.outputs.items() if a != b]
    emit_table("Totals", ["Total", "Old", "New", "Change", "%"], [False, True, True, True, True],
               _totals_rows(diff, True), None, [headline(diff)] + outs, file=file, width=width, color=color)
    blocks = _block_rows(diff, depth, True)
    if blocks:
        file.write("\n")
        emit_table(f"Blocks that changed (depth {depth if depth is not None else 'all'})", BLOCK_HEADERS,
                   BLOCK_RIGHT, blocks, None, [], file=file, width=width, color=color)
    changes = _change_rows(diff, True)
    if changes:
        if not blocks:
            file.write("\n")
        emit_table("Layers (+ added, - removed, ~ changed, = renamed)", CHANGE_HEADERS, CHANGE_RIGHT, changes, None,
                   [], file=file, width=width, color=color)


def _md(text) -> str:
    return str(text).replace("|", "\\|")


def _md_table(headers, right, rows) -> list[str]:
    lines = ["| " + " | ".join(headers) + " |", "| " + " | ".join("---:" if r else "---" for r in right) + " |"]
    lines += ["| " + " | ".join(_md(c) for c in row) + " |" for row in rows]
    return lines


def to_markdown(diff, depth: int | None = 1, gates=()) -> str:
    """A pull request comment: a summary line, the totals, the budgets checked, and a
    ``<details>`` section with the blocks and layers that changed (exact integers)."""
    lines = [f"### layercalc diff: `{diff.old.name}` -> `{diff.new.name}`", "",
             f"**{headline(diff, human=True)}**", ""]
    for r in gates:
        lines.append(f"- {'**Over budget**' if r.exceeded else 'Within budget'}: {r.message()}")
    if gates:
        lines.append("")
    lines += _md_table(["", "Old", "New", "Change", "%"], [False, True, True, True, True], _totals_rows(diff, False))
    for k, (a, b) in diff.outputs.items():
        if a != b:
            lines += ["", f"Output `{k}`: {shape_str(a) if a else '-'} -> {shape_str(b) if b else '-'}"]
    blocks = _block_rows(diff, depth, False)
    changes = _change_rows(diff, False)
    if blocks or changes:
        n = len(changes)
        lines += ["", "<details>", f"<summary>{n} change{'s' if n != 1 else ''} in the layers"
                  + (f", {len(blocks)} block{'s' if len(blocks) != 1 else ''}" if blocks else "") + "</summary>", ""]
        if blocks:
            lines += ["#### Blocks", ""] + _md_table(BLOCK_HEADERS, BLOCK_RIGHT, blocks) + [""]
        if changes:
            rows = [[{"+": "added", "-": "removed", "~": "changed", "=": "renamed"}[r[0]], f"`{r[1]}`"] + r[2:]
                    for r in changes]
            lines += ["#### Layers", ""] + _md_table(["", "Layer", "Type", "What changed", "Params", "MACs"],
                                                      CHANGE_RIGHT, rows) + [""]
        lines.append("</details>")
    lines += ["", f"<sub>{diff.old_label} -> {diff.new_label}</sub>"]
    return "\n".join(lines)


def to_json(diff, gates=()) -> str:
    """The comparison (:meth:`layercalc.diff.Diff.to_dict`) and the budgets checked."""
    d = diff.to_dict()
    d["gates"] = [{"field": r.gate.field, "budget": r.gate.text, "change": r.delta.change,
                   "exceeded": r.exceeded} for r in gates]
    return json.dumps(d, indent=2)
