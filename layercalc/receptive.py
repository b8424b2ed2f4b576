"""Receptive fields of a convolutional graph: for every layer's output, along each spatial
dimension, which positions of the input its elements read.

Output position ``i`` of a layer reads the input positions
``start + i * jump ... start + i * jump + size - 1`` (``size`` the receptive field, ``jump`` the
effective stride, ``-start`` the effective padding: how far the first window reaches before
the input). A window layer of kernel ``k``, stride ``s``, padding ``p`` and dilation ``d`` on an
input field ``(size, jump, start)`` gives::

    size' = size + (k - 1) * d * jump        jump' = jump * s        start' = start - p * jump

Element-wise layers keep the field; where paths meet (``Add``, ``Concat`` along channels...) the
field is the union of theirs: the smallest start and the largest end, i.e. the largest over the
paths. Layers that mix positions otherwise (``Flatten``, ``Linear`` on a spatial dim, transposed
convolutions, upsampling, adaptive windows of unequal size, norms whose statistics read every
position) end the field: those rows say why. Padding layers and non-zero ``padding_mode`` count as
padding: at the borders, reflected or replicated positions are inside the field.

Positions are counted in the first spatial input of the spec (``(N, C, *spatial)``, or
``(C, *spatial)``): its last ``rank - 2`` dimensions.
"""

from __future__ import annotations

from typing import NamedTuple

from .layers.registry import takes_no_input
from .report import Report
from .spec.graph import Graph


class Field(NamedTuple):
    """Per spatial dimension: receptive field, effective stride and the start of output 0's window."""

    size: tuple[int, ...]
    jump: tuple[int, ...]
    start: tuple[int, ...]

    @property
    def padding(self) -> tuple[int, ...]:
        """The effective padding: how far output 0's window starts before the input."""
        return tuple(-s for s in self.start)

    def window(self, index: tuple[int, ...]) -> tuple[tuple[int, int], ...]:
        """The input positions (first, last), per dimension, that output position ``index`` reads."""
        return tuple((st + i * j, st + i * j + sz - 1) for st, i, j, sz in zip(self.start, index, self.jump, self.size))

    def to_dict(self) -> dict:
        return {"size": list(self.size), "stride": list(self.jump), "padding": list(self.padding),
                "start": list(self.start)}


class FieldRow(NamedTuple):
    """A layer's output field, or None with the reason (``note``)."""

    name: str
    type: str
    output_shape: list
    field: Field | None
    note: str = ""


CONST = "constant"  # a value that depends on no input position (a Parameter)

POINTWISE = {
    "Identity", "ReLU", "ReLU6", "LeakyReLU", "RReLU", "ELU", "SELU", "CELU", "GELU", "SiLU", "Mish", "Sigmoid",
    "LogSigmoid", "Tanh", "Hardtanh", "Hardswish", "Hardsigmoid", "Hardshrink", "Softshrink", "Tanhshrink", "Softplus",
    "Softsign", "Threshold", "PReLU", "Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout",
    "FeatureAlphaDropout", "StochasticDepth", "BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "LocalResponseNorm", "Abs",
    "Neg", "ChannelShuffle",
}
MERGES = {"Add", "Mul", "Sub", "Div"}
CHANNEL_DIM_OK = {"Softmax", "LogSoftmax", "Softmin", "GLU", "Concat", "Slice", "Select"}
WINDOWS = {f"{kind}{n}d": n for kind in ("Conv", "MaxPool", "AvgPool", "LPPool") for n in (1, 2, 3)}
ADAPTIVE = {f"Adaptive{kind}Pool{n}d": n for kind in ("Avg", "Max") for n in (1, 2, 3)}
PADS = {f"{kind}Pad{n}d": n for kind in ("Zero", "Constant", "Reflection", "Replication", "Circular") for n in (1, 2, 3)}


def _per_dim(value, n: int) -> tuple:
    if isinstance(value, (list, tuple)):
        return tuple(value) if len(value) == n else tuple(value) * n if len(value) == 1 else tuple(value[-n:])
    return (value,) * n


def _window_field(f: Field, kernel, stride, padding, dilation) -> Field:
    return Field(tuple(sz + (k - 1) * d * j for sz, k, d, j in zip(f.size, kernel, dilation, f.jump)),
                 tuple(j * s for j, s in zip(f.jump, stride)),
                 tuple(st - p * j for st, p, j in zip(f.start, padding, f.jump)))


def _union(fields: list) -> Field | str:
    fields = [f for f in fields if f is not CONST]
    if not fields:
        return CONST
    for f in fields:
        if isinstance(f, str):
            return f
    jumps = {f.jump for f in fields}
    if len(jumps) > 1:
        return "paths of different strides meet here"
    start = tuple(min(s) for s in zip(*(f.start for f in fields)))
    end = tuple(max(e) for e in zip(*(tuple(st + sz for st, sz in zip(f.start, f.size)) for f in fields)))
    return Field(tuple(e - s for e, s in zip(end, start)), fields[0].jump, start)


class _Walker:
    def __init__(self, n: int):
        self.n = n  # spatial dims

    def step(self, row, ins: list) -> Field | str:
        """The field of ``row``'s output from its inputs' fields (CONST, or a reason it ended)."""
        t, a, n = row.type, row.args, self.n
        fields = list(ins)
        if any(isinstance(f, str) and f is not CONST for f in fields):
            return next(f for f in fields if isinstance(f, str) and f is not CONST)
        if takes_no_input(t):
            return CONST
        first = fields[0] if fields else CONST
        if t in POINTWISE:
            return first
        if t in MERGES:
            shapes = row.input_shapes
            for s, f in zip(shapes, fields):
                if f is not CONST and list(s[-n:]) != list(row.output_shape[-n:]):
                    return "an input is broadcast along the spatial dimensions"
            return _union(fields)
        if t in CHANNEL_DIM_OK:
            dim = a.get("dim", 1)
            rank = len(row.input_shapes[0]) if row.input_shapes else 0
            d = dim % rank if rank else dim
            if rank and d < rank - n:
                return _union(fields) if t == "Concat" else first
            return f"{t} along a spatial dimension"
        if first is CONST:
            return CONST
        if t in WINDOWS:
            if WINDOWS[t] != n:
                return f"{t} on a {n}-d spatial input"
            kernel = _per_dim(a["kernel_size"], n)
            stride = _per_dim(a.get("stride") or a["kernel_size"], n)
            dilation = _per_dim(a.get("dilation", 1) or 1, n)
            padding = a.get("padding", 0)
            if padding == "valid":
                padding = (0,) * n
            elif padding == "same":
                padding = tuple(d * (k - 1) // 2 for k, d in zip(kernel, dilation))
            else:
                padding = _per_dim(padding, n)
            return _window_field(first, kernel, stride, padding, dilation)
        if t in ADAPTIVE:
            if ADAPTIVE[t] != n:
                return f"{t} on a {n}-d spatial input"
            lengths = row.input_shapes[0][-n:]
            outs = row.output_shape[-n:]
            if any(length % o for length, o in zip(lengths, outs)):
                return "adaptive windows of unequal size"
            kernel = tuple(length // o for length, o in zip(lengths, outs))
            return _window_field(first, kernel, kernel, (0,) * n, (1,) * n)
        if t in PADS:
            pads = _per_dim(a["padding"], 2 * n) if isinstance(a["padding"], (list, tuple)) else (a["padding"],) * 2 * n
            # F.pad order: (last dim before, last dim after, previous dim before, ...)
            before = [0] * n
            for k in range(len(pads) // 2):
                if k < n:
                    before[n - 1 - k] = pads[2 * k]
            return first._replace(start=tuple(st - p * j for st, p, j in zip(first.start, before, first.jump)))
        if t.startswith("ConvTranspose"):
            return "a transposed convolution reads its input at a fractional stride"
        if t == "Upsample":
            return "upsampling reads its input at a fractional stride"
        if t in ("InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d", "GroupNorm", "LayerNorm", "RMSNorm"):
            return f"{t}'s statistics read every position"
        return f"{t} mixes positions"


def receptive_fields(graph: Graph, report: Report) -> tuple[str | None, list[FieldRow], str]:
    """(the spatial input, one :class:`FieldRow` per layer, a note when there is no spatial input)."""
    spec = graph.spec
    image = next((i for i in spec.inputs if len(i.shape) >= 3 and i.dtype.startswith(("float", "bfloat"))), None)
    if image is None:
        why = "the spec has no floating-point input of rank 3 or more, (N, C, *spatial): it is not convolutional"
        return None, [FieldRow(r.name, r.type, r.output_shape, None) for r in report.layers], why
    n = len(image.shape) - 2
    if _is_unbatched(graph, image):
        n = len(image.shape) - 1
    values: dict = {}
    for i in spec.inputs:
        if i is image:
            values[i.name] = Field((1,) * n, (1,) * n, (0,) * n)
        else:
            values[i.name] = f"it reads the input '{i.name}'"
    walker = _Walker(n)
    rows = []
    for node, row in zip(graph.nodes, report.layers):
        ins = [values[s.node] if s.extra is None else f"'{s}' is an extra output" for s in node.inputs]
        if not ins and not takes_no_input(node.type):
            out = CONST
        else:
            out = walker.step(row, ins)
            if isinstance(out, str) and out is not CONST and out not in ins:
                out = f"{out} at '{node.name}'"  # where the field ends; the layers after it say the same
        values[node.name] = out
        if isinstance(out, Field):
            rows.append(FieldRow(row.name, row.type, row.output_shape, out))
        else:
            rows.append(FieldRow(row.name, row.type, row.output_shape, None,
                                 "depends on no input position" if out is CONST else out))
    return image.name, rows, ""


def _is_unbatched(graph: Graph, image) -> bool:
    """A (C, *spatial) input: the first window layer reading it has one spatial dim fewer than rank - 1."""
    for node in graph.nodes:
        if node.type in WINDOWS or node.type in ADAPTIVE:
            return WINDOWS.get(node.type, ADAPTIVE.get(node.type)) == len(image.shape) - 1
    return False


def fields_of(source, dims=None, vars=None, max_layers: int | None = None):
    """Load and analyze a spec; return ``(report, input name, rows, note)``."""
    from .engine import load_graph, run_graph
    from .spec.graph import DEFAULT_MAX_LAYERS

    graph = load_graph(source, dims=dims, vars=vars, max_layers=max_layers or DEFAULT_MAX_LAYERS)
    report = run_graph(graph)
    name, rows, note = receptive_fields(graph, report)
    return report, name, rows, note
