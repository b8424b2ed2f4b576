"""Peak memory and time of the worst small specs (tests/hostile_specs.py) at the layer cap; it asserts nothing.

    python benchmarks/bench_hostile.py [--scale 1.0] [--command params]

Each case runs `python -m layercalc COMMAND case.yaml --format csv` in its own process and
prints the spec's size, the layers, the wall time and the peak resident memory of the process
(ru_maxrss of the child). The target: under 1 GB for any accepted spec within the layer cap.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)

from tests.hostile_specs import worst_cases  # noqa: E402


def run_one(command: str, path: str) -> tuple[int, float, int]:
    """(exit status, seconds, peak RSS in bytes) of one run in a fresh process."""
    code = ("import resource, subprocess, sys, time\n"
            "t = time.perf_counter()\n"
            "p = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)\n"
            "dt = time.perf_counter() - t\n"
            "rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024\n"
            "print(p.returncode, dt, rss)\n")
    out = subprocess.run([sys.executable, "-c", code, sys.executable, "-m", "layercalc", command, path, "--format",
                          "csv"], capture_output=True, text=True, cwd=ROOT, env=dict(os.environ, PYTHONPATH=ROOT))
    rc, dt, rss = out.stdout.split()
    return int(rc), float(dt), int(rss)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the layer cap (default 1.0)")
    parser.add_argument("--command", default="params", help="the command to run (default params)")
    args = parser.parse_args()
    print(f"{'case':<36} {'spec':>9} {'exit':>4} {'time':>8} {'peak RSS':>10}")
    worst = 0
    with tempfile.TemporaryDirectory() as tmp:
        for label, text in worst_cases(args.scale):
            path = os.path.join(tmp, "case.yaml")
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(text)
            rc, dt, rss = run_one(args.command, path)
            worst = max(worst, rss)
            print(f"{label:<36} {len(text):>7} B {rc:>4} {dt:>7.1f}s {rss / 1e6:>7.0f} MB")
    print(f"worst peak RSS: {worst / 1e6:.0f} MB (target: under 1,000 MB)")


if __name__ == "__main__":
    main()
