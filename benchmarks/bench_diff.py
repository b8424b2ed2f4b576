"""Speed of `layercalc diff` and of folded tables, side by side with one `summary` (medians of interleaved runs).

    python benchmarks/bench_diff.py [--runs 9]

1. ``diff`` of two GPT-3 175B specs (the same one, and one with 95 layers instead of 96)
   against one ``summary`` of that spec (target: within 2x), in each format.
2. ``summary`` tables at ``--depth 1``, the default depth and ``--depth all``.

It prints figures; it asserts nothing (time belongs here, not in tests).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

from bench_cli import compiled_cli, side_by_side  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=9)
    args = ap.parse_args()
    cli = compiled_cli()
    spec = os.path.join(ROOT, "specs", "gpt3-175b.yaml")
    with tempfile.TemporaryDirectory() as tmp:
        other = os.path.join(tmp, "gpt3-95.yaml")
        with open(spec) as fh, open(other, "w") as out:
            out.write(fh.read().replace("layers: 96,", "layers: 95,"))
        cmds = {
            "summary gpt3-175b": cli + ["summary", spec],
            "summary gpt3-175b --format json": cli + ["summary", spec, "-f", "json"],
            "diff gpt3 gpt3 (identical)": cli + ["diff", spec, spec],
            "diff gpt3 gpt3-95 (table)": cli + ["diff", spec, other],
            "diff gpt3 gpt3-95 --format markdown": cli + ["diff", spec, other, "-f", "markdown"],
            "diff gpt3 gpt3-95 --format json": cli + ["diff", spec, other, "-f", "json"],
            "summary gpt3-175b --depth all": cli + ["summary", spec, "--depth", "all"],
            "summary gpt3-175b --depth 1": cli + ["summary", spec, "--depth", "1"],
        }
        times = side_by_side(cmds, args.runs)
    base = times["summary gpt3-175b"]
    for name, t in times.items():
        print(f"{name:<40} {t * 1000:8.1f} ms  ({t / base:.2f}x summary)")


if __name__ == "__main__":
    main()
