"""The diagram of a spec: boxes (layers, folded blocks and repeats, inputs, outputs), the
clusters of the block instances drawn open, and the edges between boxes with the shape
that flows along each. Renderers (:mod:`.mermaid`, :mod:`.dot`, :mod:`.svg`) draw it.

Folding follows the block tree of :mod:`layercalc.tree` and ``--depth`` of the reports: a
block instance or repeat at level ``depth`` (1 at the top of the spec; a repeat is one level
and each of its copies the next) is one box with the sum of what it holds. With
``fold_repeats`` the copies of every repeated entry are one box (``Block x12``). Left to choose
(``None``), a diagram folds repeats, then levels, until it has at most ``max_nodes`` boxes.
"""

from __future__ import annotations

from ..report import Report
from ..spec.graph import Graph
from ..tree import LEAF, REPEAT, TreeNode, build_tree

DEFAULT_MAX_NODES = 150


class Box:
    """One box of the diagram. ``kind``: input, layer, block (a folded instance), repeat
    (folded copies), output. ``first``/``last``: the leaf rows it covers (layers and folds)."""

    __slots__ = ("id", "name", "type", "kind", "copies", "first", "last", "params", "macs", "flops", "shape")

    def __init__(self, id: str, name: str, type: str, kind: str, copies: int = 1, first: int = -1, last: int = -1):
        self.id = id
        self.name = name
        self.type = type
        self.kind = kind
        self.copies = copies
        self.first = first
        self.last = last
        self.params = self.macs = self.flops = 0
        self.shape: list | None = None  # the output shape

    @property
    def layers(self) -> int:
        return self.last - self.first + 1 if self.first >= 0 else 0

    def label(self, prefix: str = "") -> str:
        """The name, relative to the open block instance ``prefix`` (``layer1.0.``) it is drawn in."""
        return self.name[len(prefix):] if prefix and self.name.startswith(prefix) else self.name

    @property
    def caption(self) -> str:
        """The type line: ``Conv2d``, ``Bottleneck (10 layers)``, ``Block x12 (96 layers)``, ``input``."""
        if self.kind in ("input", "output"):
            return self.kind
        if self.kind == "repeat":
            inner = f" ({self.layers} layers)" if self.layers != self.copies else ""
            return f"{self.type} x{self.copies}{inner}"
        if self.kind == "block":
            return f"{self.type} ({self.layers} layer{'s' if self.layers != 1 else ''})"
        return self.type

    def __repr__(self) -> str:
        return f"Box({self.name!r}, {self.caption!r})"


class Cluster:
    """A block instance drawn open: its boxes and inner clusters in execution order."""

    __slots__ = ("id", "name", "type", "children")

    def __init__(self, id: str, name: str, type: str):
        self.id = id
        self.name = name
        self.type = type
        self.children: list = []


class Edge:
    """A value flowing from box ``src`` to box ``dst``; ``skip`` when it passes over other boxes."""

    __slots__ = ("src", "dst", "shape", "skip")

    def __init__(self, src: Box, dst: Box, shape: list, skip: bool):
        self.src = src
        self.dst = dst
        self.shape = shape
        self.skip = skip

    @property
    def label(self) -> str:
        return "[" + ", ".join(str(d) for d in self.shape) + "]"


class Diagram:
    """Boxes in execution order (inputs first, outputs last), the top-level children (boxes and
    clusters), the edges, and how it was folded (``depth``: None when no level is folded)."""

    def __init__(self, name: str, boxes: list[Box], children: list, edges: list[Edge], depth: int | None,
                 folded_repeats: bool, layers: int):
        self.name = name
        self.boxes = boxes
        self.children = children
        self.edges = edges
        self.depth = depth
        self.folded_repeats = folded_repeats
        self.layers = layers  # leaf layers of the whole graph

    @property
    def note(self) -> str:
        """What was folded and how to see more, or ''."""
        parts = []
        if self.folded_repeats:
            parts.append("repeats folded")
        if self.depth is not None:
            parts.append(f"blocks folded at depth {self.depth}")
        if not parts:
            return ""
        return (f"{self.layers} layers in {len(self.boxes)} boxes: " + ", ".join(parts)
                + "; --depth and --max-nodes expand")


def _folds(node: TreeNode, depth: int | None, fold: bool) -> bool:
    return node.kind != LEAF and ((fold and node.kind == REPEAT) or (depth is not None and node.level >= depth))


def _count(nodes: list, depth: int | None, fold: bool) -> int:
    n = 0
    for c in nodes:
        n += 1 if c.kind == LEAF or _folds(c, depth, fold) else _count(c.children, depth, fold)
    return n


def _max_level(nodes: list) -> int:
    return max([0] + [max(c.level, _max_level(c.children)) for c in nodes if c.kind != LEAF])


def fewest_boxes(graph: Graph, tree: list) -> int:
    """The boxes of the diagram with every repeat and every top-level block folded: the least
    any folding can draw."""
    return _count(tree, 1, True) + len(graph.spec.inputs) + len(graph.outputs)


def build_diagram(graph: Graph, report: Report, depth: int | None = None, max_nodes: int | None = DEFAULT_MAX_NODES,
                  fold_repeats: bool | None = None, tree: list | None = None) -> Diagram:
    """The diagram of an analyzed graph (``report = run_graph(graph)``), folded at ``depth``
    (None: no level, or as many as needed to fit ``max_nodes``) and with repeats folded or not
    (None: when needed to fit ``max_nodes``). An explicit ``depth`` is kept as given."""
    if depth is not None and depth < 1:
        raise ValueError(f"depth must be at least 1, got {depth}")
    roots = tree if tree is not None else build_tree(report.layers, report.inputs)
    depth_given = depth
    extra = len(graph.spec.inputs) + len(graph.outputs)
    fold = bool(fold_repeats)
    if max_nodes is not None:
        budget = max(1, max_nodes - extra)
        if fold_repeats is None and _count(roots, depth, False) > budget:
            fold = True
        while depth_given is None and _count(roots, depth, fold) > budget:
            top = depth if depth is not None else _max_level(roots) + 1  # no level folded
            if top <= 1:
                break
            depth = top - 1
    return _Builder(graph, report).build(roots, depth, fold)


class _Builder:
    def __init__(self, graph: Graph, report: Report):
        self.graph = graph
        self.report = report
        self.boxes: list[Box] = []
        self.rep: list[Box | None] = [None] * len(graph.nodes)
        self.index = {n.name: k for k, n in enumerate(graph.nodes)}
        self.n_clusters = 0

    def box(self, name: str, type: str, kind: str, copies: int = 1, node: TreeNode | None = None) -> Box:
        b = Box(f"n{len(self.boxes)}", name, type, kind, copies)
        if node is not None:
            leaves = [n.row for n in node.walk() if n.kind == LEAF]
            b.first, b.last = self.index[leaves[0].name], self.index[leaves[-1].name]
            for r in leaves:
                b.params += r.params
                b.macs += r.macs
                b.flops += r.flops
                self.rep[self.index[r.name]] = b
            b.shape = leaves[-1].output_shape
        self.boxes.append(b)
        return b

    def visit(self, nodes: list, depth: int | None, fold: bool) -> list:
        out = []
        for c in nodes:
            if c.kind == LEAF:
                out.append(self.box(c.name, c.type, "layer", 1, c))
            elif _folds(c, depth, fold):
                out.append(self.box(c.name, c.type, "repeat" if c.kind == REPEAT else "block", c.repeat, c))
            elif c.kind == REPEAT:  # open copies are drawn one after the other, without a frame of their own
                out.extend(self.visit(c.children, depth, fold))
            else:
                cl = Cluster(f"g{self.n_clusters}", c.name, c.type)
                self.n_clusters += 1
                cl.children = self.visit(c.children, depth, fold)
                out.append(cl)
        return out

    def build(self, roots: list, depth: int | None, fold: bool) -> Diagram:
        graph, report = self.graph, self.report
        inputs = {}
        for i in graph.spec.inputs:
            b = self.box(i.name, "input", "input")
            b.shape = report.inputs[i.name]
            inputs[i.name] = b
        children = list(inputs.values()) + self.visit(roots, depth, fold)
        index = self.index
        order = {b.id: k for k, b in enumerate(self.boxes)}
        edges: dict = {}

        def value(src) -> tuple[Box, list]:
            if src.node in inputs:
                return inputs[src.node], report.inputs[src.node]
            k = index[src.node]
            row = report.layers[k]
            return self.rep[k], (row.extra_outputs[src.extra] if src.extra else row.output_shape)

        def link(a: Box, b: Box, shape) -> None:
            if a is b or (a.id, b.id) in edges:
                return
            edges[(a.id, b.id)] = Edge(a, b, shape, a.kind != "input" and order[b.id] - order[a.id] > 1)

        for k, node in enumerate(graph.nodes):
            for src in node.inputs:
                a, shape = value(src)
                link(a, self.rep[k], shape)
        for src, _mark, label in graph.outputs:
            a, shape = value(src)
            out = self.box(label, "output", "output")
            out.shape = shape
            order[out.id] = len(self.boxes)  # after every layer: a skip only if other boxes lie between
            children.append(out)
            edges[(a.id, out.id)] = Edge(a, out, shape, False)
        return Diagram(graph.spec.name, self.boxes, children, list(edges.values()), depth, fold, len(graph.nodes))


def diagram_of(source, dims=None, vars=None, depth: int | None = None, max_nodes: int | None = DEFAULT_MAX_NODES,
               fold_repeats: bool | None = None, max_layers: int | None = None) -> Diagram:
    """Load and analyze a spec (a path, YAML text or a dict) and return its diagram."""
    from ..engine import load_graph, run_graph
    from ..spec.graph import DEFAULT_MAX_LAYERS

    graph = load_graph(source, dims=dims, vars=vars, max_layers=max_layers or DEFAULT_MAX_LAYERS)
    return build_diagram(graph, run_graph(graph), depth, max_nodes, fold_repeats)
