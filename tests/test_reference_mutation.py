"""Mutation tests: a deliberately wrong formula injected into the rules is caught by `verify`."""

import pytest
from typer.testing import CliRunner

from layercalc.cli import app
from layercalc.layers import REGISTRY, shapes
from layercalc.verify import verify

SPEC = """
layercalc: 1
name: mutants
inputs:
  x: [2, 3, 9, 9]
  seq: [4, 2, 3]
layers:
  - Conv2d: {out_channels: 4, kernel_size: 3, stride: 2, padding: 1}
    name: conv
  - Flatten
  - Linear: {out_features: 5}
    name: fc
  - LSTM: {hidden_size: 3, bidirectional: true}
    name: lstm
    from: seq
"""


@pytest.fixture(params=["full", "probe"])
def mode(request):
    return request.param


def mismatch(result, layer):
    check = next(c for c in result.layers if c.name == layer)
    assert not check.ok, f"verify did not catch the mutation in {layer}"
    return check.first_mismatch()


def test_unmutated_spec_passes(mode):
    assert verify(SPEC, mode=mode).ok


def test_off_by_one_conv_length_is_caught(monkeypatch, mode):
    real_lr, real = shapes.conv_out_lr, shapes.conv_out
    monkeypatch.setattr(shapes, "conv_out_lr", lambda *a, **k: real_lr(*a, **k) + 1)
    monkeypatch.setattr(shapes, "conv_out", lambda *a, **k: real(*a, **k) + 1)
    line = mismatch(verify(SPEC, mode=mode), "conv")
    assert line.startswith("output_shape: rules [2, 4, 6, 6], reference [2, 4, 5, 5]") if mode == "full" \
        else line.startswith("output_shape: rules")


def test_missing_linear_bias_is_caught(monkeypatch, mode):
    rule = type(REGISTRY["Linear"])
    real = rule.forward

    def forward(self, a, xs):
        out = real(self, a, xs)
        out.params.pop("bias", None)
        return out

    monkeypatch.setattr(rule, "forward", forward)
    line = mismatch(verify(SPEC, mode=mode), "fc")
    assert line.startswith("param_shapes: rules {\"weight\": ")
    assert "\"bias\": [" in line.split("reference")[1]


def test_forgotten_lstm_direction_is_caught(monkeypatch, mode):
    rule = type(REGISTRY["LSTM"])
    real = rule.forward

    def forward(self, a, xs):
        a.bidirectional = False
        return real(self, a, xs)

    monkeypatch.setattr(rule, "forward", forward)
    line = mismatch(verify(SPEC, mode=mode), "lstm")
    assert line.startswith("output_shape: rules [4, 2, 3], reference [4, 2, 6]") if mode == "full" \
        else line.startswith("output_shape: rules")


def test_cli_reports_the_mismatch_and_exits_1(monkeypatch, tmp_path):
    real_lr = shapes.conv_out_lr
    monkeypatch.setattr(shapes, "conv_out_lr", lambda *a, **k: real_lr(*a, **k) + 1)
    spec = tmp_path / "m.yaml"
    spec.write_text(SPEC)
    result = CliRunner().invoke(app, ["verify", str(spec)])
    assert result.exit_code == 1
    assert "conv (Conv2d, full): output_shape: rules [2, 4, 6, 6], reference [2, 4, 5, 5]" in result.output
