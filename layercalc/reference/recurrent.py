"""Reference kernels of the recurrent family: RNN, LSTM, GRU and their cells.

One step of each, as torch.nn documents it (gates in torch's order)::

    RNN:   h' = act(W_ih x + b_ih + W_hh h + b_hh)
    LSTM:  i, f, g, o = split(W_ih x + b_ih + W_hh h + b_hh)
           c' = sigmoid(f) * c + sigmoid(i) * tanh(g);  h' = sigmoid(o) * tanh(c')  (then W_hr h' if proj_size)
    GRU:   r, z, n = split(W_ih x + b_ih), split(W_hh h + b_hh)
           r = sigmoid(x_r + h_r), z = sigmoid(x_z + h_z), n = tanh(x_n + r * h_n)
           h' = n + z * (h - n)

A sequence layer runs every layer and direction over the time steps (the
backward direction from the last step), starting from h = c = 0; the products
with h = 0 at the first step are still computed, as torch does. Between
layers the outputs of both directions are concatenated; dropout is the
identity at inference.
"""

from __future__ import annotations

from .activation import sigmoid
from .linear import affine_rows
from .ops import Ops
from .tensor import Tensor


def matvec(ctx, weight: Tensor, bias: Tensor | None, v: list) -> list:
    """W v (+ b): one product row per output."""
    return affine_rows(ctx, [v], weight, bias)[0]


class Cell:
    """The weights of one layer and direction, and its step."""

    def __init__(self, ctx, kind: str, hidden: int, fin: int, rec: int, bias: bool, suffix: str = "", proj: int = 0):
        gates = {"RNN": 1, "LSTM": 4, "GRU": 3}[kind]
        self.ctx, self.kind, self.h = ctx, kind, hidden
        p = lambda name, shape: ctx.param(name + suffix, shape, fan_in=hidden)  # noqa: E731
        self.w_ih = p("weight_ih", (gates * hidden, fin))
        self.w_hh = p("weight_hh", (gates * hidden, rec))
        self.b_ih = p("bias_ih", (gates * hidden,)) if bias else None
        self.b_hh = p("bias_hh", (gates * hidden,)) if bias else None
        self.w_hr = p("weight_hr", (proj, hidden)) if proj else None

    def step(self, x: list, h: list, c: list | None):
        o, H = Ops(self.ctx), self.h
        gi = matvec(self.ctx, self.w_ih, self.b_ih, x)
        gh = matvec(self.ctx, self.w_hh, self.b_hh, h)
        if self.kind == "RNN":
            pre = [o.add(a, b) for a, b in zip(gi, gh)]
            act = (lambda v: o.max(v, 0.0)) if self.ctx.nonlinearity == "relu" else o.tanh
            return [act(v) for v in pre], None
        if self.kind == "LSTM":
            g = [o.add(a, b) for a, b in zip(gi, gh)]
            i = [sigmoid(o, v) for v in g[0:H]]
            f = [sigmoid(o, v) for v in g[H:2 * H]]
            cand = [o.tanh(v) for v in g[2 * H:3 * H]]
            out = [sigmoid(o, v) for v in g[3 * H:4 * H]]
            c = [o.add(o.mul(fv, cv), o.mul(iv, gv)) for fv, cv, iv, gv in zip(f, c, i, cand)]
            h = [o.mul(ov, o.tanh(cv)) for ov, cv in zip(out, c)]
            if self.w_hr is not None:
                h = matvec(self.ctx, self.w_hr, None, h)
            return h, c
        # GRU
        r = [sigmoid(o, o.add(a, b)) for a, b in zip(gi[0:H], gh[0:H])]
        z = [sigmoid(o, o.add(a, b)) for a, b in zip(gi[H:2 * H], gh[H:2 * H])]
        n = [o.tanh(o.add(a, o.mul(rv, b))) for a, rv, b in zip(gi[2 * H:], r, gh[2 * H:])]
        return [o.add(nv, o.mul(zv, o.sub(hv, nv))) for nv, zv, hv in zip(n, z, h)], None


def sequence(ctx, x: Tensor, kind: str):
    batched = x.rank == 3
    if not batched:
        x = x.reshape((x.shape[0], 1, x.shape[1]))
    elif ctx.batch_first:  # (N, T, I) -> (T, N, I)
        x = Tensor((x.shape[1], x.shape[0], x.shape[2]),
                   [x.at(n, t, i) for t in range(x.shape[1]) for n in range(x.shape[0]) for i in range(x.shape[2])])
    steps, batch, fin = x.shape
    hidden = ctx.hidden_size
    proj = ctx.args.get("proj_size", 0) or 0
    rec = proj or hidden
    directions = 2 if ctx.bidirectional else 1
    # seq[t][n]: the feature vector of step t, sample n, fed to the current layer
    seq = [[x.data[(t * batch + n) * fin:(t * batch + n + 1) * fin] for n in range(batch)] for t in range(steps)]
    h_n, c_n = [], []
    for layer in range(ctx.num_layers):
        layer_in = len(seq[0][0]) if steps else (fin if layer == 0 else directions * rec)
        outs = [[[] for _ in range(batch)] for _ in range(steps)]
        for d in range(directions):
            cell = Cell(ctx, kind, hidden, layer_in, rec, ctx.bias, f"_l{layer}" + ("_reverse" if d else ""), proj)
            for n in range(batch):
                h, c = [0.0] * rec, [0.0] * hidden
                for t in (reversed(range(steps)) if d else range(steps)):
                    h, c = cell.step(seq[t][n], h, c)
                    outs[t][n] = outs[t][n] + h
                h_n.append(h)
                c_n.append(c)
        seq = outs
    # h_n is ordered (layer, direction), then the batch
    def final(states, size):
        per = len(states) // batch
        data = [v for k in range(per) for n in range(batch) for v in states[k * batch + n]]
        return Tensor((per, batch, size) if batched else (per, size), data)

    out_size = len(seq[0][0]) if steps else directions * rec
    if batched and ctx.batch_first:
        y = Tensor((batch, steps, out_size), [v for n in range(batch) for t in range(steps) for v in seq[t][n]])
    else:
        y = Tensor((steps, batch, out_size) if batched else (steps, out_size),
                   [v for t in range(steps) for n in range(batch) for v in seq[t][n]])
    extras = {"h_n": final(h_n, rec)}
    if kind == "LSTM":
        extras["c_n"] = final(c_n, hidden)
    return y, extras


def rnn(ctx, x):
    return sequence(ctx, x, "RNN")


def lstm(ctx, x):
    return sequence(ctx, x, "LSTM")


def gru(ctx, x):
    return sequence(ctx, x, "GRU")


def cell_step(ctx, x: Tensor, kind: str):
    """One step from h = c = 0 on every sample of (N, input_size) or (input_size)."""
    hidden = ctx.hidden_size
    cell = Cell(ctx, kind, hidden, x.shape[-1], hidden, ctx.bias)
    rows = [x.data[i:i + x.shape[-1]] for i in range(0, x.numel, x.shape[-1])]
    hs, cs = [], []
    for row in rows:
        h, c = cell.step(row, [0.0] * hidden, [0.0] * hidden)
        hs += h
        cs += c or []
    shape = x.shape[:-1] + (hidden,)
    if kind == "LSTM":
        return Tensor(shape, hs), {"c": Tensor(shape, cs)}
    return Tensor(shape, hs)


def rnn_cell(ctx, x):
    return cell_step(ctx, x, "RNN")


def lstm_cell(ctx, x):
    return cell_step(ctx, x, "LSTM")


def gru_cell(ctx, x):
    return cell_step(ctx, x, "GRU")


KERNELS = {"RNN": rnn, "LSTM": lstm, "GRU": gru, "RNNCell": rnn_cell, "LSTMCell": lstm_cell, "GRUCell": gru_cell}
