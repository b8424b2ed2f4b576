"""Golden files of rendered output (tests/golden/): compare, or rewrite with LAYERCALC_REGEN=1."""

import os

GOLDEN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "golden")


def check_golden(name: str, text: str) -> None:
    """Assert that ``text`` equals the golden file ``name``; with LAYERCALC_REGEN=1, write it first."""
    path = os.path.join(GOLDEN, name)
    if os.environ.get("LAYERCALC_REGEN"):
        with open(path, "w") as fh:
            fh.write(text)
    assert os.path.exists(path), f"no golden file {name}; create it with LAYERCALC_REGEN=1"
    with open(path) as fh:
        assert text == fh.read(), f"{name} changed; regenerate with LAYERCALC_REGEN=1 and review the diff"
