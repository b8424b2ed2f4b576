"""Hostile input never crashes `layercalc lint`: exit 0 or 1, never a traceback,
a file:line:col for every rejection.

Seeded mutations of the bundled specs and lint cases (see tests/lint_fuzz.py:
deleted, repeated and swapped lines, bad indentation, truncation, huge,
negative and non-numeric values, renamed names, alias bombs, `!!python` tags,
expression injection, `9**9**9`, self-referencing blocks, `repeat: 10**12`),
and random documents from hypothesis. An internal error (X001) is a crash.
Time is measured by benchmarks/bench_lint.py, never asserted here.
"""

from __future__ import annotations

import re
import subprocess
import sys

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from layercalc.layers import REGISTRY
from layercalc.lint.checker import lint_text
from layercalc.lint.config import FileSettings
from layercalc.spec.model import META_KEYS, TOP_KEYS
from tests.lint_fuzz import mutations

N_PER_SEED = 8
YAML_BREAKS = re.compile("\r\n|[\r\n\x85\u2028\u2029]")
LINE = re.compile(r"^(.+?):(\d+):(\d+): ([A-Z]\d{3}) (error|warning): .* \[[a-z0-9.-]+\]$")


def check_problems(label: str, text: str, problems) -> list[str]:
    """What is wrong with these problems: a crash, or a place outside the file."""
    bad = []
    n_lines = len(YAML_BREAKS.split(text))  # YAML also breaks lines at \r, NEL, U+2028 and U+2029
    for p in problems:
        if p.code == "X001":
            bad.append(f"{label}: crash: {p.message}")
        if p.file != "fuzz.yaml" or not (1 <= p.line <= n_lines + 1) or p.col < 1:
            bad.append(f"{label}: bad place {p.file}:{p.line}:{p.col} for {p.code}")
    return bad


def test_seeded_mutations_never_crash():
    failures, count, rejected = [], 0, 0
    for label, text in mutations(N_PER_SEED):
        problems = lint_text(text, "fuzz.yaml", FileSettings())
        failures += check_problems(label, text, problems)
        count += 1
        rejected += any(p.level == "error" for p in problems)
    assert not failures, "\n".join(failures[:20])
    assert count > 100 and rejected > count // 4  # the mutations do break specs


def test_cli_on_mutated_files_never_prints_a_traceback(tmp_path):
    """The real entry point over a directory of broken files: exit 1, one located line per problem."""
    for k, (label, text) in enumerate(mutations(2, seed=7)):
        (tmp_path / f"case{k:04d}.yaml").write_text(text, encoding="utf-8", errors="surrogatepass")
    proc = subprocess.run([sys.executable, "-m", "layercalc", "lint", "--isolated", str(tmp_path)],
                          capture_output=True, text=True)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[-1].endswith("files.")
    for line in lines[:-1]:
        assert LINE.match(line), line


# --- random documents --------------------------------------------------------------------

TYPES = sorted(REGISTRY)
ARG_NAMES = sorted({a.name for rule in REGISTRY.values() for a in rule.args})
WORDS = list(TOP_KEYS) + list(META_KEYS) + TYPES[:40] + ARG_NAMES[:60] + ["x", "B", "w", "Block", "params"]
scalars = st.one_of(
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
    st.sampled_from(WORDS),
    st.text(alphabet="abxBTw0123456789+-*/%() ._,'\"", max_size=30),
)
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=5),
    st.dictionaries(st.sampled_from(WORDS), inner, max_size=5),
), max_leaves=25)
entry = st.one_of(
    st.sampled_from(TYPES),
    st.builds(lambda t, args, meta: {t: args, **meta}, st.sampled_from(TYPES),
              st.one_of(st.none(), st.dictionaries(st.sampled_from(ARG_NAMES), scalars, max_size=4)),
              st.dictionaries(st.sampled_from(list(META_KEYS)), st.one_of(scalars, st.sampled_from(["x", "y"])),
                              max_size=2)),
    values,
)
docs = st.builds(
    lambda shape, layers, extra: {"layercalc": 1, "inputs": {"x": shape}, "layers": layers, **extra},
    st.lists(st.one_of(st.integers(min_value=-2, max_value=64), st.sampled_from(["B", "2 * 3", "10**18"])),
             min_size=0, max_size=5),
    st.lists(entry, min_size=0, max_size=6),
    st.dictionaries(st.sampled_from(list(TOP_KEYS)), values, max_size=2),
)


@settings(max_examples=300, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(docs)
def test_random_documents_never_crash(doc):
    text = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)
    problems = lint_text(text, "fuzz.yaml", FileSettings())
    bad = check_problems("doc", text, problems)
    assert not bad, (bad, text)


@settings(max_examples=200, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(st.text(max_size=300))
def test_random_text_never_crashes(text):
    problems = lint_text(text, "fuzz.yaml", FileSettings())
    assert not check_problems("text", text, problems), text
