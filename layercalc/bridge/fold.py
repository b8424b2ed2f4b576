"""Folding the flat layers of an import into the blocks and repeats a person would write.

A pass over the flat result of :mod:`.fx_import` that needs no torch:

1. **Scopes.** Every module instance that is not a container (``Sequential``, ``ModuleList``,
   ``ModuleDict``) and holds two layers or more is a block instance; containers are transparent
   (``layer1.0`` is the instance ``layer1_0`` of the enclosing scope). An instance whose layers are
   read from outside through more than one value stays inline (a block has one output).
2. **Blocks.** Instances of one class with the same structure are one block; the argument values
   that differ between them become its params (one param per distinct column of values, written
   ``2 * p`` where a column is an integer multiple of another). One class with different
   structures gives different blocks (``Bottleneck``, ``Bottleneck_2``).
3. **Repeats.** Consecutive instances of one block with equal params, each fed only by the one
   before, are one entry with ``repeat``.
4. **Shares.** A module instance called a second time is an entry with ``share``.

The result is :class:`Folded`: block definitions and the model's entries, as plain data that
:mod:`.emit` writes as YAML.
"""

from __future__ import annotations

import json
import re

from ..layers.registry import takes_no_input

CONTAINERS = {"Sequential", "ModuleList", "ModuleDict"}


class Item:
    """An entry of a scope: a leaf layer or a block instance."""

    def __init__(self, name, kind, layer=None):
        self.name = name  # name in its scope
        self.kind = kind  # "layer" or "block"
        self.layer = layer
        self.scope: Scope | None = None
        self.share_of: Item | None = None  # a second call of a block instance
        self.entry: dict | None = None


class Scope:
    def __init__(self, qual: str, cls):
        self.qual = qual
        self.cls = cls
        self.items: list[Item] = []
        self.inputs: list = []  # global Srcs that enter, in order of first use
        self.output = None  # the global Src it returns


class Folded:
    def __init__(self):
        self.blocks: dict[str, dict] = {}  # name -> {"params": [...], "inputs": [...], "layers": [...], "output": ...}
        self.layers: list[dict] = []
        self.outputs: list[str] | None = None


def ident(text: str) -> str:
    text = re.sub(r"\W", "_", text)
    return text if re.match(r"[A-Za-z_]", text) else f"m_{text}"


# --- 1. scopes --------------------------------------------------------------------------------------------------


def _owners(layer, transparent=()) -> list:
    path, classes = layer.path, layer.classes
    if layer.module is not None and path:
        path, classes = path[:-1], classes[:-1]
    return [(q, c) for q, c in zip(path, classes) if c.__name__ not in CONTAINERS and q not in transparent]


def build(layers, transparent=()) -> Scope:
    """``transparent``: module paths read as containers (a wrapper called once, such as the base model
    under a HuggingFace language-model head)."""
    root = Scope("", None)
    _fill(root, [(layer, _owners(layer, transparent)) for layer in layers], 0, {}, tuple(transparent))
    return root


def _rel(name: str, qual: str, transparent=()) -> str:
    name = name[len(qual) + 1:] if qual and name.startswith(qual + ".") else name
    for t in transparent:  # the layers of a transparent wrapper are named as its own (`wte`, not `transformer.wte`)
        if t and name.startswith(t + "."):
            return name[len(t) + 1:]
    return name


def _fill(scope: Scope, layers, depth: int, runs: dict, transparent=()):
    i = 0
    while i < len(layers):
        layer, owners = layers[i]
        if len(owners) > depth:
            qual, cls = owners[depth]
            j = i
            while j < len(layers) and len(layers[j][1]) > depth and layers[j][1][depth][0] == qual:
                j += 1
            run = layers[i:j]
            if len(run) < 2:
                scope.items.append(Item(ident(_rel(layer.name, scope.qual, transparent)), "layer", layer))
            else:
                sub = Scope(qual, cls)
                _fill(sub, run, depth + 1, runs, transparent)
                base = ident(_rel(qual, scope.qual, transparent))
                item = Item(base, "block")
                item.scope = sub
                first = runs.get(qual)
                if first is not None:
                    item.share_of = first
                    item.name = f"{base}_{sum(1 for it in scope.items if it.name.startswith(base)) + 1}"
                else:
                    runs[qual] = item
                scope.items.append(item)
            i = j
        else:
            scope.items.append(Item(ident(_rel(layer.name, scope.qual, transparent)), "layer", layer))
            i += 1


# --- 2. wiring ------------------------------------------------------------------------------------------------


def _leaves(scope: Scope) -> list:
    out = []
    for it in scope.items:
        out.extend(_leaves(it.scope) if it.kind == "block" else [it.layer])
    return out


def wire(scope: Scope, read_by: dict):
    """Inputs and output of every block instance, bottom-up; inline those with several outputs."""
    from .fx_import import Src

    items = []
    for item in scope.items:
        if item.kind == "block":
            wire(item.scope, read_by)
            leaves = _leaves(item.scope)
            inner = {lay.name for lay in leaves}
            ins = []
            for lay in leaves:
                for s in lay.inputs:
                    if s.name not in inner and s not in ins:
                        ins.append(s)
            leaving = []
            for lay in leaves:
                for s, readers in read_by.get(lay.name, {}).items():
                    if readers - inner and s not in leaving:
                        leaving.append(s)
            if len(leaving) > 1 or not ins:
                items.extend(item.scope.items)
                continue
            item.scope.inputs = ins
            item.scope.output = leaving[0] if leaving else Src(leaves[-1].name)
        items.append(item)
    scope.items = items


def read_by(layers, outputs) -> dict:
    """layer name -> {Src read: set of reader names ('#out' for the model's outputs)}."""
    info: dict = {}
    for layer in layers:
        for s in layer.inputs:
            info.setdefault(s.name, {}).setdefault(s, set()).add(layer.name)
    for s in outputs:
        info.setdefault(s.name, {}).setdefault(s, set()).add("#out")
    return info


# --- 3. entries, blocks, repeats ------------------------------------------------------------------------------


class Folder:
    def __init__(self):
        self.folded = Folded()
        self.groups: dict = {}  # (class name, structure) -> {"name", "instances": [entries]}
        self.names: set = set()
        self.pending: list = []  # (group key, entry) to fill with params at the end

    def scope_entries(self, scope: Scope, input_names: list[str]) -> list[dict]:
        """Entries of a scope with concrete argument values; block instance entries are grouped."""
        local: dict = {}
        for s, n in zip(scope.inputs, input_names):
            local[s] = n
        entries = []
        prev = scope.inputs[0] if scope.inputs else None
        taken = set(input_names)
        for item in scope.items:
            base, k = item.name, 2
            while item.name in taken:
                item.name = f"{base}_{k}"
                k += 1
            taken.add(item.name)
            if item.kind == "layer":
                lay = item.layer
                e = {"type": lay.type, "args": dict(lay.args), "name": item.name}
                ins = lay.inputs
                out = _src(lay.name)
                if lay.share is not None:
                    e["share"] = _local_name(local, lay.share)
                if lay.tie is not None:
                    e["tie"] = _local_name(local, lay.tie)
                if not lay.trainable:
                    e["trainable"] = False
                if lay.note:
                    e["note"] = lay.note
                from ..layers import REGISTRY

                rule = REGISTRY.get(lay.type)
                extras = ("h_n", "c_n", "c", "attn_weights", "indices") + (rule.extra_outputs if rule else ())
                for ex in extras:
                    local[_src(lay.name, ex)] = f"{item.name}.{ex}"
            else:
                sub = item.scope
                if item.share_of is not None:
                    first = item.share_of.entry
                    e = {"type": first["type"], "args": dict(first["args"]), "name": item.name,
                         "share": item.share_of.name, "group": first.get("group")}
                else:
                    names = ["x"] + [f"x{k + 2}" for k in range(len(sub.inputs) - 1)]
                    body = self.scope_entries(sub, names)
                    inner_out = _find_local(body, sub, names)
                    e = {"type": None, "args": {}, "name": item.name}
                    self._group(e, sub, body, names, inner_out)
                    item.entry = e
                ins = sub.inputs
                out = sub.output
            if not takes_no_input(e.get("type")) and list(ins) != [prev]:
                e["from"] = [local.get(s, str(s)) for s in ins]
            local[out] = item.name
            entries.append(e)
            prev = out
        return entries

    def _group(self, e, scope, body, names, inner_out):
        structure = json.dumps([_shape_of(b) for b in body] + [names, inner_out], sort_keys=True, default=str)
        key = (scope.cls.__name__, structure)
        group = self.groups.get(key)
        if group is None:
            group = {"name": None, "cls": scope.cls.__name__, "body": body, "inputs": names, "output": inner_out,
                     "instances": []}
            self.groups[key] = group
        group["instances"].append((e, body))
        e["group"] = key

    def finish(self, root_entries: list[dict]) -> Folded:
        """Name the blocks, turn differing values into params, fold repeats."""
        taken = set()
        order = []
        for key, group in self.groups.items():
            base = ident(group["cls"])
            name = base
            k = 2
            while name in taken:
                name = f"{base}_{k}"
                k += 1
            taken.add(name)
            group["name"] = name
            order.append(group)
        for group in order:
            self._params(group)
        for group in order:
            body = group["instances"][0][1]
            self.folded.blocks[group["name"]] = {
                "params": group["params"], "inputs": group["inputs"], "output": group["output"],
                "layers": _fold_repeats(_typed(body, self.groups)),
            }
        renames: dict = {}
        self.folded.layers = _fold_repeats(_typed(root_entries, self.groups), renames)
        if self.folded.outputs:
            outs = []
            for o in self.folded.outputs:
                base, dot, extra = o.partition(".")
                outs.append(renames.get(base, base) + dot + extra)
            self.folded.outputs = outs
        return self.folded

    def _params(self, group):
        """Columns of argument values that differ between instances become params."""
        instances = group["instances"]
        columns: dict = {}  # (entry index, arg) -> [values per instance]
        keys: dict = {}
        for _, body in instances:
            for i, b in enumerate(body):
                keys.setdefault(i, [])
                for k in b["args"]:
                    if k not in keys[i]:
                        keys[i].append(k)
        for _, body in instances:
            for i, b in enumerate(body):
                for k in keys[i]:
                    v = b["args"][k] if k in b["args"] else _default(b["type"], k)
                    columns.setdefault((i, k), []).append(v)
        params: dict = {}  # name -> values
        by_values: dict = {}
        for (i, k), values in columns.items():
            if all(v == values[0] for v in values):
                for _, body in instances:  # the same everywhere: written as that value
                    body[i]["args"][k] = values[0]
                continue
            vkey = json.dumps(values)
            if vkey in by_values:
                expr = by_values[vkey]
            else:
                expr = None
                for pname, pvalues in params.items():
                    mult = _multiple(values, pvalues)
                    if mult:
                        expr = f"{mult} * {pname}"
                        break
                if expr is None:
                    pname = k if k not in params else f"{group['instances'][0][1][i]['name']}_{k}"
                    pname = ident(pname)
                    while pname in params:
                        pname += "_"
                    params[pname] = values
                    expr = pname
                by_values[vkey] = expr
            for _, body in instances:
                body[i]["args"][k] = expr
        group["params"] = list(params)
        for n, (e, _) in enumerate(instances):
            e["args"] = {p: params[p][n] for p in params}
        group["values"] = params


def _multiple(values, base):
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in values + base):
        return None
    if any(b == 0 for b in base):
        return None
    ratios = {v // b for v, b in zip(values, base) if v % b == 0}
    if len(ratios) == 1 and all(v % b == 0 for v, b in zip(values, base)):
        r = ratios.pop()
        return r if r > 1 else None
    return None


def _shape_of(entry: dict) -> dict:
    """The structure of an entry: everything but its argument values (a missing argument is its default)."""
    d = {k: v for k, v in entry.items() if k not in ("args", "group")}
    d["group"] = entry.get("group")
    d["lists"] = {k: v for k, v in entry["args"].items() if isinstance(v, (list, dict))}  # never params
    return d


def _default(type_name: str, arg: str):
    from ..layers import REGISTRY

    rule = REGISTRY.get(type_name)
    for a in rule.args if rule else ():
        if a.name == arg:
            return a.default
    return None


def _typed(entries: list[dict], groups: dict) -> list[dict]:
    out = []
    for e in entries:
        e = dict(e)
        if e.get("group") is not None:
            e["type"] = groups[e["group"]]["name"]
        e.pop("group", None)
        out.append(e)
    return out


def _fold_repeats(entries: list[dict], renames: dict | None = None) -> list[dict]:
    """Chains of equal block instances, each fed by the one before and read by nothing else, become one entry."""
    referenced: dict = {}
    for e in entries:
        for r in e.get("from") or ():
            referenced[r.split(".")[0]] = referenced.get(r.split(".")[0], 0) + 1
        for k in ("share", "tie"):
            if e.get(k):
                referenced[e[k]] = referenced.get(e[k], 0) + 1
    out: list[dict] = []
    renamed: dict = {}
    for e in entries:
        e = dict(e)
        raw_first = e["from"][0].split(".")[0] if e.get("from") else None
        if e.get("from"):
            e["from"] = [renamed.get(r.split(".")[0], r.split(".")[0]) + ("." + r.split(".", 1)[1] if "." in r else "")
                         for r in e["from"]]
        for k in ("share", "tie"):
            if e.get(k):
                e[k] = renamed.get(e[k], e[k])
        last = out[-1] if out else None
        # a block with several inputs chains its first one; the others go to every copy (the same tensors)
        chained = ("from" not in e and not referenced.get(last["_last"])) if last is not None else False
        if (last is not None and not chained and e.get("from") and last.get("from") and len(e["from"]) > 1
                and raw_first == last["_last"] and referenced.get(last["_last"]) == 1
                and e["from"][1:] == last["from"][1:]):
            chained = True
        if (last is not None and (last.get("is_block") and e.get("is_block") or _repeatable_leaf(last, e))
                and last["type"] == e["type"]
                and last["args"] == e["args"] and chained and not e.get("share") and not last.get("share")
                and last.get("trainable", True) == e.get("trainable", True)):
            last["repeat"] = last.get("repeat", 1) + 1
            renamed[e["name"]] = last["name"]
            for k, v in renamed.items():
                if v == e["name"]:
                    renamed[k] = last["name"]
            last["_last"] = e["name"]
            continue
        e["_last"] = e["name"]
        out.append(e)
    for e in out:
        e.pop("_last", None)
    # a repeat that covers a whole container (h.0 .. h.11) takes the container's name (h)
    names = {e["name"] for e in out}
    for e in out:
        m = re.fullmatch(r"(.+)_0", e["name"])
        if m and e.get("repeat", 1) > 1 and m.group(1) not in names and not any(
                n.startswith(m.group(1) + "_") and n != e["name"] for n in names):
            old, e["name"] = e["name"], m.group(1)
            for k, v in list(renamed.items()):
                if v == old:
                    renamed[k] = m.group(1)
            renamed[old] = m.group(1)
            for other in out:
                if other.get("from"):
                    other["from"] = [m.group(1) + r[len(old):] if r == old or r.startswith(old + ".") else r
                                     for r in other["from"]]
                for k in ("share", "tie"):
                    if other.get(k) == old:
                        other[k] = m.group(1)
    if renames is not None:
        renames.update(renamed)
    return out


def _repeatable_leaf(a: dict, b: dict) -> bool:
    """Two equal layers in a chain that carry weights (a stack of encoder layers, of LSTMs...)."""
    return (not a.get("is_block") and not b.get("is_block") and a["type"] == b["type"]
            and a["type"] in ("TransformerEncoderLayer", "TransformerDecoderLayer", "Linear", "LSTM", "GRU", "RNN",
                              "Conv1d", "Conv2d", "Conv3d") and b["args"] == a["args"])


def _src(name, extra=None):
    from .fx_import import Src

    return Src(name, extra)


def _local_name(local: dict, global_name: str) -> str:
    return local.get(_src(global_name), ident(global_name))


def _find_local(body: list[dict], scope: Scope, names: list[str]) -> str | None:
    """The name of the scope's output within the body (None: the last entry)."""
    out = scope.output
    for s, n in zip(scope.inputs, names):
        if s == out:
            return n
    last = body[-1]["name"] if body else None
    for e, item in zip(body, scope.items):
        src = _src(item.layer.name) if item.kind == "layer" else item.scope.output
        if src == out or (item.kind == "layer" and out is not None and out.name == item.layer.name):
            if e["name"] == last and out.extra is None:
                return None
            return e["name"] + (f".{out.extra}" if out.extra else "")
    return None


def fold(layers, inputs: list[str], outputs, transparent=()) -> Folded:
    """Fold the flat layers of a model with these input names and output Srcs."""
    root = build(layers, transparent)
    wire(root, read_by(layers, outputs))
    root.inputs = [_src(n) for n in inputs]
    folder = Folder()
    entries = folder.scope_entries(root, list(inputs))
    _mark_blocks(entries)
    for g in folder.groups.values():
        for e, body in g["instances"]:
            _mark_blocks(body)
    folder.folded.outputs = [_output_name(root, s) for s in outputs]
    return folder.finish(entries)


def _output_name(root: Scope, s) -> str:
    for item in root.items:
        src = _src(item.layer.name) if item.kind == "layer" else item.scope.output
        if item.kind == "layer" and item.layer.name == s.name:
            return item.name + (f".{s.extra}" if s.extra else "")
        if item.kind == "block" and src == s:
            return item.name
    return ident(s.name)


def _mark_blocks(entries):
    for e in entries:
        if e.get("group") is not None:
            e["is_block"] = True


def _all_blocks(scope):
    for it in scope.items:
        if it.kind == "block":
            yield it
            yield from _all_blocks(it.scope)
