"""A layer type without a saved-for-backward rule is refused where the spec writes it, never an
internal error. The refusal is shown with one rule taken out of the table, so that the test does not
depend on which types lack a rule."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SPEC = """layercalc: 1
inputs:
  tgt: [2, 5, 16]
  mem: [2, 7, 16]
layers:
  - TransformerDecoderLayer: {d_model: 16, nhead: 2, dim_feedforward: 32, batch_first: true}
    from: [tgt, mem]
"""


def test_memory_refuses_a_type_without_a_rule_at_its_line(tmp_path):
    spec = tmp_path / "decoder.yaml"
    spec.write_text(SPEC)
    script = ("import sys; from layercalc.budget import saved; del saved.SAVED['TransformerDecoderLayer']; "
              "from layercalc.cli import main; sys.argv = ['layercalc', 'memory', sys.argv[1]]; main()")
    proc = subprocess.run([sys.executable, "-c", script, str(spec)], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 1, proc.stderr
    assert "internal error" not in proc.stderr and "Traceback" not in proc.stderr
    assert proc.stderr.startswith(f"{spec}:6:1: TransformerDecoderLayer"), proc.stderr
    assert "Fix:" in proc.stderr
    # with the table as it is, the same spec has its memory
    assert subprocess.run([sys.executable, "-m", "layercalc", "memory", str(spec)], cwd=ROOT,
                          capture_output=True).returncode == 0

