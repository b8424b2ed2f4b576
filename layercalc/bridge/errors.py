"""The errors of the bridge. The command line turns each into one message and an exit status."""

from __future__ import annotations


class BridgeError(Exception):
    """A usage problem (missing torch, a bad TARGET or --input): exit 2."""

    status = 2


class ImportFailed(Exception):
    """The model cannot be imported (it does not trace, it fails on the inputs): exit 1."""

    status = 1


class ImportProblem(Exception):
    """One op without a spec equivalent, raised while reading a node; collected into UnsupportedOps."""

    def __init__(self, op: str, fix: str):
        super().__init__(op)
        self.op = op
        self.fix = fix


class UnsupportedOps(ImportFailed):
    """Ops without a spec equivalent: one line each with the module path, the op, the source line and a fix."""

    def __init__(self, problems: list):
        self.problems = problems
        lines = []
        seen = set()
        for path, op, where, fix in problems:
            key = (path, op)
            if key in seen:
                continue
            seen.add(key)
            lines.append(f"{path}: {op} has no layercalc equivalent" + (f" ({where})" if where else "")
                         + f". Fix: {fix}")
        super().__init__("\n".join(lines))


INSTALL_TORCH = ('layercalc import needs PyTorch, which is not installed. Install it with '
                 '`pip install "layercalc[torch]"` (or `pip install torch`).')
INSTALL_HF = ('layercalc import --hf needs transformers, which is not installed. Install it with '
              '`pip install "layercalc[hf]"`.')


def require_torch():
    """Import torch or raise BridgeError with how to install it."""
    try:
        import torch
    except ImportError:
        raise BridgeError(INSTALL_TORCH) from None
    return torch
