"""verify stays bounded on heavy specs: it picks probes from the work the executor would really do, probes are
small (kernels, dilations, windows and tables cut down), a probe too large is skipped, not a mismatch.

Seeded variants of each heavy kind run in a subprocess capped at 1 GB of address space and 60 s.
"""

import json
import random
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def heavy_layers(rng: random.Random) -> list[tuple[str, str]]:
    """(kind, spec text) pairs: each a few lines, each far beyond what a full run could do."""
    big = rng.choice([2000, 3000, 4096])
    k = rng.choice([31, 64, 101])
    return [
        ("pooling windows at stride 1", f"inputs: {{x: [1, 4, {big}, {big}]}}\nlayers:\n"
         f"  - MaxPool2d: {{kernel_size: {k}, stride: 1, padding: {k // 2}}}\n"
         f"  - AvgPool2d: {{kernel_size: [{k}, 3], stride: 1}}\n"
         f"  - LPPool2d: {{norm_type: 2, kernel_size: {rng.randint(8, 40)}, stride: 1}}\n"),
        ("dilated kernels", f"inputs: {{x: [1, {rng.choice([8, 64])}, {big}, {big // 2}]}}\nlayers:\n"
         f"  - Conv2d: {{out_channels: 8, kernel_size: {rng.randint(9, 41)}, dilation: {rng.randint(2, 9)}, "
         f"padding: same, groups: {rng.choice([1, 2, 4, 8])}}}\n"
         f"  - ConvTranspose2d: {{out_channels: 4, kernel_size: {rng.randint(5, 31)}, stride: {rng.randint(2, 16)}, "
         f"dilation: {rng.randint(1, 5)}}}\n"),
        ("a huge input reduced to one value", f"inputs: {{x: [{rng.choice([10**8, 3 * 10**8])}]}}\nlayers:\n"
         "  - Mean: {dim: 0}\n"),
        ("a huge embedding table", "inputs: {t: {shape: [2, 7], dtype: int64}}\nlayers:\n"
         f"  - Embedding: {{num_embeddings: {rng.choice([10**8, 5 * 10**7])}, embedding_dim: 4096, "
         f"padding_idx: {rng.choice([0, -1, 12345])}}}\n"),
        ("wide local response norm and adaptive pooling", f"inputs: {{x: [2, 4096, {big}, 16]}}\nlayers:\n"
         f"  - LocalResponseNorm: {{size: {rng.randint(100, 4000)}}}\n"
         f"  - AdaptiveAvgPool2d: {{output_size: [{rng.randint(3, 300)}, null]}}\n"
         "  - AdaptiveMaxPool2d: {output_size: 1}\n"),
        ("large dense layers", f"inputs: {{x: [64, 512, {rng.choice([4096, 8192])}]}}\nlayers:\n"
         f"  - Linear: {{out_features: {rng.choice([4096, 8192])}}}\n"
         "  - MultiheadAttention: {num_heads: 64, batch_first: true}\n"
         "  - LSTM: {hidden_size: 2048, num_layers: 3, batch_first: true, bidirectional: true}\n"),
        ("a large upsampling", f"inputs: {{x: [1, 3, {big // 4}, {big // 4}]}}\nlayers:\n"
         f"  - Upsample: {{scale_factor: {rng.choice([4, 8])}, mode: bicubic}}\n"),
    ]


CHILD = r"""
import json, resource, sys
resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
from layercalc.verify import verify
out = []
for text in json.loads(sys.argv[1]):
    r = verify("layercalc: 1\n" + text)
    out.append({"ok": r.ok, "seconds": r.seconds, "skipped": len(r.skipped),
                "mismatches": [m.first_mismatch() for m in r.mismatches]})
print(json.dumps(out))
"""


@pytest.mark.parametrize("seed", [1, 2])
def test_heavy_specs_verify_in_bounded_time_and_memory_without_false_mismatches(seed):
    cases = heavy_layers(random.Random(seed))
    proc = subprocess.run([sys.executable, "-c", CHILD, json.dumps([text for _, text in cases])], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr
    for (kind, text), r in zip(cases, json.loads(proc.stdout)):
        assert r["ok"], f"{kind}: {r['mismatches']}\n{text}"
        assert r["seconds"] < 60, f"{kind}: {r['seconds']:.1f} s"


def test_a_probe_that_cannot_be_made_small_is_skipped_not_a_mismatch():
    from layercalc.verify import TOO_LARGE, verify

    # a reshape between sizes that share nothing keeps its 10^7 elements in the probe
    result = verify("layercalc: 1\ninputs: {x: [10000000]}\nlayers:\n  - Reshape: {shape: [2500, 4000]}\n")
    assert result.ok and [c.skipped for c in result.layers] == [TOO_LARGE]
    assert result.layers[0].mode == "skipped" and not result.mismatches


def test_the_mode_follows_the_work_of_windows_not_macs():
    from layercalc.verify import verify

    # MaxPool2d has no MACs; its work is 20*20 outputs * 15*15 window = 90,000 (+ 400 in, 400 x 225 flops)
    spec = "layercalc: 1\ninputs: {x: [1, 1, 20, 20]}\nlayers:\n  - MaxPool2d: {kernel_size: 15, stride: 1, padding: 7}\n"
    assert verify(spec, budget=5 * 10**4).mode == "probe"
    result = verify(spec, budget=10**6)
    assert result.mode == "full" and result.ok and result.total_macs == 0


def test_zero_d_inputs_take_dims_0_and_minus_1():
    from layercalc.verify import verify

    spec = "layercalc: 1\ninputs: {x: []}\nlayers:\n  - Softmax: {dim: -1}\n  - Mean: {dim: 0}\n  - LogSoftmax: {dim: 0}\n"
    for mode in ("full", "probe"):
        result = verify(spec, mode=mode)
        assert result.ok, [c.first_mismatch() for c in result.mismatches]
