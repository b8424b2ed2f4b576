"""A diagram as inline SVG, laid out in Python (no Graphviz, no JavaScript): for the HTML report.

Layered layout: a box's rank is one more than the highest rank of the boxes it reads, so a
chain runs down the page and parallel branches (a shortcut beside its residual branch) sit side
by side; boxes of one rank are centred in execution order. Edges run from the bottom of a box
to the top of the next; an edge that passes over other ranks bends out to the right so that it
does not cross the boxes between, and skip connections are dashed. Open block instances are
frames around their boxes, labelled with their name and type.
"""

from __future__ import annotations

from html import escape

from .diagram import Box, Cluster, Diagram

BOX_W, BOX_H = 176, 38
GAP_X, GAP_Y = 40, 34
MARGIN = 24
FILL = {"input": "#e8ecff", "output": "#e8ecff", "block": "#fff1d6", "repeat": "#fff1d6", "layer": "#ffffff"}
STROKE = {"input": "#5566aa", "output": "#5566aa", "block": "#b07a00", "repeat": "#b07a00", "layer": "#667788"}


def _short(text: str, n: int = 26) -> str:
    return text if len(text) <= n else text[:n - 1] + "\u2026"


def layout(d: Diagram) -> dict:
    """Box id -> (x, y) of its top-left corner, and the canvas size under ``"size"``."""
    rank: dict = {}
    preds: dict = {}
    for e in d.edges:
        preds.setdefault(e.dst.id, []).append(e.src.id)
    for b in d.boxes:
        rank[b.id] = 1 + max((rank[p] for p in preds.get(b.id, []) if p in rank), default=-1)
    ranks: dict = {}
    for b in d.boxes:
        ranks.setdefault(rank[b.id], []).append(b)
    widest = max(len(v) for v in ranks.values()) if ranks else 1
    width = 2 * MARGIN + widest * BOX_W + (widest - 1) * GAP_X + 160  # room for bent edges on the right
    pos = {}
    for r, boxes in ranks.items():
        row_w = len(boxes) * BOX_W + (len(boxes) - 1) * GAP_X
        x0 = MARGIN + (widest * BOX_W + (widest - 1) * GAP_X - row_w) / 2
        for k, b in enumerate(boxes):
            pos[b.id] = (x0 + k * (BOX_W + GAP_X), MARGIN + 14 + r * (BOX_H + GAP_Y))
    height = MARGIN * 2 + 14 + (max(ranks) + 1 if ranks else 1) * (BOX_H + GAP_Y)
    pos["size"] = (width, height)
    return pos


def _cluster_boxes(c: Cluster) -> list[Box]:
    out = []
    for child in c.children:
        out.extend(_cluster_boxes(child) if isinstance(child, Cluster) else [child])
    return out


def to_svg(d: Diagram) -> str:
    """The diagram as one ``<svg>`` element (text, no external reference)."""
    pos = layout(d)
    width, height = pos["size"]
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="graph" width="{width:.0f}" height="{height:.0f}" '
             f'viewBox="0 0 {width:.0f} {height:.0f}" role="img" aria-label="{escape(d.name)} layer graph">',
             '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
             'orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#556"/></marker></defs>']

    labels: dict = {}

    def height(c: Cluster) -> int:
        return 1 + max([height(k) for k in c.children if isinstance(k, Cluster)], default=0)

    def frames(children, prefix: str) -> None:
        for c in children:
            if isinstance(c, Cluster):
                boxes = _cluster_boxes(c)
                if not boxes:
                    continue
                pad = 6 + 8 * height(c)  # an outer frame around its inner ones, each label on its own line
                x0 = min(pos[b.id][0] for b in boxes) - pad
                y0 = min(pos[b.id][1] for b in boxes) - pad - 6
                x1 = max(pos[b.id][0] for b in boxes) + BOX_W + pad
                y1 = max(pos[b.id][1] for b in boxes) + BOX_H + pad
                name = c.name[len(prefix):] if prefix and c.name.startswith(prefix) else c.name
                parts.append(f'<g class="cluster"><rect x="{x0:.0f}" y="{y0:.0f}" width="{x1 - x0:.0f}" '
                             f'height="{y1 - y0:.0f}" rx="8" fill="#eef1f7" fill-opacity="0.5" stroke="#aab" '
                             f'stroke-dasharray="4 3"/><text x="{x0 + 6:.0f}" y="{y0 + 10:.0f}" class="cl">'
                             f'{escape(_short(name + ": " + c.type, 44))}</text></g>')
                for b in boxes:
                    labels[b.id] = c.name + "."
                frames(c.children, c.name + ".")

    frames(d.children, "")
    for e in d.edges:
        sx, sy = pos[e.src.id]
        tx, ty = pos[e.dst.id]
        x1, y1 = sx + BOX_W / 2, sy + BOX_H
        x2, y2 = tx + BOX_W / 2, ty
        dash = ' stroke-dasharray="5 4"' if e.skip else ""
        if ty - sy > BOX_H + GAP_Y + 1 and abs(x1 - x2) < 1:  # over other ranks: bend out to the right
            bend = BOX_W / 2 + 30 + min(90, (ty - sy) / 25)
            x1, x2 = sx + BOX_W, tx + BOX_W
            y1, y2 = sy + BOX_H / 2, ty + BOX_H / 2
            path = f"M {x1:.0f} {y1:.0f} C {x1 + bend:.0f} {y1:.0f}, {x2 + bend:.0f} {y2:.0f}, {x2 + 2:.0f} {y2:.0f}"
            lx, ly = x1 + bend * 0.75, (y1 + y2) / 2
        else:
            my = (y1 + y2) / 2
            path = f"M {x1:.0f} {y1:.0f} C {x1:.0f} {my:.0f}, {x2:.0f} {my:.0f}, {x2:.0f} {y2 - 2:.0f}"
            lx, ly = (x1 + x2) / 2 + 6, my + 4
        parts.append(f'<path d="{path}" fill="none" stroke="#556" stroke-width="1.2"{dash} marker-end="url(#arrow)"/>')
        parts.append(f'<text x="{lx:.0f}" y="{ly:.0f}" class="el">{escape(e.label)}</text>')
    for b in d.boxes:
        x, y = pos[b.id]
        rx = 17 if b.kind in ("input", "output") else 5
        shown = b.label(labels.get(b.id, ""))
        thick = ' stroke-width="2"' if b.kind in ("block", "repeat") else ""
        title = f"{b.name}: {b.caption}" + (f" \u2014 params {b.params:,}, MACs {b.macs:,}" if b.first >= 0 else "")
        parts.append(f'<g class="box"><title>{escape(title)}</title><rect x="{x:.0f}" y="{y:.0f}" width="{BOX_W}" '
                     f'height="{BOX_H}" rx="{rx}" fill="{FILL[b.kind]}" stroke="{STROKE[b.kind]}"'
                     f'{thick}/>'
                     f'<text x="{x + BOX_W / 2:.0f}" y="{y + 15:.0f}" class="bn">{escape(_short(shown))}</text>'
                     f'<text x="{x + BOX_W / 2:.0f}" y="{y + 30:.0f}" class="bt">{escape(_short(b.caption, 30))}</text>'
                     "</g>")
    parts.append("</svg>")
    return "".join(parts)
