"""Exact polynomials in the symbolic dims, and their printed forms.

A polynomial is a dict ``{monomial: coefficient}``: a monomial is a tuple of
``(name, exponent)`` pairs sorted by name (``()`` is the constant term), a
coefficient an int or a :class:`~fractions.Fraction`. Names are dims (``B``)
or floor atoms (``floor((H - 1)/2)``), which stand for the floor of another
polynomial divided by an integer.

Three printed forms, one per audience:

- :func:`to_python`: the grammar of the json reports, which Python's ``ast``
  parses: integers, names, ``+ - * / ** ( )`` and ``floor()``;
- :func:`to_text`: for people, ``2·B·T² + 1,536·B·T``, the common factor taken
  out (``B·T·(2·T + 1,536)``);
- :func:`to_latex`: for notes and papers.
"""

from __future__ import annotations

from fractions import Fraction
from math import floor as _floor

Poly = dict


def const(c) -> Poly:
    return {(): c} if c else {}


def var(name: str) -> Poly:
    return {((name, 1),): 1}


def _norm(c):
    if isinstance(c, Fraction) and c.denominator == 1:
        return c.numerator
    return c


def add(a: Poly, b: Poly) -> Poly:
    if not b:
        return a
    if not a:
        return b
    r = dict(a)
    for m, c in b.items():
        v = r.get(m, 0) + c
        if v:
            r[m] = _norm(v)
        else:
            r.pop(m, None)
    return r


def neg(a: Poly) -> Poly:
    return {m: -c for m, c in a.items()}


def sub(a: Poly, b: Poly) -> Poly:
    return add(a, neg(b))


def scale(a: Poly, k) -> Poly:
    if not k:
        return {}
    return {m: _norm(c * k) for m, c in a.items()}


def _mono_mul(m1: tuple, m2: tuple) -> tuple:
    if not m1:
        return m2
    if not m2:
        return m1
    d = dict(m1)
    for v, e in m2:
        d[v] = d.get(v, 0) + e
    return tuple(sorted(d.items()))


def mul(a: Poly, b: Poly) -> Poly:
    if len(b) == 1 and () in b:
        return scale(a, b[()])
    if len(a) == 1 and () in a:
        return scale(b, a[()])
    r: Poly = {}
    for m1, c1 in a.items():
        for m2, c2 in b.items():
            m = _mono_mul(m1, m2)
            v = r.get(m, 0) + c1 * c2
            if v:
                r[m] = _norm(v)
            else:
                r.pop(m, None)
    return r


def exact_quotient(a: Poly, b: Poly) -> Poly | None:
    """``a / b`` when ``b`` is one term that divides every term of ``a`` with an integer coefficient; else None."""
    if len(b) != 1:
        return None
    ((mb, cb),) = b.items()
    db = dict(mb)
    out = {}
    for m, c in a.items():
        d = dict(m)
        if any(d.get(v, 0) < e for v, e in db.items()):
            return None
        q = Fraction(c) / Fraction(cb)
        if q.denominator != 1:
            return None
        for v, e in db.items():
            d[v] -= e
        out[tuple(sorted((v, e) for v, e in d.items() if e))] = int(q)
    return out


def power(a: Poly, n: int) -> Poly:
    r = const(1)
    for _ in range(n):
        r = mul(r, a)
    return r


def is_const(a: Poly) -> bool:
    return not a or (len(a) == 1 and () in a)


def const_value(a: Poly):
    return a.get((), 0)


def names(a: Poly) -> set:
    return {v for m in a for v, _ in m}


def degree(a: Poly) -> int:
    return max((sum(e for _, e in m) for m in a), default=0)


def evaluate(a: Poly, env: dict, atoms: dict | None = None):
    """The value of ``a`` with the names of ``env``; floor atoms are computed from ``atoms``
    (``{name: (poly, divisor)}``)."""
    total = 0
    for m, c in a.items():
        t = c
        for v, e in m:
            if v not in env:
                p, d = atoms[v]
                env[v] = _floor(Fraction(evaluate(p, env, atoms)) / d)
            t *= env[v] ** e
        total += t
    return _norm(Fraction(total)) if isinstance(total, Fraction) else total


# --- printing -------------------------------------------------------------------------


def _order(a: Poly, order) -> list:
    """Terms sorted by total degree (highest first), then by the dims' order."""
    rank = {v: i for i, v in enumerate(order)}

    def key(item):
        m, _ = item
        return (-sum(e for _, e in m), [(rank.get(v, len(rank)), v, -e) for v, e in
                                        sorted(m, key=lambda p: (rank.get(p[0], len(rank)), p[0]))])

    return sorted(a.items(), key=key)


def _sorted_mono(m, order):
    rank = {v: i for i, v in enumerate(order)}
    return sorted(m, key=lambda p: (rank.get(p[0], len(rank)), p[0]))


def to_python(a: Poly, order=()) -> str:
    """``2*B*T**2 + 1536*B*T``: the grammar of the json reports."""
    if not a:
        return "0"
    out = []
    for i, (m, c) in enumerate(_order(a, order)):
        sign = "-" if c < 0 else "+"
        c = abs(c)
        num, den = (c.numerator, c.denominator) if isinstance(c, Fraction) else (c, 1)
        factors = [v if e == 1 else f"{v}**{e}" for v, e in _sorted_mono(m, order)]
        if num != 1 or not factors:
            factors.insert(0, str(num))
        body = "*".join(factors)
        if den != 1:
            body = f"{body}/{den}"
        out.append((sign, body))
    text = ("-" if out[0][0] == "-" else "") + out[0][1]
    for sign, body in out[1:]:
        text += f" {sign} {body}"
    return text


_SUP = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


def _num_text(n: int) -> str:
    return f"{n:,}"


def _text_terms(a: Poly, order) -> str:
    out = []
    for m, c in _order(a, order):
        sign = "−" if c < 0 else "+"
        c = abs(c)
        num, den = (c.numerator, c.denominator) if isinstance(c, Fraction) else (c, 1)
        factors = [_atom_text(v) + ("" if e == 1 else str(e).translate(_SUP)) for v, e in _sorted_mono(m, order)]
        if num != 1 or not factors:
            factors.insert(0, _num_text(num))
        body = "·".join(factors)
        if den != 1:
            body = f"{body}/{den}"
        out.append((sign, body))
    text = ("−" if out[0][0] == "−" else "") + out[0][1]
    for sign, body in out[1:]:
        text += f" {sign} {body}"
    return text


def _atom_text(v: str) -> str:
    return v.replace("*", "·").replace(" - ", " − ")


def common_factor(a: Poly) -> tuple:
    """The monomial that divides every term (``B·T`` in ``2·B·T² + 1536·B·T``), or ``()``."""
    items = list(a)
    if len(items) < 2:
        return ()
    common = dict(items[0])
    for m in items[1:]:
        d = dict(m)
        common = {v: min(e, d[v]) for v, e in common.items() if v in d}
    return tuple(sorted((v, e) for v, e in common.items() if e > 0))


def _divide_mono(a: Poly, f: tuple) -> Poly:
    fd = dict(f)
    out = {}
    for m, c in a.items():
        d = dict(m)
        for v, e in fd.items():
            d[v] -= e
        out[tuple(sorted((v, e) for v, e in d.items() if e))] = c
    return out


def to_text(a: Poly, order=()) -> str:
    """Readable: ``B·T·(2·T + 1,536)``; a single term or no common factor prints expanded."""
    if not a:
        return "0"
    f = common_factor(a)
    if not f:
        return _text_terms(a, order)
    head = "·".join(_atom_text(v) + ("" if e == 1 else str(e).translate(_SUP)) for v, e in _sorted_mono(f, order))
    return f"{head}·({_text_terms(_divide_mono(a, f), order)})"


def _latex_atom(v: str) -> str:
    if v.startswith("floor(") and v.endswith(")"):
        inner = v[6:-1]
        num, _, den = inner.rpartition("/")
        num = num.strip()
        if num.startswith("(") and num.endswith(")"):
            num = num[1:-1]
        num = num.replace("**", "^").replace("*", " ")
        return rf"\left\lfloor \frac{{{num}}}{{{den}}} \right\rfloor"
    return v if len(v) == 1 else rf"\mathit{{{v}}}"


def to_latex(a: Poly, order=()) -> str:
    """``2 B T^{2} + 1536 B T``, fractions as ``\\frac``, floors as ``\\lfloor\\,\\rfloor``."""
    if not a:
        return "0"
    out = []
    for m, c in _order(a, order):
        sign = "-" if c < 0 else "+"
        c = abs(c)
        num, den = (c.numerator, c.denominator) if isinstance(c, Fraction) else (c, 1)
        factors = [_latex_atom(v) + ("" if e == 1 else f"^{{{e}}}") for v, e in _sorted_mono(m, order)]
        coef = "" if num == 1 and factors else str(num)
        body = " ".join(([coef] if coef else []) + factors)
        if den != 1:
            body = rf"\frac{{{coef or '1'}}}{{{den}}}\, " + " ".join(factors) if factors else rf"\frac{{{num}}}{{{den}}}"
        out.append((sign, body))
    text = ("-" if out[0][0] == "-" else "") + out[0][1]
    for sign, body in out[1:]:
        text += f" {sign} {body}"
    return text


def terms(a: Poly, order=()) -> dict:
    """The terms as data: ``{"vars": [...], "terms": [[coefficient, [exponents]], ...]}``; a
    coefficient is an int, or a string ``"p/q"`` when it is a fraction."""
    used = sorted(names(a), key=lambda v: (order.index(v) if v in order else len(order), v))
    rows = []
    for m, c in _order(a, order):
        d = dict(m)
        coef = c if not isinstance(c, Fraction) else f"{c.numerator}/{c.denominator}"
        rows.append([coef, [d.get(v, 0) for v in used]])
    return {"vars": used, "terms": rows}
