"""docs/flops.md is the FLOPs convention table generated from the registry, and `layers --flops` prints it."""

import pathlib

from typer.testing import CliRunner

from layercalc.cli import app
from layercalc.docs import flops_table_markdown, flops_table_rows
from layercalc.layers import REGISTRY

DOC = pathlib.Path(__file__).resolve().parents[1] / "docs" / "flops.md"


def test_committed_table_is_up_to_date():
    assert DOC.read_text() == flops_table_markdown(), \
        "docs/flops.md is stale: regenerate it with `layercalc layers --flops > docs/flops.md`"


def test_one_row_per_registered_type():
    rows = flops_table_rows()
    assert sorted(r[1] for r in rows) == sorted(REGISTRY)
    table = [line for line in flops_table_markdown().splitlines() if line.startswith("| ") and "`" in line]
    assert len(table) == len(REGISTRY)


def test_layers_flops_prints_the_table():
    result = CliRunner().invoke(app, ["layers", "--flops"])
    assert result.exit_code == 0
    assert result.output == flops_table_markdown()
    assert "| convolution | `Conv2d` | numel(y) * in_channels/groups * prod(kernel_size) |" in result.output
