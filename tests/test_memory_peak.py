"""The inference peak of `layercalc memory` against torch eager (skipped without torch).

Every spec in specs/ (and specs/imported/) is written as a module by `layercalc export`, built on the
meta device (no memory: GPT-3's 175 billion parameters cost nothing) and called once in eval mode
under ``torch.no_grad()`` at batch 1 and 8, with the math attention kernel and no MultiheadAttention
fast path (the kernels layercalc counts). A ``TorchDispatchMode`` (``tests/torch_memory.LiveBytes``)
follows every storage that an aten op makes until it dies and records the peak of live bytes,
parameters and buffers excluded, the model's inputs included (the caller holds them for the whole
call, and so does layercalc: docs/memory.md, "Peaks").

layercalc's ``inference_activations`` (the inference peak without weights and buffers) must be within
10% of the measured peak; each ratio is printed (``pytest -s``). ``benchmarks/bench_memory_peak.py``
prints the whole table.
"""

from __future__ import annotations

from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

import layercalc  # noqa: E402
from tests.torch_memory import LiveBytes, export_peak  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SPECS = sorted((ROOT / "specs").glob("*.yaml")) + sorted((ROOT / "specs" / "imported").glob("*.yaml"))
TOLERANCE = 0.10


def _id(path: Path) -> str:
    return path.stem if path.parent.name == "specs" else f"{path.parent.name}-{path.stem}"


def _batches(path: Path):
    """1 and 8 on the spec's batch dim B; a spec without one (the imported vision models are written at
    batch 1) at its own size."""
    return [{"B": 1}, {"B": 8}] if "B" in layercalc.analyze(path).dims else [None]


@pytest.mark.parametrize("path", SPECS, ids=_id)
def test_inference_peak_is_within_10_percent_of_torch_eager(path):
    for dims in _batches(path):
        measured = export_peak(path, dims).peak
        ours = layercalc.memory(path, dims=dims).breakdown["inference_activations"]
        ratio = ours / measured
        print(f"\n{_id(path)} {dims}: layercalc {ours:,} B, torch {measured:,} B, ratio {ratio:.3f}")
        assert abs(ratio - 1) <= TOLERANCE, (ours, measured)


# --- the tracker itself -----------------------------------------------------------------------------------


def test_tracker_follows_storages_on_the_meta_device():
    """Views share a storage, a dead storage is freed at once, and the peak is taken when an op's inputs
    and output are both alive."""
    with torch.device("meta"):
        weight = torch.nn.Parameter(torch.zeros(1000))  # 4,000 bytes, excluded
        x = torch.zeros(1000)  # 4,000 bytes, held
        tracker = LiveBytes(exclude=[weight], held=[x])
        with tracker.mode():
            a = x * 2  # 4,000 + 4,000 = 8,000
            v = a.view(10, 100)  # a view: nothing new
            b = v + weight.view(10, 100)  # 12,000: x, a (through v), b
            del a, v  # a's storage dies: 8,000
            c = b.sum()  # 4 bytes: 8,004
            d = torch.cat([b.flatten(), b.flatten()])  # views of b, and 8,000 more: 16,004, the peak
            del b, d  # 4,004
    assert tracker.peak == 16_004
    assert tracker.bytes == 4_004  # x and c
    assert c.shape == ()


def test_tracker_counts_a_transient_of_a_composite_op():
    """softmax(q @ k^T) @ v through the math attention kernel: the scores and the probabilities are both
    alive inside the op (2 x 4 x 64 x 64 x 4 bytes), which the tracker sees because the kernel is a
    composition of aten ops."""
    from torch.nn.attention import SDPBackend, sdpa_kernel

    with torch.device("meta"):
        q = torch.zeros(1, 4, 64, 16)
        tracker = LiveBytes(held=[q])
        with torch.no_grad(), sdpa_kernel(SDPBackend.MATH), tracker.mode():
            torch.nn.functional.scaled_dot_product_attention(q, q, q)
    scores = 4 * 64 * 64 * 4
    assert tracker.peak >= 2 * scores + q.untyped_storage().nbytes()
