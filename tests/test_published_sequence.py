"""The sequence specs in specs/ reproduce the published parameter counts.

Published figures: BERT-base-uncased with its pooler 109,482,240 (HuggingFace
BertModel), GPT-2 small 124,439,808 (HuggingFace GPT2Model; the LM head is
tied), Llama-2-7B 6,738,415,616 (HuggingFace LlamaForCausalLM, untied head),
GPT-3 175B "175.0 B" (Brown et al. 2020, table 2.1). The MACs are pinned with
their derivation written out; tests/test_published_sequence_torch.py checks each
spec's structure against the same architecture built in plain torch at a small size.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

import layercalc

SPECS = Path(__file__).resolve().parent.parent / "specs"


@dataclass(frozen=True)
class Published:
    spec: str
    params: int
    macs: int  # at the spec's default dims
    outputs: dict


CASES = [
    # embeddings 23,837,184 + 12 layers * 7,087,872 + pooler 590,592.
    # MACs at B=1, T=128: 12 * (128 * (4*768^2 + 2*768*3072) + 2 * 128^2 * 768) + pooler 768*768
    #   = 12 * (905,969,664 + 25,165,824) + 589,824
    Published("bert-base.yaml", 109_482_240, 11_174_215_680, {"encoder": [1, 128, 768], "pooler": [1, 768]}),
    # wte 38,597,376 + wpe 786,432 + 12 * 7,087,872 + ln_f 1,536; the tied head adds nothing.
    # MACs at B=1, T=1024: 12 * (1024 * 12*768^2 + 2 * 1024^2 * 768) + head 1024*768*50257
    #   = 12 * (7,247,757,312 + 1,610,612,736) + 39,523,713,024
    Published("gpt2-small.yaml", 124_439_808, 145_824_153_600, {"lm_head": [1, 1024, 50257]}),
    # embed 131,072,000 + 32 * 202,383,360 + norm 4,096 + lm_head 131,072,000.
    # MACs at B=1, T=4096: 32 * (4096 * (4*4096^2 + 3*4096*11008) + 2 * 4096^2 * 4096) + head 4096*4096*32000
    #   = 32 * (828,928,688,128 + 137,438,953,472) + 536,870,912,000
    Published("llama2-7b.yaml", 6_738_415_616, 31_460_635_443_200, {"lm_head": [1, 4096, 32000]}),
    # wte 617,558,016 + wpe 25,165,824 + 96 * 1,812,099,072 + ln_f 24,576 (spec header).
    # MACs at B=1, T=2048: 96 * (2048 * 12*12288^2 + 2 * 2048^2 * 12288) + head 2048*12288*50257
    #   = 96 * (3,710,851,743,744 + 103,079,215,104) + 1,264,758,816,768
    Published("gpt3-175b.yaml", 174_604_259_328, 367_402_130_866_176, {"lm_head": [1, 2048, 50257]}),
    # embedding 4,160 + LSTM 1,183,744 + 2,101,248 + decoder 33,345 (spec header).
    # MACs at B=1, T=100: 100 * (4*512*(64+512) + 4*512*(512+512)) + 100 * 512*65
    Published("char-lstm.yaml", 3_322_497, 331_008_000,
              {"decoder": [1, 100, 65], "lstm.h_n": [2, 1, 512], "lstm.c_n": [2, 1, 512]}),
    # embedding 18,600,000 + GRU 2 * (3*1000*1620 + 6000) + init 1,001,000 (spec header).
    # MACs at B=1, T=50: 50 * 2 * 3*1000*(620+1000) + 1000*1000
    Published("gru-encoder.yaml", 29_333_000, 487_000_000, {"gru": [1, 50, 2000], "s0": [1, 1000]}),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.spec.removesuffix(".yaml"))
def test_published_figures(case):
    report = layercalc.analyze(SPECS / case.spec)
    assert report.totals["params"] == case.params
    assert report.totals["trainable_params"] == case.params
    assert report.totals["macs"] == case.macs
    assert report.outputs == case.outputs


def test_gpt3_is_175_billion():
    params = layercalc.analyze(SPECS / "gpt3-175b.yaml").totals["params"]
    assert abs(params - 175.0e9) / 175.0e9 < 0.005  # 174.6 B: 0.23% below the paper's rounded figure


def test_tied_head_is_counted_once():
    report = layercalc.analyze(SPECS / "gpt2-small.yaml")
    head = report.layer("lm_head")
    assert (head.params, head.shared, head.param_shapes) == (0, "wte", {"weight": (50257, 768)})


def test_gpt3_expands_to_every_layer():
    # wte, wpe, embed (3) + 96 blocks * 8 rows + ln_f, lm_head (2) = 773 rows (speed: benchmarks/, not here)
    report = layercalc.analyze(SPECS / "gpt3-175b.yaml")
    assert len(report.layers) == 773
