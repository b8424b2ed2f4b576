"""`memory` and `cost` with --depth: block rows fold as in `summary`, with each column's rule
(docs/memory.md, "Block rows"): byte counts, MACs, FLOPs, bytes moved and latency floors are sums over the
block's layers; its output bytes are its output's; its arithmetic intensity is its FLOPs over its bytes
moved and its bound follows from that.

The expected figures of a block come from the flat rows (today's output, tests/golden/) added up here,
or are written out with their arithmetic.
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from layercalc.cli import app
from tests.golden_files import GOLDEN
from tests.test_depth import FINAL_STATE_BLOCK, NESTED  # the specs; NESTED's figures are worked out there

SPECS = Path(__file__).resolve().parent.parent / "specs"
runner = CliRunner()

MEMORY_SUMS = ("weight_bytes", "gradient_bytes", "optimizer_bytes", "saved_activation_bytes", "kv_cache_bytes")
COST_SUMS = ("forward_macs", "backward_macs", "training_macs", "forward_flops", "backward_flops", "training_flops")
# the command line of each report, and its summed csv columns
COMMANDS = {
    "memory": (["memory"], MEMORY_SUMS),
    "cost": (["cost"], COST_SUMS),
    "cost-h100": (["cost", "--accelerator", "h100-sxm"], COST_SUMS),
}
# levels of the block tree: GPT-2 small h > h.N > layers (3); ResNet-50 layerN > layerN.down / layerN.block >
# layerN.block.K > its branch > layers (5)
DEEPEST = {"gpt2-small": 3, "resnet50": 5}



def run(*args, input: str | None = None) -> str:
    result = runner.invoke(app, [str(a) for a in args], input=input)
    assert result.exit_code == 0, result.output
    return result.stdout


def csv_rows(text: str) -> tuple[list[dict], dict]:
    rows = list(csv.DictReader(io.StringIO(text)))
    return rows[:-1], rows[-1]


def md_rows(text: str) -> tuple[list[str], list[list[str]], list[str]]:
    """(header, rows, totals) of the Markdown table, cells stripped of indentation, bold and commas."""
    lines = [line for line in text.splitlines() if line.startswith("| ")]

    def cells(line):
        return [c.strip().replace("&nbsp;", "").replace("**", "").replace(",", "") for c in line[2:-2].split(" | ")]

    return cells(lines[0]), [cells(line) for line in lines[2:-1]], cells(lines[-1])


def inside(name: str, flat: list[dict]) -> list[dict]:
    """The leaf rows of the row ``name`` (itself, for a layer; its layers, for a block instance or repeat)."""
    return [r for r in flat if r["name"] == name or r["name"].startswith(name + ".")]


def depths(spec: str) -> list:
    return list(range(0, DEEPEST[spec] + 1)) + ["all"]


@pytest.fixture(scope="module")
def flat():
    """Today's rows of every report (csv, every layer: the default)."""
    out = {}
    for spec in DEEPEST:
        for command, (args, _) in COMMANDS.items():
            out[spec, command] = csv_rows(run(*args, SPECS / f"{spec}.yaml", "--format", "csv"))
    return out


def test_the_default_csv_and_markdown_are_todays_output():
    # every layer, no block rows: as before --depth (golden files written by the version without it)
    for name, args in (("gpt2-small-memory.csv", ["memory", "gpt2-small", "-f", "csv"]),
                       ("gpt2-small-cost-h100.csv", ["cost", "gpt2-small", "-f", "csv", "--accelerator", "h100-sxm"]),
                       ("resnet50-memory.md", ["memory", "resnet50", "-f", "markdown"]),
                       ("resnet50-cost.md", ["cost", "resnet50", "-f", "markdown"])):
        args[1] = SPECS / f"{args[1]}.yaml"
        assert run(*args) == (Path(GOLDEN) / name).read_text(), name


@pytest.mark.parametrize("spec", DEEPEST)
@pytest.mark.parametrize("command", COMMANDS)
def test_folded_csv_rows_are_the_sums_of_their_layers_at_every_depth(spec, command, flat):
    args, sums = COMMANDS[command]
    leaves, totals = flat[spec, command]
    for depth in depths(spec):
        rows, folded_totals = csv_rows(run(*args, SPECS / f"{spec}.yaml", "-f", "csv", "--depth", depth))
        assert bool(rows) == (depth != 0), depth
        # the totals do not depend on the depth
        assert {k: v for k, v in folded_totals.items() if k not in ("layers", "level")} == totals, depth
        assert folded_totals["layers"] == str(len(leaves))
        for row in rows:
            mine = inside(row["name"], leaves)
            assert int(row["layers"]) == len(mine), (depth, row["name"])
            for key in sums:
                assert int(row[key]) == sum(int(r[key]) for r in mine), (depth, row["name"], key)
            if command == "memory":  # a block hands on its last layer's output
                assert row["output"] == mine[-1]["output"] and row["output_bytes"] == mine[-1]["output_bytes"]
            if command == "cost-h100":  # the latency floor of layers that run one after another
                assert float(row["floor"]) == pytest.approx(sum(float(r["floor"]) for r in mine), rel=1e-12)
        # the rows not expanded hold every layer once, so they add up to the totals
        if depth not in (0, "all"):
            frontier = [r for i, r in enumerate(rows)
                        if i + 1 == len(rows) or int(rows[i + 1]["level"]) <= int(r["level"])]
            assert sum(int(r["layers"]) for r in frontier) == len(leaves), depth
            for key in sums:
                assert sum(int(r[key]) for r in frontier) == int(totals[key]), (depth, key)


@pytest.mark.parametrize("spec", DEEPEST)
@pytest.mark.parametrize("command", COMMANDS)
def test_folded_markdown_rows_are_the_sums_of_their_layers(spec, command, flat):
    args, sums = COMMANDS[command]
    leaves, totals = flat[spec, command]
    for depth in (1, 2, "all"):
        header, rows, foot = md_rows(run(*args, SPECS / f"{spec}.yaml", "-f", "markdown", "--depth", depth))
        assert header[:3] == ["Layer", "Type", "Layers"]
        keys = [k for k in csv_rows(run(*args, SPECS / f"{spec}.yaml", "-f", "csv", "--depth", "1"))[1]][:-1]
        for cells in rows:
            row = dict(zip(keys, cells))
            mine = inside(row["name"], leaves)
            assert int(row["layers"]) == len(mine)
            for key in sums:
                assert int(row[key]) == sum(int(r[key]) for r in mine), (depth, row["name"], key)
        assert [c for k, c in zip(keys, foot) if k in sums] == [totals[k] for k in keys if k in sums]


@pytest.mark.parametrize("command", ["memory", "cost"])
def test_folded_table_cells_are_the_sums_of_their_layers(command, flat):
    from layercalc.render.table import human, human_bytes

    args, sums = COMMANDS[command]
    leaves, _ = flat["gpt2-small", command]
    out = run(*args, SPECS / "gpt2-small.yaml", "--depth", "2")
    # the row of h.3, the fourth transformer block: its 8 layers added up
    line = next(line for line in out.splitlines() if line.startswith("    h.3 "))
    mine = inside("h.3", leaves)
    unit = human_bytes if command == "memory" else human
    expected = ["h.3", "Block", "8"] + ([mine[-1]["output"]] if command == "memory" else [])
    expected += [unit(sum(int(r[k]) for r in mine)) for k in sums]
    if command == "memory":  # Out bytes, before the KV cache: the block's output, its last layer's
        expected.insert(-1, unit(int(mine[-1]["output_bytes"])))
    assert re.split(r"\s{2,}", line.strip())[:len(expected)] == expected


@pytest.mark.parametrize("spec", DEEPEST)
def test_json_keeps_every_layer_and_the_roofline_of_each_block(spec):
    # json ignores --depth (every layer in `layers`, the whole tree), as summary's does
    args = ["cost", SPECS / f"{spec}.yaml", "-f", "json", "--accelerator", "h100-sxm"]
    d = json.loads(run(*args))
    assert run(*args, "--depth", "1") == run(*args)
    rows = {r["name"]: r for r in d["layers"]}
    peak, bandwidth = d["cost"]["peak_flops"], d["cost"]["bandwidth"]

    def check(node):
        if node["kind"] == "layer":
            return [rows[node["name"]]]
        mine = [r for child in node["children"] for r in check(child)]
        flops, moved = sum(r["flops"] for r in mine), sum(r["bytes_moved"] for r in mine)
        assert node["bytes_moved"] == moved and node["flops"] == flops
        assert node["intensity"] == pytest.approx(flops / moved)
        assert node["bound"] == ("compute" if flops / peak >= moved / bandwidth else "memory"), node["name"]
        assert node["latency_floor_s"] == pytest.approx(sum(r["latency_floor_s"] for r in mine), rel=1e-12)
        for key in COST_SUMS:
            assert node[key] == sum(r[key] for r in mine)
        return mine

    for top in d["tree"]:
        check(top)
    assert sum(r["latency_floor_s"] for r in d["layers"]) == pytest.approx(d["cost"]["forward_latency_floor_s"])


def test_a_worked_example_of_block_rows():
    # body: Pair x2, each a = Linear(16 -> 16) + mix (fc = Linear(16 -> 16, no bias), act = ReLU), at B = 2
    out = run("memory", "-", "-f", "csv", "--depth", "1", input=NESTED)
    body = next(r for r in csv_rows(out)[0] if r["name"] == "body")
    # params 2 * (272 + 256) = 1,056, float32: 4,224 bytes of weights and as many of gradients
    assert (body["weight_bytes"], body["gradient_bytes"]) == ("4224", "4224")
    # AdamW: 8 bytes a param (exp_avg, exp_avg_sq) + a 4-byte step per tensor (a.weight, a.bias, fc.weight,
    # twice): 8 * 1,056 + 4 * 6 = 8,472
    assert body["optimizer_bytes"] == str(8 * 1056 + 4 * 6)
    # saved for backward, each storage once: body.0 a's input, fc's input and act's output, [2, 16] each
    # (3 * 128); body.1's a reads body.0's act output, saved already: fc's input and act's output (2 * 128)
    assert body["saved_activation_bytes"] == str(5 * 2 * 16 * 4)
    # its output is [2, 16]: 128 bytes (not the sum of its layers' outputs)
    assert (body["output"], body["output_bytes"]) == ("[2, 16]", "128")
    out = run("cost", "-", "-f", "csv", "--depth", "1", "--accelerator", "h100-sxm", input=NESTED)
    body = next(r for r in csv_rows(out)[0] if r["name"] == "body")
    # forward MACs 2 * (2*16*16 + 2*16*16) = 2,048; backward: weight and input gradients, 2 * 2,048
    assert (body["forward_macs"], body["backward_macs"], body["training_macs"]) == ("2048", "4096", "6144")
    # forward FLOPs per Pair: a 2 * 512 + 32 (bias) = 1,056; fc 1,024; act 32: 2,112; body 4,224.
    # bytes moved per Pair, float32: a 128 in + 128 out + 272 * 4 weights = 1,344; fc 128 + 128 + 1,024 =
    # 1,280; act 128 + 128 = 256: 2,880; body 5,760. Intensity 4,224 / 5,760 = 0.73; below the H100's ridge
    # (66.9 TFLOP/s over 3.35 TB/s: 20 FLOP/B), so memory-bound, and each of its layers is too: its floor
    # is 5,760 B / 3.35 TB/s
    assert (body["forward_flops"], body["intensity"], body["bound"]) == ("4224", "0.7", "memory")
    assert float(body["floor"]) == pytest.approx(5760 / 3.35e12)


def test_a_block_whose_output_is_a_final_state():
    rows, _ = csv_rows(run("memory", "-", "-f", "csv", "--depth", "1", input=FINAL_STATE_BLOCK))
    # enc hands on h_n, [num_layers, B, hidden] = [1, 2, 64] in float32: 512 bytes (the LSTM's output
    # [2, 12, 64] would be 6,144)
    assert (rows[0]["output"], rows[0]["output_bytes"]) == ("[1, 2, 64]", str(1 * 2 * 64 * 4))


@pytest.mark.parametrize("command", ["memory", "cost"])
def test_the_default_table_of_gpt3_is_short(command):
    out = run(command, SPECS / "gpt3-175b.yaml")
    lines = out.splitlines()
    # wte, wpe, embed, h (the 96 blocks), ln_f, lm_head: the title, the header, 6 rows, the totals and the
    # lines below, as summary's 19
    assert len(lines) <= 20, out
    assert lines[-1] == "Depth 1 of 3: a block row sums the layers inside it. Expand with --depth 2 or --depth all."
    row = next(line for line in lines if line.startswith("  h "))
    assert "Block x96" in row and " 768 " in row  # 96 blocks of 8 layers
    if command == "memory":
        # a block: 12 * 12,288^2 + 13 * 12,288 = 1,812,099,072 params; 96 of them in float32:
        # 96 * 1,812,099,072 * 4 = 695,846,043,648 bytes
        assert "695.85 GB" in row
    summary = run("summary", SPECS / "gpt3-175b.yaml").splitlines()
    assert len(lines) <= len(summary) + 1


@pytest.mark.parametrize("command", ["memory", "cost"])
def test_depth_all_lists_todays_rows_with_the_block_rows_between(command, flat):
    args, _ = COMMANDS["cost-h100" if command == "cost" else "memory"]
    leaves, totals = flat["gpt2-small", "cost-h100" if command == "cost" else "memory"]
    rows, foot = csv_rows(run(*args, SPECS / "gpt2-small.yaml", "-f", "csv", "--depth", "all"))
    layers = [{k: v for k, v in r.items() if k not in ("layers", "level")} for i, r in enumerate(rows)
              if i + 1 == len(rows) or int(rows[i + 1]["level"]) <= int(r["level"])]
    assert layers == leaves
    # wte, wpe, embed, drop, ln_f, lm_head and 12 blocks of 8 layers; h and h.0 ... h.11 between them
    assert len(leaves) == 6 + 12 * 8 and len(rows) == len(leaves) + 1 + 12
    table = run(*args, SPECS / "gpt2-small.yaml", "--depth", "all")
    assert "Depth" not in table.splitlines()[-1] and "      h.11.c_proj " in table


@pytest.mark.parametrize("spec", DEEPEST)
def test_depth_zero_prints_the_totals_only(spec):
    for command in ("memory", "cost"):
        out = run(command, SPECS / f"{spec}.yaml", "--depth", "0")
        assert "Layer" not in out and f"Depth 0 of {DEEPEST[spec]}: totals only." in out


@pytest.mark.parametrize("command", ["memory", "cost"])
@pytest.mark.parametrize("value", ["x", "-1", "1.5", ""])
def test_a_bad_depth_is_a_usage_error(command, value):
    result = runner.invoke(app, [command, str(SPECS / "lenet5.yaml"), "--depth", value])
    assert result.exit_code == 2
    assert "Usage:" in result.output and "--depth" in result.output and "expected a number >= 0 or 'all'" in \
        result.output


def test_cost_symbolic_folds_its_formulas():
    # GPT-2 small at depth 1: the 12 blocks in one row, 12 x (1,536·T + 7,077,888) forward MACs per token of
    # B·T (as summary's --symbolic); the default table of formulas is folded like the concrete one
    gpt2 = SPECS / "gpt2-small.yaml"
    out = run("cost", gpt2, "--symbolic", "B,T", "--depth", "1")
    assert "Block x12" in out and "h.0" not in out and "Depth 1 of 3" in out
    assert run("cost", gpt2, "--symbolic", "B,T").count("\n    h.") == 12  # readable depth 2: a row per block
    rows, _ = csv_rows(run("cost", gpt2, "--symbolic", "B,T", "--depth", "2", "-f", "csv"))
    h3 = next(r for r in rows if r["name"] == "h.3")
    assert (h3["layers"], h3["forward_macs"], h3["level"]) == ("8", "1536*B*T**2 + 7077888*B*T", "2")
    flat_rows, _ = csv_rows(run("cost", gpt2, "--symbolic", "B,T", "-f", "csv"))
    assert len(flat_rows) == 6 + 12 * 8 and "level" not in flat_rows[0]


def test_the_docs_example_is_current():
    import subprocess
    import sys

    doc = (SPECS.parent / "docs" / "memory.md").read_text()
    command = "$ layercalc cost specs/gpt3-175b.yaml --depth 1 --format csv | cut -d, -f1-4,7\n"
    block = doc[doc.index(command) + len(command):]
    block = block[:block.index("```")]
    out = subprocess.run([sys.executable, "-m", "layercalc", "cost", str(SPECS / "gpt3-175b.yaml"), "--depth", "1",
                          "--format", "csv"], capture_output=True, text=True).stdout
    assert "".join(",".join(line.split(",")[i] for i in (0, 1, 2, 3, 6)) + "\n" for line in out.splitlines()) == block
    # the 96 blocks: 96 x 3,813,930,958,848 forward MACs (12·d² per token for the projections and the MLP,
    # 2·d·T for the two attention products: 2,048 x (12 x 12,288² + 2 x 12,288 x 2,048))
    assert 96 * 2048 * (12 * 12288**2 + 2 * 12288 * 2048) == 366_137_372_049_408
    assert "h,Block x96,768,366137372049408," in block


def test_cost_symbolic_latex_indents_block_rows():
    out = run("cost", SPECS / "resnet18.yaml", "--symbolic", "B", "--depth", "2", "-f", "latex")
    # layer1 (BasicBlock x2, 2 x 7 layers) and its two instances one \quad in
    assert "\nlayer1 & BasicBlock x2 & $14$ & " in out and "\n\\quad layer1.1 & BasicBlock & $7$ & " in out
