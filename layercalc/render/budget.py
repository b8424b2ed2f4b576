"""Tables of the memory and cost reports: one column list per report, rendered as a table, CSV or Markdown
(JSON is the report's ``to_dict``)."""

from __future__ import annotations

from .columns import out_str
from .table import emit_table, human, human_bytes


def _emit(title, cols, rows, totals, lines, fmt):
    """cols: (header, key, kind) with kind 'bytes', 'count', 'text'; rows/totals: dicts by key."""
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

    emit_table(title, [h for h, _, _ in cols], [kind != "text" for _, _, kind in cols],
               [[cell(kind, r.get(k)) for _, k, kind in cols] for r in rows],
               [cell(kind, totals.get(k)) for _, k, kind in cols], lines)
    return None


MEMORY_COLUMNS = [("Layer", "name", "text"), ("Type", "type", "text"), ("Output", "output", "text"),
                  ("Weights", "weight_bytes", "bytes"), ("Grads", "gradient_bytes", "bytes"),
                  ("Optimizer", "optimizer_bytes", "bytes"), ("Saved act.", "saved_activation_bytes", "bytes"),
                  ("Out bytes", "output_bytes", "bytes"), ("KV cache", "kv_cache_bytes", "bytes")]


def render_memory(m, fmt: str, fit: dict | None = None) -> str | None:
    """The memory report as a table, CSV or Markdown; ``fit`` is the fits-or-not result, if asked."""
    rows = []
    for row, d in zip(m.layers, m.rows):
        r = dict(d)
        r.update(name=row.name, type=row.type, output=out_str(row))
        rows.append(r)
    totals = dict(m.totals)
    totals["name"] = "Total"
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
    return _emit(m.report.name, MEMORY_COLUMNS, rows, totals, lines, fmt)


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


def render_cost(c, fmt: str, summary: dict, roof) -> str | None:
    rows = []
    for k, (row, d) in enumerate(zip(c.layers, c.rows)):
        r = dict(d)
        r.update(name=row.name, type=row.type)
        if roof:
            r.update(intensity=f"{roof[k]['intensity']:.1f}", bound=roof[k]["bound"],
                     floor=seconds(roof[k]["latency_floor_s"]) if fmt == "table" else roof[k]["latency_floor_s"])
        rows.append(r)
    totals = dict(c.totals)
    totals["name"] = "Total"
    cols = COST_COLUMNS + (ROOF_COLUMNS if roof else [])
    return _emit(c.report.name, cols, rows, totals, cost_lines(c, summary), fmt)
