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
