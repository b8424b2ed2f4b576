"""Speed of --symbolic and explain, measured side by side (medians of interleaved runs).

    python benchmarks/bench_symbolic.py [--runs 11] [--before REF]

1. ``summary --symbolic B,T`` of gpt3-175b against the concrete ``summary`` (target: within 3x);
   ``cost --symbolic B,T`` of gpt3-175b (with --tokens and an accelerator) against the concrete
   ``cost`` and ``summary``.
2. ``explain`` of resnet50 against ``summary`` of resnet50 (target: within 2x).
3. The concrete ``summary`` of resnet50 and ``cost`` of gpt2-small before (REF, default: the parent
   of the commit that added symbolic dims) and now, in paired runs (target: no slower).

It prints figures; it asserts nothing (time belongs here, not in tests).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

from bench_cli import side_by_side  # noqa: E402


def before_ref() -> str:
    first = subprocess.run(["git", "-C", ROOT, "log", "--format=%H", "--reverse", "--grep=^--symbolic DIM"],
                           capture_output=True, text=True).stdout.split()
    if not first:
        raise SystemExit("no commit adding --symbolic found; give --before REF")
    return first[0] + "^"


def export(ref: str, into: str) -> None:
    """The tree of ``ref`` in ``into`` (``git archive``), bytecode compiled as an install would."""
    archive = subprocess.run(["git", "-C", ROOT, "archive", ref], capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", into], input=archive, check=True)
    import compileall

    compileall.compile_dir(os.path.join(into, "layercalc"), quiet=1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=11)
    ap.add_argument("--before", default=None, help="git ref of the code before symbolic dims")
    args = ap.parse_args()
    py = sys.executable
    import compileall

    compileall.compile_dir(os.path.join(ROOT, "layercalc"), quiet=1)
    now = [py, "-m", "layercalc"]
    spec = {name: os.path.join(ROOT, "specs", f"{name}.yaml") for name in ("gpt3-175b", "resnet50")}

    t = side_by_side({"concrete": now + ["summary", spec["gpt3-175b"]],
                      "symbolic": now + ["summary", spec["gpt3-175b"], "--symbolic", "B,T"]}, args.runs)
    print(f"gpt3-175b summary                  {t['concrete'] * 1000:8.1f} ms")
    print(f"gpt3-175b summary --symbolic B,T   {t['symbolic'] * 1000:8.1f} ms  "
          f"({t['symbolic'] / t['concrete']:.2f}x the concrete summary; target <= 3x)")

    cost_args = ["--tokens", "3e11", "--accelerator", "h100-sxm"]
    t = side_by_side({"summary": now + ["summary", spec["gpt3-175b"]],
                      "cost": now + ["cost", spec["gpt3-175b"], *cost_args],
                      "symbolic": now + ["cost", spec["gpt3-175b"], *cost_args, "--symbolic", "B,T"]}, args.runs)
    print(f"gpt3-175b cost                     {t['cost'] * 1000:8.1f} ms  ({t['cost'] / t['summary']:.2f}x summary)")
    print(f"gpt3-175b cost --symbolic B,T      {t['symbolic'] * 1000:8.1f} ms  "
          f"({t['symbolic'] / t['cost']:.2f}x the concrete cost, {t['symbolic'] / t['summary']:.2f}x summary)")

    t = side_by_side({"summary": now + ["summary", spec["resnet50"]],
                      "explain": now + ["explain", spec["resnet50"]]}, args.runs)
    print(f"resnet50 summary                   {t['summary'] * 1000:8.1f} ms")
    print(f"resnet50 explain (every layer)     {t['explain'] * 1000:8.1f} ms  "
          f"({t['explain'] / t['summary']:.2f}x the summary; target <= 2x)")

    ref = args.before or before_ref()
    with tempfile.TemporaryDirectory() as tmp:
        export(ref, tmp)
        env_before = [py, "-c", f"import sys; sys.path.insert(0, {tmp!r}); from layercalc.cli import main; "
                      "sys.argv[0] = 'layercalc'; main()"]
        env_now = [py, "-c", f"import sys; sys.path.insert(0, {ROOT!r}); from layercalc.cli import main; "
                   "sys.argv[0] = 'layercalc'; main()"]
        runs = max(args.runs, 21)
        t = side_by_side({"before": env_before + ["summary", spec["resnet50"]],
                          "now": env_now + ["summary", spec["resnet50"]]}, runs)
        tj = side_by_side({"before": env_before + ["summary", spec["resnet50"], "--format", "json"],
                           "now": env_now + ["summary", spec["resnet50"], "--format", "json"]}, runs)
        gpt2 = os.path.join(ROOT, "specs", "gpt2-small.yaml")
        has_cost = subprocess.run(env_before + ["cost", gpt2], capture_output=True).returncode == 0
        tc = side_by_side({"before": env_before + ["cost", gpt2, "--format", "json"],
                           "now": env_now + ["cost", gpt2, "--format", "json"]}, runs) if has_cost else None
        # the engine alone, in process (no start-up, no renderer): medians of 15 analyses, 5 rounds interleaved
        engine = {"before": [], "now": []}
        for _ in range(5):
            for name, root in (("before", tmp), ("now", ROOT)):
                out = subprocess.run([py, "-c", ENGINE.format(root=root, spec=spec["resnet50"])], capture_output=True,
                                     text=True, check=True).stdout
                engine[name].append(float(out))
    import statistics

    eb, en = statistics.median(engine["before"]), statistics.median(engine["now"])
    sha = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", ref], capture_output=True, text=True).stdout.strip()
    print(f"resnet50 summary, before ({sha})   {t['before'] * 1000:8.1f} ms   json {tj['before'] * 1000:8.1f} ms")
    print(f"resnet50 summary, now              {t['now'] * 1000:8.1f} ms   json {tj['now'] * 1000:8.1f} ms  "
          f"({t['now'] / t['before']:.3f}x and {tj['now'] / tj['before']:.3f}x before; {runs} paired runs)")
    if tc is not None:
        print(f"gpt2-small cost --format json      before {tc['before'] * 1000:6.1f} ms   "
              f"now {tc['now'] * 1000:6.1f} ms  ({tc['now'] / tc['before']:.3f}x; {runs} paired runs)")
    else:
        print(f"gpt2-small cost: no `cost` command at {sha}")
    print(f"resnet50 analyze() in process      before {eb:6.1f} ms   now {en:6.1f} ms  ({en / eb:.3f}x)")
    print("(the CLI figures include every change since REF: table folding, json tree; the engine line is the rules)")


ENGINE = """import sys, time, statistics
sys.path.insert(0, {root!r})
from layercalc.engine import analyze
analyze({spec!r})
ts = []
for _ in range(15):
    t = time.perf_counter(); analyze({spec!r}); ts.append(time.perf_counter() - t)
print(statistics.median(ts) * 1000)
"""


if __name__ == "__main__":
    main()
