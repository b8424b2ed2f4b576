"""A fixed sample of benchmarks/mutation.py's mutants, each planted in a temporary copy of the package:
verify (or, for a comparator mutant, the tests) must catch every one. The full run is the benchmark."""

import importlib.util
from pathlib import Path

import pytest

from layercalc.errors import SpecError
from layercalc.verify import verify

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("mutation", ROOT / "benchmarks" / "mutation.py")
mutation = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(mutation)
BY_ID = {m.id: m for m in mutation.MUTANTS}


def test_there_are_enough_mutants_of_every_kind():
    kinds = [m.kind for m in mutation.MUTANTS]
    assert len([k for k in kinds if k != "comparator"]) >= 40
    for kind in ("default", "expansion", "validation", "cost", "formula", "comparator"):
        assert kinds.count(kind) >= 3, kind


@pytest.mark.parametrize("m", mutation.MUTANTS, ids=lambda m: m.id)
def test_every_mutant_still_applies(m):
    """A mutant whose text is gone from the rules measures nothing: update it with the code it mutates."""
    text = (ROOT / "layercalc" / m.file).read_text()
    assert m.old in text, f"{m.id}: {m.old!r} is no longer in layercalc/{m.file}; rewrite the mutant"
    assert text.count(m.old) > max(m.nth, 0)
    assert m.target in mutation.TARGETS or m.kind == "comparator"


@pytest.mark.parametrize("name", sorted(mutation.TARGETS))
def test_the_unmutated_rules_agree_on_every_targeted_spec(name):
    text = mutation.TARGETS[name]
    if "_bad" in name:  # a spec torch refuses: the unmutated rules refuse it too
        with pytest.raises(SpecError):
            verify(text)
        return
    result = verify(text)
    assert result.ok, [c.first_mismatch() for c in result.mismatches]


@pytest.mark.parametrize("mutant_id", mutation.SAMPLE)
def test_the_sampled_mutant_is_caught(mutant_id):
    m = BY_ID[mutant_id]
    result = mutation.run_mutant(m, with_specs=m.kind not in ("validation", "comparator"))
    assert "crash" not in result, result.get("crash")
    if m.kind == "comparator":
        assert result["tests"], f"{m.id}: the test suite did not notice"
        return
    assert result["targeted"], f"{m.id}: verify of its targeted spec did not notice"
    if m.kind != "validation":  # a refusal the rules lose shows only on a spec torch refuses
        assert result["specs"], f"{m.id}: `verify specs/` did not notice"
