"""`memory`: bytes of a spec for training and inference, per layer and in total; fits and --max-batch."""

from typing import List, Optional

import typer

from .options import (DepthOpt, DimOpt, FormatOpt, MaxLayersOpt, REPORT_FORMATS, SpecArg, SymbolicOpt, VarOpt,
                      check_choice, fail, parse_depth, parse_pairs, symbolic_or_exit)

OptimizerOpt = typer.Option("adamw", "--optimizer", help="sgd, sgd-momentum, adam, adamw, adam-amsgrad or adafactor: "
                            "the state torch.optim keeps (step counters included).")
PrecisionOpt = typer.Option("fp32", "--precision", help="fp32, bf16, fp16 (the model in that dtype), amp-bf16, "
                            "amp-fp16 (torch.autocast) or mixed-bf16, mixed-fp16 (16-bit weights and gradients, "
                            "float32 master weights and optimizer state).")
DeviceOpt = typer.Option("cuda", "--device", help="cuda or cpu: the conventions that differ (dropout masks, "
                         "normalization statistics, the math attention kernel's precision).")
AttentionOpt = typer.Option("math", "--attention", help="math (saves the T x T probabilities) or flash (saves the "
                            "log-sum-exp).")
CheckpointOpt = typer.Option(None, "--checkpoint", metavar="BLOCK", help="Recompute these block instances in "
                             "backward (a repeated block's name covers each instance; 'all': every top-level block); "
                             "repeatable.")
AcceleratorOpt = typer.Option(None, "--accelerator", metavar="NAME", help="Compare with this device's memory: "
                              "h100-sxm, h200, a100-80gb-sxm, l4, mi300x, tpu-v5e, or one of --accelerators FILE.")
AcceleratorsFileOpt = typer.Option(None, "--accelerators", metavar="FILE", help="A YAML/JSON file of more "
                                   "accelerators (docs/memory.md).")


def resolve_options(optimizer, precision, device, attention):
    from ..budget import ATTENTION, DEVICES, OPTIMIZERS, PRECISIONS

    check_choice(optimizer, OPTIMIZERS, "--optimizer")
    check_choice(precision, PRECISIONS, "--precision")
    check_choice(device, DEVICES, "--device")
    check_choice(attention, ATTENTION, "--attention")


def resolve_accelerator(name, path):
    """(name, Accelerator) or (None, None); usage errors exit 2 with the choices."""
    if name is None:
        if path:
            fail("--accelerators FILE needs --accelerator NAME", 2)
        return None, None
    from ..budget.accelerators import load_table, normalize

    try:
        table = load_table(path)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--accelerators") from None
    key = normalize(name)
    if key not in table:
        raise typer.BadParameter(f"{name!r} is not one of {', '.join(table)}", param_hint="--accelerator")
    return key, table[key]


def register(app) -> None:
    @app.command()
    def memory(spec: str = SpecArg, fmt: str = FormatOpt, dim: Optional[List[str]] = DimOpt,
               var: Optional[List[str]] = VarOpt, optimizer: str = OptimizerOpt, precision: str = PrecisionOpt,
               device: str = DeviceOpt, attention: str = AttentionOpt,
               checkpoint: Optional[List[str]] = CheckpointOpt,
               capacity: Optional[str] = typer.Option(None, "--memory", metavar="SIZE", help="Compare the peak with "
                                                      "this much device memory, e.g. 80GB, 24GiB."),
               accelerator: Optional[str] = AcceleratorOpt, accelerators: Optional[str] = AcceleratorsFileOpt,
               max_batch: Optional[str] = typer.Option(None, "--max-batch", metavar="DIM", help="Find the largest "
                                                       "value of this dim whose peak fits (needs --memory or "
                                                       "--accelerator)."),
               inference: bool = typer.Option(False, "--inference", help="Fit the inference peak plus the KV "
                                              "cache instead of the training peak."),
               max_layers: int = MaxLayersOpt, depth: Optional[str] = DepthOpt,
               symbolic: Optional[str] = SymbolicOpt):
        """Bytes for training and inference: weights, gradients, optimizer state, activations saved for backward,
        live activations, KV cache; per layer and in total.

        Examples:

          layercalc memory specs/gpt2-small.yaml --precision amp-bf16 --optimizer adamw --dim B=8

          layercalc memory specs/llama2-7b.yaml --accelerator h100-sxm --max-batch B --checkpoint all

          layercalc memory specs/gpt3-175b.yaml --depth 3 --format csv
        """
        check_choice(fmt, REPORT_FORMATS + ("html",), "--format")
        folding = parse_depth(depth)
        resolve_options(optimizer, precision, device, attention)
        dims, vars_ = parse_pairs(dim, "--dim", True), parse_pairs(var, "--var", False)
        name, acc = resolve_accelerator(accelerator, accelerators)
        cap = None
        if capacity is not None:
            from ..budget.accelerators import parse_size

            try:
                cap = parse_size(capacity)
            except ValueError as exc:
                raise typer.BadParameter(str(exc), param_hint="--memory") from None
        elif acc is not None:
            cap = acc.memory
        if max_batch is not None and cap is None:
            fail("--max-batch needs --memory SIZE or --accelerator NAME", 2)
        from ..errors import SpecError
        from ..budget import memory as run_memory

        if symbolic is not None:
            _symbolic(spec, symbolic, fmt, dims, vars_, cap, max_batch, optimizer, precision, device, attention,
                      checkpoint, max_layers)
            return

        kw = dict(vars=vars_, optimizer=optimizer, precision=precision, device=device, attention=attention,
                  checkpoint=tuple(checkpoint or ()), max_layers=max_layers)
        try:
            m = run_memory(spec, dims=dims, **kw)
        except SpecError as exc:
            fail(str(exc))
        except ValueError as exc:
            fail(str(exc), 2)
        fitted = None
        if cap is not None:
            from ..budget.fit import fit, max_value

            mode = "inference" if inference else "training"
            fitted = fit(m.totals, cap, name or capacity, mode)
            if max_batch is not None:
                if max_batch not in m.report.dims:
                    raise typer.BadParameter(f"{max_batch!r} is not a dim of the spec; its dims: "
                                             f"{', '.join(m.report.dims) or '(none)'}", param_hint="--max-batch")

                def peak_at(value):
                    try:
                        mm = run_memory(spec, dims={**dims, max_batch: value}, **kw)
                    except SpecError:
                        return cap + 1  # a value the spec refuses (e.g. T beyond the context) does not fit
                    return fit(mm.totals, cap, "", mode)["peak"]

                fitted["dim"] = max_batch
                fitted["max_batch"] = max_value(peak_at, cap)
        if fmt == "json":
            d = m.to_dict()
            if fitted:
                d["memory"]["fit"] = fitted
            from ..render.plain import to_json

            typer.echo(to_json(m.with_dict(d)))
            return
        if fmt == "html":
            from ..engine import load_graph
            from ..render.html import memory_page

            graph = load_graph(spec, dims=dims, vars=vars_, max_layers=max_layers)
            typer.echo(memory_page(m, graph, fitted), nl=False)
            return
        from ..render.budget import DEFAULT, render_memory

        text = render_memory(m, fmt, fitted, depth=DEFAULT if folding is None else folding)
        if text is not None:
            typer.echo(text)


def _symbolic(spec, symbolic, fmt, dims, vars_, cap, max_batch, optimizer, precision, device, attention, checkpoint,
              max_layers) -> None:
    """``memory --symbolic``: the byte counts as formulas (json: ``{"expr", "valid", ...}`` objects)."""
    from ..symbolic.budget import memory_symbolic, to_dict, to_text

    if cap is not None or max_batch is not None:
        fail("--symbolic gives formulas; it does not combine with --memory, --accelerator or --max-batch", 2)
    if fmt not in ("table", "json"):
        fail("memory --symbolic prints a table of formulas or json; use --format table or json", 2)
    srep, m = symbolic_or_exit(memory_symbolic, spec, symbolic, dims=dims, vars=vars_, optimizer=optimizer,
                               precision=precision, device=device, attention=attention,
                               checkpoint=tuple(checkpoint or ()), max_layers=max_layers)
    if fmt == "json":
        import json

        d = to_dict(srep, m)
        typer.echo("{\n" + ",\n".join(f"  {json.dumps(k)}: {json.dumps(v)}" for k, v in d.items()) + "\n}")
    else:
        typer.echo(to_text(srep, m))
