"""The safe expression evaluator.

Any string where a number is expected is an arithmetic expression over
integer and float literals, names (vars, dims, block params), ``+ - * / // %
**``, unary minus and plus, parentheses, and the functions ``min max ceil
floor round``. It is parsed with :mod:`ast` and evaluated by a whitelist walk:
nothing is ever passed to ``eval``. Bounds: 200 characters, exponents up to
64 in absolute value, and results up to 10**18 in absolute value. Results are
real: a negative base to a fractional power (a complex number) is refused.

Integer arithmetic stays exact (Python ints); ``/`` gives a float, ``//`` an
int. ``ceil``, ``floor`` and ``round`` return ints.
"""

from __future__ import annotations

import ast
import math
import operator
import re

MAX_LEN = 200
MAX_EXPONENT = 64
MAX_ABS = 10**18


class ExprError(Exception):
    """Raised with a message saying what is wrong; the caller adds the position."""


_BINOPS = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_OPNAMES = {ast.BitAnd: "&", ast.BitOr: "|", ast.BitXor: "^", ast.LShift: "<<", ast.RShift: ">>", ast.MatMult: "@"}


def _ceil(x):
    return math.ceil(x)


def _floor(x):
    return math.floor(x)


def _round(x):
    return round(x)


_FUNCS = {"min": (min, 1, None), "max": (max, 1, None), "ceil": (_ceil, 1, 1), "floor": (_floor, 1, 1),
          "round": (_round, 1, 1)}
FUNCTION_NAMES = frozenset(_FUNCS)

_FLOAT_RE = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)$")
_cache: dict[str, ast.AST] = {}


def _check(value):
    if isinstance(value, complex):
        raise ExprError("the result is a complex number (a negative base to a fractional power)")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ExprError("the result is not a finite number")
        if abs(value) > MAX_ABS:
            raise ExprError(f"the result {value:g} is larger than 10**18")
    elif abs(value) > MAX_ABS:
        raise ExprError("the result is larger than 10**18")
    return value


def parse(text: str) -> ast.AST:
    tree = _cache.get(text)
    if tree is not None:
        return tree
    if len(text) > MAX_LEN:
        raise ExprError(f"the expression is {len(text)} characters long, over the limit of {MAX_LEN}")
    try:
        tree = ast.parse(text.strip(), mode="eval").body
    except SyntaxError:
        raise ExprError(f"'{text}' is not an arithmetic expression") from None
    except (ValueError, MemoryError, RecursionError):
        raise ExprError(f"'{text}' cannot be parsed") from None
    _cache[text] = tree
    return tree


def evaluate(text: str, env: dict):
    """Evaluate ``text`` with the names of ``env``; return an int or a float."""
    if _FLOAT_RE.match(text.strip()):  # YAML 1.1 reads 1e-5 as a string
        return float(text)
    tree = parse(text)
    try:
        return _eval(tree, env, 0)
    except ExprError:
        raise
    except ZeroDivisionError:
        raise ExprError(f"'{text}' divides by zero") from None
    except (OverflowError, MemoryError):
        raise ExprError(f"'{text}' is too large") from None
    except RecursionError:
        raise ExprError(f"'{text}' nests too deeply") from None
    except (TypeError, ValueError) as exc:
        raise ExprError(f"'{text}' cannot be evaluated: {exc}") from None


def _eval(node, env, depth):
    if depth > 50:
        raise ExprError("the expression nests too deeply")
    if isinstance(node, ast.Constant):
        v = node.value
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise ExprError(f"{v!r} is not a number")
        return _check(v)
    if isinstance(node, ast.Name):
        if node.id in env:
            v = env[node.id]
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                raise ExprError(f"'{node.id}' is not a number (it is {v!r})")
            return v
        if node.id in _FUNCS:
            raise ExprError(f"'{node.id}' is a function: call it, as {node.id}(...)")
        from ..errors import did_you_mean

        hint = did_you_mean(node.id, env)
        names = sorted(env)
        known = f" (known names: {', '.join(names[:20])}{', ...' if len(names) > 20 else ''})" if env else ""
        raise ExprError(f"the name '{node.id}' is not defined{known}" + (f"; {hint}" if hint else ""))
    if isinstance(node, ast.BinOp):
        op = _BINOPS.get(type(node.op))
        if op is None:
            raise ExprError(f"the operator '{_OPNAMES.get(type(node.op), '?')}' is not allowed")
        left = _eval(node.left, env, depth + 1)
        right = _eval(node.right, env, depth + 1)
        if op is operator.pow:
            if left < 0 and not float(right).is_integer():
                raise ExprError(f"({left}) ** {right} is a complex number (a negative base to a fractional power)")
            if abs(right) > MAX_EXPONENT:
                raise ExprError(f"the exponent {right} is larger than {MAX_EXPONENT}")
            if abs(left) > 1 and abs(right) * math.log2(abs(left)) > 62:
                raise ExprError(f"{left} ** {right} is larger than 10**18")
        return _check(op(left, right))
    if isinstance(node, ast.UnaryOp):
        if isinstance(node.op, ast.USub):
            return -_eval(node.operand, env, depth + 1)
        if isinstance(node.op, ast.UAdd):
            return _eval(node.operand, env, depth + 1)
        raise ExprError("only unary + and - are allowed")
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name) or node.func.id not in _FUNCS:
            name = node.func.id if isinstance(node.func, ast.Name) else ast.unparse(node.func)[:40]
            raise ExprError(f"calling '{name}' is not allowed; the functions are min, max, ceil, floor, round")
        if node.keywords:
            raise ExprError("keyword arguments are not allowed")
        fn, lo, hi = _FUNCS[node.func.id]
        n = len(node.args)
        if n < lo or (hi is not None and n > hi):
            raise ExprError(f"{node.func.id}() takes {lo if hi == lo else 'one or more'} argument(s), got {n}")
        if any(isinstance(a, ast.Starred) for a in node.args):
            raise ExprError("starred arguments are not allowed")
        args = [_eval(a, env, depth + 1) for a in node.args]
        return _check(fn(*args))
    kind = type(node).__name__
    what = {"Attribute": "attribute access", "Subscript": "subscripts", "Compare": "comparisons",
            "BoolOp": "boolean operators", "Lambda": "lambdas", "IfExp": "conditional expressions"}.get(kind, kind)
    raise ExprError(f"not allowed in an expression: {what}")
