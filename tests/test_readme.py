"""The README's examples are real: its spec runs, its numbers and its sample output are current."""

import io
import os
import re

import layercalc
from layercalc.render.table import print_table

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
with open(os.path.join(ROOT, "README.md")) as fh:
    README = fh.read()


def test_the_two_ci_commands_are_there():
    for marker in ("<!-- ci:main -->", "<!-- ci:test -->"):
        after = README[README.index(marker):]
        assert after.split("\n")[1] == "```sh"
    assert "layercalc summary specs/" in README.split("<!-- ci:main -->")[1].split("```")[1]
    assert "pytest" in README.split("<!-- ci:test -->")[1].split("```")[1]


def test_the_format_example_runs():
    block = README[README.index("```yaml\nlayercalc: 1") + len("```yaml\n"):]
    block = block[:block.index("```")]
    report = layercalc.analyze(block)
    assert report.outputs == {"linear_1": [1, 10]}


def test_the_library_example():
    report = layercalc.analyze(os.path.join(ROOT, "specs", "resnet50.yaml"), dims={"B": 8})
    assert f'report.totals["params"]        # {report.totals["params"]}' in README
    assert f"report.layers[0].output_shape  # {report.layers[0].output_shape}" in README


def test_the_sample_table_is_current():
    sample = README[README.index("$ layercalc summary specs/lenet5.yaml\n"):]
    sample = sample[sample.index("\n") + 1:sample.index("```")]
    buf = io.StringIO()
    print_table(layercalc.analyze(os.path.join(ROOT, "specs", "lenet5.yaml")), "summary", width=160, color=False,
                file=buf, depth="auto")  # the command's default
    rendered = "\n".join(line.rstrip() for line in buf.getvalue().splitlines()) + "\n"
    assert sample == rendered


def test_the_lint_sample_is_current(tmp_path, monkeypatch):
    text = README[README.index("$ cat specs/detector.yaml\n"):]
    spec = text[text.index("\n") + 1:text.index("$ layercalc lint specs/")]
    expected = text[text.index("$ layercalc lint specs/\n") + len("$ layercalc lint specs/\n"):text.index("```")]
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs" / "detector.yaml").write_text(spec)
    monkeypatch.chdir(tmp_path)
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "layercalc", "lint", "specs/", "--isolated"], capture_output=True,
                          text=True)
    assert proc.returncode == 1 and proc.stdout == expected
    assert re.search(r"S004 error: unknown layer type 'ReLu'; did you mean 'ReLU'\?", proc.stdout)
