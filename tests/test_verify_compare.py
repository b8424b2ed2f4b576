"""verify's comparison itself: each compared quantity is the rules' figure against the reference's.

A comparison that read the same side twice would pass every spec; here one layer's rules row and
reference run agree on everything but one quantity at a time, and exactly that check must fail.
"""

import random

import pytest

from layercalc.reference.kernel import Run
from layercalc.reference.tensor import uniform
from layercalc.report import LayerRow
from layercalc.verify import CHECKS, compare


def row(**changes):
    """A rules row of a Linear(4 -> 3) on [2, 4]: 12 + 3 = 15 params, MACs 2*3*4 = 24, FLOPs 2*24 + 6 = 54."""
    base = dict(name="fc", type="Linear", input_shapes=[[2, 4]], output_shape=[2, 3], extra_outputs={},
                params=15, trainable_params=15, buffers=0, macs=24, flops=54,
                param_shapes={"weight": (3, 4), "bias": (3,)}, buffer_shapes={})
    base.update(changes)
    return LayerRow(**base)


def run(**changes):
    rng = random.Random(0)
    params = {"weight": uniform((3, 4), rng, 1.0), "bias": uniform((3,), rng, 1.0)}
    base = dict(output=uniform((2, 3), rng, 1.0), extras={}, params=params, buffers={}, allocated_params=15,
                allocated_buffers=0, macs=24, flops=54)
    base.update(changes)
    return Run(**base)


def failing(checks):
    return [c.name for c in checks if not c.ok]


def test_the_same_layer_passes_every_check():
    checks = compare(row(), run())
    assert [c.name for c in checks] == list(CHECKS) and not failing(checks)


RNG = random.Random(1)
CHANGED = {
    "output_shape": dict(output=uniform((2, 5), RNG, 1.0)),
    "extra_outputs": dict(extras={"h_n": uniform((1, 3), RNG, 1.0)}),
    "param_shapes": dict(params={"weight": uniform((3, 4), RNG, 1.0)}),
    "params": dict(allocated_params=12),
    "buffer_shapes": dict(buffers={"running_mean": uniform((3,), RNG, 1.0)}),
    "buffers": dict(allocated_buffers=3),
    "macs": dict(macs=25),
    "flops": dict(flops=53),
}


@pytest.mark.parametrize("name", CHECKS)
def test_a_difference_in_one_quantity_fails_exactly_that_check(name):
    assert failing(compare(row(), run(**CHANGED[name]))) == [name]


@pytest.mark.parametrize("name,change", [("output_shape", dict(output_shape=[2, 4])), ("macs", dict(macs=23)),
                                         ("flops", dict(flops=55)), ("params", dict(params=16)),
                                         ("buffers", dict(buffers=1)), ("extra_outputs", dict(extra_outputs={"x": [1]})),
                                         ("param_shapes", dict(param_shapes={"weight": (3, 4)})),
                                         ("buffer_shapes", dict(buffer_shapes={"b": (1,)}))])
def test_a_difference_on_the_rules_side_fails_too(name, change):
    assert failing(compare(row(**change), run())) == [name]
