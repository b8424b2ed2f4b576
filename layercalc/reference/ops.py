"""Counted arithmetic: every element-wise formula of the reference is written with these.

Each operation does its arithmetic and adds one to the kernel's FLOPs, so a
layer's count is what its formula performs, by the rules of
:mod:`layercalc.costs`: an add, subtract, multiply, divide, compare-and-select
(max, min, a clamp bound, ``where``), or transcendental function costs 1, and
a reduction over n values costs n. Work done once per row, channel or group
(``1/sqrt(var + eps)``) uses plain Python arithmetic and is not counted, as the
convention says.
"""

from __future__ import annotations

import math


def _exp(v: float) -> float:
    try:
        return math.exp(v)
    except OverflowError:
        return math.inf


def _log(v: float) -> float:
    if v > 0:
        return math.log(v)
    return -math.inf if v == 0 else math.nan


class Ops:
    """The counted operations of one kernel call (``o = Ops(ctx)``)."""

    __slots__ = ("ctx",)

    def __init__(self, ctx):
        self.ctx = ctx

    def _one(self, value):
        self.ctx.flops += 1
        return value

    def add(self, a, b):
        return self._one(a + b)

    def sub(self, a, b):
        return self._one(a - b)

    def mul(self, a, b):
        return self._one(a * b)

    def div(self, a, b):
        if b == 0:
            return self._one(math.copysign(math.inf, a) if a else math.nan)
        return self._one(a / b)

    def neg(self, a):
        return self._one(-a)

    def abs(self, a):
        return self._one(abs(a))

    def max(self, a, b):
        return self._one(a if a >= b or math.isnan(a) else b)

    def min(self, a, b):
        return self._one(a if a <= b or math.isnan(a) else b)

    def where(self, condition: bool, a, b):
        """A compare-and-select: one operation (the comparison is its condition)."""
        return self._one(a if condition else b)

    def exp(self, a):
        return self._one(_exp(a))

    def log(self, a):
        return self._one(_log(a))

    def tanh(self, a):
        return self._one(math.tanh(a))

    def erf(self, a):
        return self._one(math.erf(a))

    def pow(self, a, p):
        try:
            return self._one(math.pow(a, p))
        except (ValueError, OverflowError):
            return self._one(math.nan)

    def square(self, a):
        return self._one(a * a)

    # --- reductions: n operations for n values ---------------------------------------------

    def sum(self, values):
        values = list(values)
        self.ctx.flops += len(values)
        return math.fsum(values) if values else 0.0

    def amax(self, values):
        values = list(values)
        self.ctx.flops += len(values)
        return max(values)
