"""`layercalc memory` on the command line: the JSON shape, fits-or-not, --max-batch and bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import layercalc

SPECS = Path(__file__).resolve().parent.parent / "specs"
FIELDS = ("weight_bytes", "buffer_bytes", "gradient_bytes", "optimizer_bytes", "saved_activation_bytes",
          "inference_peak_bytes", "training_peak_bytes", "kv_cache_bytes")


def cli(*args):
    return subprocess.run([sys.executable, "-m", "layercalc", *args], capture_output=True, text=True)


def test_json_has_the_byte_counts_of_section_7_on_rows_and_totals():
    proc = cli("memory", str(SPECS / "gpt2-small.yaml"), "--format", "json", "--var", "layers=2")
    assert proc.returncode == 0, proc.stderr
    d = json.loads(proc.stdout)
    for key in FIELDS:
        assert isinstance(d["totals"][key], int)
        assert all(isinstance(row[key], int) for row in d["layers"])
    # additive fields: the rows add up to the totals
    for key in ("weight_bytes", "gradient_bytes", "optimizer_bytes", "saved_activation_bytes", "kv_cache_bytes"):
        assert sum(row[key] for row in d["layers"]) == d["totals"][key]
    # GPT-2 small with 2 blocks at B=1, T=1024: the KV cache of 2 causal layers in float32
    assert d["totals"]["kv_cache_bytes"] == 2 * (2 * 1 * 1024 * 768 * 4)  # layers x (k and v) x B x T x d x bytes


def test_no_kv_cache_without_causal_self_attention():
    proc = cli("memory", str(SPECS / "resnet18.yaml"), "--format", "json")
    assert json.loads(proc.stdout)["totals"]["kv_cache_bytes"] == 0


@pytest.mark.parametrize("fmt", ["table", "csv", "markdown"])
def test_other_formats(fmt):
    proc = cli("memory", str(SPECS / "lenet5.yaml"), "--format", fmt, "--memory", "1GB")
    assert proc.returncode == 0, proc.stderr
    assert "saved_activation_bytes" in proc.stdout if fmt == "csv" else "Saved act." in proc.stdout


def test_fits_with_its_margin():
    m = layercalc.memory(SPECS / "resnet18.yaml", dims={"B": 8})
    peak = m.totals["training_peak_bytes"]
    proc = cli("memory", str(SPECS / "resnet18.yaml"), "--dim", "B=8", "--memory", str(peak), "--format", "json")
    fit = json.loads(proc.stdout)["memory"]["fit"]
    assert (fit["fits"], fit["margin"]) == (True, 0)
    proc = cli("memory", str(SPECS / "resnet18.yaml"), "--dim", "B=8", "--memory", str(peak - 1))
    assert "Does not fit" in proc.stdout and "short by 1 B" in proc.stdout


def test_max_batch_is_the_largest_that_fits():
    proc = cli("memory", str(SPECS / "resnet18.yaml"), "--accelerator", "l4", "--max-batch", "B", "--format", "json")
    best = json.loads(proc.stdout)["memory"]["fit"]["max_batch"]
    capacity = 24 * 10**9  # L4: 24 GB
    assert layercalc.memory(SPECS / "resnet18.yaml", dims={"B": best}).totals["training_peak_bytes"] <= capacity
    assert layercalc.memory(SPECS / "resnet18.yaml", dims={"B": best + 1}).totals["training_peak_bytes"] > capacity


def test_max_batch_when_the_optimizer_step_is_the_peak_at_small_batches():
    """AlexNet with AdamW on CUDA: at batch 1 and 2 the training peak is the optimizer's step (the model
    states and the foreach temporaries, the same at any batch), so the line through 1 and 2 is flat; the
    search doubles, then bisects."""
    path = SPECS / "alexnet.yaml"
    flat = [layercalc.memory(path, dims={"B": b}).totals["training_peak_bytes"] for b in (1, 2)]
    assert flat[0] == flat[1]
    capacity = 2 * 10**9
    proc = cli("memory", str(path), "--memory", "2GB", "--max-batch", "B", "--format", "json")
    best = json.loads(proc.stdout)["memory"]["fit"]["max_batch"]
    assert layercalc.memory(path, dims={"B": best}).totals["training_peak_bytes"] <= capacity
    assert layercalc.memory(path, dims={"B": best + 1}).totals["training_peak_bytes"] > capacity


def test_max_value_searches_a_peak_that_is_flat_at_first():
    from layercalc.budget.fit import MAX_VALUE, max_value

    # max(1000, 10 v) fits 5000 up to v = 500
    assert max_value(lambda v: max(1000, 10 * v), 5000) == 500
    assert max_value(lambda v: 1000, 5000) == MAX_VALUE
    assert max_value(lambda v: max(1000, v - 40), 1000) == 1040


@pytest.mark.parametrize("args,needle", [
    (["--optimizer", "lion"], "adamw"), (["--precision", "int4"], "amp-bf16"), (["--device", "tpu"], "cuda"),
    (["--attention", "sparse"], "flash"), (["--accelerator", "b200"], "h100-sxm"), (["--memory", "lots"], "80GB"),
    (["--memory", "80GB", "--max-batch", "N"], "its dims: B"), (["--max-batch", "B"], "--memory"),
    (["--checkpoint", "nope"], "expected 'all'"),
])
def test_bad_input_exits_2_with_the_choices(args, needle):
    proc = cli("memory", str(SPECS / "resnet18.yaml"), *args)
    assert proc.returncode == 2, proc.stderr
    assert needle in proc.stderr and "Traceback" not in proc.stderr


def test_spec_error_exits_1_located(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("layercalc: 1\nname: bad\ninputs:\n  x: [1, 4]\nlayers:\n  - Linear: {out_features: -3}\n")
    proc = cli("memory", str(bad))
    assert proc.returncode == 1 and f"{bad}:6:" in proc.stderr
    proc = cli("memory", str(bad), "--memory", "80GB", "--max-batch", "B")
    assert proc.returncode == 1


@pytest.mark.parametrize("args,needle", [
    (["--attention", "sparse"], "flash"), (["--precision", "int4"], "amp-bf16"), (["--accelerator", "b200"], "mi300x"),
    (["--tokens", "1e9"], "--steps"), (["--tokens", "1e9", "--steps", "3"], "not both"),
    (["--checkpoint", "nope"], "expected 'all'"),
])
def test_cost_bad_input_exits_2(args, needle):
    proc = cli("cost", str(SPECS / "resnet18.yaml"), *args)
    assert proc.returncode == 2, proc.stderr
    assert needle in proc.stderr and "Traceback" not in proc.stderr


def test_cost_json_shape_and_decoder_figures():
    d = json.loads(cli("cost", str(SPECS / "gpt2-small.yaml"), "--format", "json", "--var", "layers=2").stdout)
    for key in ("forward_macs", "backward_macs", "training_macs", "forward_flops", "backward_flops", "training_flops"):
        assert isinstance(d["totals"][key], int)
        assert sum(row[key] for row in d["layers"]) == d["totals"][key]
    t = d["totals"]
    assert t["training_macs"] == t["forward_macs"] + t["backward_macs"]
    # per generated token at context 1024: the forward at T = 1024 divided by 1024 (every product is per
    # token, attention's over the 1024 cached keys)
    assert d["cost"]["context"] == 1024
    assert d["cost"]["per_token_macs"] * 1024 == d["cost"]["prefill_macs"] == t["forward_macs"]


def test_accelerators_file_adds_a_device(tmp_path):
    f = tmp_path / "acc.yaml"
    f.write_text("my-gpu:\n  memory: 48GB\n  bandwidth: 960GB/s\n  bf16: 181T\n  fp32: 91.6T\n")
    proc = cli("memory", str(SPECS / "lenet5.yaml"), "--accelerator", "my-gpu", "--accelerators", str(f))
    assert proc.returncode == 0 and "my-gpu (48.00 GB)" in proc.stdout
    proc = cli("cost", str(SPECS / "lenet5.yaml"), "--accelerator", "my-gpu", "--accelerators", str(f))
    assert proc.returncode == 0 and "91.6 TFLOP/s fp32" in proc.stdout
    f.write_text("my-gpu: [1, 2]\n")
    proc = cli("memory", str(SPECS / "lenet5.yaml"), "--accelerator", "my-gpu", "--accelerators", str(f))
    assert proc.returncode == 2 and "expected a mapping" in proc.stderr


def test_readme_examples_are_current():
    readme = (SPECS.parent / "README.md").read_text()
    for command in ("layercalc memory specs/gpt2-small.yaml --dim B=8 --precision mixed-bf16 --accelerator h100-sxm "
                    "--max-batch B | tail -5", "layercalc cost specs/gpt3-175b.yaml --tokens 3e11 | tail -4"):
        block = readme[readme.index("$ " + command + "\n") + len(command) + 3:]
        block = block[:block.index("```")]
        args, n = command.split(" | tail -")
        out = cli(*[a.replace("specs/", str(SPECS) + "/", 1) for a in args.split()[1:]]).stdout
        # the table's summary lines (wrapped at the terminal's width there)
        assert " ".join(out.split()).endswith(" ".join(block.split()))
