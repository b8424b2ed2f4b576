"""Speed of `memory` and `cost` beside `summary` of the same spec (medians of interleaved runs).

    python benchmarks/bench_memory.py [--runs 7]

For every bundled spec: `summary`, `memory`, `cost` (all --format json) and
`memory --accelerator h100-sxm --max-batch B`; prints each time and its ratio to `summary`
(targets: memory and cost within 1.5x, --max-batch within 3x). It asserts nothing.
"""

from __future__ import annotations

import argparse
import glob
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

from bench_cli import compiled_cli, side_by_side  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args()
    cli = compiled_cli()
    print(f"{'spec':<22} {'summary':>9} {'memory':>9} {'cost':>9} {'max-batch':>10}   ratios")
    for spec in sorted(glob.glob(os.path.join(ROOT, "specs", "*.yaml"))):
        cmds = {
            "summary": cli + ["summary", spec, "--format", "json"],
            "memory": cli + ["memory", spec, "--format", "json"],
            "cost": cli + ["cost", spec, "--format", "json"],
            "max-batch": cli + ["memory", spec, "--format", "json", "--accelerator", "h100-sxm", "--max-batch", "B"],
        }
        t = side_by_side(cmds, args.runs)
        base = t["summary"]
        print(f"{os.path.basename(spec):<22} {base:9.3f} {t['memory']:9.3f} {t['cost']:9.3f} {t['max-batch']:10.3f}   "
              f"memory {t['memory'] / base:.2f}x, cost {t['cost'] / base:.2f}x, max-batch {t['max-batch'] / base:.2f}x")


if __name__ == "__main__":
    main()
