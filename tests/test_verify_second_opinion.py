"""`verify` is a second opinion: the reference executor reads each layer's written arguments itself.

Each test plants one realistic bug in the rules (a wrong default, a per-dimension list read backwards, a
missing validation) and checks that `verify` reports the layer, in a full run and in probes. Before the
executor read the spec on its own, the rules handed it their resolved arguments and all of these passed.
"""

import pytest

from layercalc.layers import REGISTRY, resolve, shapes
from layercalc.verify import verify

SPEC = """
layercalc: 1
name: second-opinion
inputs:
  x: [2, 3, 8, 8]
layers:
  - Conv2d: {out_channels: 4, kernel_size: [3, 1]}
    name: conv
  - InstanceNorm2d
  - BatchNorm2d
  - ReflectionPad2d: {padding: [1, 2, 0, 1]}
    name: pad
"""

REFLECT_TOO_WIDE = """
layercalc: 1
name: reflect
inputs:
  x: [1, 2, 3, 3]
layers:
  - ReflectionPad2d: {padding: 3}
    name: pad
"""


@pytest.fixture(params=["full", "probe"])
def mode(request):
    return request.param


def set_default(monkeypatch, layer_type: str, arg: str, value):
    """The mutant: one default of the rules' argument schema changed."""
    cls = type(REGISTRY[layer_type])
    monkeypatch.setattr(cls, "args", tuple(a._replace(default=value) if a.name == arg else a for a in cls.args))
    monkeypatch.setattr(resolve, "_SCHEMAS", {})


def caught(result, layer: str) -> str:
    check = next(c for c in result.layers if c.name == layer)
    assert not check.ok, f"verify did not catch the planted bug in {layer}"
    return check.first_mismatch()


def test_the_unmutated_spec_agrees(mode):
    result = verify(SPEC, mode=mode)
    assert result.ok, [c.first_mismatch() for c in result.mismatches]


def test_conv_bias_default_false_is_caught(monkeypatch, mode):
    set_default(monkeypatch, "Conv2d", "bias", False)
    line = caught(verify(SPEC, mode=mode), "conv")
    # torch's Conv2d has bias=True: the reference allocates a bias of out_channels = 4 values
    assert line.startswith("param_shapes:") and '"bias": [' in line.split("reference")[1]


def test_instance_norm_affine_default_true_is_caught(monkeypatch, mode):
    set_default(monkeypatch, "InstanceNorm2d", "affine", True)
    line = caught(verify(SPEC, mode=mode), "instancenorm2d_1")
    assert line.startswith("param_shapes:")
    assert '"weight": [' in line.split("reference")[0] and line.split("reference")[1].strip() == "{}"


def test_batch_norm_without_running_stats_by_default_is_caught(monkeypatch, mode):
    set_default(monkeypatch, "BatchNorm2d", "track_running_stats", False)
    line = caught(verify(SPEC, mode=mode), "batchnorm2d_1")
    # torch keeps running_mean, running_var (C each) and num_batches_tracked (a 0-d int64)
    assert line.startswith("buffer_shapes:") and "running_mean" in line.split("reference")[1]


def test_kernel_size_list_read_backwards_is_caught(monkeypatch, mode):
    real = resolve.resolve_value

    def reversed_lists(arg, raw, *a, **k):
        v = real(arg, raw, *a, **k)
        return tuple(reversed(v)) if arg.name == "kernel_size" and isinstance(v, tuple) else v

    monkeypatch.setattr(resolve, "resolve_value", reversed_lists)
    line = caught(verify(SPEC, mode=mode), "conv")
    if mode == "full":  # kernel (3, 1) on 8 x 8: 6 x 8 outputs; read backwards (1, 3): 8 x 6
        assert line == "output_shape: rules [2, 4, 8, 6], reference [2, 4, 6, 8]"
    else:
        assert line.startswith("output_shape:")


def test_reflect_padding_wider_than_the_input_is_caught(monkeypatch, mode):
    real = shapes.reflect_pad_len
    monkeypatch.setattr(shapes, "reflect_pad_len",
                        lambda length, before, after, where, reflect, arg="padding":
                        real(length, before, after, where, False, arg))
    line = caught(verify(REFLECT_TOO_WIDE, mode=mode), "pad")
    assert line.startswith("reference refuses:") and "reflect padding of 3" in line


def test_one_element_lists_are_expanded_as_torch_does():
    from layercalc.reference.signatures import parse_args

    args = parse_args("Conv2d", {"out_channels": 2, "kernel_size": [3], "stride": [2]})
    assert args["kernel_size"] == (3, 3) and args["stride"] == (2, 2)


# --- the executor reads the YAML itself (its imports are checked in tests/test_reference_meta.py) ------------


def test_the_executor_reads_raw_yaml_with_defaults_left_out():
    """The executor gets the YAML mapping as written (here an expression and no defaults) and fills in torch's."""
    from layercalc.reference.kernel import run_kernel
    from layercalc.reference.registry import KERNELS
    from layercalc.reference.signatures import parse_args
    from layercalc.reference.tensor import uniform
    from layercalc.spec.yamlload import load_yaml
    import random

    doc = load_yaml("Conv2d: {out_channels: c * 2, kernel_size: [3, 1]}\n", "<test>")
    args = parse_args("Conv2d", doc["Conv2d"], {"c": 2})
    # torch.nn.Conv2d(in_channels, 4, (3, 1)): stride 1, padding 0, dilation 1, groups 1, bias True, zeros
    assert args == {"in_channels": None, "out_channels": 4, "kernel_size": (3, 1), "stride": (1, 1),
                    "padding": (0, 0), "dilation": (1, 1), "groups": 1, "bias": True, "padding_mode": "zeros"}
    run = run_kernel(KERNELS["Conv2d"], args, [uniform((1, 3, 5, 5), random.Random(0), 1.0)])
    # output 5-3+1 = 3 by 5-1+1 = 5; weight 4*3*3*1 = 36 plus bias 4 = 40 parameters
    assert run.output.shape == (1, 4, 3, 5) and run.allocated_params == 40
    # MACs: 4 * 3 * 5 outputs * (3 channels * 3 taps) = 540; FLOPs 2 * 540 + 60 bias adds = 1140
    assert (run.macs, run.flops) == (540, 1140)
