"""`layercalc lint` in a real repository: only the YAML files that are specs are checked.

A repository also holds CI workflows, `.pre-commit-config.yaml`, docker-compose
files; walking a directory passes over them, a file named explicitly that is
not a spec gets one S008 problem, and the shipped pre-commit hook runs in the
real `pre-commit` on a repository whose specs live anywhere.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from layercalc.lint.discover import discover_specs, is_spec_text

ROOT = Path(__file__).resolve().parents[1]

GOOD = """layercalc: 1
name: good
inputs:
  x: [1, 8]
layers:
  - Linear: {out_features: 4}
"""
# one error (line 6, the unknown type) and nothing else
BAD = """# a spec with one mistake
layercalc: 1
inputs:
  x: [1, 8]
layers:
  - Linaer: {out_features: 4}
"""
WORKFLOW = """name: ci
on: [push, pull_request]
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: python -m pytest
"""
PRE_COMMIT = """repos:
  - repo: https://github.com/pre-commit/pre-commit-hooks
    rev: v4.6.0
    hooks:
      - id: check-yaml
"""
COMPOSE = """services:
  web:
    image: nginx:1.27
    ports: ["8080:80"]
  db:
    image: postgres:16
volumes:
  data: {}
"""
# a Helm-style values file that mentions layercalc, but not as its top-level key
VALUES = """model:
  layercalc: 1
  path: models/good.yaml
"""


def make_repo(root: Path) -> None:
    files = {
        ".github/workflows/ci.yml": WORKFLOW,
        ".pre-commit-config.yaml": PRE_COMMIT,
        "docker-compose.yml": COMPOSE,
        "deploy/compose.override.yaml": COMPOSE,
        "deploy/values.yaml": VALUES,
        "models/good.yaml": GOOD,
        "research/nested/deep/bad.yml": BAD,
    }
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def lint(*args, cwd):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "layercalc", "lint", "--isolated", *args], capture_output=True,
                          text=True, cwd=cwd, env=env)


def test_lint_dot_in_a_repository_reports_only_the_specs_problems(tmp_path):
    make_repo(tmp_path)
    proc = lint(".", cwd=tmp_path)
    assert proc.returncode == 1
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("research/nested/deep/bad.yml:6:5: S004 error: unknown layer type 'Linaer'")
    assert lines[-1] == "1 error in 1 of 2 files."  # models/good.yaml and bad.yml; nothing else
    assert len(lines) == 2 and proc.stderr == ""
    verbose = lint(".", "--verbose", cwd=tmp_path)
    assert verbose.stdout == proc.stdout
    skipped = sorted(line.split()[3].rstrip(":") for line in verbose.stderr.splitlines())
    # .github is a hidden directory (never walked); the others are read and passed over
    assert skipped == [".pre-commit-config.yaml", "deploy/compose.override.yaml", "deploy/values.yaml",
                       "docker-compose.yml"]
    assert "not a layercalc spec" in verbose.stderr


def test_a_directory_without_specs_exits_0_and_says_so(tmp_path):
    make_repo(tmp_path)
    proc = lint("deploy", cwd=tmp_path)
    assert proc.returncode == 0 and "no layercalc spec among the 2 YAML files" in proc.stderr


def test_a_named_file_that_is_not_a_spec_gets_one_clear_problem(tmp_path):
    make_repo(tmp_path)
    proc = lint("docker-compose.yml", "models/good.yaml", cwd=tmp_path)
    assert proc.returncode == 1
    lines = proc.stdout.splitlines()
    assert lines == [
        "docker-compose.yml:1:1: S008 error: this YAML file is not a layercalc spec: it has no top-level "
        "`layercalc:` key (its top-level keys: services, volumes). Fix: if it is a spec, add `layercalc: 1` at the "
        "top; if not, leave it out of the paths to lint (directories and globs pass over such files, and so does "
        "--specs-only for named files) [schema.version]",
        "1 error in 1 of 2 files.",
    ]
    only = lint("--specs-only", "docker-compose.yml", ".github/workflows/ci.yml", "models/good.yaml", cwd=tmp_path)
    assert only.returncode == 0 and only.stdout.splitlines()[-1].startswith("1 file")


def test_lint_dot_on_this_repository_checks_only_specs():
    proc = lint(".", "--verbose", "--format", "json", cwd=ROOT)
    import json

    report = json.loads(proc.stdout)
    checked = {f["path"] for f in report["files"]}
    assert {p["path"] for p in report["problems"]} <= checked
    skipped = {line.split()[3].rstrip(":") for line in proc.stderr.splitlines() if " skipped " in line}
    assert ".pre-commit-hooks.yaml" in skipped and "tests/cases/spec_errors.yaml" in skipped
    for path in checked:
        assert is_spec_text((ROOT / path).read_bytes()), path
    for path in skipped:
        assert not is_spec_text((ROOT / path).read_bytes()), path
    assert any(p.startswith("specs/") for p in checked)


@pytest.mark.parametrize("text,is_spec", [
    (GOOD, True),
    ('"layercalc": 1\ninputs: {x: [1]}\n', True),
    ("'layercalc' : 1\n", True),
    ("\ufefflayercalc: 1\n", True),   # a byte order mark before the key
    ("# header\n---\nlayercalc: 1 # version\n", True),
    ("{layercalc: 1, inputs: {x: [1, 2]}, layers: [ReLU]}\n", True),
    ("# flow style\n{inputs: {x: [1, 2]}}\n", False),
    ("layercalc:\n", True),
    ("layercalc_version: 1\n", False),
    ("model:\n  layercalc: 1\n", False),
    ("notes: |\n  layercalc: 1 is in this text\n", False),
    (WORKFLOW, False),
    (COMPOSE, False),
    ("- layercalc: 1\n", False),
    ("", False),
])
def test_is_spec_text(text, is_spec):
    data = text.encode("utf-8")
    assert is_spec_text(data) == is_spec


def test_detection_never_expands_anything(monkeypatch):
    import yaml

    bomb = b'a: &a ["lol", "lol", "lol"]\n' + b"".join(
        f"{chr(98 + k)}: &{chr(98 + k)} [".encode() + b", ".join([f"*{chr(97 + k)}".encode()] * 9) + b"]\n"
        for k in range(8))

    def refuse(*args, **kwargs):
        raise AssertionError("the alias bomb was handed to the YAML loader")

    for name in ("safe_load", "load", "full_load", "unsafe_load", "compose", "safe_load_all", "load_all"):
        monkeypatch.setattr(yaml, name, refuse)
    assert not is_spec_text(bomb)  # scanned, never loaded


def test_discover_specs_keeps_named_files_unless_specs_only(tmp_path):
    make_repo(tmp_path)
    os.chdir(tmp_path)
    try:
        files, notes, skipped = discover_specs([".", "docker-compose.yml"])
        # found in "." first (and passed over), so named afterwards it is not added again
        assert files == ["models/good.yaml", "research/nested/deep/bad.yml"]
        assert "docker-compose.yml" in [p for p, _ in skipped]
        files, notes, skipped = discover_specs(["docker-compose.yml", "."])
        assert files == ["docker-compose.yml", "models/good.yaml", "research/nested/deep/bad.yml"]
        files, notes, skipped = discover_specs(["docker-compose.yml", "models/good.yaml"], specs_only=True)
        assert files == ["models/good.yaml"] and [p for p, _ in skipped] == ["docker-compose.yml"]
    finally:
        os.chdir(ROOT)


def _git(*args, cwd):
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                   env={**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
                        "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"})


def _pre_commit() -> list[str] | None:
    if shutil.which("pre-commit"):
        return ["pre-commit"]
    try:
        import pre_commit  # noqa: F401
    except ImportError:
        return None
    return [sys.executable, "-m", "pre_commit"]


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_the_shipped_hook_in_the_real_pre_commit(tmp_path):
    """`pre-commit run --all-files` with the hook of .pre-commit-hooks.yaml (its entry, types and files),
    run as a local hook on the layercalc of this checkout, so that it needs no network."""
    pre_commit = _pre_commit()
    if pre_commit is None:
        pytest.skip("pre-commit is not installed")
    (hook,) = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    local = {k: v for k, v in hook.items() if k not in ("language", "entry", "description")}
    entry = hook["entry"].split()
    assert entry[0] == "layercalc"
    local["entry"] = " ".join([sys.executable, "-m", "layercalc"] + entry[1:] + ["--isolated"])
    local["language"] = "system"
    repo = tmp_path / "repo"
    repo.mkdir()
    make_repo(repo)
    (repo / ".pre-commit-config.yaml").write_text(yaml.safe_dump({"repos": [{"repo": "local", "hooks": [local]}]}))
    _git("init", "-q", cwd=repo)
    _git("add", ".", cwd=repo)
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "cache"), "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(pre_commit + ["run", "--all-files", "--color", "never"], cwd=repo, capture_output=True,
                          text=True, env=env, timeout=300)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    assert "research/nested/deep/bad.yml:6:5: S004 error: unknown layer type 'Linaer'" in out
    # the workflow, .pre-commit-config.yaml, compose and values files are passed over (pre-commit may split
    # the files between processes, so only the error is counted)
    assert out.count(" error: ") == 1 and "1 error in 1 of" in out
    for other in ("ci.yml", ".pre-commit-config.yaml", "compose", "values.yaml"):
        assert other not in out
    # fixed, the hook passes
    (repo / "research/nested/deep/bad.yml").write_text(BAD.replace("Linaer", "Linear"))
    proc = subprocess.run(pre_commit + ["run", "--all-files", "--color", "never"], cwd=repo, capture_output=True,
                          text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "layercalc lint" in proc.stdout and "Passed" in proc.stdout
