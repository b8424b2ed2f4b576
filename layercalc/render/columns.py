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


def columns(view: str, report) -> list[Column]:
    name = Column("Layer", lambda r: r.name, lambda t: "Total", key="name")
    typ = Column("Type", lambda r: r.type, lambda t: "", key="type")
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
    return {
        "shape": [name, typ, inp, out],
        "params": [name, typ, params, train, frozen, buffers, nbytes],
        "flops": [name, typ, macs, flops, share],
        "summary": [name, typ, out, params, train, buffers, macs, flops],
    }[view]
