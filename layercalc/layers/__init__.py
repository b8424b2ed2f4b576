"""Layer rules, one module per family, listed here by hand: this is the registry.

``REGISTRY`` maps a type name (``"Conv2d"``) to its rule. ``FAMILIES`` lists the
family modules in the order ``layercalc layers`` shows them.
"""

from .registry import REGISTRY, register  # noqa: F401
from . import linear, conv, pooling, norm, dropout, activation, structure  # noqa: E402,F401
from . import recurrent, embedding, attention  # noqa: E402,F401
from . import rotary  # noqa: E402,F401

FAMILIES = ("linear", "convolution", "pooling", "recurrent", "normalization", "dropout", "activation",
            "embedding", "attention", "structure")
