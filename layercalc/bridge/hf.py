"""``layercalc import --hf``: HuggingFace transformers models from their config.json."""

from __future__ import annotations

from .errors import BridgeError


def read_hf(config, shapes, names, name=None, dims=None) -> str:
    raise BridgeError("--hf is not available in this version; build the model yourself and call "
                      "layercalc.from_torch(model, inputs) where torch.fx can trace it")
