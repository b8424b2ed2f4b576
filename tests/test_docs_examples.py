"""Every spec example in docs/spec-format.md runs, and gives the figures the page quotes.

An example is a fenced ```yaml block whose first line is ``layercalc: 1``. It
must analyze without error, unless a check says otherwise. Checks are HTML
comments (invisible on the rendered page) right after the block, one per line:

    <!-- check {"dims": {"B": 8}, "totals": {"macs": 1073741824}} -->

holding a JSON object with any of these keys:

- ``dims``, ``vars``, ``max_layers``: passed to ``layercalc.analyze``;
- ``error``: the diagnostic code the example must be refused with;
- ``names``: every row's name, in order;
- ``outputs``: the report's ``outputs``;
- ``shapes``: output shapes of some rows, by name;
- ``totals``: some of the totals;
- ``layers``: some fields (params, buffers, macs, flops) of some rows, by name.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

import layercalc
from layercalc.errors import SpecError

DOC = Path(__file__).resolve().parent.parent / "docs" / "spec-format.md"

_FENCE = re.compile(r"^```(\w*)\s*$")
_CHECK = re.compile(r"^<!--\s*check\s+(\{.*\})\s*-->\s*$")


@dataclass
class Example:
    line: int  # 1-based line of the opening fence
    text: str
    checks: list[dict] = field(default_factory=list)


def extract(markdown: str) -> tuple[list[Example], list[int]]:
    """Return the spec examples and the lines of check comments not attached to one."""
    lines = markdown.splitlines()
    examples: list[Example] = []
    orphans: list[int] = []
    i = 0
    last_closed: Example | None = None  # the example whose checks may follow
    while i < len(lines):
        line = lines[i]
        fence = _FENCE.match(line)
        if fence:
            start = i
            i += 1
            body = []
            while i < len(lines) and not lines[i].startswith("```"):
                body.append(lines[i])
                i += 1
            i += 1  # the closing fence
            text = "\n".join(body) + "\n"
            last_closed = None
            if fence.group(1) == "yaml" and text.lstrip().startswith("layercalc: 1"):
                last_closed = Example(start + 1, text)
                examples.append(last_closed)
            continue
        check = _CHECK.match(line.strip())
        if check:
            if last_closed is None:
                orphans.append(i + 1)
            else:
                last_closed.checks.append(json.loads(check.group(1)))
        elif line.strip():
            last_closed = None
        i += 1
    return examples, orphans


EXAMPLES, ORPHANS = extract(DOC.read_text(encoding="utf-8"))
CASES = [(ex, check) for ex in EXAMPLES for check in (ex.checks or [{}])]


def test_the_page_has_examples_and_every_check_belongs_to_one():
    assert len(EXAMPLES) >= 25
    assert ORPHANS == []
    assert sum(len(ex.checks) for ex in EXAMPLES) >= 25


@pytest.mark.parametrize("example,check", CASES,
                         ids=[f"line{ex.line}-{k}" for ex in EXAMPLES for k in range(max(1, len(ex.checks)))])
def test_example(example: Example, check: dict):
    unknown = set(check) - {"dims", "vars", "max_layers", "error", "names", "outputs", "shapes", "totals", "layers"}
    assert not unknown, f"unknown check keys {unknown}"
    kwargs = {k: check[k] for k in ("dims", "vars", "max_layers") if k in check}
    source = f"docs/spec-format.md:{example.line + 1}"
    if "error" in check:
        with pytest.raises(SpecError) as info:
            layercalc.analyze(example.text, file=source, **kwargs)
        assert info.value.code == check["error"], str(info.value)
        return
    report = layercalc.analyze(example.text, file=source, **kwargs)
    if "names" in check:
        assert [row.name for row in report.layers] == check["names"]
    if "outputs" in check:
        assert report.outputs == check["outputs"]
    for name, shape in check.get("shapes", {}).items():
        assert report.layer(name).output_shape == shape, name
    for key, value in check.get("totals", {}).items():
        assert report.totals[key] == value, key
    for name, fields in check.get("layers", {}).items():
        row = report.layer(name)
        for key, value in fields.items():
            assert getattr(row, key) == value, (name, key)
