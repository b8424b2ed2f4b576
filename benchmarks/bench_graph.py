"""Speed of the diagram and HTML outputs against `summary`, side by side (medians of
interleaved runs of the command line).

    python benchmarks/bench_graph.py [--runs 7] [--spec specs/gpt3-175b.yaml]

Compares `layercalc summary SPEC` (the table) with `layercalc graph SPEC` (Mermaid, and DOT)
and `layercalc summary SPEC --format html` (target: each within 2x `summary`), and
`shape --receptive-field` of ResNet-50 with its `shape`. It prints figures; it asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

from bench_cli import compiled_cli, side_by_side  # noqa: E402


def report(title: str, times: dict, base: str) -> None:
    print(title)
    for name, t in times.items():
        print(f"  {name:<44} {t * 1000:8.1f} ms  ({t / times[base]:.2f}x {base})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--spec", default=os.path.join(ROOT, "specs", "gpt3-175b.yaml"))
    args = ap.parse_args()
    cli = compiled_cli()
    name = os.path.basename(args.spec)
    times = side_by_side({
        f"summary {name}": cli + ["summary", args.spec],
        f"graph {name}": cli + ["graph", args.spec],
        f"graph {name} --format dot": cli + ["graph", args.spec, "--format", "dot"],
        f"summary {name} --format html": cli + ["summary", args.spec, "--format", "html"],
    }, args.runs)
    report(f"{name} ({args.runs} runs each, interleaved)", times, f"summary {name}")
    r50 = os.path.join(ROOT, "specs", "resnet50.yaml")
    times = side_by_side({
        "shape resnet50.yaml": cli + ["shape", r50],
        "shape resnet50.yaml --receptive-field": cli + ["shape", r50, "--receptive-field"],
    }, args.runs)
    report("resnet50.yaml", times, "shape resnet50.yaml")


if __name__ == "__main__":
    main()
