"""``verify``: the reference executor against the rules engine, layer by layer.

load -> expanded graph -> rules engine report, and independently the
reference executor's own reading of each layer's written arguments
(:mod:`layercalc.reference.signatures`) -> reference run (whole spec, or one
probe per layer) -> :class:`VerifyResult`. Renderers live in
:mod:`layercalc.reference.render`.

The two sides share the YAML loader and the graph expansion (names, blocks,
``from``) and nothing about layers: the rules' resolved arguments never reach
the executor, so a wrong default, a wrong expansion of a per-dimension
argument, or a validation the rules lack shows up as a different shape, count
or a refusal.

A spec whose work (what the executor will really do: inputs and outputs times
window sizes, dense products, parameter tables) fits the budget is run end to
end: every kernel gets the tensors its predecessors produced. A larger one is
probed: each layer alone at a small configuration of the same type and
structural arguments (see :mod:`layercalc.reference.probe`), which the rules
engine is asked too, through a one-layer spec. A layer whose probe still
cannot be made small, or that runs out of memory, is reported as skipped
("too large to run"), not as a mismatch.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from math import prod

from .engine import load_graph, run_graph
from .errors import SpecError
from .reference.kernel import run_kernel, seed_of
from .reference.probe import probe_config
from .reference.refuse import empty_output, refusal
from .reference.registry import KERNELS
from .reference.signatures import ArgError, parse_args, written
from .reference.tensor import FLOAT_DTYPES, Tensor, integers, uniform
from .spec.graph import DEFAULT_MAX_LAYERS

DEFAULT_BUDGET = 10**7
#: the largest work a single probe may take; above it the layer is skipped as too large to run
PROBE_BUDGET = 2 * 10**6
CHECKS = ("output_shape", "extra_outputs", "param_shapes", "params", "buffer_shapes", "buffers", "macs", "flops")
TOO_LARGE = "skipped: too large to run"
#: seconds after which the remaining layers are skipped, so that verify of any spec ends within a minute
TIME_LIMIT = 45.0
OUT_OF_TIME = "skipped: verify's time limit reached"


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
    mode: str  # "full", "probe" or "skipped"
    checks: list[Check] = field(default_factory=list)
    error: str | None = None  # the reference refused the layer, or the probe's rules run failed
    probe: dict | None = None  # the probe's arguments and input shapes
    skipped: str | None = None  # why the layer was not run (too large): not a mismatch

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
        if self.skipped is not None:
            d["skipped"] = self.skipped
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
    work: int = 0

    @property
    def ok(self) -> bool:
        return all(layer.ok for layer in self.layers)

    @property
    def mismatches(self) -> list[LayerCheck]:
        return [layer for layer in self.layers if not layer.ok]

    @property
    def skipped(self) -> list[LayerCheck]:
        return [layer for layer in self.layers if layer.skipped is not None]

    def to_dict(self) -> dict:
        return {"name": self.name, "file": self.file, "mode": self.mode, "ok": self.ok, "budget": self.budget,
                "total_macs": self.total_macs, "work": self.work, "seconds": round(self.seconds, 3),
                "skipped": len(self.skipped), "layers": [layer.to_dict() for layer in self.layers]}


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


def _index_bound(ref_args) -> int:
    """Integer inputs index embeddings: draw them below the smallest num_embeddings in sight."""
    sizes = [a["num_embeddings"] for a in ref_args if a and isinstance(a.get("num_embeddings"), int)]
    return min(sizes) if sizes else 2


def _call(layer_type, args, inputs, seed, reuse=None):
    """Check what torch refuses, run the kernel; return (run, error, skipped)."""
    why = refusal(layer_type, args, [x.shape for x in inputs])
    if why:
        return None, f"reference refuses: {why}", None
    try:
        run = run_kernel(KERNELS[layer_type], args, inputs, seed, reuse)
        why = empty_output(layer_type, run.output.shape)
        if why:
            return None, f"reference refuses: {why}", None
        return run, None, None
    except (MemoryError, RecursionError):
        return None, None, TOO_LARGE + " (out of memory)"
    except Exception as exc:  # noqa: BLE001 - a kernel's refusal is a verify finding, not a crash
        return None, f"reference refuses: {type(exc).__name__}: {exc}", None


def reference_args(node) -> tuple[dict | None, str | None]:
    """The executor's own reading of what ``node`` wrote (never the rules' resolved arguments)."""
    try:
        return parse_args(node.type, node.args, node.env), None
    except ArgError as exc:
        return None, f"reference refuses: {exc}"


def analyze_graph(graph):
    """The rules engine's report."""
    return run_graph(graph)


# --- how much work the executor will do -------------------------------------------------------

_POOLS = {f"{kind}Pool{n}d" for kind in ("Max", "Avg", "LP") for n in (1, 2, 3)}
_ADAPTIVE = {f"Adaptive{kind}Pool{n}d" for kind in ("Max", "Avg") for n in (1, 2, 3)}


def layer_work(row, args: dict | None) -> int:
    """About how many Python operations the reference kernel of ``row`` will perform: its dense products and
    element-wise operations, every input and output element times the window it reads, its tables."""
    ins = sum(prod(s) for s in row.input_shapes)
    out = prod(row.output_shape) + sum(prod(s) for s in row.extra_outputs.values())
    window = 1
    if args:
        if row.type in _POOLS:
            window = prod(k for k in args["kernel_size"]) if isinstance(args["kernel_size"], tuple) else \
                args["kernel_size"]
        elif row.type in _ADAPTIVE and row.input_shapes:
            n = int(row.type[-2])
            window = prod(-(-i // max(1, o)) + 1 for i, o in zip(row.input_shapes[0][-n:], row.output_shape[-n:]))
        elif row.type == "LocalResponseNorm":
            window = args["size"]
        elif row.type == "Upsample":
            window = 16
    tables = sum(prod(s) for s in row.param_shapes.values()) + sum(prod(s) for s in row.buffer_shapes.values())
    return row.macs + max(0, row.flops - 2 * row.macs) + ins + out * window + tables


# --- the two modes --------------------------------------------------------------------------


def run_full(graph, report, ref_args, progress=None) -> list[LayerCheck]:
    """Run the whole graph through the kernels, each layer on its predecessors' outputs."""
    high = _index_bound(ref_args)
    values, extras, runs = {}, {}, {}
    for i in graph.spec.inputs:
        values[i.name] = random_input(i.name, i.shape, i.dtype, high)
        extras[i.name] = {}
    out = []
    for node, row, (args, refused) in zip(graph.nodes, report.layers, ref_args.items_list):
        xs = [] if row.input_shapes == [] else [
            values[s.node] if s.extra is None else extras[s.node][s.extra] for s in node.inputs]
        reuse = None  # `share`: all of the owner's tensors; `tie`: its weight (when the owner ran)
        owner = runs.get(node.share or node.tie)
        if owner is not None:
            reuse = {**owner.params, **owner.buffers} if node.share else {"weight": owner.params.get("weight")}
            reuse = {k: v for k, v in reuse.items() if v is not None}
        run, error, skipped = (None, refused, None) if refused else \
            _call(node.type, args, xs, seed_of(node.name), reuse)
        check = LayerCheck(node.name, node.type, "skipped" if skipped else "full", error=error, skipped=skipped)
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


def probe_layer(node, row, input_dtypes: list[str], cache: dict) -> LayerCheck:
    """Check one layer alone at a small configuration of the same type and structure."""
    try:
        full_args = parse_args(node.type, node.args, node.env)
        given = written(node.type, node.args, node.env)
    except ArgError as exc:
        return LayerCheck(node.name, row.type, "probe", error=f"reference refuses: {exc}")
    try:
        args, shapes = probe_config(row.type, given, full_args, [tuple(s) for s in row.input_shapes])
    except (ArithmeticError, ValueError, TypeError, IndexError, KeyError) as exc:
        return LayerCheck(node.name, row.type, "probe", error=f"no probe of this layer could be built ({exc})")
    key = json.dumps([row.type, args, shapes, input_dtypes], sort_keys=True, default=list)
    if key not in cache:
        cache[key] = _probe(row.type, args, shapes, input_dtypes)
    checks, error, skipped = cache[key]
    return LayerCheck(node.name, row.type, "skipped" if skipped else "probe", checks=checks, error=error,
                      probe={"args": args, "input_shapes": shapes}, skipped=skipped)


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
        graph = load_graph(spec)
        row = analyze_graph(graph).layers[-1]
    except SpecError as exc:
        return [], f"probe rejected by the rules engine: {exc.message}", None
    ref, refused = reference_args(graph.nodes[-1])
    if refused:
        return [], refused, None
    if layer_work(row, ref) > PROBE_BUDGET:
        return [], None, TOO_LARGE
    high = _index_bound([ref])
    xs = [random_input(f"in{i}", s, d, high) for i, (s, d) in enumerate(zip(shapes, dtypes))]
    run, error, skipped = _call(layer_type, ref, xs, seed_of("probe"))
    return (compare(row, run) if run is not None else []), error, skipped


class _RefArgs(list):
    """The executor's reading of every node: a list of args dicts (None when refused) with the refusals."""

    def __init__(self, graph):
        pairs = [reference_args(node) for node in graph.nodes]
        super().__init__(a for a, _ in pairs)
        self.items_list = pairs


def verify(source, dims: dict | None = None, vars: dict | None = None, budget: int = DEFAULT_BUDGET,
           mode: str | None = None, progress=None, file: str | None = None,
           max_layers: int = DEFAULT_MAX_LAYERS, time_limit: float = TIME_LIMIT) -> VerifyResult:
    """Cross-check every layer of a spec; raise :class:`SpecError` when the spec is invalid.

    ``mode`` forces "full" or "probe" (default: full when the executor's work fits ``budget``).
    Probes stop after ``time_limit`` seconds: the layers left are reported as skipped.
    ``progress(total)`` may return a callable that is called once per layer done.
    """
    start = time.perf_counter()
    graph = load_graph(source, dims=dims, vars=vars, max_layers=max_layers, file=file)
    report = analyze_graph(graph)
    ref_args = _RefArgs(graph)
    macs = report.totals["macs"]
    work = sum(layer_work(r, a) for r, a in zip(report.layers, ref_args))
    if mode is None:
        mode = "full" if work <= budget else "probe"
    tick = progress(len(graph.nodes)) if progress else None
    if mode == "full":
        layers = run_full(graph, report, ref_args, tick)
    else:
        dtypes = {i.name: i.dtype for i in graph.spec.inputs}
        cache: dict = {}
        layers = []
        for node, row in zip(graph.nodes, report.layers):
            if time.perf_counter() - start > time_limit:
                layers.append(LayerCheck(node.name, row.type, "skipped", skipped=OUT_OF_TIME))
            else:
                in_dtypes = [_dtype_of(s, dtypes, graph) for s in node.inputs][:len(row.input_shapes)]
                layers.append(probe_layer(node, row, in_dtypes, cache))
            if tick:
                tick()
    return VerifyResult(report.name, report.file, mode, macs, budget, layers,
                        time.perf_counter() - start, work)


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
