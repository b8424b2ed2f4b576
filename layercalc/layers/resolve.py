"""Resolving a layer's raw YAML arguments against its rule's schema.

Numbers and expressions are evaluated in the node's scope (vars, dims, block
params); a string that is one of an argument's literal ``choices`` is taken
literally before any name lookup; unknown arguments get a did-you-mean.
"""

from __future__ import annotations

from ..errors import Mark, SpecError, did_you_mean
from ..spec.expr import ExprError, evaluate
from ..spec.model import type_name
from .base import REQUIRED, Arg, Args


def _where(rule, node) -> str:
    return f"{rule.type} '{node.name}'"


def _number(raw, env, mark: Mark, ctx: str, arg: Arg):
    if isinstance(raw, bool) or raw is None or isinstance(raw, (list, dict)):
        raise SpecError(mark, f"{ctx}: {arg.name} is {type_name(raw)} ({raw!r}), expected a number",
                        f"write a number or an expression for {arg.name}", code="S003")
    if isinstance(raw, str):
        try:
            return evaluate(raw, env)
        except ExprError as exc:
            raise SpecError(mark, f"{ctx}: {arg.name}: {exc}",
                            "use numbers, defined names, + - * / // % **, min max ceil floor round", code="S007") from None
    return raw


def _int(raw, env, mark, ctx, arg: Arg) -> int:
    v = _number(raw, env, mark, ctx, arg)
    if isinstance(v, float):
        if not v.is_integer():
            raise SpecError(mark, f"{ctx}: {arg.name} is {v:g}, expected an integer",
                            "use an integer (// divides without a remainder)", code="S003")
        v = int(v)
    if arg.min is not None and v < arg.min:
        raise SpecError(mark, f"{ctx}: {arg.name}={v} is out of range, expected an integer >= {arg.min:g}",
                        f"use a value of at least {arg.min:g}", code="S006")
    return v


def _float(raw, env, mark, ctx, arg: Arg) -> float:
    v = float(_number(raw, env, mark, ctx, arg))
    if arg.min is not None and v < arg.min:
        raise SpecError(mark, f"{ctx}: {arg.name}={v:g} is out of range, expected a number >= {arg.min:g}",
                        f"use a value of at least {arg.min:g}", code="S006")
    return v


def resolve_value(arg: Arg, raw, env: dict, mark: Mark, ctx: str, item_marks=None):
    """Resolve one argument value; see :class:`~layercalc.layers.base.Arg` for the kinds."""
    if raw is None:
        if arg.default is None or arg.nullable:
            return None
        raise SpecError(mark, f"{ctx}: {arg.name} is null", f"give {arg.name} a value, or remove it for the default"
                        if arg.default is not REQUIRED else f"{arg.name} is required: give it a value", code="S003")
    if isinstance(raw, str):
        if arg.choices and raw in arg.choices:
            return raw
        named = env.get(raw.strip())
        if isinstance(named, (bool, str)):  # a block param or var that holds true/false or a literal string
            return resolve_value(arg, named, {}, getattr(named, "mark", mark), ctx)
        if arg.choices and arg.kind != "str" and raw.strip().isidentifier() and named is None:
            hint = did_you_mean(raw.strip(), arg.choices)
            raise SpecError(mark, f"{ctx}: {arg.name}={raw!r} is neither a number nor one of "
                            f"{', '.join(map(str, arg.choices))}" + (f"; {hint}" if hint else ""),
                            f"write a number or one of: {', '.join(map(str, arg.choices))}", code="S006")
    kind = arg.kind
    if kind == "str":
        if not isinstance(raw, str):
            raise SpecError(mark, f"{ctx}: {arg.name} is {type_name(raw)} ({raw!r}), expected one of "
                            f"{', '.join(map(str, arg.choices or ()))}", f"write one of them for {arg.name}", code="S003")
        if arg.choices:
            hint = did_you_mean(raw, arg.choices)
            raise SpecError(mark, f"{ctx}: {arg.name}={raw!r} is not allowed" + (f"; {hint}" if hint else ""),
                            f"use one of: {', '.join(map(str, arg.choices))}", code="S006")
        return raw
    if kind == "bool":
        if not isinstance(raw, bool):
            raise SpecError(mark, f"{ctx}: {arg.name} is {type_name(raw)} ({raw!r}), expected true or false",
                            f"write {arg.name}: true or {arg.name}: false", code="S003")
        return raw
    if kind == "int":
        if isinstance(raw, str) and arg.choices and raw.strip() in arg.choices:
            return raw.strip()
        return _int(raw, env, mark, ctx, arg)
    if kind == "float":
        return _float(raw, env, mark, ctx, arg)
    if kind == "number":
        return _number(raw, env, mark, ctx, arg)
    if kind in ("ints", "shape", "floats"):
        one = _float if kind == "floats" else _int
        if isinstance(raw, list):
            marks = getattr(raw, "imarks", None) or [mark] * len(raw)
            if not raw and arg.empty_null:
                return None
            if arg.n is not None and len(raw) == 1 and arg.one:  # torch expands [2] to (2, 2)
                return (one(raw[0], env, marks[0], ctx, arg),) * arg.n
            if arg.n is not None and len(raw) != arg.n:
                raise SpecError(mark, f"{ctx}: {arg.name} has {len(raw)} values, expected {arg.n} (or a single number)",
                                f"give {arg.n} values, one per spatial dimension", code="S006")
            if kind == "shape":
                loose = Arg(arg.name, "int", min=-1)
                return tuple(_int(r, env, m, ctx, loose) for r, m in zip(raw, marks))
            return tuple(one(r, env, m, ctx, arg) for r, m in zip(raw, marks))
        if kind == "shape":
            raise SpecError(mark, f"{ctx}: {arg.name} is {type_name(raw)}, expected a list of sizes",
                            f"write {arg.name}: [a, b, ...]", code="S003")
        v = one(raw, env, mark, ctx, arg)
        return (v,) * arg.n if arg.n is not None else v
    # "any": numbers evaluated, lists evaluated item by item, strings kept when not expressions of known names
    if isinstance(raw, list):
        marks = getattr(raw, "imarks", None) or [mark] * len(raw)
        return tuple(resolve_value(arg, r, env, m, ctx) for r, m in zip(raw, marks))
    if isinstance(raw, str):
        return _number(raw, env, mark, ctx, arg)
    return raw


_SCHEMAS: dict[str, dict[str, Arg]] = {}  # rule type -> {argument name: Arg}, built once


def resolve_args(rule, node) -> Args:
    """Resolve ``node.args`` against ``rule.args``; return :class:`Args`."""
    raw = node.args or {}
    ctx = _where(rule, node)
    schema = _SCHEMAS.get(rule.type)
    if schema is None:
        schema = _SCHEMAS[rule.type] = {a.name: a for a in rule.args}
    for key in raw:
        if key not in schema:
            hint = did_you_mean(str(key), schema)
            names = ", ".join(schema) or "(none)"
            raise SpecError(raw.kmarks[key], f"{ctx}: {rule.type} has no argument '{key}'" + (f"; {hint}" if hint else ""),
                            f"its arguments are: {names}", code="S005")
    values = {}
    for a in rule.args:
        if a.name in raw:
            values[a.name] = resolve_value(a, raw[a.name], node.env, raw.vmarks[a.name], ctx)
        elif a.default is REQUIRED:
            raise SpecError(node.mark, f"{ctx}: the argument '{a.name}' is required",
                            f"add `{a.name}: ...` to the arguments of {rule.type}", code="S002")
        else:
            values[a.name] = a.default
    return Args(values, set(raw))
