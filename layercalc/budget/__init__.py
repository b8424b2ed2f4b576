"""Memory and compute budgets of a spec: ``memory()`` (bytes for inference and training) and ``cost()``
(forward, backward and training MACs and FLOPs). Conventions: docs/memory.md."""

from __future__ import annotations

from math import prod

from .analysis import ATTENTION, DEVICES, FIELDS, Options, analyze_memory
from .tables import OPTIMIZERS, PRECISIONS


class _ExtendedReport:
    """A report of section 4 whose rows carry further figures (``self.rows``, one dict per layer):
    the layers are the base report's, and the block tree sums the further figures too."""

    #: figures that are not sums over a block's layers but the largest of them
    PEAKS = ()

    @property
    def layers(self):
        return self.report.layers

    def row_figures(self) -> list[dict]:
        """A dict of further figures per layer, in the order of ``layers`` (what the tree sums)."""
        return self.rows

    def tree(self):
        """The block tree (:mod:`layercalc.tree`): a block instance or repeat sums its layers' figures,
        except those of ``PEAKS`` (the largest of its layers')."""
        from ..tree import build_tree

        return build_tree(self.report.layers, self.report.inputs, None, {k: max for k in self.PEAKS},
                          extra=self.row_figures())


class MemoryReport(_ExtendedReport):
    """The report of section 4 with byte counts on every row and in the totals (``to_dict`` is the JSON).

    A block row of its tree (and of its tables folded with ``--depth``) sums its layers' weights,
    buffers, gradients, optimizer state, master weights, saved activations and KV cache; its
    ``output_bytes`` are those of the block's output (the value the block hands on, as its output
    shape is), and its peaks the largest of its layers' (the most in use while any of them runs).
    """

    PEAKS = ("inference_peak_bytes", "training_peak_bytes")

    def __init__(self, report, rows: list[dict], totals: dict, breakdown: dict, options: Options):
        self.report = report
        self.rows = rows
        self.totals = totals
        self.breakdown = breakdown
        self.options = options

    def with_dict(self, d: dict):
        """A view of this report whose ``to_dict`` is ``d`` (for the JSON renderer)."""
        view = MemoryReport(self.report, self.rows, self.totals, self.breakdown, self.options)
        view.to_dict = lambda: d
        return view

    def tree(self):
        from ..tree import LEAF

        roots = super().tree()
        index = {row.name: i for i, row in enumerate(self.report.layers)}
        for root in roots:
            for node in root.walk():
                if node.kind != LEAF:
                    node.figures["output_bytes"] = self._output_bytes(node, index)
        return roots

    def _output_bytes(self, node, index: dict) -> int:
        """The bytes of a block's output: the output of the layer that makes it (a named extra output, such
        as a recurrent layer's final state, at the element size of that layer's output)."""
        src = node.group.output
        i = index.get(src.node) if src is not None else None
        if i is None:  # a block that hands on a model input unchanged: its last layer's output
            last = node
            while last.children:
                last = last.children[-1]
            return last.figures["output_bytes"]
        nbytes = self.rows[i]["output_bytes"]
        if src.extra is None:
            return nbytes
        row = self.report.layers[i]
        return prod(row.extra_outputs[src.extra]) * (nbytes // max(prod(row.output_shape), 1))

    def to_dict(self) -> dict:
        d = self.report.to_dict()
        for row, extra in zip(d["layers"], self.rows):
            row.update({k: extra[k] for k in FIELDS})
        d["totals"] = dict(d["totals"])
        d["totals"].update({k: self.totals[k] for k in FIELDS})
        d["totals"]["master_weight_bytes"] = self.totals["master_weight_bytes"]
        d["memory"] = {"optimizer": self.options.optimizer, "precision": self.options.precision,
                       "device": self.options.device, "attention": self.options.attention,
                       "checkpoint": list(self.options.checkpoint), "breakdown": self.breakdown}
        return d


def _load(source, dims, vars, max_layers, file):
    from ..engine import _no_gc, load_graph, run_graph
    from ..spec.graph import DEFAULT_MAX_LAYERS

    with _no_gc():
        graph = load_graph(source, dims=dims, vars=vars, max_layers=max_layers or DEFAULT_MAX_LAYERS, file=file)
        return graph, run_graph(graph)


def memory(source, dims: dict | None = None, vars: dict | None = None, optimizer: str = "adamw",
           precision: str = "fp32", device: str = "cuda", attention: str = "math", checkpoint=(),
           max_layers: int | None = None, file: str | None = None) -> MemoryReport:
    """Bytes of a spec for inference and training (see docs/memory.md).

    Raises ValueError for an unknown optimizer, precision, device or attention kernel, SpecError for
    an invalid spec.
    """
    opts = Options(optimizer, precision, device, attention, checkpoint)
    graph, report = _load(source, dims, vars, max_layers, file)
    check_checkpoint(report, opts.checkpoint)
    out = analyze_memory(graph, report, opts)
    return MemoryReport(report, out["rows"], out["totals"], out["breakdown"], opts)


def check_checkpoint(report, patterns) -> None:
    """Every --checkpoint name must be ``all`` or name a block instance (or repeated block) of the spec."""
    for p in patterns:
        if p == "all":
            continue
        if not any(r.name.startswith(p + ".") for r in report.layers):
            blocks = sorted({r.name.split(".")[0] for r in report.layers if "." in r.name})
            raise ValueError(f"--checkpoint {p!r} names no block instance of the spec; expected 'all' or one of "
                             f"{', '.join(blocks) or '(the spec has no blocks)'}")


__all__ = ["memory", "cost", "CostReport", "MemoryReport", "OPTIMIZERS", "PRECISIONS", "DEVICES", "ATTENTION"]


class CostReport(_ExtendedReport):
    """The report of section 4 with forward, backward and training MACs and FLOPs on rows and totals.

    ``roofline`` (None until placed on an accelerator) holds a dict per row: ``bytes_moved`` and, with
    ``ridge`` (the accelerator's peak FLOP/s and bandwidth), ``intensity``, ``bound`` and
    ``latency_floor_s``. A block row of its tree sums its layers' MACs, FLOPs, bytes moved and latency
    floors (the layers run one after another); its intensity is its forward FLOPs over its bytes moved,
    and its bound follows from that: compute where its FLOPs take the peak longer than its bytes take
    the bandwidth (see :func:`layercalc.budget.roofline.bound`).
    """

    def __init__(self, report, rows: list[dict], totals: dict, options: dict):
        self.report = report
        self.rows = rows
        self.totals = totals
        self.options = options
        self.roofline: list[dict] | None = None
        self.ridge: tuple | None = None

    def with_dict(self, d: dict):
        view = CostReport(self.report, self.rows, self.totals, self.options)
        view.roofline, view.ridge = self.roofline, self.ridge
        view.to_dict = lambda: d
        return view

    def row_figures(self) -> list[dict]:
        if self.roofline is None:
            return self.rows
        return [{**r, **f} for r, f in zip(self.rows, self.roofline)]

    def tree(self):
        roots = super().tree()
        if self.ridge is not None:
            from .roofline import fold_roofline

            fold_roofline(roots, self.roofline, *self.ridge)
        return roots

    def to_dict(self) -> dict:
        d = self.report.to_dict()
        for row, extra in zip(d["layers"], self.rows):
            row.update(extra)
        d["totals"] = dict(d["totals"])
        d["totals"].update(self.totals)
        d["cost"] = dict(self.options)
        return d


def cost(source, dims: dict | None = None, vars: dict | None = None, attention: str = "math", checkpoint=(),
         max_layers: int | None = None, file: str | None = None) -> CostReport:
    """Forward, backward and training MACs and FLOPs of a spec (see docs/memory.md)."""
    from .compute import analyze_cost

    if attention not in ATTENTION:
        raise ValueError(f"unknown attention {attention!r}; expected one of {', '.join(ATTENTION)}")
    graph, report = _load(source, dims, vars, max_layers, file)
    check_checkpoint(report, checkpoint)
    out = analyze_cost(graph, report, flash=attention == "flash", checkpoint=tuple(checkpoint or ()))
    return CostReport(report, out["rows"], out["totals"], {"attention": attention, "checkpoint": list(checkpoint)})
