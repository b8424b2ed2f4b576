"""Structure of specs: naming, repeat, blocks, from, tie, share, trainable, outputs, dims and vars."""

import json
import subprocess
import sys

import pytest

import layercalc
from layercalc.errors import SpecError

HEAD = "layercalc: 1\ndims: {B: 2}\nvars: {w: 8, ff: 4 * w}\ninputs:\n  x: [B, 4]\n"


def run(body: str, **kw):
    return layercalc.analyze(HEAD + body, **kw)


def names(report):
    return [r.name for r in report.layers]


def test_generated_names_count_per_type_and_skip_explicit_ones():
    r = run("layers:\n  - Linear: {out_features: w}\n  - Identity\n  - Linear: {out_features: w}\n    name: linear_2\n"
            "  - Linear: {out_features: w}\n")
    assert names(r) == ["linear_1", "identity_1", "linear_2", "linear_3"]


def test_repeat_chains_copies_and_the_name_means_the_last_copy():
    r = run("layers:\n  - Linear: {out_features: w}\n    name: fc\n    repeat: 3\n  - Identity:\n    from: fc\n")
    assert names(r) == ["fc.0", "fc.1", "fc.2", "identity_1"]
    assert r.layers[0].input_shapes == [[2, 4]] and r.layers[1].input_shapes == [[2, 8]]
    # params: 4*8+8 for the first copy, 8*8+8 for the two others = 40 + 72 + 72
    assert r.totals["params"] == 184


def test_vars_and_dims_feed_expressions_and_can_be_overridden():
    r = run("layers:\n  - Linear: {out_features: ff}\n")
    assert r.layers[0].output_shape == [2, 32]                     # ff = 4 * w = 32
    r = run("layers:\n  - Linear: {out_features: ff}\n", dims={"B": 5}, vars={"w": 3})
    assert r.layers[0].output_shape == [5, 12]                     # ff follows w: 4 * 3
    assert r.dims == {"B": 5} and r.inputs == {"x": [5, 4]}


BLOCKS = """blocks:
  Mix:
    params: {d: null, e: d * 2}
    inputs: [x, other]
    layers:
      - Linear: {out_features: e}
        name: up
      - Linear: {out_features: d}
        from: other
        name: side
      - Bilinear: {out_features: d}
        from: [up, side]
"""


def test_blocks_expand_with_params_defaults_and_several_inputs():
    r = run(BLOCKS + "layers:\n  - Linear: {out_features: w}\n    name: skip\n  - Mix: {d: 3}\n    from: [x, skip]\n"
            "    repeat: 2\n    name: mix\n")
    assert names(r) == ["skip", "mix.0.up", "mix.0.side", "mix.0.bilinear_1", "mix.1.up", "mix.1.side",
                        "mix.1.bilinear_1"]
    assert r.layers[1].output_shape == [2, 6]             # e defaults to d * 2
    assert r.layers[4].input_shapes == [[2, 3]]            # the first input is chained
    assert r.layers[5].input_shapes == [[2, 8]]            # the other input goes to every copy
    assert r.outputs == {"mix.1.bilinear_1": [2, 3]}


def test_trainable_false_counts_params_as_non_trainable_inside_blocks_too():
    r = run(BLOCKS + "layers:\n  - Mix: {d: 3}\n    from: [x, x]\n    trainable: false\n  - Linear: {out_features: 2}\n")
    frozen = sum(row.params for row in r.layers[:3])
    assert r.totals["non_trainable_params"] == frozen > 0
    assert r.totals["trainable_params"] == r.layers[3].params == 3 * 2 + 2


def test_tie_counts_the_shared_weight_once():
    # a weight (8, 4) used twice: the tied layer keeps only its bias
    r = run("layers:\n  - Linear: {out_features: 8}\n    name: a\n  - Linear: {out_features: 8}\n    from: x\n    tie: a\n")
    assert [row.params for row in r.layers] == [8 * 4 + 8, 8]
    assert r.layers[1].shared == "a"


def test_share_counts_parameters_once_and_macs_at_every_call():
    body = ("layers:\n  - Linear: {out_features: 4}\n    name: cell\n"
            "  - Linear: {out_features: 4}\n    share: cell\n    repeat: 3\n")
    r = run(body)
    assert [row.params for row in r.layers] == [4 * 4 + 4, 0, 0, 0]
    assert [row.macs for row in r.layers] == [2 * 4 * 4] * 4


def test_share_a_block_instance():
    body = BLOCKS + ("layers:\n  - Mix: {d: 4}\n    from: [x, x]\n    name: a\n"
                     "  - Mix: {d: 4}\n    from: [a, x]\n    share: a\n")
    r = run(body)
    first, second = r.layers[:3], r.layers[3:]
    assert all(row.params == 0 for row in second) and sum(row.params for row in first) == r.totals["params"]
    assert [row.shared for row in second] == ["a.up", "a.side", "a.bilinear_1"]


def test_outputs_and_extra_outputs():
    r = run("layers:\n  - Linear: {out_features: 3}\n    name: a\n  - Linear: {out_features: 5}\n    from: x\n"
            "outputs: [a, linear_1]\n")
    assert r.outputs == {"a": [2, 3], "linear_1": [2, 5]}


def test_a_dict_and_a_path_and_stdin(tmp_path):
    spec = {"layercalc": 1, "inputs": {"x": [1, 4]}, "layers": [{"Linear": {"out_features": 2}}]}
    assert layercalc.analyze(spec).totals["params"] == 10
    path = tmp_path / "tiny.yaml"
    path.write_text(HEAD + "layers:\n  - Linear: {out_features: 2}\n")
    r = layercalc.analyze(str(path))
    assert r.name == "tiny" and r.totals["params"] == 10
    proc = subprocess.run([sys.executable, "-m", "layercalc", "params", "-", "-f", "json"], input=path.read_text(),
                          capture_output=True, text=True)
    assert proc.returncode == 0 and json.loads(proc.stdout)["totals"]["params"] == 10


def test_max_layers_is_a_parameter():
    with pytest.raises(SpecError) as info:
        run("layers:\n  - Identity:\n    repeat: 11\n", max_layers=10)
    assert info.value.code == "G006"
    assert len(run("layers:\n  - Identity:\n    repeat: 10\n", max_layers=10).layers) == 10


def test_report_json_has_the_contract_keys():
    d = run("layers:\n  - Linear: {out_features: 3}\n").to_dict()
    assert list(d) == ["layercalc", "name", "dims", "inputs", "layers", "outputs", "totals"]
    assert list(d["layers"][0]) == ["name", "type", "input_shapes", "output_shape", "extra_outputs", "params",
                                    "trainable_params", "buffers", "macs", "flops"]
    assert list(d["totals"]) == ["params", "trainable_params", "non_trainable_params", "buffers", "macs", "flops",
                                 "param_bytes"]
    assert d["totals"]["param_bytes"] == 4 * (4 * 3 + 3)


def test_param_bytes_follow_dtype():
    r = run("layers:\n  - Linear: {out_features: 3}\n", dtype="float16")
    assert r.totals["param_bytes"] == 2 * 15


def test_block_params_carry_booleans_and_literal_strings():
    spec = """layercalc: 1
inputs: {x: [1, 3, 8, 8]}
blocks:
  C:
    params: {c: null, b: true, pad: 1}
    layers:
      - Conv2d: {out_channels: c, kernel_size: 3, padding: pad, bias: b}
layers:
  - C: {c: 4, b: false, pad: same}
    name: enc
  - C: {c: 4}
"""
    r = layercalc.analyze(spec)
    assert r.layers[0].param_shapes == {"weight": (4, 3, 3, 3)}                 # bias: false
    assert r.layers[0].output_shape == [1, 4, 8, 8]                             # padding: same
    assert r.layers[1].param_shapes == {"weight": (4, 4, 3, 3), "bias": (4,)}   # the defaults


def test_outputs_are_reported_under_the_names_written():
    r = run("blocks:\n  P:\n    layers: [{Linear: {out_features: 3}}, Identity]\n"
            "layers:\n  - P\n    \n  - Linear: {out_features: 2}\n    name: head\noutputs: [p_1, head]\n"
            .replace("  - P\n    \n", "  - P\n"))
    assert r.outputs == {"p_1": [2, 3], "head": [2, 2]}


def test_huge_adaptive_pooling_is_closed_form():
    # the window sum along a dimension is L + O - gcd(L, O): no loop over 10**12 outputs
    r = layercalc.analyze("layercalc: 1\ninputs: {x: [1, 4, 16]}\nlayers:\n  - AdaptiveAvgPool1d: {output_size: 10**12}\n")
    n = 10**12
    assert r.layers[0].output_shape == [1, 4, n]
    assert r.layers[0].flops == 4 * (16 + n - 16) + 4 * n   # N*C * window sum + one divide per output


@pytest.mark.parametrize("length,out", [(5, 3), (7, 7), (10, 4), (1, 9), (224, 7), (13, 5)])
def test_adaptive_window_sum_matches_the_windows(length, out):
    from layercalc.layers.shapes import adaptive_window_sum

    # window i of adaptive pooling is [floor(i*L/O), ceil((i+1)*L/O))
    windows = [((i * length) // out, -(-((i + 1) * length) // out)) for i in range(out)]
    assert adaptive_window_sum(length, out) == sum(e - s for s, e in windows)
