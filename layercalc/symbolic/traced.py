"""Traced integers: ints that remember the arithmetic that made them.

``explain`` gives a rule its input sizes and arguments as :class:`Traced`
leaves (the value, and where it came from). The rule computes as usual; every
``+ - * // % **`` returns a new ``Traced`` holding the operation and its operands,
so the figure that the report prints carries its own derivation:
``floor((32 + 2·1 − 1·(3 − 1) − 1) / 2) + 1`` for 16. Nothing is written twice:
the text is the rule's arithmetic, read back; the ceiling idiom ``-(-a // b)`` reads ``ceil(a / b)``.

A multiplication by a literal 1 or an addition of a literal 0 (the start of
``prod`` and ``sum``) returns the other operand unchanged.
"""

from __future__ import annotations


class Traced(int):
    """An int with its derivation: ``op`` (``leaf``, ``+``, ``-``, ``*``, ``//``, ``%``, ``neg``,
    ``**``), ``args`` (Traced or plain ints) and, for a leaf, ``label`` (where the value came from)."""

    def __new__(cls, value: int, op: str = "leaf", args: tuple = (), label: str = ""):
        obj = int.__new__(cls, value)
        obj.op = op
        obj.args = args
        obj.label = label
        return obj

    __hash__ = int.__hash__

    def __repr__(self) -> str:
        return int.__repr__(self)

    __str__ = __repr__

    def __add__(self, o):
        if not isinstance(o, int):
            return int(self) + o
        if o == 0 and not isinstance(o, Traced):
            return self
        return Traced(int(self) + int(o), "+", (self, o))

    def __radd__(self, o):
        if not isinstance(o, int):
            return o + int(self)
        if o == 0 and not isinstance(o, Traced):
            return self
        return Traced(int(o) + int(self), "+", (o, self))

    def __sub__(self, o):
        if not isinstance(o, int):
            return int(self) - o
        return Traced(int(self) - int(o), "-", (self, o))

    def __rsub__(self, o):
        if not isinstance(o, int):
            return o - int(self)
        return Traced(int(o) - int(self), "-", (o, self))

    def __mul__(self, o):
        if not isinstance(o, int):
            return int(self) * o
        if o == 1 and not isinstance(o, Traced):
            return self
        return Traced(int(self) * int(o), "*", (self, o))

    def __rmul__(self, o):
        if not isinstance(o, int):
            return o * int(self)
        if o == 1 and not isinstance(o, Traced):
            return self
        return Traced(int(o) * int(self), "*", (o, self))

    def __floordiv__(self, o):
        if not isinstance(o, int):
            return int(self) // o
        return Traced(int(self) // int(o), "//", (self, o))

    def __rfloordiv__(self, o):
        if not isinstance(o, int):
            return o // int(self)
        return Traced(int(o) // int(self), "//", (o, self))

    def __mod__(self, o):
        if not isinstance(o, int):
            return int(self) % o
        return Traced(int(self) % int(o), "%", (self, o))

    def __rmod__(self, o):
        if not isinstance(o, int):
            return o % int(self)
        return Traced(int(o) % int(self), "%", (o, self))

    def __pow__(self, o, mod=None):
        if mod is not None or not isinstance(o, int) or o < 0:
            return pow(int(self), o, mod)
        return Traced(int(self) ** int(o), "**", (self, o))

    def __neg__(self):
        return Traced(-int(self), "neg", (self,))

    def __pos__(self):
        return self

    def __abs__(self):
        return self if self >= 0 else -self

    def __divmod__(self, o):
        return self // o, self % o


def leaf(value, label: str):
    """``value`` as a traced leaf (ints only; bools, floats and strings pass unchanged)."""
    if isinstance(value, bool) or not isinstance(value, int):
        return value
    return Traced(int(value), label=label)


# --- printing ---------------------------------------------------------------------------------------

_PREC = {"+": 1, "-": 1, "*": 2, "%": 2, "neg": 3, "**": 4, "//": 5, "leaf": 5}

STYLES = {
    #        mul    minus  floor-open  floor-div  floor-close  mod       pow
    "text": ("·", "−", "floor(", " / ", ")", " mod ", "^"),
    "python": ("*", "-", "floor(", " / ", ")", " % ", "**"),
    "latex": (r" \cdot ", "-", r"\left\lfloor ", r" / ", r" \right\rfloor", r" \bmod ", "^"),
}


def render(x, style: str = "text") -> str:
    """The derivation of ``x`` with every value substituted, in ``style`` (text, python or latex)."""
    mul, minus, fopen, fdiv, fclose, mod, pw = STYLES[style]

    def num(v: int) -> str:
        return f"({minus}{-v})" if v < 0 else str(v)

    def go(t, parent: int, strict: bool = False) -> str:
        """``parent``: the precedence around ``t``; ``strict``: ``t`` is the right operand of - or mod."""
        if not isinstance(t, Traced) or t.op == "leaf":
            return num(int(t))
        op = t.op
        p = _PREC[op]
        ceil = _ceil_parts(t)
        if ceil is not None:  # -(-a // b), the ceiling idiom
            a, b = ceil
            if style == "latex":
                return rf"\left\lceil \frac{{{go(a, 0)}}}{{{go(b, 0)}}} \right\rceil"
            return f"ceil({go(a, 2)}{fdiv}{go(b, 3)})"
        if op == "//":
            a, b = t.args
            if style == "latex":
                return rf"\left\lfloor \frac{{{go(a, 0)}}}{{{go(b, 0)}}} \right\rfloor"
            return f"{fopen}{go(a, 2)}{fdiv}{go(b, 3)}{fclose}"
        if op == "neg":
            text = minus + go(t.args[0], p)
        elif op == "**":
            a, b = t.args
            text = f"{go(a, p + 1)}{pw}{{{go(b, 0)}}}" if style == "latex" else f"{go(a, p + 1)}{pw}{go(b, p + 1)}"
        else:
            a, b = t.args
            sym = {"+": " + ", "-": f" {minus} ", "*": mul, "%": mod}[op]
            text = f"{go(a, p)}{sym}{go(b, p, op in ('-', '%'))}"
        if p < parent or (strict and p == parent):
            return rf"\left({text}\right)" if style == "latex" else f"({text})"
        return text

    return go(x, 0)


def _ceil_parts(t):
    """(a, b) when ``t`` is ``-(-a // b)``, the integer ceiling of a / b; else None."""
    if t.op != "neg" or not isinstance(t.args[0], Traced) or t.args[0].op != "//":
        return None
    num, b = t.args[0].args
    if isinstance(num, Traced) and num.op == "neg":
        return num.args[0], b
    if not isinstance(num, Traced) and num <= 0:
        return -num, b
    return None


def leaves(x) -> list:
    """The leaves of a derivation, left to right."""
    out = []

    def go(t):
        if isinstance(t, Traced):
            if t.op == "leaf":
                out.append(t)
            for a in t.args:
                go(a)

    go(x)
    return out


def is_derived(x) -> bool:
    """Whether ``x`` was computed (not a leaf or a plain number)."""
    return isinstance(x, Traced) and x.op != "leaf"
