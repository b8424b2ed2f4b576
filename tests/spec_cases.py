"""Data-driven invalid specs (tests/cases/*.yaml): loading the cases and the one check every case gets."""

import os

import pytest
import yaml

import layercalc
from layercalc.errors import SpecError

CASES_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "cases")


def load_cases(name: str) -> list[dict]:
    with open(os.path.join(CASES_DIR, name)) as fh:
        return yaml.safe_load(fh)


def assert_located_error(case: dict) -> SpecError:
    """The case's spec raises one SpecError with its code, line, column, words and a fix."""
    with pytest.raises(SpecError) as info:
        layercalc.analyze(case["spec"], dims=case.get("dims"), file="spec.yaml")
    err = info.value
    assert err.code == case["code"], str(err)
    if "at" in case:
        assert [err.mark.line, err.mark.col] == case["at"], str(err)
    for words in case["says"]:
        assert words in str(err), str(err)
    assert err.fix, "every error says how to fix it"
    assert str(err).startswith(f"spec.yaml:{err.mark.line}:{err.mark.col}: ")
    return err
