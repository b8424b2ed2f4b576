"""`layercalc verify` on every bundled spec: the reference executor agrees with the rules engine."""

import pathlib

import pytest

from layercalc.verify import verify

SPECS = sorted((pathlib.Path(__file__).resolve().parents[1] / "specs").glob("*.yaml"))


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.stem)
def test_verify_passes_on_bundled_spec(path):
    result = verify(path)
    assert result.layers, f"{path.name}: no layer was checked"
    bad = [f"{c.name} ({c.type}, {c.mode}): {c.first_mismatch()}" for c in result.mismatches]
    assert not bad, f"{path.name}:\n" + "\n".join(bad)
    assert all(len(c.checks) == 8 for c in result.layers)


def test_a_small_spec_runs_end_to_end():
    result = verify(pathlib.Path(__file__).resolve().parents[1] / "specs" / "lenet5.yaml")
    assert result.mode == "full" and result.ok


SHARING = """
layercalc: 1
name: sharing
inputs:
  tokens: {shape: [2, 5], dtype: int64}
layers:
  - Embedding: {num_embeddings: 11, embedding_dim: 4}
    name: emb
  - LSTM: {hidden_size: 4, batch_first: true, num_layers: 2}
    name: lstm
  - Linear: {out_features: 4}
    name: proj
    from: lstm.h_n
  - Linear: {out_features: 4}
    share: proj
  - Linear: {out_features: 11, bias: false}
    tie: emb
"""


def test_shared_and_tied_weights_are_counted_once_in_a_full_run():
    result = verify(SHARING)
    assert result.mode == "full" and result.ok, [c.first_mismatch() for c in result.mismatches]
    params = {c.name: next(k.reference for k in c.checks if k.name == "params") for c in result.layers}
    assert params["linear_1"] == 0 and params["linear_2"] == 0  # shared, tied: counted at their owners
    assert params["proj"] == 4 * 4 + 4
