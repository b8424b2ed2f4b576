"""The registry of layer rules: type name -> rule instance. Registering a type twice is an error."""

from __future__ import annotations

REGISTRY: dict = {}


def takes_no_input(type_name: str) -> bool:
    """Whether a type takes no input (``Parameter``, ``RelativePositionBias``): it ignores ``from`` and the
    previous entry, and the entry after it takes its output as the default input."""
    rule = REGISTRY.get(type_name)
    return rule is not None and rule.n_inputs[1] == 0


def register(cls):
    """Class decorator: add a :class:`~layercalc.layers.base.Rule` subclass to the registry."""
    if not cls.type:
        cls.type = cls.__name__
    if cls.type in REGISTRY:
        raise ValueError(f"layer type {cls.type} registered twice")
    if not cls.family:
        raise ValueError(f"layer type {cls.type} has no family")
    if not (cls.__doc__ or "").strip():
        raise ValueError(f"layer type {cls.type} has no docstring")
    REGISTRY[cls.type] = cls()
    return cls
