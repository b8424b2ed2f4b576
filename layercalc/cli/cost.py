"""`cost`: forward, backward and training MACs and FLOPs; totals over tokens or steps beside 6ND; the
prefill and per-token cost of a decoder; roofline and time on an accelerator."""

from typing import List, Optional

import typer

from .memory import AcceleratorOpt, AcceleratorsFileOpt, AttentionOpt, CheckpointOpt, PrecisionOpt, \
    resolve_accelerator
from .options import DimOpt, FormatOpt, MaxLayersOpt, REPORT_FORMATS, SpecArg, VarOpt, check_choice, fail, parse_pairs


def register(app) -> None:
    @app.command()
    def cost(spec: str = SpecArg, fmt: str = FormatOpt, dim: Optional[List[str]] = DimOpt,
             var: Optional[List[str]] = VarOpt, attention: str = AttentionOpt,
             checkpoint: Optional[List[str]] = CheckpointOpt, precision: str = PrecisionOpt,
             tokens: Optional[float] = typer.Option(None, "--tokens", min=1, help="Training tokens: total compute "
                                                    "over this many, beside 6ND (e.g. 3e11)."),
             steps: Optional[float] = typer.Option(None, "--steps", min=1, help="Training steps: total compute "
                                                   "over this many steps of the spec's batch."),
             accelerator: Optional[str] = AcceleratorOpt, accelerators: Optional[str] = AcceleratorsFileOpt,
             mfu: float = typer.Option(0.4, "--mfu", min=0.0001, max=1.0, help="Model FLOPs utilization for the "
                                       "training time (with --accelerator)."),
             max_layers: int = MaxLayersOpt):
        """Forward, backward and training MACs and FLOPs per layer (backward as PyTorch runs it: no input
        gradient for the model's inputs or before the first trainable layer, no weight gradient for
        trainable: false, recomputation for --checkpoint).

        Examples:

          layercalc cost specs/gpt3-175b.yaml --tokens 3e11 --accelerator h100-sxm --mfu 0.4

          layercalc cost specs/llama2-7b.yaml --precision bf16 --accelerator h100-sxm --format json
        """
        from ..budget import ATTENTION, PRECISIONS

        check_choice(fmt, REPORT_FORMATS, "--format")
        check_choice(attention, ATTENTION, "--attention")
        check_choice(precision, PRECISIONS, "--precision")
        if tokens is not None and steps is not None:
            fail("give --tokens or --steps, not both", 2)
        dims, vars_ = parse_pairs(dim, "--dim", True), parse_pairs(var, "--var", False)
        name, acc = resolve_accelerator(accelerator, accelerators)
        from ..budget import cost as run_cost
        from ..errors import SpecError

        try:
            c = run_cost(spec, dims=dims, vars=vars_, attention=attention, checkpoint=tuple(checkpoint or ()),
                         max_layers=max_layers)
        except SpecError as exc:
            fail(str(exc))
        except ValueError as exc:
            fail(str(exc), 2)
        from ..budget.roofline import decoder_context, roofline, tokens_per_step

        report = c.report
        summary = {"precision": precision}
        per_step = c.totals["training_flops"]
        if tokens is not None:
            tps = tokens_per_step(report)
            if tps is None:
                raise typer.BadParameter("the spec has no integer (token id) input to count tokens in; use --steps",
                                         param_hint="--tokens")
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
            total = summary.get("training_flops_total", per_step)
            seconds = total / (model["peak_flops"] * mfu)
            summary.update(accelerator=name, mfu=mfu, peak_flops=model["peak_flops"],
                           bandwidth=model["bandwidth"], forward_latency_floor_s=model["latency_floor_s"],
                           training_seconds=seconds, accelerator_hours=seconds / 3600)
        if fmt == "json":
            from ..render.plain import to_json

            d = c.to_dict()
            if roof:
                for row, r in zip(d["layers"], roof):
                    row.update(r)
            d["cost"].update(summary)
            typer.echo(to_json(c.with_dict(d)))
            return
        from ..render.budget import render_cost

        text = render_cost(c, fmt, summary, roof)
        if text is not None:
            typer.echo(text)
