"""The safe expression evaluator: what it computes and what it refuses."""

import pytest

from layercalc.spec.expr import ExprError, evaluate

ENV = {"w": 64, "B": 8, "r": 0.5}


@pytest.mark.parametrize("text,expected", [
    ("4 * w", 256),                 # 4 * 64
    ("w // 3", 21),                 # 64 // 3
    ("w / 4", 16.0),                # true division gives a float
    ("w % 10", 4),
    ("2 ** 10", 1024),
    ("-w + 1", -63),
    ("+(w)", 64),
    ("(w + B) * 2", 144),           # (64 + 8) * 2
    ("min(w, B, 3)", 3),
    ("max(w, 100)", 100),
    ("ceil(w / 3)", 22),            # 21.33 -> 22
    ("floor(w * r / 3)", 10),       # 10.67 -> 10
    ("round(2.5)", 2),              # Python's banker's rounding
    ("1e-5", 1e-5),                 # YAML 1.1 reads this as a string
    ("3.0e+2", 300.0),
    ("12288 * 4", 49152),
])
def test_evaluates(text, expected):
    value = evaluate(text, ENV)
    assert value == expected and type(value) is type(expected)


@pytest.mark.parametrize("text,words", [
    ("__import__('os')", "calling '__import__' is not allowed"),
    ("w.real", "attribute access"),
    ("[1][0]", "not allowed"),
    ("w if B else 1", "conditional expressions"),
    ("w > 1", "comparisons"),
    ("9 ** 9 ** 9", "exponent"),
    ("2 ** 64", "larger than 10**18"),
    ("10 ** 19", "larger than 10**18"),
    ("w * 10 ** 17", "larger than 10**18"),
    ("1 / 0", "divides by zero"),
    ("wx * 2", "did you mean 'w'?"),
    ("ceil", "is a function"),
    ("max()", "takes"),
    ("ceil(1, 2)", "takes"),
    ("min(*w)", "starred"),
    ("round(x=1)", "keyword"),
    ("w & 1", "'&' is not allowed"),
    ("'text'", "is not a number"),
    ("True", "is not a number"),
    ("(1", "not an arithmetic expression"),
    ("1" * 201, "over the limit"),
    ("lambda: 1", "lambdas"),
])
def test_refuses(text, words):
    with pytest.raises(ExprError) as info:
        evaluate(text, ENV)
    assert words in str(info.value)


def test_never_calls_eval(monkeypatch):
    import builtins

    def boom(*args, **kwargs):  # pragma: no cover - must not be reached
        raise AssertionError("eval was called")

    monkeypatch.setattr(builtins, "eval", boom)
    assert evaluate("(w + 1) * 2", ENV) == 130
