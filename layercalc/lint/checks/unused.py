"""Unused names, outputs and blocks.

* ``W004`` style.unused-output: no later entry takes the layer's output (as
  the next entry's default input or through ``from``) and it is not an output
  of its scope (the model's ``outputs``, a block's ``output``, or the last
  entry). Its parameters and MACs are counted, but it feeds nothing::

      - Conv2d: {out_channels: 64, kernel_size: 1}
        from: x
        name: shortcut          # W004: the Add below forgot it
      - Add:
        from: [x, bn2]

* ``W001`` style.unused-name (off by default): the layer's output is used,
  but its ``name`` is never referred to. Not reported for a layer that
  already has W004.
* ``W005`` style.unused-block: a block that no used layer list instantiates.

A scope in which some reference names nothing (an error, G001) is skipped:
the misspelled name probably meant one of its layers.
"""

from __future__ import annotations

from ..problem import Problem

CODES = ("W001", "W004", "W005")


def check(ctx):
    spec = ctx.spec
    for scope in ctx.scopes:
        if scope.unresolved:  # an undefined name (G001): which layer it meant to use is unknown
            continue
        for slot in scope.slots:
            e = slot.entry
            if not slot.consumers and not slot.is_output:
                label = f"'{slot.name}'" if e.name else f"'{slot.name}' (an unnamed {e.type})"
                yield Problem(ctx.file, e.mark.line, e.mark.col, "W004",
                              f"the output of {e.type} {label} in {scope.where} is used by nothing: no later entry "
                              "takes it and it is not an output",
                              f"feed it to a later layer (`from: {slot.name}`), or remove it")
            elif e.name and not slot.referenced and not slot.is_output:
                m = e.name_mark or e.mark
                yield Problem(ctx.file, m.line, m.col, "W001",
                              f"the name '{e.name}' in {scope.where} is never referred to",
                              "refer to it from `from`/`outputs`, or remove `name:`")
    used: set[str] = set()
    todo = [e.type for e in spec.layers if e.type in spec.blocks]
    while todo:
        name = todo.pop()
        if name in used:
            continue
        used.add(name)
        todo += [e.type for e in spec.blocks[name].layers if e.type in spec.blocks]
    for name, block in spec.blocks.items():
        if name not in used:
            yield Problem(ctx.file, block.mark.line, block.mark.col, "W005",
                          f"the block '{name}' is defined but never used",
                          f"use it as a layer (`- {name}: {{...}}`), or remove it")
