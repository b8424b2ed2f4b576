"""Models written by hand as people write them, for the import tests."""

import torch
import torch.nn.functional as F
from torch import nn


class LSTMTagger(nn.Module):
    def __init__(self, vocab=1000, embed=64, hidden=128, proj=48, tags=17):
        super().__init__()
        self.embedding = nn.Embedding(vocab, embed)
        self.lstm = nn.LSTM(embed, hidden, num_layers=2, batch_first=True, bidirectional=True, proj_size=proj)
        self.classifier = nn.Linear(2 * proj, tags)

    def forward(self, tokens):
        out, _ = self.lstm(self.embedding(tokens))
        return self.classifier(out)


@torch.fx.wrap
def causal_mask(t: int):
    """True above the diagonal: the keys a query may not see (a leaf for torch.fx: built from a size)."""
    return torch.ones(t, t, dtype=torch.bool).triu(1)


class GPTBlock(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.ln_1 = nn.LayerNorm(d)
        self.attn = nn.MultiheadAttention(d, heads, batch_first=True)
        self.ln_2 = nn.LayerNorm(d)
        self.mlp = nn.Sequential(nn.Linear(d, 4 * d), nn.GELU(approximate="tanh"), nn.Linear(4 * d, d))

    def forward(self, x):
        mask = causal_mask(x.size(1))
        h = self.ln_1(x)
        a, _ = self.attn(h, h, h, attn_mask=mask, need_weights=False)
        x = x + a
        return x + self.mlp(self.ln_2(x))


class TinyGPT(nn.Module):
    """GPT-2 as people write it: token and position embeddings, pre-norm blocks, a head tied to wte."""

    def __init__(self, vocab=500, context=64, d=64, heads=4, layers=3):
        super().__init__()
        self.wte = nn.Embedding(vocab, d)
        self.wpe = nn.Embedding(context, d)
        self.h = nn.ModuleList([GPTBlock(d, heads) for _ in range(layers)])
        self.ln_f = nn.LayerNorm(d)
        self.lm_head = nn.Linear(d, vocab, bias=False)
        self.lm_head.weight = self.wte.weight

    def forward(self, input_ids, position_ids):
        x = self.wte(input_ids) + self.wpe(position_ids)
        for block in self.h:
            x = block(x)
        return self.lm_head(self.ln_f(x))


class LlamaAttention(nn.Module):
    def __init__(self, d, heads, kv_heads):
        super().__init__()
        self.heads, self.kv_heads, self.head_dim = heads, kv_heads, d // heads
        self.q_proj = nn.Linear(d, d, bias=False)
        self.k_proj = nn.Linear(d, kv_heads * self.head_dim, bias=False)
        self.v_proj = nn.Linear(d, kv_heads * self.head_dim, bias=False)
        self.o_proj = nn.Linear(d, d, bias=False)

    def forward(self, x):
        b, t, d = x.shape
        q = self.q_proj(x).view(b, t, self.heads, self.head_dim).transpose(1, 2)
        k = self.k_proj(x).view(b, t, self.kv_heads, self.head_dim).transpose(1, 2)
        v = self.v_proj(x).view(b, t, self.kv_heads, self.head_dim).transpose(1, 2)
        out = F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=self.kv_heads != self.heads)
        return self.o_proj(out.transpose(1, 2).reshape(b, t, d))


class LlamaMLP(nn.Module):
    def __init__(self, d, ff):
        super().__init__()
        self.gate_proj = nn.Linear(d, ff, bias=False)
        self.up_proj = nn.Linear(d, ff, bias=False)
        self.down_proj = nn.Linear(ff, d, bias=False)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class LlamaLayer(nn.Module):
    def __init__(self, d, heads, kv_heads, ff):
        super().__init__()
        self.input_layernorm = nn.RMSNorm(d, eps=1e-5)
        self.self_attn = LlamaAttention(d, heads, kv_heads)
        self.post_attention_layernorm = nn.RMSNorm(d, eps=1e-5)
        self.mlp = LlamaMLP(d, ff)

    def forward(self, x):
        x = x + self.self_attn(self.input_layernorm(x))
        return x + self.mlp(self.post_attention_layernorm(x))


class TinyLlama(nn.Module):
    def __init__(self, vocab=320, d=64, heads=4, kv_heads=2, ff=172, layers=4):
        super().__init__()
        self.embed_tokens = nn.Embedding(vocab, d)
        self.layers = nn.ModuleList([LlamaLayer(d, heads, kv_heads, ff) for _ in range(layers)])
        self.norm = nn.RMSNorm(d, eps=1e-5)
        self.lm_head = nn.Linear(d, vocab, bias=False)

    def forward(self, input_ids):
        x = self.embed_tokens(input_ids)
        for layer in self.layers:
            x = layer(x)
        return self.lm_head(self.norm(x))


class EncoderStack(nn.Module):
    def __init__(self, d=64, heads=4, ff=128, layers=3, classes=5):
        super().__init__()
        layer = nn.TransformerEncoderLayer(d, heads, ff, batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.head = nn.Linear(d, classes)

    def forward(self, x):
        return self.head(self.encoder(x).mean(dim=1))


class Siamese(nn.Module):
    """One tower, called on both inputs; the distance of the embeddings."""

    def __init__(self):
        super().__init__()
        self.tower = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                                   nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                                   nn.Linear(32, 8))
        self.head = nn.Linear(8, 1)

    def forward(self, a, b):
        return self.head((self.tower(a) - self.tower(b)).abs())


class TwoInputs(nn.Module):
    """An image and a vector of features, merged by concatenation."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Sequential(nn.Conv2d(3, 8, 3, stride=2), nn.BatchNorm2d(8), nn.ReLU(),
                                  nn.AdaptiveAvgPool2d((1, 1)))
        self.features_fc = nn.Linear(12, 8)
        self.fc = nn.Linear(16, 3)

    def forward(self, image, features):
        x = torch.flatten(self.conv(image), 1)
        return self.fc(torch.cat([x, F.relu(self.features_fc(features))], dim=1))


class Scalars(nn.Module):
    """Attention scaled by a constant, written with einsum, and element-wise ops with Python numbers
    (``x * 0.125``, ``1 - x``)."""

    def __init__(self, dim=32, heads=4):
        super().__init__()
        self.heads = heads
        self.scale = (dim // heads) ** -0.5
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        b, t, c = x.shape
        q, k, v = self.qkv(x).reshape(b, t, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4).unbind(0)
        attn = torch.einsum("bhid,bhjd->bhij", q * self.scale, k)  # a matrix product written as einsum
        out = torch.einsum("b h i j, b h j d -> b h i d", attn.softmax(dim=-1), v).swapaxes(1, 2).reshape(b, t, c)
        gate = torch.sigmoid(out)
        out = self.proj(out * (1 - gate) + 1)
        return torch.mul(out, 0.5) / 2 + 2 / (out.abs() + 1) - out.sub(3)
