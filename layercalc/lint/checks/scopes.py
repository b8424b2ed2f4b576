"""The data flow of each scope, read from the parsed spec (no expansion needed).

A scope is the spec's ``layers:`` or one block's. For every entry we know its
name (written, or generated as the expander does: ``conv2d_1``...), which later
entries take its output (the next entry by default, or through ``from``),
whether ``from``/``tie``/``share``/``outputs``/``output`` names it, and whether
it is an output of the scope. Block definitions are analysed once each, not
per instance.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ...spec.graph import generated_name


@dataclass
class Slot:
    entry: object  # layercalc.spec.model.Entry
    name: str
    index: int
    consumers: list = field(default_factory=list)  # indices of entries that take this output
    referenced: bool = False  # named by from/tie/share/outputs/output
    is_output: bool = False


@dataclass
class Scope:
    where: str  # "the spec" or "block 'Name'"
    block: object | None  # BlockDef or None
    slots: list
    unresolved: bool = False  # a reference names nothing defined: the data flow is not known


def _zero_input_types() -> frozenset:
    """Types that take no input (``Parameter``): they ignore ``from`` and the previous entry."""
    from ...layers import REGISTRY

    return frozenset(t for t, rule in REGISTRY.items() if rule.n_inputs[1] == 0)


def analyze_scope(entries, inputs, output_refs, where: str, block=None) -> Scope:
    zero_input = _zero_input_types()
    explicit = {e.name for e in entries if e.name}
    known: dict[str, int | None] = {name: None for name in inputs}  # None: an input
    counters: dict[str, int] = {}
    slots: list[Slot] = []

    unresolved = False

    def resolve(ref):
        nonlocal unresolved
        if ref.name not in known:
            unresolved = True
            return -1
        return known[ref.name]

    for i, e in enumerate(entries):
        name = e.name
        if name is None:
            name = generated_name(e.type, counters, lambda n: n in explicit or n in known)
        slot = Slot(e, name, i)
        refs = list(e.from_ or ()) + [r for r in (e.tie, e.share) if r is not None]
        for ref in refs:
            j = resolve(ref)
            if j is not None and j >= 0:
                slots[j].referenced = True
        if e.type not in zero_input:
            if e.from_ is not None:
                for ref in e.from_:
                    j = resolve(ref)
                    if j is not None and j >= 0:
                        slots[j].consumers.append(i)
            elif i > 0:
                slots[i - 1].consumers.append(i)
        slots.append(slot)
        known[name] = i
    if output_refs is None:
        if slots:
            slots[-1].is_output = True
    else:
        for ref in output_refs:
            j = resolve(ref)
            if j is not None and j >= 0:
                slots[j].is_output = True
                slots[j].referenced = True
    return Scope(where, block, slots, unresolved)


def analyze_scopes(spec) -> list[Scope]:
    scopes = [analyze_scope(spec.layers, [i.name for i in spec.inputs], spec.outputs, "the spec")]
    for block in spec.blocks.values():
        out = None if block.output is None else [block.output]
        scopes.append(analyze_scope(block.layers, block.inputs, out, f"block '{block.name}'", block))
    return scopes


def output_entries(spec, scopes):
    """(top-level entry, innermost entry, block path) for every model output.

    A block instance that produces an output is followed to its block's output
    layer (recursively), so the innermost entry is the leaf layer that
    produces the output.
    """
    by_block = {sc.block.name: sc for sc in scopes if sc.block is not None}
    for slot in scopes[0].slots:
        if not slot.is_output:
            continue
        entry, path = slot.entry, []
        while entry.type in by_block and entry.type not in path:
            path.append(entry.type)
            outs = [s for s in by_block[entry.type].slots if s.is_output]
            if not outs:
                break
            entry = outs[0].entry
        yield slot.entry, entry, path
