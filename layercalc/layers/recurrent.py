"""Layer rules of the recurrent family: ``RNN``, ``LSTM``, ``GRU`` and their cells
``RNNCell``, ``LSTMCell``, ``GRUCell``.

The three architectures differ only in their number of gates (RNN 1, LSTM 4,
GRU 3) and in the element-wise work that combines the gates, so one base class
holds the arithmetic (:class:`_Gates`) and each type only names its gates.

Symbols used in the formulas below: T the sequence length, N the batch size (1
for an unbatched input), D = 2 when bidirectional else 1, L = num_layers,
H = hidden_size, P = proj_size (LSTM only; R = P when P > 0 else H, the size of
the recurrent state h), G the number of gates (1, 4, 3), I_l the input size of
layer l: input_size for l = 0 and D * R above.

MACs, per time step, per direction, per sample and per layer:
G * H * (I_l + R), plus H * P for LSTM's projection. These are the products
``W_ih x + W_hh h`` (and ``W_hr h``) that torch's FlopCounterMode sees when the
RNN runs unfused; at the first step h = 0 but the product is still computed.

FLOPs = 2 * MACs + T * N * D * L * E, where E is the element-wise work of one
step (per direction, sample and layer):

- the sum of the two gate products ``W_ih x + W_hh h``: G * H adds (GRU: the
  r and z sums, 2H, and n's ``W_in x + r * (W_hn h)``: H multiplies + H adds);
- biases: 2 * G * H adds (``b_ih`` and ``b_hh``) when ``bias``;
- RNN: the nonlinearity (tanh or relu) on H;
- LSTM: sigmoid on 3H (i, f, o), tanh on H (g); ``c = f * c + i * g``: 3H;
  ``h = o * tanh(c)``: tanh on H and H multiplies;
- GRU: sigmoid on 2H (r, z), tanh on H (n); ``h = (1 - z) * n + z * h``,
  computed as ``n + z * (h - n)``: 3H.

The nonlinearities cost what :mod:`layercalc.costs` (the activation family's
table) counts per element for Tanh, Sigmoid and ReLU.
Dropout between layers is the identity at inference and costs nothing.
"""

from __future__ import annotations

from typing import ClassVar

from .. import costs
from ..errors import LayerError
from .base import Arg, Out, Rule, infer, need_rank
from .registry import register

MAX_STACK = 10_000  # num_layers above this is refused: every layer gets its own parameter tensors


def activation_flops(type_name: str, n: int) -> int:
    """FLOPs of the activation ``type_name`` (``"Sigmoid"``, ``"Tanh"``, ``"ReLU"``) on n elements.

    The per-element costs are the project's one table, :data:`layercalc.costs.ELEMENTWISE`,
    which the activation rules use too: a gate counts what a standalone layer counts.
    """
    return costs.ELEMENTWISE[type_name] * n


# --- the shared gate arithmetic ----------------------------------------------------------------------------


class _Gates:
    """What distinguishes RNN, LSTM and GRU: the number of gates and the element-wise work of one step."""

    gates: ClassVar[int] = 1

    @classmethod
    def step_macs(cls, hidden: int, fin: int, rec: int, proj: int = 0) -> int:
        """Gate products ``G*H*(fin + rec)`` plus the projection ``H*proj`` of one step, direction and sample."""
        return cls.gates * hidden * (fin + rec) + hidden * proj

    @classmethod
    def step_elementwise(cls, a, hidden: int) -> int:
        """FLOPs of one step, direction and sample that are not products (see the module docstring)."""
        raise NotImplementedError

    @classmethod
    def cell_params(cls, hidden: int, fin: int, rec: int, bias: bool, suffix: str = "", proj: int = 0) -> dict:
        """torch's parameters of one layer and direction (``suffix``: ``_l0``, ``_l1_reverse``; ``""`` for cells)."""
        g = cls.gates * hidden
        params = {f"weight_ih{suffix}": (g, fin), f"weight_hh{suffix}": (g, rec)}
        if bias:
            params[f"bias_ih{suffix}"] = (g,)
            params[f"bias_hh{suffix}"] = (g,)
        if proj:
            params[f"weight_hr{suffix}"] = (proj, hidden)
        return params


class _RNNGates(_Gates):
    gates = 1

    @classmethod
    def step_elementwise(cls, a, hidden):
        act = "ReLU" if a.nonlinearity == "relu" else "Tanh"
        bias = 2 * hidden if a.bias else 0
        return hidden + bias + activation_flops(act, hidden)


class _LSTMGates(_Gates):
    gates = 4

    @classmethod
    def step_elementwise(cls, a, hidden):
        bias = 8 * hidden if a.bias else 0
        combine, cell, out = 4 * hidden, 3 * hidden, hidden
        return combine + bias + cell + out + activation_flops("Sigmoid", 3 * hidden) + \
            activation_flops("Tanh", 2 * hidden)


class _GRUGates(_Gates):
    gates = 3

    @classmethod
    def step_elementwise(cls, a, hidden):
        bias = 6 * hidden if a.bias else 0
        combine, update = 4 * hidden, 3 * hidden  # r, z sums (2H); n: r * (W_hn h) and the add (2H)
        return combine + bias + update + activation_flops("Sigmoid", 2 * hidden) + activation_flops("Tanh", hidden)


# --- the sequence layers -----------------------------------------------------------------------------------


_SEQ_ARGS = (
    Arg("input_size", "int", None, min=1, infer=True, doc="features of the input (inferred from its last dimension)"),
    Arg("hidden_size", "int", min=1, doc="features of the hidden state h"),
    Arg("num_layers", "int", 1, min=1, doc="stacked recurrent layers"),
    Arg("bias", "bool", True, doc="learn b_ih and b_hh"),
    Arg("batch_first", "bool", False, doc="input and output are (N, T, *) instead of (T, N, *)"),
    Arg("dropout", "float", 0.0, min=0, doc="dropout on the outputs of all layers but the last (training only)"),
    Arg("bidirectional", "bool", False, doc="also run the sequence backwards; D = 2"),
)


class _Sequence(Rule):
    """Shared forward of RNN, LSTM and GRU (see the module docstring)."""

    family = "recurrent"
    cell: ClassVar[type[_Gates]] = _Gates
    extra_outputs = ("h_n",)

    def check(self, a) -> None:
        if not 0 <= a.dropout <= 1:  # also nan, which torch refuses
            raise LayerError(f"dropout={a.dropout:g} is not a probability", "use a dropout between 0 and 1",
                             arg="dropout", code="S006")

    def forward(self, a, xs):
        x = xs[0]
        name = self.type
        need_rank(x, (2, 3), name, "(T, input_size) unbatched, (T, N, input_size), or (N, T, input_size) with "
                  "batch_first")
        self.check(a)
        fin = infer(a, "input_size", x.shape[-1], "last dimension")
        batched = x.rank == 3
        if batched:
            t, n = (x.shape[1], x.shape[0]) if a.batch_first else (x.shape[0], x.shape[1])
        else:
            t, n = x.shape[0], 1
        d = 2 if a.bidirectional else 1
        h = a.hidden_size
        proj = getattr(a, "proj_size", 0)
        rec = proj or h
        if a.num_layers > MAX_STACK:
            raise LayerError(f"num_layers={a.num_layers} is more than layercalc's cap of {MAX_STACK} stacked layers",
                             f"use at most {MAX_STACK} layers (each one is counted with its own parameters)",
                             arg="num_layers", code="S006")
        params: dict = {}
        step_macs = 0
        for layer in range(a.num_layers):
            layer_in = fin if layer == 0 else d * rec
            for direction in range(d):
                suffix = f"_l{layer}" + ("_reverse" if direction else "")
                params.update(self.cell.cell_params(h, layer_in, rec, a.bias, suffix, proj))
            step_macs += d * self.cell.step_macs(h, layer_in, rec, proj)
        macs = t * n * step_macs
        flops = 2 * macs + t * n * d * a.num_layers * self.cell.step_elementwise(a, h)
        out = x.shape[:-1] + (d * rec,)
        lead = (d * a.num_layers, n) if batched else (d * a.num_layers,)
        extras = {"h_n": lead + (rec,)}
        if "c_n" in self.extra_outputs:
            extras["c_n"] = lead + (h,)
        return Out(out, extras=extras, params=params, macs=macs, flops=flops)


@register
class RNN(_Sequence):
    """Elman recurrent network: h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh), act tanh or relu.

    Args: input_size (inferred), hidden_size, num_layers (1), nonlinearity
    (tanh | relu), bias (true), batch_first (false), dropout (0.0),
    bidirectional (false).
    Input shape: (T, N, input_size), (N, T, input_size) with batch_first, or
    (T, input_size) unbatched (batch_first is ignored for it).
    Output shape: (T, N, D*H) (batch_first: (N, T, D*H); unbatched (T, D*H)).
    Extra output h_n: (D*num_layers, N, H), or (D*num_layers, H) unbatched;
    never batch-first.
    Params, per layer l and direction: weight_ih_l{l} (H, I_l),
    weight_hh_l{l} (H, H), bias_ih_l{l} (H), bias_hh_l{l} (H); ``_reverse``
    for the backward direction. I_0 = input_size, I_l = D*H above.
    MACs: T * N * D * sum_l H * (I_l + H).
    FLOPs: 2 * MACs + T * N * D * L * (H [sum of the two products]
    + 2H [biases, when bias] + act(H)), act the cost of Tanh or ReLU on H
    elements.
    """

    cell = _RNNGates
    args = _SEQ_ARGS[:3] + (Arg("nonlinearity", "str", "tanh", choices=("tanh", "relu"),
                                doc="tanh or relu"),) + _SEQ_ARGS[3:]
    macs = "T * N * D * sum_l H * (I_l + H)"
    flops = "2 * MACs + T*N*D*L * (H + 2H if bias + act(H))"


@register
class LSTM(_Sequence):
    """Long short-term memory: gates i, f, g, o; c_t = f*c + i*g, h_t = o*tanh(c_t), optionally projected.

    Args: input_size (inferred), hidden_size, num_layers (1), bias (true),
    batch_first (false), dropout (0.0), bidirectional (false), proj_size (0:
    none; otherwise 0 < proj_size < hidden_size, and h_t = W_hr h_t, of size
    proj_size).
    R = proj_size if proj_size > 0 else H: the size of h.
    Input shape: (T, N, input_size), (N, T, input_size) with batch_first, or
    (T, input_size) unbatched.
    Output shape: (T, N, D*R) (batch_first: (N, T, D*R); unbatched (T, D*R)).
    Extra outputs h_n: (D*num_layers, N, R) and c_n: (D*num_layers, N, H);
    unbatched without N; never batch-first.
    Params, per layer l and direction: weight_ih_l{l} (4H, I_l),
    weight_hh_l{l} (4H, R), bias_ih_l{l} and bias_hh_l{l} (4H) when bias,
    weight_hr_l{l} (P, H) when proj_size > 0. I_0 = input_size, I_l = D*R above.
    MACs: T * N * D * sum_l (4H * (I_l + R) + H * P).
    FLOPs: 2 * MACs + T * N * D * L * (4H [sum of the two products]
    + 8H [biases, when bias] + Sigmoid(3H) + Tanh(2H) + 3H [c = f*c + i*g]
    + H [o * tanh(c)]).
    """

    cell = _LSTMGates
    extra_outputs = ("h_n", "c_n")
    args = _SEQ_ARGS + (Arg("proj_size", "int", 0, min=0, doc="size of the projected h (0: no projection)"),)
    macs = "T * N * D * sum_l (4H * (I_l + R) + H * proj_size)"
    flops = "2 * MACs + T*N*D*L * (4H + 8H if bias + sigmoid(3H) + tanh(2H) + 4H)"

    def check(self, a):
        super().check(a)
        if a.proj_size and a.proj_size >= a.hidden_size:
            raise LayerError(f"proj_size={a.proj_size} must be smaller than hidden_size={a.hidden_size}",
                             f"use a proj_size below {a.hidden_size}, or 0 for no projection",
                             arg="proj_size", code="S006")


@register
class GRU(_Sequence):
    """Gated recurrent unit: gates r, z, n; n = tanh(W_in x + b_in + r*(W_hn h + b_hn)), h = (1-z)*n + z*h.

    Args: input_size (inferred), hidden_size, num_layers (1), bias (true),
    batch_first (false), dropout (0.0), bidirectional (false).
    Input shape: (T, N, input_size), (N, T, input_size) with batch_first, or
    (T, input_size) unbatched.
    Output shape: (T, N, D*H) (batch_first: (N, T, D*H); unbatched (T, D*H)).
    Extra output h_n: (D*num_layers, N, H), or (D*num_layers, H) unbatched.
    Params, per layer l and direction: weight_ih_l{l} (3H, I_l),
    weight_hh_l{l} (3H, H), bias_ih_l{l} and bias_hh_l{l} (3H) when bias.
    MACs: T * N * D * sum_l 3H * (I_l + H).
    FLOPs: 2 * MACs + T * N * D * L * (4H [r and z sums, r * (W_hn h), the
    n sum] + 6H [biases, when bias] + Sigmoid(2H) + Tanh(H) + 3H [n + z*(h - n)]).
    """

    cell = _GRUGates
    args = _SEQ_ARGS
    macs = "T * N * D * sum_l 3H * (I_l + H)"
    flops = "2 * MACs + T*N*D*L * (4H + 6H if bias + sigmoid(2H) + tanh(H) + 3H)"


# --- the cells ---------------------------------------------------------------------------------------------


_CELL_ARGS = (
    Arg("input_size", "int", None, min=1, infer=True, doc="features of the input (inferred from its last dimension)"),
    Arg("hidden_size", "int", min=1, doc="features of the hidden state"),
    Arg("bias", "bool", True, doc="learn b_ih and b_hh"),
)


class _Cell(Rule):
    """Shared forward of the cells: one time step of the corresponding sequence layer."""

    family = "recurrent"
    cell: ClassVar[type[_Gates]] = _Gates

    def forward(self, a, xs):
        x = xs[0]
        need_rank(x, (1, 2), self.type, "(N, input_size), or (input_size) unbatched")
        fin = infer(a, "input_size", x.shape[-1], "last dimension")
        n = x.shape[0] if x.rank == 2 else 1
        h = a.hidden_size
        macs = n * self.cell.step_macs(h, fin, h)
        flops = 2 * macs + n * self.cell.step_elementwise(a, h)
        out = x.shape[:-1] + (h,)
        extras = {"c": out} if "c" in self.extra_outputs else {}
        return Out(out, extras=extras, params=self.cell.cell_params(h, fin, h, a.bias), macs=macs, flops=flops)


@register
class RNNCell(_Cell):
    """One step of an Elman RNN: h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh), act tanh or relu.

    Args: input_size (inferred), hidden_size, bias (true), nonlinearity (tanh | relu).
    Input shape: (N, input_size) or (input_size) unbatched; the hidden state
    starts at zero. Output shape: (N, H) or (H).
    Params: weight_ih (H, input_size), weight_hh (H, H), bias_ih (H), bias_hh (H).
    MACs: N * H * (input_size + H).
    FLOPs: 2 * MACs + N * (H + 2H if bias + act(H)), as one step of RNN.
    """

    cell = _RNNGates
    args = _CELL_ARGS + (Arg("nonlinearity", "str", "tanh", choices=("tanh", "relu"), doc="tanh or relu"),)
    macs = "N * H * (input_size + H)"
    flops = "2 * MACs + N * (H + 2H if bias + act(H))"


@register
class LSTMCell(_Cell):
    """One step of an LSTM: returns h' (the primary output) and c' (extra output ``c``).

    Args: input_size (inferred), hidden_size, bias (true).
    Input shape: (N, input_size) or (input_size) unbatched; h and c start at
    zero. Output shape: (N, H) or (H); extra output c: the same shape.
    Params: weight_ih (4H, input_size), weight_hh (4H, H), bias_ih (4H), bias_hh (4H).
    MACs: N * 4H * (input_size + H).
    FLOPs: 2 * MACs + N * (4H + 8H if bias + Sigmoid(3H) + Tanh(2H) + 4H), as one step of LSTM.
    """

    cell = _LSTMGates
    extra_outputs = ("c",)
    args = _CELL_ARGS
    macs = "N * 4H * (input_size + H)"
    flops = "2 * MACs + N * (4H + 8H if bias + sigmoid(3H) + tanh(2H) + 4H)"


@register
class GRUCell(_Cell):
    """One step of a GRU: h' = (1 - z) * n + z * h.

    Args: input_size (inferred), hidden_size, bias (true).
    Input shape: (N, input_size) or (input_size) unbatched; h starts at zero.
    Output shape: (N, H) or (H).
    Params: weight_ih (3H, input_size), weight_hh (3H, H), bias_ih (3H), bias_hh (3H).
    MACs: N * 3H * (input_size + H).
    FLOPs: 2 * MACs + N * (4H + 6H if bias + Sigmoid(2H) + Tanh(H) + 3H), as one step of GRU.
    """

    cell = _GRUGates
    args = _CELL_ARGS
    macs = "N * 3H * (input_size + H)"
    flops = "2 * MACs + N * (4H + 6H if bias + sigmoid(2H) + tanh(H) + 3H)"
