"""The block tree of `memory` and `cost` sums their figures too: a block's byte counts and costs are
the sums over its layers, its output bytes its output's, and its peaks the largest of its layers'
(worked for resnet18's layer1 below; every bundled spec checked against its own rows)."""

import json
from pathlib import Path

import pytest

import layercalc
from layercalc.budget.analysis import ADDITIVE
from layercalc.render.plain import to_json

SPECS = sorted(p for p in (Path(__file__).resolve().parent.parent / "specs").glob("*.yaml"))
PEAKS = ("inference_peak_bytes", "training_peak_bytes")


def _json(report) -> dict:
    """The report as `--format json` prints it (the renderer adds the tree)."""
    return json.loads(to_json(report))


def _groups(nodes):
    for n in nodes:
        if n.get("children"):
            yield n
            yield from _groups(n["children"])


def _leaves(node, rows):
    for c in node["children"]:
        if c.get("children"):
            yield from _leaves(c, rows)
        else:
            yield rows[c["name"]]


def test_resnet18_layer1_written_out():
    d = _json(layercalc.memory(str(SPECS[0].parent / "resnet18.yaml")))
    layer1 = next(n for n in d["tree"] if n["name"] == "layer1")
    # two BasicBlocks of 2 * (64*64*3*3) conv weights + 2 * (2*64) BatchNorm weights = 73,984 params
    # each; float32 weights: 2 * 73,984 * 4 = 591,872 bytes
    assert layer1["weight_bytes"] == 2 * 73_984 * 4 == 591_872
    assert layer1["gradient_bytes"] == 591_872
    # AdamW: exp_avg and exp_avg_sq (2 * 4 bytes per param) plus one 4-byte step per parameter tensor
    # (2 blocks * (2 conv + 2 * 2 bn) = 12 tensors): 8 * 147,968 + 12 * 4 = 1,183,792
    assert layer1["optimizer_bytes"] == 8 * 147_968 + 12 * 4 == 1_183_792


@pytest.mark.parametrize("spec", SPECS, ids=[p.stem for p in SPECS])
def test_memory_tree_sums_its_rows(spec):
    d = _json(layercalc.memory(str(spec)))
    rows = {r["name"]: r for r in d["layers"]}
    groups = list(_groups(d["tree"]))
    for g in groups:
        leaves = list(_leaves(g, rows))
        for k in ADDITIVE:
            if k in g:
                assert g[k] == sum(r.get(k, 0) for r in leaves), (g["name"], k)
        for k in PEAKS:
            assert g[k] == max(r[k] for r in leaves), (g["name"], k)
        # every bundled block hands on its last layer's output
        assert g["output_shape"] == leaves[-1]["output_shape"], g["name"]
        assert g["output_bytes"] == leaves[-1]["output_bytes"], g["name"]


@pytest.mark.parametrize("spec", SPECS[:4], ids=[p.stem for p in SPECS[:4]])
def test_cost_tree_sums_its_rows(spec):
    d = _json(layercalc.cost(str(spec)))
    rows = {r["name"]: r for r in d["layers"]}
    for g in _groups(d["tree"]):
        leaves = list(_leaves(g, rows))
        for k in ("forward_macs", "backward_macs", "training_macs", "forward_flops", "backward_flops",
                  "training_flops"):
            assert g[k] == sum(r[k] for r in leaves), (g["name"], k)
