"""Reference kernels of the dropout family: at inference every dropout is the identity.

In eval mode ``torch.nn.Dropout`` (and its channel-wise and alpha variants)
returns its input unchanged: no arithmetic, nothing to count. So does
torchvision's ``StochasticDepth`` (``stochastic_depth(x, p, mode, training=False)``
returns ``x``).
"""

from __future__ import annotations


def dropout(ctx, x):
    """Eval mode: y = x."""
    return x.copy()


KERNELS = {"Dropout": dropout, "Dropout1d": dropout, "Dropout2d": dropout, "Dropout3d": dropout,
           "AlphaDropout": dropout, "FeatureAlphaDropout": dropout, "StochasticDepth": dropout}
