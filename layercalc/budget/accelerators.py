"""Accelerators: memory, bandwidth and dense peak throughput from the vendors' datasheets.

Figures are dense (no structured sparsity), per device, as printed in the datasheet cited on each
row; "80 GB" is taken as 80 * 10^9 bytes, "3.35 TB/s" as 3.35 * 10^12 bytes per second. A user file
(``--accelerators FILE``, YAML or JSON: a mapping of name to ``memory``, ``bandwidth``, ``bf16``,
``fp16``, ``fp32`` and optional ``source``) adds rows or replaces bundled ones.
"""

from __future__ import annotations

from typing import NamedTuple


class Accelerator(NamedTuple):
    memory: int  # bytes
    bandwidth: float  # bytes per second
    peak: dict  # FLOP/s, dense, by compute dtype: "bf16", "fp16", "fp32"
    source: str


T = 10**12
G = 10**9

ACCELERATORS: dict[str, Accelerator] = {
    "h100-sxm": Accelerator(80 * G, 3.35 * T, {"bf16": 989.4 * T, "fp16": 989.4 * T, "fp32": 66.9 * T},
                            "NVIDIA H100 Tensor Core GPU datasheet (H100 SXM: 80GB HBM3, 3.35TB/s, BF16/FP16 "
                            "1,979 TFLOPS with sparsity, FP32 67 TFLOPS); the dense 989.4 and FP32 66.9 as "
                            "the NVIDIA H100 architecture whitepaper gives them unrounded"),
    "h200": Accelerator(141 * G, 4.8 * T, {"bf16": 989.4 * T, "fp16": 989.4 * T, "fp32": 66.9 * T},
                        "NVIDIA H200 Tensor Core GPU datasheet (H200 SXM: 141GB HBM3e, 4.8TB/s, BF16/FP16 "
                        "1,979 TFLOPS with sparsity, FP32 67 TFLOPS); the same compute as the H100 SXM, "
                        "so its unrounded dense figures"),
    "a100-80gb-sxm": Accelerator(80 * G, 2.039 * T, {"bf16": 312 * T, "fp16": 312 * T, "fp32": 19.5 * T},
                                 "NVIDIA A100 Tensor Core GPU datasheet (A100 80GB SXM: HBM2e, 2,039GB/s, BF16/FP16 "
                                 "312 TFLOPS, FP32 19.5 TFLOPS)"),
    "l4": Accelerator(24 * G, 300 * G, {"bf16": 121 * T, "fp16": 121 * T, "fp32": 30.3 * T},
                      "NVIDIA L4 Tensor Core GPU datasheet (24GB GDDR6, 300GB/s, BF16/FP16 242 TFLOPS with "
                      "sparsity, half of it dense: 121; FP32 30.3 TFLOPS)"),
    "mi300x": Accelerator(192 * G, 5.3 * T, {"bf16": 1307.4 * T, "fp16": 1307.4 * T, "fp32": 163.4 * T},
                          "AMD Instinct MI300X accelerator datasheet (192GB HBM3, 5.3TB/s, BF16/FP16 1,307.4 "
                          "TFLOPS dense, FP32 163.4 TFLOPS)"),
    "tpu-v5e": Accelerator(16 * G, 819 * G, {"bf16": 197 * T, "fp16": 197 * T, "fp32": 197 * T},
                           "Google Cloud TPU v5e documentation (HBM2 16 GB, 819 GBps, 197 BF16 TFLOPs; no separate "
                           "fp32 figure: fp32 matmuls are counted at the bf16 peak)"),
}

#: Accepted spellings of the bundled names (lower case, spaces and underscores as dashes).
ALIASES = {"h100": "h100-sxm", "a100": "a100-80gb-sxm", "a100-80gb": "a100-80gb-sxm", "v5e": "tpu-v5e",
           "h200-sxm": "h200"}


def normalize(name: str) -> str:
    key = name.strip().lower().replace(" ", "-").replace("_", "-")
    return ALIASES.get(key, key)


def load_table(path: str | None) -> dict[str, Accelerator]:
    """The bundled table, with the rows of a user file (YAML or JSON) added; ValueError if malformed."""
    table = dict(ACCELERATORS)
    if not path:
        return table
    import yaml

    try:
        with open(path, encoding="utf-8") as fh:
            doc = yaml.safe_load(fh)
    except OSError as exc:
        raise ValueError(f"cannot read the accelerators file {path}: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        raise ValueError(f"{path}: not YAML or JSON ({exc})") from None
    if not isinstance(doc, dict):
        raise ValueError(f"{path}: expected a mapping of accelerator names to their figures")
    for name, row in doc.items():
        if not isinstance(row, dict):
            raise ValueError(f"{path}: {name}: expected a mapping with memory, bandwidth, bf16, fp16, fp32")
        try:
            memory = parse_size(str(row["memory"]))
            bandwidth = parse_size(str(row["bandwidth"]).removesuffix("/s"))
            peak = {k: parse_rate(str(row[k])) for k in ("bf16", "fp16", "fp32") if k in row}
        except KeyError as exc:
            raise ValueError(f"{path}: {name}: missing {exc.args[0]} (memory, bandwidth and at least one of "
                             "bf16, fp16, fp32 are required)") from None
        if not peak:
            raise ValueError(f"{path}: {name}: give a peak for at least one of bf16, fp16, fp32 (e.g. bf16: 400T)")
        table[normalize(str(name))] = Accelerator(memory, bandwidth, peak, str(row.get("source", path)))
    return table


_UNITS = {"": 1, "B": 1, "K": 10**3, "KB": 10**3, "M": 10**6, "MB": 10**6, "G": 10**9, "GB": 10**9, "T": 10**12,
          "TB": 10**12, "KIB": 2**10, "MIB": 2**20, "GIB": 2**30, "TIB": 2**40}


def parse_size(text: str) -> int:
    """'80GB' -> 80e9, '80GiB' -> 80 * 2**30, '1.5T' -> 1.5e12, '123' -> 123 bytes; ValueError otherwise."""
    s = text.strip().replace(" ", "").replace("_", "")
    i = len(s)
    while i and not (s[i - 1].isdigit() or s[i - 1] == "."):
        i -= 1
    number, unit = s[:i], s[i:].upper()
    if unit not in _UNITS or not number:
        raise ValueError(f"{text!r} is not a memory size; write a number and a unit, e.g. 80GB, 24GiB, 512MB")
    try:
        value = float(number) * _UNITS[unit]
    except ValueError:
        raise ValueError(f"{text!r} is not a memory size; write a number and a unit, e.g. 80GB, 24GiB, 512MB") \
            from None
    if value <= 0:
        raise ValueError(f"{text!r}: a memory size must be positive")
    return int(value)


def parse_rate(text: str) -> float:
    """'989.4T' or '989.4e12' -> FLOP/s."""
    s = text.strip().upper().removesuffix("FLOPS").removesuffix("/S")
    for unit, scale in (("P", 10**15), ("T", 10**12), ("G", 10**9)):
        if s.endswith(unit):
            return float(s[:-1]) * scale
    return float(s)
