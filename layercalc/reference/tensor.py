"""A tensor small enough to read: a flat list of numbers in row-major order and a shape.

No numpy, no views: every operation builds a new tensor with plain loops, so a
kernel reads like the math it performs. Only what the kernels need is here.
"""

from __future__ import annotations

import itertools
import random
from math import prod

FLOAT_DTYPES = ("float16", "bfloat16", "float32", "float64")


class Tensor:
    __slots__ = ("shape", "data", "dtype")

    def __init__(self, shape, data=None, dtype: str = "float32"):
        self.shape = tuple(int(d) for d in shape)
        n = prod(self.shape)
        if data is None:
            data = [0 if dtype not in FLOAT_DTYPES else 0.0] * n
        if len(data) != n:
            raise ValueError(f"{len(data)} values do not fill a tensor of shape {list(self.shape)}")
        self.data = data
        self.dtype = dtype

    def __repr__(self) -> str:
        return f"Tensor({list(self.shape)}, {self.dtype})"

    @property
    def rank(self) -> int:
        return len(self.shape)

    @property
    def numel(self) -> int:
        return len(self.data)

    @property
    def strides(self) -> tuple[int, ...]:
        return strides(self.shape)

    def at(self, *idx) -> float:
        return self.data[offset(self.shape, idx)]

    def reshape(self, shape) -> "Tensor":
        return Tensor(shape, list(self.data), self.dtype)

    def copy(self) -> "Tensor":
        return Tensor(self.shape, list(self.data), self.dtype)

    def map(self, f) -> "Tensor":
        return Tensor(self.shape, [f(v) for v in self.data], self.dtype)


# --- index arithmetic ---------------------------------------------------------------


def strides(shape) -> tuple[int, ...]:
    out, step = [], 1
    for d in reversed(shape):
        out.append(step)
        step *= d
    return tuple(reversed(out))


def offset(shape, idx) -> int:
    flat = 0
    for d, i in zip(shape, idx):
        flat = flat * d + i
    return flat


def indices(shape):
    """Every multi-index of ``shape`` in row-major order."""
    return itertools.product(*(range(d) for d in shape))


# --- construction --------------------------------------------------------------------


def uniform(shape, rng: random.Random, bound: float = 1.0, dtype: str = "float32") -> Tensor:
    return Tensor(shape, [rng.uniform(-bound, bound) for _ in range(prod(shape))], dtype)


def integers(shape, rng: random.Random, high: int, dtype: str = "int64") -> Tensor:
    return Tensor(shape, [rng.randrange(max(1, high)) for _ in range(prod(shape))], dtype)


def full(shape, value, dtype: str = "float32") -> Tensor:
    return Tensor(shape, [value] * prod(shape), dtype)


# --- rearranging (no arithmetic: nothing to count) ----------------------------------------


def permute(x: Tensor, dims) -> Tensor:
    """out[i_0, ..., i_n] = x[i at the positions given by dims]: torch.permute."""
    shape = tuple(x.shape[d] for d in dims)
    st = x.strides
    src = [st[d] for d in dims]
    data = [x.data[sum(i * s for i, s in zip(idx, src))] for idx in indices(shape)]
    return Tensor(shape, data, x.dtype)


def moveaxis(x: Tensor, src: int, dst: int) -> Tensor:
    dims = [d for d in range(x.rank) if d != src]
    dims.insert(dst, src)
    return permute(x, dims)


def split_last(x: Tensor) -> list[list[float]]:
    """The rows of ``x`` along its last dimension."""
    n = x.shape[-1] if x.rank else 1
    return [x.data[i:i + n] for i in range(0, x.numel, n)] if n else [[] for _ in range(prod(x.shape[:-1]))]


def stack_rows(rows, lead, dtype="float32") -> Tensor:
    """Inverse of :func:`split_last`: rows of equal length under leading dimensions ``lead``."""
    n = len(rows[0]) if rows else 0
    return Tensor(tuple(lead) + (n,), [v for r in rows for v in r], dtype)


def broadcast_shape(*shapes) -> tuple[int, ...]:
    """The shape that broadcasting gives, found by walking the dimensions from the right."""
    rank = max(len(s) for s in shapes)
    out = []
    for k in range(1, rank + 1):
        sizes = {s[-k] for s in shapes if k <= len(s)} - {1}
        if len(sizes) > 1:
            raise ValueError(f"shapes {[list(s) for s in shapes]} do not broadcast")
        out.append(sizes.pop() if sizes else 1)
    return tuple(reversed(out))


def broadcast_to(x: Tensor, shape) -> Tensor:
    """``x`` repeated along its size-1 (or missing) dimensions to ``shape``."""
    pad = len(shape) - x.rank
    xs = (1,) * pad + x.shape
    st = strides(xs)
    src = [0 if d == 1 else s for d, s in zip(xs, st)]
    return Tensor(shape, [x.data[sum(i * s for i, s in zip(idx, src))] for idx in indices(shape)], x.dtype)


def pad(x: Tensor, pads, mode: str = "zeros", value: float = 0.0) -> Tensor:
    """Pad the trailing ``len(pads)`` dimensions; ``pads`` lists (before, after) per dimension, first to last.

    Modes as torch.nn.functional.pad: ``zeros``/``constant`` (``value``), ``reflect`` (mirror without
    the edge), ``replicate`` (repeat the edge), ``circular`` (wrap around). A negative amount crops.
    """
    k = len(pads)
    lead, dims = x.shape[:x.rank - k], x.shape[x.rank - k:]
    for (before, after), size in zip(pads, dims):  # what torch refuses
        if mode == "reflect" and max(before, after) >= size:
            raise ValueError(f"reflect padding of {max(before, after)} must be below the dimension's size {size}")
        if mode == "circular" and max(before, after) > size:
            raise ValueError(f"circular padding of {max(before, after)} wraps around more than once "
                             f"(a dimension of size {size})")
        if mode == "replicate" and size == 0 and (before or after):
            raise ValueError("replicate padding of an empty dimension")
    out_dims = tuple(d + b + a for d, (b, a) in zip(dims, pads))

    def source(i: int, d: int, before: int):
        j = i - before
        if 0 <= j < d:
            return j
        if mode == "reflect":
            period = 2 * (d - 1)
            j = j % period if period else 0
            return period - j if j >= d else j
        if mode == "replicate":
            return min(max(j, 0), d - 1)
        if mode == "circular":
            return j % d
        return None  # constant

    maps = [[source(i, d, b) for i in range(od)] for d, od, (b, _) in zip(dims, out_dims, pads)]
    st = strides(dims)
    fill = value if x.dtype in FLOAT_DTYPES else int(value)
    inner = prod(dims)
    data = []
    for base in range(0, x.numel, inner) if inner else range(prod(lead)):
        for idx in itertools.product(*maps):
            if None in idx:
                data.append(fill)
            else:
                data.append(x.data[base + sum(i * s for i, s in zip(idx, st))])
    return Tensor(lead + out_dims, data, x.dtype)
