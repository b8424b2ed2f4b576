"""Differential tests of the embedding family against torch.nn (skipped without torch)."""

import random

import pytest

torch = pytest.importorskip("torch")

import layercalc  # noqa: E402
from tests.oracle import ours, torch_measure  # noqa: E402


def embedding_cases(n=50, seed=41):
    rng = random.Random(seed)
    for _ in range(n):
        num, dim = rng.randint(1, 50), rng.randint(1, 16)
        args = {"num_embeddings": num, "embedding_dim": dim}
        if rng.random() < 0.4:
            args["padding_idx"] = rng.randint(-num, num - 1)
        if rng.random() < 0.3:
            args["max_norm"] = rng.choice([0.5, 1.0, 2.0])
            args["norm_type"] = rng.choice([1.0, 2.0, 3.0])
        if rng.random() < 0.2:
            args["scale_grad_by_freq"] = True
        if rng.random() < 0.2:
            args["sparse"] = True
        shape = [rng.randint(1, 5) for _ in range(rng.randint(0, 3))]
        yield args, shape, rng.choice(["int64", "int32"])


@pytest.mark.parametrize("args,shape,dtype", list(embedding_cases()))
def test_embedding_matches_torch(args, shape, dtype):
    row = ours("Embedding", args, [(shape, dtype)])
    module = torch.nn.Embedding(**args)
    idx = torch.randint(0, args["num_embeddings"], shape, dtype=getattr(torch, dtype))
    ref = torch_measure(module, [idx])
    assert row.output_shape == ref["outputs"][0]
    assert (row.params, row.buffers, row.macs) == (ref["params"], ref["buffers"], ref["macs"]) and row.macs == 0
    elements = 1
    for d in shape:
        elements *= d
    # a lookup costs nothing; max_norm: a norm (multiply, add) and a rescale (multiply) per looked-up element
    assert row.flops == (3 * elements * args["embedding_dim"] if "max_norm" in args else 0)


def test_embedding_output_is_float32():
    spec = """
layercalc: 1
inputs: {tokens: {shape: [2, 7], dtype: int64}}
layers:
  - Embedding: {num_embeddings: 100, embedding_dim: 8}
  - Linear: {out_features: 3}
"""
    report = layercalc.analyze(spec)
    assert report.layers[-1].output_shape == [2, 7, 3]


def bag_cases(n=40, seed=42):
    rng = random.Random(seed)
    for _ in range(n):
        num, dim = rng.randint(1, 40), rng.randint(1, 12)
        mode = rng.choice(["sum", "mean", "max"])
        args = {"num_embeddings": num, "embedding_dim": dim, "mode": mode,
                "include_last_offset": rng.random() < 0.3}
        if rng.random() < 0.3:
            args["padding_idx"] = rng.randint(-num, num - 1)
        if rng.random() < 0.2:
            args["max_norm"] = 1.0
        if mode != "max" and rng.random() < 0.3:
            args["sparse"] = True
        yield args, [rng.randint(1, 5), rng.randint(1, 6)]


@pytest.mark.parametrize("args,shape", list(bag_cases()))
def test_embedding_bag_matches_torch(args, shape):
    row = ours("EmbeddingBag", args, [(shape, "int64")])
    module = torch.nn.EmbeddingBag(**args)
    ref = torch_measure(module, [torch.randint(0, args["num_embeddings"], shape)])
    assert row.output_shape == ref["outputs"][0]
    assert (row.params, row.buffers, row.macs) == (ref["params"], ref["buffers"], ref["macs"])
    bags, bag = shape
    per_bag = bag + 1 if args["mode"] == "mean" else bag  # a reduction over bag values (+ the divide of the mean)
    renorm = 3 * bags * bag * args["embedding_dim"] if "max_norm" in args else 0
    assert row.flops == bags * args["embedding_dim"] * per_bag + renorm


# --- errors -------------------------------------------------------------------------------------------------


def _error(spec: str):
    with pytest.raises(layercalc.SpecError) as err:
        layercalc.analyze(spec, file="m.yaml")
    return err.value


def test_float_input_to_embedding():
    e = _error("""layercalc: 1
inputs: {x: [2, 7]}
layers:
  - Embedding: {num_embeddings: 100, embedding_dim: 8}
""")
    assert e.code == "G007" and str(e).startswith("m.yaml:4:5:")
    assert "integer" in e.message and "dtype: int64" in e.fix


def test_padding_idx_out_of_range():
    for value in (100, -101):
        e = _error(f"""layercalc: 1
inputs: {{x: {{shape: [2, 7], dtype: int64}}}}
layers:
  - Embedding: {{num_embeddings: 100, embedding_dim: 8, padding_idx: {value}}}
""")
        assert e.code == "S006" and str(e).startswith("m.yaml:4:69:") and "-100 to 99" in e.message


def test_embedding_bag_1d_input_is_refused():
    e = _error("""layercalc: 1
inputs: {x: {shape: [12], dtype: int64}}
layers:
  - EmbeddingBag: {num_embeddings: 100, embedding_dim: 8}
""")
    assert e.code == "G003" and "offsets" in e.message and "reshape" in e.fix


def test_embedding_bag_max_mode_refuses_sparse():
    e = _error("""layercalc: 1
inputs: {x: {shape: [3, 4], dtype: int64}}
layers:
  - EmbeddingBag: {num_embeddings: 100, embedding_dim: 8, mode: max, sparse: true}
""")
    assert e.code == "S006" and "sparse" in e.message


def test_embedding_bag_takes_norm_type_like_torch():
    row = ours("EmbeddingBag", {"num_embeddings": 10, "embedding_dim": 4, "max_norm": 1.0, "norm_type": 1.0},
               [((3, 5), "int64")])
    m = torch.nn.EmbeddingBag(10, 4, max_norm=1.0, norm_type=1.0)
    ref = torch_measure(m, [torch.randint(0, 10, (3, 5))])
    assert row.output_shape == ref["outputs"][0] and row.params == ref["params"] == 40
