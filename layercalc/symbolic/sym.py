"""Symbolic integers: the rules compute with them as with ints and they record
the expression of every size and count in the symbolic dims.

A :class:`SymInt` is an ``int`` (its value at the spec's own dims, the *hint*)
that also carries an exact polynomial in the dims. The rules run unchanged:
``+ - * // % **`` build the polynomial while computing the value, as PyTorch's
``SymInt`` does with its hints. Two things need care, and the trace records both
in a :class:`Trace`:

- **Guards.** A comparison (``kernel <= length``, ``size != 1``) is answered from
  the hints, and the answer is recorded as a condition on the dims: the result is
  valid where every recorded condition holds (``H >= 7``).
- **Floors.** ``p // d`` of an affine ``p`` (``(H - 1) // 2``) is exact on a
  congruence class of the dims: with ``H ≡ hint (mod m)`` it is the polynomial
  ``(p - c) / d``, and the class becomes part of the validity (``H % 32 == 0``).
  Anything else becomes a floor atom, ``floor((B*T - 1)/2)``, a name of its own.

Arithmetic that has no polynomial form (a true division, a float factor, a
size used as a divisor) raises :class:`NoSymbolicForm`, which the engine
reports at the layer. Arithmetic that leaves the type unseen (``math.gcd``,
``range``) is caught afterwards: the symbolic report is checked against a
concrete analysis at a second point of its domain.
"""

from __future__ import annotations

from fractions import Fraction
from math import gcd

from ..errors import LayerError
from . import poly as P


class NoSymbolicForm(LayerError):
    """A rule's arithmetic on a symbolic size has no exact polynomial form."""

    def __init__(self, message: str):
        super().__init__(f"no symbolic form: {message}",
                         "leave this dim concrete (drop it from --symbolic) or give it with --dim", code="G101")


class Trace:
    """What one symbolic analysis learned: the guards, the congruence classes and the floor atoms."""

    def __init__(self, hints: dict[str, int]):
        self.hints = dict(hints)
        self.guards: list[tuple[str, tuple]] = []  # (kind, frozen poly): kind "ge" (p >= 0), "eq" (p == 0), "ne"
        self._seen: set = set()
        self.mods: dict[str, tuple[int, int]] = {}  # dim -> (modulus, residue)
        self.atoms: dict[str, tuple[dict, int]] = {}  # floor atom name -> (poly, divisor)

    def guard(self, kind: str, p: dict) -> None:
        p = _reduce(p, kind, self.atoms)
        key = (kind, tuple(sorted(p.items())))
        if key in self._seen:
            return
        self._seen.add(key)
        if _implied(kind, p, self.atoms):
            return
        self.guards.append(key)


_TRACE: Trace | None = None


def active() -> Trace | None:
    return _TRACE


class tracing:
    """``with tracing(trace):`` makes SymInt comparisons and floors record into ``trace``."""

    def __init__(self, trace: Trace):
        self.trace = trace

    def __enter__(self):
        global _TRACE
        self.prev, _TRACE = _TRACE, self.trace
        return self.trace

    def __exit__(self, *exc):
        global _TRACE
        _TRACE = self.prev
        return False


def _reduce(p: dict, kind: str, atoms: dict) -> dict:
    """A guard in lowest terms. Every dim is >= 1, so a monomial M common to the non-constant terms is
    >= 1: ``M·r + c`` compared with 0 is ``r + c`` compared with 0 when c is 0, and for ``>= 0`` also
    when c is -1 (``M·r >= 1`` iff ``r >= 1`` for integers). Then the gcd g of the non-constant integer
    coefficients: ``g·q + c >= 0`` iff ``q + floor(c/g) >= 0``; ``g·q + c == 0`` divides when g | c."""
    const = p.get((), 0)
    rest = {m: c for m, c in p.items() if m}
    f = P.common_factor(rest) if len(rest) > 1 else (next(iter(rest)) if rest else ())
    integral = all(isinstance(c, int) for c in rest.values())
    if f and not any(v in atoms for v, _ in f) and (const == 0 or (kind == "ge" and const == -1 and integral)):
        fd = dict(f)
        rest = {tuple(sorted((v, e - fd.get(v, 0)) for v, e in m if e - fd.get(v, 0))): c for m, c in rest.items()}
        if () in rest:  # the factor was a whole term: its coefficient joins the constant
            const += rest.pop(())
    if rest and all(isinstance(c, int) for c in rest.values()) and isinstance(const, int):
        g = 0
        for c in rest.values():
            g = gcd(g, c)
        if g > 1 and (kind == "ge" or const % g == 0):
            rest = {m: c // g for m, c in rest.items()}
            const = const // g
    out = dict(rest)
    if const:
        out[()] = const
    return out


def _implied(kind: str, p: dict, atoms: dict) -> bool:
    """Whether ``p >= 0`` (``p != 0``) holds for every dim >= 1: all non-constant coefficients
    non-negative and the condition true where every dim is 1. Atoms are not assumed anything."""
    if kind == "eq":
        return False
    low = 0
    for m, c in p.items():
        if any(v in atoms for v, _ in m):
            return False
        if m and c < 0:
            return False
        low += c
    return low >= 0 if kind == "ge" else low > 0


def poly_of(x):
    """The polynomial of an int, a SymInt, or an integral float; None for anything else."""
    if isinstance(x, SymInt):
        return x.poly
    if isinstance(x, int):
        return P.const(int(x))
    if isinstance(x, float) and x.is_integer():
        return P.const(int(x))
    return None


def _mk(value: int, p: dict):
    return SymInt(value, p)


class SymInt(int):
    """An int that carries its polynomial in the symbolic dims; see the module docstring."""

    def __new__(cls, value: int, p: dict):
        obj = int.__new__(cls, value)
        obj.poly = p
        return obj

    @classmethod
    def dim(cls, name: str, hint: int) -> "SymInt":
        return cls(hint, P.var(name))

    def __repr__(self) -> str:
        return int.__repr__(self)

    __str__ = __repr__
    __hash__ = int.__hash__

    def _other(self, o, what: str):
        p = poly_of(o)
        if p is None:
            if P.is_const(self.poly):
                return None
            raise NoSymbolicForm(f"{what} a symbolic size ({P.to_python(self.poly)}) by {o!r}")
        return p

    def __add__(self, o):
        p = self._other(o, "adds to")
        if p is None:
            return int(self) + o
        if not p and not isinstance(o, SymInt):
            return self
        return _mk(int(self) + int(o), P.add(self.poly, p))

    __radd__ = __add__

    def __sub__(self, o):
        p = self._other(o, "subtracts from")
        if p is None:
            return int(self) - o
        return _mk(int(self) - int(o), P.sub(self.poly, p))

    def __rsub__(self, o):
        p = self._other(o, "subtracts")
        if p is None:
            return o - int(self)
        return _mk(int(o) - int(self), P.sub(p, self.poly))

    def __mul__(self, o):
        p = self._other(o, "multiplies")
        if p is None:
            return int(self) * o
        if p == {(): 1} and not isinstance(o, SymInt):
            return self
        return _mk(int(self) * int(o), P.mul(self.poly, p))

    __rmul__ = __mul__

    def __neg__(self):
        return _mk(-int(self), P.neg(self.poly))

    def __pos__(self):
        return self

    def __abs__(self):
        return self if self >= 0 else -self

    def __pow__(self, o, mod=None):
        if mod is not None or isinstance(o, SymInt) and not P.is_const(o.poly) or not isinstance(o, int) or o < 0:
            if P.is_const(self.poly):
                return pow(int(self), o, mod)
            raise NoSymbolicForm(f"raises a symbolic size ({P.to_python(self.poly)}) to the power {o!r}")
        return _mk(int(self) ** int(o), P.power(self.poly, int(o)))

    def __rpow__(self, o):
        if P.is_const(self.poly):
            return o ** int(self)
        raise NoSymbolicForm(f"uses a symbolic size ({P.to_python(self.poly)}) as an exponent")

    def __truediv__(self, o):
        if P.is_const(self.poly) and poly_of(o) is not None and P.is_const(poly_of(o)):
            return int(self) / o
        raise NoSymbolicForm(f"divides a symbolic size ({P.to_python(self.poly)}) by {o!r} with a true division")

    def __rtruediv__(self, o):
        if P.is_const(self.poly):
            return o / int(self)
        raise NoSymbolicForm(f"divides by a symbolic size ({P.to_python(self.poly)})")

    def __floordiv__(self, o):
        p = poly_of(o)
        if p is None or not P.is_const(p):
            if p is None and P.is_const(self.poly):
                return int(self) // o
            q = P.exact_quotient(self.poly, p) if p is not None else None
            if q is not None:  # a multiple of the divisor (8·B·T // (B·T)): the quotient, exactly
                return _mk(int(self) // int(o), q)
            raise NoSymbolicForm(f"divides {P.to_python(self.poly)} by "
                                 f"{'the symbolic size ' + P.to_python(p) if p is not None else repr(o)}")
        return floordiv(self, int(o))

    def __rfloordiv__(self, o):
        if P.is_const(self.poly):
            return o // int(self)
        raise NoSymbolicForm(f"divides by the symbolic size {P.to_python(self.poly)}")

    def __mod__(self, o):
        q = self // o
        if not isinstance(q, SymInt):
            return int(self) % o
        return self - q * o

    def __rmod__(self, o):
        if P.is_const(self.poly):
            return o % int(self)
        raise NoSymbolicForm(f"takes a remainder modulo the symbolic size {P.to_python(self.poly)}")

    def __divmod__(self, o):
        return self // o, self % o

    # comparisons: answered from the hint, recorded as guards

    def _compare(self, o, op):
        p = poly_of(o)
        if p is None:
            return NotImplemented
        result = op(int(self), int(o))
        diff = P.sub(self.poly, p)
        if not P.is_const(diff) and _TRACE is not None:
            _record(diff, op, result)
        return result

    def __eq__(self, o):
        return self._compare(o, int.__eq__)

    def __ne__(self, o):
        return self._compare(o, int.__ne__)

    def __lt__(self, o):
        return self._compare(o, int.__lt__)

    def __le__(self, o):
        return self._compare(o, int.__le__)

    def __gt__(self, o):
        return self._compare(o, int.__gt__)

    def __ge__(self, o):
        return self._compare(o, int.__ge__)

    def __bool__(self):
        return self._compare(0, int.__ne__)


def _record(diff: dict, op, result: bool) -> None:
    """Record the condition that ``diff op 0`` came out ``result``, in the normal forms
    ``p >= 0``, ``p == 0``, ``p != 0`` (integers: ``p > 0`` is ``p - 1 >= 0``)."""
    one = P.const(1)
    if op is int.__eq__ or op is int.__ne__:
        _TRACE.guard("eq" if (op is int.__eq__) == result else "ne", diff)
        return
    if op is int.__lt__:  # diff < 0  or  diff >= 0
        _TRACE.guard("ge", P.sub(P.neg(diff), one) if result else diff)
    elif op is int.__le__:  # diff <= 0  or  diff >= 1
        _TRACE.guard("ge", P.neg(diff) if result else P.sub(diff, one))
    elif op is int.__gt__:  # diff >= 1  or  diff <= 0
        _TRACE.guard("ge", P.sub(diff, one) if result else P.neg(diff))
    else:  # __ge__
        _TRACE.guard("ge", diff if result else P.sub(P.neg(diff), one))


def _lcm(a: int, b: int) -> int:
    return a * b // gcd(a, b)


def floordiv(x: SymInt, d: int):
    """``x // d`` exactly: a polynomial when ``x`` is affine (on a congruence class of its dims),
    a floor atom otherwise."""
    value = int(x) // d
    p = x.poly
    if d == 1:
        return x
    if P.is_const(p):
        return _mk(value, P.const(value))
    if d < 0:
        return _atom(x, d, value)
    trace = _TRACE
    affine = all(len(m) <= 1 and all(e == 1 for _, e in m) for m in p) and \
        not any(v in (trace.atoms if trace else ()) for m in p for v, _ in m)
    if affine and trace is not None:
        for m, c in p.items():
            if not m:
                continue
            v = m[0][0]
            c = Fraction(c)
            need = (d * c.denominator) // gcd(c.numerator, d * c.denominator)
            if need > 1:
                old = trace.mods.get(v, (1, 0))[0]
                mod = _lcm(old, need)
                trace.mods[v] = (mod, trace.hints[v] % mod)
        rest = int(x) % d
        return _mk(value, P.scale(P.sub(p, P.const(rest)), Fraction(1, d)))
    if all(isinstance(c, int) and c % d == 0 for c in p.values()):
        return _mk(value, P.scale(p, Fraction(1, d)))
    return _atom(x, d, value)


def _atom(x: SymInt, d: int, value: int):
    if _TRACE is None:
        raise NoSymbolicForm(f"floor of {P.to_python(x.poly)} / {d} outside a trace")
    name = f"floor(({P.to_python(x.poly)})/{d})"
    _TRACE.atoms.setdefault(name, (x.poly, d))
    return _mk(value, P.var(name))
