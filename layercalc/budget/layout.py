"""Tensor layouts: the strides of each value, as torch gives them, and the copies they cause.

A layout is a tuple of strides in elements, one per dimension. A spec's inputs, and the output of
every layer not listed here, are contiguous (row-major). The rules, each as torch behaves:

- **Views** (``Transpose``, ``Permute``, ``Select``, ``Slice``, ``Expand``, ``Identity``) give their
  input's storage new strides: transposition and permutation reorder them, ``Select`` drops one,
  ``Slice`` multiplies one by its step, ``Expand`` gives each expanded dimension stride 0.
- **Dropouts** with p = 0 (``Dropout`` and its variants, ``StochasticDepth``) hand back their input
  itself, in train mode too.
- **Reshapes** (``Flatten``, ``Unflatten``, ``Reshape``) are ``Tensor.reshape``: a view when torch's
  ``computeStride`` finds strides for the new shape (each group of merged dimensions has
  stride[i] == stride[i + 1] x size[i + 1]), otherwise a contiguous copy, a new storage.
- **Element-wise** layers (``ReLU``, ``GELU``, ``Add``..., run by TensorIterator) write a contiguous
  output when every input is contiguous; otherwise a dense one (a permutation of a contiguous layout)
  with its dimensions in the order of the inputs' strides (``reorder_dimensions``): a transposed input
  keeps its layout, a ``Slice`` or an ``Expand`` gives a contiguous output. Other layers (``Softmax``,
  ``LayerNorm``, ``Linear``, convolutions...) write a contiguous output.
- **Linear** (``F.linear``) on a 2-D input, or a contiguous one, is one ``addmm`` on a view. On a
  non-contiguous input of 3 or more dimensions it is ``matmul``: the input is folded to
  (-1, in_features) by ``reshape``, a contiguous copy when its leading dimensions cannot be merged
  (a ``Transpose`` of the last dimension), then ``mm`` and the bias added in place (``add_``). With
  trainable weights that copy is what backward keeps, and at inference it lives beside the output while
  ``mm`` runs. (``matmul`` folds whenever the weight requires grad: ``should_fold``.)

``LayerNorm``, ``Softmax`` and the convolutions also read a non-contiguous input through a contiguous
copy, made inside the kernel below the dispatcher: not counted (docs/memory.md, "Layouts").
"""

from __future__ import annotations

from math import prod

Strides = tuple

#: Layers whose output is a view of their first input with new strides.
STRIDED_VIEWS = frozenset({"Identity", "Transpose", "Permute", "Select", "Slice", "Expand"})
#: Layers that hand back their input itself with p = 0, and in eval mode always (``F.dropout``).
IDENTITY_AT_INFERENCE = frozenset({"Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout",
                                   "FeatureAlphaDropout", "StochasticDepth"})
#: Layers that are ``Tensor.reshape``: a view when the strides allow it, a contiguous copy otherwise.
RESHAPES = frozenset({"Flatten", "Unflatten", "Reshape"})
#: Element-wise layers run by TensorIterator: their output follows their inputs' layout.
ELEMENTWISE = frozenset({
    "ReLU", "ReLU6", "GELU", "SiLU", "Sigmoid", "Tanh", "ELU", "CELU", "SELU", "LeakyReLU", "Hardtanh", "Hardswish",
    "Hardsigmoid", "Hardshrink", "Softshrink", "Mish", "Softplus", "Threshold", "Abs", "Neg",
    "Add", "Sub", "Mul", "Div", "Dropout", "AlphaDropout"})


def contiguous(shape) -> Strides:
    """Row-major strides of ``shape``."""
    strides, step = [], 1
    for s in reversed(shape):
        strides.append(step)
        step *= max(s, 1)
    return tuple(reversed(strides))


def is_contiguous(shape, strides) -> bool:
    """torch's ``is_contiguous``: dimensions of size 1 have any stride; an empty tensor is contiguous."""
    if prod(shape) == 0:
        return True
    step = 1
    for s, st in zip(reversed(shape), reversed(strides)):
        if s != 1:
            if st != step:
                return False
            step *= s
    return True


def is_dense(shape, strides) -> bool:
    """torch's ``is_non_overlapping_and_dense``: a permutation of a contiguous layout."""
    order = sorted((st, s) for s, st in zip(shape, strides) if s != 1)
    step = 1
    for st, s in order:
        if st != step:
            return False
        step *= s
    return True


def view_strides(shape, strides, new_shape):
    """The strides of ``view(new_shape)`` by torch's ``computeStride``, or None where no view exists."""
    if not shape:
        return (1,) * len(new_shape)
    if prod(shape) == 0:
        return tuple(strides) if tuple(shape) == tuple(new_shape) else contiguous(new_shape)
    new = [0] * len(new_shape)
    view_d = len(new_shape) - 1
    chunk = strides[-1] if strides else 1
    tensor_numel, view_numel = 1, 1
    for d in range(len(shape) - 1, -1, -1):
        tensor_numel *= shape[d]
        if d == 0 or (shape[d - 1] != 1 and strides[d - 1] != tensor_numel * chunk):
            while view_d >= 0 and (view_numel < tensor_numel or new_shape[view_d] == 1):
                new[view_d] = view_numel * chunk
                view_numel *= new_shape[view_d]
                view_d -= 1
            if view_numel != tensor_numel:
                return None
            if d > 0:
                chunk = strides[d - 1]
                tensor_numel, view_numel = 1, 1
    if view_d != -1:
        return None
    return tuple(new)


def _elementwise(out_shape, ins) -> Strides:
    """TensorIterator's output: contiguous when every input is; otherwise dense, its dimensions ordered by
    the inputs' strides (``reorder_dimensions``: the first input that tells two dimensions apart decides)."""
    if all(tuple(shape) == tuple(out_shape) and is_contiguous(shape, st) for shape, st in ins):
        return contiguous(out_shape)
    rank = len(out_shape)
    operands = []
    for shape, st in ins:  # broadcast: leading and expanded dimensions get stride 0
        pad = rank - len(shape)
        operands.append([0] * pad + [0 if s == 1 and out_shape[pad + i] != 1 else x
                                     for i, (s, x) in enumerate(zip(shape, st))])

    def compare(d0, d1):  # should_swap: 1 puts d0 after d1 (slower), -1 keeps it, 0 undecided
        for st in operands:
            a, b = st[d0], st[d1]
            if a == 0 or b == 0:
                continue
            if a != b:
                return -1 if a < b else 1
            if out_shape[d0] > out_shape[d1]:
                return 1
        return 0

    perm = list(range(rank - 1, -1, -1))  # fastest first
    for i in range(1, rank):  # TensorIterator's insertion sort
        d1 = i
        for d0 in range(i - 1, -1, -1):
            c = compare(perm[d0], perm[d1])
            if c > 0:
                perm[d0], perm[d1] = perm[d1], perm[d0]
                d1 = d0
            elif c < 0:
                break
    out = [0] * rank
    step = 1
    for dim in perm:
        out[dim] = step
        step *= max(out_shape[dim], 1)
    return tuple(out)


def output_layout(row, ins) -> tuple:
    """(strides of the row's output, whether it is a view of its first input); ``ins`` is
    [(shape, strides)] of the row's inputs."""
    t, a = row.type, row.args
    out_shape = tuple(row.output_shape)
    if not ins:
        return contiguous(out_shape), False
    shape, st = ins[0]
    rank = len(shape)
    if t in IDENTITY_AT_INFERENCE and not a.get("p"):
        return st, True  # the input itself
    if t in STRIDED_VIEWS:
        st = list(st)
        if t == "Transpose":
            d0, d1 = a["dim0"] % rank, a["dim1"] % rank
            st[d0], st[d1] = st[d1], st[d0]
        elif t == "Permute":
            dims = (a["dims"],) if isinstance(a["dims"], int) else a["dims"]
            st = [st[d % rank] for d in dims]
        elif t == "Select":
            del st[a["dim"] % rank]
        elif t == "Slice":
            st[a["dim"] % rank] *= a.get("step", 1) or 1
        elif t == "Expand":
            pad = len(out_shape) - rank
            st = [0] * pad + [0 if s == 1 and out_shape[pad + i] != 1 else x for i, (s, x) in enumerate(zip(shape, st))]
        return tuple(st), True
    if t in RESHAPES:
        new = view_strides(shape, st, out_shape)
        return (new, True) if new is not None else (contiguous(out_shape), False)
    if t in ELEMENTWISE:
        return _elementwise(out_shape, ins), False
    return contiguous(out_shape), False


def linear_copy(shape, strides) -> bool:
    """Whether ``F.linear`` copies its input: one of 3 or more dimensions, not contiguous, whose leading
    dimensions ``reshape(-1, in_features)`` cannot merge into one (matmul's fold)."""
    if len(shape) < 3 or is_contiguous(shape, strides):
        return False
    return view_strides(shape, strides, (prod(shape[:-1]), shape[-1])) is None
