"""The columns of each view, shared by the table, CSV and Markdown renderers.

A column is (header, cell function for a row, total function or None,
numeric). Cells are exact values; the table renderer humanizes numbers.
"""

from __future__ import annotations

from typing import Callable, NamedTuple


def shape_str(shape) -> str:
    return "[" + ", ".join(str(d) for d in shape) + "]"


def out_str(row) -> str:
    text = shape_str(row.output_shape)
    for k, v in row.extra_outputs.items():
        text += f" {k}={shape_str(v)}"
    return text


def in_str(row) -> str:
    return ", ".join(shape_str(s) for s in row.input_shapes) or "-"


class Column(NamedTuple):
    header: str
    cell: Callable
    total: Callable | None = None
    numeric: bool = False
    key: str = ""


def _bytes(report):
    from ..spec.model import DTYPE_BYTES

    size = DTYPE_BYTES[report.dtype]
    return lambda r: r.params * size


def columns(view: str, report, folded: bool = False) -> list[Column]:
    """The columns of ``view``; ``folded`` rows are tree nodes (:mod:`layercalc.tree`), which
    show a repeat's type as ``Block x12`` and add the count of layers inside each row."""
    name = Column("Layer", lambda r: r.name, lambda t: "Total", key="name")
    typ = Column("Type", (lambda r: r.label) if folded else (lambda r: r.type), lambda t: "", key="type")
    inp = Column("Input shape", in_str, lambda t: "", key="input_shapes")
    out = Column("Output shape", out_str, lambda t: "", key="output_shape")
    params = Column("Params", lambda r: r.params, lambda t: t["params"], True, "params")
    train = Column("Trainable", lambda r: r.trainable_params, lambda t: t["trainable_params"], True, "trainable_params")
    frozen = Column("Non-trainable", lambda r: r.params - r.trainable_params, lambda t: t["non_trainable_params"], True,
                    "non_trainable_params")
    buffers = Column("Buffers", lambda r: r.buffers, lambda t: t["buffers"], True, "buffers")
    nbytes = Column("Bytes", _bytes(report), lambda t: t["param_bytes"], True, "param_bytes")
    macs = Column("MACs", lambda r: r.macs, lambda t: t["macs"], True, "macs")
    flops = Column("FLOPs", lambda r: r.flops, lambda t: t["flops"], True, "flops")
    total_flops = report.totals["flops"] or 1
    share = Column("Share", lambda r: f"{100 * r.flops / total_flops:.1f}%", lambda t: "100%" if t["flops"] else "-",
                   False, "share")
    cols = {
        "shape": [name, typ, inp, out],
        "params": [name, typ, params, train, frozen, buffers, nbytes],
        "flops": [name, typ, macs, flops, share],
        "summary": [name, typ, out, params, train, buffers, macs, flops],
    }[view]
    if folded:
        cols.insert(2, Column("Layers", lambda r: r.layers, lambda t: len(report.layers), True, "layers"))
    return cols


class View(NamedTuple):
    """The rows a table, CSV or Markdown report shows at a depth.

    ``rows`` are the report's layer rows (``folded`` false) or tree nodes with a
    ``level`` (``folded`` true); ``depth`` is the depth shown (None: every level)
    and ``deepest`` the tree's deepest level.
    """

    rows: list
    folded: bool
    depth: int | None
    deepest: int


def view_rows(report, depth, tree=None) -> View:
    """The rows of ``report`` at ``depth``: ``None`` every layer, flat (no block rows); an int
    (0: none, the totals only); ``"all"`` every level with its block rows; ``"auto"`` the
    deepest level that keeps the table readable (:func:`layercalc.tree.readable_depth`).

    ``tree`` builds the block tree (default: the report's own figures summed); the memory and cost
    reports pass theirs, whose block rows carry their figures too."""
    if depth is None:
        return View(report.layers, False, None, 1)
    from ..tree import build_tree, fold, has_groups, max_depth, readable_depth

    if not has_groups(report.layers):
        return View(report.layers if depth != 0 else [], False, 0 if depth == 0 else None, 1)
    roots = tree() if tree is not None else build_tree(report.layers, report.inputs)
    deepest = max_depth(roots)
    if depth == "auto":
        depth = readable_depth(roots)
    elif depth == "all":
        depth = None
    if depth is not None and depth >= deepest:
        depth = None
    return View([node for node, _ in fold(roots, depth)], True, depth, deepest)


def depth_note(shown: View) -> list[str]:
    """The line under a folded table: the depth shown and how to expand it (none when unfolded)."""
    if shown.depth is None or not shown.folded:
        return []
    d = shown.depth
    return [f"Depth {d} of {shown.deepest}" + (": totals only" if d == 0 else ": a block row sums the layers inside it")
            + f". Expand with --depth {d + 1} or --depth all."]
