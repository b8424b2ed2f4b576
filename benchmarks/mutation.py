"""Mutation score of `layercalc verify`: plant one realistic bug in the rules, see whether verify notices.

Each mutant is a textual change to one file of the rules (``layercalc/layers/``, ``layercalc/costs.py``),
applied to a temporary copy of the package; ``verify`` of that copy then runs in a fresh interpreter
on the mutant's targeted spec (a few layers that use what the mutant changes) and on every spec under
``specs/``. A mutant is caught when verify reports a mismatch, a refusal by the executor, or the spec
fails to load (the rules now refuse a valid spec). Comparator mutants (verify comparing the rules with
themselves) must be caught by the test suite instead: the harness runs the comparison tests on them.

    python benchmarks/mutation.py              # every mutant, prints the score table
    python benchmarks/mutation.py --sample     # the fixed sample the test suite runs
    python benchmarks/mutation.py -k conv      # mutants whose id contains "conv"

Prints figures, asserts nothing (tests/test_mutation_sample.py asserts on the sample).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parents[1]


class Mutant(NamedTuple):
    id: str
    kind: str  # default, expansion, validation, cost, formula, comparator
    file: str  # relative to layercalc/
    old: str
    new: str
    target: str  # key of TARGETS (comparator mutants: a test file)
    nth: int = 0  # which occurrence of `old` (-1: all)


# --- targeted specs: a few layers that use what a group of mutants changes --------------------------------

TARGETS = {
    "conv": """
layercalc: 1
name: t-conv
inputs: {x: [2, 4, 9, 8]}
layers:
  - Conv2d: {out_channels: 4, kernel_size: [3, 1]}
  - Conv2d: {out_channels: 4, kernel_size: 2, stride: [2, 1], padding: [1, 0], groups: 2, bias: false}
    from: x
  - Conv2d: {out_channels: 2, kernel_size: 4, padding: same}
    from: x
  - ConvTranspose2d: {out_channels: 2, kernel_size: [3, 2], stride: 2, output_padding: 1}
    from: x
""",
    "conv_bad_groups": """
layercalc: 1
name: t-groups
inputs: {x: [1, 6, 5, 5]}
layers:
  - Conv2d: {out_channels: 4, kernel_size: 3, groups: 4}
""",
    "conv_bad_output_padding": """
layercalc: 1
name: t-output-padding
inputs: {x: [1, 2, 4]}
layers:
  - ConvTranspose1d: {out_channels: 2, kernel_size: 3, stride: 2, output_padding: 2}
""",
    "pool": """
layercalc: 1
name: t-pool
inputs: {x: [1, 2, 9, 8]}
layers:
  - MaxPool2d: {kernel_size: 3}
  - AvgPool2d: {kernel_size: [3, 2], stride: 2, padding: 1, ceil_mode: true}
    from: x
  - MaxPool2d: {kernel_size: 2, stride: 2, padding: 1, ceil_mode: true}
    from: x
  - AdaptiveAvgPool2d: {output_size: [4, null]}
    from: x
  - AdaptiveMaxPool2d: {output_size: 5}
    from: x
  - LPPool2d: {norm_type: 2, kernel_size: 2}
    from: x
""",
    "pool_bad_padding": """
layercalc: 1
name: t-pool-padding
inputs: {x: [1, 2, 9, 8]}
layers:
  - MaxPool2d: {kernel_size: 2, padding: 2}
""",
    "norm": """
layercalc: 1
name: t-norm
inputs: {x: [2, 4, 3, 3], s: [2, 3, 5]}
layers:
  - BatchNorm2d
  - InstanceNorm2d:
    from: x
  - GroupNorm: {num_groups: 2}
    from: x
  - LayerNorm: {normalized_shape: 5}
    from: s
  - RMSNorm: {normalized_shape: [3, 5]}
    from: s
  - LocalResponseNorm: {size: 3}
    from: x
""",
    "linear": """
layercalc: 1
name: t-linear
inputs: {x: [2, 3, 5], y: [2, 3, 4]}
layers:
  - Linear: {out_features: 6}
  - Bilinear: {out_features: 2}
    from: [x, y]
""",
    "recurrent": """
layercalc: 1
name: t-recurrent
inputs: {seq: [4, 2, 3]}
layers:
  - LSTM: {hidden_size: 3, num_layers: 2}
    name: lstm
  - GRU: {hidden_size: 3, bidirectional: true}
    from: seq
  - RNN: {hidden_size: 2, num_layers: 2}
    from: seq
    name: rnn
  - Linear: {out_features: 2}
    from: rnn.h_n
""",
    "lstm_bad_proj": """
layercalc: 1
name: t-proj
inputs: {seq: [4, 2, 3]}
layers:
  - LSTM: {hidden_size: 3, proj_size: 3}
""",
    "attention": """
layercalc: 1
name: t-attention
inputs: {seq: [3, 2, 4], bf: [2, 3, 6]}
layers:
  - MultiheadAttention: {num_heads: 2}
  - MultiheadAttention: {num_heads: 2, is_causal: true}
    from: seq
  - TransformerEncoderLayer: {nhead: 2}
    from: seq
  - GroupedQueryAttention: {num_heads: 3, num_kv_heads: 1, rotary: true}
    from: bf
  - RotaryEmbedding:
    from: bf
""",
    "mha_bad_heads": """
layercalc: 1
name: t-heads
inputs: {seq: [3, 2, 6]}
layers:
  - MultiheadAttention: {num_heads: 4}
""",
    "activation": """
layercalc: 1
name: t-activation
inputs: {x: [2, 3, 4]}
layers:
  - GELU
  - SiLU:
    from: x
  - Softmax: {dim: -1}
    from: x
  - Hardswish:
    from: x
  - LogSoftmax: {dim: 1}
    from: x
  - GLU:
    from: x
""",
    "embedding": """
layercalc: 1
name: t-embedding
inputs: {t: {shape: [2, 5], dtype: int64}}
layers:
  - Embedding: {num_embeddings: 11, embedding_dim: 4, max_norm: 1.0}
  - EmbeddingBag: {num_embeddings: 7, embedding_dim: 3}
    from: t
""",
    "structure": """
layercalc: 1
name: t-structure
inputs: {x: [2, 3, 4, 5], m: [3, 4, 5], v: [5]}
layers:
  - Flatten
  - Concat:
    from: [m, m]
  - Mean: {dim: [1, 2]}
    from: x
  - Slice: {dim: -1, start: -4, step: 2}
    from: x
  - MatMul:
    from: [m, v]
  - Upsample: {scale_factor: 1.5}
    from: x
  - ZeroPad2d: {padding: [1, 0, 2, 3]}
    from: x
""",
    "reflect_bad": """
layercalc: 1
name: t-reflect
inputs: {x: [1, 2, 3, 3]}
layers:
  - ReflectionPad2d: {padding: 3}
""",
}

# --- the mutants ---------------------------------------------------------------------------------------------

A = "layers/"
MUTANTS = [
    # defaults: the rules' default differs from torch's
    Mutant("conv-bias-default", "default", A + "conv.py", 'Arg("bias", "bool", True, doc="learn an additive bias")',
           'Arg("bias", "bool", False, doc="learn an additive bias")', "conv", -1),
    Mutant("instancenorm-affine-default", "default", A + "norm.py",
           'Arg("affine", "bool", False, doc="learn a per-channel weight and bias")',
           'Arg("affine", "bool", True, doc="learn a per-channel weight and bias")', "norm"),
    Mutant("batchnorm-running-stats-default", "default", A + "norm.py",
           'Arg("track_running_stats", "bool", True,', 'Arg("track_running_stats", "bool", False,', "norm"),
    Mutant("linear-bias-default", "default", A + "linear.py", 'Arg("bias", "bool", True, doc="learn an additive bias")',
           'Arg("bias", "bool", False, doc="learn an additive bias")', "linear"),
    Mutant("layernorm-affine-default", "default", A + "norm.py",
           'Arg("elementwise_affine", "bool", True, doc="learn a weight and a bias of shape normalized_shape")',
           'Arg("elementwise_affine", "bool", False, doc="learn a weight and a bias of shape normalized_shape")',
           "norm"),
    Mutant("groupnorm-affine-default", "default", A + "norm.py",
           'Arg("affine", "bool", True, doc="learn a per-channel weight and bias")',
           'Arg("affine", "bool", False, doc="learn a per-channel weight and bias")', "norm", 1),
    Mutant("recurrent-bias-default", "default", A + "recurrent.py", 'Arg("bias", "bool", True, doc="learn b_ih and b_hh")',
           'Arg("bias", "bool", False, doc="learn b_ih and b_hh")', "recurrent"),
    Mutant("mha-bias-default", "default", A + "attention.py",
           'Arg("bias", "bool", True, doc="biases of the input and output projections")',
           'Arg("bias", "bool", False, doc="biases of the input and output projections")', "attention"),
    Mutant("mha-need-weights-default", "default", A + "attention.py", 'Arg("need_weights", "bool", True,',
           'Arg("need_weights", "bool", False,', "attention"),
    Mutant("transformer-feedforward-default", "default", A + "attention.py",
           'Arg("dim_feedforward", "int", 2048,', 'Arg("dim_feedforward", "int", 1024,', "attention"),
    Mutant("maxpool-stride-default", "default", A + "pooling.py", "s = k if a.stride is None else a.stride",
           "s = (1,) * self.rank if a.stride is None else a.stride", "pool"),
    Mutant("embeddingbag-mode-default", "default", A + "embedding.py", 'Arg("mode", "str", "mean",',
           'Arg("mode", "str", "sum",', "embedding"),
    Mutant("flatten-start-default", "default", A + "structure.py", 'Arg("start_dim", "int", 1,',
           'Arg("start_dim", "int", 0,', "structure"),
    Mutant("gelu-approximate-default", "default", A + "activation.py", 'Arg("approximate", "str", "none",',
           'Arg("approximate", "str", "tanh",', "activation"),
    Mutant("concat-dim-default", "default", A + "structure.py", 'Arg("dim", "int", 0, doc="the dimension to join along")',
           'Arg("dim", "int", -1, doc="the dimension to join along")', "structure"),
    Mutant("gqa-bias-default", "default", A + "attention.py",
           'Arg("bias", "bool", False, doc="biases of the q, k, v and o projections")',
           'Arg("bias", "bool", True, doc="biases of the q, k, v and o projections")', "attention"),
    # argument expansion: how a written value becomes per-dimension values
    Mutant("ints-list-reversed", "expansion", A + "resolve.py",
           "return tuple(one(r, env, m, ctx, arg) for r, m in zip(raw, marks))",
           "return tuple(one(r, env, m, ctx, arg) for r, m in zip(raw, marks))[::-1]", "conv"),
    Mutant("int-repeated-once", "expansion", A + "resolve.py", "return (v,) * arg.n if arg.n is not None else v",
           "return (v,) + (1,) * (arg.n - 1) if arg.n is not None else v", "conv"),
    Mutant("per-dim-default-once", "expansion", A + "shapes.py",
           "return tuple(value) if isinstance(value, (tuple, list)) else (value,) * n",
           "return tuple(value) if isinstance(value, (tuple, list)) else (value,) + (0,) * (n - 1)", "pool"),
    Mutant("pad-pairs-first-dim-first", "expansion", A + "shapes.py",
           "return tuple((flat[2 * i], flat[2 * i + 1]) for i in reversed(range(n)))",
           "return tuple((flat[2 * i], flat[2 * i + 1]) for i in range(n))", "structure"),
    Mutant("adaptive-none-keeps-one", "expansion", A + "shapes.py",
           "return tuple(length if size is None else size for size, length in zip(output_size, spatial))",
           "return tuple(1 if size is None else size for size, length in zip(output_size, spatial))", "pool"),
    Mutant("mean-dims-last-only", "expansion", A + "structure.py", "dims = (a.dim,) if isinstance(a.dim, int) else a.dim",
           "dims = (a.dim,) if isinstance(a.dim, int) else a.dim[-1:]", "structure"),
    # validation: a refusal of torch's that the rules lose
    Mutant("reflect-pad-unchecked", "validation", A + "shapes.py",
           "if reflect and not (before < length and after < length):", "if False:", "reflect_bad"),
    Mutant("conv-groups-in-unchecked", "validation", A + "conv.py", "if value % groups:",
           "if value % groups and name == 'out_channels':", "conv_bad_groups"),
    Mutant("transposed-output-padding-unchecked", "validation", A + "conv.py", "if opi >= si and opi >= di:",
           "if opi > si and opi > di:", "conv_bad_output_padding"),
    Mutant("pool-padding-unchecked", "validation", A + "pooling.py", "if any(pi > ki // 2 for pi, ki in zip(p, k)):",
           "if any(pi > ki for pi, ki in zip(p, k)):", "pool_bad_padding"),
    Mutant("lstm-proj-size-unchecked", "validation", A + "recurrent.py",
           "if a.proj_size and a.proj_size >= a.hidden_size:", "if a.proj_size and a.proj_size > a.hidden_size:",
           "lstm_bad_proj"),
    # the cost table
    Mutant("cost-gelu", "cost", "costs.py", '"GELU": 5,', '"GELU": 4,', "activation"),
    Mutant("cost-softmax", "cost", "costs.py", '"Softmax": 5,', '"Softmax": 4,', "activation"),
    Mutant("cost-silu", "cost", "costs.py", '"SiLU": 5,', '"SiLU": 4,', "activation"),
    Mutant("cost-hardswish", "cost", "costs.py", '"Hardswish": 5,', '"Hardswish": 4,', "activation"),
    Mutant("cost-logsoftmax", "cost", "costs.py", '"LogSoftmax": 5,', '"LogSoftmax": 6,', "activation"),
    Mutant("cost-glu", "cost", "costs.py", '"GLU": 5,', '"GLU": 4,', "activation"),
    Mutant("cost-sigmoid", "cost", "costs.py", '"Sigmoid": 4,', '"Sigmoid": 3,', "recurrent"),
    Mutant("cost-norm-running", "cost", "costs.py", "NORM_RUNNING_STATS = 2", "NORM_RUNNING_STATS = 1", "norm"),
    Mutant("cost-norm-input", "cost", "costs.py", "NORM_INPUT_STATS = 5", "NORM_INPUT_STATS = 4", "norm"),
    Mutant("cost-affine", "cost", "costs.py", "AFFINE = 2", "AFFINE = 3", "norm"),
    Mutant("cost-rms", "cost", "costs.py", "RMS_NORM = 3", "RMS_NORM = 2", "norm"),
    Mutant("cost-lrn", "cost", "costs.py", "return size + 5", "return size + 4", "norm"),
    # formulas of shapes, parameters and counts
    Mutant("conv-length-off-by-one", "formula", A + "shapes.py",
           "return (length + left + right - dilation * (kernel - 1) - 1) // stride + 1",
           "return (length + left + right - dilation * (kernel - 1)) // stride + 1", "conv"),
    Mutant("transposed-length-no-output-padding", "formula", A + "shapes.py",
           "return (length - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1",
           "return (length - 1) * stride - 2 * padding + dilation * (kernel - 1) + 1", "conv"),
    Mutant("pool-ceil-last-window-kept", "formula", A + "shapes.py", "if (out - 1) * stride >= length + padding:",
           "if False:", "pool"),
    Mutant("conv-macs-ignore-groups", "formula", A + "conv.py",
           "macs = numel(lead + (cout,) + out) * (cin // a.groups) * prod(k)",
           "macs = numel(lead + (cout,) + out) * cin * prod(k)", "conv"),
    Mutant("linear-flops-no-bias", "formula", A + "linear.py",
           "flops=2 * macs + (numel(shape) if a.bias else 0))", "flops=2 * macs)", "linear"),
    Mutant("bilinear-macs", "formula", A + "linear.py", "macs = n * a.out_features * i1 * (i2 + 1)",
           "macs = n * a.out_features * i1 * i2", "linear"),
    Mutant("maxpool-flops", "formula", A + "pooling.py", "return Out(shape, extras=extras, flops=numel(shape) * prod(k))",
           "return Out(shape, extras=extras, flops=numel(shape) * (prod(k) - 1))", "pool"),
    Mutant("avgpool-flops-no-divide", "formula", A + "pooling.py", "flops=numel(shape) * (prod(k) + 1))",
           "flops=numel(shape) * prod(k))", "pool"),
    Mutant("adaptive-avg-flops", "formula", A + "pooling.py", "return Out(shape, flops=visited + numel(shape))",
           "return Out(shape, flops=visited)", "pool"),
    Mutant("batchnorm-no-batch-counter", "formula", A + "norm.py",
           'return {"running_mean": (c,), "running_var": (c,), "num_batches_tracked": ()}',
           'return {"running_mean": (c,), "running_var": (c,)}', "norm"),
    Mutant("lstm-bias-flops", "formula", A + "recurrent.py", "bias = 8 * hidden if a.bias else 0",
           "bias = 4 * hidden if a.bias else 0", "recurrent"),
    Mutant("gru-combine-flops", "formula", A + "recurrent.py", "combine, update = 4 * hidden, 3 * hidden",
           "combine, update = 3 * hidden, 3 * hidden", "recurrent"),
    Mutant("rnn-h-n-layers", "formula", A + "recurrent.py", "lead = (d * a.num_layers, n) if batched else",
           "lead = (a.num_layers, n) if batched else", "recurrent"),
    Mutant("attention-mask-free", "formula", A + "attention.py",
           'per_score = 1 + (1 if causal else 0) + costs.ELEMENTWISE["Softmax"]',
           'per_score = 1 + costs.ELEMENTWISE["Softmax"]', "attention"),
    Mutant("mha-average-weights-flops", "formula", A + "attention.py",
           "cost.flops += batch * queries * attended * (num_heads + 1)",
           "cost.flops += batch * queries * attended * num_heads", "attention"),
    Mutant("rotary-flops", "formula", A + "attention.py", "return Out(x.shape, flops=3 * numel(x.shape[:-1]) * rot)",
           "return Out(x.shape, flops=2 * numel(x.shape[:-1]) * rot)", "attention"),
    Mutant("mean-flops-no-divide", "formula", A + "structure.py", "return Out(shape, flops=x.numel + numel(shape))",
           "return Out(shape, flops=x.numel)", "structure"),
    Mutant("slice-length-closed-form", "formula", A + "shapes.py", "return len(range(length)[start:end:step])",
           "return max(0, ((length if end is None else end) - start) // step)", "structure"),
    Mutant("upsample-round", "formula", A + "shapes.py", "return floor(length * scale)", "return round(length * scale)",
           "structure"),
    Mutant("embedding-renorm-free", "formula", A + "embedding.py", "flops=_renorm_flops(a, x.numel))", "flops=0)",
           "embedding"),
    # comparator mutants: verify comparing the rules with themselves, caught by the tests
    Mutant("compare-macs-with-itself", "comparator", "verify.py", 'Check("macs", row.macs, run.macs)',
           'Check("macs", row.macs, row.macs)', "tests/test_verify_compare.py"),
    Mutant("compare-flops-with-itself", "comparator", "verify.py", 'Check("flops", row.flops, run.flops)',
           'Check("flops", row.flops, row.flops)', "tests/test_verify_compare.py"),
    Mutant("compare-params-with-itself", "comparator", "verify.py", 'Check("params", row.params, run.allocated_params)',
           'Check("params", row.params, row.params)', "tests/test_verify_compare.py"),
    Mutant("compare-buffers-with-itself", "comparator", "verify.py",
           'Check("buffers", row.buffers, run.allocated_buffers)', 'Check("buffers", row.buffers, row.buffers)',
           "tests/test_verify_compare.py"),
    Mutant("compare-shape-with-itself", "comparator", "verify.py",
           'Check("output_shape", list(row.output_shape), list(run.output.shape))',
           'Check("output_shape", list(row.output_shape), list(row.output_shape))', "tests/test_verify_compare.py"),
    Mutant("compare-param-shapes-with-itself", "comparator", "verify.py",
           'Check("param_shapes", _shapes(row.param_shapes), _shapes(run.params))',
           'Check("param_shapes", _shapes(row.param_shapes), _shapes(row.param_shapes))',
           "tests/test_verify_compare.py"),
    Mutant("compare-buffer-shapes-with-itself", "comparator", "verify.py",
           'Check("buffer_shapes", _shapes(row.buffer_shapes), _shapes(run.buffers))',
           'Check("buffer_shapes", _shapes(row.buffer_shapes), _shapes(row.buffer_shapes))',
           "tests/test_verify_compare.py"),
    Mutant("compare-extras-with-itself", "comparator", "verify.py",
           'Check("extra_outputs", {k: list(v) for k, v in row.extra_outputs.items()}, _shapes(run.extras))',
           'Check("extra_outputs", {k: list(v) for k, v in row.extra_outputs.items()}, '
           '{k: list(v) for k, v in row.extra_outputs.items()})', "tests/test_verify_compare.py"),
]

#: the fixed sample that the test suite runs (one or two per kind, the four named bugs among them)
SAMPLE = ("conv-bias-default", "instancenorm-affine-default", "batchnorm-running-stats-default", "ints-list-reversed",
          "reflect-pad-unchecked", "cost-softmax", "lstm-bias-flops", "compare-macs-with-itself")

CHILD = r"""
import json, sys
from pathlib import Path
from layercalc.errors import SpecError
from layercalc.verify import verify

def caught(source):
    try:
        result = verify(source)
    except SpecError as exc:
        return "spec error: " + exc.message
    if not result.ok:
        bad = result.mismatches[0]
        return f"{bad.name} ({bad.type}): {bad.first_mismatch()}"
    return None

target, specs = json.loads(sys.argv[1])
out = {"targeted": caught(target) if target else None, "specs": None}
for path in specs:
    why = caught(Path(path))
    if why:
        out["specs"] = f"{Path(path).name}: {why}"
        break
print(json.dumps(out))
"""


def spec_files() -> list[str]:
    return [str(p) for p in sorted((ROOT / "specs").rglob("*.yaml"))]


def mutated_copy(m: Mutant | None, into: Path) -> None:
    """Copy the package into ``into`` and apply ``m`` (None: the unmutated package)."""
    shutil.copytree(ROOT / "layercalc", into / "layercalc", ignore=shutil.ignore_patterns("__pycache__"))
    if m is None:
        return
    path = into / "layercalc" / m.file
    text = path.read_text()
    count = text.count(m.old)
    if count == 0 or (m.nth >= 0 and m.nth >= count):
        raise LookupError(f"mutant {m.id}: the text to change is no longer in layercalc/{m.file}: {m.old!r}")
    if m.nth < 0:
        text = text.replace(m.old, m.new)
    else:
        at = -1
        for _ in range(m.nth + 1):
            at = text.index(m.old, at + 1)
        text = text[:at] + m.new + text[at + len(m.old):]
    path.write_text(text)


def run_mutant(m: Mutant, with_specs: bool = True) -> dict:
    """Apply ``m`` to a temporary copy; return what verify (or, for comparator mutants, the tests) saw."""
    with tempfile.TemporaryDirectory(prefix="layercalc-mutant-") as tmp:
        tmp_path = Path(tmp)
        mutated_copy(m, tmp_path)
        env = {**os.environ, "PYTHONPATH": tmp, "PYTHONDONTWRITEBYTECODE": "1"}
        if m is not None and m.kind == "comparator":
            shutil.copytree(ROOT / "tests", tmp_path / "tests", ignore=shutil.ignore_patterns("__pycache__"))
            proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", m.target],
                                  cwd=tmp, env=env, capture_output=True, text=True, timeout=600)
            return {"id": m.id, "kind": m.kind, "tests": proc.returncode != 0,
                    "targeted": None, "specs": None}
        arg = json.dumps([TARGETS[m.target], spec_files() if with_specs else []])
        proc = subprocess.run([sys.executable, "-c", CHILD, arg], cwd=tmp, env=env, capture_output=True, text=True,
                              timeout=600)
        if proc.returncode != 0:
            return {"id": m.id, "kind": m.kind, "crash": proc.stderr[-2000:]}
        return {"id": m.id, "kind": m.kind, **json.loads(proc.stdout)}


def baseline_is_clean() -> list[str]:
    """The unmutated copy: every targeted spec and every spec under specs/ must agree (else the score means nothing)."""
    bad = []
    with tempfile.TemporaryDirectory(prefix="layercalc-baseline-") as tmp:
        mutated_copy(None, Path(tmp))
        env = {**os.environ, "PYTHONPATH": tmp, "PYTHONDONTWRITEBYTECODE": "1"}
        for name, text in TARGETS.items():
            if name.endswith("_bad") or "_bad_" in name:
                continue  # specs torch refuses: the unmutated rules refuse them too
            proc = subprocess.run([sys.executable, "-c", CHILD, json.dumps([text, []])], cwd=tmp, env=env,
                                  capture_output=True, text=True, timeout=600)
            if proc.returncode or json.loads(proc.stdout)["targeted"]:
                bad.append(f"{name}: {proc.stdout.strip() or proc.stderr[-500:]}")
        proc = subprocess.run([sys.executable, "-c", CHILD, json.dumps([None, spec_files()])], cwd=tmp, env=env,
                              capture_output=True, text=True, timeout=600)
        if proc.returncode or json.loads(proc.stdout)["specs"]:
            bad.append(f"specs/: {proc.stdout.strip() or proc.stderr[-500:]}")
    return bad


def score(results: list[dict]) -> str:
    """The table: per kind, mutants caught on targeted specs and with specs/ alone."""
    lines = ["| kind | mutants | caught, targeted spec | caught, `verify specs/` alone |", "|---|---:|---:|---:|"]
    rules = [r for r in results if r["kind"] != "comparator"]
    kinds = sorted({r["kind"] for r in rules}, key=["default", "expansion", "validation", "cost", "formula"].index)
    for kind in kinds + ["all rules mutants"]:
        rows = rules if kind == "all rules mutants" else [r for r in rules if r["kind"] == kind]
        t = sum(bool(r.get("targeted")) for r in rows)
        s = sum(bool(r.get("specs")) for r in rows)
        n = len(rows)
        lines.append(f"| {kind} | {n} | {t} ({100 * t / n:.0f}%) | {s} ({100 * s / n:.0f}%) |")
    comp = [r for r in results if r["kind"] == "comparator"]
    if comp:
        c = sum(bool(r.get("tests")) for r in comp)
        lines.append(f"| comparator (caught by the tests) | {len(comp)} | {c} ({100 * c / len(comp):.0f}%) | - |")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sample", action="store_true", help="only the fixed sample the test suite runs")
    ap.add_argument("-k", default="", help="only mutants whose id contains this")
    ap.add_argument("-j", type=int, default=2, help="mutants run at the same time (default 2)")
    ap.add_argument("--no-specs", action="store_true", help="targeted specs only (faster)")
    args = ap.parse_args(argv)
    chosen = [m for m in MUTANTS if (not args.sample or m.id in SAMPLE) and args.k in m.id]
    start = time.perf_counter()
    clean = baseline_is_clean()
    if clean:
        print("the unmutated package does not pass its own targeted specs:\n" + "\n".join(clean))
        return 1
    with ThreadPoolExecutor(max_workers=max(1, args.j)) as pool:
        results = list(pool.map(lambda m: run_mutant(m, not args.no_specs), chosen))
    for r in results:
        if "crash" in r:
            print(f"{r['id']}: the harness failed:\n{r['crash']}")
            continue
        if r["kind"] == "comparator":
            print(f"{'caught' if r['tests'] else 'MISSED':7} {r['id']:40} by the tests")
            continue
        mark = "caught" if r["targeted"] else "MISSED"
        print(f"{mark:7} {r['id']:40} targeted: {r['targeted'] or '-'}")
        print(f"{'':7} {'':40} specs/:   {r['specs'] or '-'}")
    print()
    print(score([r for r in results if "crash" not in r]))
    print(f"\n{len(results)} mutants in {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
