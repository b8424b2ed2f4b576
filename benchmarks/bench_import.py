"""`layercalc import` measured: speed against building the model, and every torchvision classification model.

    python benchmarks/bench_import.py speed [--runs 7]
    python benchmarks/bench_import.py torchvision [--models resnet50,vit_b_16] [--markdown]

1. speed: ``layercalc import torchvision.models:resnet50 --input 1,3,224,224`` against
   ``python -c "import torch, torchvision; torchvision.models.resnet50()"`` (medians of
   interleaved runs; target: within 1.3x).
2. torchvision: each of ``torchvision.models.list_models(module=torchvision.models)``, built
   without weights at the crop size of its default weights, imported; the spec's params, trainable
   params, buffers, output shape and MACs compared with torch's for the same module
   (FlopCounterMode total / 2 on the meta device), and with the published ``num_params`` and
   ``_ops`` (GMACs as torchvision rounds them). Prints a row per model: model, params, GMACs,
   lines of spec, seconds, and the result.

It prints figures; it asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
import types

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)

# torchvision's wheel here is built for CUDA; its model definitions are pure Python
STUB = "import sys, types; sys.modules['torchvision._meta_registrations'] = types.ModuleType('m'); "

# where the default weights change the architecture: the builder arguments that match them
# (inception_v3 keeps its default aux_logits=True: its published figures count the auxiliary head, which
# forward does not call in eval mode and the import writes as Parameter and Buffer layers)
ARGS = {"googlenet": {"aux_logits": False}, "vit_h_14": {"image_size": 518}}


def timed(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - t0


def speed(runs: int) -> None:
    ours = [sys.executable, "-m", "layercalc", "import", "torchvision.models:resnet50", "--input", "1,3,224,224"]
    base = [sys.executable, "-c", STUB + "import torch, torchvision; torchvision.models.resnet50()"]
    a, b = [], []
    for _ in range(runs):
        a.append(timed(ours))
        b.append(timed(base))
    ma, mb = statistics.median(a), statistics.median(b)
    print(f"layercalc import resnet50:        median {ma:.2f} s over {runs} runs")
    print(f"import torch, build resnet50:     median {mb:.2f} s over {runs} runs")
    print(f"ratio: {ma / mb:.2f} (target within 1.3)")


def torchvision_models(names: list[str] | None, markdown: bool) -> None:
    sys.modules["torchvision._meta_registrations"] = types.ModuleType("torchvision._meta_registrations")
    import torch
    import torchvision

    import layercalc
    from layercalc.bridge.api import from_torch
    from tests.torch_bridge import measure, ours

    names = names or torchvision.models.list_models(module=torchvision.models)
    header = ("model", "params", "GMACs", "lines", "seconds", "result")
    if markdown:
        print("| " + " | ".join(header) + " |")
        print("|" + "---|" * len(header))
    else:
        print(f"{'model':22} {'params':>12} {'GMACs':>8} {'lines':>6} {'seconds':>8}  result")
    good = 0
    for name in names:
        weights = torchvision.models.get_model_weights(name).DEFAULT
        size = weights.transforms().crop_size[0]
        args = ARGS.get(name, {})
        row = [name, "", "", "", "", ""]
        try:
            t0 = time.perf_counter()
            try:
                with torch.device("meta"):
                    model = torchvision.models.get_model(name, **args)
            except NotImplementedError:  # a builder that computes on tensors (regnet): on the CPU
                model = torchvision.models.get_model(name, **args)
            text = from_torch(model, [(1, 3, size, size)], name=name)
            seconds = time.perf_counter() - t0
            report = layercalc.analyze(text)
            example = torch.zeros(1, 3, size, size, device=next(model.parameters()).device)
            same = ours(report) == measure(model, [example])
            published = (report.totals["params"] == weights.meta["num_params"]
                         and round(report.totals["macs"] / 1e9, 3) == round(weights.meta["_ops"], 3))
            row[1:5] = [f"{report.totals['params']:,}", f"{report.totals['macs'] / 1e9:.3f}", str(text.count("\n")),
                        f"{seconds:.1f}"]
            row[5] = ("torch and published" if same and published else "torch" if same else "DIFFERS from torch")
            good += same
        except Exception as exc:  # noqa: BLE001 - a benchmark reports every model
            row[5] = f"not imported: {str(exc).splitlines()[0][:160]}"
        if markdown:
            print("| " + " | ".join(row) + " |")
        else:
            print(f"{row[0]:22} {row[1]:>12} {row[2]:>8} {row[3]:>6} {row[4]:>8}  {row[5]}", flush=True)
    print(f"\n{good} of {len(names)} models equal torch's figures")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="what", required=True)
    s = sub.add_parser("speed")
    s.add_argument("--runs", type=int, default=7)
    t = sub.add_parser("torchvision")
    t.add_argument("--models", default=None, help="comma-separated names (default: all 80)")
    t.add_argument("--markdown", action="store_true")
    ns = parser.parse_args()
    if ns.what == "speed":
        speed(ns.runs)
    else:
        torchvision_models(ns.models.split(",") if ns.models else None, ns.markdown)


if __name__ == "__main__":
    main()
