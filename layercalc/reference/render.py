"""Renderers of a :class:`~layercalc.verify.VerifyResult`: a rich table, or JSON."""

from __future__ import annotations

import json
import sys


def to_json(result) -> str:
    return json.dumps(result.to_dict(), indent=2, default=list)


def print_table(result, file=None, width: int | None = None, color: bool | None = None) -> None:
    from ..render.table import emit_table

    rows, red = [], set()
    for k, layer in enumerate(result.layers):
        mismatch = layer.first_mismatch()
        if not layer.ok:
            red.add(k)
        rows.append([layer.name, layer.type, layer.mode, f"{layer.passed}/{len(layer.checks)}",
                     mismatch or layer.skipped or ""])
    bad = result.mismatches
    if bad:
        lines = [f"{len(bad)} of {len(result.layers)} layers disagree with the reference executor:"]
        lines += [f"  {result.file}:{layer.name} ({layer.type}, {layer.mode}): {layer.first_mismatch()}" for layer in bad]
    else:
        lines = [f"all {len(result.layers) - len(result.skipped)} layers {'run ' if result.skipped else ''}agree "
                 f"with the reference executor ({result.seconds:.1f} s)"]
    if result.skipped:
        lines.append(f"{len(result.skipped)} layer(s) skipped: too large to run even as a probe")
    title = (f"verify {result.name} ({result.mode}: total MACs {result.total_macs:,}, budget {result.budget:,})")
    emit_table(title, ["layer", "type", "mode", "checks", "first mismatch"], [False, False, False, True, False], rows,
               None, lines, file=file, width=width, color=color, red_rows=red)


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
