"""The sequence specs in specs/ built in plain torch at a small size (the spec's vars overridden), where
FlopCounterMode measures the MACs: the structure behind the published figures of
tests/test_published_sequence.py (which need no torch and never skip)."""

from __future__ import annotations

import pytest

import layercalc
from tests.test_published_sequence import SPECS

torch = pytest.importorskip("torch")

# --- the same architectures in plain torch, at a small size ------------------------------------------------


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
            "input_layernorm": nn.RMSNorm(d),
            "self_attn": LlamaAttention(d, heads, kv_heads, d // heads, False, True, rotary=False),
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
