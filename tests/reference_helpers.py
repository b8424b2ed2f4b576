"""Helpers shared by the reference executor's tests."""

from __future__ import annotations

from layercalc.engine import load_graph
from layercalc.reference.kernel import run_kernel
from layercalc.reference.registry import KERNELS
from layercalc.reference.signatures import parse_args
from layercalc.verify import _probe as probe_one
from layercalc.verify import analyze_graph, one_layer_spec, random_input


def rules_row(layer_type: str, args: dict, shapes: list, dtypes: list | None = None):
    dtypes = dtypes or ["float32"] * len(shapes)
    return analyze_graph(load_graph(one_layer_spec(layer_type, args, shapes, dtypes))).layers[-1]


def reference_run(layer_type: str, args: dict, shapes: list, dtypes: list | None = None, seed: int = 7,
                  high: int = 2):
    """Run the reference kernel on the arguments as written (the executor reads them itself)."""
    dtypes = dtypes or ["float32"] * len(shapes)
    xs = [random_input(f"in{i}", s, d, high) for i, (s, d) in enumerate(zip(shapes, dtypes))]
    return xs, run_kernel(KERNELS[layer_type], parse_args(layer_type, args), xs, seed)


def mismatches(layer_type: str, args: dict, shapes: list, dtypes: list | None = None) -> list[str]:
    """What verify's probe of this one layer reports (empty: the two sides agree). Raises SpecError when
    the rules refuse the configuration."""
    dtypes = dtypes or ["float32"] * len(shapes)
    rules_row(layer_type, args, shapes, dtypes)  # raises SpecError when the rules refuse it
    checks, error, skipped = probe_one(layer_type, args, shapes, dtypes)
    assert skipped is None, f"{layer_type} {args} on {shapes}: {skipped}"
    return ([error] if error else []) + [c.describe() for c in checks if not c.ok]


def to_torch(t):
    import torch

    return torch.tensor(t.data, dtype=torch.float64).reshape(t.shape)


def load_params(module, run) -> None:
    """Copy the reference's parameters and buffers into a torch module, by torch's names."""
    import torch

    state = {name: to_torch(t) for name, t in {**run.params, **run.buffers}.items()}
    module.double()
    missing = set(dict(module.named_parameters())) - set(state)
    assert not missing, f"the reference did not create {missing}"
    with torch.no_grad():
        module.load_state_dict(state, strict=False)


def close(a, b, tol=1e-5) -> bool:
    import torch

    return a.shape == b.shape and torch.allclose(a, b, atol=tol, rtol=tol)
