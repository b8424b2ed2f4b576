"""The CI gate holds: `lint` parses TOML, then looks for [tool.layercalc], so every spelling of the
table applies its budgets; a TOML file that does not parse is an error (exit 2), never ignored."""

from __future__ import annotations

import itertools
import random

import pytest

from layercalc.lint.config import ConfigError, load_settings, read_table
from tests.harden_helpers import check_cli, run_capped

SPEC = "layercalc: 1\ninputs: {x: [1, 4]}\nlayers:\n  - Linear: {out_features: 4}\n"  # 4 * 4 + 4 = 20 params

HEADERS = ['[tool.layercalc]', '[tool."layercalc"]', "[tool.'layercalc']", '[ tool . layercalc ]', '["tool".layercalc]',
           '[tool\t.\t"layercalc"]']
KEYS = ["max-params", '"max-params"', "'max-params'", "max_params"]
AROUND = ["", '[project]\nname = "x"\n', '[tool.black]\nline-length = 100\n', "# [tool.layercalc] in a comment\n",
          'title = "tool.layercalc"\n']


def spellings(limit: int = 10):
    """Equivalent TOML documents that set max-params = ``limit`` in [tool.layercalc]."""
    for header, key, before in itertools.product(HEADERS, KEYS, AROUND):
        yield f"{before}{header}\n{key} = {limit}\n"
    for key in KEYS:
        yield f"tool = {{layercalc = {{{key} = {limit}}}}}\n"
        yield f"[tool]\nlayercalc = {{{key} = {limit}}}\n"
        yield f"[tool]\nlayercalc.{key} = {limit}\n"
        yield f'tool.layercalc.{key} = {limit}\n[project]\nname = "x"\n'
        yield f'"tool"."layercalc".{key} = {limit}\n'
        yield f"[tool.layercalc]\n{key} = \"{limit}\"\n"


def test_every_spelling_of_the_table_is_read(tmp_path):
    texts = list(spellings())
    assert len(texts) > 100
    for k, text in enumerate(texts):
        path = tmp_path / f"p{k}.toml"
        path.write_text(text)
        assert read_table(str(path), warn=pytest.fail) is not None, text
        settings = load_settings(str(path))
        assert settings.budgets["max-params"][0] == 10, text


@pytest.mark.parametrize("k", [0, 3, 22, 121, 126])
def test_the_budget_applies_through_the_cli(tmp_path, k):
    text = list(spellings())[k]
    (tmp_path / "pyproject.toml").write_text(text)
    (tmp_path / "m.yaml").write_text(SPEC)
    proc = run_capped(["lint", "m.yaml"], cwd=tmp_path)
    check_cli(proc)
    assert proc.returncode == 1 and b"B001" in proc.stdout, (text, proc.stdout)


def broken_tomls(n: int = 40, seed: int = 0):
    """Invalid TOML: truncated, duplicate keys and tables, stray bytes, bad values."""
    fixed = ["[tool.layercalc\nmax-params = 1\n", "[tool.layercalc]\nmax-params = \n", "[tool.layercalc]\nmax-params = 1\n"
             "max-params = 2\n", "[tool.layercalc]\n[tool.layercalc]\n", "x = [\n", "\xff\xfe", "[tool]\nlayercalc = {a=1,}\n",
             "a = 1 = 2\n", "[tool.layercalc]\nmax-params = 1_\n", "tool = 1\n[tool.layercalc]\n"]
    rng = random.Random(seed)
    good = "[tool.layercalc]\nmax-params = \"25M\"\nignore = [\"W003\"]\n"
    out = list(fixed)
    while len(out) < n:
        cut = rng.randrange(1, len(good) - 1)
        text = good[:cut] + rng.choice(["[", "]", "=", '"', "{", "\n=", "\x00"]) + good[cut:]
        try:
            import tomllib

            tomllib.loads(text)
        except Exception:  # noqa: BLE001 - only invalid documents are kept
            out.append(text)
    return out


def test_an_invalid_toml_file_is_an_error_never_ignored(tmp_path):
    for k, text in enumerate(broken_tomls()):
        path = tmp_path / f"b{k}.toml"
        path.write_bytes(text.encode("utf-8", "surrogateescape") if text != "\xff\xfe" else b"\xff\xfe")
        with pytest.raises(ConfigError):
            load_settings(str(path))  # --config FILE
        sub = tmp_path / f"d{k}"
        sub.mkdir()
        (sub / "pyproject.toml").write_bytes(path.read_bytes())
        with pytest.raises(ConfigError):
            read_table(str(sub / "pyproject.toml"), warn=pytest.fail)  # the nearest pyproject.toml


@pytest.mark.parametrize("discovered", [False, True])
def test_an_invalid_toml_file_exits_2(tmp_path, discovered):
    (tmp_path / "m.yaml").write_text(SPEC)
    (tmp_path / ("pyproject.toml" if discovered else "ci.toml")).write_text("[tool.layercalc\nmax-params = 10\n")
    proc = run_capped(["lint", "m.yaml"] + ([] if discovered else ["--config", "ci.toml"]), cwd=tmp_path)
    err = check_cli(proc)
    assert proc.returncode == 2 and "not valid TOML" in err
