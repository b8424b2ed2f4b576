"""The smaller ones: a mistyped path says it cannot be read, `tie`/`share` with an output name is
refused where it is written, names with control characters cannot break a table or Markdown,
human units come from integers and go past T."""

from __future__ import annotations

import random
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from layercalc.engine import analyze, read_source
from layercalc.errors import SpecError
from layercalc.render.table import human, human_bytes
from tests.harden_helpers import refused

# --- a path that is not a file --------------------------------------------------------------------

@settings(max_examples=100, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(st.text(alphabet=st.characters(blacklist_characters=":\n\r\x00", blacklist_categories=("Cs",)), min_size=1,
               max_size=60).filter(lambda s: s != "-"))
def test_a_one_line_string_without_a_colon_is_a_path(name):
    import os

    if os.path.exists(name):
        return
    with pytest.raises(SpecError) as err:
        read_source(name)
    assert err.value.code == "Y006" and "cannot read the file" in err.value.message


@pytest.mark.parametrize("path", ["specs/lenet5", "specs/resnet", "model.yml.bak", "lenet5.yaml", "./missing/dir/x",
                                  "C:\\models\\net.yaml"])
def test_mistyped_paths_say_cannot_read(path):
    with pytest.raises(SpecError) as err:
        analyze(path)
    assert "cannot read the file" in err.value.message and err.value.code == "Y006"


def test_yaml_text_still_works():
    report = analyze("{layercalc: 1, inputs: {x: [1, 4]}, layers: [ReLU]}")
    assert report.layers[0].output_shape == [1, 4]


# --- tie and share name layers, not outputs --------------------------------------------------------

@pytest.mark.parametrize("key", ["tie", "share"])
def test_tie_or_share_with_an_output_name_is_refused_where_written(key):
    rng = random.Random(key)
    for _ in range(6):
        suffix = rng.choice(["bogus", "weight", "h_n", "x1", "out"])
        text = ("layercalc: 1\ninputs: {x: [1, 4]}\nlayers:\n  - Linear: {out_features: 4}\n    name: a\n"
                f"  - Linear: {{out_features: 4}}\n    {key}: a.{suffix}\n")
        exc = refused(text, "G010", 7)
        assert f"a.{suffix}" in exc.message and exc.mark.col == 10 + len(key) - 3


# --- names with control characters -----------------------------------------------------------------

CONTROL = ["\n", "\r", "\t", "\x1b[31m", "\x00", "\x7f", "\u2028", "\u2029", "\u202e", "\x85", "\u200b"]


@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(st.lists(st.one_of(st.sampled_from(CONTROL), st.text(alphabet="ab|*#` ", max_size=4)), min_size=1, max_size=8))
def test_a_name_cannot_break_tables_or_markdown(parts):
    import io
    import json

    from layercalc.render import render
    from layercalc.render.table import print_table

    name = "".join(parts)
    spec = {"layercalc": 1, "name": name, "inputs": {"x": [1, 4]}, "layers": ["ReLU"]}
    report = analyze(spec)
    assert report.name.isprintable()
    md = render(report, "summary", "markdown")
    lines = md.split("\n")
    assert lines[0] == f"### {report.name}" and lines[1] == "" and lines[2].startswith("| Layer")
    buf = io.StringIO()
    print_table(report, "summary", file=buf, color=False)
    assert buf.getvalue().split("\n")[0].strip() == report.name.strip()
    for text in (md, buf.getvalue()):
        assert all(ch.isprintable() or ch == "\n" for ch in text), repr(text)
    assert json.loads(render(report, "summary", "json"))["name"] == report.name


def test_control_characters_are_escaped_as_python_writes_them():
    spec = {"layercalc": 1, "name": "a\nb\x1b[31mc\u202e", "inputs": {"x": [1, 4]}, "layers": ["ReLU"]}
    assert analyze(spec).name == "a\\nb\\x1b[31mc\\u202e"


# --- human units ----------------------------------------------------------------------------------

UNITS = {"": 1, "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15, "E": 10**18, "Z": 10**21,
         "Y": 10**24, "R": 10**27, "Q": 10**30}


def _read_back(text: str) -> Fraction:
    if "e" in text:
        mantissa, exponent = text.split("e")
        return Fraction(mantissa) * 10 ** int(exponent)
    number, _, unit = text.partition(" ")
    return Fraction(number) * UNITS[unit]


@pytest.mark.parametrize("n,text", [
    (0, "0"), (999, "999"), (1000, "1.00 K"), (1234, "1.23 K"), (999_994, "999.99 K"),
    (999_995, "1.00 M"),  # 999.995 K rounds to 1000.00 K, written 1.00 M
    (1015, "1.02 K"), (1025, "1.02 K"),  # halves to even: 1.015 -> 1.02, 1.025 -> 1.02
    (11_689_512, "11.69 M"), (3 * 10**12, "3.00 T"), (175 * 10**15, "175.00 P"),
    (5_999_999_999_999_999_899_336_704, "6.00 Y"),  # was 5999999999999999899336704.00 T through a float
    (10**30, "1.00 Q"), (123 * 10**31, "1.23e33"), (10**1000, "1.00e1000"),
])
def test_human_units(n, text):
    assert human(n) == text


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.integers(min_value=0, max_value=10**60))
def test_human_units_are_exact_to_half_a_hundredth(n):
    text = human(n)
    if n < 1000:
        assert text == str(n)
        return
    value = _read_back(text)
    number = text.split(" ")[0] if "e" not in text else text.split("e")[0]
    unit = UNITS[text.split(" ")[1]] if " " in text else 10 ** int(text.split("e")[1])
    assert 1 <= Fraction(number) < 1000 if " " in text else 1 <= Fraction(number) < 10
    assert abs(value - n) <= Fraction(unit, 200), (n, text)  # within half of the last digit shown


@pytest.mark.parametrize("n,text", [(999, "999 B"), (1000, "1.00 KB"), (11_689_512 * 4, "46.76 MB"),
                                    (4 * 10**12, "4.00 TB"), (10**33, "1.00e33 B")])
def test_human_bytes(n, text):
    assert human_bytes(n) == text
