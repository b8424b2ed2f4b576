"""One self-contained HTML page for a report: the totals, the table folded by block
(``<details>``, no script needed), bar charts of params and MACs per block or layer, and the
layer graph, all inline (CSS, SVG, a few lines of script for "expand all"). A Content Security
Policy in the page forbids every network request, so the page shows the same offline, attached
to a CI run or mailed.

``page(...)`` assembles the parts; ``report_page(graph, report, view)`` is the page of the
report commands (``summary --format html``); other reports (memory, cost, diff) pass their
own columns, totals and charts.
"""

from __future__ import annotations

from html import escape
from typing import Callable, NamedTuple

CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:"

STYLE = """
:root { --fg: #1d2330; --muted: #5b6475; --line: #dde2ea; --accent: #3b6fd8; --accent2: #d9822b; --bg: #fff; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: var(--fg);
  background: var(--bg); }
main { max-width: 1280px; margin: 0 auto; padding: 24px 28px 48px; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 17px; margin: 32px 0 10px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
.sub { color: var(--muted); margin: 0 0 18px; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px; min-width: 150px; background: #fafbfd; }
.card .k { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
.card .v { font-size: 22px; font-weight: 600; }
.card .x { color: var(--muted); font-size: 12px; font-variant-numeric: tabular-nums; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(520px, 1fr)); gap: 18px; }
.chart h3 { font-size: 14px; margin: 0 0 6px; }
.chart svg text { font: 11px sans-serif; fill: #333; }
.chart svg text.val { fill: var(--muted); font-variant-numeric: tabular-nums; }
.tools { margin: 4px 0 8px; }
.tools button { font: inherit; font-size: 12px; padding: 2px 10px; margin-right: 6px; border: 1px solid var(--line);
  background: #f5f7fb; border-radius: 4px; cursor: pointer; }
.table { border: 1px solid var(--line); border-radius: 6px; overflow-x: auto; min-width: 0; }
.table > * { min-width: 860px; }
.row { display: grid; grid-template-columns: var(--cols); align-items: baseline; border-bottom: 1px solid #eef1f5;
  padding: 3px 8px; min-width: 100%; font-variant-numeric: tabular-nums; }
.row > span { padding-right: 14px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.row > .num { text-align: right; }
.head { font-weight: 600; background: #f3f5f9; position: sticky; top: 0; }
.foot { font-weight: 600; background: #f3f5f9; border-bottom: 0; }
details > summary { list-style: none; cursor: pointer; }
details > summary::-webkit-details-marker { display: none; }
summary.row { background: #fbfcfe; }
summary.row > span:first-child::before { content: "\\25B8"; display: inline-block; width: 1em; color: var(--accent); }
details[open] > summary.row > span:first-child::before { content: "\\25BE"; }
.row.leaf > span:first-child { padding-left: 1em; }
.grp { color: var(--accent); font-weight: 600; }
.graphbox { border: 1px solid var(--line); border-radius: 6px; overflow: auto; max-height: 1100px; background: #fff; }
.graph text.bn { font: 600 11px sans-serif; text-anchor: middle; fill: #1d2330; }
.graph text.bt { font: 10px sans-serif; text-anchor: middle; fill: #5b6475; }
.graph text.el { font: 9px monospace; fill: #7a8291; }
.graph text.cl { font: italic 10px sans-serif; fill: #687088; }
.note { color: var(--muted); font-size: 12px; }
.row.st-added { background: #eefaf0; } .row.st-removed { background: #fdf0f0; } .row.st-changed { background: #fff9e8; }
footer { margin-top: 36px; color: var(--muted); font-size: 12px; }
"""

SCRIPT = """
document.querySelectorAll('button[data-open]').forEach(function (b) {
  b.addEventListener('click', function () {
    var open = b.getAttribute('data-open') === '1';
    document.querySelectorAll('.table details').forEach(function (d) { d.open = open; });
  });
});
"""


def human(n) -> str:
    """1234 -> '1.23 K' (exact below 1,000)."""
    if not isinstance(n, int):
        return str(n)
    sign, n = ("-", -n) if n < 0 else ("", n)
    for unit, scale in (("T", 10**12), ("G", 10**9), ("M", 10**6), ("K", 10**3)):
        if n >= scale:
            return f"{sign}{n / scale:.2f} {unit}"
    return f"{sign}{n}"


class Card(NamedTuple):
    label: str
    value: str
    exact: str = ""


class Col(NamedTuple):
    """A table column: header, the cell of a row or tree node, numeric (right-aligned, human units
    with the exact value in a tooltip) and the footer's value."""

    header: str
    cell: Callable
    numeric: bool = False
    total: object = ""
    unit: Callable = None  # human units of a number (default: 1.23 K, 4.09 G)


class Bar(NamedTuple):
    label: str
    value: int
    title: str = ""


def cards_html(cards: list[Card]) -> str:
    return '<div class="cards">' + "".join(
        f'<div class="card"><div class="k">{escape(c.label)}</div><div class="v">{escape(c.value)}</div>'
        + (f'<div class="x">{escape(c.exact)}</div>' if c.exact else "") + "</div>" for c in cards) + "</div>"


MAX_BARS = 40
MAX_GRAPH_BOXES = 300


def top_bars(bars: list[Bar], limit: int = MAX_BARS) -> list[Bar]:
    """At most ``limit`` bars: the largest, in their order, and one for the rest."""
    if len(bars) <= limit:
        return bars
    keep = set(sorted(range(len(bars)), key=lambda i: -bars[i].value)[:limit - 1])
    rest = [b for i, b in enumerate(bars) if i not in keep]
    total = sum(b.value for b in rest)
    return [b for i, b in enumerate(bars) if i in keep] + [Bar(f"{len(rest):,} others", total,
                                                               f"{len(rest):,} others: {total:,}")]


def graph_section(graph, report, tree, max_nodes: int) -> str:
    """The diagram as inline SVG, or a note when even folded it has too many boxes to read."""
    from ..graph.diagram import build_diagram, fewest_boxes
    from ..graph.svg import to_svg

    least = fewest_boxes(graph, tree)
    if least > MAX_GRAPH_BOXES:
        return (f'<p class="note">{least:,} boxes even with every block folded: too many to draw here; '
                "`layercalc graph --format dot` draws them with Graphviz.</p>")
    diagram = build_diagram(graph, report, max_nodes=max_nodes, tree=tree)
    note = diagram.note.replace("; --depth and --max-nodes expand", "; `layercalc graph` draws every level")
    return (f'<p class="note">{escape(note)}</p>' if note else "") + f'<div class="graphbox">{to_svg(diagram)}</div>'


def bar_chart(title: str, bars: list[Bar], color: str = "#3b6fd8", unit: Callable = human) -> str:
    """A horizontal bar chart as inline SVG; bars scale to the largest value (at most
    :data:`MAX_BARS`: the largest, and one for the rest)."""
    bars = top_bars(bars)
    label_w, bar_w, value_w, row_h = 210, 330, 90, 18
    top = max((b.value for b in bars), default=0) or 1
    height = row_h * len(bars) + 8
    width = label_w + bar_w + value_w
    parts = [f'<div class="chart"><h3>{escape(title)}</h3><svg xmlns="http://www.w3.org/2000/svg" width="{width}" '
             f'height="{height}" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">']
    for i, b in enumerate(bars):
        y = 4 + i * row_h
        w = max(0.0, bar_w * b.value / top)
        label = b.label if len(b.label) <= 32 else b.label[:31] + "\u2026"
        parts.append(f'<g><title>{escape(b.title or f"{b.label}: {b.value:,}")}</title>'
                     f'<text x="{label_w - 8}" y="{y + 13}" text-anchor="end">{escape(label)}</text>'
                     f'<rect x="{label_w}" y="{y + 3}" width="{w:.1f}" height="{row_h - 6}" rx="2" fill="{color}"/>'
                     f'<text class="val" x="{label_w + w + 6:.1f}" y="{y + 13}">{escape(unit(b.value))}</text></g>')
    parts.append("</svg></div>")
    return "".join(parts)


def _cell(col: Col, node) -> str:
    v = col.cell(node)
    if col.numeric and type(v) is int:  # human units need no escaping
        return f'<span class="num" title="{v:,}">{(col.unit or human)(v)}</span>'
    return f'<span class="num">{escape(str(v))}</span>' if col.numeric else f'<span title="{escape(str(v))}">' \
        f'{escape(str(v))}</span>'


def table_html(cols: list[Col], roots: list, open_depth: int | None, indent: Callable = lambda n: 0) -> str:
    """The folded table: a group is a ``<details>`` whose ``<summary>`` is its row (its figures
    summed), open down to ``open_depth``; leaves are plain rows. ``roots`` are
    :class:`layercalc.tree.TreeNode`s (or report rows: then flat)."""
    widths = ["minmax(15em, 2.2fr)", "minmax(9em, 1.2fr)"] + [
        "minmax(6.5em, .8fr)" if c.numeric else "minmax(10em, 1.3fr)" for c in cols[2:]]
    out = [f'<div class="table" style="--cols: {" ".join(widths)}">',
           '<div class="row head">' + "".join(
               f'<span class="{"num" if c.numeric else ""}">{escape(c.header)}</span>' for c in cols) + "</div>"]

    def first(node, cls_extra: str) -> str:
        pad = 1.1 * (getattr(node, "level", 1) - 1)
        name = escape(node.name)
        return f'<span style="padding-left: {pad:.1f}em" title="{name}" class="{cls_extra}">{name}</span>'

    def visit(nodes) -> None:
        for n in nodes:
            kids = getattr(n, "children", None)
            if kids:
                opened = " open" if open_depth is None or n.level < open_depth else ""
                out.append(f"<details{opened}><summary class=\"row\">" + first(n, "grp")
                           + "".join(_cell(c, n) for c in cols[1:]) + "</summary>")
                visit(kids)
                out.append("</details>")
            else:
                out.append('<div class="row leaf">' + first(n, "") + "".join(_cell(c, n) for c in cols[1:]) + "</div>")

    visit(roots)
    out.append('<div class="row foot">' + "".join(
        f'<span class="num" title="{c.total:,}">{escape((c.unit or human)(c.total))}</span>'
        if isinstance(c.total, int)
        else f"<span>{escape(str(c.total))}</span>" for c in cols) + "</div>")
    out.append("</div>")
    return "".join(out)


def page(title: str, subtitle: str, sections: list[tuple[str, str]], cards: list[Card] | None = None) -> str:
    """The whole document: a header with ``cards``, then each (heading, html) section."""
    body = [f"<h1>{escape(title)}</h1>", f'<p class="sub">{escape(subtitle)}</p>']
    if cards:
        body.append(cards_html(cards))
    for heading, html in sections:
        body.append(f"<section><h2>{escape(heading)}</h2>{html}</section>")
    from .. import __version__

    body.append(f"<footer>layercalc {escape(__version__)}: one self-contained page, no network requests.</footer>")
    return ("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{escape(title)}</title><style>{STYLE}</style></head><body><main>"
            + "".join(body) + f"</main><script>{SCRIPT}</script></body></html>\n")


# --- the report commands' page ------------------------------------------------------------------


def chart_units(roots: list, target: int = 40) -> tuple[list, int]:
    """The rows the charts show: the shallowest level whose folded rows number at least 8, without
    exceeding ``target`` when a shallower level fits; returns (nodes, depth)."""
    from ..tree import frontier, max_depth

    deepest = max_depth(roots) if roots else 1
    if deepest == 1:
        return roots, 1
    best, best_depth = frontier(roots, 1), 1
    for depth in range(1, deepest + 1):
        rows = frontier(roots, depth)
        if len(rows) > target and len(best) >= 4:
            break
        best, best_depth = rows, depth
        if len(rows) >= 8:
            break
    return best, best_depth


def report_page(graph, report, view: str = "summary", max_nodes: int = 60) -> str:
    """``summary --format html`` (and the other views): totals, the folded table, charts and the graph."""
    from ..spec.model import DTYPE_BYTES
    from ..tree import build_tree, readable_depth
    from .columns import out_str

    roots = build_tree(report.layers, report.inputs)
    t = report.totals
    cols = [Col("Layer", lambda r: r.name), Col("Type", lambda r: getattr(r, "label", r.type), False, "Total"),
            Col("Layers", lambda r: getattr(r, "layers", 1), True, len(report.layers))]
    if view in ("shape", "summary"):
        cols.append(Col("Output shape", out_str))
    if view == "shape":
        cols.insert(3, Col("Input shape", lambda r: ", ".join("[" + ", ".join(map(str, s)) + "]"
                                                               for s in r.input_shapes) or "-"))
    if view in ("params", "summary"):
        cols += [Col("Params", lambda r: r.params, True, t["params"]),
                 Col("Trainable", lambda r: r.trainable_params, True, t["trainable_params"]),
                 Col("Buffers", lambda r: r.buffers, True, t["buffers"])]
    if view == "params":
        size = DTYPE_BYTES[report.dtype]
        cols.append(Col("Bytes", lambda r: r.params * size, True, t["param_bytes"]))
    if view in ("flops", "summary"):
        cols += [Col("MACs", lambda r: r.macs, True, t["macs"]), Col("FLOPs", lambda r: r.flops, True, t["flops"])]
    open_depth = readable_depth(roots) if any(n.children for n in roots) else None
    units, unit_depth = chart_units(roots)
    ins = ", ".join(f"{k} [{', '.join(map(str, v))}]" for k, v in report.inputs.items())
    outs = ", ".join(f"{k} [{', '.join(map(str, v))}]" for k, v in report.outputs.items())
    cards = [Card("Params", human(t["params"]), f"{t['params']:,}"),
             Card("Trainable", human(t["trainable_params"]), f"{t['trainable_params']:,}"),
             Card("Buffers", human(t["buffers"]), f"{t['buffers']:,}"),
             Card(f"Param bytes ({report.dtype})", human(t["param_bytes"]) + "B", f"{t['param_bytes']:,}"),
             Card("MACs", human(t["macs"]), f"{t['macs']:,}"), Card("FLOPs", human(t["flops"]), f"{t['flops']:,}"),
             Card("Layers", f"{len(report.layers):,}")]
    charts = '<div class="charts">' + bar_chart(
        "Params per " + ("block" if unit_depth > 0 and any(u.kind != "layer" for u in units) else "layer"),
        [Bar(f"{u.name} ({u.label})" if u.kind != "layer" else u.name, u.params, f"{u.name}: {u.params:,} params")
         for u in units]) + bar_chart(
        "MACs per " + ("block" if any(u.kind != "layer" for u in units) else "layer"),
        [Bar(f"{u.name} ({u.label})" if u.kind != "layer" else u.name, u.macs, f"{u.name}: {u.macs:,} MACs")
         for u in units], "#d9822b") + "</div>"
    graph_html = graph_section(graph, report, roots, max_nodes)
    tools = ('<div class="tools"><button type="button" data-open="1">Expand all</button>'
             '<button type="button" data-open="0">Collapse all</button></div>') if open_depth is not None else ""
    sections = [("Where the parameters and the compute go", charts),
                ("Layers", tools + table_html(cols, roots, open_depth)),
                ("Graph", graph_html)]
    return page(report.name, f"Inputs: {ins}. Outputs: {outs}.", sections, cards)


def report_html(source, view: str = "summary", dims=None, vars=None, dtype: str = "float32",
                max_layers: int | None = None) -> str:
    """Load and analyze a spec and return its HTML page."""
    from ..engine import load_graph, run_graph
    from ..spec.graph import DEFAULT_MAX_LAYERS

    graph = load_graph(source, dims=dims, vars=vars, max_layers=max_layers or DEFAULT_MAX_LAYERS)
    return report_page(graph, run_graph(graph, dtype), view)


# --- pages of other reports (memory, cost): columns of per-layer figures ---------------------------


class _Node:
    """A row of a folded figures table: a layer or a group with the sums of its layers' figures."""

    __slots__ = ("name", "label", "level", "layers", "vals", "children", "kind")

    def __init__(self, name, label, level, layers, vals, children, kind):
        self.name = name
        self.label = label
        self.level = level
        self.layers = layers
        self.vals = vals
        self.children = children
        self.kind = kind


def fold_values(roots: list, values: dict, keys: list[str]) -> list[_Node]:
    """The block tree ``roots`` with each node's figures ``keys``: a layer's from ``values[name]``,
    a group's too when ``values`` has it (a report whose block rows follow their own rules), otherwise
    the sums of its layers'."""

    def conv(n) -> _Node:
        if n.kind == "layer":
            return _Node(n.name, n.type, n.level, 1, values.get(n.name, {}), [], "layer")
        kids = [conv(c) for c in n.children]
        vals = values[n.name] if n.name in values else {k: sum(c.vals.get(k, 0) or 0 for c in kids) for k in keys}
        return _Node(n.name, n.label, n.level, n.layers, vals, kids, n.kind)

    return [conv(r) for r in roots]


def human_bytes(n) -> str:
    if not isinstance(n, int):
        return str(n)
    for unit, scale in (("GB", 10**9), ("MB", 10**6), ("KB", 10**3)):
        if n >= scale:
            return f"{n / scale:.2f} {unit}"
    return f"{n} B"


def figures_page(graph, report, title: str, subtitle: str, columns: list[tuple[str, str, str]],
                 values: dict, totals: dict, cards: list[Card], charts: list[tuple[str, str, str]],
                 notes: list[str], max_nodes: int = 60, section: str | None = None, tree=None) -> str:
    """A page for per-layer figures other than the report's own (memory, cost): ``columns`` are
    (header, key, kind) with kind ``bytes``, ``count`` or ``text``; ``values`` maps a layer name (or a
    block instance's, in ``tree``, the report's block tree) to its figures; ``charts`` are (title, key,
    colour) bar charts per block."""
    from ..tree import build_tree, readable_depth

    keys = [k for _, k, kind in columns if kind != "text"]
    kinds = {k: kind for _, k, kind in columns}
    tree = tree if tree is not None else build_tree(report.layers, report.inputs)
    roots = fold_values(tree, values, keys)
    open_depth = readable_depth(tree) if any(n.children for n in tree) else None
    cols = [Col("Layer", lambda r: r.name), Col("Type", lambda r: r.label, False, "Total"),
            Col("Layers", lambda r: r.layers, True, len(report.layers))]
    for header, key, kind in columns:
        cols.append(Col(header, (lambda k: lambda r: r.vals.get(k, ""))(key), kind != "text", totals.get(key, ""),
                        human_bytes if kind == "bytes" else human))
    units, _ = chart_units(tree)
    unit_vals = {u.name: v for u, v in zip(units, fold_values(units, values, keys))}
    chart_html = '<div class="charts">' + "".join(
        bar_chart(ctitle + " per " + ("block" if any(u.kind != "layer" for u in units) else "layer"),
                  [Bar(f"{u.name} ({u.label})" if u.kind != "layer" else u.name, unit_vals[u.name].vals.get(key, 0) or 0)
                   for u in units], color, human_bytes if kinds[key] == "bytes" else human)
        for ctitle, key, color in charts) + "</div>"
    tools = ('<div class="tools"><button type="button" data-open="1">Expand all</button>'
             '<button type="button" data-open="0">Collapse all</button></div>') if open_depth is not None else ""
    note_html = "".join(f'<p class="note">{escape(n)}</p>' for n in notes)
    sections = [(section or ("Where the bytes go" if any(kind == "bytes" for _, _, kind in columns) else "Per block"),
                 chart_html + note_html),
                ("Layers", tools + table_html(cols, roots, open_depth)),
                ("Graph", graph_section(graph, report, tree, max_nodes))]
    return page(title, subtitle, sections, cards)


def memory_page(m, graph, fit: dict | None = None) -> str:
    """``memory --format html``: the bytes per layer folded by block, where the bytes go, the peaks."""
    from .budget import MEMORY_COLUMNS, fit_line

    cols = [c for c in MEMORY_COLUMNS if c[1] not in ("name", "type")]
    cols = [(h, "output_shape_text" if k == "output" else k, kind) for h, k, kind in cols]
    values = {}
    for row, d in zip(m.layers, m.rows):
        v = dict(d)
        v["output_shape_text"] = "[" + ", ".join(map(str, row.output_shape)) + "]"
        values[row.name] = v
    tree = m.tree()
    for node in _groups(tree):
        values[node.name] = dict(node.figures, output_shape_text="[" + ", ".join(map(str, node.output_shape)) + "]")
    t, b, o = m.totals, m.breakdown, m.options
    cards = [Card("Training peak", human_bytes(t["training_peak_bytes"]), f"{t['training_peak_bytes']:,} B"),
             Card("Inference peak", human_bytes(t["inference_peak_bytes"]), f"{t['inference_peak_bytes']:,} B"),
             Card("Weights", human_bytes(b["weights"]), f"{b['weights']:,} B"),
             Card("Gradients", human_bytes(b["gradients"]), f"{b['gradients']:,} B"),
             Card("Optimizer state", human_bytes(b["optimizer_state"]), f"{b['optimizer_state']:,} B"),
             Card("Saved activations", human_bytes(b["saved_activations"]), f"{b['saved_activations']:,} B")]
    if b.get("kv_cache"):
        cards.append(Card("KV cache", human_bytes(b["kv_cache"]), f"{b['kv_cache']:,} B"))
    parts = ", ".join(f"{k.replace('_', ' ')} {human_bytes(v)}" for k, v in b.items() if v)
    notes = [f"Optimizer {o.optimizer}, precision {o.precision}, device {o.device}, attention {o.attention}"
             + (f", checkpoint {' '.join(o.checkpoint)}" if o.checkpoint else "") + ".",
             f"Breakdown: {parts}."]
    if fit:
        notes.append(fit_line(fit))
    charts = [("Weight bytes", "weight_bytes", "#3b6fd8"), ("Saved activation bytes", "saved_activation_bytes",
                                                          "#d9822b")]
    rep = m.report
    return figures_page(graph, rep, f"{rep.name}: memory", "Bytes for training and inference, per layer and in "
                        "total (docs/memory.md).", cols, values, dict(t), cards, charts, notes, tree=tree)


def _groups(roots: list):
    """The block instances and repeats of a block tree, outermost first."""
    for root in roots:
        for node in root.walk():
            if node.kind != "layer":
                yield node


def cost_page(c, graph, summary: dict, roof: list[dict] | None = None) -> str:
    """``cost --format html``: forward, backward and training MACs and FLOPs per layer folded by block,
    where the compute goes, the decoder and training totals; with an accelerator the roofline columns."""
    from .budget import COST_COLUMNS, cost_lines, seconds

    cols = [c_ for c_ in COST_COLUMNS if c_[1] not in ("name", "type")]
    if roof:
        cols += [("Bytes moved", "bytes_moved", "bytes"), ("FLOP/B", "intensity", "text"), ("Bound", "bound", "text"),
                 ("Floor", "floor", "text")]
    values = {}
    for k, (row, d) in enumerate(zip(c.layers, c.rows)):
        v = dict(d)
        if roof:
            r = roof[k]
            v.update(bytes_moved=r["bytes_moved"], intensity=f"{r['intensity']:.1f}", bound=r["bound"],
                     floor=seconds(r["latency_floor_s"]))
        values[row.name] = v
    tree = c.tree()
    for node in _groups(tree):
        v = values[node.name] = dict(node.figures)
        if roof:
            v.update(intensity=f"{v['intensity']:.1f}", floor=seconds(v["latency_floor_s"]))
    t, s = c.totals, summary
    totals = dict(t)
    if roof:
        totals.update(bytes_moved=sum(r["bytes_moved"] for r in roof), floor=seconds(s["forward_latency_floor_s"]))
    cards = [Card("Training FLOPs per step", human(t["training_flops"]), f"{t['training_flops']:,}"),
             Card("Forward FLOPs", human(t["forward_flops"]), f"{t['forward_flops']:,}"),
             Card("Backward FLOPs", human(t["backward_flops"]), f"{t['backward_flops']:,}"),
             Card("Training MACs", human(t["training_macs"]), f"{t['training_macs']:,}")]
    if t["recompute_flops"]:
        cards.append(Card("Recomputation FLOPs", human(t["recompute_flops"]), f"{t['recompute_flops']:,}"))
    if "context" in s:
        cards.append(Card(f"Per token at context {s['context']:,}", human(s["per_token_flops"]) + " FLOPs",
                          f"{s['per_token_flops']:,}"))
    if "training_flops_total" in s:
        cards.append(Card("Training FLOPs in all", f"{s['training_flops_total']:.4g}",
                          f"6ND = {s['six_nd']:.4g}" if "six_nd" in s else f"{s['steps']:.4g} steps"))
    if "accelerator" in s:
        cards.append(Card(f"Training on {s['accelerator']}", seconds(s["training_seconds"]),
                          f"{s['accelerator_hours']:,.1f} accelerator-hours at MFU {s['mfu']:g}"))
    opts = c.options
    notes = [f"Attention {opts['attention']}, precision {s.get('precision', 'fp32')}"
             + (f", checkpoint {' '.join(opts['checkpoint'])}" if opts["checkpoint"] else "") + "."]
    notes += cost_lines(c, s)
    charts = [("Forward FLOPs", "forward_flops", "#3b6fd8"), ("Training FLOPs", "training_flops", "#d9822b")]
    rep = c.report
    return figures_page(graph, rep, f"{rep.name}: cost", "Forward, backward and training MACs and FLOPs, per layer "
                        "and in total (docs/memory.md).", cols, values, totals, cards, charts, notes,
                        section="Where the compute goes", tree=tree)


# --- diff ------------------------------------------------------------------------------------------------


def simple_table(headers: list[str], right: list[bool], rows: list[list[str]], classes: list[str] | None = None) -> str:
    widths = " ".join("minmax(6em, .8fr)" if r else "minmax(9em, 1.6fr)" for r in right)
    out = [f'<div class="table" style="--cols: {widths}">', '<div class="row head">' + "".join(
        f'<span class="{"num" if r else ""}">{escape(h)}</span>' for h, r in zip(headers, right)) + "</div>"]
    for k, row in enumerate(rows):
        cls = f" {classes[k]}" if classes else ""
        out.append(f'<div class="row{cls}">' + "".join(
            f'<span class="{"num" if r else ""}" title="{escape(str(c))}">{escape(str(c))}</span>'
            for c, r in zip(row, right)) + "</div>")
    out.append("</div>")
    return "".join(out)


def pair_chart(title: str, bars: list[tuple[str, int, int]], unit: Callable = human) -> str:
    """Old (grey) and new (blue) values side by side, one pair per row, as inline SVG."""
    label_w, bar_w, value_w, row_h = 210, 300, 150, 26
    top = max([max(a or 0, b or 0) for _, a, b in bars] + [1])
    height = row_h * len(bars) + 8
    width = label_w + bar_w + value_w
    parts = [f'<div class="chart"><h3>{escape(title)}</h3><svg xmlns="http://www.w3.org/2000/svg" width="{width}" '
             f'height="{height}" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">']
    for i, (label, old, new) in enumerate(bars):
        y = 4 + i * row_h
        wo, wn = bar_w * (old or 0) / top, bar_w * (new or 0) / top
        short = label if len(label) <= 32 else label[:31] + "\u2026"
        change = "" if old == new else f" ({'+' if (new or 0) > (old or 0) else '-'}{unit(abs((new or 0) - (old or 0)))})"
        parts.append(f'<g><title>{escape(label)}: {old if old is not None else "-"} -> '
                     f'{new if new is not None else "-"}</title>'
                     f'<text x="{label_w - 8}" y="{y + 15}" text-anchor="end">{escape(short)}</text>'
                     f'<rect x="{label_w}" y="{y + 3}" width="{wo:.1f}" height="9" rx="2" fill="#a9b1bf"/>'
                     f'<rect x="{label_w}" y="{y + 13}" width="{wn:.1f}" height="9" rx="2" fill="#3b6fd8"/>'
                     f'<text class="val" x="{label_w + max(wo, wn) + 6:.1f}" y="{y + 17}">'
                     f'{escape(unit(new or 0) if new is not None else "-")}{escape(change)}</text></g>')
    parts.append("</svg></div>")
    return "".join(parts)


def diff_page(diff, old_graph=None, new_graph=None, depth: int | None = 1, gates=()) -> str:
    """``diff --format html``: the headline, totals old/new, budgets, per-block charts of both
    sides, the blocks and layers that changed, and both graphs."""
    from ..diff import SAME
    from .diff import BLOCK_HEADERS, BLOCK_RIGHT, CHANGE_HEADERS, CHANGE_RIGHT, TOTAL_LABELS, _block_rows, \
        _change_rows, _totals_rows, headline, percent

    t = diff.totals
    cards = []
    for key in ("params", "macs", "flops"):
        d = t[key]
        sign = "+" if d.change > 0 else "-" if d.change < 0 else ""
        cards.append(Card(TOTAL_LABELS[key], f"{human(d.old)} \u2192 {human(d.new)}",
                          f"{sign}{abs(d.change):,} ({percent(d)})" if d.change else "unchanged"))
    for status in ("added", "removed", "changed", "renamed"):
        cards.append(Card(f"Layers {status}", f"{diff.count(status):,}"))
    gate_html = "".join(f'<p class="note">{"Over budget" if r.exceeded else "Within budget"}: '
                        f"{escape(r.message())}</p>" for r in gates)
    totals = simple_table(["", "Old", "New", "Change", "%"], [False, True, True, True, True], _totals_rows(diff, True))
    outs = "".join(f'<p class="note">Output {escape(k)}: {escape(str(a))} \u2192 {escape(str(b))}</p>'
                   for k, (a, b) in diff.outputs.items() if a != b)
    level1 = [b for b in diff.blocks if b.level == 1]
    charts = ""
    if level1:
        charts = '<div class="charts">' + pair_chart(
            "Params per block, old (grey) and new (blue)",
            [(f"{b.name} ({b.label})", b.delta("params").old, b.delta("params").new) for b in level1]) + pair_chart(
            "MACs per block, old and new",
            [(f"{b.name} ({b.label})", b.delta("macs").old, b.delta("macs").new) for b in level1]) + "</div>"
    blocks = _block_rows(diff, depth, True)
    changes = _change_rows(diff, True)
    sections = [("Totals", gate_html + totals + outs)]
    if charts:
        sections.append(("Blocks", charts + (simple_table(BLOCK_HEADERS, BLOCK_RIGHT, blocks) if blocks else
                                             '<p class="note">No block changed.</p>')))
    if changes:
        words = {"+": "added", "-": "removed", "~": "changed", "=": "renamed"}
        rows = [[words[r[0]]] + r[1:] for r in changes]
        sections.append((f"Layers ({len(changes)} changed)", simple_table(
            ["Change"] + CHANGE_HEADERS[1:], CHANGE_RIGHT, rows, [f"st-{r[0]}" for r in rows])))
    else:
        sections.append(("Layers", '<p class="note">No layer changed.</p>'))
    if old_graph is not None and new_graph is not None:
        from ..tree import build_tree

        pics = []
        for label, graph, report in (("Old", old_graph, diff.old), ("New", new_graph, diff.new)):
            tree = build_tree(report.layers, report.inputs)
            pics.append(f"<div><h3>{escape(label)}: {escape(report.name)}</h3>{graph_section(graph, report, tree, 40)}"
                        "</div>")
        sections.append(("Graphs", '<div class="charts">' + "".join(pics) + "</div>"))
    same = sum(1 for c in diff.layers if c.status == SAME)
    return page(f"{diff.old.name} \u2192 {diff.new.name}", headline(diff) + f"; {same} unchanged. "
                f"{diff.old_label} \u2192 {diff.new_label}", sections, cards)
