"""How long a value stays alive at inference when the spec runs as eager PyTorch code.

A tensor is freed when nothing refers to it any more. Its last consumer is the earliest that can
happen; eager code keeps some tensors longer, through its Python references:

- the caller holds the model's inputs for the whole call;
- a block instance is one ``nn.Module`` call, and its ``forward`` arguments (the block's inputs) are
  held by the caller until it returns;
- inside a ``forward`` (a block's layers, or the spec's top-level layers), a value that the spec
  names in a ``from:`` (or ``share:``, or as the block's ``output``, or a model output) is a local
  variable: it lives until the ``forward`` returns. The other values pass along one variable
  (``out = self.fc1(out)``): each lives until the next one is assigned, that is until the next
  unnamed entry of the same list has run.

This is how ``layercalc export`` writes a spec as a module, and how hand-written modules keep
``identity``, ``residual`` or ``attn_output``. Documented in docs/memory.md ("Peaks").
"""

from __future__ import annotations


def held_until(graph, n: int) -> dict:
    """{value key (node, extra): the last row while a reference holds it}; ``n`` (one past the last row)
    for the model's inputs and for what the top-level forward holds to its end."""
    held: dict = {}

    def hold(key, i):
        if held.get(key, -1) < i:
            held[key] = i

    for spec_input in graph.spec.inputs:
        hold((spec_input.name, None), n)
    # the items of each forward, in order: id of a block instance (None for the model) -> (the instance,
    # [its layers, repeats and inner block instances])
    items: dict = {None: (None, [])}
    last: dict = {}  # id of an element -> its last row
    first_copy: dict = {}  # id of a repeat -> id of its first copy
    def add(key, scope, child):
        members = items.setdefault(key, (scope, []))[1]
        if not members or members[-1] is not child:
            members.append(child)

    for i, node in enumerate(graph.nodes):
        path = [node]
        g = node.group
        while g is not None:
            path.append(g)
            g = g.parent
        for j, element in enumerate(path):
            last[id(element)] = i
            if j and element.kind == "repeat":
                first_copy.setdefault(id(element), id(path[j - 1]))
            if j and element.kind == "block":
                add(id(element), element, path[j - 1])
        add(None, None, path[-1])
    for key, (scope, members) in items.items():
        if scope is None:
            prefix, entries, output, end = "", graph.spec.layers, graph.spec.outputs or (), n
        else:
            block = graph.spec.blocks[scope.type]
            prefix, entries, end = scope.name + ".", block.layers, last[key]
            output = (block.output,) if block.output else ()
            for src in scope.inputs:  # the forward's arguments
                hold((src.node, src.extra), end)
        named = {r.name for e in entries for r in (e.from_ or ())} | {e.share.name for e in entries if e.share}
        named |= {r.name for r in output}
        chain = []
        for element in members:
            outs = _outputs(element)
            if element.name[len(prefix):].split(".")[0] in named:
                for k in outs:
                    hold(k, end)
            else:  # a repeat's loop assigns its variable when its first copy returns
                chain.append((outs, last[first_copy.get(id(element), id(element))]))
        for j, (outs, _) in enumerate(chain):
            until = chain[j + 1][1] if j + 1 < len(chain) else end
            for k in outs:
                hold(k, until)
    return held


def _outputs(element) -> list:
    """The value keys an item of a forward binds: a leaf layer's output (and its extra outputs, which
    the same call returns); a block's or a repeat's output."""
    if hasattr(element, "kind"):
        out = element.output
        return [(out.node, out.extra)] if out is not None else []
    return [(element.name, None)]
