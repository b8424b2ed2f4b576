import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

#: Set in CI (.ci/run): the differential tests against torch must run, not skip.
REQUIRE_TORCH = "LAYERCALC_REQUIRE_TORCH"


def pytest_configure(config):
    if os.environ.get(REQUIRE_TORCH, "") not in ("", "0"):
        try:
            import torch  # noqa: F401
        except ImportError as exc:
            raise pytest.UsageError(
                f"{REQUIRE_TORCH}=1 but torch cannot be imported ({exc}): the differential tests would be "
                "skipped. Install the test extras and torch as the README's test command does "
                "(python -m pip install -e \".[test]\" torch==2.13.0), or unset the variable.") from None

