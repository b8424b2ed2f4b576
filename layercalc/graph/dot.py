"""A diagram as Graphviz DOT: block instances are ``cluster`` subgraphs, edges carry shapes,
skip connections are dashed."""

from __future__ import annotations

from .diagram import Cluster, Diagram


def _q(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


STYLE = {
    "input": 'shape=oval, style=filled, fillcolor="#eeeeff"',
    "output": 'shape=oval, style=filled, fillcolor="#eeeeff"',
    "block": 'shape=box3d, style=filled, fillcolor="#fff4dd"',
    "repeat": 'shape=box3d, style=filled, fillcolor="#fff4dd"',
    "layer": 'shape=box, style="rounded,filled", fillcolor="#ffffff"',
}


def to_dot(d: Diagram, rankdir: str = "TB") -> str:
    """The diagram as a ``digraph`` for ``dot -Tsvg``."""
    lines = [f"// {d.name}" + (f": {d.note}" if d.note else ""), f"digraph {_q(d.name)} {{",
             f"  rankdir={rankdir};", '  node [fontname="Helvetica", fontsize=10];',
             '  edge [fontname="Helvetica", fontsize=9];']

    def emit(children, indent: str, prefix: str = "") -> None:
        for c in children:
            if isinstance(c, Cluster):
                lines.append(f"{indent}subgraph cluster_{c.id} {{")
                lines.append(f"{indent}  label={_q(f'{c.name}: {c.type}')};")
                lines.append(f'{indent}  style="rounded"; color="#999999";')
                emit(c.children, indent + "  ", c.name + ".")
                lines.append(f"{indent}}}")
            else:
                lines.append(f"{indent}{c.id} [label={_q(c.label(prefix) + chr(10) + c.caption)}, {STYLE[c.kind]}];")

    emit(d.children, "  ")
    for e in d.edges:
        style = ', style=dashed' if e.skip else ""
        lines.append(f"  {e.src.id} -> {e.dst.id} [label={_q(e.label)}{style}];")
    lines.append("}")
    return "\n".join(lines) + "\n"
