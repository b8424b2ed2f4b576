"""The `verify` command: table, JSON, exit codes and located errors."""

import json

from typer.testing import CliRunner

from layercalc.cli import app

SPEC = """layercalc: 1
name: tiny
inputs:
  x: [2, 3, 8, 8]
layers:
  - Conv2d: {out_channels: 4, kernel_size: 3, padding: 1}
  - BatchNorm2d
  - ReLU
  - MaxPool2d: {kernel_size: 2, ceil_mode: true}
  - Flatten
  - Linear: {out_features: 5}
"""


def run(*args, spec=SPEC, tmp_path=None):
    path = tmp_path / "tiny.yaml"
    path.write_text(spec)
    return CliRunner().invoke(app, ["verify", str(path), *args]), str(path)


def test_table_lists_every_layer_and_exits_0(tmp_path):
    result, _ = run(tmp_path=tmp_path)
    assert result.exit_code == 0, result.output
    for name in ("conv2d_1", "batchnorm2d_1", "relu_1", "maxpool2d_1", "flatten_1", "linear_1"):
        assert name in result.output
    assert "8/8" in result.output and "all 6 layers agree" in result.output


def test_json_names_every_layer_with_its_checks(tmp_path):
    result, _ = run("--format", "json", tmp_path=tmp_path)
    assert result.exit_code == 0
    data = json.loads(result.output)
    assert data["ok"] and data["mode"] == "full"
    assert [layer["name"] for layer in data["layers"]] == ["conv2d_1", "batchnorm2d_1", "relu_1", "maxpool2d_1",
                                                         "flatten_1", "linear_1"]
    conv = data["layers"][0]
    assert [c["name"] for c in conv["checks"]] == ["output_shape", "extra_outputs", "param_shapes", "params",
                                                   "buffer_shapes", "buffers", "macs", "flops"]
    # 4 * 8 * 8 outputs * 2 samples, 3 * 3 * 3 MACs each
    assert conv["checks"][6] == {"name": "macs", "ok": True, "rules": 13824, "reference": 13824}


def test_budget_zero_probes_every_layer(tmp_path):
    result, _ = run("--budget", "0", "-f", "json", tmp_path=tmp_path)
    assert result.exit_code == 0
    data = json.loads(result.output)
    assert data["mode"] == "probe" and all(layer["mode"] == "probe" and "probe" in layer for layer in data["layers"])


def test_dim_and_var_overrides(tmp_path):
    spec = SPEC.replace("x: [2, 3, 8, 8]", "x: [B, 3, 8, 8]").replace("inputs:", "dims: {B: 1}\nvars: {c: 4}\ninputs:")
    spec = spec.replace("out_channels: 4", "out_channels: c")
    result, _ = run("--dim", "B=3", "--var", "c=2", "-f", "json", spec=spec, tmp_path=tmp_path)
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["layers"][0]["checks"][0]["rules"] == [3, 2, 8, 8]


def test_invalid_spec_is_a_located_error(tmp_path):
    result, path = run(spec=SPEC.replace("kernel_size: 3", "kernel_size: 0"), tmp_path=tmp_path)
    assert result.exit_code == 1
    assert f"{path}:6:" in result.output and "kernel_size" in result.output
    assert "Traceback" not in result.output


def test_bad_format_is_a_usage_error(tmp_path):
    result, _ = run("--format", "csv", tmp_path=tmp_path)
    assert result.exit_code == 2
