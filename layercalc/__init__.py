"""layercalc: shapes, parameters, buffers, MACs and FLOPs of a network written as a YAML spec.

The library returns data; the command line (``layercalc.cli``) only renders it::

    import layercalc
    report = layercalc.analyze("specs/resnet18.yaml", dims={"B": 8})
    report.totals["params"]
    layercalc.memory("specs/gpt2-small.yaml", precision="amp-bf16").totals["training_peak_bytes"]
"""

__version__ = "0.1.0"

__all__ = ["analyze", "from_torch", "memory", "Report", "SpecError", "__version__"]


def __getattr__(name):  # lazy: keep ``import layercalc`` cheap for the CLI
    if name == "analyze":
        from .engine import analyze

        return analyze
    if name in ("memory", "cost"):
        from . import budget

        return getattr(budget, name)
    if name == "Report":
        from .report import Report

        return Report
    if name == "from_torch":  # the PyTorch bridge: imports torch only when called
        from .bridge.api import from_torch

        return from_torch
    if name == "SpecError":
        from .errors import SpecError

        return SpecError
    raise AttributeError(name)
