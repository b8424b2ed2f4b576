"""Tables for people: human units (1.23 M, 4.09 G), a totals footer and a summary.

``emit_table`` draws one table for any command (the reports, ``verify``): with
rich up to :data:`RICH_MAX_ROWS` rows (colours, fitting the terminal), and
beyond that with a plain fixed-width layout of the same look, since rich
spends about a millisecond a row and a 20,000-layer model would wait half a
minute for its table. A test keeps the two layouts identical.
"""

from __future__ import annotations

import sys

from .columns import columns, depth_note, shape_str, view_rows

RICH_MAX_ROWS = 2000
_BOLD, _ITALIC, _RED, _RESET = "\x1b[1m", "\x1b[3m", "\x1b[31m", "\x1b[0m"


#: SI prefixes from 10**3 to 10**30; beyond, scientific notation
_PREFIXES = ("K", "M", "G", "T", "P", "E", "Z", "Y", "R", "Q")


def _div_half_even(a: int, b: int) -> int:
    q, r = divmod(a, b)
    if 2 * r > b or (2 * r == b and q % 2):
        q += 1
    return q


def _scaled(n: int, units) -> str:
    """``n`` (>= 1000) with two decimals in the largest unit that keeps it below 1000, from integers
    only (a float would round 10**25 to 9999999999999999899336704), rounded half to even."""
    for k, unit in enumerate(units, start=1):
        hundredths = _div_half_even(n * 100, 1000**k)
        if hundredths < 100_000:  # below 1000.00 once rounded (999,999 is 1.00 M, not 1000.00 K)
            return f"{hundredths // 100}.{hundredths % 100:02d} {unit}"
    try:
        exponent = len(str(n)) - 1
    except ValueError:  # beyond Python's int-to-string limit: never from a spec within the limits
        return f"about 2**{n.bit_length()}"
    hundredths = _div_half_even(n * 100, 10**exponent)
    if hundredths >= 1000:
        exponent, hundredths = exponent + 1, _div_half_even(n * 100, 10 ** (exponent + 1))
    return f"{hundredths // 100}.{hundredths % 100:02d}e{exponent}"


def human(n: int) -> str:
    """1234 -> '1.23 K', 11689512 -> '11.69 M', 1814073856 -> '1.81 G', up to Q (10**30), then
    '1.23e33'; below 1000 the exact number."""
    if n < 0:
        return "-" + human(-n)
    if n < 1000:
        return str(n)
    return _scaled(n, _PREFIXES)


def human_bytes(n: int) -> str:
    """Bytes in decimal units: 999 B, 1.23 KB ... 4.56 QB, then scientific notation with B."""
    if n < 0:
        return "-" + human_bytes(-n)
    if n < 1000:
        return f"{n} B"
    text = _scaled(n, tuple(p + "B" for p in _PREFIXES))
    return text if text.endswith("B") else text + " B"


def _use_color(file, color: bool | None) -> bool:
    if color is not None:
        return color
    return bool(getattr(file, "isatty", lambda: False)())


def emit_table(title: str, headers: list[str], right: list[bool], rows: list[list[str]], footer: list[str] | None,
               lines: list[str], file=None, width: int | None = None, color: bool | None = None,
               red_rows: set[int] | None = None, plain: bool | None = None) -> None:
    """Print a table (title, header, rows, optional footer) and then ``lines`` of text.

    ``right`` says which columns are right-justified; ``red_rows`` (row indexes) are shown in red.
    ``plain`` forces the fixed-width layout (None: when there are more than RICH_MAX_ROWS rows).
    """
    file = file or sys.stdout
    color = _use_color(file, color)
    if plain is None:
        plain = len(rows) > RICH_MAX_ROWS
    if plain:
        _plain_table(title, headers, right, rows, footer, lines, file, color, red_rows or set())
        return
    from rich import box
    from rich.console import Console
    from rich.table import Table

    tty = bool(getattr(file, "isatty", lambda: False)())
    console = Console(file=file, width=width or (None if tty else 160), no_color=not color, highlight=False,
                      force_terminal=color or None)
    table = Table(title=title, box=box.SIMPLE_HEAD, show_footer=footer is not None, title_justify="left",
                  header_style="bold", footer_style="bold")
    for i, header in enumerate(headers):
        table.add_column(header, justify="right" if right[i] else "left", footer=footer[i] if footer else "",
                         no_wrap=i < 2, overflow="fold")
    for k, row in enumerate(rows):
        table.add_row(*row, style="red" if red_rows and k in red_rows else None)
    console.print(table)
    if lines:
        console.print("\n".join(lines), markup=False)


def _plain_table(title, headers, right, rows, footer, lines, file, color, red_rows) -> None:
    """The layout of rich's SIMPLE_HEAD box, written out directly (fast for any number of rows)."""
    every = [headers] + rows + ([footer] if footer else [])
    widths = [max(len(r[i]) for r in every) for i in range(len(headers))]
    total = sum(widths) + 3 * len(widths) + 1

    def line(cells):
        return " " + " ".join(" " + (c.rjust(w) if r else c.ljust(w)) + " "
                              for c, w, r in zip(cells, widths, right)) + " "

    def styled(text, style):
        return f"{style}{text}{_RESET}" if color else text

    out = [styled(title.ljust(total), _ITALIC), " " * total, styled(line(headers), _BOLD),
           " " + "\u2500" * (total - 2) + " "]
    out += [styled(line(row), _RED) if k in red_rows else line(row) for k, row in enumerate(rows)]
    if footer:
        out += [" " * total, styled(line(footer), _BOLD)]
    out.append(" " * total)
    out += lines
    file.write("\n".join(out) + "\n")


def print_table(report, view: str, width: int | None = None, color: bool | None = None, file=None,
                plain: bool | None = None, depth=None) -> None:
    """One report view as a table, with the totals as its footer and a summary below.

    ``depth`` folds block instances and repeats into one row each (an int, ``"all"``,
    ``"auto"``, or None for every layer without block rows); nested rows are indented
    and a note says how to expand a folded table. Depth 0 prints the summary only.
    """
    shown = view_rows(report, depth)
    cols = columns(view, report, shown.folded)

    def cell(c, v):
        if c.key == "param_bytes":
            return human_bytes(v)
        if c.key == "layers":
            return str(v)
        return human(v) if isinstance(v, int) and c.numeric else str(v)

    rows = [[cell(c, c.cell(row)) for c in cols] for row in shown.rows]
    if shown.folded:
        for row, node in zip(rows, shown.rows):
            row[0] = "  " * (node.level - 1) + row[0]
    footer = []
    for c in cols:
        t = c.total(report.totals) if c.total else ""
        footer.append(human_bytes(t) if c.key == "param_bytes" else human(t) if isinstance(t, int) else t)
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
    lines += depth_note(shown)
    if shown.depth == 0:
        file = file or sys.stdout
        file.write("\n".join([report.name, ""] + lines) + "\n")
        return
    emit_table(report.name, [c.header for c in cols], [c.numeric for c in cols], rows, footer, lines, file=file,
               width=width, color=color, plain=plain)
