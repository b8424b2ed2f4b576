"""The JSON Schema (draft-07) of the spec format, generated from the layer registry.

Every layer type the engine knows becomes a property of a layer entry, whose
value is its arguments: one property per argument, with its kind, default,
range and choices, and a description from the rule's documentation. So an
editor with the YAML language server completes types, arguments and meta keys,
and flags unknown arguments and wrong types while typing::

    # yaml-language-server: $schema=./layercalc.schema.json

Wherever a number is expected, a string is allowed too: an arithmetic
expression (``4 * w``). The schema checks the structure only; names,
shapes, expressions and budgets are checked by ``layercalc lint``.
"""

from __future__ import annotations

import inspect

from .layers import REGISTRY
from .layers.base import REQUIRED
from .spec.model import DTYPES, FORMAT_VERSION, META_KEYS

NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"
REF = r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$"
EXPR = r"^[A-Za-z0-9_+\-*/%()., \t]+$"  # the characters an expression can have; `layercalc lint` checks the rest


def _ref(name: str) -> dict:
    return {"$ref": f"#/definitions/{name}"}


def _first_line(text: str) -> str:
    return inspect.cleandoc(text or "").split("\n\n")[0].replace("\n", " ")


def _json_default(value):
    if isinstance(value, tuple):
        return [_json_default(v) for v in value]
    if isinstance(value, (bool, int, float, str)) or value is None:
        return value
    return str(value)


def arg_schema(arg) -> dict:
    """The schema of one argument value, from its :class:`~layercalc.layers.base.Arg`."""
    kind = arg.kind
    num_min = {} if arg.min is None else {"minimum": arg.min}
    if kind == "int":
        options = [{"type": "integer", **num_min}, _ref("expression")]
    elif kind in ("float", "number"):
        options = [{"type": "number", **num_min}, _ref("expression")]
    elif kind == "bool":
        options = [{"type": "boolean"}]
    elif kind == "str":
        options = [{"enum": list(arg.choices)}] if arg.choices else [{"type": "string"}]
    elif kind in ("ints", "floats"):
        one = ({"type": "integer", **num_min} if kind == "ints" else {"type": "number", **num_min})
        item = {"anyOf": [one, _ref("expression")]}
        array = {"type": "array", "items": item, "minItems": 1}
        options = [one, _ref("expression"), array]
        if arg.n is not None:
            array.update(minItems=arg.n, maxItems=arg.n)
            if arg.one or arg.empty_null:  # [2] for every dimension, [] for null
                short = dict(array, minItems=0 if arg.empty_null else 1, maxItems=1 if arg.one else 0)
                options.append(short)
    elif kind == "shape":
        item = {"anyOf": [{"type": "integer", "minimum": -1}, _ref("expression")]}
        options = [{"type": "array", "items": item}]
    else:  # "any": as written, numbers evaluated
        options = [{}]
    if arg.choices and kind != "str":
        options.insert(0, {"enum": list(arg.choices)})
    if arg.default is None:
        options.append({"type": "null"})
    out: dict = options[0] if len(options) == 1 else {"anyOf": options}
    out = dict(out)
    desc = arg.kind + (f"; {arg.doc}" if arg.doc else "")
    if arg.infer:
        desc += " (may be omitted: inferred from the input)"
    out["description"] = desc
    if arg.default is not REQUIRED and arg.default is not None:
        out["default"] = _json_default(arg.default)
    return out


def layer_args_schema(rule) -> dict:
    props = {a.name: arg_schema(a) for a in rule.args}
    required = [a.name for a in rule.args if a.default is REQUIRED]
    out = {"type": "object" if required else ["object", "null"], "properties": props, "additionalProperties": False}
    if required:
        out["required"] = required
    out["description"] = f"{rule.type} ({rule.family}): {_first_line(type(rule).__doc__)}"
    return out


def spec_schema() -> dict:
    """The whole schema, as a dict ready for ``json.dumps``."""
    types = sorted(REGISTRY)
    meta = {
        "name": {"type": "string", "pattern": NAME, "description": "identifier, unique in its scope"},
        "from": {"anyOf": [_ref("ref"), {"type": "array", "items": _ref("ref"), "minItems": 1}],
                 "description": "input(s): model inputs, earlier layers of the same scope, block inputs; "
                                "`lstm.h_n` selects an extra output (default: the previous entry)"},
        "repeat": {"anyOf": [{"type": "integer", "minimum": 1}, _ref("expression")], "default": 1,
                   "description": "a chain of that many copies"},
        "trainable": {"type": "boolean", "default": True,
                      "description": "false counts the parameters as non-trainable"},
        "tie": {**_ref("ref"), "description": "an earlier layer whose weight this one reuses"},
        "share": {**_ref("ref"), "description": "an earlier layer or block instance whose parameters this one reuses"},
    }
    assert set(meta) == set(META_KEYS), "the schema's meta keys must follow the spec format"
    entry_props = dict(meta)
    for t in types:
        entry_props[t] = layer_args_schema(REGISTRY[t])
    block_args = {"anyOf": [{"type": "null"},
                            {"type": "object", "propertyNames": {"pattern": NAME},
                             "additionalProperties": {"type": ["number", "string", "boolean", "null"]}}],
                  "description": "an instance of a block defined under `blocks:`: its params"}
    number = {"anyOf": [{"type": "number"}, _ref("expression")]}
    dim = {"anyOf": [{"type": "integer", "minimum": 1}, _ref("expression")]}
    shape = {"type": "array", "items": dim, "description": "a shape: ints, dim names or expressions"}
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": f"layercalc spec (format {FORMAT_VERSION})",
        "description": "A neural network as a YAML spec for layercalc: inputs, layers (torch.nn types and "
                       "arguments), blocks. Generated by `layercalc schema`.",
        "type": "object",
        "required": ["layercalc", "inputs", "layers"],
        "additionalProperties": False,
        "properties": {
            "layercalc": {"const": FORMAT_VERSION, "description": "format version"},
            "name": {"type": ["string", "number"], "description": "default: the file name without extension"},
            "dims": {"type": ["object", "null"], "propertyNames": {"pattern": NAME}, "additionalProperties": dim,
                     "description": "symbolic dimensions and their default values"},
            "vars": {"type": ["object", "null"], "propertyNames": {"pattern": NAME}, "additionalProperties": number,
                     "description": "constants: numbers or expressions over earlier vars and dims"},
            "inputs": {
                "type": "object", "minProperties": 1, "propertyNames": {"pattern": NAME},
                "additionalProperties": {"anyOf": [shape, {
                    "type": "object", "required": ["shape"], "additionalProperties": False,
                    "properties": {"shape": shape, "dtype": {"enum": list(DTYPES), "default": "float32"}}}]},
                "description": "model inputs, in order: a shape, or {shape, dtype}",
            },
            "blocks": {"type": ["object", "null"], "propertyNames": {"pattern": NAME, "not": {"enum": types}},
                       "additionalProperties": _ref("block"), "description": "reusable sub-graphs"},
            "layers": _ref("layers"),
            "outputs": {"anyOf": [_ref("ref"), {"type": "array", "items": _ref("ref"), "minItems": 1}, {"type": "null"}],
                        "description": "the model's outputs (default: the last layer)"},
        },
        "definitions": {
            "expression": {"type": "string", "pattern": EXPR,
                           "description": "an arithmetic expression: numbers, names of dims, vars and block params, "
                                          "+ - * / // % **, parentheses, min max ceil floor round"},
            "ref": {"type": "string", "pattern": REF, "description": "a name, or name.extra_output"},
            "layers": {"type": "array", "minItems": 1, "items": _ref("entry")},
            "entry": {
                "if": {"type": "string"},
                "then": {"anyOf": [{"enum": types}, {"pattern": NAME}],
                         "description": "a layer type without arguments, or a block without params"},
                "else": {"type": "object", "minProperties": 1, "propertyNames": {"pattern": NAME},
                         "properties": entry_props, "additionalProperties": block_args,
                         "description": "one layer type (or block) as the key, its arguments as the value, "
                                        "and meta keys"},
            },
            "block": {
                "type": "object", "required": ["layers"], "additionalProperties": False,
                "properties": {
                    "params": {"type": ["object", "null"], "propertyNames": {"pattern": NAME},
                               "additionalProperties": {"type": ["number", "string", "boolean", "null"]},
                               "description": "params and their defaults (null: required)"},
                    "inputs": {"type": "array", "minItems": 1, "items": {"type": "string", "pattern": NAME},
                               "default": ["x"]},
                    "layers": _ref("layers"),
                    "output": {"anyOf": [_ref("ref"), {"type": "null"}],
                               "description": "default: the last layer"},
                },
            },
        },
    }
