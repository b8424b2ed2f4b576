"""The parsed spec: plain records, each value keeping its YAML position.

:func:`parse_spec` checks the structure of sections 1-3 of the format (keys,
types, names) and evaluates ``dims`` and ``vars``; layer arguments stay raw
(with their marks) until the engine resolves them against the layer's schema.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from ..dtypes import DTYPE_ALIASES, DTYPE_BYTES, DTYPES, FLOAT_DTYPES  # noqa: F401 - re-exported
from ..errors import Mark, SpecError, did_you_mean
from .expr import FUNCTION_NAMES, MAX_ABS, ExprError, evaluate
from .yamlload import YMap, YSeq

FORMAT_VERSION = 1
TOP_KEYS = ("layercalc", "name", "dims", "vars", "inputs", "blocks", "layers", "outputs")
META_KEYS = ("name", "from", "repeat", "trainable", "tie", "share")
BLOCK_KEYS = ("params", "inputs", "layers", "output")
NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
#: limits on what a spec may declare (each refused with a located error beyond it; docs/spec-format.md 5.1)
MAX_NAMES = 10_000  # dims and vars together
MAX_RANK = 64  # dimensions of a tensor, as torch's reductions allow
MAX_BLOCK_DEPTH = 32  # blocks inside blocks


# Records are NamedTuples or plain classes rather than dataclasses: building a
# dataclass costs about a millisecond at import, and the CLI's start-up matters.


class Ref(NamedTuple):
    """A reference written in ``from``/``outputs``: ``name`` or ``name.extra``."""

    name: str
    extra: str | None
    mark: Mark


class Entry:
    """One entry of a ``layers:`` list, before expansion (``parse_entry`` fills the meta keys)."""

    __slots__ = ("type", "args", "mark", "args_mark", "name", "name_mark", "from_", "from_mark", "repeat",
                 "repeat_mark", "trainable", "tie", "share")

    def __init__(self, type: str, args: YMap | None, mark: Mark, args_mark: Mark):
        self.type = type
        self.args = args
        self.mark = mark  # the type key
        self.args_mark = args_mark
        self.name: str | None = None
        self.name_mark: Mark | None = None
        self.from_: list[Ref] | None = None
        self.from_mark: Mark | None = None
        self.repeat: object = 1
        self.repeat_mark: Mark | None = None
        self.trainable = True
        self.tie: Ref | None = None
        self.share: Ref | None = None


class InputDef(NamedTuple):
    name: str
    shape: tuple[int, ...]
    dtype: str
    mark: Mark


class BlockDef(NamedTuple):
    name: str
    params: YMap
    inputs: list[str]
    layers: list[Entry]
    output: Ref | None
    mark: Mark


class Spec(NamedTuple):
    file: str
    name: str
    dims: dict[str, int]
    vars: dict[str, object]
    inputs: list[InputDef]
    blocks: dict[str, BlockDef]
    layers: list[Entry]
    outputs: list[Ref] | None
    mark: Mark
    env: dict[str, object]


def printable(text: str) -> str:
    """``text`` with control characters, line and paragraph separators and bidirectional controls written
    as escapes (``\\n``, ``\\x1b``, ``\\u202e``), so that a name cannot break a table, a Markdown heading
    or a terminal."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text)


def type_name(v) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "a boolean"
    if isinstance(v, int):
        return "an integer"
    if isinstance(v, float):
        return "a number"
    if isinstance(v, str):
        return "a string"
    if isinstance(v, list):
        return "a list"
    if isinstance(v, dict):
        return "a mapping"
    return type(v).__name__


def eval_value(value, env: dict, mark: Mark, what: str):
    """Evaluate a number or an expression string; raise a located error."""
    if isinstance(value, bool) or value is None or isinstance(value, (list, dict)):
        raise SpecError(mark, f"{what} is {type_name(value)} ({value!r}), expected a number or an expression",
                        "write a number such as 64 or an expression such as 4 * w", code="S003")
    if isinstance(value, int):
        if type(value) is int and not -MAX_ABS <= value <= MAX_ABS:  # (a symbolic size, a subclass, is not held)
            raise SpecError(mark, f"{what} is larger than 10**18 in absolute value", "write a smaller number",
                            code="S006")
        return value
    if isinstance(value, float):
        return value
    if not isinstance(value, str):
        raise SpecError(mark, f"{what} is {type_name(value)}, expected a number or an expression",
                        "write a number such as 64 or an expression such as 4 * w", code="S003")
    try:
        return evaluate(value, env)
    except ExprError as exc:
        raise SpecError(mark, f"{what}: {exc}", "use numbers, defined names, + - * / // % **, min max ceil floor round",
                        code="S007") from None


def eval_int(value, env: dict, mark: Mark, what: str, minimum: int | None = None) -> int:
    v = eval_value(value, env, mark, what)
    if isinstance(v, float):
        if not v.is_integer():
            raise SpecError(mark, f"{what} is {v:g}, expected an integer", "use // for integer division, or round()",
                            code="S003")
        v = int(v)
    if minimum is not None and v < minimum:
        raise SpecError(mark, f"{what} is {v}, expected an integer >= {minimum}", f"use a value of at least {minimum}",
                        code="S006")
    return v


def _check_name(name, mark: Mark, what: str) -> str:
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise SpecError(mark, f"{what} {name!r} is not an identifier",
                        "use letters, digits and _ (not starting with a digit)", code="S009")
    return name


def _expect(value, kind, mark: Mark, what: str, fix: str):
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        expected = {YMap: "a mapping", YSeq: "a list", str: "a string", bool: "true or false"}.get(kind, str(kind))
        raise SpecError(mark, f"{what} is {type_name(value)}, expected {expected}", fix, code="S003")
    return value


def _unknown_key(key, allowed, mark: Mark, where: str):
    hint = did_you_mean(str(key), allowed)
    raise SpecError(mark, f"unknown key '{key}' in {where}" + (f"; {hint}" if hint else ""),
                    f"use one of: {', '.join(allowed)}", code="S001")


def parse_ref(value, mark: Mark, what: str) -> Ref:
    if not isinstance(value, str):
        raise SpecError(mark, f"{what} is {type_name(value)}, expected a layer or input name",
                        "write the name of an earlier layer or an input", code="S003")
    name, _, extra = value.partition(".")
    _check_name(name, mark, what)
    if extra:
        _check_name(extra, mark, f"{what} output")
    return Ref(name, extra or None, mark)


def _parse_refs(value, mark: Mark, what: str) -> list[Ref]:
    if isinstance(value, YSeq):
        if not value:
            raise SpecError(mark, f"{what} is an empty list", "name at least one layer or input", code="S006")
        return [parse_ref(v, m, what) for v, m in zip(value, value.imarks)]
    return [parse_ref(value, mark, what)]


def parse_entry(item, mark: Mark, where: str) -> Entry:
    if isinstance(item, str):
        return Entry(type=item, args=None, mark=mark, args_mark=mark)
    if not isinstance(item, YMap):
        raise SpecError(mark, f"a layer entry in {where} is {type_name(item)}",
                        "write `- TypeName` or `- TypeName: {arg: value}`", code="S003")
    types = [k for k in item if k not in META_KEYS]
    if len(types) != 1:
        if not types:
            raise SpecError(item.mark, "this layer entry has no layer type, only meta keys",
                            "add the type as a key, e.g. `- Conv2d: {out_channels: 16, kernel_size: 3}`", code="S002")
        second = item.kmarks[types[1]]
        raise SpecError(second, f"this layer entry names two types ('{types[0]}' and '{types[1]}')",
                        "put each layer in its own list item (`- ` before each), and its arguments under it, indented",
                        code="S001")
    t = types[0]
    tmark = item.kmarks[t]
    if not isinstance(t, str):
        raise SpecError(tmark, f"the layer type is {type_name(t)}", "use a layer type name such as Linear", code="S003")
    args = item[t]
    if args is not None and not isinstance(args, YMap):
        raise SpecError(item.vmarks[t], f"the arguments of {t} are {type_name(args)}, expected a mapping",
                        f"write `{t}: {{name: value, ...}}` or leave it empty", code="S003")
    e = Entry(type=t, args=args, mark=tmark, args_mark=item.vmarks[t])
    if "name" in item:
        e.name = _check_name(item["name"], item.vmarks["name"], "the layer name")
        e.name_mark = item.vmarks["name"]
    if "from" in item:
        e.from_ = _parse_refs(item["from"], item.vmarks["from"], "`from`")
        e.from_mark = item.vmarks["from"]
    if "repeat" in item:
        e.repeat = item["repeat"]
        e.repeat_mark = item.vmarks["repeat"]
    if "trainable" in item:
        e.trainable = _expect(item["trainable"], bool, item.vmarks["trainable"], "`trainable`", "write true or false")
    if "tie" in item:
        e.tie = parse_ref(item["tie"], item.vmarks["tie"], "`tie`")
    if "share" in item:
        e.share = parse_ref(item["share"], item.vmarks["share"], "`share`")
    return e


def parse_layers(value, mark: Mark, where: str) -> list[Entry]:
    _expect(value, YSeq, mark, f"`layers` of {where}", "write a list: each item starts with `- `")
    if not value:
        raise SpecError(mark, f"`layers` of {where} is empty", "add at least one layer", code="S006")
    return [parse_entry(item, m, where) for item, m in zip(value, value.imarks)]


def _eval_names(section: YMap, env: dict, what: str, overrides: dict, is_dim: bool) -> dict:
    out = {}
    if len(env) + len(section) > MAX_NAMES:
        raise SpecError(section.mark, f"the spec declares {len(env) + len(section)} dims and vars, more than the limit "
                        f"of {MAX_NAMES}", "compute the values in fewer names", code="S006")
    for key in section:
        kmark = section.kmarks[key]
        _check_name(key, kmark, f"the {what} name")
        if key in FUNCTION_NAMES:
            raise SpecError(kmark, f"the {what} name '{key}' is a function name", "choose another name", code="S009")
        if key in env:
            raise SpecError(kmark, f"the {what} '{key}' is already defined", "give it another name", code="S009")
        if key in overrides:
            value = _check_override(overrides[key], key, what, section.vmarks[key], is_dim)
        elif is_dim:
            value = eval_int(section[key], env, section.vmarks[key], f"the dim '{key}'", minimum=1)
        else:
            value = eval_value(section[key], env, section.vmarks[key], f"the var '{key}'")
        env[key] = value
        out[key] = value
    return out


def _check_override(value, key: str, what: str, mark: Mark, is_dim: bool):
    """A --dim/--var value, held to the limits of a value written in the spec."""
    import math

    if not isinstance(value, bool) and isinstance(value, (int, float)) and type(value) not in (int, float):
        return value  # a symbolic size (layercalc.symbolic) is its own check
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (is_dim and not isinstance(value, int)):
        raise SpecError(mark, f"--{what} {key}={value!r} is not {'an integer' if is_dim else 'a number'}",
                        f"give --{what} {key} a number", code="S003")
    if isinstance(value, float) and not math.isfinite(value):
        raise SpecError(mark, f"--{what} {key}={value!r} is not a finite number", f"give --{what} {key} a number",
                        code="S006")
    if abs(value) > MAX_ABS or (is_dim and value < 1):
        shown = f"{value!r}" if abs(value) < 10**30 else f"an integer of about {int(value.bit_length() * 0.30103)} digits"
        raise SpecError(mark, f"--{what} {key}={shown} is out of range; expected "
                        + ("an integer from 1 to 10**18" if is_dim else "a number up to 10**18 in absolute value"),
                        "give a smaller value", code="S006")
    return value


def _parse_inputs(value, mark: Mark, env: dict) -> list[InputDef]:
    _expect(value, YMap, mark, "`inputs`", "write `inputs: {x: [B, 3, 224, 224]}`")
    if not value:
        raise SpecError(mark, "`inputs` is empty", "declare at least one input, e.g. `x: [1, 3, 224, 224]`", code="S006")
    out = []
    for key in value:
        kmark, vmark = value.kmarks[key], value.vmarks[key]
        _check_name(key, kmark, "the input name")
        v = value[key]
        dtype, dmark = "float32", vmark
        if isinstance(v, YMap):
            for k in v:
                if k not in ("shape", "dtype"):
                    _unknown_key(k, ("shape", "dtype"), v.kmarks[k], f"input '{key}'")
            if "shape" not in v:
                raise SpecError(vmark, f"input '{key}' has no shape", "add `shape: [...]`", code="S002")
            if "dtype" in v:
                dtype, dmark = v["dtype"], v.vmarks["dtype"]
                if dtype not in DTYPES:
                    alias = DTYPE_ALIASES.get(str(dtype))
                    hint = f"did you mean '{alias}'?" if alias else did_you_mean(str(dtype), DTYPES)
                    raise SpecError(dmark, f"the dtype {dtype!r} is not known" + (f"; {hint}" if hint else ""),
                                    f"use one of: {', '.join(DTYPES)}", code="S006")
            vmark = v.vmarks["shape"]
            v = v["shape"]
        _expect(v, YSeq, vmark, f"the shape of input '{key}'", "write a list such as [B, 3, 32, 32]")
        if len(v) > MAX_RANK:
            raise SpecError(vmark, f"input '{key}' has {len(v)} dimensions, more than the limit of {MAX_RANK}",
                            f"use at most {MAX_RANK} dimensions (PyTorch's limit)", code="G011")
        shape = tuple(eval_int(d, env, m, f"dimension {i} of input '{key}'", minimum=1)
                      for i, (d, m) in enumerate(zip(v, v.imarks)))
        out.append(InputDef(key, shape, dtype, kmark))
    return out


def _check_overrides(overrides: dict, declared: dict, what: str, mark: Mark) -> None:
    """--dim/--var may only override names the spec declares."""
    for k in overrides:
        if k not in declared:
            hint = did_you_mean(k, declared)
            raise SpecError(mark, f"--{what} {k}: the spec has no {what} '{k}'" + (f"; {hint}" if hint else ""),
                            f"use one of: {', '.join(declared) or '(none declared)'}", code="S001")


def parse_spec(doc, file: str, dims: dict | None = None, vars: dict | None = None) -> Spec:
    """Check the structure of a loaded document and build a :class:`Spec`."""
    top = Mark(file, 1, 1)
    if not isinstance(doc, YMap):
        mark = getattr(doc, "mark", top)
        raise SpecError(mark, f"the spec is {type_name(doc)}, expected a mapping with `layercalc: 1`, `inputs` and `layers`",
                        "start from an example in specs/", code="S003")
    for key in doc:
        if key not in TOP_KEYS:
            _unknown_key(key, TOP_KEYS, doc.kmarks[key], "the spec")
    if "layercalc" not in doc:
        raise SpecError(doc.mark, "the spec has no `layercalc:` format version", "add `layercalc: 1` at the top",
                        code="S008")
    if doc["layercalc"] != FORMAT_VERSION or isinstance(doc["layercalc"], bool):
        raise SpecError(doc.vmarks["layercalc"], f"format version {doc['layercalc']!r} is not supported, expected 1",
                        "write `layercalc: 1`", code="S008")
    for key in ("inputs", "layers"):
        if key not in doc:
            raise SpecError(doc.mark, f"the spec has no `{key}`", f"add a `{key}:` section", code="S002")
    name = doc.get("name")
    if name is None:
        import os

        name = os.path.splitext(os.path.basename(file))[0] if file not in ("-", "<stdin>", "<string>") else "model"
    elif not isinstance(name, str):
        name = str(name)
    name = printable(name)
    dims_over = dict(dims or {})
    vars_over = dict(vars or {})
    env: dict = {}
    dvals = {}
    if doc.get("dims") is not None:
        _expect(doc["dims"], YMap, doc.vmarks["dims"], "`dims`", "write `dims: {B: 1}`")
        dvals = _eval_names(doc["dims"], env, "dim", dims_over, True)
    _check_overrides(dims_over, dvals, "dim", top)
    vvals = {}
    if doc.get("vars") is not None:
        _expect(doc["vars"], YMap, doc.vmarks["vars"], "`vars`", "write `vars: {w: 64}`")
        vvals = _eval_names(doc["vars"], env, "var", vars_over, False)
    _check_overrides(vars_over, vvals, "var", top)
    inputs = _parse_inputs(doc["inputs"], doc.vmarks["inputs"], env)
    blocks = {}
    if doc.get("blocks") is not None:
        bsec = _expect(doc["blocks"], YMap, doc.vmarks["blocks"], "`blocks`", "write `blocks: {Name: {layers: [...]}}`")
        for bname in bsec:
            blocks[bname] = _parse_block(bname, bsec[bname], bsec.kmarks[bname], bsec.vmarks[bname])
    layers = parse_layers(doc["layers"], doc.vmarks["layers"], "the spec")
    outputs = None
    if doc.get("outputs") is not None:
        outputs = _parse_refs(doc["outputs"], doc.vmarks["outputs"], "`outputs`")
    return Spec(file, name, dvals, vvals, inputs, blocks, layers, outputs, doc.mark, env)


def _parse_block(name, body, kmark: Mark, vmark: Mark) -> BlockDef:
    _check_name(name, kmark, "the block name")
    from ..layers import REGISTRY

    if name in REGISTRY:
        raise SpecError(kmark, f"the block name '{name}' is a layer type", "give the block another name", code="S009")
    _expect(body, YMap, vmark, f"block '{name}'", "write `Name: {params: {...}, layers: [...]}`")
    for key in body:
        if key not in BLOCK_KEYS:
            _unknown_key(key, BLOCK_KEYS, body.kmarks[key], f"block '{name}'")
    if "layers" not in body:
        raise SpecError(vmark, f"block '{name}' has no `layers`", "add `layers: [...]`", code="S002")
    params = body.get("params")
    if params is None:
        params = YMap()
        params.mark, params.kmarks, params.vmarks = vmark, {}, {}
    _expect(params, YMap, body.vmarks.get("params", vmark), f"`params` of block '{name}'", "write `params: {c: null}`")
    for p in params:
        _check_name(p, params.kmarks[p], "the param name")
    inputs = ["x"]
    if body.get("inputs") is not None:
        seq = _expect(body["inputs"], YSeq, body.vmarks["inputs"], f"`inputs` of block '{name}'", "write `inputs: [x, skip]`")
        if not seq:
            raise SpecError(body.vmarks["inputs"], f"block '{name}' has no inputs", "name at least one input", code="S006")
        inputs = [_check_name(v, m, "the block input name") for v, m in zip(seq, seq.imarks)]
        if len(set(inputs)) != len(inputs):
            raise SpecError(body.vmarks["inputs"], f"block '{name}' names an input twice", "rename it", code="G002")
    for i in inputs:
        if i in params:
            raise SpecError(params.kmarks[i], f"'{i}' is both an input and a param of block '{name}'", "rename one",
                            code="S009")
    output = None
    if body.get("output") is not None:
        output = parse_ref(body["output"], body.vmarks["output"], "`output`")
    layers = parse_layers(body["layers"], body.vmarks["layers"], f"block '{name}'")
    return BlockDef(name, params, inputs, layers, output, kmark)
