"""`layercalc graph`: the diagram's boxes, folds, edges and shapes, and its text checked by the
real parsers: Mermaid's own (in headless Chromium, installed from npm with the pinned
tests/js/package-lock.json) and Graphviz's `dot`.

The parser tests skip only when the tool cannot be had: no `dot` on the PATH, no Chromium,
or no npm/registry to install Mermaid (see tests/browser.py and .ci/run).
"""

import glob
import json
import os
import re
import shutil
import subprocess
import sys

import pytest

from layercalc.graph import diagram_of
from layercalc.graph.dot import to_dot
from layercalc.graph.mermaid import limits_exceeded, to_mermaid

from .browser import Browser, find_chromium, mermaid_script

HERE = os.path.dirname(os.path.abspath(__file__))
SPECS = sorted(glob.glob(os.path.join(HERE, "..", "specs", "**", "*.yaml"), recursive=True))
SPEC_IDS = [os.path.relpath(p, os.path.join(HERE, "..", "specs"))[:-5] for p in SPECS]
# each spec as drawn by default, with every level open, and folded at depth 1
VARIANTS = {"default": {}, "open": {"max_nodes": None}, "depth1": {"depth": 1}}


def spec(name):
    return os.path.join(HERE, "..", "specs", f"{name}.yaml")


def cli(*args, stdin=None):
    return subprocess.run([sys.executable, "-m", "layercalc", *args], capture_output=True, text=True, input=stdin)


# --- what the diagram holds ------------------------------------------------------------------


def test_resnet18_at_depth_1_has_one_box_per_top_level_entry():
    d = diagram_of(spec("resnet18"), depth=1)
    # the stem, layer1 (BasicBlock repeated twice: one box at level 1), the stages, the head
    assert [b.name for b in d.boxes] == ["x", "conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3",
                                         "layer4", "avgpool", "flatten", "fc", "fc"]
    box = {b.name: b for b in d.boxes if b.kind in ("block", "repeat")}
    # a BasicBlock at 64 channels: two 3x3 convs without bias, 64*64*9 = 36,864 each, and two
    # BatchNorm2d of 2*64 = 128: 2*36,864 + 2*128 = 73,984; two of them
    assert box["layer1"].params == 2 * 73_984
    # MACs: each conv 64*64*9 * 56*56 = 115,605,504; four of them
    assert box["layer1"].macs == 4 * 115_605_504
    # BasicBranch (5 layers) + Add + ReLU, twice
    assert box["layer1"].layers == 14 and box["layer1"].caption == "BasicBlock x2 (14 layers)"
    assert box["layer2"].caption == "Stage (16 layers)"
    edges = {(e.src.name, e.dst.name): e.label for e in d.edges}
    assert edges[("maxpool", "layer1")] == "[1, 64, 56, 56]"
    assert edges[("layer1", "layer2")] == "[1, 64, 56, 56]"
    assert edges[("layer2", "layer3")] == "[1, 128, 28, 28]"
    assert edges[("fc", "fc")] == "[1, 1000]"
    assert not any(e.skip for e in d.edges)  # every skip is inside a folded block
    # depth 2: the copies of layer1 are a box each (level 2), and so are the stages' blocks
    d = diagram_of(spec("resnet18"), depth=2)
    assert [b.name for b in d.boxes if b.kind == "block"] == ["layer1.0", "layer1.1", "layer2.down", "layer2.block",
                                                              "layer3.down", "layer3.block", "layer4.down",
                                                              "layer4.block"]
    assert next(b for b in d.boxes if b.name == "layer1.0").params == 73_984


def test_resnet18_open_shows_every_skip_connection():
    d = diagram_of(spec("resnet18"))
    assert d.depth is None and not d.folded_repeats and len(d.boxes) == 69 + 2  # 69 layers, the input, the output
    skips = [(e.src.name, e.dst.name, e.label) for e in d.edges if e.skip]
    # layer1: 2 identity blocks, one skip each (x -> add); layer2..4: a down block (x -> the
    # 1x1 downsample conv, and the branch's bn2 -> add past the downsample) and an identity block:
    # 2 + 3 * (2 + 1) = 11
    assert len(skips) == 11
    assert ("maxpool", "layer1.0.add_1", "[1, 64, 56, 56]") in skips
    assert ("layer1.1.relu_1", "layer2.down.downsample", "[1, 64, 56, 56]") in skips
    assert ("layer2.down.branch.bn2", "layer2.down.add_1", "[1, 128, 28, 28]") in skips
    text = to_mermaid(d)
    assert 'subgraph g0["layer1.0: BasicBlock"]' in text
    assert re.search(r'n\d+\["conv1<br/>Conv2d"\]', text)  # a name relative to its subgraph
    assert text.count("-.->") == 11


def test_gpt2_repeats_fold_when_the_diagram_is_too_large():
    d = diagram_of(spec("gpt2-small"), max_nodes=30)
    assert d.folded_repeats and d.depth is None
    h = next(b for b in d.boxes if b.name == "h")
    # 12 copies of an 8-layer block
    assert h.kind == "repeat" and h.copies == 12 and h.caption == "Block x12 (96 layers)"
    # per block: ln_1 2*768 = 1,536; attn in_proj 768*2304 + 2304 and out_proj 768*768 + 768 = 2,362,368;
    # ln_2 1,536; c_fc 768*3072 + 3072 = 2,362,368; c_proj 3072*768 + 768 = 2,360,064: 7,087,872; x12
    assert h.params == 85_054_464
    assert "102 layers in 10 boxes: repeats folded" in to_mermaid(d).splitlines()[0]
    # opened: 12 blocks x 2 residual skips + wte -> embed past wpe = 25 skip edges
    assert sum(e.skip for e in diagram_of(spec("gpt2-small")).edges) == 25


def test_levels_fold_when_folding_repeats_is_not_enough():
    # repeats folded, depth 2: the stem (4), per stage a down block and a folded repeat (4 x 2),
    # the head (3), the input and the output: 17 boxes
    d = diagram_of(spec("resnet50"), max_nodes=20)
    assert d.folded_repeats and d.depth == 2 and len(d.boxes) == 17
    assert [b.caption for b in d.boxes if b.name.startswith("layer3")] == [
        "BottleneckDown (12 layers)", "Bottleneck x5 (50 layers)"]
    # 17 > 15: depth 1, one box per stage: 4 + 4 + 3 + 2 = 13
    d = diagram_of(spec("resnet50"), max_nodes=15)
    assert d.depth == 1 and len(d.boxes) == 13
    assert [b.name for b in d.boxes if b.kind == "block"] == ["layer1", "layer2", "layer3", "layer4"]
    # an explicit depth is kept
    assert diagram_of(spec("resnet50"), max_nodes=15, depth=3).depth == 3


def test_extra_outputs_and_several_inputs():
    text = """layercalc: 1
name: two
inputs:
  a: [2, 5, 8]
  b: [2, 8]
layers:
  - LSTM: {hidden_size: 16, batch_first: true}
    name: rnn
  - Linear: {out_features: 16}
    from: b
    name: proj
  - Add:
    from: [rnn.h_n, proj]
"""
    d = diagram_of(text)
    edges = {(e.src.name, e.dst.name): e.label for e in d.edges}
    assert edges[("a", "rnn")] == "[2, 5, 8]"
    assert edges[("b", "proj")] == "[2, 8]"
    assert edges[("rnn", "add_1")] == "[1, 2, 16]"  # h_n: (num_layers, B, hidden)


# --- the command -------------------------------------------------------------------------------


def test_cli_formats_and_errors(tmp_path):
    p = cli("graph", spec("lenet5"))
    assert p.returncode == 0 and p.stdout.startswith("%% lenet5\nflowchart TD\n")
    p = cli("graph", spec("lenet5"), "--format", "markdown", "--direction", "LR")
    assert p.stdout.startswith("```mermaid\n%% lenet5\nflowchart LR\n") and p.stdout.rstrip().endswith("```")
    p = cli("graph", spec("lenet5"), "--format", "dot")
    assert p.returncode == 0 and 'digraph "lenet5" {' in p.stdout
    assert cli("graph", spec("lenet5"), "--format", "svg").returncode == 2
    assert cli("graph", spec("lenet5"), "--depth", "0").returncode == 2
    bad = tmp_path / "bad.yaml"
    bad.write_text("layercalc: 1\nname: bad\ninputs:\n  x: [1, 4]\nlayers:\n  - Linear: {in_features: 5, out_features: 2}\n")
    p = cli("graph", str(bad))
    assert p.returncode == 1 and p.stderr.startswith(f"{bad}:6:") and "Traceback" not in p.stderr


# --- the real parsers ----------------------------------------------------------------------------


@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("path", SPECS, ids=SPEC_IDS)
def test_dot_parses_with_graphviz(path, variant):
    dot = shutil.which("dot")
    if dot is None:
        pytest.skip("Graphviz's dot is not installed (apt-get install graphviz)")
    text = to_dot(diagram_of(path, **VARIANTS[variant]))
    p = subprocess.run([dot, "-Tsvg"], input=text, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert "<svg" in p.stdout and "Error" not in p.stderr


@pytest.fixture(scope="module")
def mermaid_page():
    if find_chromium() is None:
        pytest.skip("no Chromium to run Mermaid's parser in (apt-get install chromium)")
    script = mermaid_script()
    if script is None:
        pytest.skip("Mermaid could not be installed from npm (tests/js/package-lock.json)")
    page_dir = os.path.dirname(script)
    page = os.path.join(page_dir, "layercalc-parse.html")
    with open(page, "w") as fh:
        fh.write('<!doctype html><html><body><script src="mermaid.min.js"></script></body></html>')
    with Browser() as browser:
        tab = browser.page()
        tab.goto("file://" + page)
        assert tab.evaluate("typeof mermaid.parse") == "function"
        yield tab


def parse(page, text: str) -> str:
    return page.evaluate(f"mermaid.parse({json.dumps(text)}).then(r => r.diagramType, e => 'ERROR ' + e.message)")


def test_mermaid_parser_rejects_broken_text(mermaid_page):
    # the check can fail: a label left open is a parse error
    assert parse(mermaid_page, 'flowchart TD\n  n0["open\n').startswith("ERROR")
    assert parse(mermaid_page, "flowchart TD\n  n0 --> n1\n") == "flowchart-v2"


@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("path", SPECS, ids=SPEC_IDS)
def test_mermaid_parses_with_mermaid(mermaid_page, path, variant):
    text = to_mermaid(diagram_of(path, **VARIANTS[variant]))
    if limits_exceeded(text):  # beyond what Mermaid draws by default (the command warns): refused
        assert parse(mermaid_page, text).startswith("ERROR Edge limit exceeded")
        assert variant == "open"  # what the command draws by default always fits
    else:
        assert parse(mermaid_page, text) == "flowchart-v2"


def test_the_readme_diagram_is_current():
    with open(os.path.join(HERE, "..", "README.md")) as fh:
        readme = fh.read()
    block = readme[readme.index("ResNet-18 at depth 1:\n\n") + len("ResNet-18 at depth 1:\n\n"):]
    block = block[:block.index("```\n", 4) + 4]
    p = cli("graph", spec("resnet18"), "--depth", "1", "--format", "markdown")
    assert p.returncode == 0 and block == p.stdout


@pytest.mark.parametrize("name", ["resnet18", "gpt2-small"])
def test_mermaid_renders_the_diagram(mermaid_page, name):
    # beyond parsing: Mermaid lays the default diagram out and draws it, a box per layer
    text = to_mermaid(diagram_of(spec(name)))
    svg = mermaid_page.evaluate(f"mermaid.render('d{abs(hash(name))}', {json.dumps(text)}).then(r => r.svg, "
                                "e => 'ERROR ' + e.message)")
    assert svg.startswith("<svg"), svg[:300]
    boxes = len(re.findall(r'class="node ', svg))
    assert boxes == text.count("<br/>")  # every box of the text is drawn
