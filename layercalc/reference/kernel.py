"""What a reference kernel is handed, and what one call of it leaves behind.

A kernel is a plain function ``kernel(ctx, *inputs) -> Tensor`` (or
``(Tensor, {"h_n": Tensor, ...})`` for the types with extra outputs) written
as the loops of the layer's definition. It takes its arguments from
``ctx.args``, creates its weights with ``ctx.param`` and its buffers with
``ctx.buffer`` (names and shapes as torch's), and counts what it does right
where it does it::

    acc = sum(xi * wi for xi, wi in zip(row, w_row))
    ctx.macs += len(row)          # one multiply-accumulate per pair
    y = acc + b
    ctx.flops += 1                # the bias add

``ctx.macs`` counts multiply-accumulates of dense products, ``ctx.flops`` every
other arithmetic operation by the convention of :mod:`layercalc.costs`; the
FLOPs of the call are ``2 * macs + flops``. A kernel never computes an output
shape: it is the shape of what its loops produced.
"""

from __future__ import annotations

import random
import zlib
from dataclasses import dataclass, field
from math import prod, sqrt

from .tensor import Tensor, full, uniform


def seed_of(name: str) -> int:
    """A stable seed for a layer or input name (the same on every machine and run)."""
    return zlib.crc32(name.encode("utf-8"))


class Ctx:
    """The arguments, weights and counters of one kernel call.

    ``reuse`` maps parameter/buffer names to tensors of an earlier layer that
    this one shares (``share``: all of them, ``tie``: the weight): such a
    tensor is taken, not allocated, so it is not counted again.
    """

    def __init__(self, args: dict, seed: int = 0, reuse: dict | None = None):
        self.args = dict(args)
        self.rng = random.Random(seed)
        self.reuse = reuse or {}
        self.macs = 0
        self.flops = 0
        self.params: dict[str, Tensor] = {}
        self.buffers: dict[str, Tensor] = {}
        self.allocated_params = 0
        self.allocated_buffers = 0

    def __getattr__(self, name):  # ctx.kernel_size reads ctx.args["kernel_size"]
        try:
            return self.__dict__["args"][name]
        except KeyError:
            raise AttributeError(name) from None

    def _take(self, name: str, shape) -> Tensor | None:
        t = self.reuse.get(name)
        if t is not None and t.shape != tuple(shape):
            raise ValueError(f"the shared tensor '{name}' has shape {list(t.shape)}, this layer needs {list(shape)}")
        return t

    def param(self, name: str, shape, fan_in: int | None = None) -> Tensor:
        """A learned tensor, uniform in +-1/sqrt(fan_in) (fan_in: the product of all but the first dimension)."""
        t = self._take(name, shape)
        if t is None:
            if fan_in is None:
                fan_in = prod(shape[1:]) if len(shape) > 1 else (shape[0] if shape else 1)
            t = uniform(shape, self.rng, 1 / sqrt(max(1, fan_in)))
            self.allocated_params += t.numel
        self.params[name] = t
        return t

    def buffer(self, name: str, shape, value=None, dtype: str = "float32", low=None, high=None) -> Tensor:
        """A buffer: filled with ``value``, or uniform in [low, high]."""
        t = self._take(name, shape)
        if t is None:
            if value is not None:
                t = full(shape, value, dtype)
            else:
                t = Tensor(shape, [self.rng.uniform(low, high) for _ in range(prod(shape))], dtype)
            self.allocated_buffers += t.numel
        self.buffers[name] = t
        return t

    def call(self, kernel, prefix: str, args: dict, *inputs):
        """Run a sublayer's kernel inside this one (a transformer's ``linear1``): its weights are named
        ``prefix.NAME`` here, its counts are added to this call's."""
        child = Ctx(args)
        child.rng = self.rng
        child.reuse = {k[len(prefix) + 1:]: v for k, v in self.reuse.items() if k.startswith(prefix + ".")}
        out = kernel(child, *inputs)
        self.macs += child.macs
        self.flops += child.flops
        self.params.update({f"{prefix}.{k}": v for k, v in child.params.items()})
        self.buffers.update({f"{prefix}.{k}": v for k, v in child.buffers.items()})
        self.allocated_params += child.allocated_params
        self.allocated_buffers += child.allocated_buffers
        return out


@dataclass
class Run:
    """What one kernel call produced and counted."""

    output: Tensor
    extras: dict = field(default_factory=dict)
    params: dict = field(default_factory=dict)  # name -> Tensor (allocated here or shared)
    buffers: dict = field(default_factory=dict)
    allocated_params: int = 0
    allocated_buffers: int = 0
    macs: int = 0
    flops: int = 0


def run_kernel(kernel, args: dict, inputs: list[Tensor], seed: int = 0, reuse: dict | None = None) -> Run:
    """Call ``kernel`` on ``inputs`` with ``args``; return its outputs and counts."""
    ctx = Ctx(args, seed, reuse)
    out = kernel(ctx, *inputs)
    extras = {}
    if isinstance(out, tuple):
        out, extras = out
    return Run(out, extras, ctx.params, ctx.buffers, ctx.allocated_params, ctx.allocated_buffers,
               ctx.macs, 2 * ctx.macs + ctx.flops)


# --- argument helpers shared by the kernels ---------------------------------------------


def tuple_of(value, n: int) -> tuple:
    """An int or a list as an n-tuple (``kernel_size: 3`` for a 2-d layer is (3, 3))."""
    if isinstance(value, (list, tuple)):
        if len(value) == 1 and n > 1:
            return tuple(value) * n
        return tuple(value)
    return (value,) * n


def wrap_dim(dim: int, rank: int) -> int:
    """A dimension index in [0, rank); a 0-d tensor takes 0 and -1, as torch does."""
    r = max(rank, 1)
    if not -r <= dim < r:
        raise ValueError(f"dimension {dim} is out of range for rank {rank}")
    return dim % r
