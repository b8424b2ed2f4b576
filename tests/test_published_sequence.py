"""The sequence specs in specs/ reproduce the published parameter counts.

Published figures: BERT-base-uncased with its pooler 109,482,240 (HuggingFace
BertModel), GPT-2 small 124,439,808 (HuggingFace GPT2Model; the LM head is
tied), Llama-2-7B 6,738,415,616 (HuggingFace LlamaForCausalLM, untied head),
GPT-3 175B "175.0 B" (Brown et al. 2020, table 2.1). The MACs are pinned with
their derivation written out, and each spec's structure is checked against
the same architecture built in plain torch at a small size (the spec's vars
overridden), where FlopCounterMode measures the MACs.
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


# --- the same architectures in plain torch, at a small size ------------------------------------------------

torch = pytest.importorskip("torch")

from tests.oracle import torch_measure  # noqa: E402
from tests.test_torch_attention import LlamaAttention, visible_attention  # noqa: E402

nn = torch.nn


def _measure(module, inputs):
    with visible_attention():
        return torch_measure(module, inputs)


class TinyBert(nn.Module):
    def __init__(self, vocab, d, layers, heads, positions):
        super().__init__()
        self.word = nn.Embedding(vocab, d, padding_idx=0)
        self.token_type = nn.Embedding(2, d)
        self.pos = nn.Embedding(positions, d)
        self.norm = nn.LayerNorm(d, eps=1e-12)
        self.layers = nn.ModuleList(nn.TransformerEncoderLayer(d, heads, 4 * d, activation="gelu",
                                                               layer_norm_eps=1e-12, batch_first=True)
                                    for _ in range(layers))
        self.pooler = nn.Linear(d, d)

    def forward(self, ids, types, pos):
        x = self.norm(self.word(ids) + self.token_type(types) + self.pos(pos))
        for layer in self.layers:
            x = layer(x)
        return x, torch.tanh(self.pooler(x[:, 0]))


class TinyGPT2(nn.Module):
    def __init__(self, vocab, context, d, layers, heads):
        super().__init__()
        self.wte, self.wpe = nn.Embedding(vocab, d), nn.Embedding(context, d)
        self.blocks = nn.ModuleList(nn.ModuleDict({
            "ln_1": nn.LayerNorm(d), "attn": nn.MultiheadAttention(d, heads, batch_first=True),
            "ln_2": nn.LayerNorm(d), "c_fc": nn.Linear(d, 4 * d), "c_proj": nn.Linear(4 * d, d)})
            for _ in range(layers))
        self.ln_f = nn.LayerNorm(d)
        self.head = nn.Linear(d, vocab, bias=False)
        self.head.weight = self.wte.weight

    def forward(self, ids, pos):
        x = self.wte(ids) + self.wpe(pos)
        for b in self.blocks:
            h = b["ln_1"](x)
            x = x + b["attn"](h, h, h, need_weights=False)[0]
            x = x + b["c_proj"](nn.functional.gelu(b["c_fc"](b["ln_2"](x)), approximate="tanh"))
        return self.head(self.ln_f(x))


class TinyLlama(nn.Module):
    def __init__(self, vocab, d, layers, heads, kv_heads, ff):
        super().__init__()
        self.embed = nn.Embedding(vocab, d)
        self.layers = nn.ModuleList(nn.ModuleDict({
            "input_layernorm": nn.RMSNorm(d), "self_attn": LlamaAttention(d, heads, kv_heads, d // heads, False, True),
            "post_attention_layernorm": nn.RMSNorm(d), "gate_proj": nn.Linear(d, ff, bias=False),
            "up_proj": nn.Linear(d, ff, bias=False), "down_proj": nn.Linear(ff, d, bias=False)})
            for _ in range(layers))
        self.norm = nn.RMSNorm(d)
        self.lm_head = nn.Linear(d, vocab, bias=False)

    def forward(self, ids):
        x = self.embed(ids)
        for b in self.layers:
            x = x + b["self_attn"](b["input_layernorm"](x))
            h = b["post_attention_layernorm"](x)
            x = x + b["down_proj"](nn.functional.silu(b["gate_proj"](h)) * b["up_proj"](h))
        return self.lm_head(self.norm(x))


def test_bert_spec_is_bert():
    v = {"vocab": 97, "d": 32, "layers": 2, "heads": 4, "positions": 16}
    report = layercalc.analyze(SPECS / "bert-base.yaml", dims={"B": 2, "T": 12}, vars=v)
    ids = torch.randint(0, 97, (2, 12))
    ref = _measure(TinyBert(97, 32, 2, 4, 16), [ids, torch.zeros_like(ids), torch.arange(12)[None]])
    assert list(report.outputs.values()) == ref["outputs"]
    assert (report.totals["params"], report.totals["macs"]) == (ref["params"], ref["macs"])


def test_gpt2_spec_is_gpt2():
    v = {"vocab": 97, "context": 16, "d": 32, "layers": 2, "heads": 4}
    report = layercalc.analyze(SPECS / "gpt2-small.yaml", dims={"B": 2, "T": 12}, vars=v)
    ref = _measure(TinyGPT2(97, 16, 32, 2, 4), [torch.randint(0, 97, (2, 12)), torch.arange(12)[None]])
    assert list(report.outputs.values()) == ref["outputs"]
    assert (report.totals["params"], report.totals["macs"]) == (ref["params"], ref["macs"])


def test_llama_spec_is_llama():
    v = {"vocab": 97, "d": 32, "layers": 2, "heads": 4, "kv_heads": 2, "ff": 48}
    report = layercalc.analyze(SPECS / "llama2-7b.yaml", dims={"B": 2, "T": 12}, vars=v)
    ref = _measure(TinyLlama(97, 32, 2, 4, 2, 48), [torch.randint(0, 97, (2, 12))])
    assert list(report.outputs.values()) == ref["outputs"]
    assert (report.totals["params"], report.totals["macs"]) == (ref["params"], ref["macs"])


def test_recurrent_specs_are_their_torch_models():
    report = layercalc.analyze(SPECS / "char-lstm.yaml", dims={"B": 3, "T": 7})
    embed, lstm, head = nn.Embedding(65, 64), nn.LSTM(64, 512, 2, dropout=0.5, batch_first=True), nn.Linear(512, 65)
    model = nn.ModuleList([embed, lstm, head])
    with torch.no_grad():
        out, (h, c) = lstm(embed(torch.randint(0, 65, (3, 7))))
    assert list(report.outputs.values()) == [list(head(out).shape), list(h.shape), list(c.shape)]
    assert report.totals["params"] == sum(p.numel() for p in model.parameters())

    report = layercalc.analyze(SPECS / "gru-encoder.yaml", dims={"B": 3, "T": 7})
    embed, gru, init = nn.Embedding(30000, 620), nn.GRU(620, 1000, bidirectional=True, batch_first=True), \
        nn.Linear(1000, 1000)
    with torch.no_grad():
        out, h = gru(embed(torch.randint(0, 30000, (3, 7))))
        s0 = torch.tanh(init(h[1]))
    assert list(report.outputs.values()) == [list(out.shape), list(s0.shape)]
    assert report.totals["params"] == sum(p.numel() for m in (embed, gru, init) for p in m.parameters())
