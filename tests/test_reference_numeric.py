"""Numerical sanity: on the same weights, the reference's outputs equal torch's (to 1e-5)."""

import pytest

torch = pytest.importorskip("torch")

from tests.reference_helpers import close, load_params, reference_run, to_torch  # noqa: E402


@pytest.mark.parametrize("shape,out,bias", [([2, 5], 3, True), ([2, 3, 4], 2, False), ([4], 1, True)])
def test_linear_matches_torch(shape, out, bias):
    xs, run = reference_run("Linear", {"out_features": out, "bias": bias}, [shape])
    m = torch.nn.Linear(shape[-1], out, bias=bias)
    load_params(m, run)
    assert close(m(to_torch(xs[0])), to_torch(run.output))


@pytest.mark.parametrize("args,shape", [
    ({"out_channels": 4, "kernel_size": 3, "padding": 1}, [2, 3, 5, 5]),
    ({"out_channels": 4, "kernel_size": [3, 2], "stride": 2, "dilation": [1, 2], "groups": 2, "bias": False},
     [1, 4, 7, 6]),
    ({"out_channels": 2, "kernel_size": 2, "padding": "same", "padding_mode": "reflect"}, [3, 4, 4]),
    ({"out_channels": 3, "kernel_size": 3, "padding": 2, "padding_mode": "circular", "stride": 3}, [1, 1, 5, 4]),
])
def test_conv2d_matches_torch(args, shape):
    xs, run = reference_run("Conv2d", args, [shape])
    kw = {k: v for k, v in args.items() if k != "out_channels"}
    m = torch.nn.Conv2d(shape[-3], args["out_channels"], **kw)
    load_params(m, run)
    assert close(m(to_torch(xs[0])), to_torch(run.output))


@pytest.mark.parametrize("args,shape", [
    ({"hidden_size": 3}, [4, 2, 3]),
    ({"hidden_size": 3, "num_layers": 2, "bidirectional": True, "batch_first": True}, [2, 3, 2]),
    ({"hidden_size": 4, "proj_size": 2, "num_layers": 2, "bidirectional": True, "bias": False}, [3, 2]),
])
def test_lstm_matches_torch(args, shape):
    xs, run = reference_run("LSTM", args, [shape])
    m = torch.nn.LSTM(shape[-1], **args)
    load_params(m, run)
    y, (h, c) = m(to_torch(xs[0]))
    assert close(y, to_torch(run.output))
    assert close(h, to_torch(run.extras["h_n"])) and close(c, to_torch(run.extras["c_n"]))


@pytest.mark.parametrize("args,shapes", [
    ({"num_heads": 2}, [[3, 2, 4]]),
    ({"num_heads": 1, "batch_first": True, "average_attn_weights": False}, [[2, 3, 2], [2, 4, 2], [2, 4, 2]]),
    ({"num_heads": 2, "add_bias_kv": True, "add_zero_attn": True, "bias": False}, [[2, 4], [3, 3], [3, 5]]),
    ({"num_heads": 2, "is_causal": True, "add_bias_kv": True}, [[3, 2, 4]]),
])
def test_multihead_attention_matches_torch(args, shapes):
    xs, run = reference_run("MultiheadAttention", args, shapes)
    e = shapes[0][-1]
    kdim, vdim = (shapes[1][-1], shapes[2][-1]) if len(shapes) == 3 else (e, e)
    m = torch.nn.MultiheadAttention(e, args["num_heads"], bias=args.get("bias", True),
                                    add_bias_kv=args.get("add_bias_kv", False),
                                    add_zero_attn=args.get("add_zero_attn", False), kdim=kdim, vdim=vdim,
                                    batch_first=args.get("batch_first", False))
    load_params(m, run)
    m.eval()
    ts = [to_torch(t) for t in xs] * (3 if len(xs) == 1 else 1)
    mask = None
    if args.get("is_causal"):
        length, keys = shapes[0][0], shapes[-1][0]
        mask = torch.triu(torch.full((length, keys), float("-inf"), dtype=torch.float64), diagonal=1)
    y, w = m(*ts, need_weights=True, average_attn_weights=args.get("average_attn_weights", True), attn_mask=mask)
    assert close(y, to_torch(run.output))
    assert close(w, to_torch(run.extras["attn_weights"]))
