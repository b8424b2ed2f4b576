"""The reference executor's signatures (layercalc/reference/signatures.py) against torch's own: every argument
that a torch.nn module's constructor takes with a default has the same default there."""

import inspect

import pytest

from layercalc.reference.signatures import INFER, REQUIRED, SIGNATURES, convert

torch = pytest.importorskip("torch")

#: arguments of torch's constructors that the spec format does not take (device, dtype, initial tensors...)
NOT_IN_SPECS = {"device", "dtype", "_weight", "_freeze", "min_value", "max_value", "args", "kwargs"}
MODULES = sorted(t for t in SIGNATURES if hasattr(torch.nn, t) and t not in ("Parameter", "Buffer"))


@pytest.mark.parametrize("layer_type", MODULES)
def test_defaults_are_torchs(layer_type):
    ours = {name: (default, form) for name, default, form in SIGNATURES[layer_type]}
    params = dict(inspect.signature(getattr(torch.nn, layer_type).__init__).parameters)
    if layer_type in ("RNN", "LSTM", "GRU"):  # they take *args, **kwargs on to RNNBase
        params = dict(inspect.signature(torch.nn.RNNBase.__init__).parameters)
        del params["mode"]
        if layer_type != "LSTM":
            del params["proj_size"]  # only LSTM projects (RNNBase refuses it for the others)
        if layer_type == "RNN":  # RNN.__init__ reads nonlinearity from its kwargs, 'tanh' by default
            assert ours["nonlinearity"][0] == "tanh"
    elif [p for p in params.values() if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)] == []:
        assert ours == {}, f"torch.nn.{layer_type} takes no arguments"
        return
    for name, p in params.items():
        if name == "self" or name in NOT_IN_SPECS or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        assert name in ours, f"torch.nn.{layer_type} takes {name}, the reference's signature does not"
        default, form = ours[name]
        if p.default is inspect.Parameter.empty:
            assert default is REQUIRED or default is INFER, f"{layer_type}.{name} is required in torch"
        elif callable(p.default):  # the transformer's activation=F.relu
            assert default == p.default.__name__, f"{layer_type}.{name}"
        else:
            expected = convert(p.default, form, name) if p.default is not None else None
            assert default is not REQUIRED and convert(default, form, name) == expected, \
                f"{layer_type}.{name}: torch's default is {p.default!r}, the reference's {default!r}"
