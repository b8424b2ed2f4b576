"""Budgets: a spec may not grow past the limits its project sets.

* ``B001`` budget.params: total parameters (shared weights once) over ``max-params``;
* ``B002`` budget.macs: total MACs of one forward pass over ``max-macs``;
* ``B003`` budget.param-bytes: parameters times the dtype's size over ``max-param-bytes``.

Limits come from ``--max-params``/``--max-macs``/``--max-param-bytes`` or from
``[tool.layercalc]`` in pyproject.toml, with per-file overrides. The problem
is placed at the top of the spec and names the largest layers.
"""

from __future__ import annotations

from ...spec.model import DTYPE_BYTES
from ..problem import Problem

CODES = ("B001", "B002", "B003")

_WHAT = {"max-params": ("params", "parameters", "B001"), "max-macs": ("macs", "MACs", "B002"),
         "max-param-bytes": ("param_bytes", "bytes of parameters", "B003")}


def _largest(report, key: str, scale: int) -> str:
    rows = sorted((r for r in report.layers if getattr(r, key) > 0), key=lambda r: -getattr(r, key))[:3]
    return ", ".join(f"{r.name} (line {r.line}) {getattr(r, key) * scale:,}" for r in rows)


def check(ctx):
    report = ctx.report
    if report is None:
        return
    for key, (limit, where) in ctx.settings.budgets.items():
        total_key, noun, code = _WHAT[key]
        value = report.totals[total_key]
        if value <= limit:
            continue
        row_key, scale = ("params", DTYPE_BYTES[report.dtype]) if key == "max-param-bytes" else (total_key, 1)
        largest = _largest(report, row_key, scale)
        dtype = f" as {report.dtype}" if key == "max-param-bytes" else ""
        mark = ctx.spec.mark
        yield Problem(ctx.file, mark.line, mark.col, code,
                      f"the spec has {value:,} {noun}{dtype}, over the budget of {limit:,} ({key} from {where})"
                      + (f"; the largest layers: {largest}" if largest else ""),
                      f"make the model smaller, or raise {key} for this file in pyproject.toml "
                      "([tool.layercalc.per-file.\"PATTERN\"])")
