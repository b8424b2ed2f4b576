"""Does a spec fit in a device's memory, and the largest value of a dim that fits."""

from __future__ import annotations

#: The largest value --max-batch tries.
MAX_VALUE = 1 << 24


def fit(totals: dict, capacity: int, device: str, mode: str) -> dict:
    """The training (or inference) peak against ``capacity`` bytes, with the margin (negative: short by)."""
    peak = totals["training_peak_bytes" if mode == "training" else "inference_peak_bytes"]
    if mode == "inference":
        peak += totals["kv_cache_bytes"]
    return {"mode": mode, "device": device, "capacity": capacity, "peak": peak, "fits": peak <= capacity,
            "margin": capacity - peak}


def max_value(peak_at, capacity: int) -> int:
    """The largest v >= 1 with peak_at(v) <= capacity (0 if none), for a peak that grows with v.

    The first probe extrapolates the line through v = 1 and v = 2 (the peak is affine in a batch
    dim); then bisection between the largest value known to fit and the smallest known not to. A peak
    that does not grow from 1 to 2 (the training peak at the optimizer's step, which does not depend on
    the batch, can be the larger of the two moments at small batches) is probed by doubling first.
    """
    p1 = peak_at(1)
    if p1 > capacity:
        return 0
    p2 = peak_at(2)
    if p2 > capacity:
        return 1
    lo, hi = 2, MAX_VALUE + 1
    slope = p2 - p1
    if slope > 0:
        guess = max(2, min(MAX_VALUE, 2 + (capacity - p2) // slope))
        if peak_at(guess) <= capacity:
            lo = guess
            if guess + 1 <= MAX_VALUE and peak_at(guess + 1) > capacity:
                return guess
        else:
            hi = guess
    else:
        lo = 2
        while peak_at(min(2 * lo, MAX_VALUE)) <= capacity:
            if 2 * lo >= MAX_VALUE:
                return MAX_VALUE
            lo *= 2
        hi = min(2 * lo, MAX_VALUE)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if peak_at(mid) <= capacity:
            lo = mid
        else:
            hi = mid
    return lo
