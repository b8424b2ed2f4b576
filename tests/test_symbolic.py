"""--symbolic: exact formulas in the dims, checked against the concrete reports.

The expressions are read from the json report and evaluated here with an
evaluator of this file (exact fractions, the grammar of the report: integers,
names, + - * / ** and floor/ceil), never with layercalc's own code.
"""

from __future__ import annotations

import ast
import json
import math
import random
import re
from fractions import Fraction
from pathlib import Path

import pytest
from typer.testing import CliRunner

import layercalc
from layercalc.cli import app
from layercalc.symbolic.analyze import analyze_symbolic
from layercalc.symbolic.render import to_dict

SPECS = Path(__file__).resolve().parent.parent / "specs"
SPEC_FILES = sorted(SPECS.glob("*.yaml"))
runner = CliRunner()


def ev(text: str, env: dict):
    """Evaluate an expression of the report's grammar with exact fractions."""

    def walk(n):
        if isinstance(n, ast.Constant) and type(n.value) is int:
            return Fraction(n.value)
        if isinstance(n, ast.Name):
            return Fraction(env[n.id])
        if isinstance(n, ast.UnaryOp) and isinstance(n.op, ast.USub):
            return -walk(n.operand)
        if isinstance(n, ast.BinOp):
            a, b = walk(n.left), walk(n.right)
            ops = {ast.Add: lambda: a + b, ast.Sub: lambda: a - b, ast.Mult: lambda: a * b,
                   ast.Div: lambda: a / b, ast.Pow: lambda: a ** int(b)}
            return ops[type(n.op)]()
        if isinstance(n, ast.Call) and n.func.id in ("floor", "ceil") and len(n.args) == 1:
            return Fraction(getattr(math, n.func.id)(walk(n.args[0])))
        raise AssertionError(f"outside the grammar: {ast.dump(n)}")

    return walk(ast.parse(text, mode="eval").body)


def holds(valid: str, env: dict) -> bool:
    """The domain is a conjunction of comparisons of the grammar's expressions."""
    if not valid:
        return True
    for part in valid.split(" and "):
        m = re.fullmatch(r"(.+?) (>=|<=|==|!=) (-?\d+)", part)
        left, op, right = m.group(1), m.group(2), int(m.group(3))
        if "%" in left:
            name, mod = left.split(" % ")
            value = env[name] % int(mod)
        else:
            value = ev(left, env)
        if not {">=": value >= right, "<=": value <= right, "==": value == right, "!=": value != right}[op]:
            return False
    return True


def value(fig, env):
    return fig if isinstance(fig, int) else ev(fig["expr"], env)


def symbolic_json(spec, symbols):
    return to_dict(analyze_symbolic(str(spec), symbols))


# --- symbolic is exact -----------------------------------------------------------------------------


@pytest.mark.parametrize("spec", SPEC_FILES, ids=lambda p: p.stem)
def test_expressions_equal_concrete_reports_at_random_points(spec):
    """Every spec with its batch and sequence dims (all its dims) symbolic: MACs, FLOPs, params and output
    sizes of every row and the totals, at 20 random points of the domain, equal the concrete report."""
    sym = symbolic_json(spec, ["all"])
    names = sym["symbolic"]["dims"]
    valid = sym["symbolic"]["valid"]
    assert names, "every spec has at least a batch dim"
    rng = random.Random(spec.stem)
    default = layercalc.analyze(str(spec)).dims
    points = []
    while len(points) < 20:
        point = {n: rng.randint(1, 3 * default[n] + 8) for n in names}
        if holds(valid, point):
            points.append(point)
    for point in points:
        concrete = layercalc.analyze(str(spec), dims=point)
        for srow, crow in zip(sym["layers"], concrete.layers):
            for key in ("params", "buffers", "macs", "flops"):
                assert value(srow[key], point) == getattr(crow, key), (srow["name"], key, point)
            assert [value(d, point) for d in srow["output_shape"]] == crow.output_shape, (srow["name"], point)
        for key in ("macs", "flops", "params"):
            assert value(sym["totals"][key], point) == concrete.totals[key], (key, point)


MEMORY_FIELDS = ("weight_bytes", "buffer_bytes", "gradient_bytes", "optimizer_bytes", "saved_activation_bytes",
                 "output_bytes", "inference_peak_bytes", "training_peak_bytes", "kv_cache_bytes")


@pytest.mark.parametrize("spec", SPEC_FILES, ids=lambda p: p.stem)
def test_memory_bytes_equal_concrete_memory_at_random_points(spec):
    """`memory --symbolic`: every byte count of every row and of the totals, at 20 random points of the
    domain (the peaks hold in the regime of the hint, which the domain states), equals `memory`."""
    result = runner.invoke(app, ["memory", str(spec), "--symbolic", "all", "--format", "json"])
    assert result.exit_code == 0, result.output
    sym = json.loads(result.stdout)
    names, valid = sym["symbolic"]["dims"], sym["symbolic"]["valid"]
    default = layercalc.analyze(str(spec)).dims
    rng = random.Random("memory" + spec.stem)
    points, tries = [], 0
    while len(points) < 20 and tries < 100_000:
        tries += 1
        point = {n: rng.randint(1, 2 * default[n] + 8) for n in names}
        if holds(valid, point):
            points.append(point)
    assert len(points) == 20, valid
    for point in points:
        concrete = layercalc.memory(str(spec), dims=point).to_dict()
        for srow, crow in zip(sym["layers"], concrete["layers"]):
            for key in MEMORY_FIELDS:
                assert value(srow[key], point) == crow[key], (srow["name"], key, point)
        for key in MEMORY_FIELDS:
            assert value(sym["totals"][key], point) == concrete["totals"][key], (key, point)


@pytest.mark.parametrize("name,options", [("char-lstm", ["--device", "cpu"]),
                                          ("char-lstm", ["--device", "cpu", "--precision", "amp-bf16"]),
                                          ("gru-encoder", ["--device", "cpu", "--precision", "amp-bf16"])])
def test_memory_bytes_on_the_cpu_equal_concrete_memory_at_random_points(name, options):
    """`memory --symbolic` with the CPU's recurrent kernels (oneDNN's workspace rounds to 4,096-byte pages,
    written as floors) equals `memory` at 8 random points of the domain."""
    spec = SPECS / f"{name}.yaml"
    result = runner.invoke(app, ["memory", str(spec), "--symbolic", "all", "--format", "json"] + options)
    assert result.exit_code == 0, result.output
    sym = json.loads(result.stdout)
    names, valid = sym["symbolic"]["dims"], sym["symbolic"]["valid"]
    default = layercalc.analyze(str(spec)).dims
    precision = options[-1] if "--precision" in options else "fp32"
    for point in random_points(names, valid, default, "cpu" + name + precision, n=8):
        concrete = layercalc.memory(str(spec), dims=point, device="cpu", precision=precision).to_dict()
        for srow, crow in zip(sym["layers"], concrete["layers"]):
            for key in MEMORY_FIELDS:
                assert value(srow[key], point) == crow[key], (srow["name"], key, point)
        for key in MEMORY_FIELDS:
            assert value(sym["totals"][key], point) == concrete["totals"][key], (key, point)


COST_FIELDS = ("forward_macs", "backward_macs", "recompute_macs", "training_macs", "forward_flops", "backward_flops",
               "recompute_flops", "training_flops")


def cost_json(spec, *args):
    """`cost --format json` with the roofline (bf16 on an H100) and totals over 3e11 tokens, or over
    1,000 steps for a spec without token ids."""
    for total in (["--tokens", "3e11"], ["--steps", "1000"]):
        result = runner.invoke(app, ["cost", str(spec), "--precision", "bf16", "--accelerator", "h100-sxm", *total,
                                     "--format", "json", *args])
        if result.exit_code == 0:
            return json.loads(result.stdout), total
    raise AssertionError(result.output)


def random_points(names, valid, default, seed, n=20):
    rng = random.Random(seed)
    points, tries = [], 0
    while len(points) < n and tries < 100_000:
        tries += 1
        point = {k: rng.randint(1, 2 * default[k] + 8) for k in names}
        if holds(valid, point):
            points.append(point)
    assert len(points) == n, valid
    return points


@pytest.mark.parametrize("spec,extra", [(p, ()) for p in SPEC_FILES]
                         + [(SPECS / "gpt2-small.yaml", ("--checkpoint", "all", "--attention", "flash"))],
                         ids=[p.stem for p in SPEC_FILES] + ["gpt2-small-checkpoint-flash"])
def test_cost_figures_equal_concrete_cost_at_random_points(spec, extra):
    """`cost --symbolic`: forward, backward, recompute and training MACs and FLOPs of every row and of the
    totals, the bytes each layer moves (roofline), the decoder's prefill and per-token cost and the
    training total over the tokens (or steps), at 20 random points of the domain, equal `cost`."""
    sym, total = cost_json(spec, "--symbolic", "all", *extra)
    names, valid = sym["symbolic"]["dims"], sym["symbolic"]["valid"]
    not_symbolic = sym["symbolic"]["not_symbolic"]
    assert {"intensity", "bound", "latency_floor_s", "training_seconds"} <= set(not_symbolic)
    default = layercalc.analyze(str(spec)).dims
    for point in random_points(names, valid, default, "cost" + spec.stem + "".join(extra)):
        concrete, _ = cost_json(spec, *extra, *[f"--dim={k}={v}" for k, v in point.items()])
        for srow, crow in zip(sym["layers"], concrete["layers"]):
            for key in COST_FIELDS + ("bytes_moved",):
                assert value(srow[key], point) == crow[key], (srow["name"], key, point)
            assert "intensity" not in srow and "bound" not in srow
        for key in COST_FIELDS:
            assert value(sym["totals"][key], point) == concrete["totals"][key], (key, point)
        s, c = sym["cost"], concrete["cost"]
        for key in ("context", "prefill_macs", "prefill_flops", "per_token_macs", "per_token_flops", "tokens_per_step"):
            assert (key in s) == (key in c), key
            if key in s:
                assert value(s[key], point) == c[key], (key, point)
        # the total over tokens: exact, the concrete report's training FLOPs per token times the tokens
        # (its own total is a float of the same quantity)
        if total[0] == "--tokens":
            exact = Fraction(concrete["totals"]["training_flops"], c["tokens_per_step"]) * 300_000_000_000
        else:
            exact = Fraction(concrete["totals"]["training_flops"]) * 1000
        if "training_flops_total" in not_symbolic:  # BERT's pooler: B·d² per step is not per token of B·T
            assert "training_flops_total" not in s and total[0] == "--tokens"
            continue
        assert value(s["training_flops_total"], point) == exact, point
        assert abs(float(exact) - c["training_flops_total"]) <= 1e-9 * float(exact)


def test_cost_gpt2_small_training_is_three_forwards():
    """GPT-2 small: every product has an input gradient (the embeddings before the first block are
    trainable, so its input requires grad) and a weight gradient: backward = 2 x forward MACs, training
    = 3 x; per token of B·T: forward 18,432·T + 123,532,032 MACs (test_gpt2_small_forward_macs_is_the_hand_count)."""
    d, _ = cost_json(SPECS / "gpt2-small.yaml", "--symbolic", "B,T")
    t = d["totals"]
    assert poly_terms(t["backward_macs"]) == {(1, 2): 2 * 18_432, (1, 1): 2 * 123_532_032}   # 36,864 and 247,064,064
    assert poly_terms(t["training_macs"]) == {(1, 2): 3 * 18_432, (1, 1): 3 * 123_532_032}   # 55,296 and 370,596,096
    # per generated token at context T: the forward / T, for the B sequences
    assert poly_terms(d["cost"]["per_token_macs"]) == {(1, 1): 18_432, (1, 0): 123_532_032}
    # training FLOPs per token: (37,872·T + 247,632,384) x 3 = 113,616·T + 742,897,152 (docs/formulas.md)
    assert poly_terms(d["cost"]["training_flops_per_token"]) == {(1,): 113_616, (0,): 742_897_152}
    # an element-wise layer moves its input and output: ln_f at bf16, 2 x 768 x 2 bytes per token
    ln_f = next(r for r in d["layers"] if r["name"] == "ln_f")
    assert ln_f["bytes_moved"]["expr"] == "3072*B*T + 3072"  # and its weight and bias, 2 x 768 x 2 bytes


def test_cost_symbolic_formats_and_usage():
    gpt2 = str(SPECS / "gpt2-small.yaml")
    out = {}
    for fmt in ("table", "markdown", "csv", "latex"):
        result = runner.invoke(app, ["cost", gpt2, "--symbolic", "B,T", "--accelerator", "h100-sxm", "-f", fmt])
        assert result.exit_code == 0, result.output
        out[fmt] = result.output
    assert "training B·T·(113,616·T + 742,897,152)" in out["table"] and "Not formulas" in out["table"]
    assert "| **B·T·(55,296·T + 370,596,096)** |" in out["markdown"]
    assert out["csv"].splitlines()[0].endswith(",bytes_moved")
    assert "55296*B*T**2 + 370596096*B*T" in out["csv"]
    assert r"55296 B T^{2} + 370596096 B T" in out["latex"] and r"\begin{tabular}" in out["latex"]
    for args in (["--symbolic", "X"], ["--symbolic", "B", "--tokens", "1.5"], ["--symbolic", "B", "--dim", "B=2"]):
        result = runner.invoke(app, ["cost", gpt2, *args])
        assert result.exit_code == 2 and "Traceback" not in result.output, (args, result.output)
    # a concrete cost has no latex
    assert runner.invoke(app, ["cost", gpt2, "-f", "latex"]).exit_code == 2


def test_json_shape_and_grammar():
    sym = json.loads(runner.invoke(app, ["flops", str(SPECS / "gpt2-small.yaml"), "--symbolic", "B,T",
                                         "--format", "json"]).stdout)
    macs = sym["totals"]["macs"]
    assert set(macs) >= {"expr", "valid"} and macs["valid"] == sym["symbolic"]["valid"]
    allowed = (ast.Expression, ast.BinOp, ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow, ast.Constant, ast.Name,
               ast.Load, ast.UnaryOp, ast.USub, ast.Call)
    assert all(isinstance(n, allowed) for n in ast.walk(ast.parse(macs["expr"], mode="eval")))
    # the terms: coefficient and exponents of (B, T); 18,432*B*T**2 + 123,532,032*B*T (derived below)
    assert macs["vars"] == ["B", "T"]
    assert sorted(map(tuple, (([c] + e) for c, e in macs["terms"]))) == [(18432, 1, 2), (123532032, 1, 1)]
    assert sym["layers"][0]["output_shape"][0]["expr"] == "B"
    assert sym["totals"]["params"] == 124_439_808  # a parameter count never depends on B or T


# --- published forms ------------------------------------------------------------------------------


def poly_terms(fig) -> dict:
    """{(exponents...): coefficient} of a json figure."""
    return {tuple(e): Fraction(c) for c, e in fig["terms"]}


def test_gpt2_small_forward_macs_is_the_hand_count():
    """Per layer 12·B·T·d² (q, k, v, out projections 4d² and the MLP 8d² per token) and 2·B·T²·d
    (Q·Kᵀ and attention·V), plus the head B·T·d·V; norms, GELU and adds have no MACs."""
    d, layers, vocab = 768, 12, 50257
    macs = symbolic_json(SPECS / "gpt2-small.yaml", ["B", "T"])["totals"]["macs"]
    assert macs["vars"] == ["B", "T"]
    assert poly_terms(macs) == {
        (1, 2): layers * 2 * d,                       # 12 * 2 * 768 = 18,432
        (1, 1): layers * 12 * d * d + d * vocab,      # 12 * 12 * 589,824 + 38,597,376 = 123,532,032
    }


def test_bert_base_is_linear_in_b_and_quadratic_in_t():
    """BERT-base: per layer 12·B·T·d² + 2·B·T²·d, and the pooler's d² on the [CLS] token (B·d²)."""
    d, layers = 768, 12
    macs = symbolic_json(SPECS / "bert-base.yaml", ["B", "T"])["totals"]["macs"]
    terms = poly_terms(macs)
    assert {e[0] for e in terms} == {1} and max(e[1] for e in terms) == 2
    assert terms == {(1, 2): layers * 2 * d,          # 18,432
                     (1, 1): layers * 12 * d * d,     # 84,934,656
                     (1, 0): d * d}                   # pooler 589,824


def test_kaplan_forward_compute_per_token():
    """Kaplan et al. 2020, table 1: C_forward = 2N + 2·n_layer·n_ctx·d_attn per token, N the
    non-embedding parameters without biases and norms (12·n_layer·d²). layercalc's forward FLOPs
    per token (total / (B·T), n_ctx = T) are that plus the terms Kaplan drops, named here."""
    d, layers, vocab, heads = 768, 12, 50257, 12
    flops = symbolic_json(SPECS / "gpt2-small.yaml", ["B", "T"])["totals"]["flops"]
    per_token = poly_terms(flops)  # {(1, 2): coefficient of T per token, (1, 1): constant per token}
    n = 12 * layers * d * d                                   # 84,934,656
    kaplan_t, kaplan_1 = 2 * layers * d, 2 * n                # 18,432 and 169,869,312
    dropped_t = {
        "attention-weighted values (the second n_ctx product)": 2 * layers * d,           # 18,432
        "scale, causal mask and softmax (1 + 1 + 5 per score per head)": 7 * layers * heads,  # 1,008
    }
    dropped_1 = {
        "de-embedding head (Kaplan counts non-embedding compute)": 2 * d * vocab,         # 77,194,752
        "biases (q, k, v, out: 4d; MLP: 4d + d)": layers * 9 * d,                         # 82,944
        "LayerNorms (25, 7 FLOPs per element)": 25 * 7 * d,                                # 134,400
        "GELU tanh (9 FLOPs per element of 4d)": layers * 9 * 4 * d,                      # 331,776
        "residual adds and the position add": (2 * layers + 1) * d,                      # 19,200
    }
    assert per_token[(1, 2)] == kaplan_t + sum(dropped_t.values())    # 37,872
    assert per_token[(1, 1)] == kaplan_1 + sum(dropped_1.values())    # 247,632,384


def test_resnet50_symbolic_h_w_congruence_form(tmp_path):
    text = (SPECS / "resnet50.yaml").read_text()
    text = text.replace("dims: {B: 1}", "dims: {B: 1, H: 224, W: 224}").replace("[B, 3, 224, 224]", "[B, 3, H, W]")
    spec = tmp_path / "resnet50-hw.yaml"
    spec.write_text(text)
    sym = symbolic_json(spec, ["H", "W"])
    valid = sym["symbolic"]["valid"]
    assert "H % 32 == 0" in valid and "W % 32 == 0" in valid  # five stride-2 halvings: exact on multiples of 32
    assert not sym["symbolic"]["floors"]
    for size in (224, 256, 288, 320):
        env = {"H": size, "W": size}
        assert holds(valid, env)
        concrete = layercalc.analyze(str(spec), dims=env)
        for key in ("macs", "flops"):
            assert value(sym["totals"][key], env) == concrete.totals[key]
        for srow, crow in zip(sym["layers"], concrete.layers):
            assert [value(x, env) for x in srow["output_shape"]] == crow.output_shape
    # the stem: 7x7 conv, stride 2: [B, 64, H/2, W/2], MACs 64*3*7*7 * (H/2)*(W/2) = 2,352*H*W at B=1
    stem = sym["layers"][0]
    assert stem["output_shape"][2]["expr"] == "H/2" and stem["macs"]["expr"] == "2352*H*W"


# --- errors ----------------------------------------------------------------------------------------


def test_unknown_dim_is_a_usage_error():
    result = runner.invoke(app, ["summary", str(SPECS / "gpt2-small.yaml"), "--symbolic", "B,X"])
    assert result.exit_code == 2 and "the spec has no dim 'X'" in result.output
    assert "Traceback" not in result.output


def test_a_dim_that_reaches_a_parameter_is_located(tmp_path):
    spec = tmp_path / "p.yaml"
    spec.write_text("layercalc: 1\ndims: {B: 2, T: 16}\ninputs:\n  x: [B, T]\nlayers:\n"
                    "  - Linear: {out_features: 10}\n    name: fc\n")
    result = runner.invoke(app, ["summary", str(spec), "--symbolic", "T"])
    assert result.exit_code == 1
    assert f"{spec}:6:5: Linear 'fc': the parameter 'weight' has shape [10, T]" in result.output
    assert "[G102]" in result.output
    assert runner.invoke(app, ["summary", str(spec), "--symbolic", "B"]).exit_code == 0


@pytest.mark.parametrize("layer,why", [
    ("Upsample: {scale_factor: 1.5}", "multiplies a symbolic size (H) by 1.5"),
    ("Slice: {dim: 2, start: 1, end: -1}", "no symbolic form for its output size 2"),  # len(range(H)[1:-1])
])
def test_a_rule_without_symbolic_form_is_located(tmp_path, layer, why):
    spec = tmp_path / "u.yaml"
    spec.write_text(f"layercalc: 1\ndims: {{B: 2, H: 16}}\ninputs:\n  x: [B, 3, H, H]\nlayers:\n  - {layer}\n"
                    "    name: op\n")
    result = runner.invoke(app, ["flops", str(spec), "--symbolic", "H"])
    assert result.exit_code == 1, result.output
    assert f"{spec}:6:5: " in result.output and why in result.output and "[G101]" in result.output


def test_formats_render():
    for fmt in ("table", "markdown", "csv", "latex"):
        result = runner.invoke(app, ["summary", str(SPECS / "gpt2-small.yaml"), "--symbolic", "B,T", "-f", fmt])
        assert result.exit_code == 0, result.output
    table = runner.invoke(app, ["flops", str(SPECS / "gpt2-small.yaml"), "--symbolic", "B,T"]).output
    assert "B·T·(18,432·T + 123,532,032)" in table and "valid for: every size >= 1" in table
    latex = runner.invoke(app, ["flops", str(SPECS / "gpt2-small.yaml"), "--symbolic", "B,T", "-f", "latex"]).output
    assert r"18432 B T^{2} + 123532032 B T" in latex and r"\begin{tabular}" in latex


def test_the_readme_samples_are_current(monkeypatch):
    monkeypatch.chdir(SPECS.parent)
    readme = (SPECS.parent / "README.md").read_text(encoding="utf-8")
    sample = readme[readme.index("$ layercalc flops specs/gpt2-small.yaml --symbolic B,T\n...\n"):]
    lines = sample[sample.index("...\n") + 4:sample.index("```")].splitlines()
    out = runner.invoke(app, ["flops", str(SPECS / "gpt2-small.yaml"), "--symbolic", "B,T"]).output
    assert all(line in out.splitlines() for line in lines), lines
    sample = readme[readme.index("$ layercalc explain specs/resnet18.yaml fc\n"):]
    expected = sample[sample.index("\n") + 1:sample.index("```")]
    out = runner.invoke(app, ["explain", "specs/resnet18.yaml", "fc"], catch_exceptions=False)
    assert out.output == expected


def test_a_repeat_that_follows_a_symbolic_dim_is_refused(tmp_path):
    spec = tmp_path / "r.yaml"
    spec.write_text("layercalc: 1\ndims: {B: 2, L: 3}\ninputs:\n  x: [B, 8]\nblocks:\n  Blk:\n    layers:\n"
                    "      - Linear: {out_features: 8}\nlayers:\n  - Blk:\n    repeat: L\n")
    result = runner.invoke(app, ["summary", str(spec), "--symbolic", "L"])
    assert result.exit_code == 1 and "[G101]" in result.output
    assert "the spec has 3 layers at L=3 and 4 at L=4" in result.output  # caught at the second point
    assert runner.invoke(app, ["summary", str(spec), "--symbolic", "B"]).exit_code == 0


def test_usage_errors():
    gpt2 = str(SPECS / "gpt2-small.yaml")
    for args in (["--symbolic", "B", "--dim", "B=4"], ["--symbolic", "B", "--depth", "x"], ["--symbolic", ""]):
        result = runner.invoke(app, ["summary", gpt2, *args])
        assert result.exit_code == 2, (args, result.output)
        assert "Traceback" not in result.output
    result = runner.invoke(app, ["memory", gpt2, "--symbolic", "B", "--memory", "80GB"])
    assert result.exit_code == 2 and "does not combine" in result.output
    assert runner.invoke(app, ["summary", gpt2, "--symbolic", "all", "-f", "json"]).exit_code == 0


# --- depth: the block tree sums formulas --------------------------------------------------------------


def canon(fig) -> dict:
    """A json figure as a polynomial {((var, exponent), ...): coefficient}, whatever its vars' order."""
    if isinstance(fig, int):
        return {(): Fraction(fig)} if fig else {}
    out = {}
    for c, exps in fig["terms"]:
        out[tuple((v, e) for v, e in zip(fig["vars"], exps) if e)] = Fraction(c)
    return out


def poly_sum(polys) -> dict:
    out: dict = {}
    for p in polys:
        for m, c in p.items():
            out[m] = out.get(m, 0) + c
    return {m: c for m, c in out.items() if c}


def frontier_of(nodes, depth, level=1):
    """The rows a table shows at ``depth`` that are not expanded (json tree nodes)."""
    out = []
    for n in nodes:
        if depth is not None and level > depth:
            continue
        if n.get("children") and (depth is None or level < depth):
            out += frontier_of(n["children"], depth, level + 1)
        else:
            out.append(n)
    return out


def leaves_of(node):
    if node.get("kind") == "layer":
        return [node["name"]]
    return [name for c in node["children"] for name in leaves_of(c)]


GROUPED = [p for p in SPEC_FILES if "blocks:" in p.read_text()]


@pytest.mark.parametrize("command", ["summary", "cost"])
@pytest.mark.parametrize("spec", GROUPED, ids=lambda p: p.stem)
def test_folded_formulas_are_the_sums_of_the_unfolded_rows(spec, command):
    """--symbolic with --depth: each block row's formula is the sum, as a polynomial, of its layers'
    formulas (the report's figures, and cost's), and at every depth the rows shown add up to the totals."""
    result = runner.invoke(app, [command, str(spec), "--symbolic", "all", "--format", "json"])
    assert result.exit_code == 0, result.output
    d = json.loads(result.stdout)
    rows = {r["name"]: r for r in d["layers"]}
    tree = d["tree"]
    keys = ("params", "trainable_params", "buffers", "macs", "flops") + (COST_FIELDS if command == "cost" else ())
    symbolic_groups = 0
    for top in tree:
        stack = [top]
        while stack:
            node = stack.pop()
            if node["kind"] == "layer":
                continue
            stack += node["children"]
            for key in keys:
                assert canon(node[key]) == poly_sum(canon(rows[n][key]) for n in leaves_of(node)), (node["name"], key)
            symbolic_groups += isinstance(node["flops"], dict)
    assert symbolic_groups > 0  # the check compared formulas, not only numbers
    depth = 1
    while True:
        shown = frontier_of(tree, depth)
        for key in ("macs", "flops", "params") + (COST_FIELDS if command == "cost" else ()):
            expected = canon(d["totals"][key])
            assert poly_sum(canon(n[key]) if n["kind"] != "layer" else canon(rows[n["name"]][key])
                            for n in shown) == expected, (depth, key)
        if all(n["kind"] == "layer" for n in shown):
            break
        depth += 1


def test_depth_table_of_formulas():
    """GPT-2 small at depth 1: the 12 blocks in one row, 12 x (1,536·T + 7,077,888) MACs per token of
    B·T (2·d·T for the two attention products, 12·d² = 7,077,888 for the projections and the MLP)."""
    gpt2 = str(SPECS / "gpt2-small.yaml")
    out = runner.invoke(app, ["flops", gpt2, "--symbolic", "B,T", "--depth", "1"]).output
    assert "B·T·(18,432·T + 84,934,656)" in out and "Block x12" in out and "h.0" not in out
    assert "Depth 1 of 3" in out
    out = runner.invoke(app, ["flops", gpt2, "--symbolic", "B,T", "--depth", "2", "-f", "csv"]).output.splitlines()
    assert out[0] == "name,type,layers,macs,flops,level"
    assert "h.3,Block,8,1536*B*T**2 + 7077888*B*T,3156*B*T**2 + 14202624*B*T,2" in out
    out = runner.invoke(app, ["flops", gpt2, "--symbolic", "B,T", "--depth", "0"]).output
    assert "Block" not in out and "MACs: B·T·(18,432·T + 123,532,032)" in out
    for fmt in ("markdown", "latex"):
        assert runner.invoke(app, ["summary", gpt2, "--symbolic", "B,T", "--depth", "1", "-f", fmt]).exit_code == 0


# --- sizes of 1 ---------------------------------------------------------------------------------


def test_a_dim_of_1_is_in_the_domain_and_holds_there():
    """GPT-2 small says B: 1, and B is traced at 2; broadcasting wte + wpe ([B, T, 768] + [1, T, 768])
    puts no condition on B or T, so the domain admits 1, and the formulas equal the concrete report at
    B = 1 (and at T = 1, a single token)."""
    spec = SPECS / "gpt2-small.yaml"
    sym = symbolic_json(spec, ["B", "T"])
    assert sym["symbolic"]["valid"] == "" and sym["symbolic"]["notes"] == []
    for point in ({"B": 1, "T": 1024}, {"B": 1, "T": 1}, {"B": 5, "T": 1}, {"B": 1, "T": 77}):
        concrete = layercalc.analyze(str(spec), dims=point)
        for srow, crow in zip(sym["layers"], concrete.layers):
            assert [value(d, point) for d in srow["output_shape"]] == crow.output_shape, (srow["name"], point)
            assert value(srow["flops"], point) == crow.flops, (srow["name"], point)
        assert value(sym["totals"]["macs"], point) == concrete.totals["macs"]


def test_a_rule_that_needs_more_than_one_value_states_it(tmp_path):
    """BatchNorm1d without running statistics on [B, 16] compares B with 1 (torch refuses one value per
    channel): the comparison is recorded, the domain is B >= 2, and a spec that says B: 1 is told so."""
    spec = tmp_path / "bn.yaml"
    spec.write_text("layercalc: 1\ndims: {B: 1}\ninputs:\n  x: [B, 16]\nlayers:\n  - Linear: {out_features: 16}\n"
                    "  - BatchNorm1d: {track_running_stats: false}\n")
    result = runner.invoke(app, ["summary", str(spec), "--symbolic", "B", "-f", "json"])
    assert result.exit_code == 0, result.output
    sym = json.loads(result.stdout)["symbolic"]
    assert sym["valid"] == "B >= 2"
    assert sym["notes"] == ["B is 1 in the spec, outside the domain (B >= 2); for B = 1, run without --symbolic"]


def test_arithmetic_unseen_by_the_trace_is_caught_at_1(tmp_path, monkeypatch):
    """A rule that looks at the plain value 1 (here Flatten, made to drop a leading size of 1 through
    int(), which the trace cannot see) would make the formulas traced at B = 2 silently wrong at B = 1:
    the check at 1 finds the layer, narrows the domain to B >= 2 and says where and why."""
    from layercalc.layers.registry import REGISTRY
    from layercalc.layers.base import Out

    flatten = REGISTRY["Flatten"]
    original = type(flatten).forward

    def squeezing(self, a, xs):
        out = original(self, a, xs)
        if int(out.shape[0]) == 1:  # the plain int: no guard recorded
            return Out(tuple(out.shape[1:]))
        return out

    monkeypatch.setattr(type(flatten), "forward", squeezing)
    spec = tmp_path / "flat.yaml"
    spec.write_text("layercalc: 1\ndims: {B: 1}\ninputs:\n  x: [B, 4, 3]\nlayers:\n  - Flatten: {}\n"
                    "    name: flat\n  - Linear: {out_features: 5}\n    name: fc\n")
    result = runner.invoke(app, ["summary", str(spec), "--symbolic", "B", "-f", "json"])
    assert result.exit_code == 0, result.output
    sym = json.loads(result.stdout)
    assert sym["symbolic"]["valid"] == "B >= 2"
    note = sym["symbolic"]["notes"][0]
    # at B = 1 the flattened output is [12], where the formula [B, 12] has two sizes
    assert note.startswith(f"at B = 1 (a size of 1 broadcasts or squeezes), {spec}:6: Flatten 'flat': ")
    assert note.endswith("the formulas hold for B >= 2")
    # the same spec with the rule as it is: nothing to narrow
    monkeypatch.setattr(type(flatten), "forward", original)
    sym = json.loads(runner.invoke(app, ["summary", str(spec), "--symbolic", "B", "-f", "json"]).stdout)
    assert sym["symbolic"]["valid"] == "" and sym["symbolic"]["notes"] == []


def test_summary_latex_indents_block_rows():
    """resnet18 at depth 2: layer1 (BasicBlock x2, 2 x 7 layers) at the top, its instances one \\quad in."""
    out = runner.invoke(app, ["summary", str(SPECS / "resnet18.yaml"), "--symbolic", "B", "--depth", "2",
                              "-f", "latex"]).output
    assert "\nlayer1 & BasicBlock x2 & $14$ & " in out and "\n\\quad layer1.1 & BasicBlock & $7$ & " in out
    assert "textbackslash" not in out
