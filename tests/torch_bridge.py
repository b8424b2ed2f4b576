"""Helpers of the bridge tests: load exported source as a module, and measure a torch module as
the counting conventions of the spec format say (torch is imported by the callers first)."""

from __future__ import annotations

import contextlib
import types

from tests.oracle import output_shapes


def load_module(source: str, name: str = "exported") -> types.ModuleType:
    """Execute exported Python source as a fresh module."""
    module = types.ModuleType(name)
    exec(compile(source, f"<{name}>", "exec"), module.__dict__)
    return module


@contextlib.contextmanager
def counting():
    """mkldnn off (the counter sees aten.convolution), the math SDPA backend and no MultiheadAttention
    fast path (the counter sees both attention products), grad enabled."""
    import torch
    from torch.nn.attention import SDPBackend, sdpa_kernel

    mkldnn = torch.backends.mkldnn.enabled
    fast = torch.backends.mha.get_fastpath_enabled()
    torch.backends.mkldnn.enabled = False
    torch.backends.mha.set_fastpath_enabled(False)
    try:
        with sdpa_kernel(SDPBackend.MATH), torch.enable_grad():
            yield
    finally:
        torch.backends.mkldnn.enabled = mkldnn
        torch.backends.mha.set_fastpath_enabled(fast)


def measure(model, inputs) -> dict:
    """params, trainable params, buffers, output shapes and MACs (FlopCounterMode total / 2) of one call."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    model.eval()
    with counting(), FlopCounterMode(display=False) as counter:
        out = model(*inputs)
    shapes = output_shapes(out)
    total = counter.get_total_flops()
    return {
        "params": sum(p.numel() for p in model.parameters()),
        "trainable_params": sum(p.numel() for p in model.parameters() if p.requires_grad),
        "buffers": sum(b.numel() for b in model.buffers()),
        "outputs": shapes,
        "macs": total // 2,
        "odd_flops": total % 2,
    }


def ours(report) -> dict:
    """The same figures from a layercalc report."""
    t = report.totals
    return {"params": t["params"], "trainable_params": t["trainable_params"], "buffers": t["buffers"],
            "outputs": list(report.outputs.values()), "macs": t["macs"], "odd_flops": 0}
