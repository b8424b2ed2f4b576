"""Stable diagnostic codes, one registry for the loader, the engine and ``lint``.

Families: ``Y`` YAML and file, ``S`` schema (keys, types, values), ``G`` graph
(names, shapes, dtypes, structure), ``B`` budgets, ``W`` style warnings.
A code never changes meaning once released; new problems get new codes.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Code:
    code: str
    slug: str
    level: str  # "error" or "warning"
    summary: str
    explanation: str = ""


CODES: dict[str, Code] = {}


def _code(code: str, slug: str, level: str, summary: str, explanation: str = "") -> None:
    if code in CODES:
        raise ValueError(f"duplicate diagnostic code {code}")
    CODES[code] = Code(code, slug, level, summary, explanation)


_code("Y001", "yaml.syntax", "error", "the file is not valid YAML")
_code("Y002", "yaml.anchor", "error", "anchors, aliases and merge keys are not allowed",
      "Anchors (&a), aliases (*a) and merge keys (<<) let a small file expand into a huge one; "
      "use a block with `repeat` instead.")
_code("Y003", "yaml.duplicate-key", "error", "a mapping has the same key twice")
_code("Y004", "yaml.tag", "error", "explicit YAML tags such as !!python/object are not allowed")
_code("Y005", "file.too-large", "error", "the spec is larger than 1 MiB")
_code("Y006", "file.unreadable", "error", "the file cannot be read or is not UTF-8")
_code("S000", "schema.invalid", "error", "the spec does not follow the format")
_code("S001", "schema.unknown-key", "error", "an unknown key (top level, block or meta key)")
_code("S002", "schema.missing-key", "error", "a required key or argument is missing")
_code("S003", "schema.wrong-type", "error", "a value has the wrong type")
_code("S004", "schema.unknown-layer", "error", "an unknown layer type or block")
_code("S005", "schema.unknown-argument", "error", "an argument the layer type does not take")
_code("S006", "schema.invalid-value", "error", "a value is out of range or not one of the allowed choices")
_code("S007", "schema.bad-expression", "error", "an expression cannot be evaluated")
_code("S008", "schema.version", "error", "the `layercalc:` format version is missing or unsupported")
_code("S009", "schema.bad-name", "error", "a name is not an identifier or clashes with another")
_code("G001", "graph.undefined-name", "error", "`from`, `tie`, `share` or `outputs` names something that does not exist")
_code("G002", "graph.duplicate-name", "error", "two layers of one scope have the same name")
_code("G003", "graph.shape-mismatch", "error", "a layer cannot take the shape of its input")
_code("G004", "graph.not-divisible", "error", "a size must divide another (channels by groups, embed_dim by heads)")
_code("G005", "graph.recursive-block", "error", "a block uses itself, directly or not")
_code("G006", "graph.too-many-layers", "error", "the expanded graph is larger than --max-layers")
_code("G007", "graph.dtype-mismatch", "error", "a layer gets an input of the wrong dtype")
_code("G008", "graph.arity", "error", "a layer gets the wrong number of inputs")
_code("G009", "graph.bad-extra-output", "error", "a named extra output that the layer does not have")
_code("G010", "graph.share-mismatch", "error", "`tie` or `share` between layers whose parameters differ")
