"""The FLOPs convention for element-wise and normalization work: one table, in one place.

layercalc counts the FLOPs of a forward pass at inference (eval mode). A
product of two matrices costs 2 per MAC; everything else is counted here, per
element, with these rules:

- every add, subtract, multiply, divide, compare (max, min, clamp bound,
  select by a condition) and every transcendental function (exp, log, erf,
  tanh, pow) costs 1;
- a reduction over n values (a sum, a max) is counted as one operation per
  element reduced (n, not n - 1), so that the count is a whole multiple of the
  number of elements;
- a constant folded by a compiler (``1/sqrt(2)``, ``1/beta``) is free, and work
  done once per row, channel or group (the ``1/sqrt(var + eps)`` of a
  normalization, the log of a log-softmax's sum) is not counted;
- dropout is the identity at inference and costs nothing.

The rules import these numbers, and so does the reference executor: they are
the convention, not something measured. Changing one changes every report.
"""

from __future__ import annotations

#: FLOPs per element of the element-wise activations, by layer type (plus the
#: row GELU_tanh, for GELU with approximate='tanh'). "Per element" means per
#: element of the input, except for GLU (per output element).
ELEMENTWISE: dict[str, int] = {
    "ReLU": 1,          # max(x, 0)
    "ReLU6": 2,         # max(x, 0), then min(., 6)
    "Hardtanh": 2,      # clamp below min_val, clamp above max_val
    "Threshold": 1,     # x > threshold ? x : value (one compare-and-select)
    "LeakyReLU": 2,     # compare with 0, multiply by negative_slope
    "RReLU": 2,         # eval: a LeakyReLU with slope (lower + upper) / 2: compare, multiply
    "PReLU": 2,         # compare with 0, multiply by the channel's weight
    "ELU": 4,           # compare, exp, subtract 1, multiply by alpha
    "CELU": 5,          # divide by alpha, exp, subtract 1, multiply by alpha, compare
    "SELU": 5,          # ELU's 4 (alpha fixed), multiply by scale
    # GELU: counted as PyTorch computes it, not by a cheaper approximation: approximate='none' (the
    # default) evaluates the exact erf form, approximate='tanh' the tanh form (the row GELU_tanh).
    "GELU": 5,          # x * 0.5 * (1 + erf(x / sqrt(2))): times 1/sqrt(2), erf, add 1, times 0.5, times x
    "GELU_tanh": 9,     # 0.5x(1 + tanh(k(x + 0.044715x^3))), k = sqrt(2/pi): x^3 2, *.044715, +x, *k, tanh, +1, *.5, *x
    "Sigmoid": 4,       # 1 / (1 + exp(-x)): negate, exp, add 1, divide
    "SiLU": 5,          # x * sigmoid(x): sigmoid's 4, multiply by x
    "Mish": 5,          # x * tanh(softplus(x)): exp, add 1, log, tanh, multiply by x
    "LogSigmoid": 5,    # log(sigmoid(x)): sigmoid's 4, log
    "Tanh": 1,          # tanh
    "Hardswish": 5,     # x * relu6(x + 3) / 6: add 3, clamp (2), multiply by x, divide by 6
    "Hardsigmoid": 4,   # relu6(x + 3) / 6: add 3, clamp (2), divide by 6
    "Hardshrink": 2,    # |x| > lambd ? x : 0: abs, compare-and-select
    "Softshrink": 3,    # x > lambd ? x - lambd : x < -lambd ? x + lambd : 0: two compares, one add or subtract
    "Tanhshrink": 2,    # x - tanh(x): tanh, subtract
    "Softplus": 6,      # log(1 + exp(beta*x)) / beta (x above threshold): multiply, exp, add 1, log, divide, compare
    "Softsign": 3,      # x / (1 + |x|): abs, add 1, divide
    "Softmax": 5,       # max (reduction), subtract the max, exp, sum (reduction), divide by the sum
    "LogSoftmax": 5,    # max (reduction), subtract the max, exp, sum (reduction), subtract log(sum)
    "Softmin": 6,       # softmax(-x): negate, then Softmax's 5
    "GLU": 5,           # a * sigmoid(b), per OUTPUT element: sigmoid's 4, multiply
}

# --- normalization, per element of the input ------------------------------------

#: Normalizing with running statistics (BatchNorm in eval, InstanceNorm with
#: track_running_stats): subtract the mean, multiply by 1/sqrt(var + eps).
NORM_RUNNING_STATS = 2

#: Normalizing with statistics computed from the input (LayerNorm, GroupNorm,
#: InstanceNorm, BatchNorm without running statistics): the mean 1 (sum),
#: subtract it 1, square and sum 2, normalize 1 (multiply by 1/sqrt(var + eps)).
NORM_INPUT_STATS = 5

#: The affine transform after a normalization: multiply by the weight 1, add the bias 1.
AFFINE = 2

#: The affine transform without its bias (``bias: false``): multiply by the weight.
AFFINE_NO_BIAS = 1

#: RMSNorm: square and sum 2, multiply by 1/sqrt(mean + eps) 1.
RMS_NORM = 3

#: RMSNorm's elementwise weight: multiply.
RMS_WEIGHT = 1


def local_response_norm(size: int) -> int:
    """LocalResponseNorm per element: square 1, the window average over ``size``
    channels ``size`` (size - 1 adds and a divide: PyTorch's avg_pool counts the
    zero padding, so it always divides by size), times alpha 1, plus k 1,
    pow beta 1, divide the input 1: ``size + 5``."""
    return size + 5
