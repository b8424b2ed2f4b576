"""Data-driven lint tests: one broken spec per code in tests/lint_cases/.

Each case file is a spec whose header comments say what `layercalc lint` must
report, exactly (no more, no fewer problems):

    # expect: LINE:COL CODE "a substring of the message, e.g. the did-you-mean"
    # args: --max-params 20        (options for this case)
    # exit: 1                      (when not implied by the levels)

A file with no `expect` line must be clean. Codes that no file can show (a
file too large, unreadable, an internal error) are tested in test_lint_cli.py.
"""

from __future__ import annotations

import pytest

from layercalc.codes import CODES
from tests.lint_helpers import CASES, all_cases, parse_lines, run_lint

CASES_LIST = all_cases()
#: codes shown by tests outside the case files (see test_lint_cli.py)
TESTED_ELSEWHERE = {"Y005", "Y006", "X001", "S000", "G101", "G102"}  # G1xx: tests/test_symbolic.py


@pytest.mark.parametrize("case", CASES_LIST, ids=lambda c: c.id)
def test_case(case):
    result = run_lint("--isolated", *case.args, str(case.path))
    problems = parse_lines(result.stdout)
    got = sorted((p["line"], p["col"], p["code"]) for p in problems)
    want = sorted((line, col, code) for line, col, code, _ in case.expects)
    assert got == want, result.stdout
    for line, col, code, text in case.expects:
        if text:
            (p,) = [p for p in problems if (p["line"], p["col"], p["code"]) == (line, col, code)]
            assert text in p["message"], p["message"]
    for p in problems:
        assert p["file"] == str(case.path)
        assert p["slug"] == CODES[p["code"]].slug
        assert p["level"] == CODES[p["code"]].level
    assert result.exit_code == case.expected_exit(), result.stdout + result.stderr


def test_every_code_has_a_case():
    shown = {code for case in CASES_LIST for _, _, code, _ in case.expects}
    missing = set(CODES) - shown - TESTED_ELSEWHERE
    assert not missing, f"codes without a case in {CASES}: {sorted(missing)}"


def test_clean_case_exists():
    assert any(not c.expects and c.expected_exit() == 0 for c in CASES_LIST)


def test_many_files_in_one_call_report_every_problem():
    """One call over the whole directory: each file's problems, sorted by file and position."""
    result = run_lint("--isolated", str(CASES))
    problems = parse_lines(result.stdout)
    assert result.exit_code == 1
    keys = [(p["file"], p["line"], p["col"], p["code"]) for p in problems]
    assert keys == sorted(keys)
    for case in CASES_LIST:
        if case.args:
            continue  # their problems depend on their options
        got = sorted((p["line"], p["col"], p["code"]) for p in problems if p["file"] == str(case.path))
        assert got == sorted((l, c, code) for l, c, code, _ in case.expects), case.id
    n_files = len(CASES_LIST)
    last = result.stdout.strip().splitlines()[-1]
    assert last.endswith(f"of {n_files} files."), last
