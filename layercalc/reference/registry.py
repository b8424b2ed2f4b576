"""The kernel registry: layer type -> reference kernel, one module per family, listed here by hand.

It mirrors ``layercalc.layers`` type for type and shares nothing with it: each
kernel is written from the layer's definition, and a meta-test checks that
every registered rule has a kernel here.
"""

from __future__ import annotations

from . import activation, attention, conv, dropout, embedding, linear, norm, pooling, recurrent, structure
from . import rotary

FAMILY_MODULES = (linear, conv, pooling, recurrent, norm, dropout, activation, embedding, attention, structure,
                  rotary)


def _collect() -> dict:
    kernels: dict = {}
    for module in FAMILY_MODULES:
        for name, fn in module.KERNELS.items():
            if name in kernels:
                raise ValueError(f"reference kernel for {name} defined twice")
            kernels[name] = fn
    return kernels


KERNELS: dict = _collect()
