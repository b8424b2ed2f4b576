"""Block structure of a report: leaf rows folded back into block instances and repeats.

The expansion keeps on every row the innermost group it came from (a block
instance such as ``layer1`` or ``h.3``, or the copies of a ``repeat`` such as
``h``; see :class:`layercalc.spec.graph.Group`). :func:`build_tree` nests the
rows under their groups and sums their figures; :func:`fold` lists the rows a
table shows at a depth::

    from layercalc import analyze
    from layercalc.tree import build_tree, fold

    report = analyze("specs/gpt2-small.yaml")
    roots = build_tree(report.layers, report.inputs)
    for node, expanded in fold(roots, 2):
        print("  " * (node.level - 1) + node.name, node.label, node.layers, node.params)

Levels count from 1 at the top of the spec; a repeat is one level and each of
its copies the next (GPT-2: ``h`` at 1, ``h.0`` ... ``h.11`` at 2, their layers
at 3). At depth ``N`` the rows of level ``N`` or less are shown, and a group at
level ``N`` is folded into one row; ``None`` means every level.

The figures of a group are the sums of its layers' figures: by default every
``int`` field of a row's ``to_dict()`` (params, trainable_params, buffers, macs,
flops, and any other whole-number field another report's rows carry); pass
``fields`` to choose them and ``combine`` to reduce a field otherwise (e.g.
``{"peak_bytes": max}``); ``extra`` adds a dict of figures per row.
"""

from __future__ import annotations

LEAF, BLOCK, REPEAT = "layer", "block", "repeat"


class TreeNode:
    """A row of the tree: a leaf layer (``kind`` ``"layer"``, ``row`` its report row) or a
    group (``"block"`` or ``"repeat"``) with ``children``.

    ``figures`` maps each summed field to its value; they are also attributes
    (``node.params``). ``layers`` is the number of leaf layers inside (1 for a
    leaf), ``level`` the nesting depth (1 at the top), ``input_shapes`` and
    ``output_shape`` what the group reads and produces.
    """

    __slots__ = ("name", "type", "kind", "repeat", "level", "row", "group", "children", "figures", "layers",
                 "input_shapes", "output_shape", "extra_outputs")

    def __init__(self, name: str, type: str, kind: str, level: int, row=None, group=None, repeat: int = 1):
        self.name = name
        self.type = type
        self.kind = kind
        self.repeat = repeat
        self.level = level
        self.row = row
        self.group = group
        self.children: list[TreeNode] = []
        self.figures: dict = {}
        self.layers = 1
        self.input_shapes: list = []
        self.output_shape: list = []
        self.extra_outputs: dict = {}

    def __getattr__(self, name):  # only called for names that are not slots: the summed figures
        try:
            return self.figures[name]
        except KeyError:
            raise AttributeError(name) from None

    @property
    def label(self) -> str:
        """The type as a table shows it: ``Block x12`` for a repeat, the type otherwise."""
        return f"{self.type} x{self.repeat}" if self.kind == REPEAT else self.type

    def walk(self):
        """This node and every node below it, in order."""
        yield self
        for child in self.children:
            yield from child.walk()

    def to_dict(self) -> dict:
        """The JSON form: a group with its figures and ``children``; a leaf as
        ``{"name", "type", "kind": "layer"}`` (its figures are its row in the report's ``layers``)."""
        if self.kind == LEAF:
            return {"name": self.name, "type": self.type, "kind": LEAF}
        d = {"name": self.name, "type": self.type, "kind": self.kind}
        if self.kind == REPEAT:
            d["repeat"] = self.repeat
        d["layers"] = self.layers
        d["input_shapes"] = self.input_shapes
        d["output_shape"] = self.output_shape
        d.update(self.figures)
        d["children"] = [c.to_dict() for c in self.children]
        return d

    def __repr__(self) -> str:
        return f"TreeNode({self.name!r}, {self.label!r}, layers={self.layers})"


def _whole(v) -> bool:
    """A whole number: an int or an int subclass (a symbolic integer), not a bool."""
    return isinstance(v, int) and not isinstance(v, bool)


def numeric_fields(rows) -> list[str]:
    """The whole-number fields of a row's JSON form (the ones a group sums; with ``--symbolic``,
    symbolic integers, whose sums are the sums of their polynomials)."""
    if not rows:
        return []
    return [k for k, v in rows[0].to_dict().items() if _whole(v)]


def has_groups(rows) -> bool:
    """Whether any row comes from a block or a repeat (otherwise every depth shows the same rows)."""
    return any(r.group is not None for r in rows)


def build_tree(rows, inputs: dict | None = None, fields: list[str] | None = None,
               combine: dict | None = None, extra: list[dict] | None = None) -> list[TreeNode]:
    """Nest ``rows`` (report rows in execution order, each with ``group``) under their block
    instances and repeats; return the top-level nodes.

    ``inputs`` (the report's input shapes by name) lets a group that reads a model
    input give that input's shape. ``fields`` are the figures to sum (default:
    :func:`numeric_fields`); ``combine`` maps a field to another reduction of the
    children's values (a function of a list, e.g. ``max``). ``extra`` is a dict per
    row of further figures (another report's columns, e.g. byte counts): their
    whole-number values are summed too.
    """
    fields = numeric_fields(rows) if fields is None else list(fields)
    if extra:
        fields += [k for k, v in extra[0].items() if _whole(v) and k not in fields]
    combine = combine or {}
    roots: list[TreeNode] = []
    stack: list[tuple] = []  # (group, node) from the outermost open group inwards
    paths: dict = {}
    for index, row in enumerate(rows):
        g = row.group
        if g is not (stack[-1][0] if stack else None):
            path = paths.get(id(g)) if g is not None else ()
            if path is None:
                path = _path(g)  # kept in ``paths`` with the group, so id(g) stays unique
                paths[id(g)] = path
            i = 0
            while i < len(stack) and i < len(path) and stack[i][0] is path[i]:
                i += 1
            del stack[i:]
            for grp in path[i:]:
                node = TreeNode(grp.name, grp.type, grp.kind, grp.level, group=grp, repeat=grp.repeat)
                (stack[-1][1].children if stack else roots).append(node)
                stack.append((grp, node))
        leaf = TreeNode(row.name, row.type, LEAF, g.level + 1 if g is not None else 1, row=row)
        if extra:
            more = extra[index]
            leaf.figures = {f: more[f] if f in more else getattr(row, f) for f in fields}
        else:
            leaf.figures = {f: getattr(row, f) for f in fields}
        leaf.input_shapes = row.input_shapes
        leaf.output_shape = row.output_shape
        leaf.extra_outputs = row.extra_outputs
        (stack[-1][1].children if stack else roots).append(leaf)
    if not paths:  # no groups: nothing to sum
        return roots
    by_name = {r.name: r for r in rows}
    for root in roots:
        if root.kind != LEAF:
            _sum(root, fields, combine, by_name, inputs or {})
    return roots


def _path(group) -> tuple:
    path = []
    while group is not None:
        path.append(group)
        group = group.parent
    return tuple(reversed(path))


def _shape(src, by_name: dict, inputs: dict) -> list:
    row = by_name.get(src.node)
    if row is None:
        return list(inputs.get(src.node, []))
    if src.extra is not None:
        return row.extra_outputs.get(src.extra, [])
    return row.output_shape


def _sum(node: TreeNode, fields, combine, by_name, inputs) -> None:
    for child in node.children:
        if child.kind != LEAF:
            _sum(child, fields, combine, by_name, inputs)
    kids = node.children
    node.layers = sum(c.layers for c in kids)
    node.figures = {f: (combine[f]([c.figures[f] for c in kids]) if f in combine else sum(c.figures[f] for c in kids))
                    for f in fields}
    grp = node.group
    node.input_shapes = [_shape(s, by_name, inputs) for s in grp.inputs]
    node.output_shape = _shape(grp.output, by_name, inputs) if grp.output is not None else []


def fold(roots: list[TreeNode], depth: int | None):
    """The rows a table shows at ``depth``, in order: pairs ``(node, expanded)``.

    A node of level ``depth`` or less is shown; ``expanded`` is true for a group
    whose children are shown below it. ``depth=None`` shows every level; ``0`` nothing.
    """
    out = []

    def visit(nodes):
        for node in nodes:
            if depth is not None and node.level > depth:
                continue
            expanded = bool(node.children) and (depth is None or node.level < depth)
            out.append((node, expanded))
            if expanded:
                visit(node.children)

    visit(roots)
    return out


def frontier(roots: list[TreeNode], depth: int | None) -> list[TreeNode]:
    """The shown rows that are not expanded: each leaf layer is in exactly one of them, so
    their figures add up to the totals."""
    return [node for node, expanded in fold(roots, depth) if not expanded]


def level_counts(roots: list[TreeNode]) -> list[int]:
    """``counts[k]``: the number of nodes at level ``k + 1``."""
    counts: list[int] = []

    def visit(nodes):
        for node in nodes:
            while len(counts) < node.level:
                counts.append(0)
            counts[node.level - 1] += 1
            visit(node.children)

    visit(roots)
    return counts


def max_depth(roots: list[TreeNode]) -> int:
    """The deepest level of the tree (1 for a spec without blocks)."""
    return len(level_counts(roots))


READABLE_ROWS = 50


def readable_depth(roots: list[TreeNode], max_rows: int = READABLE_ROWS) -> int:
    """The deepest level whose table has at most ``max_rows`` rows (at least 1): the default
    of a table. GPT-2 small: 2, a row per transformer block (19 rows; level 3 would show 115)."""
    counts = level_counts(roots)
    shown, best = 0, 1
    for level, n in enumerate(counts, 1):
        shown += n
        if shown > max_rows:
            break
        best = level
    return best
