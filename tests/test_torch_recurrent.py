"""Differential tests of the recurrent family against torch.nn (skipped without torch).

With ``torch.backends.mkldnn.enabled = False`` (set by ``torch_measure``),
FlopCounterMode sees the gate products of RNN, LSTM and GRU on CPU (the
unfused path runs ``aten.mm``/``aten.addmm`` per step), so the MACs are compared
with the counter itself, not only with the docstring formula.
"""

import random

import pytest

torch = pytest.importorskip("torch")

import layercalc  # noqa: E402
from tests.oracle import ours, torch_measure  # noqa: E402

# per element, by the FLOPs convention (docs/flops.md): sigmoid 1/(1+exp(-x)) = negate, exp, add, divide = 4;
# tanh 1; relu max(x, 0) 1. Written here, not read from layercalc.costs, so a change of the table fails.
SIGMOID, TANH, RELU = 4, 1, 1


def maybe(rng, args: dict, name: str, value, default) -> None:
    """Write the argument half the time; otherwise leave it out, so that torch's default is compared."""
    if rng.random() < 0.5:
        args[name] = value
    elif value != default:
        args[name] = value


def sequence_cases(n=150, seed=31):
    rng = random.Random(seed)
    for i in range(n):
        kind = ("RNN", "LSTM", "GRU")[i % 3]
        fin, hidden = rng.randint(1, 32), rng.randint(1, 32)
        args = {"hidden_size": hidden}
        # each argument: its default (written or left out, half and half) or another value
        for name, default, other in (("num_layers", 1, rng.randint(2, 3)), ("bias", True, False),
                                     ("batch_first", False, True), ("bidirectional", False, True)):
            maybe(rng, args, name, default if rng.random() < 0.5 else other, default)
        if rng.random() < 0.3:
            args["dropout"] = 0.25
        if rng.random() < 0.5:
            args["input_size"] = fin
        if kind == "RNN" and rng.random() < 0.5:
            maybe(rng, args, "nonlinearity", rng.choice(["tanh", "relu"]), "tanh")
        if kind == "LSTM" and hidden > 1 and rng.random() < 0.5:
            args["proj_size"] = rng.randint(1, hidden - 1)
        t, b = rng.randint(1, 6), rng.randint(1, 4)
        if rng.random() < 0.25:
            shape = [t, fin]  # unbatched
        else:
            shape = [b, t, fin] if args.get("batch_first") else [t, b, fin]
        yield kind, args, fin, shape


@pytest.mark.parametrize("kind,args,fin,shape", list(sequence_cases()))
def test_sequence_matches_torch(kind, args, fin, shape):
    row = ours(kind, args, [shape])
    kwargs = {k: v for k, v in args.items() if k != "input_size"}
    module = getattr(torch.nn, kind)(fin, **kwargs)
    ref = torch_measure(module, [torch.randn(*shape)])
    # torch returns (output, h_n) or (output, (h_n, c_n)): every output's shape must match
    assert [row.output_shape] + list(row.extra_outputs.values()) == ref["outputs"]
    assert list(row.extra_outputs) == (["h_n", "c_n"] if kind == "LSTM" else ["h_n"])
    assert (row.params, row.buffers, row.macs) == (ref["params"], ref["buffers"], ref["macs"])


def cell_cases(n=60, seed=32):
    rng = random.Random(seed)
    for i in range(n):
        kind = ("RNNCell", "LSTMCell", "GRUCell")[i % 3]
        fin, hidden = rng.randint(1, 32), rng.randint(1, 32)
        args = {"hidden_size": hidden}
        maybe(rng, args, "bias", rng.random() < 0.7, True)
        if kind == "RNNCell" and rng.random() < 0.5:
            maybe(rng, args, "nonlinearity", rng.choice(["tanh", "relu"]), "tanh")
        shape = [fin] if rng.random() < 0.3 else [rng.randint(1, 5), fin]
        yield kind, args, fin, shape


@pytest.mark.parametrize("kind,args,fin,shape", list(cell_cases()))
def test_cell_matches_torch(kind, args, fin, shape):
    row = ours(kind, args, [shape])
    module = getattr(torch.nn, kind)(fin, **args)
    ref = torch_measure(module, [torch.randn(*shape)])
    assert [row.output_shape] + list(row.extra_outputs.values()) == ref["outputs"]
    assert (row.params, row.buffers, row.macs) == (ref["params"], ref["buffers"], ref["macs"])


# --- FLOPs, with the arithmetic written out ------------------------------------------------------------


def test_lstm_flops_formula():
    # LSTM(5, 7, num_layers=2, bidirectional, proj_size=3) on (T=4, N=2, 5): D=2, R=3
    row = ours("LSTM", {"hidden_size": 7, "num_layers": 2, "bidirectional": True, "proj_size": 3}, [[4, 2, 5]])
    # MACs per step and sample: layer 0: 2 * (4*7*(5+3) + 7*3) = 2 * 245; layer 1 (input 2*3=6): 2 * (4*7*(6+3) + 21)
    assert row.macs == 4 * 2 * (2 * 245 + 2 * 273) == 8288
    # element-wise per step, direction, sample, layer: 4H combine + 8H biases + sigmoid(3H) + tanh(2H) + 4H
    step = 4 * 7 + 8 * 7 + SIGMOID * 21 + TANH * 14 + 4 * 7
    assert row.flops == 2 * 8288 + 4 * 2 * 2 * 2 * step


def test_gru_flops_formula():
    # GRU(5, 7, bias=False) on (T=4, N=2, 5)
    row = ours("GRU", {"hidden_size": 7, "bias": False}, [[4, 2, 5]])
    assert row.macs == 4 * 2 * 3 * 7 * (5 + 7) == 2016
    step = 4 * 7 + SIGMOID * 14 + TANH * 7 + 3 * 7  # combine 4H, gates, n + z*(h - n) 3H
    assert row.flops == 2 * 2016 + 4 * 2 * step


def test_rnn_relu_flops_formula():
    # RNN(5, 7, nonlinearity=relu) unbatched (T=4, 5): N = 1
    row = ours("RNN", {"hidden_size": 7, "nonlinearity": "relu"}, [[4, 5]])
    assert row.macs == 4 * 7 * (5 + 7) == 336
    assert row.flops == 2 * 336 + 4 * (7 + 2 * 7 + RELU * 7)


def test_cells_are_one_step_of_their_sequence_layer():
    for cell, seq in (("RNNCell", "RNN"), ("LSTMCell", "LSTM"), ("GRUCell", "GRU")):
        one = ours(cell, {"hidden_size": 6}, [[3, 4]])
        step = ours(seq, {"hidden_size": 6}, [[1, 3, 4]])
        assert (one.params, one.macs, one.flops) == (step.params, step.macs, step.flops)


# --- extra outputs in a graph ------------------------------------------------------------------------------


def test_h_n_and_c_n_feed_later_layers():
    spec = """
layercalc: 1
inputs: {x: [T, B, 8]}
dims: {T: 5, B: 3}
layers:
  - LSTM: {hidden_size: 16, num_layers: 2, bidirectional: true}
    name: lstm
  - Linear: {out_features: 4}
    from: lstm.h_n
    name: head_h
  - Linear: {out_features: 4}
    from: lstm.c_n
    name: head_c
outputs: [lstm, lstm.h_n, head_h, head_c]
"""
    report = layercalc.analyze(spec)
    assert report.outputs == {"lstm": [5, 3, 32], "lstm.h_n": [4, 3, 16], "head_h": [4, 3, 4], "head_c": [4, 3, 4]}


def test_gru_has_no_c_n():
    spec = """
layercalc: 1
inputs: {x: [5, 3, 8]}
layers:
  - GRU: {hidden_size: 16}
    name: gru
  - Linear: {out_features: 4}
    from: gru.c_n
"""
    with pytest.raises(layercalc.SpecError) as err:
        layercalc.analyze(spec)
    assert err.value.code == "G009" and str(err.value).startswith("<string>:8:11:")


# --- errors -------------------------------------------------------------------------------------------------


def _error(spec: str):
    with pytest.raises(layercalc.SpecError) as err:
        layercalc.analyze(spec, file="m.yaml")
    return err.value


def test_lstm_fed_a_4d_tensor():
    e = _error("""layercalc: 1
inputs: {x: [2, 3, 8, 8]}
layers:
  - LSTM: {hidden_size: 16}
""")
    assert e.code == "G003" and str(e).startswith("m.yaml:4:5:")
    assert "2-D or 3-D" in e.message and "[2, 3, 8, 8]" in e.message


def test_proj_size_not_below_hidden_size():
    e = _error("""layercalc: 1
inputs: {x: [5, 3, 8]}
layers:
  - LSTM: {hidden_size: 16, proj_size: 16}
""")
    assert e.code == "S006" and str(e).startswith("m.yaml:4:40:")
    assert "proj_size=16 must be smaller than hidden_size=16" in e.message


def test_input_size_must_agree():
    e = _error("""layercalc: 1
inputs: {x: [5, 3, 8]}
layers:
  - GRU: {input_size: 9, hidden_size: 16}
""")
    assert e.code == "G003" and str(e).startswith("m.yaml:4:23:") and "input_size=9" in e.message


def test_dropout_out_of_range():
    e = _error("""layercalc: 1
inputs: {x: [5, 3, 8]}
layers:
  - RNN: {hidden_size: 16, dropout: 1.5}
""")
    assert e.code == "S006" and "dropout" in e.message


def test_cell_fed_a_sequence():
    e = _error("""layercalc: 1
inputs: {x: [5, 3, 8]}
layers:
  - LSTMCell: {hidden_size: 16}
""")
    assert e.code == "G003" and "1-D or 2-D" in e.message
