"""``verify``: the reference executor against the rules engine, layer by layer.

load -> rules engine report -> reference run (whole spec, or one probe per
layer) -> :class:`VerifyResult`. Renderers live in :mod:`.render`.

A spec whose total MACs (and activation elements) fit the budget is run end
to end: every kernel gets the tensors its predecessors produced. A larger one
is probed: each layer alone at a tiny configuration of the same type and
structural arguments (see :mod:`.probe`), which the rules engine is asked too,
through a one-layer spec.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from math import prod

from ..engine import load_graph, run_graph
from ..errors import SpecError
from ..spec.graph import DEFAULT_MAX_LAYERS
from .kernel import run_kernel, seed_of
from .probe import probe_config
from .registry import KERNELS
from .tensor import FLOAT_DTYPES, Tensor, integers, uniform

DEFAULT_BUDGET = 10**7
CHECKS = ("output_shape", "extra_outputs", "param_shapes", "params", "buffer_shapes", "buffers", "macs", "flops")


@dataclass
class Check:
    """One compared quantity: what the rules engine says and what the reference did."""

    name: str
    rules: object
    reference: object

    @property
    def ok(self) -> bool:
        return self.rules == self.reference

    def describe(self) -> str:
        return f"{self.name}: rules {fmt(self.rules)}, reference {fmt(self.reference)}"

    def to_dict(self) -> dict:
        return {"name": self.name, "ok": self.ok, "rules": self.rules, "reference": self.reference}


def fmt(v) -> str:
    return json.dumps(v, sort_keys=True) if isinstance(v, (dict, list)) else str(v)


@dataclass
class LayerCheck:
    name: str
    type: str
    mode: str  # "full" or "probe"
    checks: list[Check] = field(default_factory=list)
    error: str | None = None  # the reference (or the probe's rules run) failed
    probe: dict | None = None  # the probe's arguments and input shapes

    @property
    def ok(self) -> bool:
        return self.error is None and all(c.ok for c in self.checks)

    @property
    def passed(self) -> int:
        return sum(c.ok for c in self.checks)

    def first_mismatch(self) -> str | None:
        if self.error is not None:
            return self.error
        for c in self.checks:
            if not c.ok:
                return c.describe()
        return None

    def to_dict(self) -> dict:
        d = {"name": self.name, "type": self.type, "mode": self.mode, "ok": self.ok,
             "checks": [c.to_dict() for c in self.checks]}
        if self.error is not None:
            d["error"] = self.error
        if self.probe is not None:
            d["probe"] = self.probe
        return d


@dataclass
class VerifyResult:
    name: str
    file: str
    mode: str  # "full" or "probe"
    total_macs: int
    budget: int
    layers: list[LayerCheck]
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return all(layer.ok for layer in self.layers)

    @property
    def mismatches(self) -> list[LayerCheck]:
        return [layer for layer in self.layers if not layer.ok]

    def to_dict(self) -> dict:
        return {"name": self.name, "file": self.file, "mode": self.mode, "ok": self.ok, "budget": self.budget,
                "total_macs": self.total_macs, "seconds": round(self.seconds, 3),
                "layers": [layer.to_dict() for layer in self.layers]}


# --- comparing one layer --------------------------------------------------------------------


def _shapes(d: dict) -> dict:
    return {k: list(v.shape if isinstance(v, Tensor) else v) for k, v in d.items()}


def compare(row, run, count_params: bool = True) -> list[Check]:
    """The checks of one layer: the rules' row against the reference's run."""
    checks = [
        Check("output_shape", list(row.output_shape), list(run.output.shape)),
        Check("extra_outputs", {k: list(v) for k, v in row.extra_outputs.items()}, _shapes(run.extras)),
        Check("param_shapes", _shapes(row.param_shapes), _shapes(run.params)),
    ]
    if count_params:
        checks.append(Check("params", row.params, run.allocated_params))
    checks.append(Check("buffer_shapes", _shapes(row.buffer_shapes), _shapes(run.buffers)))
    if count_params:
        checks.append(Check("buffers", row.buffers, run.allocated_buffers))
    checks += [Check("macs", row.macs, run.macs), Check("flops", row.flops, run.flops)]
    return checks


def random_input(name: str, shape, dtype: str, high: int) -> Tensor:
    import random

    rng = random.Random(seed_of("input:" + name))
    if dtype in FLOAT_DTYPES:
        return uniform(shape, rng, 1.0, dtype)
    return integers(shape, rng, high, dtype)


def _index_bound(rows) -> int:
    """Integer inputs index embeddings: draw them below the smallest num_embeddings in sight."""
    sizes = [r.args["num_embeddings"] for r in rows if isinstance(r.args.get("num_embeddings"), int)]
    return min(sizes) if sizes else 2


def _call(kernel, args, inputs, seed, reuse=None):
    try:
        return run_kernel(kernel, args, inputs, seed, reuse), None
    except Exception as exc:  # noqa: BLE001 - a kernel's failure is a verify finding, not a crash
        return None, f"reference failed: {type(exc).__name__}: {exc}"


def analyze_graph(graph):
    """The rules engine's report; each row carries ``written`` and ``given``, its arguments before any rule ran."""
    return run_graph(graph)


# --- the two modes --------------------------------------------------------------------------


def run_full(graph, report, progress=None) -> list[LayerCheck]:
    """Run the whole graph through the kernels, each layer on its predecessors' outputs."""
    high = _index_bound(report.layers)
    values, extras, runs = {}, {}, {}
    for i in graph.spec.inputs:
        values[i.name] = random_input(i.name, i.shape, i.dtype, high)
        extras[i.name] = {}
    out = []
    for node, row in zip(graph.nodes, report.layers):
        xs = [] if row.input_shapes == [] else [
            values[s.node] if s.extra is None else extras[s.node][s.extra] for s in node.inputs]
        reuse = None  # `share`: all of the owner's tensors; `tie`: its weight (when the owner ran)
        owner = runs.get(node.share or node.tie)
        if owner is not None:
            reuse = {**owner.params, **owner.buffers} if node.share else {"weight": owner.params.get("weight")}
            reuse = {k: v for k, v in reuse.items() if v is not None}
        run, error = _call(KERNELS[node.type], row.written, xs, seed_of(node.name), reuse)
        check = LayerCheck(node.name, node.type, "full", error=error)
        if run is not None:
            check.checks = compare(row, run)
        ok = run is not None and check.checks[0].ok and check.checks[1].ok
        if ok:
            values[node.name], extras[node.name], runs[node.name] = run.output, run.extras, run
        else:  # keep going on tensors of the rules' shapes, so one mistake is reported once
            dtype = xs[0].dtype if xs else "float32"
            values[node.name] = random_input(node.name, row.output_shape, dtype, high)
            extras[node.name] = {k: random_input(node.name + "." + k, v, dtype, high)
                                 for k, v in row.extra_outputs.items()}
            if run is not None:
                runs[node.name] = run
        out.append(check)
        if progress:
            progress()
    return out


def probe_layer(node_name: str, row, input_dtypes: list[str], cache: dict) -> LayerCheck:
    """Check one layer alone at a tiny configuration of the same type and structure."""
    args, shapes = probe_config(row.type, row.given, row.args, [tuple(s) for s in row.input_shapes])
    key = json.dumps([row.type, args, shapes, input_dtypes], sort_keys=True, default=list)
    if key not in cache:
        cache[key] = _probe(row.type, args, shapes, input_dtypes)
    checks, error = cache[key]
    return LayerCheck(node_name, row.type, "probe", checks=checks, error=error,
                      probe={"args": args, "input_shapes": shapes})


def one_layer_spec(layer_type: str, args: dict, shapes: list, dtypes: list) -> dict:
    """A spec of one layer on inputs in0, in1, ... (a layer without inputs gets a placeholder)."""
    inputs = {f"in{i}": {"shape": list(s), "dtype": d} for i, (s, d) in enumerate(zip(shapes, dtypes))}
    entry = {layer_type: args, "name": "probe"}
    if len(inputs) > 1:
        entry["from"] = list(inputs)
    return {"layercalc": 1, "name": f"probe-{layer_type}", "inputs": inputs or {"unused": [1]}, "layers": [entry]}


def _probe(layer_type, args, shapes, dtypes):
    spec = one_layer_spec(layer_type, args, shapes, dtypes)
    try:
        row = analyze_graph(load_graph(spec)).layers[-1]
    except SpecError as exc:
        return [], f"probe rejected by the rules engine: {exc.message}"
    high = _index_bound([row])
    xs = [random_input(f"in{i}", s, d, high) for i, (s, d) in enumerate(zip(shapes, dtypes))]
    run, error = _call(KERNELS[layer_type], row.written, xs, seed_of("probe"))
    return (compare(row, run) if run is not None else []), error


def verify(source, dims: dict | None = None, vars: dict | None = None, budget: int = DEFAULT_BUDGET,
           mode: str | None = None, progress=None, file: str | None = None,
           max_layers: int = DEFAULT_MAX_LAYERS) -> VerifyResult:
    """Cross-check every layer of a spec; raise :class:`SpecError` when the spec is invalid.

    ``mode`` forces "full" or "probe" (default: full when the spec fits ``budget``).
    ``progress(total)`` may return a callable that is called once per layer done.
    """
    start = time.perf_counter()
    graph = load_graph(source, dims=dims, vars=vars, max_layers=max_layers, file=file)
    report = analyze_graph(graph)
    macs = report.totals["macs"]
    elements = sum(prod(r.output_shape) for r in report.layers)
    if mode is None:
        mode = "full" if macs <= budget and elements <= budget else "probe"
    tick = progress(len(graph.nodes)) if progress else None
    if mode == "full":
        layers = run_full(graph, report, tick)
    else:
        dtypes = {i.name: i.dtype for i in graph.spec.inputs}
        cache: dict = {}
        layers = []
        for node, row in zip(graph.nodes, report.layers):
            in_dtypes = [_dtype_of(s, dtypes, graph) for s in node.inputs][:len(row.input_shapes)]
            layers.append(probe_layer(node.name, row, in_dtypes, cache))
            if tick:
                tick()
    return VerifyResult(report.name, report.file, mode, macs, budget, layers,
                        time.perf_counter() - start)


def _dtype_of(src, dtypes: dict, graph) -> str:
    """The dtype flowing along ``src``: an input's, else float32 unless an integer input passes through."""
    if src.node in dtypes:
        return dtypes[src.node]
    return _node_dtypes(graph).get(src.node, "float32")


def _node_dtypes(graph) -> dict:
    cached = getattr(graph, "_ref_dtypes", None)
    if cached is not None:
        return cached
    out = {i.name: i.dtype for i in graph.spec.inputs}
    for node in graph.nodes:
        ins = [out.get(s.node, "float32") for s in node.inputs]
        # layers that only move data keep an integer dtype; everything else computes in floating point
        if node.type in _DATA_MOVERS and ins:
            out[node.name] = ins[0]
        else:
            out[node.name] = "float32"
    graph._ref_dtypes = out
    return out


_DATA_MOVERS = {"Identity", "Flatten", "Unflatten", "Reshape", "Permute", "Transpose", "Select", "Slice", "Expand",
                "Concat", "Dropout", "ZeroPad1d", "ZeroPad2d", "ZeroPad3d", "ConstantPad1d", "ConstantPad2d",
                "ConstantPad3d"}
