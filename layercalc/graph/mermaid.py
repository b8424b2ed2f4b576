"""A diagram as Mermaid flowchart text (rendered inline by GitHub and GitLab markdown).

Boxes are ``n0["name<br/>Type"]``, open block instances ``subgraph``s, edges carry the
shape that flows along them (``-->|"[1, 64, 56, 56]"|``); an edge that passes over other
boxes (a skip connection) is dotted (``-.->``).
"""

from __future__ import annotations

from .diagram import Box, Cluster, Diagram


def _text(s: str) -> str:
    return (s.replace("&", "#amp;").replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;")
            .replace("|", "#124;"))


# what Mermaid renders with its default configuration, which GitHub and GitLab use
MAX_EDGES = 500
MAX_TEXT = 50_000

SHAPES = {"input": ('(["', '"])'), "output": ('(["', '"])'), "block": ('[["', '"]]'), "repeat": ('[["', '"]]')}


def to_mermaid(d: Diagram, direction: str = "TD") -> str:
    """The diagram as a Mermaid ``flowchart``."""
    title = " ".join((d.name + (f": {d.note}" if d.note else "")).split())
    lines = [f"%% {title}", f"flowchart {direction}"]

    def emit(children, indent: str, prefix: str = "") -> None:
        for c in children:
            if isinstance(c, Cluster):
                lines.append(f'{indent}subgraph {c.id}["{_text(c.name)}: {_text(c.type)}"]')
                lines.append(f"{indent}  direction {direction}")
                emit(c.children, indent + "  ", c.name + ".")
                lines.append(f"{indent}end")
            else:
                left, right = SHAPES.get(c.kind, ('["', '"]'))
                lines.append(f"{indent}{c.id}{left}{_text(c.label(prefix))}<br/>{_text(c.caption)}{right}")

    emit(d.children, "  ")
    for e in d.edges:
        arrow = "-.->" if e.skip else "-->"
        lines.append(f'  {e.src.id} {arrow}|"{e.label}"| {e.dst.id}')
    kinds = {b.kind for b in d.boxes}
    lines.append("  classDef io fill:#eef,stroke:#669")
    lines.append("  classDef folded fill:#fff4dd,stroke:#b80")
    io = [b.id for b in d.boxes if b.kind in ("input", "output")]
    folded = [b.id for b in d.boxes if b.kind in ("block", "repeat")]
    if io:
        lines.append(f"  class {','.join(io)} io")
    if folded and kinds:
        lines.append(f"  class {','.join(folded)} folded")
    return "\n".join(lines) + "\n"


def limits_exceeded(text: str) -> list[str]:
    """Which of Mermaid's default limits ``text`` exceeds (GitHub and GitLab do not render it then)."""
    out = []
    edges = sum(1 for line in text.splitlines() if "-->|" in line or "-.->|" in line)
    if edges > MAX_EDGES:
        out.append(f"{edges} edges, more than the {MAX_EDGES} Mermaid draws by default")
    if len(text) > MAX_TEXT:
        out.append(f"{len(text):,} characters, more than the {MAX_TEXT:,} Mermaid reads by default")
    return out
