"""Bytes per parameter by precision preset and optimizer state by optimizer: two tables, in one place."""

from __future__ import annotations

from math import prod
from typing import NamedTuple


class Precision(NamedTuple):
    """Bytes per element of each category under a preset."""

    weight: int  # the parameters as the model holds them
    grad: int  # their gradients
    master: int  # an extra float32 copy of the weights (mixed precision), 0 if none
    state: int  # each optimizer state tensor (torch keeps it in the parameter's dtype; mixed: float32)
    act: int  # activations
    autocast: bool  # torch.autocast: 16-bit copies of the weights of matmul-like layers are saved for backward
    doc: str


PRECISIONS: dict[str, Precision] = {
    "fp32": Precision(4, 4, 0, 4, 4, False, "float32 everywhere"),
    "bf16": Precision(2, 2, 0, 2, 2, False, "the model in bfloat16 (model.to(torch.bfloat16)), optimizer state too"),
    "fp16": Precision(2, 2, 0, 2, 2, False, "the model in float16, optimizer state too"),
    "amp-bf16": Precision(4, 4, 0, 4, 2, True, "torch.autocast(dtype=torch.bfloat16): float32 weights, gradients "
                          "and state; 16-bit activations and the 16-bit weight copies that backward keeps"),
    "amp-fp16": Precision(4, 4, 0, 4, 2, True, "torch.autocast(dtype=torch.float16), as amp-bf16"),
    "mixed-bf16": Precision(2, 2, 4, 4, 2, False, "Megatron/DeepSpeed style: bfloat16 weights and gradients, "
                            "float32 master weights and optimizer state"),
    "mixed-fp16": Precision(2, 2, 4, 4, 2, False, "as mixed-bf16 with float16"),
}


def _adafactor(shape) -> int:
    """torch.optim.Adafactor: a row and a column factor for a matrix (or stack of them), else the full variance."""
    if len(shape) >= 2:
        return prod(shape[:-1]) + prod(shape[:-2]) * shape[-1]
    return prod(shape)


class Optimizer(NamedTuple):
    per_element: int  # full-size state tensors per parameter element (momentum, exp_avg, ...)
    factored: object  # a function of the shape for factored state (Adafactor), or None
    step: bool  # a float32 0-dim `step` tensor per parameter tensor
    doc: str


#: The state torch.optim keeps after the first step(), per trainable parameter tensor.
OPTIMIZERS: dict[str, Optimizer] = {
    "sgd": Optimizer(0, None, False, "torch.optim.SGD(momentum=0): no state"),
    "sgd-momentum": Optimizer(1, None, False, "SGD(momentum>0): momentum_buffer"),
    "adam": Optimizer(2, None, True, "Adam: exp_avg, exp_avg_sq, step"),
    "adamw": Optimizer(2, None, True, "AdamW: exp_avg, exp_avg_sq, step"),
    "adam-amsgrad": Optimizer(3, None, True, "Adam(amsgrad=True): exp_avg, exp_avg_sq, max_exp_avg_sq, step"),
    "adafactor": Optimizer(0, _adafactor, True, "Adafactor: row_var and col_var for matrices, variance "
                           "for vectors, step"),
}

#: The ``step`` counter: a 0-dim float32 tensor per parameter tensor (torch's _get_scalar_dtype()).
STEP_BYTES = 4


def optimizer_bytes(name: str, shapes, state_bytes: int) -> int:
    """Bytes of optimizer state for trainable parameters of these shapes."""
    opt = OPTIMIZERS[name]
    total = 0
    for shape in shapes:
        n = prod(shape)
        total += opt.per_element * n * state_bytes
        if opt.factored is not None:
            total += opt.factored(shape) * state_bytes
        if opt.step:
            total += STEP_BYTES
    return total


#: Optimizers whose step() makes temporaries: torch's single-tensor implementation (its default for CPU
#: parameters) and its foreach one (the default for CUDA parameters). SGD updates in place.
STEP_TEMPORARIES = {"sgd": False, "sgd-momentum": False, "adam": True, "adamw": True, "adam-amsgrad": True,
                    "adafactor": True}


def step_temporaries(name: str, shapes, state_bytes: int, device: str) -> int:
    """Bytes the optimizer's step() makes and frees beside the weights, gradients and state (its peak).

    CUDA (foreach): one list over every trainable parameter (Adam's sqrt(v), Adafactor's variance
    estimates). CPU (one parameter at a time, in order): Adam's sqrt(v) and its quotient by the bias
    correction, beside the previous parameter's denominator, which lives until the next one replaces
    it; Adafactor's variance estimate, with a matrix's row and column means of the squared gradient
    and the mean of its row factor."""
    if not STEP_TEMPORARIES[name]:
        return 0
    sizes = [prod(s) for s in shapes]
    if device != "cpu":
        return sum(sizes) * state_bytes
    if name == "adafactor":
        return max((prod(s) + (_adafactor(s) + prod(s[:-2]) if len(s) >= 2 else 0) for s in shapes),
                   default=0) * state_bytes
    return max((2 * n + (sizes[i - 1] if i else 0) for i, n in enumerate(sizes)), default=0) * state_bytes


#: Bytes of a buffer that is not floating-point, whatever the precision (BatchNorm's counter is int64).
INT_BUFFERS = {"num_batches_tracked": 8, "relative_position_index": 8}

