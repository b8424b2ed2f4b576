"""The rich table renderer: human units (1.23 M, 4.09 G), a totals footer and a summary panel."""

from __future__ import annotations

import sys

from .columns import columns, shape_str


def human(n: int) -> str:
    """1234 -> '1.23 K', 11689512 -> '11.69 M', 1814073856 -> '1.81 G'; below 1000 the exact number."""
    if n < 1000:
        return str(n)
    for unit, scale in (("T", 10**12), ("G", 10**9), ("M", 10**6), ("K", 10**3)):
        if n >= scale:
            return f"{n / scale:.2f} {unit}"
    return str(n)  # pragma: no cover


def human_bytes(n: int) -> str:
    for unit, scale in (("GB", 10**9), ("MB", 10**6), ("KB", 10**3)):
        if n >= scale:
            return f"{n / scale:.2f} {unit}"
    return f"{n} B"


def print_table(report, view: str, width: int | None = None, color: bool | None = None, file=None) -> None:
    from rich import box
    from rich.console import Console
    from rich.table import Table

    file = file or sys.stdout
    tty = file.isatty() if hasattr(file, "isatty") else False
    console = Console(file=file, width=width or (None if tty else 160), no_color=not (color if color is not None else tty),
                      highlight=False, force_terminal=color if color is not None else None)
    cols = columns(view, report)
    table = Table(title=f"{report.name}", box=box.SIMPLE_HEAD, show_footer=True, title_justify="left",
                  header_style="bold", footer_style="bold")
    for c in cols:
        total = c.total(report.totals) if c.total else ""
        table.add_column(c.header, justify="right" if c.numeric else "left",
                         footer=human_bytes(total) if c.key == "param_bytes" else human(total) if isinstance(total, int) else total,
                         no_wrap=c.key in ("name", "type"), overflow="fold")
    for row in report.layers:
        cells = []
        for c in cols:
            v = c.cell(row)
            cells.append(human_bytes(v) if c.key == "param_bytes" else human(v) if c.numeric else str(v))
        table.add_row(*cells)
    console.print(table)
    t = report.totals
    ins = ", ".join(f"{k} {shape_str(v)}" for k, v in report.inputs.items())
    outs = ", ".join(f"{k} {shape_str(v)}" for k, v in report.outputs.items())
    lines = [
        f"Inputs: {ins}",
        f"Outputs: {outs}",
        f"Params: {t['params']:,} ({human(t['params'])}); trainable {t['trainable_params']:,}, "
        f"non-trainable {t['non_trainable_params']:,}; buffers {t['buffers']:,}",
        f"Param size: {human_bytes(t['param_bytes'])} ({report.dtype})",
        f"MACs: {t['macs']:,} ({human(t['macs'])}); FLOPs: {t['flops']:,} ({human(t['flops'])})",
    ]
    if view == "shape":
        lines = lines[:2]
    elif view == "params":
        lines = lines[:4]
    console.print("\n".join(lines))
