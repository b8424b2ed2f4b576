"""Shared shape arithmetic: the one place where sliding-window lengths,
padding modes, broadcasting and dimension normalization are computed.

Every formula here is PyTorch's, as documented on the corresponding module
(``Conv2d``, ``MaxPool2d``, ``ConvTranspose2d``, ``AdaptiveAvgPool2d``...).
"""

from __future__ import annotations

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


def adaptive_windows(length: int, out: int) -> list[tuple[int, int]]:
    """The [start, end) windows of adaptive pooling: start = floor(i*L/out), end = ceil((i+1)*L/out)."""
    return [((i * length) // out, -(-((i + 1) * length) // out)) for i in range(out)]


def adaptive_window_sum(length: int, out: int) -> int:
    """Sum of the adaptive window sizes along one dimension (elements visited)."""
    return sum(e - s for s, e in adaptive_windows(length, out))


def broadcast(shapes: list[tuple[int, ...]]) -> tuple[int, ...]:
    """NumPy/PyTorch broadcasting of several shapes; raise LayerError when they do not broadcast."""
    rank = max(len(s) for s in shapes)
    out = []
    for i in range(rank):
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
