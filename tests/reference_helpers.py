"""Helpers shared by the reference executor's tests."""

from __future__ import annotations

from layercalc.engine import load_graph
from layercalc.reference.kernel import run_kernel
from layercalc.reference.registry import KERNELS
from layercalc.reference.signatures import parse_args
from layercalc.verify import analyze_graph, compare, one_layer_spec, random_input


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
    """The checks on which the rules engine and the reference executor disagree (empty: they agree)."""
    row = rules_row(layer_type, args, shapes, dtypes)
    high = args.get("num_embeddings") if isinstance(args.get("num_embeddings"), int) else 2
    _, run = reference_run(layer_type, args, shapes, dtypes, high=high)
    return [c.describe() for c in compare(row, run) if not c.ok]


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
