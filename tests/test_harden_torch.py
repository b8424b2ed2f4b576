"""Accept and refuse as torch 2.13 does, differentially: one-element and empty lists for
convolution and pooling arguments, padding lists of any length, Embedding index dtypes,
recurrent dropout; and `trainable: false` on a layer that ties or shares another's parameters,
which freezes the shared tensor as `requires_grad_(False)` does.

For every generated case layercalc and torch either both accept it, with the same output shape,
or both refuse it (layercalc with a located SpecError).
"""

from __future__ import annotations

import random

import pytest

torch = pytest.importorskip("torch")
nn = torch.nn

from layercalc.errors import SpecError  # noqa: E402
from tests.oracle import ours  # noqa: E402


def both(layer_type: str, args: dict, shape: list, dtype: str = "float32", build=None):
    """(layercalc's output shape or None if refused, torch's output shape or None if refused)."""
    try:
        mine = ours(layer_type, args, [(shape, dtype)]).output_shape
    except SpecError as exc:
        assert exc.mark.line >= 1 and exc.fix
        mine = None
    try:
        module = build() if build else getattr(nn, layer_type)(**args)
        x = torch.zeros(shape, dtype=getattr(torch, dtype)) if "int" not in dtype and dtype != "bool" else \
            torch.zeros(shape, dtype=getattr(torch, dtype))
        with torch.no_grad():
            out = module(x)
        theirs = list((out[0] if isinstance(out, tuple) else out).shape)
    except (RuntimeError, ValueError, TypeError, NotImplementedError, IndexError):
        theirs = None
    return mine, theirs


# --- one-element and empty lists ------------------------------------------------------------

def _list_forms(value: int, n: int):
    """An argument value as an int, a one-element list, an empty list, a full list, one value too many."""
    return [value, [value], [], [value] * n, [value] * (n + 1)]


def conv_cases(seed: int = 0):
    rng = random.Random(seed)
    for rank in (1, 2, 3):
        for transposed in (False, True):
            layer = f"{'ConvTranspose' if transposed else 'Conv'}{rank}d"
            names = ("kernel_size", "stride", "padding", "dilation") + (("output_padding",) if transposed else ())
            for name in names:
                value = rng.randint(1, 2)
                for form in _list_forms(value, rank):
                    args = {"in_channels": 2, "out_channels": 3, "kernel_size": 3}
                    if name == "output_padding":
                        args["stride"] = 3
                    args[name] = form
                    yield layer, args, [1, 2] + [rng.randint(7, 10) for _ in range(rank)]


def pool_cases(seed: int = 1):
    rng = random.Random(seed)
    for rank in (1, 2, 3):
        for kind in ("Max", "Avg", "LP"):
            layer = f"{kind}Pool{rank}d"
            names = ("kernel_size", "stride") + (("padding",) if kind != "LP" else ()) + \
                (("dilation",) if kind == "Max" else ())
            for name in names:
                for form in _list_forms(rng.randint(1, 2) if name != "kernel_size" else 3, rank):
                    args = {"kernel_size": 3}
                    if kind == "LP":
                        args["norm_type"] = 2
                    args[name] = form
                    yield layer, args, [1, 2] + [rng.randint(7, 10) for _ in range(rank)]


def _case_id(case):
    layer, args, shape = case
    return f"{layer}-{'-'.join(f'{k}={v}' for k, v in args.items() if k not in ('in_channels', 'out_channels'))}"


@pytest.mark.parametrize("case", list(conv_cases()) + list(pool_cases()), ids=_case_id)
def test_list_forms_agree_with_torch(case):
    layer, args, shape = case
    mine, theirs = both(layer, args, shape)
    assert mine == theirs, (layer, args, shape, mine, theirs)


def test_the_issue_examples():
    # Conv2d stride [2]: torch expands it to (2, 2): 9 -> (9 - 3) // 2 + 1 = 4
    assert both("Conv2d", {"in_channels": 2, "out_channels": 3, "kernel_size": 3, "stride": [2]}, [1, 2, 9, 9]) == \
        ([1, 3, 4, 4], [1, 3, 4, 4])
    # a pooling stride [] is kernel_size: 9 // 3 = 3
    assert both("MaxPool2d", {"kernel_size": 3, "stride": []}, [1, 2, 9, 9]) == ([1, 2, 3, 3], [1, 2, 3, 3])
    # ZeroPad2d([1, 1]) pads the last dimension only: 9 + 1 + 1 = 11
    assert both("ZeroPad2d", {"padding": [1, 1]}, [1, 2, 9, 9]) == ([1, 2, 9, 11], [1, 2, 9, 11])


def pad_cases(n: int = 160, seed: int = 2):
    rng = random.Random(seed)
    kinds = ("ZeroPad", "ConstantPad", "ReflectionPad", "ReplicationPad", "CircularPad")
    out = []
    for _ in range(n):
        kind, rank = rng.choice(kinds), rng.randint(1, 3)
        length = rng.choice([0, 1, 2, 2, 3, 4, 4, 5, 6, 6, 8])
        padding = [rng.randint(0, 2) for _ in range(length)]
        args = {"padding": padding if rng.random() < 0.9 else rng.randint(0, 2)}
        if kind == "ConstantPad":
            args["value"] = 0.5
        shape = [rng.randint(3, 5) for _ in range(rng.randint(1, 5))]
        out.append((f"{kind}{rank}d", args, shape))
    return out


@pytest.mark.parametrize("case", pad_cases(), ids=lambda c: f"{c[0]}-{c[1]['padding']}-{len(c[2])}D")
def test_padding_lists_agree_with_torch(case):
    layer, args, shape = case
    mine, theirs = both(layer, args, shape)
    assert mine == theirs, (layer, args, shape, mine, theirs)


# --- dtypes and values --------------------------------------------------------------------------

DTYPES = ("int8", "int16", "int32", "int64", "uint8", "bool", "float32")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("layer", ["Embedding", "EmbeddingBag"])
def test_embedding_index_dtypes_agree_with_torch(layer, dtype):
    args = {"num_embeddings": 10, "embedding_dim": 3}
    mine, theirs = both(layer, args, [2, 4], dtype)
    assert mine == theirs, (layer, dtype, mine, theirs)
    assert (mine is not None) == (dtype in ("int32", "int64"))  # torch takes int32 and int64 indices only


@pytest.mark.parametrize("dropout", [float("nan"), float("inf"), -0.1, 1.5, 0.0, 0.5, 1.0])
@pytest.mark.parametrize("layer", ["RNN", "LSTM", "GRU"])
def test_recurrent_dropout_agrees_with_torch(layer, dropout):
    args = {"input_size": 4, "hidden_size": 4, "num_layers": 2, "dropout": dropout, "batch_first": True}
    mine, theirs = both(layer, args, [1, 3, 4])
    assert mine == theirs, (layer, dropout, mine, theirs)


# --- trainable: false on tied and shared parameters --------------------------------------------

def _spec_totals(layers: list, inputs: dict):
    import layercalc

    return layercalc.analyze({"layercalc": 1, "inputs": inputs, "layers": layers}).totals


def _torch_trainable(modules: list, frozen: list) -> tuple[int, int]:
    model = nn.ModuleList(modules)
    for k in frozen:
        modules[k].requires_grad_(False)
    params = list(model.parameters())  # de-duplicated, as PyTorch counts
    return sum(p.numel() for p in params), sum(p.numel() for p in params if p.requires_grad)


@pytest.mark.parametrize("vocab,d", [(10, 4), (1000, 64), (37, 5)])
@pytest.mark.parametrize("frozen", [[], [0], [2], [0, 2]])
def test_trainable_false_on_a_tied_layer_freezes_the_shared_weight(vocab, d, frozen):
    embed, norm, head = nn.Embedding(vocab, d), nn.LayerNorm(d), nn.Linear(d, vocab)
    head.weight = embed.weight  # tie
    torch_params, torch_trainable = _torch_trainable([embed, norm, head], frozen)
    layers = [{"Embedding": {"num_embeddings": vocab, "embedding_dim": d}, "name": "embed"},
              {"LayerNorm": {"normalized_shape": d}},
              {"Linear": {"out_features": vocab}, "tie": "embed"}]
    for k in frozen:
        layers[k]["trainable"] = False
    totals = _spec_totals(layers, {"t": {"shape": [1, 3], "dtype": "int64"}})
    # e.g. vocab 10, d 4, the head frozen: weight 10 * 4 (frozen with it) + head bias 10 (frozen)
    # leave LayerNorm's 4 + 4 trainable of 10 * 4 + 8 + 10 = 58 params
    assert (totals["params"], totals["trainable_params"]) == (torch_params, torch_trainable)


@pytest.mark.parametrize("frozen", [[], [0], [1], [2], [1, 2]])
def test_trainable_false_on_a_shared_layer_and_chains(frozen):
    rng = random.Random(sum(frozen) + 7 * len(frozen))
    d = rng.randint(2, 9)
    a, b, c = nn.Linear(d, d), nn.Linear(d, d), nn.Linear(d, d, bias=False)
    b.weight, b.bias = a.weight, a.bias  # share: the same module's parameters
    c.weight = b.weight  # tie to a tie: a's weight in the end
    torch_params, torch_trainable = _torch_trainable([a, b, c], frozen)
    layers = [{"Linear": {"out_features": d}, "name": "a"},
              {"Linear": {"out_features": d}, "name": "b", "share": "a"},
              {"Linear": {"out_features": d, "bias": False}, "name": "c", "tie": "b"}]
    for k in frozen:
        layers[k]["trainable"] = False
    totals = _spec_totals(layers, {"x": [1, d]})
    assert (totals["params"], totals["trainable_params"]) == (torch_params, torch_trainable)


def test_trainable_false_on_a_tied_layer_example():
    # Embedding(10, 4) tied to a frozen Linear(4, 10): 40 + 10 = 50 params, none trainable in torch
    layers = [{"Embedding": {"num_embeddings": 10, "embedding_dim": 4}, "name": "embed"},
              {"Linear": {"out_features": 10}, "tie": "embed", "trainable": False}]
    totals = _spec_totals(layers, {"t": {"shape": [1, 3], "dtype": "int64"}})
    assert (totals["params"], totals["trainable_params"], totals["non_trainable_params"]) == (50, 0, 50)
