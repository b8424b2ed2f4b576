"""Time and memory of `layercalc verify`: the whole specs/ folder, each spec, and specs built to be heavy.

    python benchmarks/bench_verify.py

1. ``layercalc verify specs/`` in a subprocess: wall time, peak RSS, and the registered types it
   covers (target: every type, under 60 s).
2. Each spec under specs/: its mode (full or probe), layers run and skipped, seconds.
3. Hostile specs (large pooling windows at stride 1, dilated kernels, a 10^8-element input reduced to
   one value, a table of 10^8 rows, many distinct large layers): seconds, peak RSS, skipped layers
   (target: under 60 s and 1 GB each, no mismatch).

It prints figures; it asserts nothing.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

HOSTILE = {
    "large-windows": """
layercalc: 1
name: large-windows
inputs: {x: [1, 4, 3000, 3000]}
layers:
  - MaxPool2d: {kernel_size: 101, stride: 1, padding: 50}
  - AvgPool2d: {kernel_size: [99, 7], stride: 1, padding: [3, 3]}
  - LPPool2d: {norm_type: 2, kernel_size: 64, stride: 1}
  - LocalResponseNorm: {size: 1001}
  - AdaptiveAvgPool2d: {output_size: [70, null]}
""",
    "dilated-kernels": """
layercalc: 1
name: dilated-kernels
inputs: {x: [1, 8, 2000, 2000]}
layers:
  - Conv2d: {out_channels: 8, kernel_size: 41, dilation: 9, padding: same, groups: 4}
  - ConvTranspose2d: {out_channels: 4, kernel_size: 31, stride: 16, dilation: 5, padding: 7, output_padding: 9}
""",
    "huge-reduction-and-table": """
layercalc: 1
name: huge-reduction-and-table
inputs:
  big: [100000000]
  t: {shape: [2, 7], dtype: int64}
layers:
  - Mean: {dim: 0}
    from: big
  - Embedding: {num_embeddings: 100000000, embedding_dim: 4096, padding_idx: 99999999}
    from: t
""",
    "many-distinct-layers": "layercalc: 1\nname: many-distinct-layers\ninputs: {x: [1, 64, 512]}\nlayers:\n" + "".join(
        f"  - Conv1d: {{out_channels: 64, kernel_size: {3 + 2 * (i % 20)}, padding: same, dilation: {1 + i % 7}}}\n"
        for i in range(400)),
}

CHILD = """
import json, resource, sys, time
from layercalc.verify import verify
start = time.perf_counter()
r = verify(sys.argv[1])
print(json.dumps({"mode": r.mode, "layers": len(r.layers), "skipped": len(r.skipped), "ok": r.ok,
                  "mismatches": [m.first_mismatch() for m in r.mismatches][:3],
                  "seconds": time.perf_counter() - start,
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def child(path: str) -> dict:
    import json

    proc = subprocess.run([sys.executable, "-c", CHILD, path], cwd=ROOT, capture_output=True, text=True, timeout=600)
    if proc.returncode:
        return {"error": proc.stderr[-500:]}
    return json.loads(proc.stdout)


def main() -> None:
    from layercalc.engine import load_graph
    from layercalc.layers import REGISTRY

    specs = sorted((ROOT / "specs").rglob("*.yaml"))
    covered = {node.type for path in specs for node in load_graph(path).nodes}
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "layercalc", "verify", "specs/"], cwd=ROOT, capture_output=True,
                          text=True)
    wall = time.perf_counter() - start
    rss = max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024
    print(f"layercalc verify specs/: {len(specs)} specs, exit {proc.returncode}, {wall:.1f} s, peak RSS {rss:.0f} MB, "
          f"{len(covered & set(REGISTRY))} of {len(REGISTRY)} registered types covered")
    print(f"  {proc.stdout.strip().splitlines()[-1]}")
    print()
    print(f"{'spec':34} {'mode':6} {'layers':>6} {'skipped':>7} {'seconds':>8}")
    for path in specs:
        r = child(str(path))
        if "error" in r:
            print(f"{path.relative_to(ROOT / 'specs')!s:34} error: {r['error']}")
            continue
        print(f"{path.relative_to(ROOT / 'specs')!s:34} {r['mode']:6} {r['layers']:6} {r['skipped']:7} "
              f"{r['seconds']:8.2f}" + ("" if r["ok"] else f"  MISMATCH {r['mismatches']}"))
    print()
    print(f"{'hostile spec':34} {'mode':6} {'layers':>6} {'skipped':>7} {'seconds':>8} {'peak RSS':>9}")
    with tempfile.TemporaryDirectory() as tmp:
        for name, text in HOSTILE.items():
            path = os.path.join(tmp, name + ".yaml")
            Path(path).write_text(text)
            r = child(path)
            if "error" in r:
                print(f"{name:34} error: {r['error']}")
                continue
            print(f"{name:34} {r['mode']:6} {r['layers']:6} {r['skipped']:7} {r['seconds']:8.2f} "
                  f"{r['rss_mb']:7.0f} MB" + ("" if r["ok"] else f"  MISMATCH {r['mismatches']}"))


if __name__ == "__main__":
    main()
