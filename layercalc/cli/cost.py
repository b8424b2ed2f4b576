"""`cost`: forward, backward and training MACs and FLOPs; totals over tokens or steps beside 6ND; the
prefill and per-token cost of a decoder; roofline and time on an accelerator."""

from typing import List, Optional

import typer

from .memory import AcceleratorOpt, AcceleratorsFileOpt, AttentionOpt, CheckpointOpt, PrecisionOpt, \
    resolve_accelerator
from .options import (DepthOpt, DimOpt, MaxLayersOpt, REPORT_FORMATS, SpecArg, SymbolicOpt, VarOpt, check_choice,
                      fail, parse_depth, parse_pairs, symbolic_or_exit)


CostFormatOpt = typer.Option("table", "--format", "-f", help="Output format: table, json, csv, markdown, html (one "
                             "self-contained page: totals, the table folded by block, charts and the graph) or, "
                             "with --symbolic, latex.")


def register(app) -> None:
    @app.command()
    def cost(spec: str = SpecArg, fmt: str = CostFormatOpt, dim: Optional[List[str]] = DimOpt,
             var: Optional[List[str]] = VarOpt, attention: str = AttentionOpt,
             checkpoint: Optional[List[str]] = CheckpointOpt, precision: str = PrecisionOpt,
             tokens: Optional[float] = typer.Option(None, "--tokens", min=1, help="Training tokens: total compute "
                                                    "over this many, beside 6ND (e.g. 3e11)."),
             steps: Optional[float] = typer.Option(None, "--steps", min=1, help="Training steps: total compute "
                                                   "over this many steps of the spec's batch."),
             accelerator: Optional[str] = AcceleratorOpt, accelerators: Optional[str] = AcceleratorsFileOpt,
             mfu: float = typer.Option(0.4, "--mfu", min=0.0001, max=1.0, help="Model FLOPs utilization for the "
                                       "training time (with --accelerator)."),
             max_layers: int = MaxLayersOpt, depth: Optional[str] = DepthOpt,
             symbolic: Optional[str] = SymbolicOpt):
        """Forward, backward and training MACs and FLOPs per layer (backward as PyTorch runs it: no input
        gradient for the model's inputs or before the first trainable layer, no weight gradient for
        trainable: false, recomputation for --checkpoint).

        Examples:

          layercalc cost specs/gpt3-175b.yaml --tokens 3e11 --accelerator h100-sxm --mfu 0.4

          layercalc cost specs/llama2-7b.yaml --precision bf16 --accelerator h100-sxm --format json

          layercalc cost specs/gpt2-small.yaml --symbolic B,T --tokens 3e11

          layercalc cost specs/gpt3-175b.yaml --accelerator h100-sxm --depth all
        """
        from ..budget import ATTENTION, PRECISIONS

        check_choice(fmt, REPORT_FORMATS + (("latex",) if symbolic is not None else ("html",)), "--format")
        check_choice(attention, ATTENTION, "--attention")
        check_choice(precision, PRECISIONS, "--precision")
        folding = parse_depth(depth)
        if tokens is not None and steps is not None:
            fail("give --tokens or --steps, not both", 2)
        dims, vars_ = parse_pairs(dim, "--dim", True), parse_pairs(var, "--var", False)
        name, acc = resolve_accelerator(accelerator, accelerators)
        from ..budget import cost as run_cost
        from ..errors import SpecError

        if symbolic is not None:
            _symbolic(spec, symbolic, fmt, dims, vars_, attention, checkpoint, precision, tokens, steps, acc, name,
                      mfu, max_layers, ("auto" if fmt == "table" else None) if folding is None else folding)
            return

        try:
            c = run_cost(spec, dims=dims, vars=vars_, attention=attention, checkpoint=tuple(checkpoint or ()),
                         max_layers=max_layers)
        except SpecError as exc:
            fail(str(exc))
        except ValueError as exc:
            fail(str(exc), 2)
        from ..budget.roofline import cost_summary

        try:
            summary, roof = cost_summary(c, precision, tokens, steps, acc, name, mfu)
        except ValueError as exc:
            raise typer.BadParameter(str(exc), param_hint="--tokens") from None
        if fmt == "json":
            from ..render.plain import to_json

            d = c.to_dict()
            if roof:
                for row, r in zip(d["layers"], roof):
                    row.update(r)
            d["cost"].update(summary)
            typer.echo(to_json(c.with_dict(d)))
            return
        if fmt == "html":
            from ..engine import load_graph
            from ..render.html import cost_page

            graph = load_graph(spec, dims=dims, vars=vars_, max_layers=max_layers)
            typer.echo(cost_page(c, graph, summary, roof), nl=False)
            return
        from ..render.budget import DEFAULT, render_cost

        text = render_cost(c, fmt, summary, depth=DEFAULT if folding is None else folding)
        if text is not None:
            typer.echo(text)


def _symbolic(spec, symbolic, fmt, dims, vars_, attention, checkpoint, precision, tokens, steps, acc, name, mfu,
              max_layers, depth) -> None:
    """``cost --symbolic``: the figures as formulas; those that are not polynomials are listed with the reason."""
    from ..symbolic.cost import cost_symbolic, render

    sc = symbolic_or_exit(cost_symbolic, spec, symbolic, dims=dims, vars=vars_, attention=attention,
                          checkpoint=tuple(checkpoint or ()), precision=precision, tokens=tokens, steps=steps,
                          acc=acc, name=name, mfu=mfu, max_layers=max_layers)
    text = render(sc, fmt, depth=depth)
    if text is not None:
        typer.echo(text)
