"""Speed of `layercalc lint`, measured (medians of interleaved runs); it asserts nothing.

    python benchmarks/bench_lint.py [--runs 11] [--fuzz 4]

1. Linting all of specs/ in one call, against the interpreter's start-up:
   ``python -c pass`` (the bare interpreter), ``python -m layercalc --version``
   (the CLI's own start-up) and ``python -m layercalc lint --isolated specs/``.
   The target: lint minus the bare interpreter under 1 s.
2. The same in-process (no start-up): ``lint_file`` over every spec.
3. The fuzz corpus of tests/lint_fuzz.py, one case at a time in-process:
   median, 99th percentile and the slowest cases.
"""

from __future__ import annotations

import argparse
import glob
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)


def timed(cmd: list[str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT)
    elapsed = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr.decode()[-500:]}")
    return elapsed


def side_by_side(cmds: dict[str, list[str]], runs: int) -> dict[str, float]:
    times: dict[str, list[float]] = {k: [] for k in cmds}
    for cmd in cmds.values():  # warm the file cache
        timed(cmd)
    for _ in range(runs):
        for name, cmd in cmds.items():
            times[name].append(timed(cmd))
    return {k: statistics.median(v) for k, v in times.items()}


def in_process(specs: list[str], runs: int) -> float:
    from layercalc.lint.checker import lint_file
    from layercalc.lint.config import FileSettings

    times = []
    for _ in range(runs + 1):
        start = time.perf_counter()
        for path in specs:
            lint_file(path, FileSettings())
        times.append(time.perf_counter() - start)
    return statistics.median(times[1:])


def fuzz_times(n_per_seed: int) -> list[tuple[float, str]]:
    from layercalc.lint.checker import lint_text
    from layercalc.lint.config import FileSettings
    from tests.lint_fuzz import mutations

    out = []
    for label, text in mutations(n_per_seed):
        start = time.perf_counter()
        lint_text(text, "fuzz.yaml", FileSettings())
        out.append((time.perf_counter() - start, label))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=11)
    ap.add_argument("--fuzz", type=int, default=4, help="mutations per seed file (0: skip)")
    args = ap.parse_args()
    py = sys.executable
    specs = sorted(glob.glob(os.path.join(ROOT, "specs", "*.yaml")))
    print(f"{len(specs)} specs in specs/, {args.runs} interleaved runs, medians")
    m = side_by_side({
        "python -c pass": [py, "-c", "pass"],
        "layercalc --version": [py, "-m", "layercalc", "--version"],
        "layercalc lint specs/": [py, "-m", "layercalc", "lint", "--isolated", "specs"],
    }, args.runs)
    for name, t in m.items():
        print(f"  {name:<24} {t * 1000:8.0f} ms")
    print(f"  lint minus interpreter    {(m['layercalc lint specs/'] - m['python -c pass']) * 1000:8.0f} ms"
          "   (target: under 1000 ms)")
    print(f"  lint minus CLI start-up   {(m['layercalc lint specs/'] - m['layercalc --version']) * 1000:8.0f} ms")
    t = in_process(specs, args.runs)
    print(f"  in-process, all specs     {t * 1000:8.0f} ms   ({t / len(specs) * 1000:.1f} ms per spec)")
    if args.fuzz:
        times = fuzz_times(args.fuzz)
        values = sorted(t for t, _ in times)
        p99 = values[min(len(values) - 1, int(len(values) * 0.99))]
        print(f"fuzz corpus: {len(values)} cases, median {statistics.median(values) * 1000:.1f} ms, "
              f"p99 {p99 * 1000:.0f} ms, max {values[-1] * 1000:.0f} ms")
        for t, label in sorted(times, reverse=True)[:5]:
            print(f"  {t * 1000:8.0f} ms  {label}")


if __name__ == "__main__":
    main()
