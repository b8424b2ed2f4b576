"""Helpers for the differential tests: one layer through layercalc, and the
same layer as a real ``torch.nn`` module measured by PyTorch itself.

torch is a test-only oracle: test modules call ``pytest.importorskip("torch")``
before importing this module's torch helpers.
"""

from __future__ import annotations

import layercalc


def ours(layer_type: str, args: dict | None, inputs: list, extra_meta: dict | None = None):
    """Analyze a one-layer spec; ``inputs`` is a list of shapes or (shape, dtype) pairs. Returns the LayerRow."""
    ins = {}
    for i, item in enumerate(inputs):
        shape, dtype = (item if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], str)
                        else (item, "float32"))
        ins[f"in{i}"] = {"shape": [int(d) for d in shape], "dtype": dtype}
    entry = {layer_type: dict(args or {})}
    if len(inputs) > 1:
        entry["from"] = list(ins)
    if not inputs:
        ins = {"unused": {"shape": [1]}}
    entry.update(extra_meta or {})
    spec = {"layercalc": 1, "name": "t", "inputs": ins, "layers": [entry]}
    report = layercalc.analyze(spec)
    return report.layers[-1]


def output_shapes(out) -> list[list[int]]:
    """The shapes of every tensor in a (possibly nested) tuple or list output, in order."""
    import torch

    if isinstance(out, torch.Tensor):
        return [list(out.shape)]
    if isinstance(out, (tuple, list)):
        return [shape for item in out for shape in output_shapes(item)]
    return []


def torch_measure(module, inputs, **call_kwargs) -> dict:
    """Run ``module`` on ``inputs`` under FlopCounterMode; return shapes, params, buffers and MACs.

    MACs are FlopCounterMode's total / 2, with mkldnn disabled so that the
    counter sees the dense products. ``outputs`` lists the shapes of every
    tensor in the (possibly nested) output, in order.
    """
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    torch.backends.mkldnn.enabled = False
    module.eval()
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        out = module(*inputs, **call_kwargs)
    flops = counter.get_total_flops()
    assert flops % 2 == 0
    shapes = output_shapes(out)
    return {
        "outputs": shapes,
        "params": sum(p.numel() for p in module.parameters()),
        "trainable_params": sum(p.numel() for p in module.parameters() if p.requires_grad),
        "buffers": sum(b.numel() for b in module.buffers()),
        "macs": flops // 2,
    }
