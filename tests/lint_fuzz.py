"""Seeded mutations of spec texts for the fuzz tests (and benchmarks/bench_lint.py).

Each mutation is a small, realistic way to break a spec: a deleted, repeated or
swapped line, a changed indentation, a truncated file, a number replaced by a
huge, negative or non-numeric value, a name replaced by another, and hostile
inserts (alias bombs, ``!!python`` tags, expression injection, ``9**9**9``,
self-referencing blocks, ``repeat: 10**12``).
"""

from __future__ import annotations

import random
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

VALUES = ["0", "-1", "-7", "1000000000000000000000000000000", "10**12", "10**18", "10**19", "9**9**9", "2**64",
          "1e308", "1e999", "-1e999", ".nan", ".inf", "-.inf", "null", "true", "false", "[]", "{}", "[1, [2, [3]]]",
          "\"__import__('os').system('echo pwned')\"", "\"().__class__.__bases__\"", "\"lambda: 1\"",
          "\"x\" ", "'" + "9" * 250 + "'", "\"min()\"", "\"ceil(1/0)\"", "\"1 // 0\"", "\"-(-(-(-(-(-(-(-1)))))))\"",
          "\"(((((((((((((((((((((((((((((((((((((((((((((((((((((1)))))))))))))))))))))))))))))))))))))))))))))))))))))\"",
          "\"max(*[1, 2])\"", "\"round(1, 2)\"", "\"a if b else c\"", "\"1 < 2\"", "3.5", "0.0001", "\"1e-5\"",
          "!!python/object/apply:os.system ['echo pwned']", "!!python/name:os.system", "!!binary aGk=",
          "!!int abc", "!!float ''", "!!bool maybe", "!!str [1]", "&a 3", "*a", "~", "'ReLU'", "'same'", "'valid'",
          "[B, -1]", "[0, 0]", "[1, 2, 3, 4, 5, 6, 7, 8]", "{shape: [1, 4], dtype: int64}", "\"\\u0000\"",
          "\"\\x1b[31m\"", "\"\\n\"", "\"😀\"", "64.5", "0x40", "0o17", "1_000", "+5", "\"B * T\"", "\"T\"", "\"w\""]

INSERTS = [
    "  - ReLU:\n    repeat: 10**12",
    "  - Linear: {out_features: 8}\n    repeat: 100001",
    "  - Linear: {out_features: \"__import__('os').system('echo pwned')\"}",
    "  - Linear: {out_features: 9**9**9}",
    "  - !!python/object/apply:os.system [\"echo pwned\"]",
    "  - Linear: &lol {out_features: 8}\n  - Linear: *lol",
    "  - Linear:\n      <<: {out_features: 8}",
    "  - Self",
    "  - Loop: {}\n    repeat: 3",
    "  - Add:\n    from: [nothing, x]",
    "  - ReLU:\n    from: x.h_n",
    "  - Linear: {out_features: 8}\n    tie: x",
    "  - Linear: {out_features: 8}\n    share: x",
    "  - Parameter: {shape: [10**9, 10**9]}",
    "  - Reshape: {shape: [-1, -1]}",
    "  - Concat: {dim: 99}\n    from: [x, x]",
    "  - Select: {dim: 0, index: -99}",
    "  - Slice: {dim: -1, start: 5, end: 2, step: 0}",
    "  - Mean: {dim: [0, 0, 0]}",
    "  - Expand: {shape: [-1, -1, -1, -1, -1, -1]}",
    "  - Upsample: {scale_factor: 1e308}",
    "  - Upsample: {scale_factor: .nan}",
    "  - Dropout: {p: .nan}",
    "  - LeakyReLU: {negative_slope: .inf}",
    "  - MultiheadAttention: {embed_dim: 0, num_heads: 0}",
    "  - LSTM: {hidden_size: 4, proj_size: 9}",
    "  - Unflatten: {dim: 1, unflattened_size: [-1, -1]}",
    "  - PixelShuffle: {upscale_factor: 0}",
    "  - AdaptiveAvgPool2d: {output_size: [null, 0]}",
    "  - MaxPool2d: {kernel_size: 1000000000000, stride: 1}",
    "  - Conv2d: {out_channels: 4, kernel_size: 3, stride: 2, padding: same}",
    "  - Embedding: {num_embeddings: 10**18, embedding_dim: 10**18}",
    "  - Transpose: {dim0: 10, dim1: -10}",
    "  - Permute: {dims: [0, 0]}",
]

BLOCK_BOMB = """
blocks:
  Self:
    layers:
      - Self
  Loop:
    params: {n: 1}
    layers:
      - Pool: {}
  Pool:
    layers:
      - Loop: {n: 2}
"""

HOSTILE = [
    # the billion laughs
    "a: &a ['lol','lol','lol','lol','lol','lol','lol','lol','lol']\n"
    + "".join(f"{c}: &{c} [{', '.join(['*' + p] * 9)}]\n" for p, c in zip("abcdefgh", "bcdefghi")),
    "layercalc: 1\ninputs: {x: [1, 4]}\nlayers:\n  - Linear: !!python/object/new:os.system [echo pwned]\n",
    "!!python/object/apply:os.system ['echo pwned']\n",
    "layercalc: 1\ninputs: {x: [1, 4]}\nlayers:\n  - Linear: {out_features: \"__import__('os').getcwd()\"}\n",
    "layercalc: 1\ninputs: {x: [1, 4]}\nlayers:\n  - Linear: {out_features: 9**9**9}\n",
    "layercalc: 1\ninputs: {x: [1, 4]}\nlayers:\n  - ReLU:\n    repeat: 10**12\n",
    "layercalc: 1\ninputs: {x: [1, 4]}" + BLOCK_BOMB + "layers:\n  - Self\n",
    "layercalc: 1\ninputs: {x: [1, 4]}" + BLOCK_BOMB + "layers:\n  - Loop\n",
    "[" * 10000 + "]" * 10000,
    "{a: " * 5000 + "1" + "}" * 5000,
    "- " * 3000 + "x",
    "layercalc: 1\ninputs: {x: [" + ", ".join(["10**18"] * 64) + "]}\nlayers:\n  - Linear: {out_features: 10**18}\n",
    "layercalc: 1\ninputs: {x: [1, 4]}\nlayers:\n" + "  - ReLU\n" * 20000,
    "layercalc: 1\ndims: {B: 10**18}\ninputs: {x: [B, B, B, B]}\nlayers:\n  - Conv2d: {out_channels: 10**18, kernel_size: 1}\n",
    "layercalc: 1\nvars: {a: 1, b: a * 2, c: b ** 64}\ninputs: {x: [1, c]}\nlayers:\n  - ReLU\n",
    "\ufeff\x00\x01layercalc: 1\n",
    "layercalc: 1\ninputs: {x: [1, 4]}\nlayers:\n  - \"\\u202eULeR\"\n",
    "",
    "---\n...\n---\n",
    "layercalc: 1\n---\nlayercalc: 1\n",
    "%YAML 1.2\n---\nlayercalc: 1\n",
    "%TAG ! tag:yaml.org,2002:python/object:\n---\nlayercalc: !apply:os.system ['x']\n",
    "? [1, 2]\n: 3\n",
    "layercalc: 1\ninputs: {? [x]: [1, 4]}\nlayers: [ReLU]\n",
    "layercalc: 1\ninputs: {1: [1, 4]}\nlayers: [ReLU]\n",
    "layercalc: 1\ninputs: {x: [1, 4]}\nlayers: [ReLU]\noutputs: [relu_1.h_n.c_n]\n",
    # hardening: complex results of expressions wherever a number is taken
    "layercalc: 1\ninputs: {x: [1, 4]}\nlayers:\n  - Linear: {out_features: '(-8) ** 0.5'}\n",
    "layercalc: 1\nvars: {a: '(-8) ** (1/3)'}\ninputs: {x: [1, 4]}\nlayers:\n  - Linear: {out_features: a}\n",
    "layercalc: 1\ndims: {B: '(-2) ** 0.5'}\ninputs: {x: [B, 4]}\nlayers: [ReLU]\n",
    "layercalc: 1\ninputs: {x: [1, 'ceil((-4) ** 0.5)']}\nlayers: [ReLU]\n",
    "layercalc: 1\ninputs: {x: [1, 4]}\nlayers:\n  - ReLU:\n    repeat: '(-2) ** 0.5'\n",
    # integers beyond 10**18 and beyond Python's int-to-string limit
    "layercalc: 1\ninputs: {x: [1, " + "9" * 5000 + "]}\nlayers: [ReLU]\n",
    "layercalc: 1\nvars: {w: 0x" + "f" * 3000 + "}\ninputs: {x: [1, 4]}\nlayers: [ReLU]\n",
    "layercalc: 1\ninputs: {x: [1, 4]}\nlayers:\n  - Linear: {out_features: 1000000000000000001}\n",
    "layercalc: " + "1" * 4400 + "\n",
    # not UTF-8 once written (a lone surrogate, written with surrogatepass)
    "layercalc: 1\ninputs: {x: [1, 4]}\nlayers: [ReLU]  # \udcff\n",
    # blocks nested far beyond the limit of 32, without recursion
    "layercalc: 1\ninputs: {x: [1, 4]}\nblocks:\n" + "".join(f"  B{i}:\n    layers:\n      - B{i + 1}\n" for i in range(300))
    + "  B300:\n    layers:\n      - ReLU\n" + "layers:\n  - B0\n",
    # ranks beyond 64, in an input and out of a layer; Mean over every dimension of a rank-64 tensor
    "layercalc: 1\ninputs: {x: [" + ", ".join(["1"] * 1000) + "]}\nlayers:\n  - ReLU:\n    repeat: 1000\n",
    "layercalc: 1\ninputs: {x: [1, 1]}\nlayers:\n  - Reshape: {shape: [" + ", ".join(["1"] * 65) + "]}\n",
    "layercalc: 1\ninputs: {x: [" + ", ".join(["2"] * 64) + "]}\nlayers:\n  - Mean: {keepdim: true}\n    repeat: 500\n",
    # many vars and a block used in a repeated block: scopes shared, not copied
    "layercalc: 1\nvars:\n" + "".join(f"  v{i}: {i}\n" for i in range(300)) + "inputs: {x: [1, 4]}\nblocks:\n"
    "  I:\n    params: {k: 1}\n    layers: [ReLU]\n  O:\n    layers:\n      - I: {k: v299}\nlayers:\n  - O:\n"
    "    repeat: 20\n",
    "layercalc: 1\nvars:\n" + "".join(f"  v{i}: 1\n" for i in range(10_001)) + "inputs: {x: [1, 4]}\nlayers: [ReLU]\n",
    # accept/refuse as torch
    "layercalc: 1\ninputs: {x: {shape: [1, 4], dtype: int8}}\nlayers:\n  - Embedding: {num_embeddings: 10, embedding_dim: 3}\n",
    "layercalc: 1\ninputs: {x: [1, 2, 9, 9]}\nlayers:\n  - Conv2d: {out_channels: 3, kernel_size: 3, stride: [2]}\n"
    "  - MaxPool2d: {kernel_size: [2], stride: []}\n  - ZeroPad2d: {padding: [1, 1]}\n",
    "layercalc: 1\ninputs: {x: [1, 3, 4]}\nlayers:\n  - LSTM: {hidden_size: 4, num_layers: 2, dropout: .nan}\n",
    # tie/share with an output name, trainable on a tie, a name with control characters
    "layercalc: 1\ninputs: {x: [1, 4]}\nlayers:\n  - Linear: {out_features: 4}\n    name: a\n"
    "  - Linear: {out_features: 4}\n    tie: a.bogus\n",
    "layercalc: 1\ninputs: {x: [1, 4]}\nlayers:\n  - Linear: {out_features: 4}\n    name: a\n"
    "  - Linear: {out_features: 4}\n    tie: a\n    trainable: false\n",
    "layercalc: 1\nname: \"evil\\n| a | b |\\x1b[31m\\u202e\"\ninputs: {x: [1, 4]}\nlayers: [ReLU]\n",
]


def seed_texts() -> list[tuple[str, str]]:
    """(name, text) of every bundled spec and lint case."""
    paths = sorted((ROOT / "specs").glob("*.yaml")) + sorted((ROOT / "tests" / "lint_cases").glob("*.yaml"))
    return [(p.name, p.read_text(encoding="utf-8")) for p in paths]


_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?![\w.])")
_WORD = re.compile(r"\b[A-Za-z_][A-Za-z0-9_]*\b")


def mutate(text: str, rng: random.Random) -> str:
    lines = text.split("\n")
    op = rng.randrange(11)
    i = rng.randrange(len(lines)) if lines else 0
    if op == 0 and lines:  # delete a line
        del lines[i]
    elif op == 1 and lines:  # repeat a line
        lines.insert(i, lines[i])
    elif op == 2 and len(lines) > 1:  # swap two lines
        j = rng.randrange(len(lines))
        lines[i], lines[j] = lines[j], lines[i]
    elif op == 3 and lines:  # change indentation
        lines[i] = rng.choice([" ", "  ", "\t", ""]) + (lines[i][rng.choice([0, 1, 2]):] if rng.random() < 0.5
                                                        else lines[i])
    elif op == 4:  # truncate
        return text[: rng.randrange(len(text) + 1)]
    elif op in (5, 6):  # a number becomes something else
        nums = list(_NUMBER.finditer(text))
        if nums:
            m = rng.choice(nums)
            return text[: m.start()] + rng.choice(VALUES) + text[m.end():]
    elif op == 7:  # a name becomes another name of the file
        words = list(_WORD.finditer(text))
        if words:
            m, other = rng.choice(words), rng.choice(words)
            return text[: m.start()] + other.group() + text[m.end():]
    elif op == 8:  # a hostile layer entry
        pos = next((k + 1 for k, line in enumerate(lines) if line.startswith("layers:")), len(lines))
        lines.insert(pos, rng.choice(INSERTS))
    elif op == 9:  # self-referencing and mutually recursive blocks
        text = text.replace("\nblocks:\n", "\n") if "\nblocks:\n" not in text else text
        lines = (text + BLOCK_BOMB).split("\n")
        pos = next((k + 1 for k, line in enumerate(lines) if line.startswith("layers:")), len(lines))
        lines.insert(pos, rng.choice(["  - Self", "  - Loop", "  - Pool"]))
    else:  # a random character somewhere
        k = rng.randrange(len(text) + 1)
        return text[:k] + rng.choice(["\x00", "\t", ":", "-", "&", "*", "!", "{", "[", "'", '"', "#", "|", ">", "%",
                                      "@", "`", "\u2028", "\ufeff", "é"]) + text[k:]
    return "\n".join(lines)


def mutations(n_per_seed: int, seed: int = 0):
    """Yield (label, text): every hostile case, then ``n_per_seed`` mutations (1 to 3 each) of every seed."""
    for k, text in enumerate(HOSTILE):
        yield f"hostile[{k}]", text
    for name, text in seed_texts():
        rng = random.Random(f"{seed}:{name}")
        for k in range(n_per_seed):
            mutated = text
            for _ in range(rng.randint(1, 3)):
                mutated = mutate(mutated, rng)
            yield f"{name}#{k}", mutated
