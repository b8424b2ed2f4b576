"""Expanding a parsed spec into a flat graph of leaf layers.

Blocks are inlined (``INSTANCE.LAYER``, repeated copies ``INSTANCE.K.LAYER``),
``repeat`` on a layer makes ``NAME.K`` copies, names are resolved within their
scope, and the total number of nodes is capped (``max_layers``) so that no
spec can make expansion run away.

The structure that inlining flattens is kept on the nodes: every node's
``group`` is the innermost :class:`Group` (a block instance, or the copies of
a ``repeat``) it was expanded in, or None at the top level, so reports can fold
layers back into blocks without parsing names.
"""

from __future__ import annotations

import re
from collections import ChainMap
from typing import NamedTuple

from ..errors import Mark, SpecError, did_you_mean
from ..layers.registry import takes_no_input
from .expr import FUNCTION_NAMES
from .model import MAX_BLOCK_DEPTH, BlockDef, Entry, Ref, Spec, eval_int, eval_value, type_name
from .yamlload import YMap

DEFAULT_MAX_LAYERS = 100_000


class Src(NamedTuple):
    """A value in the graph: the primary output of ``node`` or its extra output ``extra``."""

    node: str
    extra: str | None = None

    def __str__(self) -> str:
        return self.node + (f".{self.extra}" if self.extra else "")


class Group:
    """A block instance or the copies of a ``repeat``, as the expansion met it.

    ``kind`` is ``"block"`` (one instance of a block: ``name`` is its prefix, e.g.
    ``layer1`` or ``h.3``; ``type`` the block's name) or ``"repeat"`` (``repeat``
    copies of a block or of a layer, named ``name.0`` ... ``name.K``; ``type`` the
    repeated block or layer type). ``parent`` is the enclosing group (None at the
    top level), ``level`` its nesting depth (1 at the top level), ``inputs`` the
    values it reads and ``output`` the value it produces.
    """

    __slots__ = ("name", "type", "kind", "parent", "level", "repeat", "inputs", "output", "mark")

    def __init__(self, name: str, type: str, kind: str, parent: "Group | None", repeat: int, inputs: list,
                 mark: Mark):
        self.name = name
        self.type = type
        self.kind = kind
        self.parent = parent
        self.level = 1 if parent is None else parent.level + 1
        self.repeat = repeat
        self.inputs = inputs
        self.output: Src | None = None
        self.mark = mark

    def __repr__(self) -> str:
        return f"Group({self.name!r}, {self.type!r}, {self.kind!r})"


class Node:
    """One leaf layer of the expanded graph, in execution order; ``group`` is the innermost
    :class:`Group` it belongs to (None for a top-level layer)."""

    __slots__ = ("name", "type", "args", "args_mark", "mark", "env", "inputs", "input_marks", "trainable", "tie",
                 "tie_mark", "share", "share_mark", "group")

    def __init__(self, name: str, type: str, args: YMap | None, args_mark: Mark, mark: Mark, env: dict,
                 inputs: list[Src], input_marks: list[Mark], trainable: bool = True):
        self.name = name
        self.type = type
        self.args = args
        self.args_mark = args_mark
        self.mark = mark
        self.env = env
        self.inputs = inputs
        self.input_marks = input_marks
        self.trainable = trainable
        self.tie: str | None = None
        self.tie_mark: Mark | None = None
        self.share: str | None = None
        self.share_mark: Mark | None = None
        self.group: Group | None = None

    def __repr__(self) -> str:
        return f"Node({self.name!r}, {self.type!r})"


class Graph:
    """The expanded spec: leaf nodes in order and the model outputs."""

    def __init__(self, spec: Spec, nodes: list[Node], outputs: list[tuple[Src, Mark, str]]):
        self.spec = spec
        self.nodes = nodes
        self.outputs = outputs  # (value, where it is named, the name it is reported under)
        self.used: set = set()  # scope names that something refers to (for lint)
        self.scope: dict = {}  # top-level names -> where they are defined (for lint)


class _Item:
    """What a name in a scope stands for."""

    __slots__ = ("out", "mark", "kind", "type", "node", "members", "repeated")

    def __init__(self, out: Src, mark: Mark, kind: str, type: str = "", node: str | None = None,
                 members: dict | None = None, repeated: bool = False):
        self.out = out
        self.mark = mark
        self.kind = kind  # "input", "layer", "block"
        self.type = type
        self.node = node  # leaf node name (layers)
        self.members = members  # relative name -> node name (block instances)
        self.repeated = repeated


def generated_name(type_name, counters: dict, taken) -> str:
    """The stable name of an unnamed entry: ``<type in lower case>_<n>``, counted per type within
    its scope (``counters``), skipping the names for which ``taken(name)`` is true (the scope's
    explicit names and the names already defined), so adding a layer of another type renames nothing."""
    base = type_name.lower() if isinstance(type_name, str) else "layer"
    n = counters.get(base, 0)
    while True:
        n += 1
        name = f"{base}_{n}"
        if not taken(name):
            counters[base] = n
            return name


class _Expander:
    def __init__(self, spec: Spec, max_layers: int):
        from ..layers import REGISTRY

        self.spec = spec
        self.registry = REGISTRY
        self.max_layers = max_layers
        self.nodes: list[Node] = []
        self.used: set = set()
        self._scope_label = "the spec"  # the scope being expanded, for error messages
        self.group: Group | None = None  # the innermost block instance or repeat being expanded

    def add(self, node: Node) -> None:
        node.group = self.group
        if len(self.nodes) >= self.max_layers:
            raise SpecError(node.mark, f"the expanded graph has more than {self.max_layers} layers",
                            "reduce `repeat`, or raise the cap with --max-layers", code="G006")
        self.nodes.append(node)

    def lookup(self, scope: dict, ref: Ref, where: str) -> _Item:
        item = scope.get(ref.name)
        if item is None:
            hint = did_you_mean(ref.name, scope)
            known = ", ".join(scope) if len(scope) <= 12 else ", ".join(list(scope)[-12:]) + ", ..."
            raise SpecError(ref.mark, f"{where} names '{ref.name}', which is not defined before this point in {self._scope_label}"
                            + (f"; {hint}" if hint else ""),
                            f"name an earlier layer or an input ({known})", code="G001")
        self.used.add(id(item))
        return item

    def src(self, scope: dict, ref: Ref, where: str) -> Src:
        item = self.lookup(scope, ref, where)
        if ref.extra is None:
            return item.out
        if item.out.extra is not None:
            raise SpecError(ref.mark, f"'{ref.name}.{ref.extra}' selects an output of an output", "select one output",
                            code="G009")
        return Src(item.out.node, ref.extra)

    def expand(self, entries: list[Entry], scope: dict, env: dict, prefix: str, first: Src | None,
               trainable: bool, stack: tuple) -> Src:
        explicit = {e.name for e in entries if e.name}
        counters: dict[str, int] = {}
        prev = first
        for entry in entries:
            name = entry.name
            if name is None:
                name = generated_name(entry.type, counters, lambda n: n in explicit or n in scope)
            elif name in scope:
                raise SpecError(entry.name_mark, f"the name '{name}' is already used in {self._scope_label} "
                                f"(at line {scope[name].mark.line})", "give this layer another name", code="G002")
            repeat = eval_int(entry.repeat, env, entry.repeat_mark or entry.mark, "`repeat`", minimum=1)
            if repeat > self.max_layers:
                raise SpecError(entry.repeat_mark, f"`repeat` is {repeat}, more than the cap of {self.max_layers} layers",
                                "use a smaller repeat, or raise the cap with --max-layers", code="G006")
            if entry.from_ is not None:
                ins = [self.src(scope, r, "`from`") for r in entry.from_]
                in_marks = [r.mark for r in entry.from_]
            elif prev is not None:
                ins, in_marks = [prev], [entry.mark]
            else:
                ins, in_marks = [], []
            item_trainable = trainable and entry.trainable
            share = tie = None
            if entry.share is not None:
                share = self.lookup(scope, entry.share, "`share`")
                if share.kind == "input" or share.repeated or share.type != entry.type:
                    what = ("an input" if share.kind == "input" else "a repeated entry" if share.repeated
                            else f"a {share.type}")
                    raise SpecError(entry.share.mark, f"`share` names '{entry.share.name}', {what}; expected an earlier "
                                    f"{entry.type} that is not repeated", "name an earlier entry of the same type",
                                    code="G010")
            for ref, key in ((entry.share, "share"), (entry.tie, "tie")):
                if ref is not None and ref.extra is not None:
                    raise SpecError(ref.mark, f"`{key}` names '{ref.name}.{ref.extra}', an output; `{key}` takes "
                                    "the name of a layer" + (" or block instance" if key == "share" else ""),
                                    f"write `{key}: {ref.name}`", code="G010")
            if entry.tie is not None:
                tie = self.lookup(scope, entry.tie, "`tie`")
                if tie.kind != "layer" or tie.repeated:
                    raise SpecError(entry.tie.mark, f"`tie` names '{entry.tie.name}', which is not a single layer",
                                    "name an earlier layer (not an input, block or repeated layer)", code="G010")
            if entry.type in self.spec.blocks:
                item = self.block(entry, name, env, prefix, ins, in_marks, repeat, item_trainable, stack, share)
            else:
                if entry.type not in self.registry:
                    hint = did_you_mean(entry.type, list(self.registry) + list(self.spec.blocks))
                    raise SpecError(entry.mark, f"unknown layer type '{entry.type}'" + (f"; {hint}" if hint else ""),
                                    "use a torch.nn type name (see `layercalc layers`) or a block defined under `blocks:`",
                                    code="S004")
                if tie is not None and repeat > 1:
                    raise SpecError(entry.tie.mark, "`tie` on a repeated layer would tie every copy",
                                    "remove `repeat` or `tie`", code="G010")
                node_name = None
                cur = ins
                outer = self.group
                if repeat > 1:
                    self.group = Group(f"{prefix}{name}", entry.type, "repeat", outer, repeat, list(ins), entry.mark)
                for k in range(repeat):
                    node_name = f"{prefix}{name}" + (f".{k}" if repeat > 1 else "")
                    node = Node(node_name, entry.type, entry.args, entry.args_mark, entry.mark, env, list(cur),
                                list(in_marks), item_trainable)
                    if tie is not None:
                        node.tie, node.tie_mark = tie.node, entry.tie.mark
                    if share is not None:
                        node.share, node.share_mark = share.node, entry.share.mark
                    self.add(node)
                    if cur and not takes_no_input(entry.type):
                        cur = [Src(node_name)] + cur[1:]
                    else:
                        cur = [Src(node_name)]
                if repeat > 1:
                    self.group.output = Src(node_name)
                    self.group = outer
                item = _Item(Src(node_name), entry.name_mark or entry.mark, "layer", entry.type, node=node_name,
                             repeated=repeat > 1)
            scope[name] = item
            prev = item.out
        return prev

    def block(self, entry: Entry, name: str, env, prefix, ins, in_marks, repeat, trainable, stack, share) -> _Item:
        block: BlockDef = self.spec.blocks[entry.type]
        if block.name in stack:
            chain = " -> ".join(stack + (block.name,))
            raise SpecError(entry.mark, f"block '{block.name}' uses itself ({chain})",
                            "remove the recursive use; repeat a block with `repeat` instead", code="G005")
        if len(stack) >= MAX_BLOCK_DEPTH:
            chain = " -> ".join(stack[:3] + ("...",) + stack[-2:] + (block.name,))
            raise SpecError(entry.mark, f"blocks nest {len(stack) + 1} deep here ({chain}), more than the limit of "
                            f"{MAX_BLOCK_DEPTH}", "use fewer levels of blocks in blocks; `repeat` stacks copies "
                            "without nesting", code="G011")
        benv = self.block_env(block, entry, env)
        if len(ins) != len(block.inputs):
            raise SpecError(entry.from_mark or entry.mark,
                            f"block '{block.name}' takes {len(block.inputs)} input(s) ({', '.join(block.inputs)}), "
                            f"got {len(ins)}", f"write `from: [{', '.join(block.inputs)}]` with a name for each",
                            code="G008")
        inst_members: dict = {}
        cur = ins
        out = None
        saved = self._scope_label
        outer = self.group
        if repeat > 1:
            outer = Group(f"{prefix}{name}", block.name, "repeat", outer, repeat, list(ins), entry.mark)
        for k in range(repeat):
            inst = f"{name}." + (f"{k}." if repeat > 1 else "")
            self.group = Group(prefix + inst[:-1], block.name, "block", outer, 1, list(cur), entry.mark)
            bscope = {i: _Item(s, m, "input") for i, s, m in zip(block.inputs, cur, in_marks)}
            for it in bscope.values():
                self.used.add(id(it))  # block inputs need not be used (lint reports unused layers only)
            self._scope_label = f"block '{block.name}'"
            start = len(self.nodes)
            last = self.expand(block.layers, bscope, benv, prefix + inst, cur[0], trainable, stack + (block.name,))
            if k == 0:
                inst_members = {n.name[len(prefix + inst):]: n.name for n in self.nodes[start:]}
            if block.output is not None:
                out = self.src(bscope, block.output, "`output`")
            else:
                out = last
            if share is not None:
                target = share.members or {}
                for node in self.nodes[start:]:
                    rel = node.name[len(prefix + inst):]
                    tgt = target.get(rel)
                    if tgt is None:
                        raise SpecError(entry.share.mark, f"`share`: '{entry.share.name}' has no layer '{rel}'",
                                        "share only between instances of the same block", code="G010")
                    node.share, node.share_mark = tgt, entry.share.mark
            self._scope_label = saved
            self.group.output = out
            self.group = outer
            cur = [out] + list(cur[1:])
        if repeat > 1:
            outer.output = out
            self.group = outer.parent
        return _Item(out, entry.name_mark or entry.mark, "block", entry.type, members=inst_members,
                     repeated=repeat > 1)

    def block_env(self, block: BlockDef, entry: Entry, env: dict) -> dict:
        args = entry.args or {}
        for key in args:
            if key not in block.params:
                hint = did_you_mean(str(key), block.params)
                raise SpecError(args.kmarks[key], f"block '{block.name}' has no param '{key}'" + (f"; {hint}" if hint else ""),
                                f"its params are: {', '.join(block.params) or '(none)'}", code="S005")
        # The block's scope: its params over the spec's dims and vars, shared rather than copied (every layer
        # keeps its scope, and a spec of 1,000 vars and 100,000 layers must not hold 100,000 copies).
        params: dict = {}
        benv = ChainMap(params, self.spec.env)
        for p in block.params:
            if p in args:
                value = args[p]
                if isinstance(value, str) and _literal(value, env):
                    # a literal string for a layer argument, e.g. `padding: same` or `mode: mean`; it keeps
                    # its place, so that a layer refusing it points here
                    value = Literal(value, args.vmarks[p])
                elif isinstance(value, (int, float, str)) and not isinstance(value, bool):
                    value = eval_value(value, env, args.vmarks[p], f"param '{p}' of block '{block.name}'")
                elif isinstance(value, bool) or value is None:
                    pass
                else:
                    raise SpecError(args.vmarks[p], f"param '{p}' of block '{block.name}' is {type_name(value)}",
                                    "pass a number, an expression, true/false or a string", code="S003")
            else:
                default = block.params[p]
                if default is None:
                    raise SpecError(entry.mark, f"block '{block.name}' needs the param '{p}', which has no default",
                                    f"write `{block.name}: {{{p}: ...}}`", code="S002")
                if isinstance(default, (int, float, str)) and not isinstance(default, bool):
                    value = eval_value(default, benv, block.params.vmarks[p], f"the default of param '{p}'")
                else:
                    value = default
            params[p] = value
        return benv


class Literal(str):
    """A block param's literal string, with the place it was written."""

    __slots__ = ("mark",)

    def __new__(cls, text: str, mark: Mark):
        self = super().__new__(cls, text)
        self.mark = mark
        return self


def _literal(text: str, env: dict) -> bool:
    """Whether a block param's string is a literal word (``same``, ``mean``, ``nearest-exact``), not an expression.

    A single word that names nothing in scope is kept as a literal; anything with
    operators, digits or a known name is an expression and evaluated.
    """
    word = text.strip()
    return bool(_WORD.match(word)) and word not in env and word not in FUNCTION_NAMES


_WORD = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


def expand(spec: Spec, max_layers: int = DEFAULT_MAX_LAYERS) -> Graph:
    """Expand ``spec`` into a :class:`Graph` of leaf nodes in execution order."""
    ex = _Expander(spec, max_layers)
    scope = {i.name: _Item(Src(i.name), i.mark, "input") for i in spec.inputs}
    first = Src(spec.inputs[0].name)
    last = ex.expand(spec.layers, scope, spec.env, "", first, True, ())
    if spec.outputs is None:
        outputs = [(last, spec.layers[-1].mark, str(last))]
    else:  # reported under the name written in `outputs` (a block instance's name, not its last layer's)
        outputs = [(ex.src(scope, r, "`outputs`"), r.mark, r.name + (f".{r.extra}" if r.extra else ""))
                   for r in spec.outputs]
    g = Graph(spec, ex.nodes, outputs)
    g.used = {name for name, item in scope.items() if id(item) in ex.used}
    g.scope = {name: item.mark for name, item in scope.items() if item.kind != "input"}  # for lint
    return g
