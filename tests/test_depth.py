"""Folding layers into block instances and repeats: the tree, --depth, golden tables.

Golden files live in tests/golden/; regenerate them with
``LAYERCALC_REGEN=1 python -m pytest tests/test_depth.py`` and review the diff.
"""

import csv
import io
import json
import os
import subprocess
import sys

import pytest

import layercalc
from tests.golden_files import GOLDEN, check_golden
from layercalc.render.table import print_table
from layercalc.tree import build_tree, fold, frontier, max_depth, readable_depth

HERE = os.path.dirname(os.path.abspath(__file__))
SPECS = os.path.join(HERE, "..", "specs")
FIELDS = ("params", "trainable_params", "buffers", "macs", "flops")

# Two levels of blocks, a repeated block and a repeated layer.
#   stem   Linear(8 -> 16)                      8*16 + 16        = 144
#   body   Pair x2, each Pair:
#            a    Linear(16 -> 16)              16*16 + 16       = 272
#            mix  Mix: 1 instance
#                   fc  Linear(16 -> 16), no bias  16*16         = 256
#                   act ReLU                                     = 0
#          per Pair 272 + 256 = 528; body 2 * 528                = 1,056
#   tail   Linear(16 -> 16) repeated 3 times, 3 * 272            = 816
#   head   Linear(16 -> 4)                      16*4 + 4         = 68
#   total  144 + 1,056 + 816 + 68                                = 2,084
# MACs with B = 2: stem 2*8*16 = 256; a 2*16*16 = 512; fc 512; body 2*(512+512) = 2,048;
#   tail 3*512 = 1,536; head 2*16*4 = 128; total 256 + 2,048 + 1,536 + 128 = 3,968
NESTED = """layercalc: 1
name: nested
dims: {B: 2}
inputs:
  x: [B, 8]
blocks:
  Mix:
    layers:
      - Linear: {out_features: 16, bias: false}
        name: fc
      - ReLU:
        name: act
  Pair:
    layers:
      - Linear: {out_features: 16}
        name: a
      - Mix:
        name: mix
layers:
  - Linear: {out_features: 16}
    name: stem
  - Pair:
    name: body
    repeat: 2
  - Linear: {out_features: 16}
    name: tail
    repeat: 3
  - Linear: {out_features: 4}
    name: head
"""


def spec_paths():
    """Every spec under specs/, subdirectories too."""
    return sorted(os.path.join(root, f) for root, _, files in os.walk(SPECS) for f in files if f.endswith(".yaml"))


def cli(*args):
    return subprocess.run([sys.executable, "-m", "layercalc", *args], capture_output=True, text=True)


def test_the_tree_of_nested_blocks_and_repeats():
    report = layercalc.analyze(NESTED)
    roots = report.tree()
    assert [(n.name, n.kind, n.label, n.level, n.layers) for n in roots] == [
        ("stem", "layer", "Linear", 1, 1),
        ("body", "repeat", "Pair x2", 1, 6),  # 2 copies of (a, mix.fc, mix.act)
        ("tail", "repeat", "Linear x3", 1, 3),
        ("head", "layer", "Linear", 1, 1),
    ]
    body = roots[1]
    assert [(n.name, n.kind, n.level, n.layers) for n in body.children] == [("body.0", "block", 2, 3),
                                                                             ("body.1", "block", 2, 3)]
    inst = body.children[1]
    assert [(n.name, n.kind, n.level) for n in inst.children] == [("body.1.a", "layer", 3), ("body.1.mix", "block", 3)]
    assert [n.name for n in inst.children[1].children] == ["body.1.mix.fc", "body.1.mix.act"]
    assert [n.level for n in inst.children[1].children] == [4, 4]
    # params: body 2 * (272 + 256) = 1,056, one Pair 528, one Mix 256, tail 3 * 272 = 816
    assert (body.params, inst.params, inst.children[1].params, roots[2].params) == (1056, 528, 256, 816)
    # MACs: body 2 * (512 + 512) = 2,048; tail 3 * 512 = 1,536
    assert (body.macs, roots[2].macs) == (2048, 1536)
    assert body.to_dict()["repeat"] == 2 and "repeat" not in inst.to_dict()
    # shapes: a block reads its input and gives its last layer's output
    assert body.input_shapes == [[2, 16]] and body.output_shape == [2, 16] and roots[2].output_shape == [2, 16]
    assert max_depth(roots) == 4 and report.totals["params"] == 2084 and report.totals["macs"] == 3968


def test_fold_shows_levels_up_to_the_depth():
    roots = layercalc.analyze(NESTED).tree()
    names = lambda depth: [("  " * (n.level - 1) + n.name, e) for n, e in fold(roots, depth)]  # noqa: E731
    assert names(0) == []
    assert names(1) == [("stem", False), ("body", False), ("tail", False), ("head", False)]
    assert names(2) == [("stem", False), ("body", True), ("  body.0", False), ("  body.1", False), ("tail", True),
                        ("  tail.0", False), ("  tail.1", False), ("  tail.2", False), ("head", False)]
    assert [n for n, e in names(None)][1:6] == ["body", "  body.0", "    body.0.a", "    body.0.mix",
                                                "      body.0.mix.fc"]
    assert len(fold(roots, None)) == 1 + 1 + 2 * (1 + 1 + 1 + 2) + 1 + 3 + 1  # 18 rows, every node


#: a block whose output is its LSTM's final state h_n
FINAL_STATE_BLOCK = """layercalc: 1
dims: {B: 2, S: 12}
inputs:
  src: [B, S, 32]
blocks:
  Encoder:
    layers:
      - LSTM: {hidden_size: 64, batch_first: true}
        name: lstm
    output: lstm.h_n
layers:
  - Encoder:
    name: enc
"""


def test_a_block_output_that_is_an_extra_output_gives_its_shape():
    roots = layercalc.analyze(FINAL_STATE_BLOCK).tree()
    # h_n of a one-layer unidirectional LSTM: [num_layers, B, hidden] = [1, 2, 64]
    assert roots[0].output_shape == [1, 2, 64] and roots[0].input_shapes == [[2, 12, 32]]


@pytest.mark.parametrize("path", spec_paths(), ids=lambda p: os.path.relpath(p, SPECS))
def test_folded_rows_add_up_to_the_unfolded_rows_at_every_depth(path):
    report = layercalc.analyze(path)
    roots = build_tree(report.layers, report.inputs)
    leaves = {r.name: r for r in report.layers}
    assert frontier(roots, 0) == []  # depth 0: the totals only
    for depth in list(range(1, max_depth(roots) + 1)) + [None]:
        rows = frontier(roots, depth)
        for field in FIELDS:
            assert sum(getattr(n, field) for n in rows) == sum(getattr(r, field) for r in report.layers), (depth, field)
        # every leaf is inside exactly one folded row
        inside = [leaf.name for n in rows for leaf in n.walk() if leaf.kind == "layer"]
        assert sorted(inside) == sorted(leaves)
        assert sum(n.layers for n in rows) == len(report.layers)


def test_summing_is_generic_over_the_rows_numeric_fields():
    class Row:  # a report row of another command: whole-number fields are summed, others not
        def __init__(self, name, group, peak):
            self.name, self.type, self.group = name, "Linear", group
            self.input_shapes, self.output_shape, self.extra_outputs = [[1]], [1], {}
            self.weight_bytes, self.peak_bytes, self.note = 4 * peak, peak, "x"

        def to_dict(self):
            return {"name": self.name, "weight_bytes": self.weight_bytes, "peak_bytes": self.peak_bytes,
                    "note": self.note}

    report = layercalc.analyze(NESTED)
    rows = [Row(r.name, r.group, k) for k, r in enumerate(report.layers)]
    roots = build_tree(rows, report.inputs, combine={"peak_bytes": max})
    body = roots[1]
    # body holds rows 1..6: weight_bytes 4 * (1 + 2 + 3 + 4 + 5 + 6) = 84, peak max(1..6) = 6
    assert body.figures == {"weight_bytes": 84, "peak_bytes": 6}


def test_extra_figures_per_row_are_summed_too():
    report = layercalc.analyze(NESTED)
    # one dict per row, e.g. byte counts of another report: row k gets k bytes
    extra = [{"weight_bytes": k, "label": "x"} for k in range(len(report.layers))]
    roots = build_tree(report.layers, report.inputs, extra=extra)
    # rows: stem 0, body 1..6, tail 7..9, head 10; body 1+2+3+4+5+6 = 21, tail 7+8+9 = 24
    assert [n.figures["weight_bytes"] for n in roots] == [0, 21, 24, 10]
    assert roots[1].params == 1056 and "label" not in roots[1].figures


def test_readable_depth_gives_a_row_per_transformer_block():
    roots = layercalc.analyze(os.path.join(SPECS, "gpt2-small.yaml")).tree()
    # level 1: wte, wpe, embed, drop, h, ln_f, lm_head (7); level 2: h.0..h.11 (12); level 3: 12 * 8 = 96
    assert readable_depth(roots) == 2 and len(fold(roots, 2)) == 7 + 12


@pytest.mark.parametrize("spec,depth", [("gpt2-small", 0), ("gpt2-small", 1), ("gpt2-small", 2), ("resnet50", 1)])
def test_golden_depth_tables(spec, depth):
    report = layercalc.analyze(os.path.join(SPECS, f"{spec}.yaml"))
    buf = io.StringIO()
    print_table(report, "summary", width=160, color=False, file=buf, depth=depth)
    check_golden(f"{spec}-depth{depth}.out", buf.getvalue())


def test_golden_gpt2_depth_1_numbers():
    # the folded row of the 12 blocks: 12 * 7,087,872 = 85,054,464 params (published per-block figure)
    text = open(os.path.join(GOLDEN, "gpt2-small-depth1.out")).read()
    row = next(line for line in text.splitlines() if line.startswith("  h "))
    assert "Block x12" in row and " 96 " in row and "85.05 M" in row


def test_cli_default_table_depth_and_footer():
    out = cli("summary", os.path.join(SPECS, "gpt2-small.yaml")).stdout
    lines = out.splitlines()
    assert any(line.startswith("    h.11 ") for line in lines) and not any("h.0.ln_1" in line for line in lines)
    assert "Depth 2 of 3" in out and "--depth 3 or --depth all" in out
    full = cli("summary", os.path.join(SPECS, "gpt2-small.yaml"), "--depth", "all").stdout
    assert "      h.11.res_mlp " in full and "Depth" not in full


def test_cli_depth_zero_prints_totals_only():
    out = cli("params", os.path.join(SPECS, "resnet50.yaml"), "--depth", "0").stdout
    assert "Params: 25,557,032" in out and "conv1" not in out and "Layer" not in out


def test_cli_json_keeps_every_layer_and_the_tree_whatever_the_depth():
    path = os.path.join(SPECS, "resnet18.yaml")
    one = json.loads(cli("summary", path, "-f", "json", "--depth", "1").stdout)
    assert one == json.loads(cli("summary", path, "-f", "json").stdout)
    assert len(one["layers"]) == 69 and [n["name"] for n in one["tree"]][4:8] == ["layer1", "layer2", "layer3",
                                                                                   "layer4"]
    # a leaf of the tree names its row in `layers`; a group carries the sums of its layers
    by_name = {row["name"]: row for row in one["layers"]}
    assert sum(n["params"] if n["kind"] != "layer" else by_name[n["name"]]["params"]
               for n in one["tree"]) == one["totals"]["params"] == 11689512
    layer4 = one["tree"][7]
    # layer4: a downsampling BasicBlock (conv, bn, relu, conv, bn, downsample conv, bn, add, relu: 9 layers)
    # and a BasicBlock (conv, bn, relu, conv, bn, add, relu: 7): 16 layers; 224 / 32 = 7
    assert (layer4["kind"], layer4["layers"], layer4["output_shape"]) == ("block", 16, [1, 512, 7, 7])

    def leaves(node):
        return [node["name"]] if node["kind"] == "layer" else [x for c in node["children"] for x in leaves(c)]

    assert [x for n in one["tree"] for x in leaves(n)] == [row["name"] for row in one["layers"]]


def test_cli_csv_and_markdown_fold_when_asked():
    path = os.path.join(SPECS, "gpt2-small.yaml")
    rows = list(csv.reader(io.StringIO(cli("params", path, "-f", "csv", "--depth", "1").stdout)))
    assert rows[0][:3] == ["name", "type", "layers"] and rows[0][-1] == "level"
    assert rows[5][:4] == ["h", "Block x12", "96", "85054464"]  # 12 * 7,087,872
    assert rows[-1][:3] == ["Total", "", "102"]
    flat = list(csv.reader(io.StringIO(cli("params", path, "-f", "csv").stdout)))
    assert len(flat) == 1 + 102 + 1 and flat[0][2] == "params"
    md = cli("flops", path, "-f", "markdown", "--depth", "2").stdout
    assert "| &nbsp;&nbsp;h.0 | Block | 8 |" in md


@pytest.mark.parametrize("bad", ["-1", "two", "1.5"])
def test_cli_bad_depth_is_a_usage_error(bad):
    proc = cli("summary", os.path.join(SPECS, "lenet5.yaml"), "--depth", bad)
    assert proc.returncode == 2 and "--depth" in proc.stderr and "Traceback" not in proc.stderr


def test_the_readme_depth_sample_is_current():
    with open(os.path.join(HERE, "..", "README.md")) as fh:
        readme = fh.read()
    sample = readme[readme.index("$ layercalc summary specs/gpt2-small.yaml --depth 1\n"):]
    sample = sample[sample.index("\n") + 1:sample.index("```")]
    out = cli("summary", os.path.join(SPECS, "gpt2-small.yaml"), "--depth", "1").stdout
    assert sample == "\n".join(line.rstrip() for line in out.splitlines()) + "\n"
