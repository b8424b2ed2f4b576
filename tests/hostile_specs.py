"""Small specs that try to make layercalc use a lot of memory or time, at the edge of its limits
(docs/spec-format.md, section 5.1): shared by tests/test_harden_bounds.py (memory-capped
subprocesses) and benchmarks/bench_hostile.py (peak RSS of each).

Each generator returns (label, spec text); the text stays a few kilobytes while the expanded
graph reaches the layer cap (100,000 by default).
"""

from __future__ import annotations

MAX_LAYERS = 100_000


def many_vars_nested_block(n_vars: int = 1000, layers: int = MAX_LAYERS) -> tuple[str, str]:
    """1,000 vars and a block in a block, repeated up to the layer cap: every layer's scope holds
    the vars (a copy per block use would take gigabytes)."""
    names = "\n".join(f"  v{i}: {i + 1}" for i in range(n_vars))
    inner_repeat = 1
    outer_repeat = layers // inner_repeat
    text = (f"layercalc: 1\nvars:\n{names}\ninputs:\n  x: [1, 4]\nblocks:\n"
            "  Inner:\n    params: {k: 1}\n    layers:\n      - ReLU\n"
            f"  Outer:\n    params: {{k: 1}}\n    layers:\n      - Inner: {{k: k + v{n_vars - 1}}}\n"
            f"        repeat: {inner_repeat}\n"
            f"layers:\n  - Outer: {{k: v0}}\n    repeat: {outer_repeat}\n")
    return f"{n_vars} vars, nested block x{layers}", text


def high_rank_chain(rank: int = 64, layers: int = MAX_LAYERS) -> tuple[str, str]:
    """A rank-64 input (the largest accepted) through a repeated layer: every row has its shapes."""
    shape = ", ".join(["1"] * (rank - 2) + ["3", "5"])
    return (f"rank {rank} x{layers}",
            f"layercalc: 1\ninputs:\n  x: [{shape}]\nlayers:\n  - ReLU:\n    repeat: {layers}\n")


def high_rank_mean(rank: int = 64, layers: int = MAX_LAYERS) -> tuple[str, str]:
    """Mean over every dimension of a rank-64 tensor, kept, repeated."""
    shape = ", ".join(["2"] * rank)
    return (f"Mean over {rank} dims x{layers}",
            f"layercalc: 1\ninputs:\n  x: [{shape}]\nlayers:\n  - Mean: {{keepdim: true}}\n"
            f"    repeat: {layers}\n")


def deep_blocks(depth: int = 32, layers: int = MAX_LAYERS) -> tuple[str, str]:
    """Blocks nested 32 deep (the largest accepted), the innermost repeated to the layer cap."""
    blocks = "".join(f"  B{i}:\n    layers:\n      - B{i + 1}\n" for i in range(depth - 1))
    blocks += f"  B{depth - 1}:\n    layers:\n      - ReLU:\n        repeat: {layers}\n"
    return f"blocks {depth} deep x{layers}", f"layercalc: 1\ninputs:\n  x: [1, 4]\nblocks:\n{blocks}layers:\n  - B0\n"


def wide_fan_in(layers: int = MAX_LAYERS) -> tuple[str, str]:
    """Every layer also reads the rank-64 input: `Add` from [x, x] repeated adds x to the previous copy."""
    shape = ", ".join(["1"] * 62 + ["3", "5"])
    return (f"Add of x (rank 64) x{layers}",
            f"layercalc: 1\ninputs:\n  x: [{shape}]\nlayers:\n  - Add:\n    from: [x, x]\n    repeat: {layers}\n")


WORST = (many_vars_nested_block, high_rank_chain, high_rank_mean, deep_blocks, wide_fan_in)


def worst_cases(scale: float = 1.0) -> list[tuple[str, str]]:
    """Every worst case; ``scale`` < 1 makes them smaller (a test's quick run)."""
    n = max(10, int(MAX_LAYERS * scale))
    return [many_vars_nested_block(layers=n), high_rank_chain(layers=n), high_rank_mean(layers=n),
            deep_blocks(layers=n), wide_fan_in(layers=n)]
