"""The command line: formats, exit codes, options, and golden tables.

Golden files live in tests/golden/; regenerate them with
``LAYERCALC_REGEN=1 python -m pytest tests/test_cli.py`` and review the diff.
"""

import csv
import io
import json
import os
import subprocess
import sys

import pytest

import layercalc
from tests.golden_files import check_golden
from layercalc.render.table import human, print_table

HERE = os.path.dirname(os.path.abspath(__file__))
MLP = """layercalc: 1
name: mlp
dims: {B: 4}
vars: {w: 64}
inputs:
  x: [B, 16]
layers:
  - Linear: {out_features: w}
    name: fc1
  - Linear: {out_features: 4 * w, bias: false}
    name: up
    trainable: false
  - Linear: {out_features: 10}
    name: head
"""


def cli(*args, stdin=None):
    return subprocess.run([sys.executable, "-m", "layercalc", *args], capture_output=True, text=True, input=stdin)


@pytest.fixture()
def mlp(tmp_path):
    path = tmp_path / "mlp.yaml"
    path.write_text(MLP)
    return str(path)


@pytest.mark.parametrize("n,text", [
    (0, "0"), (999, "999"), (1000, "1.00 K"), (1234, "1.23 K"), (11_689_512, "11.69 M"),
    (1_814_073_856, "1.81 G"), (175_000_000_000, "175.00 G"), (3 * 10**12, "3.00 T"),
])
def test_human_units(n, text):
    assert human(n) == text


def test_version():
    proc = cli("--version")
    assert proc.returncode == 0 and proc.stdout.strip() == f"layercalc {layercalc.__version__}"


def test_help_teaches():
    proc = cli("--help")
    assert proc.returncode == 0
    for word in ("summary", "shape", "params", "flops", "layers", "Examples"):
        assert word in proc.stdout


def test_json_is_the_whole_report_for_every_command(mlp):
    outs = [json.loads(cli(cmd, mlp, "--format", "json").stdout) for cmd in ("shape", "params", "flops", "summary")]
    assert all(o == outs[0] for o in outs)
    t = outs[0]["totals"]
    # fc1 16*64+64 = 1088, up 64*256 = 16384 (frozen), head 256*10+10 = 2570
    assert (t["params"], t["trainable_params"], t["non_trainable_params"]) == (20042, 3658, 16384)
    # MACs: B * (16*64 + 64*256 + 256*10) = 4 * 19968
    assert t["macs"] == 79872


def test_csv_has_exact_integers_and_a_totals_row(mlp):
    rows = list(csv.reader(io.StringIO(cli("params", mlp, "-f", "csv").stdout)))
    assert rows[0] == ["name", "type", "params", "trainable_params", "non_trainable_params", "buffers", "param_bytes"]
    assert rows[2] == ["up", "Linear", "16384", "0", "16384", "0", "65536"]
    assert rows[-1][:3] == ["Total", "", "20042"]


def test_markdown(mlp):
    text = cli("flops", mlp, "-f", "markdown").stdout
    assert "| Layer | Type | MACs | FLOPs | Share |" in text
    assert "| up | Linear | 65,536 |" in text


def test_dim_and_var_overrides(mlp):
    d = json.loads(cli("shape", mlp, "-f", "json", "--dim", "B=2", "--var", "w=8").stdout)
    assert d["outputs"] == {"head": [2, 10]} and d["layers"][1]["output_shape"] == [2, 32]


def test_stdin():
    proc = cli("summary", "-", "-f", "json", stdin=MLP)
    assert proc.returncode == 0 and json.loads(proc.stdout)["name"] == "mlp"


@pytest.mark.parametrize("args", [
    ["summary", "{spec}", "--format", "xml"],
    ["summary", "{spec}", "--dim", "B"],
    ["summary", "{spec}", "--dim", "B=x"],
    ["summary", "{spec}", "--dtype", "float8"],
    ["summary"],
    ["nosuchcommand"],
    ["layers", "Conv9d"],
])
def test_usage_errors_exit_2(args, mlp):
    proc = cli(*[a.format(spec=mlp) for a in args])
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr


def test_missing_file_exits_1_with_a_location(tmp_path):
    proc = cli("summary", str(tmp_path / "nope.yaml"))
    assert proc.returncode == 1 and proc.stderr.startswith(f"{tmp_path / 'nope.yaml'}:1:1: cannot read")


def test_binary_file_exits_1(tmp_path):
    path = tmp_path / "bin.yaml"
    path.write_bytes(b"\xff\xfe\x00garbage")
    proc = cli("summary", str(path))
    assert proc.returncode == 1 and "UTF-8" in proc.stderr and "Traceback" not in proc.stderr


def test_layers_lists_and_describes():
    listing = cli("layers").stdout
    assert "linear:" in listing and "Bilinear" in listing
    one = cli("layers", "Linear").stdout
    assert "out_features" in one and "MACs:" in one and "FLOPs:" in one
    assert json.loads(cli("layers", "Linear", "-f", "json").stdout)["type"] == "Linear"


@pytest.mark.parametrize("view", ["shape", "params", "flops", "summary"])
def test_golden_tables(view):
    report = layercalc.analyze(MLP)
    buf = io.StringIO()
    print_table(report, view, width=120, color=False, file=buf)
    check_golden(f"mlp-{view}.out", buf.getvalue())


@pytest.mark.parametrize("spec", ["resnet50", "char-lstm", "bert-base"])
@pytest.mark.parametrize("view", ["shape", "params", "flops", "summary"])
def test_large_table_layout_is_the_rich_layout(spec, view):
    # tables of more than RICH_MAX_ROWS rows are written directly; they must look the same
    report = layercalc.analyze(os.path.join(HERE, "..", "specs", f"{spec}.yaml"))
    with_rich, direct = io.StringIO(), io.StringIO()
    print_table(report, view, width=400, color=False, file=with_rich, plain=False)
    print_table(report, view, width=400, color=False, file=direct, plain=True)
    assert direct.getvalue() == with_rich.getvalue()


def test_a_large_table_uses_the_direct_layout(tmp_path):
    from layercalc.render.table import RICH_MAX_ROWS

    path = tmp_path / "long.yaml"
    path.write_text("layercalc: 1\ninputs: {x: [1, 4]}\nlayers:\n" + "  - Identity\n" * (RICH_MAX_ROWS + 1))
    proc = cli("shape", str(path))
    lines = proc.stdout.splitlines()
    assert proc.returncode == 0 and lines[4].startswith("  identity_1 ")
    assert len(lines) == 4 + RICH_MAX_ROWS + 1 + 5  # title, blank, header, rule; rows; blank, total, blank, 2 lines
