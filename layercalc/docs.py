"""Documentation generated from the registry: ``layercalc layers`` and the FLOPs convention table."""

from __future__ import annotations

import inspect
import json

from .layers import FAMILIES, REGISTRY
from .layers.base import REQUIRED


def _default(arg) -> str:
    if arg.default is REQUIRED:
        return "required"
    if arg.infer:
        return "inferred"
    if isinstance(arg.default, bool):
        return "true" if arg.default else "false"
    if arg.default is None:
        return "null"
    if isinstance(arg.default, tuple):
        return "[" + ", ".join(map(str, arg.default)) + "]"
    return str(arg.default)


def layer_list() -> str:
    lines = []
    for fam in FAMILIES:
        names = sorted(t for t, r in REGISTRY.items() if r.family == fam)
        if names:
            lines.append(f"{fam}: {' '.join(names)}")
    others = sorted(t for t, r in REGISTRY.items() if r.family not in FAMILIES)
    if others:
        lines.append(f"other: {' '.join(others)}")
    lines.append("")
    lines.append(f"{len(REGISTRY)} types. `layercalc layers TYPE` shows one type's arguments and formulas.")
    return "\n".join(lines)


def layer_help(type_name: str) -> str | None:
    rule = REGISTRY.get(type_name)
    if rule is None:
        return None
    doc = inspect.cleandoc(type(rule).__doc__ or "")
    lines = [f"{rule.type} ({rule.family})", "", doc, "", "Arguments:"]
    if not rule.args:
        lines.append("  (none)")
    for a in rule.args:
        kind = a.kind + (f" ({'|'.join(map(str, a.choices))})" if a.choices else "")
        lines.append(f"  {a.name:<24} {kind:<28} default: {_default(a):<10}" + (f"  {a.doc}" if a.doc else ""))
    lo, hi = rule.n_inputs
    ins = "none" if hi == 0 else f"{lo}" if lo == hi else f"{lo} or more" if hi is None else f"{lo} to {hi}"
    lines += ["", f"Inputs: {ins} ({', '.join(rule.input_names)}), dtype {rule.input_dtype}"]
    if rule.extra_outputs:
        lines.append(f"Extra outputs: {', '.join(rule.extra_outputs)}")
    lines += [f"MACs:  {rule.macs}", f"FLOPs: {rule.flops}"]
    return "\n".join(lines)


def flops_table_rows() -> list[tuple[str, str, str, str]]:
    """(family, type, MACs formula, FLOPs formula) for every registered type, in family order."""
    order = {f: i for i, f in enumerate(FAMILIES)}
    rules = sorted(REGISTRY.values(), key=lambda r: (order.get(r.family, 99), r.type))
    return [(r.family, r.type, r.macs, r.flops) for r in rules]


def flops_table_markdown() -> str:
    """docs/flops.md: the FLOPs convention table, one row per registered type (``layercalc layers --flops``)."""
    lines = [
        "# The FLOPs convention",
        "",
        "Generated from the layer registry by `layercalc layers --flops`; do not edit by hand.",
        "",
        "MACs count the multiply-accumulates of dense products only. FLOPs are 2 * MACs plus every other",
        "arithmetic operation of the forward pass at inference, per the per-element costs of",
        "`layercalc/costs.py` (an add, multiply, compare or transcendental function costs 1; a reduction",
        "over n values costs n; per-row or per-channel work such as 1/sqrt(var + eps) is free; dropout is",
        "the identity). `layercalc verify` runs the reference executor, which counts the same operations",
        "as it performs them, against these formulas.",
        "",
        "| family | type | MACs | FLOPs |",
        "|---|---|---|---|",
    ]
    for family, type_name, macs, flops in flops_table_rows():
        cells = [c.replace("|", "\\|") for c in (family, f"`{type_name}`", macs, flops)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def layers_json(type_name: str | None) -> str:
    def one(rule):
        return {
            "type": rule.type, "family": rule.family, "doc": inspect.cleandoc(type(rule).__doc__ or ""),
            "args": [{"name": a.name, "kind": a.kind, "default": None if a.default is REQUIRED else a.default,
                      "required": a.default is REQUIRED, "inferred": a.infer, "choices": list(a.choices or ()),
                      "doc": a.doc} for a in rule.args],
            "inputs": list(rule.n_inputs), "extra_outputs": list(rule.extra_outputs),
            "macs": rule.macs, "flops": rule.flops,
        }

    if type_name:
        rule = REGISTRY.get(type_name)
        return json.dumps(one(rule) if rule else None, indent=2, default=list)
    return json.dumps([one(r) for r in REGISTRY.values()], indent=2, default=list)
