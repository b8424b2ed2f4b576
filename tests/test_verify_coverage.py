"""Every registered layer type is exercised end to end by a spec under specs/, and verify agrees on it."""

import pathlib

import pytest

from layercalc.engine import load_graph
from layercalc.layers import REGISTRY
from layercalc.verify import verify

ROOT = pathlib.Path(__file__).resolve().parents[1]
COVERAGE = sorted((ROOT / "specs" / "coverage").glob("*.yaml"))
ALL_SPECS = sorted((ROOT / "specs").rglob("*.yaml"))


def types_in(paths) -> dict[str, set[str]]:
    """layer type -> the spec files (names) in which it appears after expansion."""
    seen: dict[str, set[str]] = {}
    for path in paths:
        for node in load_graph(path).nodes:
            seen.setdefault(node.type, set()).add(path.name)
    return seen


def test_every_registered_type_appears_in_a_spec():
    seen = types_in(ALL_SPECS)
    missing = sorted(set(REGISTRY) - set(seen))
    assert not missing, (
        f"{len(missing)} registered layer type(s) appear in no spec under specs/: {', '.join(missing)}. "
        "Add a layer of each (its defaults left out once, its main arguments given once) to the family's "
        "file in specs/coverage/ (or a new specs/coverage/<family>.yaml), give the type a reference kernel "
        "and a signature in layercalc/reference/ (see its __init__ docstring), and check with "
        "`python -m layercalc verify specs/coverage/`.")


def test_every_registered_type_runs_end_to_end_in_the_coverage_specs():
    covered = types_in(COVERAGE)
    missing = sorted(set(REGISTRY) - set(covered))
    assert not missing, f"not in specs/coverage/: {', '.join(missing)} (see test_every_registered_type_appears_in_a_spec)"


@pytest.mark.parametrize("path", COVERAGE, ids=lambda p: p.stem)
def test_coverage_spec_runs_in_full_and_agrees(path):
    result = verify(path)
    assert result.mode == "full", f"{path.name} no longer fits the default budget: keep coverage specs small"
    assert not result.skipped
    bad = [f"{c.name} ({c.type}): {c.first_mismatch()}" for c in result.mismatches]
    assert not bad, "\n".join(bad)
