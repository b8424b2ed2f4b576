"""Renderers of a :class:`~layercalc.reference.verify.VerifyResult`: a rich table, or JSON."""

from __future__ import annotations

import json
import sys


def to_json(result) -> str:
    return json.dumps(result.to_dict(), indent=2, default=list)


def print_table(result, file=None, width: int | None = None, color: bool | None = None) -> None:
    from rich import box
    from rich.console import Console
    from rich.table import Table

    file = file or sys.stdout
    tty = file.isatty() if hasattr(file, "isatty") else False
    console = Console(file=file, width=width or (None if tty else 160), highlight=False,
                      no_color=not (color if color is not None else tty),
                      force_terminal=color if color is not None else None)
    table = Table(title=f"verify {result.name} ({result.mode}: total MACs {result.total_macs:,}, budget "
                  f"{result.budget:,})", box=box.SIMPLE_HEAD, title_justify="left", header_style="bold")
    table.add_column("layer", no_wrap=True)
    table.add_column("type", no_wrap=True)
    table.add_column("mode")
    table.add_column("checks", justify="right")
    table.add_column("first mismatch", overflow="fold")
    for layer in result.layers:
        mismatch = layer.first_mismatch()
        style = None if layer.ok else "red"
        table.add_row(layer.name, layer.type, layer.mode, f"{layer.passed}/{len(layer.checks)}",
                      mismatch or "", style=style)
    console.print(table)
    bad = result.mismatches
    if bad:
        console.print(f"{len(bad)} of {len(result.layers)} layers disagree with the reference executor:")
        for layer in bad:
            console.print(f"  {result.file}:{layer.name} ({layer.type}, {layer.mode}): {layer.first_mismatch()}",
                          markup=False)
    else:
        console.print(f"all {len(result.layers)} layers agree with the reference executor "
                      f"({result.seconds:.1f} s)", markup=False)


class Progress:
    """A rich progress bar on standard error, shown only on a terminal; ``start(total)`` returns the tick."""

    def __init__(self, label: str):
        self.label = label
        self.bar = None

    def __call__(self, total: int):
        if not sys.stderr.isatty():
            return None
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress as Bar, TimeElapsedColumn

        self.bar = Bar("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
                       TimeElapsedColumn(), console=Console(file=sys.stderr), transient=True)
        self.bar.start()
        task = self.bar.add_task(self.label, total=total)
        return lambda: self.bar.advance(task)

    def stop(self) -> None:
        if self.bar is not None:
            self.bar.stop()
