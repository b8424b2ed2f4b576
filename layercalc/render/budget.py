"""Tables of the memory and cost reports: one column list per report, rendered as a table, CSV or Markdown
(JSON is the report's ``to_dict``).

``depth`` folds block instances and repeats as the summary does (:func:`.columns.view_rows`): a table
defaults to a readable depth, CSV and Markdown to every layer. A block row's figures come from the
report's block tree (``tree()`` of :class:`layercalc.budget.MemoryReport` and ``CostReport``, where each
column's rule is written): sums, except a block's output bytes (its output's) and, with an
accelerator, its arithmetic intensity and bound (from its summed FLOPs and bytes).
"""

from __future__ import annotations

from .columns import View, depth_note, out_str, view_rows
from .table import emit_table, human, human_bytes

DEFAULT = "default"
INDENT = {"table": "  ", "markdown": "&nbsp;&nbsp;", "csv": ""}


def shown_rows(ext, fmt: str, depth=DEFAULT) -> tuple[list[dict], View]:
    """The rows of a memory or cost report at ``depth`` (DEFAULT: the format's), each a dict of its
    figures with ``name``, ``type`` and ``row`` (a report row or a tree node); folded, also ``layers``
    and ``level``."""
    if depth == DEFAULT:
        depth = "auto" if fmt == "table" else None
    shown = view_rows(ext.report, depth, ext.tree)
    if not shown.folded:
        if not shown.rows:
            return [], shown
        extra = ext.row_figures()
        return [dict(d, name=row.name, type=row.type, row=row) for row, d in zip(ext.layers, extra)], shown
    rows = []
    for node in shown.rows:
        rows.append(dict(node.figures, name=INDENT[fmt] * (node.level - 1) + node.name, type=node.label,
                         layers=node.layers, level=node.level, row=node))
    return rows, shown


def _emit(title, cols, rows, totals, lines, fmt, shown: View | None = None):
    """cols: (header, key, kind) with kind 'bytes', 'count', 'int' or 'text'; rows/totals: dicts by key.
    ``shown`` folded: a Layers column (and in CSV a ``level`` column) and the note on the depth."""
    folded = shown is not None and shown.folded
    if folded:
        cols = cols[:2] + [("Layers", "layers", "int")] + cols[2:]
        if fmt == "csv":
            cols = cols + [("Level", "level", "int")]
    if shown is not None and fmt != "csv":
        lines = lines + depth_note(shown)
    if fmt == "csv":
        import csv
        import io

        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow([k for _, k, _ in cols])
        for r in rows:
            w.writerow([r.get(k, "") for _, k, _ in cols])
        w.writerow([totals.get(k, "") for _, k, _ in cols])
        return buf.getvalue().rstrip("\n")
    if fmt == "markdown":
        out = [f"### {title}", "", "| " + " | ".join(h for h, _, _ in cols) + " |",
               "| " + " | ".join("---" if kind == "text" else "---:" for _, _, kind in cols) + " |"]
        for r in rows:
            out.append("| " + " | ".join(f"{r[k]:,}" if isinstance(r.get(k), int) else str(r.get(k, ""))
                                         for _, k, _ in cols) + " |")
        out.append("| " + " | ".join(f"**{totals[k]:,}**" if isinstance(totals.get(k), int) else
                                     f"**{totals[k]}**" if totals.get(k) else "" for _, k, _ in cols) + " |")
        return "\n".join(out + [""] + [f"- {line}" for line in lines])

    def cell(kind, v):
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            return human_bytes(v) if kind == "bytes" else human(v) if kind == "count" else str(v)
        return "" if v is None else str(v)

    if shown is not None and shown.depth == 0:  # the totals only: no table
        import sys

        sys.stdout.write("\n".join([title, ""] + lines) + "\n")
        return None
    emit_table(title, [h for h, _, _ in cols], [kind != "text" for _, _, kind in cols],
               [[cell(kind, r.get(k)) for _, k, kind in cols] for r in rows],
               [cell(kind, totals.get(k)) for _, k, kind in cols], lines)
    return None


MEMORY_COLUMNS = [("Layer", "name", "text"), ("Type", "type", "text"), ("Output", "output", "text"),
                  ("Weights", "weight_bytes", "bytes"), ("Grads", "gradient_bytes", "bytes"),
                  ("Optimizer", "optimizer_bytes", "bytes"), ("Saved act.", "saved_activation_bytes", "bytes"),
                  ("Out bytes", "output_bytes", "bytes"), ("KV cache", "kv_cache_bytes", "bytes")]


def render_memory(m, fmt: str, fit: dict | None = None, depth=DEFAULT) -> str | None:
    """The memory report as a table, CSV or Markdown, folded to ``depth``; ``fit`` is the fits-or-not result,
    if asked."""
    rows, shown = shown_rows(m, fmt, depth)
    for r in rows:
        r["output"] = out_str(r["row"])
    totals = dict(m.totals)
    totals["name"] = "Total"
    totals["layers"] = len(m.layers)
    o, b = m.options, m.breakdown
    t = m.totals
    lines = [
        f"Optimizer {o.optimizer}, precision {o.precision}, device {o.device}, attention {o.attention}"
        + (f", checkpoint {' '.join(o.checkpoint)}" if o.checkpoint else ""),
        f"Training peak: {human_bytes(t['training_peak_bytes'])} ({t['training_peak_bytes']:,} bytes) = weights "
        f"{human_bytes(b['weights'])}" + (f" + master weights {human_bytes(b['master_weights'])}"
                                          if b["master_weights"] else "")
        + f" + buffers {human_bytes(b['buffers'])} + gradients {human_bytes(b['gradients'])} + optimizer state "
        f"{human_bytes(b['optimizer_state'])} + " + (
            f"saved activations {human_bytes(b['saved_activations'])} + largest transient "
            f"{human_bytes(b['largest_transient'])}" if b["saved_activations"] + b["largest_transient"]
            >= b["optimizer_step"] else f"the optimizer step's temporaries {human_bytes(b['optimizer_step'])} "
            "(at the step, the activations freed)"),
        f"Inference peak: {human_bytes(t['inference_peak_bytes'])} ({t['inference_peak_bytes']:,} bytes) = weights "
        f"{human_bytes(b['weights'])} + buffers {human_bytes(b['buffers'])} + live activations "
        f"{human_bytes(b['inference_activations'])}"
        + (f"; KV cache {human_bytes(b['kv_cache'])} ({b['kv_cache']:,} bytes)" if b["kv_cache"] else ""),
    ]
    if fit:
        lines.append(fit_line(fit))
    return _emit(m.report.name, MEMORY_COLUMNS, rows, totals, lines, fmt, shown)


def fit_line(fit: dict) -> str:
    what = f"{fit['mode']} peak {human_bytes(fit['peak'])} on {fit['device']} ({human_bytes(fit['capacity'])})"
    if fit["fits"]:
        text = f"Fits: {what}, margin {human_bytes(fit['margin'])} ({100 * fit['margin'] / fit['capacity']:.1f}%)"
    else:
        text = f"Does not fit: {what}, short by {human_bytes(-fit['margin'])}"
    if fit.get("max_batch") is not None:
        mb = fit["max_batch"]
        text += (f"; largest {fit['dim']} that fits: {mb}" if mb else f"; no value of {fit['dim']} fits")
    return text


COST_COLUMNS = [("Layer", "name", "text"), ("Type", "type", "text"), ("Fwd MACs", "forward_macs", "count"),
                ("Bwd MACs", "backward_macs", "count"), ("Train MACs", "training_macs", "count"),
                ("Fwd FLOPs", "forward_flops", "count"), ("Bwd FLOPs", "backward_flops", "count"),
                ("Train FLOPs", "training_flops", "count")]
ROOF_COLUMNS = [("FLOP/B", "intensity", "text"), ("Bound", "bound", "text"), ("Floor", "floor", "text")]


def seconds(s: float) -> str:
    for unit, scale in (("days", 86400.0), ("h", 3600.0), ("s", 1.0), ("ms", 1e-3), ("us", 1e-6), ("ns", 1e-9)):
        if s >= scale:
            return f"{s / scale:.2f} {unit}"
    return f"{s * 1e9:.2f} ns"


def cost_lines(c, summary: dict) -> list[str]:
    """The lines below the cost table: per step, over tokens or steps, the decoder, the accelerator."""
    t = c.totals
    lines = [f"Per step: forward {t['forward_flops']:,} FLOPs, backward {t['backward_flops']:,}"
             + (f", recomputation {t['recompute_flops']:,}" if t["recompute_flops"] else "")
             + f", training {t['training_flops']:,} ({human(t['training_flops'])})"]
    s = summary
    if "six_nd" in s:
        lines.append(f"Training on {s['tokens']:.4g} tokens ({s['steps']:.4g} steps of {s['tokens_per_step']:,} "
                     f"tokens): {s['training_flops_total']:.4g} FLOPs; 6ND = 6 x {c.report.totals['trainable_params']:,}"
                     f" x {s['tokens']:.4g} = {s['six_nd']:.4g} ({100 * s['vs_six_nd']:+.1f}%)")
    elif "steps" in s:
        lines.append(f"Training for {s['steps']:.4g} steps: {s['training_flops_total']:.4g} FLOPs")
    if "context" in s:
        lines.append(f"Decoder at context {s['context']:,}: prefill {s['prefill_flops']:,} FLOPs; per generated token "
                     f"{s['per_token_flops']:,} FLOPs ({s['per_token_macs']:,} MACs)")
    if "accelerator" in s:
        lines.append(f"On {s['accelerator']} ({s['peak_flops'] / 1e12:g} TFLOP/s {s['precision']}, "
                     f"{s['bandwidth'] / 1e12:g} TB/s): forward latency floor {seconds(s['forward_latency_floor_s'])}; "
                     f"training at MFU {s['mfu']:g}: {seconds(s['training_seconds'])} = "
                     f"{s['accelerator_hours']:,.1f} accelerator-hours")
    return lines


def render_cost(c, fmt: str, summary: dict, depth=DEFAULT) -> str | None:
    """The cost report as a table, CSV or Markdown, folded to ``depth``; with the roofline columns once
    ``c`` is placed on an accelerator (``c.ridge``)."""
    rows, shown = shown_rows(c, fmt, depth)
    roof = c.ridge is not None
    if roof:
        for r in rows:
            r.update(intensity=f"{r['intensity']:.1f}",
                     floor=seconds(r["latency_floor_s"]) if fmt == "table" else r["latency_floor_s"])
    totals = dict(c.totals)
    totals["name"] = "Total"
    totals["layers"] = len(c.layers)
    cols = COST_COLUMNS + (ROOF_COLUMNS if roof else [])
    return _emit(c.report.name, cols, rows, totals, cost_lines(c, summary), fmt, shown)
