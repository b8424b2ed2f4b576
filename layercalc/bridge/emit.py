"""Writing a folded import as a spec (YAML text of format version 1), as a person would lay it out:
arguments in flow style on the type's line, meta keys below it."""

from __future__ import annotations

import re

_PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_ .*+/()-]*$")
_EXPR = re.compile(r"^[0-9][A-Za-z0-9_ .*+/()-]*$")
_RESERVED_WORDS = {"true", "false", "null", "yes", "no", "on", "off", "y", "n", "~"}


def scalar(v) -> str:
    if v is True:
        return "true"
    if v is False:
        return "false"
    if v is None:
        return "null"
    if isinstance(v, float):
        text = repr(v)
        return text if "e" not in text else text  # the spec reads 1e-05 as a number
    if isinstance(v, int):
        return str(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(scalar(x) for x in v) + "]"
    text = str(v)
    if ((_PLAIN.match(text) or _EXPR.match(text) and re.search(r"[A-Za-z]", text))
            and text.lower() not in _RESERVED_WORDS and not text.endswith(" ")):
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def flow(d: dict) -> str:
    return "{" + ", ".join(f"{k}: {scalar(v)}" for k, v in d.items()) + "}"


def entry_lines(e: dict, indent: str) -> list[str]:
    args = e.get("args") or {}
    head = f"{indent}- {e['type']}" + (f": {flow(args)}" if args else ":" if _has_meta(e) else "")
    lines = [head]
    inner = indent + "  "
    if e.get("note"):
        lines[0] += f"   # {e['note']}"
    lines.append(f"{inner}name: {e['name']}")
    if e.get("from"):
        refs = e["from"]
        lines.append(f"{inner}from: {refs[0] if len(refs) == 1 else scalar(refs)}")
    if e.get("repeat", 1) > 1:
        lines.append(f"{inner}repeat: {e['repeat']}")
    if e.get("trainable") is False:
        lines.append(f"{inner}trainable: false")
    if e.get("tie"):
        lines.append(f"{inner}tie: {e['tie']}")
    if e.get("share"):
        lines.append(f"{inner}share: {e['share']}")
    return lines


def _has_meta(e: dict) -> bool:
    return True


def to_yaml(folded, name: str, inputs: list, header: str = "", dims: dict | None = None) -> str:
    """``inputs``: (name, shape list (ints or dim names), dtype)."""
    out = []
    if header:
        out.extend(f"# {line}" if line else "#" for line in header.splitlines())
    out.append("layercalc: 1")
    out.append(f"name: {scalar(name)}")
    if dims:
        out.append(f"dims: {flow(dims)}")
    out.append("inputs:")
    for iname, shape, dtype in inputs:
        if dtype == "float32":
            out.append(f"  {iname}: {scalar(shape)}")
        else:
            out.append(f"  {iname}: {{shape: {scalar(shape)}, dtype: {dtype}}}")
    if folded.blocks:
        out.append("")
        out.append("blocks:")
        for bname, b in folded.blocks.items():
            out.append(f"  {bname}:")
            if b["params"]:
                out.append(f"    params: {flow({p: None for p in b['params']})}")
            if b["inputs"] != ["x"]:
                out.append(f"    inputs: {scalar(b['inputs'])}")
            out.append("    layers:")
            for e in b["layers"]:
                out.extend(entry_lines(e, "      "))
            if b["output"]:
                out.append(f"    output: {b['output']}")
            out.append("")
    else:
        out.append("")
    out.append("layers:")
    for e in folded.layers:
        out.extend(entry_lines(e, "  "))
    last = folded.layers[-1]["name"] if folded.layers else None
    if folded.outputs and folded.outputs != [last]:
        out.append("")
        out.append(f"outputs: {scalar(folded.outputs)}")
    return "\n".join(out) + "\n"
