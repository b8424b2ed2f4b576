"""Speed of the command line, measured side by side (medians of interleaved runs).

    python benchmarks/bench_cli.py [--runs 15]

1. The floor: ``python -c "import typer, yaml"`` against
   ``layercalc summary specs/resnet50.yaml --format json`` (target: within 1.5x).
2. Scaling: generated chains of 5,000 and 20,000 layers through
   ``layercalc summary --format json`` (target: 20k under 3 s, 20k/5k under 4.6).

It prints figures; it asserts nothing (time belongs here, not in tests).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

from gen_chain import chain  # noqa: E402


def timed(cmd: list[str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed: {proc.stderr.decode()[-500:]}")
    return elapsed


def side_by_side(cmds: dict[str, list[str]], runs: int) -> dict[str, float]:
    times: dict[str, list[float]] = {k: [] for k in cmds}
    for name, cmd in cmds.items():  # warm the file cache
        timed(cmd)
    for _ in range(runs):
        for name, cmd in cmds.items():
            times[name].append(timed(cmd))
    return {k: statistics.median(v) for k, v in times.items()}


def compiled_cli() -> list[str]:
    """The command that runs layercalc, after compiling its bytecode: pip compiles an installed
    package's bytecode, and an editable checkout (or PYTHONDONTWRITEBYTECODE=1) would otherwise
    recompile layercalc on every run while typer and yaml load from .pyc files."""
    import compileall

    import layercalc

    compileall.compile_dir(os.path.dirname(layercalc.__file__), quiet=1)
    return [sys.executable, "-m", "layercalc"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=15)
    args = ap.parse_args()
    py = sys.executable
    cli = compiled_cli()
    spec = os.path.join(ROOT, "specs", "resnet50.yaml")
    floor = side_by_side({
        "import typer, yaml": [py, "-c", "import typer, yaml"],
        "summary resnet50 --format json": cli + ["summary", spec, "--format", "json"],
    }, args.runs)
    base = floor["import typer, yaml"]
    for name, t in floor.items():
        print(f"{name:<34} {t * 1000:8.1f} ms  ({t / base:.2f}x the floor)")
    with tempfile.TemporaryDirectory() as tmp:
        paths = {}
        for n in (5000, 20000):
            paths[n] = os.path.join(tmp, f"chain{n}.yaml")
            with open(paths[n], "w") as fh:
                fh.write(chain(n))
        scale = side_by_side({n: cli + ["summary", p, "--format", "json"] for n, p in paths.items()},
                             max(3, args.runs // 3))
    for n, t in scale.items():
        print(f"summary chain of {n:>6} layers       {t * 1000:8.1f} ms")
    print(f"20k / 5k ratio                      {scale[20000] / scale[5000]:8.2f}")


if __name__ == "__main__":
    main()
