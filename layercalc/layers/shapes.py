"""Shared shape arithmetic: the one place where sliding-window lengths,
padding modes, broadcasting and dimension normalization are computed.

Every formula here is PyTorch's, as documented on the corresponding module
(``Conv2d``, ``MaxPool2d``, ``ConvTranspose2d``, ``AdaptiveAvgPool2d``...).
"""

from __future__ import annotations

from math import floor, prod

from ..errors import LayerError


def conv_out(length: int, kernel: int, stride: int = 1, padding: int = 0, dilation: int = 1) -> int:
    """Output length of a convolution or a floor-mode pooling window.

    L_out = floor((L_in + 2*padding - dilation*(kernel - 1) - 1) / stride) + 1
    """
    return (length + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


def pool_out(length: int, kernel: int, stride: int, padding: int, dilation: int = 1, ceil_mode: bool = False) -> int:
    """Output length of a max/avg pooling window.

    floor mode: as :func:`conv_out`. ceil mode: ceil instead of floor, and the
    last window is dropped when it would start in the right padding, i.e. when
    ``(L_out - 1) * stride >= L_in + padding`` (PyTorch's ``pooling_output_shape``).
    """
    num = length + 2 * padding - dilation * (kernel - 1) - 1
    if ceil_mode:
        out = -(-num // stride) + 1
        if (out - 1) * stride >= length + padding:
            out -= 1
        return out
    return num // stride + 1


def conv_transpose_out(length: int, kernel: int, stride: int = 1, padding: int = 0, output_padding: int = 0,
                       dilation: int = 1) -> int:
    """L_out = (L_in - 1)*stride - 2*padding + dilation*(kernel - 1) + output_padding + 1"""
    return (length - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1


def same_padding(kernel: int, dilation: int = 1) -> tuple[int, int]:
    """``padding='same'`` (stride 1): total = dilation*(kernel-1), left = total // 2, right = the rest."""
    total = dilation * (kernel - 1)
    return total // 2, total - total // 2


def adaptive_window_sum(length: int, out: int) -> int:
    """Sum of the adaptive window sizes along one dimension (elements visited), in closed form.

    sum_i (ceil((i+1)L/O) - floor(iL/O)) = L + O - gcd(L, O): the ceilings exceed the floors
    of the same multiples except where O divides jL, which happens gcd(L, O) times for j = 1..O.
    (5 into 3 windows: [0,2) [1,4) [3,5) = 2 + 3 + 2 = 7 = 5 + 3 - 1.)
    """
    from math import gcd

    return length + out - gcd(out, length % out)  # gcd(L, O) = gcd(O, L mod O): exact for a symbolic L too


def window_partition(b: int, h: int, w: int, window, shift) -> tuple[int, int, bool]:
    """Swin's windows over a (B, H, W, C) map, as torchvision's ``shifted_window_attention`` cuts them.

    H and W are padded at the end to whole Wh x Ww windows, Hp = ceil(H / Wh) * Wh (Wp alike); there
    are T = B * (Hp / Wh) * (Wp / Ww) windows of N = Wh * Ww tokens (T * N padded rows in all); an axis
    is shifted only when its window does not cover the padded axis. Returns (T, N, shifted).
    """
    (wh, ww), (sh, sw) = tuple(window), tuple(shift)
    across, down = -(-h // wh), -(-w // ww)  # windows per axis: ceil(H / Wh), ceil(W / Ww)
    shifted = (sh if across > 1 else 0) + (sw if down > 1 else 0) > 0
    return b * across * down, wh * ww, shifted


def small_divisors(n: int, limit: int = 64) -> list[int]:
    """The divisors of ``n`` up to ``limit``, for did-you-mean hints (bounded work for any n)."""
    return [d for d in range(1, min(n, limit) + 1) if n % d == 0]


def _same_size(a, b) -> bool:
    """The same size for every value of the dims: equal ints, or symbolic sizes with one polynomial."""
    return a is b or (int(a) == int(b) and getattr(a, "poly", None) == getattr(b, "poly", None))


def broadcast(shapes: list[tuple[int, ...]]) -> tuple[int, ...]:
    """NumPy/PyTorch broadcasting of several shapes; raise LayerError when they do not broadcast."""
    rank = max(len(s) for s in shapes)
    out = []
    for i in range(rank):
        # the sizes other than a literal 1: when they are all the same size, that is the result whether
        # or not it is 1 (no comparison with 1, which a symbolic size would record as a condition on its dims)
        present = [d for s in shapes if i - rank + len(s) >= 0
                   for d in (s[i - rank + len(s)],) if not (getattr(d, "poly", None) is None and d == 1)]
        if not present or all(_same_size(d, present[0]) for d in present):
            out.append(present[0] if present else 1)
            continue
        size = 1
        for s in shapes:
            d = s[i - rank + len(s)] if i - rank + len(s) >= 0 else 1
            if d != 1:
                if size not in (1, d):
                    listed = ", ".join(str(list(s)) for s in shapes)
                    raise LayerError(f"the input shapes {listed} do not broadcast (dimension {i - rank} is {size} "
                                     f"in one and {d} in another)",
                                     "make the sizes equal, or 1 where one should be repeated")
                size = d
        out.append(size)
    return tuple(out)


def norm_dim(dim: int, rank: int, arg: str = "dim") -> int:
    """A dimension index in [-rank, rank) made non-negative."""
    if not -rank <= dim < rank:
        raise LayerError(f"{arg}={dim} is out of range for a {rank}-D input (expected {-rank} to {rank - 1})",
                         f"use a {arg} between {-rank} and {rank - 1}", arg=arg)
    return dim % rank


# --- sliding windows: convolution and pooling -------------------------------------

#: The names PyTorch's documentation gives the spatial dimensions, by rank.
SPATIAL_NAMES = {1: ("L",), 2: ("H", "W"), 3: ("D", "H", "W")}


def layout(rank: int, batched: bool = True) -> str:
    """The layout of a channels-first input, e.g. ``(N, C, H, W)`` or, unbatched, ``(C, H, W)``."""
    dims = (("N",) if batched else ()) + ("C",) + SPATIAL_NAMES[rank]
    return "(" + ", ".join(dims) + ")"


def channels_first(shape: tuple[int, ...], rank: int, layer: str):
    """Split a batched ``(N, C, *spatial)`` or unbatched ``(C, *spatial)`` shape with ``rank`` spatial dimensions.

    Returns ``(lead, channels, spatial)`` where ``lead`` is ``(N,)`` or ``()``.
    The channel and spatial sizes must be at least 1 (the batch may be 0, as in PyTorch).
    ``layer`` is the type name (``Conv2d``); a wrong rank suggests its sibling type.
    """
    if len(shape) not in (rank + 1, rank + 2):
        fix = "check the previous layer's output shape (`layercalc shape`)"
        if layer.endswith(f"{rank}d") and 1 <= len(shape) - 2 <= 3:
            fix = f"for a {len(shape)}-D input {layout(len(shape) - 2)} use {layer[:-2]}{len(shape) - 2}d, or {fix}"
        raise LayerError(f"{layer} expects a {rank + 1}-D {layout(rank, False)} or {rank + 2}-D {layout(rank)} input, "
                         f"got a {len(shape)}-D input of shape {list(shape)}", fix)
    lead = tuple(shape[:-rank - 1])
    channels, spatial = shape[-rank - 1], tuple(shape[-rank:])
    if channels < 1 or any(v < 1 for v in spatial):
        raise LayerError(f"{layer} needs non-empty channel and spatial dimensions {layout(rank, False)}, "
                         f"got an input of shape {list(shape)}", "give every channel and spatial dimension a size >= 1")
    return lead, channels, spatial


def effective_kernel(kernel: int, dilation: int = 1) -> int:
    """The extent of a dilated window: dilation*(kernel - 1) + 1."""
    return dilation * (kernel - 1) + 1


def conv_out_lr(length: int, kernel: int, stride: int = 1, left: int = 0, right: int = 0, dilation: int = 1) -> int:
    """Output length of a convolution padded by ``left`` and ``right`` (they differ for ``padding='same'``
    with an even window extent): floor((L_in + left + right - dilation*(kernel - 1) - 1) / stride) + 1.
    ``conv_out(L, k, s, p, d) == conv_out_lr(L, k, s, p, p, d)``."""
    return (length + left + right - dilation * (kernel - 1) - 1) // stride + 1


def adaptive_out(output_size: tuple[int | None, ...], spatial: tuple[int, ...]) -> tuple[int, ...]:
    """Adaptive pooling's output sizes: an entry ``None`` keeps that input size (PyTorch's ``_list_with_default``)."""
    return tuple(length if size is None else size for size, length in zip(output_size, spatial))


# --- dimensions, reshapes, products and padding (the structure family) -----------


def wrap_dim(dim: int, rank: int, arg: str = "dim") -> int:
    """As :func:`norm_dim`, but a 0-D tensor takes ``dim`` 0 or -1 as if it were 1-D (PyTorch's
    ``maybe_wrap_dim`` for ``flatten``, ``transpose``, ``mean``...)."""
    return norm_dim(dim, max(rank, 1), arg)


def norm_dims(dims, rank: int, arg: str = "dim") -> tuple[int, ...]:
    """Several dimension indices made non-negative (0-D tensors wrapped as by :func:`wrap_dim`);
    naming one dimension twice is an error, as in PyTorch."""
    out: list[int] = []
    seen: set[int] = set()
    for dim in dims:
        d = wrap_dim(dim, rank, arg)
        if d in seen:
            raise LayerError(f"{arg}={list(dims)} names dimension {d} more than once",
                             "list each dimension once", arg=arg, code="S006")
        seen.add(d)
        out.append(d)
    return tuple(out)


def infer_size(sizes, numel: int, arg: str, what: str) -> tuple[int, ...]:
    """Sizes with at most one -1, which is inferred so that their product is ``numel`` (PyTorch's
    ``infer_size``). ``what`` describes the tensor or dimension being reshaped, e.g.
    ``'[2, 3] (6 elements)'``; the error reads ``cannot reshape {what} into {sizes}``."""
    sizes = tuple(sizes)
    holes = [i for i, s in enumerate(sizes) if s == -1]
    known = prod(s for s in sizes if s != -1)
    if len(holes) > 1:
        raise LayerError(f"{arg}={list(sizes)} has {len(holes)} entries -1, but only one size can be inferred",
                         "write the sizes explicitly, leaving at most one -1", arg=arg, code="S006")
    fix = f"make the product of {arg} equal {numel}, with at most one -1 for a size to infer"
    if holes:
        if known == 0 or numel % known:
            why = (" (a -1 next to a 0 is ambiguous)" if known == 0 and numel == 0 else "")
            raise LayerError(f"cannot reshape {what} into {list(sizes)}{why}", fix, arg=arg)
        return sizes[:holes[0]] + (numel // known,) + sizes[holes[0] + 1:]
    if known != numel:
        raise LayerError(f"cannot reshape {what} into {list(sizes)} ({known} elements)", fix, arg=arg)
    return sizes


def slice_len(length: int, start: int, end: int | None, step: int) -> int:
    """Length of ``x[start:end:step]`` along a dimension of ``length`` (Python's slicing: negative
    indices count from the end, out-of-range indices are clamped, ``end`` None is the end)."""
    return len(range(length)[start:end:step])


def cat_shape(shapes: list[tuple[int, ...]], dim: int) -> tuple[int, ...]:
    """Output shape of ``torch.cat(tensors, dim)``.

    Every input needs the same rank (at least 1) and the same sizes except along ``dim``.
    As in PyTorch, 1-D empty tensors (shape ``[0]``) are skipped, whatever the other ranks.
    """
    for i, s in enumerate(shapes):
        if not s:
            raise LayerError(f"input {i} is 0-D (a scalar), which cannot be concatenated",
                             "concatenate tensors of at least 1 dimension (Reshape the scalar to [1])")
    kept = [(i, s) for i, s in enumerate(shapes) if s != (0,)]
    if not kept:
        return (0,)
    first, ref = kept[0]
    d = norm_dim(dim, len(ref))
    total = 0
    for i, s in kept:
        if len(s) != len(ref):
            raise LayerError(f"inputs {first} and {i} have {len(ref)} and {len(s)} dimensions ({list(ref)} and "
                             f"{list(s)}); concatenation needs the same number", "Reshape or Unflatten one of them")
        for j, (a, b) in enumerate(zip(ref, s)):
            if j != d and a != b:
                raise LayerError(f"the shapes {', '.join(str(list(t)) for t in shapes)} differ outside dim={dim}: "
                                 f"dimension {j} is {a} in input {first} and {b} in input {i}",
                                 f"make every size except dimension {d} equal, or concatenate along dimension {j}")
        total += s[d]
    return ref[:d] + (total,) + ref[d + 1:]


def expand_shape(shape: tuple[int, ...], sizes, arg: str = "shape") -> tuple[int, ...]:
    """Output shape of ``Tensor.expand(*sizes)``: -1 keeps a dimension, a size-1 dimension may take
    any size, new leading dimensions may be added (not as -1)."""
    sizes = tuple(sizes)
    lead = len(sizes) - len(shape)
    if lead < 0:
        raise LayerError(f"{arg}={list(sizes)} has {len(sizes)} sizes, fewer than the {len(shape)} dimensions "
                         f"of the input {list(shape)}", f"give at least {len(shape)} sizes (-1 keeps one)", arg=arg)
    out = []
    for i, size in enumerate(sizes):
        if i < lead:
            if size < 0:
                raise LayerError(f"{arg}={list(sizes)}: the new leading dimension {i} cannot be -1 (it has no "
                                 f"existing size to keep)", "give new leading dimensions an explicit size", arg=arg)
            out.append(size)
            continue
        have = shape[i - lead]
        if size == -1 or size == have:
            out.append(have)
        elif have == 1:
            out.append(size)
        else:
            raise LayerError(f"cannot expand {list(shape)} to {list(sizes)}: dimension {i} has size {have}, which "
                             f"is not 1, and the target is {size}",
                             f"use {have} or -1 there; only dimensions of size 1 can be expanded", arg=arg)
    return tuple(out)


def matmul_shape(a: tuple[int, ...], b: tuple[int, ...]):
    """``torch.matmul`` of shapes ``a`` and ``b``; returns ``(shape, batch, n, k, m)``.

    A 1-D first operand is a row vector (n = 1) and a 1-D second one a column vector (m = 1);
    the dimension added for them is removed from the result. The batch dimensions (all but the
    last two) broadcast; ``batch`` is the product of the broadcast batch dimensions, so the
    product costs ``batch * n * k * m`` multiply-accumulates.
    """
    if not a or not b:
        raise LayerError(f"matmul needs operands of at least 1 dimension, got shapes {list(a)} and {list(b)}",
                         "Reshape a scalar operand to [1], or use Mul for a scalar product")
    a2 = (1,) + a if len(a) == 1 else a
    b2 = b + (1,) if len(b) == 1 else b
    n, k = a2[-2:]
    k2, m = b2[-2:]
    if k != k2:
        where = "its only dimension" if len(b) == 1 else "dimension -2"
        raise LayerError(f"the shapes {list(a)} @ {list(b)} do not multiply: the first operand's last dimension is "
                         f"{k} and the second's {where} is {k2}",
                         "make the two inner dimensions equal (Transpose one operand if needed)")
    try:
        batch = broadcast([a2[:-2], b2[:-2]])
    except LayerError:
        raise LayerError(f"the batch dimensions of {list(a)} @ {list(b)} ({list(a2[:-2])} and {list(b2[:-2])}) do "
                         f"not broadcast", "make the batch sizes equal, or 1 where one should be repeated") from None
    shape = batch + ((n,) if len(a) > 1 else ()) + ((m,) if len(b) > 1 else ())
    return shape, prod(batch), n, k, m


def pad_pairs(padding, n: int, arg: str = "padding") -> tuple[tuple[int, int], ...]:
    """The ``(before, after)`` padding of each of the last ``n`` dimensions, in dimension order, from an
    int (the same everywhere) or PyTorch's flat list ``(left, right, top, bottom, front, back)``,
    which starts with the LAST dimension."""
    flat = (padding,) * (2 * n) if isinstance(padding, int) else tuple(padding)
    if len(flat) != 2 * n:
        names = ("left, right", "left, right, top, bottom", "left, right, top, bottom, front, back")[n - 1]
        raise LayerError(f"{arg} has {len(flat)} values, expected {2 * n} ({names}) or a single int",
                         f"give {2 * n} values, two per padded dimension starting with the last", arg=arg,
                         code="S006")
    return tuple((flat[2 * i], flat[2 * i + 1]) for i in reversed(range(n)))


def constant_pad_len(length: int, before: int, after: int, where: str, arg: str = "padding") -> int:
    """Padded length for constant (zero) padding; negative padding crops, by at most the whole length."""
    if length + min(before, 0) + min(after, 0) < 0:
        raise LayerError(f"padding ({before}, {after}) crops more than the {length} elements of {where}",
                         f"crop at most {length} elements in total", arg=arg)
    return length + before + after


def reflect_pad_len(length: int, before: int, after: int, where: str, reflect: bool, arg: str = "padding") -> int:
    """Padded length for reflection (``reflect``) or replication padding: a reflection cannot reach past the
    edge, so each pad must be smaller than the length; the output must keep at least 1 element."""
    if reflect and not (before < length and after < length):
        raise LayerError(f"reflection padding ({before}, {after}) is not smaller than the {length} elements of "
                         f"{where}", f"use a padding of at most {length - 1} there", arg=arg)
    out = length + before + after
    if out < 1:
        raise LayerError(f"padding ({before}, {after}) leaves {out} elements of the {length} of {where}",
                         "keep at least 1 element (crop less)", arg=arg)
    return out


def circular_pad_len(length: int, before: int, after: int, where: str, arg: str = "padding") -> int:
    """Padded length for circular padding: the input may wrap around once at most (each pad at most the
    length); negative padding crops, and then a positive pad on the other side can wrap only what the crop
    keeps. (Beyond that PyTorch's ``_pad_circular`` copies overlapping memory: it raises for a contiguous
    input and returns unspecified values otherwise.)"""
    out = length + before + after
    if before > length or after > length:
        raise LayerError(f"circular padding ({before}, {after}) wraps around the {length} elements of {where} "
                         f"more than once", f"use a padding of at most {length} there", arg=arg)
    if out < 0:
        raise LayerError(f"padding ({before}, {after}) crops more than the {length} elements of {where}",
                         f"crop at most {length} elements in total", arg=arg)
    for pad, kept in ((before, length + min(after, 0)), (after, length + min(before, 0))):
        if pad > 0 and pad > kept:
            raise LayerError(f"circular padding ({before}, {after}) of the {length} elements of {where} wraps "
                             f"{pad} elements, more than the {max(kept, 0)} that the cropping keeps",
                             "make each positive pad at most the length left after the negative one", arg=arg)
    return out


def interpolate_out(length: int, scale: float) -> int:
    """Output length of ``interpolate``/``Upsample`` with a ``scale_factor``: floor(length * scale)."""
    return floor(length * scale)


def per_dim(value, n: int) -> tuple[int, ...]:
    """A per-dimension argument (``ints``) as a tuple of ``n``: schema defaults are written as a single int."""
    return tuple(value) if isinstance(value, (tuple, list)) else (value,) * n


def dims_text(sizes) -> str:
    """Sizes as PyTorch's messages print them: ``(2 x 2)``."""
    return "(" + " x ".join(map(str, sizes)) + ")"
