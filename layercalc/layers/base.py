"""What a layer rule is: its argument schema, its inputs, and one ``forward``
that validates the arguments against the input shapes and returns the output
shape(s), parameters, buffers, MACs and FLOPs.

A rule is a small self-describing class::

    @register
    class Linear(Rule):
        '''y = x W^T + b. ... (the docstring is the user documentation)'''

        family = "linear"
        args = (Arg("in_features", "int", None, min=1, infer=True), Arg("out_features", "int", min=1), ...)
        macs = "numel(x) / in_features * in_features * out_features"
        flops = "2 * MACs + numel(y) if bias"

        def forward(self, a, xs):
            ...
            return Out(shape, params={"weight": (out, in), "bias": (out,)}, macs=..., flops=...)

``a`` holds the resolved arguments as attributes; ``xs`` the input tensors as
:class:`T` (shape and dtype). Problems are raised as
:class:`~layercalc.errors.LayerError` naming the argument at fault, and the
engine adds the YAML position. Rules are pure: no I/O, no global state.
"""

from __future__ import annotations

from math import prod
from typing import ClassVar, NamedTuple

from ..errors import LayerError

REQUIRED = object()


class T(NamedTuple):
    """A tensor as the rules see it: a shape and a dtype."""

    shape: tuple[int, ...]
    dtype: str = "float32"

    @property
    def rank(self) -> int:
        return len(self.shape)

    @property
    def numel(self) -> int:
        return prod(self.shape)


class Out:
    """What one layer produces: output shape (and dtype; None means the first input's), named extra
    outputs, parameter and buffer shapes by torch's names, MACs and FLOPs."""

    __slots__ = ("shape", "dtype", "extras", "params", "buffers", "macs", "flops")

    def __init__(self, shape: tuple[int, ...], dtype: str | None = None, extras: dict | None = None,
                 params: dict | None = None, buffers: dict | None = None, macs: int = 0, flops: int = 0):
        self.shape = shape
        self.dtype = dtype
        self.extras: dict[str, T] = extras if extras is not None else {}
        self.params: dict[str, tuple[int, ...]] = params if params is not None else {}
        self.buffers: dict[str, tuple[int, ...]] = buffers if buffers is not None else {}
        self.macs = macs
        self.flops = flops

    def __repr__(self) -> str:
        return f"Out(shape={self.shape}, params={self.params}, macs={self.macs}, flops={self.flops})"


class Arg(NamedTuple):
    """One argument of a layer type.

    kinds: ``int``, ``float``, ``bool``, ``str`` (one of ``choices``), ``ints``
    (an int or a list of ints; an int is repeated ``n`` times when ``n`` is set),
    ``shape`` (a list of ints, -1 allowed), ``floats`` (a number or a list of
    numbers), ``number`` (one int or float, kept as written: an int stays an int),
    ``any`` (passed through as written, numbers evaluated).
    ``choices`` on a non-``str`` kind lists literal strings that the argument
    also takes (``padding: same``); they win over names of vars. ``default``
    ``None`` makes null a valid value; ``REQUIRED`` makes the argument required.
    ``nullable`` accepts null besides a non-null default (BatchNorm's momentum).
    ``infer`` marks arguments that follow from the input shape and may be omitted.
    ``one`` (with ``n``) takes a one-element list for every dimension and ``empty_null`` an empty
    list for null, as PyTorch's functions expand them.
    """

    name: str
    kind: str
    default: object = REQUIRED
    choices: tuple | None = None
    min: float | None = None
    n: int | None = None
    infer: bool = False
    doc: str = ""
    nullable: bool = False  # null is a valid value even though the default is not null
    one: bool = False  # a one-element list stands for every dimension (torch expands [2] to (2, 2))
    empty_null: bool = False  # an empty list means null (a pooling `stride: []` is kernel_size)

    @property
    def required(self) -> bool:
        return self.default is REQUIRED


class Rule:
    """Base class of the layer rules; see the module docstring."""

    type: ClassVar[str] = ""
    family: ClassVar[str] = ""
    args: ClassVar[tuple[Arg, ...]] = ()
    n_inputs: ClassVar[tuple[int, int | None]] = (1, 1)  # min, max (None: any number)
    input_names: ClassVar[tuple[str, ...]] = ("input",)
    extra_outputs: ClassVar[tuple[str, ...]] = ()
    input_dtype: ClassVar[str] = "float"  # "float", "int" or "any"
    macs: ClassVar[str] = "0"
    flops: ClassVar[str] = "0"

    def forward(self, a, xs: list[T]) -> Out:  # pragma: no cover - every rule overrides it
        raise NotImplementedError


class Args:
    """Resolved arguments, as attributes (``a.kernel_size``)."""

    def __init__(self, values: dict, given: set):
        self.__dict__.update(values)
        self._names = tuple(values)
        self._given = given

    def given(self, name: str) -> bool:
        """Whether the spec wrote this argument (as opposed to its default)."""
        return name in self._given

    def as_dict(self) -> dict:
        d = self.__dict__
        return {k: d[k] for k in self._names}


# --- helpers shared by the rules -------------------------------------------------


def infer(a: Args, name: str, actual: int, what: str) -> int:
    """Fill an inferable argument from the input, or check that the given value agrees."""
    given = getattr(a, name)
    if given is not None and given != actual:
        raise LayerError(f"{name}={given} does not match the input, whose {what} is {actual}",
                         f"set {name} to {actual}, or omit it to infer it from the input", arg=name)
    setattr(a, name, actual)
    return actual


def need_rank(x: T, ranks, layer: str, layout: str) -> None:
    """Raise unless ``x`` has one of ``ranks`` dimensions; ``layout`` names them, e.g. '(N, C, H, W)'."""
    if x.rank not in ranks:
        want = " or ".join(f"{r}-D" for r in ranks)
        raise LayerError(f"{layer} expects a {want} input {layout}, got a {x.rank}-D input of shape {list(x.shape)}",
                         "check the previous layer's output shape (`layercalc shape`), or insert a Reshape/Flatten")


def need_min_rank(x: T, rank: int, layer: str, layout: str) -> None:
    if x.rank < rank:
        raise LayerError(f"{layer} expects an input with at least {rank} dimension(s) {layout}, "
                         f"got shape {list(x.shape)}", "check the previous layer's output shape (`layercalc shape`)")


def numel(shape) -> int:
    return prod(shape)


def param_count(params: dict) -> int:
    return sum(prod(s) for s in params.values())
