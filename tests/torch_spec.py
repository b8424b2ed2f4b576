"""A spec run by PyTorch: one ``torch.nn`` module per leaf layer, called in the spec's execution order.

The test oracle of the memory and cost differential tests (torch is a test-only dependency). Each
layer type maps to the torch module or function that PyTorch users write for it: ``torch.nn.<Type>``
with the spec's arguments where torch has the class; for layercalc's own types, the implementation
named in their docstrings (GroupedQueryAttention as Llama's attention with ``repeat_interleave`` and
``scaled_dot_product_attention``, RotaryEmbedding as ``x * cos + rotate_half(x) * sin`` with the
tables made in the layer's forward). In-place arguments are ignored: every layer makes a new tensor.

``SpecModel(graph, report)`` is an ``nn.Module`` whose ``forward(*inputs)`` returns the spec's
outputs; ``model.current`` names the layer that is running (for per-layer attribution).
"""

from __future__ import annotations

import inspect
import math
import operator
import random

import torch
import torch.nn.functional as F
from torch import nn

import layercalc
from layercalc.engine import load_graph, run_graph
from layercalc.layers.registry import takes_no_input


def causal_mask(lq, s, dtype=torch.float32):
    return torch.triu(torch.full((lq, s), float("-inf"), dtype=dtype), diagonal=1)


class Fn(nn.Module):
    """A parameter-free layer written as a function of its inputs."""

    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, *xs):
        return self.fn(*xs)


def rotate_half(x):
    a, b = x.chunk(2, dim=-1)
    return torch.cat((-b, a), dim=-1)


class Rotary(nn.Module):
    """RoPE on the last dimension (the first ``rotary_dim`` features), tables made in forward, positions on dim -2
    of a (B, T, D) input or dim 1 of (B, T, H, D)."""

    def __init__(self, rotary_dim=None, seq_dim=-2):
        super().__init__()
        self.rotary_dim, self.seq_dim = rotary_dim, seq_dim

    def tables(self, x):
        d = self.rotary_dim or x.shape[-1]
        t = x.shape[self.seq_dim]
        inv = 1.0 / (10000 ** (torch.arange(0, d, 2, dtype=torch.float32) / d))
        freqs = torch.outer(torch.arange(t, dtype=torch.float32), inv)
        emb = torch.cat((freqs, freqs), dim=-1)
        shape = [1] * x.dim()
        shape[self.seq_dim] = t
        shape[-1] = d
        return emb.cos().to(x.dtype).view(shape), emb.sin().to(x.dtype).view(shape)

    def apply(self, x, cos, sin):
        d = cos.shape[-1]
        if d == x.shape[-1]:
            return x * cos + rotate_half(x) * sin
        xr, xp = x[..., :d], x[..., d:]
        return torch.cat((xr * cos + rotate_half(xr) * sin, xp), dim=-1)

    def forward(self, x):
        return self.apply(x, *self.tables(x))


class RelativePositionBias(nn.Module):
    """Swin's relative position bias, as torchvision's ``ShiftedWindowAttention`` computes it."""

    def __init__(self, window_size, num_heads):
        super().__init__()
        wh, ww = window_size
        self.table = nn.Parameter(torch.randn((2 * wh - 1) * (2 * ww - 1), num_heads))
        coords = torch.flatten(torch.stack(torch.meshgrid(torch.arange(wh), torch.arange(ww), indexing="ij")), 1)
        rel = (coords[:, :, None] - coords[:, None, :]).permute(1, 2, 0).contiguous()
        rel[:, :, 0] += wh - 1
        rel[:, :, 1] += ww - 1
        rel[:, :, 0] *= 2 * ww - 1
        self.register_buffer("index", rel.sum(-1).flatten())
        self.n = wh * ww

    def forward(self):
        bias = self.table[self.index].view(self.n, self.n, -1)
        return bias.permute(2, 0, 1).contiguous().unsqueeze(0)


class LlamaAttention(nn.Module):
    def __init__(self, e, heads, kv, hd, bias, causal, rotary):
        super().__init__()
        self.heads, self.kv, self.hd, self.causal = heads, kv, hd, causal
        self.q_proj = nn.Linear(e, heads * hd, bias=bias)
        self.k_proj = nn.Linear(e, kv * hd, bias=bias)
        self.v_proj = nn.Linear(e, kv * hd, bias=bias)
        self.o_proj = nn.Linear(heads * hd, e, bias=bias)
        self.rotary = Rotary(seq_dim=-2) if rotary else None

    def forward(self, x):
        unbatched = x.dim() == 2
        if unbatched:
            x = x.unsqueeze(0)
        b, t, _ = x.shape
        q = self.q_proj(x).view(b, t, self.heads, self.hd).transpose(1, 2)
        k = self.k_proj(x).view(b, t, self.kv, self.hd).transpose(1, 2)
        v = self.v_proj(x).view(b, t, self.kv, self.hd).transpose(1, 2)
        if self.rotary is not None:
            cos, sin = self.rotary.tables(q)  # once per layer, for q and k
            q, k = self.rotary.apply(q, cos, sin), self.rotary.apply(k, cos, sin)
        if self.kv != self.heads:
            k = k.repeat_interleave(self.heads // self.kv, dim=1)
            v = v.repeat_interleave(self.heads // self.kv, dim=1)
        o = F.scaled_dot_product_attention(q, k, v, is_causal=self.causal)
        o = self.o_proj(o.transpose(1, 2).reshape(b, t, self.heads * self.hd))
        return o[0] if unbatched else o


class MHA(nn.Module):
    CALL = ("need_weights", "average_attn_weights", "is_causal")

    def __init__(self, args):
        super().__init__()
        ctor = {k: v for k, v in args.items() if k not in self.CALL + ("embed_dim",)}
        self.mha = nn.MultiheadAttention(args["embed_dim"], **ctor)
        self.kw = {k: args[k] for k in self.CALL}
        self.batch_first = args["batch_first"]

    def forward(self, q, k=None, v=None):
        k = q if k is None else k
        v = k if v is None else v
        kw = dict(self.kw)
        if kw["is_causal"]:
            lq = q.shape[1 if self.batch_first and q.dim() == 3 else 0]
            s = k.shape[1 if self.batch_first and k.dim() == 3 else 0]
            kw["attn_mask"] = causal_mask(lq, s, q.dtype)
        out, w = self.mha(q, k, v, **kw)
        return out if w is None else (out, w)


class Encoder(nn.Module):
    def __init__(self, kind, args):
        super().__init__()
        call = ("is_causal", "tgt_is_causal", "memory_is_causal")
        self.kind, self.args = kind, args
        ctor = {k: v for k, v in args.items() if k not in call + ("d_model",)}
        self.layer = getattr(nn, kind)(args["d_model"], **ctor)

    def forward(self, x, mem=None):
        t = x.shape[1 if self.args["batch_first"] and x.dim() == 3 else 0]
        if self.kind == "TransformerEncoderLayer":
            kw = {"src_mask": causal_mask(t, t, x.dtype), "is_causal": True} if self.args.get("is_causal") else {}
            return self.layer(x, **kw)
        kw = {"tgt_mask": causal_mask(t, t, x.dtype), "tgt_is_causal": True} if self.args.get("tgt_is_causal") else {}
        return self.layer(x, mem, **kw)


def _generic(cls, args):
    params = inspect.signature(cls).parameters
    if any(p.kind == p.VAR_KEYWORD for p in params.values()):
        return cls(**{k: v for k, v in args.items() if k != "inplace"})
    return cls(**{k: v for k, v in args.items() if k in params and k != "inplace"})


def _pair(v):
    return list(v) if isinstance(v, (list, tuple)) else [v, v]


def torchvision_swin():
    """torchvision's Swin module (its models are pure Python; the compiled operators of the CUDA wheel are
    not needed, so their registration module is stubbed before the first import); a test is skipped
    where torchvision is not installed."""
    import sys
    import types

    import pytest

    sys.modules.setdefault("torchvision._meta_registrations", types.ModuleType("torchvision._meta_registrations"))
    return pytest.importorskip("torchvision.models.swin_transformer")


def window_cases(n=24, seed=57):
    """Random Swin window attention layers: (type, spec arguments, window, shift, input shape)."""
    rng = random.Random(seed)
    for _ in range(n):
        heads = rng.randint(1, 3)
        window = [rng.randint(1, 5), rng.randint(1, 5)]
        shift = [rng.randint(0, w - 1) if rng.random() < 0.7 else 0 for w in window]
        shape = [rng.randint(1, 2), rng.randint(1, 11), rng.randint(1, 11), heads * rng.randint(1, 4)]
        args = {"window_size": window if window[0] != window[1] else window[0],
                "shift_size": shift if shift[0] != shift[1] else shift[0], "num_heads": heads}
        for name in ("qkv_bias", "proj_bias"):
            if rng.random() < 0.3:
                args[name] = False
        yield rng.choice(["ShiftedWindowAttention", "ShiftedWindowAttentionV2"]), args, window, shift, shape


def _ntuple(v):
    return list(v) if isinstance(v, (list, tuple)) else v


def make_module(row) -> nn.Module:
    """The torch module of one report row (its resolved arguments)."""
    t, a = row.type, dict(row.args)
    if t == "MultiheadAttention":
        return MHA(a)
    if t in ("TransformerEncoderLayer", "TransformerDecoderLayer"):
        return Encoder(t, a)
    if t == "GroupedQueryAttention":
        heads = a["num_heads"]
        kv = a["num_kv_heads"] or heads
        hd = a["head_dim"] or a["embed_dim"] // heads
        return LlamaAttention(a["embed_dim"], heads, kv, hd, a["bias"], a["is_causal"], a["rotary"])
    if t == "RotaryEmbedding":
        return Rotary(a.get("rotary_dim"), seq_dim=1 if len(row.input_shapes[0]) == 4 else -2)
    if t == "ScaledDotProductAttention":
        return Fn(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=a["is_causal"], scale=a["scale"],
                                                                 dropout_p=a["dropout_p"], enable_gqa=a["enable_gqa"]))
    if t == "Parameter":
        m = nn.Module()
        m.weight = nn.Parameter(torch.randn(*a["shape"]))
        m.forward = lambda: m.weight
        return m
    if t == "RelativePositionBias":
        return RelativePositionBias(a["window_size"], a["num_heads"])
    if t in ("ShiftedWindowAttention", "ShiftedWindowAttentionV2"):
        return getattr(torchvision_swin(), t)(
            a["dim"], _pair(a["window_size"]), _pair(a["shift_size"]), a["num_heads"], qkv_bias=a["qkv_bias"],
            proj_bias=a["proj_bias"], attention_dropout=a["attention_dropout"], dropout=a["dropout"])
    if t == "StochasticDepth":
        torchvision_swin()  # torchvision importable (its compiled operators stubbed)
        from torchvision.ops import StochasticDepth

        return StochasticDepth(a["p"], a["mode"])
    if t in ("Add", "Sub", "Mul", "Div") and a.get("scalar") is not None:
        op = {"Add": operator.add, "Sub": operator.sub, "Mul": operator.mul, "Div": operator.truediv}[t]
        first = a.get("scalar_first")
        return Fn(lambda x: op(a["scalar"], x) if first else op(x, a["scalar"]))
    simple = {
        "Add": lambda *xs: _fold(torch.add, xs), "Mul": lambda *xs: _fold(torch.mul, xs),
        "Sub": torch.sub, "Div": torch.div, "MatMul": torch.matmul, "Neg": torch.neg, "Abs": torch.abs,
        "Concat": lambda *xs: torch.cat(xs, dim=a["dim"]),
        "Select": lambda x: x.select(a["dim"], a["index"]),
        "Slice": lambda x: _slice(x, a), "Reshape": lambda x: x.reshape(_ntuple(a["shape"])),
        "Permute": lambda x: x.permute(*a["dims"]), "Transpose": lambda x: x.transpose(a["dim0"], a["dim1"]),
        "Expand": lambda x: x.expand(*a["shape"]),
        "Mean": lambda x: x.mean() if a["dim"] is None else x.mean(dim=_ntuple(a["dim"]), keepdim=a["keepdim"]),
    }
    if t in simple:
        return Fn(simple[t])
    if t in ("LSTM", "GRU", "RNN"):
        return Recurrent(_generic(getattr(nn, t), a))
    return _generic(getattr(nn, t), a)


class Recurrent(nn.Module):
    def __init__(self, rnn):
        super().__init__()
        self.rnn = rnn

    def forward(self, x, *state):
        out, h = self.rnn(x, *state) if state else self.rnn(x)
        return (out, *h) if isinstance(h, tuple) else (out, h)


def _fold(op, xs):
    out = xs[0]
    for x in xs[1:]:
        out = op(out, x)
    return out


def _slice(x, a):
    idx = [slice(None)] * x.dim()
    idx[a["dim"]] = slice(a["start"], a["end"], a["step"])
    return x[tuple(idx)]


class SpecModel(nn.Module):
    """The spec as one torch module: ``forward(*inputs)`` runs every layer in order; the block
    instances named in ``checkpoint`` (``h``: each instance h.0, h.1...; ``h.3``: one) run under
    ``torch.utils.checkpoint.checkpoint(use_reentrant=False)``."""

    checkpoint = ()

    def instance(self, name):
        for p in self.checkpoint:
            if name.startswith(p + "."):
                rest = name[len(p) + 1:].split(".")
                return p + "." + rest[0] if rest[0].isdigit() and len(rest) > 1 else p
        return None

    def _checkpointed(self, pairs, values):
        from torch.utils.checkpoint import checkpoint

        inside = {node.name for node, _ in pairs}
        outside = []
        for node, _ in pairs:
            for s in node.inputs:
                if s.node not in inside and (s.node, s.extra) not in outside:
                    outside.append((s.node, s.extra))
        made = [(node.name, None) for node, _ in pairs] + [(node.name, e) for node, row in pairs
                                                           for e in row.extra_outputs]

        def run(*xs):
            local = dict(zip(outside, xs))
            for node, row in pairs:
                self._run(node, row, local)
            return tuple(local[k] for k in made)

        outs = checkpoint(run, *[values[k] for k in outside], use_reentrant=False)
        values.update(zip(made, outs))

    def __init__(self, graph, report):
        super().__init__()
        self.graph, self.report = graph, report
        self.layers = nn.ModuleDict()
        self.alias = {}
        owners = {}
        for node, row in zip(graph.nodes, report.layers):
            key = node.name.replace(".", "__")
            if node.share is not None:
                self.alias[key] = owners[node.share]
            else:
                module = make_module(row)
                if node.tie is not None:
                    module.weight = self.layers[owners[node.tie]].weight
                if not node.trainable:
                    for p in module.parameters():
                        p.requires_grad_(False)
                self.layers[key] = module
            owners[node.name] = self.alias.get(key, key)
        self.current = None

    def _run(self, node, row, values):
        key = node.name.replace(".", "__")
        module = self.layers[self.alias.get(key, key)]
        xs = [values[(s.node, s.extra)] for s in node.inputs] if not takes_no_input(row.type) else []
        self.current = node.name
        out = module(*xs)
        if isinstance(out, tuple):
            values[(node.name, None)] = out[0]
            for name, value in zip(row.extra_outputs, out[1:]):
                values[(node.name, name)] = value
        else:
            values[(node.name, None)] = out

    def forward(self, *inputs):
        values = {}
        for spec_input, x in zip(self.graph.spec.inputs, inputs):
            values[(spec_input.name, None)] = x
        pairs = list(zip(self.graph.nodes, self.report.layers))
        i = 0
        while i < len(pairs):
            inst = self.instance(pairs[i][0].name)
            if inst is None:
                self._run(*pairs[i], values)
                i += 1
                continue
            j = i
            while j < len(pairs) and self.instance(pairs[j][0].name) == inst:
                j += 1
            self._checkpointed(pairs[i:j], values)
            i = j
        self.current = None
        self.values = values
        return tuple(values[(src.node, src.extra)] for src, _, _ in self.graph.outputs)


def build(source, dims=None, vars=None):
    """(graph, report, model, example inputs) of a spec; integer inputs hold zeros."""
    graph = load_graph(source, dims=dims, vars=vars)
    report = run_graph(graph)
    model = SpecModel(graph, report)
    inputs = []
    for spec_input in graph.spec.inputs:
        if spec_input.dtype.startswith(("int", "uint", "bool")):
            inputs.append(torch.zeros(*spec_input.shape, dtype=getattr(torch, spec_input.dtype)))
        else:
            inputs.append(torch.randn(*spec_input.shape))
    return graph, report, model, inputs


__all__ = ["build", "SpecModel", "make_module", "layercalc", "math"]
