"""The nesting of an expanded graph: block instances and repeats around the leaf layers.

The expansion names every leaf after the entries that contain it
(``layer2.0.branch.conv1``: the instance ``layer2.0`` of a repeated block, its
block ``branch``, the layer ``conv1``), so the nesting is read back from the
names, scope by scope, with the block types taken from the spec's entries.
"""

from __future__ import annotations

from ..spec.graph import Graph, generated_name


class Group:
    """A block instance (``kind="block"``), the copies of a repeated entry (``"repeat"``) or the model (``"root"``).

    ``children`` holds groups and leaf indices (positions in ``graph.nodes``) in execution order;
    ``level`` is the nesting of block instances (top-level entries are level 1; a repeat's copies
    share the repeat's level).
    """

    __slots__ = ("name", "kind", "type", "level", "children", "first", "last")

    def __init__(self, name: str, kind: str, type: str, level: int):
        self.name = name
        self.kind = kind
        self.type = type
        self.level = level
        self.children: list = []
        self.first = -1  # the first and last leaf index inside
        self.last = -1

    @property
    def count(self) -> int:
        return self.last - self.first + 1

    def __repr__(self) -> str:
        return f"Group({self.name!r}, {self.kind}, {self.type}, {len(self.children)} children)"


def _scope_entries(entries, taken) -> dict:
    """Relative name -> entry, named as the expansion names them."""
    explicit = {e.name for e in entries if e.name}
    names: dict = {}
    counters: dict = {}
    for entry in entries:
        name = entry.name or generated_name(entry.type, counters, lambda n: n in explicit or n in names or n in taken)
        names[name] = entry
    return names


def build_tree(graph: Graph) -> Group:
    """The groups around ``graph.nodes``: a root whose children are top-level layers and groups."""
    spec = graph.spec
    scopes: dict = {None: _scope_entries(spec.layers, {i.name for i in spec.inputs})}
    for bname, block in spec.blocks.items():
        scopes[bname] = _scope_entries(block.layers, set(block.inputs))
    root = Group("", "root", spec.name, 0)
    groups: dict = {"": root}
    for index, node in enumerate(graph.nodes):
        parts = node.name.split(".")
        scope = scopes[None]
        parent, prefix, level = root, "", 0
        i = 0
        while i < len(parts):
            part = parts[i]
            entry = scope.get(part) if scope is not None else None
            is_block = entry is not None and entry.type in spec.blocks
            has_copy = i + 1 < len(parts) and parts[i + 1].isdigit()
            if not is_block and not has_copy:
                break
            level += 1
            name = prefix + part
            if has_copy:
                parent = _child(groups, parent, name, "repeat", entry.type if entry else "", level)
                part = parts[i + 1]
                name = f"{name}.{part}"
                i += 1
                if not is_block:
                    break
            parent = _child(groups, parent, name, "block", entry.type, level)
            prefix = name + "."
            scope = scopes.get(entry.type)
            i += 1
        parent.children.append(index)
        _span(groups, parent.name, index)
    return root


def _child(groups: dict, parent: Group, name: str, kind: str, type: str, level: int) -> Group:
    g = groups.get(name)
    if g is None:
        g = Group(name, kind, type, level)
        groups[name] = g
        parent.children.append(g)
    return g


def _span(groups: dict, name: str, index: int) -> None:
    """Extend the leaf range of the group ``name`` and of every group around it."""
    while True:
        g = groups.get(name)
        if g is not None:
            if g.first < 0:
                g.first = index
            g.last = index
        if not name:
            return
        name = name.rpartition(".")[0]
