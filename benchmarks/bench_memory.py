"""Speed of `memory` and `cost` beside `summary` of the same spec (medians of interleaved runs).

    python benchmarks/bench_memory.py [--runs 7]

For every bundled spec (specs/ and specs/imported/): `summary`, `memory`, `cost` (all --format json) and
`memory --accelerator h100-sxm --max-batch B` (where the spec has a dim B); prints each time and its ratio to `summary`
(targets: memory and cost within 1.5x, --max-batch within 3x). It asserts nothing.

    python benchmarks/bench_memory.py --tables [--runs 7]

The table view (the default format) instead, of the specs with the most layers: `summary`, `memory`, `cost`
and `cost --accelerator h100-sxm`, each at its default depth, and the last three with `--depth all`.
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

import layercalc  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--tables", action="store_true", help="time the table view of the largest specs instead")
    args = ap.parse_args()
    cli = compiled_cli()
    if args.tables:
        tables(cli, args.runs)
        return
    print(f"{'spec':<28} {'summary':>9} {'memory':>9} {'cost':>9} {'max-batch':>10}   ratios")
    specs = sorted(glob.glob(os.path.join(ROOT, "specs", "*.yaml")))
    specs += sorted(glob.glob(os.path.join(ROOT, "specs", "imported", "*.yaml")))
    for spec in specs:
        cmds = {
            "summary": cli + ["summary", spec, "--format", "json"],
            "memory": cli + ["memory", spec, "--format", "json"],
            "cost": cli + ["cost", spec, "--format", "json"],
        }
        batched = "B" in layercalc.analyze(spec).dims  # the imported vision models are written at batch 1
        if batched:
            cmds["max-batch"] = cli + ["memory", spec, "--format", "json", "--accelerator", "h100-sxm",
                                       "--max-batch", "B"]
        t = side_by_side(cmds, args.runs)
        base = t["summary"]
        name = os.path.relpath(spec, os.path.join(ROOT, "specs"))
        mb = f"{t['max-batch']:10.3f}" if batched else f"{'-':>10}"
        ratios = f"memory {t['memory'] / base:.2f}x, cost {t['cost'] / base:.2f}x"
        ratios += f", max-batch {t['max-batch'] / base:.2f}x" if batched else ""
        print(f"{name:<28} {base:9.3f} {t['memory']:9.3f} {t['cost']:9.3f} {mb}   {ratios}")


TABLE_SPECS = ("gpt3-175b.yaml", "llama2-7b.yaml", "resnet50.yaml")


def tables(cli: list[str], runs: int) -> None:
    """Each command's table beside `summary`'s table of the same spec."""
    for spec in TABLE_SPECS:
        path = os.path.join(ROOT, "specs", spec)
        cmds = {"summary": cli + ["summary", path]}
        for name, extra in (("memory", ["memory"]), ("cost", ["cost"]),
                            ("cost h100", ["cost", "--accelerator", "h100-sxm"])):
            cmds[name] = cli + extra + [path]
            cmds[name + " all"] = cli + extra + [path, "--depth", "all"]
        t = side_by_side(cmds, runs)
        base = t["summary"]
        print(f"{spec}: summary {base:.3f} s")
        for name, seconds in t.items():
            if name != "summary":
                print(f"  {name:<14} {seconds:7.3f} s  {seconds / base:5.2f}x summary")


if __name__ == "__main__":
    main()
