"""`layercalc diff`: matching, deltas, budgets, formats and git revisions.

The golden Markdown lives in tests/golden/; regenerate it with
``LAYERCALC_REGEN=1 python -m pytest tests/test_diff.py`` and review the diff.
"""

import json
import os
import re
import shutil
import subprocess
import sys

import pytest

import layercalc
from tests.golden_files import check_golden
from layercalc.diff import diff_reports, listed_changes

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SPECS = os.path.join(ROOT, "specs")


def cli(*args, cwd=None):
    env = {**os.environ, "PYTHONPATH": ROOT}
    return subprocess.run([sys.executable, "-m", "layercalc", *args], capture_output=True, text=True, cwd=cwd, env=env)


def spec_text(name):
    with open(os.path.join(SPECS, f"{name}.yaml")) as fh:
        return fh.read()


def gpt2_24():
    text = spec_text("gpt2-small")
    assert "layers: 12," in text
    return text.replace("layers: 12,", "layers: 24,")


@pytest.fixture
def gpt2_pair(tmp_path):
    path = tmp_path / "gpt2-24.yaml"
    path.write_text(gpt2_24())
    return os.path.join(SPECS, "gpt2-small.yaml"), str(path)


def test_resnet18_to_resnet50():
    d = diff_reports(layercalc.analyze(os.path.join(SPECS, "resnet18.yaml")),
                     layercalc.analyze(os.path.join(SPECS, "resnet50.yaml")))
    params = d.totals["params"]
    # torchvision's published counts: 25,557,032 - 11,689,512 = 13,867,520; / 11,689,512 = +118.63%
    assert (params.old, params.new, params.change) == (11_689_512, 25_557_032, 13_867_520)
    assert round(params.percent, 2) == 118.63
    # published GMACs 1.814 -> 4.089
    macs = d.totals["macs"]
    assert (round(macs.old / 1e9, 3), round(macs.new / 1e9, 3)) == (1.814, 4.089)
    blocks = {b.name: b for b in d.blocks}
    # layer1 of resnet18: 2 BasicBlocks of 64 channels, each 2 convs 64*64*9 = 36,864 and 2 BatchNorms 2*64:
    #   2 * (2 * 36,864 + 2 * 128) = 147,968
    # layer1 of resnet50: the downsampling bottleneck 64*64 + 128 + 64*64*9 + 128 + 64*256 + 512
    #   + downsample 64*256 + 512 = 75,008, two bottlenecks 256*64 + 128 + 36,864 + 128 + 64*256 + 512
    #   = 70,400 each: 75,008 + 2 * 70,400 = 215,808; change 215,808 - 147,968 = 67,840
    layer1 = blocks["layer1"]
    assert (layer1.label, layer1.delta("params")) == ("BasicBlock x2 -> Stage", (147_968, 215_808))
    assert layer1.delta("params").change == 67_840
    # MACs of layer1, at 56x56: resnet18 4 convs 56*56*64*64*9 = 4 * 115,605,504 = 462,422,016
    # resnet50: down 56*56*(64*64 + 64*64*9 + 64*256 + 64*256) = 231,211,008,
    #   2 bottlenecks 56*56*(256*64 + 64*64*9 + 64*256) = 2 * 218,365,952; total 667,942,912
    assert layer1.delta("macs") == (462_422_016, 667_942_912) and layer1.delta("macs").change == 205_520_896
    assert layer1.delta("layers") == (14, 32)  # 2 * 7 layers; 12 + 2 * 10
    fc = next(c for c in d.layers if c.name == "fc")
    # fc: 512*1000 + 1000 = 513,000 -> 2048*1000 + 1000 = 2,049,000: +1,536,000
    assert fc.status == "changed" and fc.changes["args.in_features"] == (512, 2048)
    assert fc.delta("params").change == 1_536_000 and fc.delta("macs").change == 1_536_000
    # resnet18 has 69 layers, resnet50 175: 175 - 69 = 106 more on the new side
    assert d.count("added") - d.count("removed") == 106
    assert d.outputs == {"fc": ([1, 1000], [1, 1000])}


def test_gpt2_small_against_24_layers(gpt2_pair):
    old, new = (layercalc.analyze(p) for p in gpt2_pair)
    d = diff_reports(old, new)
    # 12 more blocks of 7,087,872 params (published per-block count): 12 * 7,087,872 = 85,054,464;
    # / 124,439,808 = +68.35%
    assert d.totals["params"] == (124_439_808, 209_494_272) and d.totals["params"].change == 85_054_464
    assert round(d.totals["params"].percent, 2) == 68.35
    # MACs of one block at T = 1024, d = 768, 12 heads of 64:
    #   in_proj 1024*768*2304 = 1,811,939,328; QK^T and AV 2 * 12*1024*1024*64 = 1,610,612,736;
    #   out_proj 1024*768*768 = 603,979,776; c_fc and c_proj 2 * 1024*768*3072 = 4,831,838,208
    #   = 8,858,370,048; 12 more: 12 * 8,858,370,048 = 106,300,440,576
    assert d.totals["macs"].change == 106_300_440_576
    # 12 blocks of 8 layers added, nothing removed or changed
    assert (d.count("added"), d.count("removed"), d.count("changed"), d.count("renamed")) == (96, 0, 0, 0)
    h = next(b for b in d.blocks if b.name == "h")
    assert (h.label, h.delta("layers"), h.delta("params").change) == ("Block x12 -> Block x24", (96, 192), 85_054_464)
    assert h.delta("params").percent == 100.0
    listed = listed_changes(d)
    assert [c.name for c in listed] == [f"h.{k}" for k in range(12, 24)]  # whole blocks, not 96 rows


def _renamed(text, names):
    for a, b in names.items():
        text = re.sub(rf"\b{re.escape(a)}\b", b, text)
    return text


def test_a_spec_against_itself_with_renamed_layers(tmp_path):
    old_text = spec_text("lenet5")
    new_text = _renamed(old_text, {"C1": "conv_a", "S2": "pool_a", "F6": "fc6"})
    assert new_text != old_text
    d = diff_reports(layercalc.analyze(old_text), layercalc.analyze(new_text))
    # C1.conv, C1.tanh, S2 and F6 renamed; the other 8 of the 12 layers keep their names
    assert (d.count("renamed"), d.count("unchanged"), d.count("added"), d.count("removed")) == (4, 8, 0, 0)
    assert {c.old.name: c.new.name for c in d.layers if c.status == "renamed"} == {
        "C1.conv": "conv_a.conv", "C1.tanh": "conv_a.tanh", "S2": "pool_a", "F6": "fc6"}
    assert d.only_renamed and all(t.change == 0 for t in d.totals.values())
    old, new = tmp_path / "old.yaml", tmp_path / "new.yaml"
    old.write_text(old_text)
    new.write_text(new_text)
    proc = cli("diff", str(old), str(new), "--max-params-increase", "0", "--max-macs-increase", "0%")
    assert proc.returncode == 0, proc.stderr
    assert "4 renamed" in proc.stdout


def test_an_inserted_layer_does_not_shift_the_matches():
    old = "layercalc: 1\ninputs: {x: [2, 8]}\nlayers:\n  - Linear: {out_features: 16}\n  - ReLU\n" \
          "  - Linear: {out_features: 16}\n  - ReLU\n  - Linear: {out_features: 4}\n"
    new = old.replace("  - ReLU\n", "  - ReLU\n  - Dropout: {p: 0.1}\n", 1)
    d = diff_reports(layercalc.analyze(old), layercalc.analyze(new))
    assert [(c.status, c.name) for c in d.layers if c.status != "unchanged"] == [("added", "dropout_1")]
    assert d.count("unchanged") == 5


def test_a_changed_argument_and_a_removed_layer():
    old = "layercalc: 1\ninputs: {x: [2, 8]}\nlayers:\n  - Linear: {out_features: 16}\n    name: a\n" \
          "  - Tanh\n  - Linear: {out_features: 4}\n    name: b\n"
    new = "layercalc: 1\ninputs: {x: [2, 8]}\nlayers:\n  - Linear: {out_features: 32}\n    name: a\n" \
          "  - Linear: {out_features: 4}\n    name: b\n"
    d = diff_reports(layercalc.analyze(old), layercalc.analyze(new))
    by = {c.name: c for c in d.layers}
    # a: 8*16 + 16 = 144 -> 8*32 + 32 = 288; b: 16*4 + 4 = 68 -> 32*4 + 4 = 132
    assert by["a"].changes["args.out_features"] == (16, 32) and by["a"].delta("params") == (144, 288)
    assert by["a"].changes["output_shape"] == ([2, 16], [2, 32])
    assert by["b"].changes["args.in_features"] == (16, 32) and by["b"].delta("params").change == 64
    assert by["tanh_1"].status == "removed"
    assert [c.name for c in d.layers] == ["a", "tanh_1", "b"]  # the removed layer where it was
    # total 144 + 68 = 212 -> 288 + 132 = 420: +208, +98.11%
    assert d.totals["params"].change == 208 and round(d.totals["params"].percent, 2) == 98.11


@pytest.mark.parametrize("args,status", [
    (["--max-params-increase", "5%"], 1),      # +68.35% > 5%
    (["--max-params-increase", "70%"], 0),     # +68.35% <= 70%
    (["--max-params-increase", "85M"], 1),     # +85,054,464 > 85,000,000
    (["--max-params-increase", "86M"], 0),
    (["--max-macs-increase", "1G"], 1),        # +106.3 G > 1 G
    (["--max-macs-increase", "107G"], 0),
    (["--max-params-increase", "70%", "--max-macs-increase", "1G"], 1),
    ([], 0),
])
def test_budget_gates(gpt2_pair, args, status):
    proc = cli("diff", *gpt2_pair, *args)
    assert proc.returncode == status, proc.stderr
    if status:
        assert "exceeds the budget" in proc.stderr


def test_a_decrease_passes_every_gate(gpt2_pair):
    proc = cli("diff", gpt2_pair[1], gpt2_pair[0], "--max-params-increase", "0", "--max-macs-increase", "0%")
    assert proc.returncode == 0 and "-85.05 M" in proc.stdout


@pytest.mark.parametrize("args", [["--max-params-increase", "five"], ["--max-macs-increase", "-1%"],
                                  ["--format", "svg"], ["--depth", "x"]])
def test_usage_errors(gpt2_pair, args):
    proc = cli("diff", *gpt2_pair, *args)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr


def test_json(gpt2_pair):
    proc = cli("diff", *gpt2_pair, "-f", "json", "--max-macs-increase", "1G")
    assert proc.returncode == 1
    d = json.loads(proc.stdout)
    assert d["totals"]["params"] == {"old": 124_439_808, "new": 209_494_272, "change": 85_054_464,
                                     "percent": 68.3499}  # 85,054,464 / 124,439,808 = 0.6834988...
    assert d["summary"]["added"] == 96 and len(d["layers"]) == 96
    assert d["gates"] == [{"field": "macs", "budget": "1G", "change": 106_300_440_576, "exceeded": True}]


def test_golden_markdown(gpt2_pair):
    from layercalc.render.diff import to_markdown

    old, new = (layercalc.analyze(p) for p in gpt2_pair)
    text = to_markdown(diff_reports(old, new, "specs/gpt2-small.yaml", "gpt2-24.yaml"))
    check_golden("diff-gpt2-small-24.md", text + "\n")
    # what GitHub needs to render it: the summary line first, a blank line around every table,
    # <details> with its <summary> and a blank line before the Markdown inside it
    lines = text.splitlines()
    assert lines[2].startswith("**Params +85.05 M (+68.35%); MACs +106.30 G (+72.90%)")
    assert lines[lines.index("<details>") + 2] == "" and "</details>" in lines
    for k, line in enumerate(lines):
        if line.startswith("|") and not lines[k - 1].startswith("|"):
            assert lines[k - 1] == "", f"no blank line before the table at line {k + 1}"


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_git_revision(tmp_path):
    def git(*args):
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True,
                       env={**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
                            "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"})

    git("init", "-q")
    (tmp_path / "models").mkdir()
    spec = tmp_path / "models" / "gpt2.yaml"
    spec.write_text(spec_text("gpt2-small"))
    git("add", ".")
    git("commit", "-q", "-m", "gpt2")
    spec.write_text(gpt2_24())
    proc = cli("diff", "git:HEAD:models/gpt2.yaml", "models/gpt2.yaml", "-f", "json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    d = json.loads(proc.stdout)
    assert d["old"]["file"] == "git:HEAD:models/gpt2.yaml" and d["totals"]["params"]["change"] == 85_054_464
    # ./PATH is relative to the current directory, as git show reads it
    proc = cli("diff", "git:HEAD:./gpt2.yaml", "gpt2.yaml", cwd=tmp_path / "models")
    assert proc.returncode == 0 and "+85.05 M" in proc.stdout
    for bad in ("git:nope:models/gpt2.yaml", "git:HEAD:models/missing.yaml", "git:HEAD"):
        proc = cli("diff", bad, "models/gpt2.yaml", cwd=tmp_path)
        assert proc.returncode == 1 and proc.stderr.startswith(f"{bad}:1:1: ") and "[Y006]" in proc.stderr
        assert "Traceback" not in proc.stderr


def test_a_spec_error_on_either_side_exits_1(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("layercalc: 1\ninputs: {x: [1, 4]}\nlayers:\n  - Linaer: {out_features: 3}\n")
    proc = cli("diff", os.path.join(SPECS, "lenet5.yaml"), str(bad))
    assert proc.returncode == 1 and proc.stderr.startswith(f"{bad}:4:") and "Traceback" not in proc.stderr


def test_the_readme_diff_sample_is_current(tmp_path):
    with open(os.path.join(ROOT, "README.md")) as fh:
        readme = fh.read()
    command = "$ layercalc diff gpt2-small.yaml gpt2-24.yaml --max-params-increase 5%\n"
    sample = readme[readme.index(command) + len(command):]
    sample = sample[:sample.index("```")]
    shutil.copy(os.path.join(SPECS, "gpt2-small.yaml"), tmp_path / "gpt2-small.yaml")
    (tmp_path / "gpt2-24.yaml").write_text(gpt2_24())
    proc = cli("diff", "gpt2-small.yaml", "gpt2-24.yaml", "--max-params-increase", "5%", cwd=tmp_path)
    assert proc.returncode == 1
    out = [line.rstrip() for line in proc.stdout.splitlines()]
    head, tail = sample.split("  ...\n")
    assert out[:len(head.splitlines())] == head.splitlines()
    assert proc.stderr == tail
