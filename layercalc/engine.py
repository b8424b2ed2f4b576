"""The rules engine: walks the expanded graph in order, applies each layer's
rule, and returns a :class:`~layercalc.report.Report`.

Counting of shared parameters: a layer with ``tie: other`` reuses other's
``weight`` (same shape required), a layer with ``share: other`` reuses all of
other's parameters and buffers. The reused tensors are counted at the layer
that owns them, so the per-layer rows add up to the totals, which equal
``sum(p.numel() for p in model.parameters())`` (PyTorch de-duplicates shared
parameters). MACs and FLOPs are counted at every call.
"""

from __future__ import annotations

import os
from math import prod
from pathlib import Path

from .errors import LayerError, Mark, SpecError
from .layers import REGISTRY
from .layers.base import T, param_count
from .layers.resolve import resolve_args
from .report import LayerRow, Report
from .spec.graph import DEFAULT_MAX_LAYERS, Graph, Node, expand
from .spec.model import DTYPE_BYTES, FLOAT_DTYPES, MAX_RANK, parse_spec
from .spec.yamlload import load_yaml

#: the dtypes of indices: torch's embedding lookups take int32 and int64 only
_INDEX_DTYPES = ("int32", "int64")


def read_source(source, file: str | None = None) -> tuple[str, str]:
    """Return (text, file name) for a path, ``-`` (stdin), or YAML text."""
    import sys

    # A path: a Path, or one line that names a file, ends in .yaml/.yml, or has no ':' (YAML text of one
    # line that could be a spec is a flow mapping, with ':'; a mistyped path must say it cannot be read).
    if isinstance(source, Path) or (isinstance(source, str) and "\n" not in source and source != "-"
                                   and (":" not in source or os.path.exists(source)
                                        or source.endswith((".yaml", ".yml")))):
        path = str(source)
        try:
            with open(path, "rb") as fh:
                data = fh.read(MAX_READ + 1)
        except OSError as exc:
            raise SpecError(Mark(file or path, 1, 1), f"cannot read the file: {exc.strerror or exc}",
                            "check the path", code="Y006") from None
        return _decode(data, file or path), file or path
    if source == "-":
        stream = getattr(sys.stdin, "buffer", None)
        if stream is None:  # a text stream put in place of stdin (tests, embedding applications)
            return sys.stdin.read(MAX_READ + 1), file or "<stdin>"
        return _decode(stream.read(MAX_READ + 1), file or "<stdin>"), file or "<stdin>"
    return source, file or "<string>"


def _decode(data: bytes, file: str) -> str:
    """The UTF-8 text of a file or of standard input, or a Y006 error."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SpecError(Mark(file, 1, 1), f"the {'input' if file == '<stdin>' else 'file'} is not UTF-8 text "
                        f"(byte {exc.start})", "save it as UTF-8", code="Y006") from None


MAX_READ = (1 << 20) + 16


def load_graph(source, dims=None, vars=None, max_layers: int = DEFAULT_MAX_LAYERS, file: str | None = None) -> Graph:
    """Load, parse and expand a spec (path, ``-``, YAML text or a dict)."""
    if isinstance(source, dict):
        import yaml

        text, file = yaml.safe_dump(source, sort_keys=False), file or "<dict>"
    else:
        text, file = read_source(source, file)
    doc = load_yaml(text, file)
    spec = parse_spec(doc, file, dims=dims, vars=vars)
    return expand(spec, max_layers=max_layers)


def _layer_error(node: Node, rule, exc: LayerError) -> SpecError:
    mark = node.mark
    if exc.arg and node.args is not None and exc.arg in node.args.vmarks:
        mark = node.args.vmarks[exc.arg]
    return SpecError(mark, f"{rule.type} '{node.name}': {exc.message}", exc.fix, code=exc.code)


def run_node(node: Node, rule, xs: list[T]):
    """Resolve the arguments of ``node`` and apply its rule; return (args, Out)."""
    try:
        a = resolve_args(rule, node)
        out = rule.forward(a, xs)
    except LayerError as exc:
        raise _layer_error(node, rule, exc) from None
    except (ValueError, ArithmeticError, IndexError, TypeError, KeyError) as exc:  # a rule's blind spot: still no traceback
        raise SpecError(node.mark, f"{rule.type} '{node.name}': these arguments cannot be applied to inputs "
                        f"{[list(x.shape) for x in xs]} ({type(exc).__name__}: {exc})",
                        "check the arguments against torch.nn's documentation", code="G003") from None
    return a, out


def check_inputs(node: Node, rule, xs: list[T]) -> None:
    lo, hi = rule.n_inputs
    if len(xs) < lo or (hi is not None and len(xs) > hi):
        want = str(lo) if lo == hi else f"{lo} to {hi}" if hi is not None else f"at least {lo}"
        names = ", ".join(rule.input_names)
        raise SpecError(node.mark, f"{rule.type} '{node.name}' takes {want} input(s), got {len(xs)}",
                        f"write `from: [...]` with {want} name(s) ({names})" if lo else "remove `from`", code="G008")
    for i, x in enumerate(xs):
        want = rule.input_dtype if i == 0 or rule.input_dtype != "int" else "float"
        if want == "float" and x.dtype not in FLOAT_DTYPES and rule.input_dtype != "any":
            raise SpecError(node.input_marks[i] if i < len(node.input_marks) else node.mark,
                            f"{rule.type} '{node.name}' expects a floating-point input, got {x.dtype} ({node.inputs[i]})",
                            "declare the input with a float dtype, or feed this layer from an Embedding", code="G007")
        if want == "int" and x.dtype not in _INDEX_DTYPES:
            raise SpecError(node.input_marks[i] if i < len(node.input_marks) else node.mark,
                            f"{rule.type} '{node.name}' expects integer indices (int64 or int32, as PyTorch), got a "
                            f"{x.dtype} input ({node.inputs[i]})", "declare the input with `dtype: int64`",
                            code="G007")


def run_graph(graph: Graph, dtype: str = "float32", exact=int, on_node=None) -> Report:
    """Apply every rule in order; return the report.

    ``exact`` makes a rule's MACs and FLOPs the report's figures (``int``; the symbolic
    analysis keeps its symbolic integers). ``on_node(node, rule, xs, row)``, when given, sees
    every layer's inputs and row (``explain`` re-runs the rule on traced integers)."""
    spec = graph.spec
    values: dict[str, T] = {}
    extras: dict[str, dict[str, T]] = {}
    rows: list[LayerRow] = []
    owners: dict[str, LayerRow] = {}
    # a layer's output shape list is its consumers' input shape list too (one list, not one per row)
    shape_lists: dict[tuple[str, str | None], list[int]] = {}
    links: dict[str, dict[str, tuple[str, str]]] = {}  # node -> its parameter name -> (node, name) it reuses
    frozen: list[Node] = []
    for i in spec.inputs:
        values[i.name] = T(i.shape, i.dtype)
        extras[i.name] = {}
        shape_lists[(i.name, None)] = list(i.shape)
    for node in graph.nodes:
        rule = REGISTRY[node.type]
        xs = []
        for src, mark in zip(node.inputs, node.input_marks):
            if src.extra is None:
                xs.append(values[src.node])
            else:
                ex = extras[src.node]
                if src.extra not in ex:
                    have = ", ".join(ex) or "none"
                    raise SpecError(mark, f"'{src}' selects the output '{src.extra}', which '{src.node}' does not have "
                                    f"(its extra outputs: {have})", "select one of its extra outputs, or the layer itself",
                                    code="G009")
                xs.append(ex[src.extra])
        if rule.n_inputs[1] == 0:
            xs = []
        check_inputs(node, rule, xs)
        a, out = run_node(node, rule, xs)
        out_dtype = out.dtype or (xs[0].dtype if xs else "float32")
        values[node.name] = T(tuple(out.shape), out_dtype)
        extras[node.name] = {k: (v if isinstance(v, T) else T(tuple(v), out_dtype)) for k, v in out.extras.items()}
        for label, t in ((None, values[node.name]), *extras[node.name].items()):
            if len(t.shape) > MAX_RANK:
                raise SpecError(node.mark, f"{node.type} '{node.name}' makes a {len(t.shape)}-D "
                                f"{'output' if label is None else 'output ' + repr(label)}, more than the limit of "
                                f"{MAX_RANK} dimensions", f"use at most {MAX_RANK} dimensions (PyTorch's limit)",
                                code="G011")
        params = dict(out.params)
        buffers = dict(out.buffers)
        shared = None
        if node.share is not None:
            target = owners[node.share]
            if target.param_shapes != params or target.buffer_shapes != buffers:
                raise SpecError(node.share_mark, f"{node.type} '{node.name}' shares the parameters of '{node.share}', "
                                f"but its own would be {params} and those are {target.param_shapes}",
                                "share only between layers of the same type and arguments on inputs of the same size",
                                code="G010")
            shared = node.share
            count_params, count_buffers = {}, {}
            links[node.name] = {k: (node.share, k) for k in params}
        else:
            count_params, count_buffers = params, buffers
        if node.tie is not None:
            target = owners[node.tie]
            mine, theirs = params.get("weight"), target.param_shapes.get("weight")
            if mine is None or theirs is None or mine != theirs:
                raise SpecError(node.tie_mark, f"{node.type} '{node.name}' ties its weight {list(mine or ())} to the "
                                f"weight {list(theirs or ())} of '{node.tie}'; the shapes differ",
                                "tie layers whose weights have the same shape (e.g. Linear(d, vocab) to Embedding(vocab, d))",
                                code="G010")
            shared = node.tie
            count_params = {k: v for k, v in count_params.items() if k != "weight"}
            links.setdefault(node.name, {})["weight"] = (node.tie, "weight")
        n_params = param_count(count_params)
        out_list = shape_lists[(node.name, None)] = list(out.shape)
        extra_lists = {k: list(v.shape) for k, v in extras[node.name].items()}
        for k, v in extra_lists.items():
            shape_lists[(node.name, k)] = v
        in_lists = [shape_lists.get((src.node, src.extra)) or list(x.shape) for src, x in zip(node.inputs, xs)]
        row = LayerRow(
            name=node.name, type=node.type, input_shapes=in_lists, output_shape=out_list,
            extra_outputs=extra_lists,
            params=n_params, trainable_params=n_params if node.trainable else 0,
            buffers=param_count(count_buffers), macs=exact(out.macs), flops=exact(out.flops),
            param_shapes=params, buffer_shapes=buffers, args=a.as_dict(), line=node.mark.line, shared=shared,
            group=node.group,
        )
        rows.append(row)
        owners[node.name] = row
        if on_node is not None:
            on_node(node, rule, xs, row)
        if not node.trainable and node.name in links:
            frozen.append(node)
    if frozen:
        _freeze_shared(frozen, links, owners)
    outputs = {}
    for src, mark, label in graph.outputs:
        if src.extra is None:
            outputs[label] = list(values[src.node].shape)
        else:
            ex = extras.get(src.node, {})
            if src.extra not in ex:
                raise SpecError(mark, f"'{src}' selects the output '{src.extra}', which '{src.node}' does not have",
                                "select an existing extra output", code="G009")
            outputs[label] = list(ex[src.extra].shape)
    params = sum(r.params for r in rows)
    trainable = sum(r.trainable_params for r in rows)
    macs = sum(r.macs for r in rows)
    totals = {"params": params, "trainable_params": trainable, "non_trainable_params": params - trainable,
              "buffers": sum(r.buffers for r in rows), "macs": macs, "flops": sum(r.flops for r in rows),
              "param_bytes": params * DTYPE_BYTES[dtype]}
    return Report(spec.name, spec.file, dict(spec.dims), {i.name: list(i.shape) for i in spec.inputs}, rows, outputs,
                  totals, dtype, {i.name: i.dtype for i in spec.inputs})


def _freeze_shared(frozen: list[Node], links: dict, owners: dict) -> None:
    """``trainable: false`` on a layer that reuses another's parameters (``tie``, ``share``) freezes the
    shared tensors themselves, as ``module.requires_grad_(False)`` does in PyTorch: the owner's count of
    trainable parameters loses them too."""

    def root(name: str, pname: str) -> tuple[str, str]:
        while pname in links.get(name, ()):
            name, pname = links[name][pname]
        return name, pname

    lost: dict[str, set[str]] = {}
    for node in frozen:
        for pname in links[node.name]:
            owner, oname = root(node.name, pname)
            lost.setdefault(owner, set()).add(oname)
    for owner, names in lost.items():
        row = owners[owner]
        if row.trainable_params:
            own = links.get(owner, {})
            row.trainable_params -= sum(prod(row.param_shapes[k]) for k in names if k not in own)


def analyze(source, dims: dict | None = None, vars: dict | None = None, dtype: str = "float32",
            max_layers: int = DEFAULT_MAX_LAYERS, file: str | None = None) -> Report:
    """Analyze a spec: a path, ``-`` for stdin, YAML text, or a dict of the same structure.

    ``dims`` and ``vars`` override the spec's values; ``dtype`` sets the size of
    a parameter for ``param_bytes``. Raises :class:`~layercalc.errors.SpecError`
    (with ``file:line:col``) when the spec is invalid.
    """
    if dtype not in DTYPE_BYTES:
        raise ValueError(f"unknown dtype {dtype!r}; expected one of {', '.join(DTYPE_BYTES)}")
    with _no_gc():
        graph = load_graph(source, dims=dims, vars=vars, max_layers=max_layers, file=file)
        return run_graph(graph, dtype)


class _no_gc:
    """Pause the cyclic garbage collector: an analysis allocates many small objects
    and few cycles, and the collector's passes over them made large specs superlinear."""

    def __enter__(self):
        import gc

        self.was_enabled = gc.isenabled()
        gc.disable()

    def __exit__(self, *exc):
        import gc

        if self.was_enabled:
            gc.enable()
        return False
