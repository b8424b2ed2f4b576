"""Write a generated spec of N layers (a plain chain, every layer written out) to stdout or a file.

    python benchmarks/gen_chain.py 20000 > /tmp/chain20k.yaml
"""

from __future__ import annotations

import sys

PATTERN = (
    "  - Linear: {{out_features: {w}}}\n"
    "    name: fc{i}\n"
    "  - LayerNorm: {{normalized_shape: {w}}}\n"
    "  - GELU\n"
    "  - Dropout: {{p: 0.1}}\n"
)


def chain(n_layers: int, width: int = 64) -> str:
    head = f"layercalc: 1\nname: chain{n_layers}\ndims: {{B: 8}}\ninputs:\n  x: [B, {width}]\nlayers:\n"
    body = []
    per = 4
    for i in range(n_layers // per):
        body.append(PATTERN.format(w=width, i=i))
    for _ in range(n_layers % per):
        body.append("  - Identity\n")
    return head + "".join(body)


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
    text = chain(n)
    if len(sys.argv) > 2:
        with open(sys.argv[2], "w") as fh:
            fh.write(text)
    else:
        sys.stdout.write(text)
