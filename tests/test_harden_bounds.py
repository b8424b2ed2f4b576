"""Bounded memory and time: the limits of docs/spec-format.md (section 5.1) at their edge and one
step beyond, and the worst small specs of tests/hostile_specs.py run by the real command under a
1 GiB memory cap and a timeout.

Before the fixes, 1,000 vars with a nested block repeated 100,000 times took 2.7 GB (every
block use copied the variable scope and every layer kept its copy), and a rank-1,000 input
through a repeated layer took gigabytes (every row stored full shape lists). Peak figures of
every worst case: benchmarks/bench_hostile.py.
"""

from __future__ import annotations

import json
import random

import pytest

from tests.harden_helpers import accepted, check_cli, outcome, refused, run_capped
from tests.hostile_specs import (deep_blocks, high_rank_chain, high_rank_mean, many_vars_nested_block, wide_fan_in,
                                 worst_cases)


def _shape(rank: int, rng: random.Random) -> str:
    return "[" + ", ".join(str(rng.choice([1, 1, 1, 2, 3])) for _ in range(rank)) + "]"


@pytest.mark.parametrize("rank", [1, 2, 63, 64, 65, 66, 100, 1000])
def test_input_rank_up_to_64(rank):
    rng = random.Random(rank)
    for _ in range(3):
        text = f"layercalc: 1\ninputs:\n  x: {_shape(rank, rng)}\nlayers:\n  - ReLU\n"
        if rank <= 64:
            assert len(accepted(text).layers[0].output_shape) == rank
        else:
            assert "64" in refused(text, "G011", 3).message


@pytest.mark.parametrize("layer,extra", [
    ("Reshape: {{shape: {ones}}}", 0),  # [1] * n: n dimensions
    ("Unflatten: {{dim: -1, unflattened_size: {ones}}}", 1),  # [1, 1] with its last replaced by n: n + 1
    ("Expand: {{shape: {ones}}}", 0),  # n dimensions
])
def test_a_layer_cannot_make_more_than_64_dimensions(layer, extra):
    for n in (2, 30, 64, 65, 70, 200):
        ones = "[" + ", ".join(["1"] * n) + "]"
        text = f"layercalc: 1\ninputs:\n  x: [1, 1]\nlayers:\n  - {layer.format(ones=ones)}\n"
        rank = n + extra
        if rank <= 64:
            assert len(accepted(text).layers[0].output_shape) == rank
        else:
            assert f"{rank}-D" in refused(text, "G011", 5).message


def test_vars_and_dims_up_to_10000_names():
    for n_dims, n_vars in ((1, 9_999), (5_000, 5_000), (1, 10_000), (0, 10_001), (9_000, 1_500)):
        dims = "".join(f"  d{i}: 1\n" for i in range(n_dims))
        vars_ = "".join(f"  v{i}: {i}\n" for i in range(n_vars))
        text = (f"layercalc: 1\n" + (f"dims:\n{dims}" if n_dims else "") + f"vars:\n{vars_}"
                + "inputs: {x: [1, 4]}\nlayers:\n  - ReLU\n")
        if n_dims + n_vars <= 10_000:
            accepted(text)
        else:
            exc = refused(text, "S006")
            assert "10000" in exc.message and exc.mark.line == (4 + n_dims if n_dims else 3)  # the first var


def test_block_scopes_are_shared_not_copied():
    """Every layer of a block keeps its scope: many uses of a block hold one small mapping each
    (the block's params) over the spec's vars, never a copy of the vars."""
    from layercalc.engine import load_graph

    label, text = many_vars_nested_block(n_vars=1000, layers=200)
    graph = load_graph(text)
    envs = {id(node.env) for node in graph.nodes}
    assert len(graph.nodes) == 200
    for node in graph.nodes:
        assert node.env["v999"] == 1000 and node.env["k"] == 1 + 1000  # the inner block's k = outer k + v999
        assert len(node.env.maps[0]) == 1  # only the block's param
        assert node.env.maps[-1] is graph.spec.env  # the vars themselves, shared
    assert len(envs) <= 200


def test_row_shapes_are_shared_between_a_layer_and_its_consumers():
    report = accepted(high_rank_chain(rank=64, layers=50)[1])
    rows = report.layers
    assert all(len(r.output_shape) == 64 for r in rows)
    for prev, row in zip(rows, rows[1:]):
        assert row.input_shapes[0] is prev.output_shape  # one list, not a copy per row
    fan = accepted(wide_fan_in(layers=20)[1]).layers
    assert len({id(r.input_shapes[1]) for r in fan}) == 1  # x's list, in every row
    assert all(r.input_shapes[0] is prev.output_shape for prev, r in zip(fan, fan[1:]))


def test_mean_over_all_dimensions_of_a_rank_64_tensor():
    report = accepted(high_rank_mean(rank=64, layers=30)[1])
    # 2**64 elements reduced to 1 kept as [1] * 64: FLOPs numel(x) + numel(y) on the first layer,
    # 1 + 1 on the next ones
    assert report.layers[0].flops == 2**64 + 1 and report.layers[1].flops == 2
    assert report.layers[-1].output_shape == [1] * 64


SCALE = 0.25  # 25,000 layers each here; benchmarks/bench_hostile.py runs them at the cap of 100,000
CAP = 512 << 20


@pytest.mark.parametrize("case", range(5), ids=["vars-nested-block", "rank64-chain", "rank64-mean", "blocks-32-deep",
                                                "rank64-fan-in"])
def test_worst_cases_run_under_a_memory_cap(case, tmp_path):
    """The real command under a 512 MiB address-space cap: exit 0 in bounded time."""
    label, text = worst_cases(SCALE)[case]
    path = tmp_path / "worst.yaml"
    path.write_text(text)
    assert len(text) < 20_000  # a small spec...
    proc = run_capped(["params", path, "--format", "csv"], cap=CAP, timeout=180)
    check_cli(proc, label)
    assert proc.returncode == 0, proc.stderr.decode()[-2000:]
    assert proc.stdout.count(b"\n") == 25_000 + 2  # ...of 25,000 layers (header, rows, totals)


def test_seeded_variants_of_the_worst_cases_stay_bounded(tmp_path):
    """Random sizes of each worst case, under the cap: accepted or refused with a located error."""
    rng = random.Random(11)
    variants = [many_vars_nested_block(n_vars=rng.randint(1, 10_000), layers=rng.randint(10, 20_000)),
                high_rank_chain(rank=rng.randint(1, 70), layers=rng.randint(10, 20_000)),
                high_rank_mean(rank=rng.randint(1, 70), layers=rng.randint(10, 20_000)),
                deep_blocks(depth=rng.randint(1, 40), layers=rng.randint(10, 20_000))]
    for k, (label, text) in enumerate(variants):
        exc = outcome(text)
        path = tmp_path / f"v{k}.yaml"
        path.write_text(text)
        proc = run_capped(["summary", path, "--format", "csv"], cap=CAP, timeout=120)
        err = check_cli(proc, label)
        assert proc.returncode == (0 if exc is None else 1), err
        if exc is not None:
            assert err.startswith(f"{path}:"), err
