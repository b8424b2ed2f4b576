"""Roofline of each layer on an accelerator, training time at a model FLOPs utilization, totals over a
number of tokens or steps beside 6ND, and the prefill and per-token cost of a decoder."""

from __future__ import annotations

from math import prod

from ..spec.model import DTYPE_BYTES
from .tables import PRECISIONS

#: The accelerator's peak that a precision preset computes at.
COMPUTE_DTYPE = {"fp32": "fp32", "bf16": "bf16", "fp16": "fp16", "amp-bf16": "bf16", "amp-fp16": "fp16",
                 "mixed-bf16": "bf16", "mixed-fp16": "fp16"}


def bytes_moved(report, row, precision: str) -> int:
    """Bytes a layer reads and writes once: its inputs, its output and its weights (tied ones too)."""
    prec = PRECISIONS[precision]
    total = 0
    for shape, dtype in zip(row.input_shapes, _input_dtypes(report, row)):
        total += prod(shape) * (DTYPE_BYTES[dtype] if dtype else prec.act)
    total += prod(row.output_shape) * prec.act
    total += sum(prod(s) for s in row.param_shapes.values()) * prec.weight
    return total


def _input_dtypes(report, row):
    """None (an activation) for each input, or the dtype of an integer model input of the same shape."""
    ints = [list(s) for name, s in report.inputs.items()
            if not report.input_dtypes.get(name, "float32").startswith(("float", "bfloat"))]
    out = []
    for shape in row.input_shapes:
        if row.type in ("Embedding", "EmbeddingBag") and list(shape) in ints:
            name = next(n for n, s in report.inputs.items() if list(s) == list(shape))
            out.append(report.input_dtypes[name])
        else:
            out.append(None)
    return out


def roofline(report, precision: str, acc) -> tuple[list[dict], dict]:
    """Per row: arithmetic intensity (forward FLOPs per byte moved), bound and latency floor in seconds;
    and the model's floor (their sum)."""
    peak = acc.peak.get(COMPUTE_DTYPE[precision]) or acc.peak.get("bf16")
    rows = []
    floor = 0.0
    for row in report.layers:
        moved = bytes_moved(report, row, precision)
        latency = max(row.flops / peak, moved / acc.bandwidth)
        floor += latency
        rows.append({"bytes_moved": moved, **bound(row.flops, moved, peak, acc.bandwidth), "latency_floor_s": latency})
    return rows, {"latency_floor_s": floor, "peak_flops": peak, "bandwidth": acc.bandwidth}


def bound(flops, moved: int, peak: float, bandwidth: float) -> dict:
    """The arithmetic intensity of work of ``flops`` FLOPs that moves ``moved`` bytes (FLOPs per byte),
    and its bound: ``compute`` where its FLOPs take the peak at least as long as its bytes take the
    bandwidth (its intensity reaches the ridge point, peak / bandwidth), ``memory`` otherwise."""
    return {"intensity": flops / moved if moved else 0.0,
            "bound": "compute" if flops / peak >= moved / bandwidth else "memory"}


def fold_roofline(roots, roof: list[dict], peak: float, bandwidth: float) -> None:
    """Put the roofline figures on the nodes of a cost report's block tree (:mod:`layercalc.tree`): a
    layer's are its row's; a block's latency floor is the sum of its layers' (they run one after
    another, each at its own bound), and its intensity and bound those of its summed FLOPs and bytes."""
    leaves = iter(roof)

    def visit(node) -> float:
        if node.kind == "layer":
            r = next(leaves)
            node.figures.update(intensity=r["intensity"], bound=r["bound"], latency_floor_s=r["latency_floor_s"])
            return r["latency_floor_s"]
        floor = sum(visit(child) for child in node.children)
        node.figures.update(bound(node.figures["flops"], node.figures["bytes_moved"], peak, bandwidth),
                            latency_floor_s=floor)
        return floor

    for root in roots:
        visit(root)


def tokens_per_step(report) -> int | None:
    """Tokens in one step: the elements of the first integer (token id) input, or None."""
    for name, shape in report.inputs.items():
        if not report.input_dtypes.get(name, "float32").startswith(("float", "bfloat")):
            return prod(shape)
    return None


def decoder_context(report) -> int | None:
    """The sequence length of the first causal self-attention layer (a decoder), or None."""
    for row in report.layers:
        a = row.args
        if row.type in ("GroupedQueryAttention", "MultiheadAttention", "TransformerEncoderLayer") and \
                a.get("is_causal") and len(row.input_shapes) == 1:
            s = row.input_shapes[0]
            if len(s) == 2:
                return s[0]
            first = a.get("batch_first", True) if row.type != "GroupedQueryAttention" else True
            return s[1] if first else s[0]
    return None


def cost_summary(c, precision: str, tokens=None, steps=None, acc=None, name: str | None = None,
                 mfu: float = 0.4) -> tuple[dict, list[dict] | None]:
    """The figures of ``cost`` beyond the rows: totals over ``tokens`` or ``steps`` (beside 6ND), the
    decoder's prefill and per-token cost, and with an accelerator the roofline rows and times.

    Returns ``(summary, roofline rows or None)``; with an accelerator, ``c`` keeps the roofline rows too
    (``c.roofline``, ``c.ridge``), so its block tree folds them. Raises ValueError for ``tokens`` on a spec
    without an integer (token id) input."""
    report = c.report
    summary: dict = {"precision": precision}
    per_step = c.totals["training_flops"]
    if tokens is not None:
        tps = tokens_per_step(report)
        if tps is None:
            raise ValueError("the spec has no integer (token id) input to count tokens in; use --steps")
        n_steps = tokens / tps
        n = report.totals["trainable_params"]
        six_nd = 6 * n * tokens
        summary.update(tokens=tokens, tokens_per_step=tps, steps=n_steps, training_flops_total=per_step * n_steps,
                       six_nd=six_nd, vs_six_nd=per_step * n_steps / six_nd - 1 if six_nd else None)
    elif steps is not None:
        summary.update(steps=steps, training_flops_total=per_step * steps)
    t = decoder_context(report)
    if t:
        f, m = c.totals["forward_flops"], c.totals["forward_macs"]
        summary.update(context=t, prefill_macs=m, prefill_flops=f, per_token_macs=m / t if m % t else m // t,
                       per_token_flops=f / t if f % t else f // t)
    roof = None
    if acc is not None:
        roof, model = roofline(report, precision, acc)
        c.roofline, c.ridge = roof, (model["peak_flops"], model["bandwidth"])
        total = summary.get("training_flops_total", per_step)
        seconds = total / (model["peak_flops"] * mfu)
        summary.update(accelerator=name, mfu=mfu, peak_flops=model["peak_flops"], bandwidth=model["bandwidth"],
                       forward_latency_floor_s=model["latency_floor_s"], training_seconds=seconds,
                       accelerator_hours=seconds / 3600)
    return summary, roof
