"""What PyTorch keeps for backward, measured with ``torch.autograd.graph.saved_tensors_hooks``.

Conventions (those of layercalc's ``saved_activation_bytes``): train mode; the model's inputs do not
require grad; a tensor is counted once per storage (``untyped_storage()``, so two views of one
buffer count once, at the size of the whole buffer); parameters and buffers are excluded; each
storage is counted at the first layer that saves it, in execution order.
"""

from __future__ import annotations

import torch


def saved_by_layer(model, inputs, autocast=None):
    """{layer name: bytes saved for backward} (first saver of each storage) and the total."""
    model.train()
    state = {t.untyped_storage().data_ptr() for t in list(model.parameters()) + list(model.buffers())}
    seen = set()
    per_layer: dict[str, int] = {}
    details: dict[str, list] = {}

    def pack(t):
        if not isinstance(t, torch.Tensor) or t.device.type == "meta":
            return t
        storage = t.untyped_storage()
        ptr = storage.data_ptr()
        if ptr in state or ptr in seen or storage.nbytes() == 0:
            return t
        seen.add(ptr)
        name = model.current or "<outside>"
        per_layer[name] = per_layer.get(name, 0) + storage.nbytes()
        details.setdefault(name, []).append((tuple(t.shape), str(t.dtype).removeprefix("torch."), storage.nbytes(), ptr))
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        if autocast:
            with torch.autocast("cpu", dtype=autocast):
                model(*inputs)
        else:
            model(*inputs)
    return per_layer, sum(per_layer.values()), details
