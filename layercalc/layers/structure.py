"""Layer rules of the structure family: moving data around, element-wise
arithmetic, reductions and products.

The types follow the ``torch`` functions they are named after, and the
``torch.nn`` module where one exists, unbatched input forms included:

| type                                  | torch equivalent                                   |
|---------------------------------------|----------------------------------------------------|
| Flatten, Unflatten                    | nn.Flatten, nn.Unflatten                           |
| Reshape, Permute, Transpose, Expand   | Tensor.reshape, .permute, .transpose, .expand      |
| Select, Slice                         | Tensor.select, x[..., start:end:step]              |
| Add, Mul, Sub, Div, Abs, Neg          | +, *, -, /, torch.abs, unary - (broadcasting and   |
|                                       | type promotion; Add to Div also of one tensor and  |
|                                       | a constant ``scalar``: x * 0.125, 1 - x)           |
| Concat, Mean, MatMul                  | torch.cat, torch.mean, torch.matmul                |
| Parameter                             | an nn.Parameter of a given shape                   |
| Buffer                                | a registered buffer of a given shape and dtype     |
| Upsample                              | nn.Upsample (F.interpolate)                        |
| ZeroPad1d/2d/3d, ConstantPad1d/2d/3d  | nn.ZeroPad1d/2d/3d, nn.ConstantPad1d/2d/3d         |
| PixelShuffle, ChannelShuffle          | nn.PixelShuffle, nn.ChannelShuffle                 |

Extensions of spec format v1, as the nn modules of the same names:
``PixelUnshuffle``, ``ReflectionPad1d/2d/3d``, ``ReplicationPad1d/2d/3d``,
``CircularPad1d/2d/3d``.

Only ``Buffer`` has buffers, only ``Parameter`` has parameters and only
``MatMul`` has MACs. The FLOPs (``x`` the input, ``y`` the output):

| type                                  | FLOPs                                              |
|---------------------------------------|----------------------------------------------------|
| Flatten, Unflatten, Reshape, Permute, | 0: data movement                                   |
| Transpose, Expand, Select, Slice,     |                                                    |
| Concat, Parameter, Buffer, the pads,  |                                                    |
| PixelShuffle, PixelUnshuffle,         |                                                    |
| ChannelShuffle                        |                                                    |
| Add, Mul                              | (number of operands - 1) * numel(y): one add or    |
|                                       | multiply per output element and extra operand (a   |
|                                       | ``scalar`` is an operand)                          |
| Sub, Div, Abs, Neg                    | numel(y)                                           |
| Mean                                  | numel(x) + numel(y): the sum counts one add per    |
|                                       | element reduced (the reduction rule of             |
|                                       | ``layercalc.costs``), then one divide per output   |
| MatMul                                | 2 * MACs; MACs = B * n * k * m, B the product of   |
|                                       | the broadcast batch dimensions                     |
| Upsample                              | numel(y) times, by mode: nearest, nearest-exact 0; |
|                                       | linear 3 (one lerp: subtract, multiply, add);      |
|                                       | bilinear 9 (3 lerps); trilinear 21 (7 lerps);      |
|                                       | bicubic 35 (five 4-tap weighted sums of 4          |
|                                       | multiplies and 3 adds: 4 along W, then 1 along H)  |

The interpolation weights of Upsample depend only on the output position and
are not counted. The shape arithmetic (dimension normalization, -1 inference,
broadcasting, ``torch.cat`` and ``torch.matmul`` shapes, padded lengths) lives
in :mod:`layercalc.layers.shapes`.
"""

from __future__ import annotations

from typing import ClassVar

from ..errors import LayerError
from ..dtypes import DTYPES, FLOAT_DTYPES
from . import shapes
from .base import Arg, Out, Rule, T, need_min_rank, numel
from .registry import register

# --- dtypes ------------------------------------------------------------------------

_INT_BITS = {"uint8": 8, "int8": 8, "int16": 16, "int32": 32, "int64": 64}


def _kind(dtype: str) -> int:
    """PyTorch's type categories, in promotion order: bool 0, integer 1, floating 2."""
    return 2 if dtype in FLOAT_DTYPES else 0 if dtype == "bool" else 1


def _promote_dtypes(dtypes) -> str:
    """The promoted dtype of operands that are all dimensioned (or all 0-D), as torch.result_type."""
    top = max(_kind(d) for d in dtypes)
    if top == 0:
        return "bool"
    if top == 2:
        floats = {d for d in dtypes if d in FLOAT_DTYPES}
        if "float64" in floats:
            return "float64"
        if "float32" in floats or floats == {"float16", "bfloat16"}:
            return "float32"
        return floats.pop()
    ints = {d for d in dtypes if _kind(d) == 1}
    signed = [_INT_BITS[d] for d in ints if d != "uint8"]
    if not signed:
        return "uint8"
    bits = max(signed)
    return f"int{16 if bits == 8 and 'uint8' in ints else bits}"


def promote(xs: list[T]) -> str:
    """The dtype of an element-wise result, as PyTorch's type promotion: 0-D operands only decide
    when their category (bool < integer < floating) is higher than every dimensioned operand's."""
    dimmed = [x.dtype for x in xs if x.rank]
    scalars = [x.dtype for x in xs if not x.rank]
    if not dimmed or not scalars:
        return _promote_dtypes(dimmed or scalars)
    out = _promote_dtypes(dimmed)
    top = max(_kind(d) for d in scalars)
    if top > _kind(out):
        return _promote_dtypes([d for d in scalars if _kind(d) == top])
    return out


def chain_dtype(xs: list[T]) -> str:
    """The dtype of ``x0 op x1 op x2 ...`` evaluated left to right, as PyTorch does for an n-ary Add or
    Mul: each partial result is a dimensioned operand of the next step."""
    cur = xs[0]
    for x in xs[1:]:
        cur = T(shapes.broadcast([cur.shape, x.shape]), promote([cur, x]))
    return cur.dtype


def _no_bool(xs: list[T], what: str, fix: str) -> None:
    if any(x.dtype == "bool" for x in xs):
        raise LayerError(f"{what} of a bool tensor is not supported (as in PyTorch); got dtypes "
                         f"{', '.join(x.dtype for x in xs)}", fix, code="G007")


# --- bases -------------------------------------------------------------------------


class _Structure(Rule):
    family = "structure"
    macs = "0"


class _Movement(_Structure):
    """Data movement: any dtype, no arithmetic."""

    input_dtype = "any"
    flops = "0 (data movement)"


# --- reshaping -----------------------------------------------------------------------


@register
class Flatten(_Movement):
    """Flattens the dimensions start_dim to end_dim into one, as ``nn.Flatten``.

    Args: start_dim (default 1), end_dim (default -1); negative values count
    from the end, and start_dim must not come after end_dim.
    Input shape: (*, S_start, ..., S_end, *), any dtype.
    Output shape: (*, S_start * ... * S_end, *); a 0-D input becomes [1].
    Params: none. MACs: 0. FLOPs: 0 (data movement).
    Example: [8, 64, 7, 7] -> [8, 3136].
    """

    args = (
        Arg("start_dim", "int", 1, doc="first dimension to flatten"),
        Arg("end_dim", "int", -1, doc="last dimension to flatten"),
    )

    def forward(self, a, xs):
        x = xs[0]
        start = shapes.wrap_dim(a.start_dim, x.rank, "start_dim")
        end = shapes.wrap_dim(a.end_dim, x.rank, "end_dim")
        if not x.rank:
            return Out((1,))
        if start > end:
            raise LayerError(f"start_dim={a.start_dim} (dimension {start}) comes after end_dim={a.end_dim} "
                             f"(dimension {end}) of the {x.rank}-D input {list(x.shape)}",
                             "choose start_dim <= end_dim", arg="start_dim")
        return Out(x.shape[:start] + (numel(x.shape[start:end + 1]),) + x.shape[end + 1:])


@register
class Unflatten(_Movement):
    """Splits one dimension into several, as ``nn.Unflatten``.

    Args: dim (negative counts from the end), unflattened_size (a list of sizes
    whose product is the size of dimension dim; one of them may be -1, inferred).
    Input shape: (*, S_dim, *), at least 1-D, any dtype.
    Output shape: (*, U_1, ..., U_n, *).
    Params: none. MACs: 0. FLOPs: 0 (data movement).
    Example: dim 1, unflattened_size [4, -1]: [2, 12, 5] -> [2, 4, 3, 5].
    """

    args = (
        Arg("dim", "int", doc="the dimension to split"),
        Arg("unflattened_size", "shape", doc="the sizes it is split into (one -1 allowed)"),
    )

    def forward(self, a, xs):
        x = xs[0]
        if not x.rank:
            raise LayerError("Unflatten needs an input of at least 1 dimension, got a 0-D input",
                             "Reshape the scalar instead")
        if not a.unflattened_size:
            raise LayerError("unflattened_size is empty", "give at least one size", arg="unflattened_size",
                             code="S006")
        d = shapes.norm_dim(a.dim, x.rank)
        sizes = shapes.infer_size(a.unflattened_size, x.shape[d], "unflattened_size",
                                  f"dimension {d} of size {x.shape[d]} (input {list(x.shape)})")
        return Out(x.shape[:d] + sizes + x.shape[d + 1:])


@register
class Reshape(_Movement):
    """Gives the input a new shape with the same number of elements, as ``Tensor.reshape``.

    Args: shape (a list of sizes; one of them may be -1, inferred from the
    number of elements).
    Input shape: any, any dtype. Output shape: shape.
    Params: none. MACs: 0. FLOPs: 0 (data movement).
    Example: shape [B, -1, 64]: [2, 8, 8, 64] -> [2, 64, 64].
    """

    args = (Arg("shape", "shape", doc="the new shape (one -1 allowed)"),)

    def forward(self, a, xs):
        x = xs[0]
        return Out(shapes.infer_size(a.shape, x.numel, "shape", f"{list(x.shape)} ({x.numel} elements)"))


@register
class Permute(_Movement):
    """Reorders the dimensions, as ``Tensor.permute``: output dimension i is input dimension dims[i].

    Args: dims (a permutation of the input's dimensions; negative values count
    from the end).
    Input shape: any, any dtype.
    Output shape: (S_dims[0], S_dims[1], ...).
    Params: none. MACs: 0. FLOPs: 0 (data movement).
    Example: dims [0, 2, 3, 1]: [8, 3, 32, 32] -> [8, 32, 32, 3].
    """

    args = (Arg("dims", "ints", doc="the input dimension for each output dimension"),)

    def forward(self, a, xs):
        x = xs[0]
        dims = (a.dims,) if isinstance(a.dims, int) else tuple(a.dims)
        if len(dims) != x.rank:
            raise LayerError(f"dims={list(dims)} has {len(dims)} entries for a {x.rank}-D input {list(x.shape)}",
                             f"list each of the {x.rank} dimensions once", arg="dims")
        order = shapes.norm_dims(dims, x.rank, "dims")
        return Out(tuple(x.shape[d] for d in order))


@register
class Transpose(_Movement):
    """Swaps two dimensions, as ``Tensor.transpose(dim0, dim1)``.

    Args: dim0, dim1 (negative values count from the end).
    Input shape: any, any dtype. Output shape: the input's, with dim0 and dim1 swapped.
    Params: none. MACs: 0. FLOPs: 0 (data movement).
    Example: dim0 1, dim1 2: [8, 128, 64] -> [8, 64, 128].
    """

    args = (Arg("dim0", "int", doc="first dimension"), Arg("dim1", "int", doc="second dimension"))

    def forward(self, a, xs):
        x = xs[0]
        d0 = shapes.wrap_dim(a.dim0, x.rank, "dim0")
        d1 = shapes.wrap_dim(a.dim1, x.rank, "dim1")
        shape = list(x.shape)
        if shape:
            shape[d0], shape[d1] = shape[d1], shape[d0]
        return Out(tuple(shape))


@register
class Expand(_Movement):
    """Repeats size-1 dimensions without copying, as ``Tensor.expand``.

    Args: shape (the target sizes: -1 keeps that dimension; a dimension of size 1
    may take any size; extra sizes in front add new leading dimensions, which
    cannot be -1).
    Input shape: any, any dtype. Output shape: shape, with the -1 filled in.
    Params: none. MACs: 0. FLOPs: 0 (data movement: a view).
    Example: shape [4, -1, 10]: [3, 1] -> [4, 3, 10].
    """

    args = (Arg("shape", "shape", doc="the target shape (-1 keeps a dimension)"),)

    def forward(self, a, xs):
        return Out(shapes.expand_shape(xs[0].shape, a.shape))


# --- indexing and joining ----------------------------------------------------------


@register
class Select(_Movement):
    """Takes one index along a dimension and drops that dimension, as ``Tensor.select(dim, index)``.

    Args: dim, index (negative values count from the end; the index must lie in
    [-size, size)).
    Input shape: at least 1-D, any dtype. Output shape: the input's without dimension dim.
    Params: none. MACs: 0. FLOPs: 0 (data movement).
    Example: dim 1, index 0 (a class token): [8, 197, 768] -> [8, 768].
    """

    args = (Arg("dim", "int", doc="the dimension to index"), Arg("index", "int", doc="the index to take"))

    def forward(self, a, xs):
        x = xs[0]
        if not x.rank:
            raise LayerError("Select needs an input of at least 1 dimension, got a 0-D input",
                             "check the previous layer's output shape (`layercalc shape`)")
        d = shapes.norm_dim(a.dim, x.rank)
        size = x.shape[d]
        if not -size <= a.index < size:
            raise LayerError(f"index={a.index} is out of range for dimension {d} of size {size} (input "
                             f"{list(x.shape)}); expected {-size} to {size - 1}",
                             f"use an index between {-size} and {size - 1}" if size else
                             "that dimension is empty: select along another one", arg="index")
        return Out(x.shape[:d] + x.shape[d + 1:])


@register
class Slice(_Movement):
    """Keeps the indices start, start+step, ... before end along one dimension, as Python's
    ``x[..., start:end:step]``.

    Args: dim, start (default 0), end (exclusive; default null: the whole
    length), step (default 1, at least 1). Negative start and end count from the
    end; out-of-range values are clamped, so a slice may be empty.
    Input shape: at least 1-D, any dtype.
    Output shape: the input's, with dimension dim of length len(range(S_dim)[start:end:step]).
    Params: none. MACs: 0. FLOPs: 0 (data movement).
    Example: dim 1, start 1: [8, 197, 768] -> [8, 196, 768].
    """

    args = (
        Arg("dim", "int", doc="the dimension to slice"),
        Arg("start", "int", 0, doc="first index (negative: from the end)"),
        Arg("end", "int", None, doc="index after the last (negative: from the end); null: to the end"),
        Arg("step", "int", 1, min=1, doc="stride between the kept indices"),
    )

    def forward(self, a, xs):
        x = xs[0]
        if not x.rank:
            raise LayerError("Slice needs an input of at least 1 dimension, got a 0-D input",
                             "check the previous layer's output shape (`layercalc shape`)")
        d = shapes.norm_dim(a.dim, x.rank)
        length = shapes.slice_len(x.shape[d], a.start, a.end, a.step)
        return Out(x.shape[:d] + (length,) + x.shape[d + 1:])


@register
class Concat(_Movement):
    """Joins its inputs along an existing dimension, as ``torch.cat`` (``from: [a, b, ...]``).

    Args: dim (default 0; negative counts from the end).
    Input shapes: two or more tensors of the same rank (at least 1) and the same
    sizes except along dim; 1-D empty tensors (shape [0]) are skipped, as in PyTorch.
    Output shape: the common shape with dimension dim the sum of the inputs'.
    Dtype: the promoted dtype of the inputs.
    Params: none. MACs: 0. FLOPs: 0 (data movement).
    Example: dim 1: [8, 64, 28, 28] and [8, 32, 28, 28] -> [8, 96, 28, 28].
    """

    n_inputs = (2, None)
    input_names = ("tensors",)
    args = (Arg("dim", "int", 0, doc="the dimension to join along"),)

    def forward(self, a, xs):
        return Out(shapes.cat_shape([x.shape for x in xs], a.dim), dtype=promote(xs))


@register
class Parameter(_Movement):
    """A learned tensor of a given shape, as an ``nn.Parameter`` used directly (a class token, a
    position embedding, a layer scale). It takes no input and ignores ``from``; the entry after it
    takes the parameter as its default input.

    Args: shape (a list of sizes, each >= 0, or one int for a 1-D tensor).
    Output shape: shape, float32.
    Params: weight (shape), numel(shape). MACs: 0. FLOPs: 0.
    Example: shape [1, 1, 768] (a class token): 768 params.
    """

    n_inputs = (0, 0)
    input_names = ()
    args = (Arg("shape", "ints", min=0, doc="the shape of the tensor"),)
    flops = "0"

    def forward(self, a, xs):
        shape = (a.shape,) if isinstance(a.shape, int) else tuple(a.shape)
        return Out(shape, dtype="float32", params={"weight": shape})


@register
class Buffer(_Movement):
    """A registered constant tensor of a given shape and dtype, as a buffer of ``register_buffer``: a
    buffer read directly, or one that the forward pass never reads but ``model.buffers()`` counts
    (the BatchNorm statistics of an auxiliary head). It takes no input and ignores ``from``; the
    entry after it takes the buffer as its default input.

    Args: shape (a list of sizes, each >= 0, or one int for a 1-D tensor; [] for a 0-D
    tensor such as BatchNorm's ``num_batches_tracked``), dtype (default float32).
    Output shape: shape, of that dtype.
    Params: none. Buffers: buffer (shape), numel(shape). MACs: 0. FLOPs: 0.
    Example: shape [768], the running mean of a BatchNorm2d(768): 768 buffer elements.
    """

    n_inputs = (0, 0)
    input_names = ()
    args = (Arg("shape", "ints", min=0, doc="the shape of the tensor ([] for 0-D)"),
            Arg("dtype", "str", "float32", choices=DTYPES, doc="its dtype"))
    flops = "0"

    def forward(self, a, xs):
        shape = (a.shape,) if isinstance(a.shape, int) else tuple(a.shape)
        return Out(shape, dtype=a.dtype, buffers={"buffer": shape})


# --- element-wise arithmetic -------------------------------------------------------


class _Elementwise(_Structure):
    input_dtype = "any"


#: The optional constant operand of Add, Sub, Mul and Div: a Python number, as in ``x * 0.125``.
_SCALAR = Arg("scalar", "number", None, doc="a constant operand (int or float) in place of a second input")
#: Sub and Div: the constant comes first (``1 - x``, ``2 / x``).
_SCALAR_FIRST = Arg("scalar_first", "bool", False, doc="with scalar: compute scalar - x (scalar / x)")


def _scalar_tensor(value) -> T:
    """A Python number as torch types it in an element-wise op: a 0-D operand of category bool, integer
    (int64) or floating (the default float32), so it decides the dtype only when its category is higher."""
    return T((), "bool" if isinstance(value, bool) else "int64" if isinstance(value, int) else "float32")


def _operands(a, xs: list[T], op: str, n_max: int | None) -> list[T]:
    """The operands of an element-wise op: its inputs, or its one input and ``scalar``."""
    if a.scalar is None:
        if len(xs) < 2:
            raise LayerError(f"{op} takes two inputs or one input and a scalar, got {len(xs)} input(s) and no "
                             "scalar", "write `from: [a, b]`, or give `scalar: NUMBER`", code="G008")
        if n_max is not None and len(xs) > n_max:
            raise LayerError(f"{op} takes two inputs, got {len(xs)}", "write `from: [a, b]`", code="G008")
        if getattr(a, "scalar_first", False):
            raise LayerError("scalar_first is set without a scalar", "give `scalar: NUMBER`, or remove scalar_first",
                             arg="scalar_first", code="S006")
        return xs
    if isinstance(a.scalar, bool) or not isinstance(a.scalar, (int, float)):
        raise LayerError(f"scalar is {a.scalar!r}, expected a number", "write an int or a float, e.g. 0.125",
                         arg="scalar", code="S003")
    if len(xs) != 1:
        raise LayerError(f"{op} with a scalar takes one input, got {len(xs)}",
                         "remove the scalar, or keep one name in `from`", arg="scalar", code="G008")
    s = _scalar_tensor(a.scalar)
    return [s, xs[0]] if getattr(a, "scalar_first", False) else [xs[0], s]


_SCALAR_DOC = """
    With ``scalar`` (a number: an int, a float, or an expression) the op takes one
    input and the constant is its other operand, as ``x {op} 0.125``{first}; the
    number is typed as PyTorch types a Python number (a float makes an integer
    input float32, an int keeps it). FLOPs: numel(y), one operation per element.
    (FlopCounterMode counts no element-wise op: the MACs are 0 either way.)
"""


@register
class Add(_Elementwise):
    """Sums its inputs element by element, with broadcasting (``from: [a, b, ...]``), as ``a + b + ...``.

    Args: scalar (default null: see below).
    Input shapes: two or more shapes that broadcast together (any dtypes).
    Output shape: the broadcast shape. Dtype: PyTorch's type promotion, applied
    left to right.
    Params: none. MACs: 0.
    FLOPs: (number of operands - 1) * numel(y).
    Example: a residual connection, [8, 64, 56, 56] + [8, 64, 56, 56]: 1,605,632 FLOPs.
    """

    __doc__ += _SCALAR_DOC.format(op="+", first="")
    n_inputs = (1, None)
    input_names = ("input", "other", "...")
    args = (_SCALAR,)
    flops = "(number of operands - 1) * numel(y)"

    def forward(self, a, xs):
        xs = _operands(a, xs, self.type, None)
        shape = shapes.broadcast([x.shape for x in xs])
        return Out(shape, dtype=chain_dtype(xs), flops=(len(xs) - 1) * numel(shape))


@register
class Mul(_Elementwise):
    """Multiplies its inputs element by element, with broadcasting (``from: [a, b, ...]``), as ``a * b * ...``.

    Args: scalar (default null: see below).
    Input shapes: two or more shapes that broadcast together (any dtypes).
    Output shape: the broadcast shape. Dtype: PyTorch's type promotion, applied
    left to right.
    Params: none. MACs: 0 (element-wise products are not MACs).
    FLOPs: (number of operands - 1) * numel(y).
    Example: a gate, [8, 64, 56, 56] * [8, 64, 1, 1]: 1,605,632 FLOPs.
    """

    __doc__ += _SCALAR_DOC.format(op="*", first="")
    n_inputs = (1, None)
    input_names = ("input", "other", "...")
    args = (_SCALAR,)
    flops = "(number of operands - 1) * numel(y)"

    def forward(self, a, xs):
        xs = _operands(a, xs, self.type, None)
        shape = shapes.broadcast([x.shape for x in xs])
        return Out(shape, dtype=chain_dtype(xs), flops=(len(xs) - 1) * numel(shape))


@register
class Sub(_Elementwise):
    """Subtracts its second input from its first element by element, with broadcasting
    (``from: [a, b]``), as ``a - b``.

    Args: scalar (default null: see below), scalar_first (default false).
    Input shapes: two shapes that broadcast together (any dtypes but bool).
    Output shape: the broadcast shape. Dtype: PyTorch's type promotion.
    Params: none. MACs: 0. FLOPs: numel(y).
    """

    __doc__ += _SCALAR_DOC.format(op="-", first=", or ``1 - x`` with ``scalar_first: true``")
    n_inputs = (1, 2)
    input_names = ("input", "other")
    args = (_SCALAR, _SCALAR_FIRST)
    flops = "numel(y)"

    def forward(self, a, xs):
        xs = _operands(a, xs, self.type, 2)
        _no_bool(xs, "subtraction", "use Mul or Add on bool masks, or a float dtype")
        shape = shapes.broadcast([x.shape for x in xs])
        return Out(shape, dtype=promote(xs), flops=numel(shape))


@register
class Div(_Elementwise):
    """Divides its first input by its second element by element, with broadcasting
    (``from: [a, b]``), as ``a / b`` (true division).

    Args: scalar (default null: see below), scalar_first (default false).
    Input shapes: two shapes that broadcast together (any dtypes).
    Output shape: the broadcast shape. Dtype: PyTorch's type promotion, and
    float32 when both are integer or bool (true division).
    Params: none. MACs: 0. FLOPs: numel(y).
    """

    __doc__ += _SCALAR_DOC.format(op="/", first=", or ``2 / x`` with ``scalar_first: true``")
    n_inputs = (1, 2)
    input_names = ("input", "other")
    args = (_SCALAR, _SCALAR_FIRST)
    flops = "numel(y)"

    def forward(self, a, xs):
        xs = _operands(a, xs, self.type, 2)
        shape = shapes.broadcast([x.shape for x in xs])
        dtype = promote(xs)
        return Out(shape, dtype=dtype if dtype in FLOAT_DTYPES else "float32", flops=numel(shape))


@register
class Abs(_Elementwise):
    """The absolute value of each element, as ``torch.abs``.

    Input shape: any (any dtype but bool). Output shape: the same.
    Params: none. MACs: 0. FLOPs: numel(y).
    """

    flops = "numel(y)"

    def forward(self, a, xs):
        _no_bool(xs, "abs", "use a numeric dtype")
        return Out(xs[0].shape, flops=xs[0].numel)


@register
class Neg(_Elementwise):
    """The negation of each element, as ``-x`` (``torch.neg``).

    Input shape: any (any dtype but bool). Output shape: the same.
    Params: none. MACs: 0. FLOPs: numel(y).
    """

    flops = "numel(y)"

    def forward(self, a, xs):
        _no_bool(xs, "negation", "use a numeric dtype (or logical_not for masks, outside layercalc)")
        return Out(xs[0].shape, flops=xs[0].numel)


# --- reductions and products -------------------------------------------------------


@register
class Mean(_Structure):
    """The mean over one or several dimensions, as ``torch.mean(x, dim, keepdim)``.

    Args: dim (an int or a list of ints, negative counting from the end; null,
    the default, averages every dimension; as in PyTorch an empty list does too),
    keepdim (default false: the reduced dimensions are removed; true: kept with size 1).
    Input shape: any, floating point.
    Output shape: the input's without (or with size 1 in) the reduced dimensions.
    Params: none. MACs: 0.
    FLOPs: numel(x) + numel(y): the sums count one add per element reduced, as
    every reduction of layercalc does, then one divide per output element.
    Example: dim [2, 3] (global average pooling): [8, 512, 7, 7] -> [8, 512],
    200,704 + 4,096 = 204,800 FLOPs.
    """

    args = (
        Arg("dim", "ints", None, doc="the dimension(s) to average; null: all"),
        Arg("keepdim", "bool", False, doc="keep the reduced dimensions with size 1"),
    )
    flops = "numel(x) + numel(y)"

    def forward(self, a, xs):
        x = xs[0]
        dims = (a.dim,) if isinstance(a.dim, int) else a.dim
        if not dims:  # null, or torch's empty list: every dimension
            dims = tuple(range(x.rank))
        dims = frozenset(shapes.norm_dims(dims, x.rank))
        if a.keepdim:
            shape = tuple(1 if i in dims else s for i, s in enumerate(x.shape))
        else:
            shape = tuple(s for i, s in enumerate(x.shape) if i not in dims)
        return Out(shape, flops=x.numel + numel(shape))


@register
class MatMul(_Structure):
    """The matrix product of two inputs, as ``torch.matmul`` (``from: [a, b]``).

    Input shapes: (*, n, k) and (*, k, m), where the batch dimensions * broadcast
    together. A 1-D first input (k) is a row vector and a 1-D second input (k)
    a column vector: their dimension is removed from the result (1-D @ 1-D is a
    dot product, a 0-D output). Both inputs floating point, of the same dtype.
    Output shape: (broadcast *, n, m).
    Params: none.
    MACs: B * n * k * m, B the product of the broadcast batch dimensions (1 when none).
    FLOPs: 2 * MACs.
    Example: attention scores, [8, 12, 197, 64] @ [8, 12, 64, 197]:
    96 * 197 * 64 * 197 = 238,442,496 MACs.
    """

    n_inputs = (2, 2)
    input_names = ("input", "other")
    macs = "B * n * k * m (B: broadcast batch size)"
    flops = "2 * MACs"

    def forward(self, a, xs):
        x, y = xs
        if x.dtype != y.dtype:
            raise LayerError(f"MatMul needs two inputs of the same dtype, got {x.dtype} and {y.dtype}",
                             "give both inputs the same dtype", code="G007")
        shape, batch, n, k, m = shapes.matmul_shape(x.shape, y.shape)
        macs = batch * n * k * m
        return Out(shape, macs=macs, flops=2 * macs)


# --- resampling ----------------------------------------------------------------------

#: FLOPs per output element of Upsample, by mode; see the module docstring.
UPSAMPLE_FLOPS = {"nearest": 0, "nearest-exact": 0, "linear": 3, "bilinear": 9, "bicubic": 35, "trilinear": 21}
_MODE_RANK = {"linear": 3, "bilinear": 4, "bicubic": 4, "trilinear": 5}
_LINEAR_MODE = {3: "linear", 4: "bilinear", 5: "trilinear"}


@register
class Upsample(_Structure):
    """Resizes the spatial dimensions, as ``nn.Upsample`` (``F.interpolate``).

    Args: size (an int or one per spatial dimension) or scale_factor (a number
    or one per spatial dimension), exactly one of them; mode (nearest, the
    default, nearest-exact, linear, bilinear, bicubic, trilinear);
    align_corners (null; only for the interpolating modes); recompute_scale_factor
    (null; not with size).
    Input shape: (N, C, L) for linear, (N, C, H, W) for bilinear and bicubic,
    (N, C, D, H, W) for trilinear, any of these for nearest and nearest-exact
    (no unbatched form, as in PyTorch); floating point; C and the spatial sizes
    at least 1.
    Output shape: (N, C, *out), out = size, or floor(S * scale_factor) per
    spatial dimension (at least 1).
    Params: none. MACs: 0.
    FLOPs per output element: nearest 0, nearest-exact 0, linear 3, bilinear 9,
    bicubic 35, trilinear 21 (see the family's table).
    Example: scale_factor 2, mode bilinear: [1, 64, 28, 28] -> [1, 64, 56, 56],
    9 * 200,704 = 1,806,336 FLOPs.
    """

    args = (
        Arg("size", "ints", None, min=1, doc="output spatial size: an int or one per spatial dimension"),
        Arg("scale_factor", "floats", None, doc="multiplier of the spatial size: a number or one per dimension"),
        Arg("mode", "str", "nearest", choices=tuple(UPSAMPLE_FLOPS), doc="interpolation algorithm"),
        Arg("align_corners", "bool", None, doc="align the corner pixels (interpolating modes only)"),
        Arg("recompute_scale_factor", "bool", None, doc="recompute the scale from the output size"),
    )
    flops = "numel(y) * {nearest: 0, nearest-exact: 0, linear: 3, bilinear: 9, bicubic: 35, trilinear: 21}[mode]"

    def forward(self, a, xs):
        x = xs[0]
        mode = a.mode
        if a.align_corners is not None and mode not in _MODE_RANK:
            raise LayerError(f"align_corners is set, but mode={mode} does not interpolate",
                             "remove align_corners, or use mode linear, bilinear, bicubic or trilinear",
                             arg="align_corners", code="S006")
        if x.rank not in (3, 4, 5):
            raise LayerError(f"Upsample expects a 3-D (N, C, L), 4-D (N, C, H, W) or 5-D (N, C, D, H, W) input, got "
                             f"a {x.rank}-D input of shape {list(x.shape)}",
                             "add the batch (and channel) dimensions, e.g. with Unflatten or Reshape")
        want = _MODE_RANK.get(mode)
        if want is not None and x.rank != want:
            raise LayerError(f"mode={mode} needs a {want}-D input {shapes.layout(want - 2)}, got a {x.rank}-D input "
                             f"of shape {list(x.shape)}",
                             f"use mode {_LINEAR_MODE[x.rank]} (or nearest) for a {x.rank}-D input", arg="mode")
        n = x.rank - 2
        spatial = x.shape[2:]
        if (a.size is None) == (a.scale_factor is None):
            both = a.size is not None
            got = "both" if both else "neither"
            raise LayerError(f"Upsample takes exactly one of size and scale_factor, got {got}",
                             "give either the output size or the scale factor",
                             arg="scale_factor" if both else None, code="S006" if both else "S002")
        if a.size is not None:
            if a.recompute_scale_factor:
                raise LayerError("recompute_scale_factor=true is not meaningful with an explicit size",
                                 "remove recompute_scale_factor, or use scale_factor", arg="recompute_scale_factor",
                                 code="S006")
            out = (a.size,) * n if isinstance(a.size, int) else tuple(a.size)
            if len(out) != n:
                raise LayerError(f"size={list(out)} has {len(out)} values for an input with {n} spatial dimension(s) "
                                 f"{list(spatial)}", f"give {n} sizes, or one int", arg="size")
        else:
            scale = (a.scale_factor,) * n if isinstance(a.scale_factor, float) else tuple(a.scale_factor)
            if len(scale) != n:
                raise LayerError(f"scale_factor={list(scale)} has {len(scale)} values for an input with {n} spatial "
                                 f"dimension(s) {list(spatial)}", f"give {n} factors, or one number",
                                 arg="scale_factor")
            if min(scale) <= 0:
                raise LayerError(f"scale_factor={list(scale)} must be positive", "use factors > 0",
                                 arg="scale_factor", code="S006")
            out = tuple(shapes.interpolate_out(s, f) for s, f in zip(spatial, scale))
        if x.shape[1] < 1 or any(v < 1 for v in spatial):
            raise LayerError(f"Upsample needs non-empty channel and spatial dimensions, got an input of shape "
                             f"{list(x.shape)}", "give every channel and spatial dimension a size >= 1")
        if any(v < 1 for v in out):
            raise LayerError(f"the output size would be {list(out)} for an input of {list(spatial)}: every output "
                             f"size must be at least 1", "use a larger scale_factor", arg="scale_factor")
        shape = x.shape[:2] + out
        return Out(shape, flops=UPSAMPLE_FLOPS[mode] * numel(shape))


# --- padding -----------------------------------------------------------------------

_PADDING = Arg("padding", "ints", doc="an int for every side, or (left, right[, top, bottom[, front, back]])")
_SIDES = {1: "(left, right)", 2: "(left, right, top, bottom)", 3: "(left, right, top, bottom, front, back)"}


class _PadNd(_Movement):
    """The padding modules: ``rank`` trailing dimensions padded by ``padding``."""

    rank: ClassVar[int] = 0
    args = (_PADDING,)

    def n_padded(self, a) -> int:
        """How many trailing dimensions are padded: ``rank`` for an int; for a list, as ``F.pad`` reads it,
        one dimension per two values, whatever the module's name (ZeroPad2d([1, 1]) pads the last only)."""
        if isinstance(a.padding, int):
            return self.rank
        if len(a.padding) % 2:
            raise LayerError(f"padding has {len(a.padding)} values, expected an even number (two per padded "
                             "dimension, starting with the last) or a single int",
                             "give two values per padded dimension", arg="padding", code="S006")
        return len(a.padding) // 2

    def padded(self, x: T, a, length_fn, n: int | None = None) -> Out:
        """Pad the last ``n`` dimensions of ``x`` with ``length_fn(length, before, after, where)``."""
        n = self.n_padded(a) if n is None else n
        pairs = shapes.pad_pairs(a.padding, n) if n else ()
        first = x.rank - n
        out = tuple(length_fn(x.shape[first + i], before, after, f"dimension {first + i} of the input {list(x.shape)}")
                    for i, (before, after) in enumerate(pairs))
        return Out(x.shape[:first] + out)

    def edge_rank(self, x: T, a, nonempty: bool = True) -> int:
        """Non-constant padding (reflect, replicate, circular) as ``F.pad`` takes it: 1 to 3 padded
        dimensions, of a (C, *spatial) or (N, C, *spatial) input (every size but N at least 1 if ``nonempty``)."""
        n = self.n_padded(a)
        if n == self.rank:
            if nonempty:
                shapes.channels_first(x.shape, n, self.type)
            return n
        if not 1 <= n <= 3 or x.rank not in (n + 1, n + 2):
            raise LayerError(f"{self.type} with {2 * n} padding values pads {n} dimension(s), which PyTorch "
                             f"supports for a {n + 1}-D or {n + 2}-D input only (1 to 3 padded dimensions), "
                             f"got a {x.rank}-D input of shape {list(x.shape)}",
                             f"give {2 * (x.rank - 1)} or {2 * (x.rank - 2)} padding values" if 2 <= x.rank <= 5
                             else "check the previous layer's output shape (`layercalc shape`)", arg="padding")
        if nonempty:
            shapes.channels_first(x.shape, n, self.type)
        return n


class _ConstantPadNd(_PadNd):
    args = (_PADDING, Arg("value", "float", doc="the fill value"))

    def forward(self, a, xs):
        x = xs[0]
        n = self.n_padded(a)
        if x.rank < n:
            raise LayerError(f"{self.type} pads the last {n} dimension(s), so it needs an input of at least "
                             f"{n} dimension(s), got a {x.rank}-D input of shape {list(x.shape)}",
                             f"use ConstantPad{x.rank}d, or add dimensions" if 1 <= x.rank <= 3 else
                             "check the previous layer's output shape (`layercalc shape`)")
        return self.padded(x, a, shapes.constant_pad_len, n)


class _ZeroPadNd(_ConstantPadNd):
    args = (_PADDING,)


class _EdgePadNd(_PadNd):
    """Reflection and replication padding: (C, *spatial) or (N, C, *spatial), non-empty but for N."""

    reflect: ClassVar[bool] = False

    def forward(self, a, xs):
        x = xs[0]
        n = self.edge_rank(x, a)
        return self.padded(x, a, lambda k, b, e, where: shapes.reflect_pad_len(k, b, e, where, self.reflect), n)


class _ReflectionPadNd(_EdgePadNd):
    reflect = True


class _ReplicationPadNd(_EdgePadNd):
    reflect = False


class _CircularPadNd(_PadNd):
    def forward(self, a, xs):
        x = xs[0]
        if x.rank not in (self.rank + 1, self.rank + 2):
            raise LayerError(f"{self.type} expects a {self.rank + 1}-D {shapes.layout(self.rank, False)} or "
                             f"{self.rank + 2}-D {shapes.layout(self.rank)} input, got a {x.rank}-D input of shape "
                             f"{list(x.shape)}", f"use CircularPad{x.rank - 2}d" if 3 <= x.rank <= 5 else
                             "check the previous layer's output shape (`layercalc shape`)")
        return self.padded(x, a, shapes.circular_pad_len, self.edge_rank(x, a, nonempty=False))


def _pad_doc(rank: int, kind: str) -> str:
    """The shared part of the padding types' documentation."""
    sides = _SIDES[rank]
    if kind == "constant":
        args = (f"padding (an int for every side, or the list {sides},\n    starting with the last dimension), "
                "value (the fill value, required as in PyTorch).")
    else:
        args = f"padding (an int for every side, or the list {sides},\n    starting with the last dimension)" + (
            "; the fill value is 0." if kind == "zero" else ".")
    if kind in ("constant", "zero"):
        names = ", ".join(shapes.SPATIAL_NAMES[rank])
        shape = f"Input shape: (*, {names}), at least {rank}-D, any dtype: the last {rank} dimension(s) are padded."
        rule = "Negative padding crops, by at most the whole dimension."
    else:
        shape = f"Input shape: {shapes.layout(rank, False)} or {shapes.layout(rank)}, any dtype" + (
            "." if kind == "circular" else "; every dimension but N at least 1.")
        rule = {"reflect": "Each pad must be smaller than the dimension it pads\n    (a reflection does "
                           "not repeat the edge); negative padding crops; every output size is at least 1.",
                "replicate": "Negative padding crops; every output size is at least 1.",
                "circular": "Each pad is at most the dimension it pads (the input\n    wraps around once at "
                            "most); negative padding crops, and a positive pad on the other side\n    may wrap "
                            "only what the crop keeps (PyTorch would copy overlapping memory)."}[kind]
    return f"""

    Args: {args}
    {shape}
    Output shape: each padded dimension grows by its two pads. {rule}
    Params: none. MACs: 0. FLOPs: 0 (data movement).
"""


@register
class ZeroPad1d(_ZeroPadNd):
    """Pads the last dimension with zeros, as ``nn.ZeroPad1d``."""

    __doc__ += _pad_doc(1, "zero")
    rank = 1


@register
class ZeroPad2d(_ZeroPadNd):
    """Pads the last 2 dimensions with zeros, as ``nn.ZeroPad2d``."""

    __doc__ += _pad_doc(2, "zero")
    rank = 2


@register
class ZeroPad3d(_ZeroPadNd):
    """Pads the last 3 dimensions with zeros, as ``nn.ZeroPad3d``."""

    __doc__ += _pad_doc(3, "zero")
    rank = 3


@register
class ConstantPad1d(_ConstantPadNd):
    """Pads the last dimension with a constant, as ``nn.ConstantPad1d``."""

    __doc__ += _pad_doc(1, "constant")
    rank = 1


@register
class ConstantPad2d(_ConstantPadNd):
    """Pads the last 2 dimensions with a constant, as ``nn.ConstantPad2d``."""

    __doc__ += _pad_doc(2, "constant")
    rank = 2


@register
class ConstantPad3d(_ConstantPadNd):
    """Pads the last 3 dimensions with a constant, as ``nn.ConstantPad3d``."""

    __doc__ += _pad_doc(3, "constant")
    rank = 3


@register
class ReflectionPad1d(_ReflectionPadNd):
    """Pads the last dimension with the reflection of the input, as ``nn.ReflectionPad1d`` (an extension
    of spec format v1)."""

    __doc__ += _pad_doc(1, "reflect")
    rank = 1


@register
class ReflectionPad2d(_ReflectionPadNd):
    """Pads the last 2 dimensions with the reflection of the input, as ``nn.ReflectionPad2d`` (an extension
    of spec format v1)."""

    __doc__ += _pad_doc(2, "reflect")
    rank = 2


@register
class ReflectionPad3d(_ReflectionPadNd):
    """Pads the last 3 dimensions with the reflection of the input, as ``nn.ReflectionPad3d`` (an extension
    of spec format v1)."""

    __doc__ += _pad_doc(3, "reflect")
    rank = 3


@register
class ReplicationPad1d(_ReplicationPadNd):
    """Pads the last dimension by repeating the edge values, as ``nn.ReplicationPad1d`` (an extension of
    spec format v1)."""

    __doc__ += _pad_doc(1, "replicate")
    rank = 1


@register
class ReplicationPad2d(_ReplicationPadNd):
    """Pads the last 2 dimensions by repeating the edge values, as ``nn.ReplicationPad2d`` (an extension
    of spec format v1)."""

    __doc__ += _pad_doc(2, "replicate")
    rank = 2


@register
class ReplicationPad3d(_ReplicationPadNd):
    """Pads the last 3 dimensions by repeating the edge values, as ``nn.ReplicationPad3d`` (an extension
    of spec format v1)."""

    __doc__ += _pad_doc(3, "replicate")
    rank = 3


@register
class CircularPad1d(_CircularPadNd):
    """Pads the last dimension by wrapping the input around, as ``nn.CircularPad1d`` (an extension of
    spec format v1)."""

    __doc__ += _pad_doc(1, "circular")
    rank = 1


@register
class CircularPad2d(_CircularPadNd):
    """Pads the last 2 dimensions by wrapping the input around, as ``nn.CircularPad2d`` (an extension of
    spec format v1)."""

    __doc__ += _pad_doc(2, "circular")
    rank = 2


@register
class CircularPad3d(_CircularPadNd):
    """Pads the last 3 dimensions by wrapping the input around, as ``nn.CircularPad3d`` (an extension of
    spec format v1)."""

    __doc__ += _pad_doc(3, "circular")
    rank = 3


# --- shuffles ------------------------------------------------------------------------


@register
class PixelShuffle(_Movement):
    """Moves channels into space, as ``nn.PixelShuffle``: (*, C * r^2, H, W) -> (*, C, H * r, W * r).

    Args: upscale_factor r (at least 1).
    Input shape: at least 3-D, (*, C_in, H, W), any dtype; C_in must be divisible by r^2.
    Output shape: (*, C_in / r^2, H * r, W * r).
    Params: none. MACs: 0. FLOPs: 0 (data movement).
    Example: r 2: [1, 256, 32, 32] -> [1, 64, 64, 64].
    """

    args = (Arg("upscale_factor", "int", min=1, doc="the factor r of the spatial size"),)

    def forward(self, a, xs):
        x = xs[0]
        need_min_rank(x, 3, "PixelShuffle", "(*, C * r^2, H, W)")
        r = a.upscale_factor
        c, h, w = x.shape[-3:]
        if c % (r * r):
            raise LayerError(f"the input has {c} channels (dimension -3 of {list(x.shape)}), which is not divisible "
                             f"by upscale_factor^2 = {r * r}", f"give the previous layer a multiple of {r * r} "
                             f"channels, or change upscale_factor", arg="upscale_factor", code="G004")
        return Out(x.shape[:-3] + (c // (r * r), h * r, w * r))


@register
class PixelUnshuffle(_Movement):
    """Moves space into channels, as ``nn.PixelUnshuffle``: (*, C, H * r, W * r) -> (*, C * r^2, H, W)
    (an extension of spec format v1).

    Args: downscale_factor r (at least 1).
    Input shape: at least 3-D, (*, C, H_in, W_in), any dtype; H_in and W_in must be divisible by r.
    Output shape: (*, C * r^2, H_in / r, W_in / r); an empty input (a size 0) is
    returned unchanged, as PyTorch does.
    Params: none. MACs: 0. FLOPs: 0 (data movement).
    """

    args = (Arg("downscale_factor", "int", min=1, doc="the factor r the spatial size is divided by"),)

    def forward(self, a, xs):
        x = xs[0]
        need_min_rank(x, 3, "PixelUnshuffle", "(*, C, H * r, W * r)")
        r = a.downscale_factor
        c, h, w = x.shape[-3:]
        if h % r or w % r:
            raise LayerError(f"the spatial size {h} x {w} (input {list(x.shape)}) is not divisible by "
                             f"downscale_factor={r}", f"give the previous layer a height and width that are "
                             f"multiples of {r}, or change downscale_factor", arg="downscale_factor", code="G004")
        if not x.numel:  # PyTorch returns an empty input unchanged
            return Out(x.shape)
        return Out(x.shape[:-3] + (c * r * r, h // r, w // r))


@register
class ChannelShuffle(_Movement):
    """Interleaves the channels of ``groups`` groups, as ``nn.ChannelShuffle`` (ShuffleNet).

    Args: groups (at least 1).
    Input shape: at least 3-D, (N, C, *), any dtype; the channels are dimension 1,
    as in PyTorch's kernel, and C must be divisible by groups.
    Output shape: the same.
    Params: none. MACs: 0. FLOPs: 0 (data movement).
    """

    args = (Arg("groups", "int", min=1, doc="number of channel groups"),)

    def forward(self, a, xs):
        x = xs[0]
        need_min_rank(x, 3, "ChannelShuffle", "(N, C, *)")
        c = x.shape[1]
        if c % a.groups:
            raise LayerError(f"the input has {c} channels (dimension 1 of {list(x.shape)}), which is not divisible "
                             f"by groups={a.groups}", f"use a groups that divides {c}", arg="groups", code="G004")
        return Out(x.shape)
