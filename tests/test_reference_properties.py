"""Property tests: for every registered layer type, random valid configurations give the same output
shapes (extra outputs too), parameters, buffers, MACs and FLOPs from the reference executor and the
rules engine."""

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from layercalc.errors import SpecError
from layercalc.layers import REGISTRY
from layercalc.reference.signatures import REQUIRED, SIGNATURES
from tests.reference_configs import CONFIGS
from tests.reference_helpers import mismatches

SETTINGS = settings(max_examples=12, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])


@pytest.mark.parametrize("layer_type", sorted(REGISTRY))
@SETTINGS
@given(data=st.data())
def test_reference_agrees_with_rules(layer_type, data):
    assert layer_type in CONFIGS, f"no configuration generator for {layer_type} in tests/reference_configs.py"
    args, shapes, dtypes = CONFIGS[layer_type](data.draw)
    # leave out each argument that has a default as often as it is given: both sides then read their own
    # defaults (the reference from torch's signatures), and a default of the rules that differs is seen
    defaults = {name for name, default, _ in SIGNATURES[layer_type] if default is not REQUIRED}
    args = {k: v for k, v in args.items() if k not in defaults or data.draw(st.booleans(), label=f"give {k}")}
    try:
        bad = mismatches(layer_type, args, shapes, dtypes)
    except SpecError:
        assume(False)  # a configuration the rules reject (as torch would): not a question for the reference
        return
    assert not bad, f"{layer_type} {args} on {shapes}: " + "; ".join(bad)
