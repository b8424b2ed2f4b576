"""layercalc's inference peak beside the peak torch eager reaches (a table; it asserts nothing).

    python benchmarks/bench_memory_peak.py [--markdown]

Every spec in specs/ and specs/imported/ is written as a module by `layercalc export`, built on the meta
device and run once in eval mode under torch.no_grad() at batch 1 and 8 (math attention kernel, no
MultiheadAttention fast path) under the dispatch-mode tracker of tests/torch_memory.py; the table gives
layercalc's `inference_activations` over the tracker's peak of live bytes (weights excluded). The test
tests/test_memory_peak.py holds each ratio within 10%. Needs torch.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--markdown", action="store_true", help="print a markdown table (the one in docs/memory.md)")
    args = ap.parse_args()
    os.chdir(ROOT)
    import layercalc
    from tests.torch_memory import export_peak

    specs = sorted((ROOT / "specs").glob("*.yaml")) + sorted((ROOT / "specs" / "imported").glob("*.yaml"))
    if args.markdown:
        print("| spec | batch 1: layercalc / torch | ratio | batch 8: layercalc / torch | ratio |")
        print("|---|---|---|---|---|")
    else:
        print(f"{'spec':<24} {'B=1 layercalc':>16} {'torch':>16} {'ratio':>6} {'B=8 layercalc':>16} {'torch':>16} "
              f"{'ratio':>6} {'time':>6}")
    for path in specs:
        name = path.stem if path.parent.name == "specs" else f"imported/{path.stem}"
        start = time.perf_counter()
        has_batch = "B" in layercalc.analyze(path).dims
        cells = []
        for dims in ([{"B": 1}, {"B": 8}] if has_batch else [None]):
            measured = export_peak(path, dims).peak
            ours = layercalc.memory(path, dims=dims).breakdown["inference_activations"]
            cells.append((ours, measured, ours / measured))
        took = time.perf_counter() - start
        if args.markdown:
            row = [f"{o:,} / {m:,} | {r:.3f}" for o, m, r in cells] + (["(batch fixed at 1) |"] if not has_batch else [])
            print(f"| `{name}` | " + " | ".join(row) + " |")
        else:
            row = " ".join(f"{o:>16,} {m:>16,} {r:>6.3f}" for o, m, r in cells)
            if not has_batch:
                row += f" {'(batch fixed at 1)':>40}"
            print(f"{name:<24} {row} {took:>5.1f}s")


if __name__ == "__main__":
    main()
