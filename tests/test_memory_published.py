"""Published figures of memory and compute, reproduced with their derivations."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import layercalc

SPECS = Path(__file__).resolve().parent.parent / "specs"


def cli(*args):
    proc = subprocess.run([sys.executable, "-m", "layercalc", *args], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_korthikanti_2022_activations_of_a_gpt3_layer():
    # Korthikanti et al. 2022, "Reducing Activation Recomputation in Large Transformer Models", eq. (1):
    # activations per layer = sbh(34 + 5as/h) bytes, fp16, 1-byte dropout masks.
    s, b, h, a = 2048, 1, 12288, 96
    paper = s * b * h * 34 + 5 * a * s * s * b  # 855,638,016 + 2,013,265,920
    assert paper == 2_868_903_936
    # What the paper leaves out: the two LayerNorms' mean and rstd, float32 on CUDA, one each per token.
    layer_norm_stats = 2 * 2 * s * b * 4  # 2 LayerNorms x (mean, rstd) x s x b x 4 bytes = 32,768
    m = layercalc.memory(SPECS / "gpt3-175b-layer.yaml", precision="fp16", device="cuda", attention="math")
    assert m.totals["saved_activation_bytes"] == paper + layer_norm_stats == 2_868_936_704


def test_korthikanti_2022_full_recomputation_keeps_2sbh():
    # With the whole layer recomputed only its input stays: 2sbh bytes (fp16) = 2 x 2048 x 1 x 12288.
    m = layercalc.memory(SPECS / "gpt3-175b-layer.yaml", precision="fp16", checkpoint=["layer"])
    assert m.totals["saved_activation_bytes"] == 2 * 2048 * 1 * 12288 == 50_331_648


def test_llama31_8b_kv_cache_at_16000_tokens():
    # Llama-3.1-8B: 32 layers, 8 key/value heads of 128 features (GQA), fp16:
    # 2 (k and v) x 16,000 tokens x 8 x 128 x 2 bytes x 32 layers = 2,097,152,000 bytes.
    m = layercalc.memory(SPECS / "llama2-7b.yaml", dims={"B": 1, "T": 16000}, precision="fp16",
                         vars={"vocab": 128256, "d": 4096, "layers": 32, "heads": 32, "kv_heads": 8, "ff": 14336})
    assert m.totals["kv_cache_bytes"] == 2 * 16000 * 8 * 128 * 2 * 32 == 2_097_152_000


LINEAR = """
layercalc: 1
name: linear-4096
inputs:
  x: [1, 4096]
layers:
  - Linear: {out_features: 4096, bias: false}
    name: fc
"""


def test_roofline_of_a_4096_linear_on_h100(tmp_path):
    # A 4096 x 4096 bf16 Linear at batch 1: 2 x 4096 x 4096 = 33,554,432 FLOPs; bytes moved: the weight
    # 4096 x 4096 x 2 = 33,554,432, the input and the output 4096 x 2 = 8,192 each: 33,570,816 bytes.
    # Arithmetic intensity ~1 FLOP/byte, far below the H100 SXM's 989.4e12 / 3.35e12 = 295: memory-bound,
    # and the floor is 33,570,816 / 3.35e12 s = 10.02 us.
    spec = tmp_path / "linear.yaml"
    spec.write_text(LINEAR)
    d = json.loads(cli("cost", str(spec), "--precision", "bf16", "--accelerator", "h100-sxm", "--format", "json"))
    row = d["layers"][0]
    assert row["forward_flops"] == 2 * 4096 * 4096 == 33_554_432
    assert row["bytes_moved"] == 4096 * 4096 * 2 + 2 * 4096 * 2 == 33_570_816
    assert row["bound"] == "memory"
    assert round(row["latency_floor_s"] * 1e6, 2) == 10.02
    assert d["cost"]["forward_latency_floor_s"] == row["latency_floor_s"]


def test_gpt3_training_compute_beside_6nd():
    # GPT-3 175B on 300B tokens: 6ND = 6 x 174,604,259,328 x 3e11 = 3.143e23 FLOPs (Kaplan et al. 2020's
    # estimate; Brown et al. 2020 quote 3.14e23). layercalc counts every product, attention's T x T
    # terms included, and prints the difference.
    d = json.loads(cli("cost", str(SPECS / "gpt3-175b.yaml"), "--tokens", "3e11", "--format", "json"))
    summary = d["cost"]
    assert d["totals"]["trainable_params"] == 174_604_259_328
    assert summary["six_nd"] == 6 * 174_604_259_328 * 3e11
    assert f"{summary['six_nd']:.4g}" == "3.143e+23"
    # per step of 2048 tokens: forward + backward (2x the forward's products, no input gradient for the
    # token ids) = training FLOPs; over 3e11 / 2048 steps
    assert summary["training_flops_total"] == d["totals"]["training_flops"] * 3e11 / 2048
    assert 0 < summary["vs_six_nd"] < 0.05  # 3.231e23: 2.8% above 6ND
    text = cli("cost", str(SPECS / "gpt3-175b.yaml"), "--tokens", "3e11")
    assert "6ND = 6 x 174,604,259,328 x 3e+11 = 3.143e+23" in text
