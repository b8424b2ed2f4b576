"""Comparing two analyses: what a change to a spec does to its layers, blocks and totals.

:func:`diff_reports` matches the layers of two reports by name, then the
layers left over by position (a layer renamed in place is matched, not
reported as removed and added), and returns a :class:`Diff`: the layers
added, removed, changed (type, arguments, shapes, figures) or only renamed;
the block instances and repeats with their summed figures on both sides
(:mod:`layercalc.tree`); and the totals. :func:`check_gates` applies budgets
to the change (``--max-params-increase 5%``, ``--max-macs-increase 1G``).

:func:`read_spec` reads a spec from a file, ``-``, or ``git:REV:PATH`` (the
file at a revision of the repository of the current directory, as ``git show
REV:PATH`` prints it). Renderers live in :mod:`layercalc.render.diff`.
"""

from __future__ import annotations

import subprocess
from difflib import SequenceMatcher
from typing import NamedTuple

from .errors import Mark, SpecError

#: the figures compared, in the order reports show them
FIELDS = ("params", "trainable_params", "buffers", "macs", "flops")
TOTALS = ("params", "trainable_params", "non_trainable_params", "buffers", "param_bytes", "macs", "flops")

ADDED, REMOVED, CHANGED, RENAMED, SAME = "added", "removed", "changed", "renamed", "unchanged"


class Delta(NamedTuple):
    """One figure on both sides (None when that side does not have it)."""

    old: int | None
    new: int | None

    @property
    def change(self) -> int:
        return (self.new or 0) - (self.old or 0)

    @property
    def percent(self) -> float | None:
        """The change relative to the old value, in percent (None when the old value is 0 or absent)."""
        return 100 * self.change / self.old if self.old else None


class LayerChange(NamedTuple):
    """A layer of either side: ``status`` is ``added``, ``removed``, ``changed``, ``renamed``
    (matched by position, nothing but the name differs) or ``unchanged``.

    ``old`` and ``new`` are the report rows (one is None for an added or removed
    layer); ``changes`` maps what differs to its two values: ``name``, ``type``,
    ``args.<argument>``, ``input_shapes``, ``output_shape``, ``extra_outputs`` and
    the figures of :data:`FIELDS`.
    """

    status: str
    old: object
    new: object
    changes: dict

    @property
    def name(self) -> str:
        return (self.new or self.old).name

    def delta(self, field: str) -> Delta:
        return Delta(getattr(self.old, field) if self.old is not None else None,
                     getattr(self.new, field) if self.new is not None else None)

    def to_dict(self) -> dict:
        d = {"status": self.status, "name": self.name,
             "old_name": self.old.name if self.old is not None else None,
             "type": (self.new or self.old).type}
        d["changes"] = {k: {"old": a, "new": b} for k, (a, b) in self.changes.items()}
        for f in FIELDS:
            dl = self.delta(f)
            d[f] = {"old": dl.old, "new": dl.new, "change": dl.change}
        return d


class BlockChange(NamedTuple):
    """A block instance or repeat (matched by name) with its summed figures on both sides."""

    name: str
    level: int
    old: object  # layercalc.tree.TreeNode or None
    new: object

    @property
    def status(self) -> str:
        if self.old is None:
            return ADDED
        if self.new is None:
            return REMOVED
        same = (self.old.label == self.new.label and self.old.layers == self.new.layers
                and all(self.old.figures[f] == self.new.figures[f] for f in FIELDS))
        return SAME if same else CHANGED

    @property
    def label(self) -> str:
        old, new = (self.old.label if self.old else None), (self.new.label if self.new else None)
        return old if old == new or new is None else new if old is None else f"{old} -> {new}"

    def delta(self, field: str) -> Delta:
        if field == "layers":
            return Delta(self.old.layers if self.old else None, self.new.layers if self.new else None)
        return Delta(self.old.figures[field] if self.old else None, self.new.figures[field] if self.new else None)

    def to_dict(self) -> dict:
        d = {"name": self.name, "status": self.status, "level": self.level,
             "old_type": self.old.label if self.old else None, "new_type": self.new.label if self.new else None}
        for f in ("layers",) + FIELDS:
            dl = self.delta(f)
            d[f] = {"old": dl.old, "new": dl.new, "change": dl.change}
        return d


class Diff:
    """The comparison of two reports: ``layers`` (a :class:`LayerChange` per layer, in the new
    order with removed layers where they were), ``blocks`` (:class:`BlockChange`), ``totals``
    (field -> :class:`Delta`) and ``outputs`` (name -> (old shape, new shape))."""

    def __init__(self, old, new, old_label: str, new_label: str, layers: list[LayerChange],
                 blocks: list[BlockChange], totals: dict, outputs: dict):
        self.old = old
        self.new = new
        self.old_label = old_label
        self.new_label = new_label
        self.layers = layers
        self.blocks = blocks
        self.totals = totals
        self.outputs = outputs

    def count(self, status: str) -> int:
        return sum(1 for c in self.layers if c.status == status)

    @property
    def only_renamed(self) -> bool:
        """True when nothing but layer names differ (every figure and shape is the same)."""
        return all(c.status in (SAME, RENAMED) for c in self.layers) and all(
            d.change == 0 for d in self.totals.values()) and all(a == b for a, b in self.outputs.values())

    def to_dict(self) -> dict:
        return {
            "layercalc": 1,
            "old": {"name": self.old.name, "file": self.old_label},
            "new": {"name": self.new.name, "file": self.new_label},
            "summary": {s: self.count(s) for s in (ADDED, REMOVED, CHANGED, RENAMED, SAME)},
            "totals": {k: {"old": d.old, "new": d.new, "change": d.change,
                           "percent": None if d.percent is None else round(d.percent, 4)}
                       for k, d in self.totals.items()},
            "outputs": {k: {"old": a, "new": b} for k, (a, b) in self.outputs.items()},
            "blocks": [b.to_dict() for b in self.blocks],
            "layers": [c.to_dict() for c in self.layers if c.status != SAME],
        }


def _same_arg(a, b) -> bool:
    """Equal arguments, with ``3`` and ``(3, 3)`` the same (torch expands one value per dimension)."""
    if a == b:
        return True
    if isinstance(a, (tuple, list)) and not isinstance(b, (tuple, list)):
        a, b = b, a
    return (not isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)) and len(b) > 0
            and all(x == a for x in b))


def _compare(old, new) -> dict:
    """What differs between two matched rows: field -> (old, new)."""
    changes = {}
    if old.name != new.name:
        changes["name"] = (old.name, new.name)
    if old.type != new.type:
        changes["type"] = (old.type, new.type)
    if old.args != new.args:
        for k in list(old.args) + [k for k in new.args if k not in old.args]:
            a, b = old.args.get(k), new.args.get(k)
            if not _same_arg(a, b):
                changes[f"args.{k}"] = (a, b)
    for f in ("input_shapes", "output_shape", "extra_outputs") + FIELDS:
        a, b = getattr(old, f), getattr(new, f)
        if a != b:
            changes[f] = (a, b)
    return changes


def match_layers(old_rows, new_rows) -> list[tuple[int | None, int | None]]:
    """Pairs of indexes (old, new): matched by name, then the rest by position (aligned on their
    types, so an inserted layer does not shift every match after it); None on the side a layer lacks."""
    new_index = {r.name: j for j, r in enumerate(new_rows)}
    pair_of_new: dict[int, int] = {}
    left_old = []
    for i, r in enumerate(old_rows):
        j = new_index.get(r.name)
        if j is None:
            left_old.append(i)
        else:
            pair_of_new[j] = i
    left_new = [j for j in range(len(new_rows)) if j not in pair_of_new]
    if left_old and left_new:
        a = [old_rows[i].type for i in left_old]
        b = [new_rows[j].type for j in left_new]
        for tag, i1, i2, j1, j2 in SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
            if tag == "equal":
                for k in range(i2 - i1):
                    pair_of_new[left_new[j1 + k]] = left_old[i1 + k]
    matched_old = set(pair_of_new.values())
    pairs: list[tuple[int | None, int | None]] = []
    removed = [i for i in range(len(old_rows)) if i not in matched_old]
    r = 0
    for j in range(len(new_rows)):
        i = pair_of_new.get(j)
        if i is not None:
            while r < len(removed) and removed[r] < i:  # removed layers where they were
                pairs.append((removed[r], None))
                r += 1
        pairs.append((i, j))
    pairs.extend((i, None) for i in removed[r:])
    return pairs


def _groups(roots) -> dict:
    """Every block instance and repeat of a tree by name, in order."""
    out = {}
    for root in roots:
        for node in root.walk():
            if node.kind != "layer":
                out[node.name] = node
    return out


def diff_reports(old, new, old_label: str | None = None, new_label: str | None = None) -> Diff:
    """Compare two :class:`~layercalc.report.Report` objects (old first)."""
    pairs = match_layers(old.layers, new.layers)
    layers = []
    for i, j in pairs:
        o = old.layers[i] if i is not None else None
        n = new.layers[j] if j is not None else None
        if o is None:
            layers.append(LayerChange(ADDED, None, n, {}))
        elif n is None:
            layers.append(LayerChange(REMOVED, o, None, {}))
        else:
            changes = _compare(o, n)
            status = SAME if not changes else RENAMED if list(changes) == ["name"] else CHANGED
            layers.append(LayerChange(status, o, n, changes))
    old_groups, new_groups = _groups(old.tree()), _groups(new.tree())
    blocks = [BlockChange(name, node.level, old_groups.get(name), node) for name, node in new_groups.items()]
    blocks += [BlockChange(name, node.level, node, None) for name, node in old_groups.items() if name not in new_groups]
    totals = {k: Delta(old.totals[k], new.totals[k]) for k in TOTALS if k in old.totals and k in new.totals}
    names = list(old.outputs) + [k for k in new.outputs if k not in old.outputs]
    outputs = {k: (old.outputs.get(k), new.outputs.get(k)) for k in names}
    return Diff(old, new, old_label or old.file, new_label or new.file, layers, blocks, totals, outputs)


# --- reading a side ---------------------------------------------------------------------------

def read_spec(arg: str, cwd: str | None = None) -> tuple[str, str]:
    """(text, label) of a spec argument: a path, ``-``, or ``git:REV:PATH``.

    ``git:REV:PATH`` is the file as ``git show REV:PATH`` prints it in the
    repository of ``cwd`` (PATH from the repository's root, or ``./PATH`` from
    ``cwd``). An unreadable one raises :class:`SpecError` (``Y006``).
    """
    if not arg.startswith("git:"):
        from .engine import read_source

        return read_source(arg)
    rev, sep, path = arg[4:].partition(":")
    mark = Mark(arg, 1, 1)
    if not sep or not rev or not path:
        raise SpecError(mark, f"'{arg}' is not of the form git:REV:PATH",
                        "write e.g. git:HEAD:specs/model.yaml or git:main:./model.yaml", code="Y006")
    try:
        proc = subprocess.run(["git", "show", f"{rev}:{path}"], cwd=cwd, capture_output=True, timeout=60)
    except FileNotFoundError:
        raise SpecError(mark, "git is not installed", "install git, or compare two files", code="Y006") from None
    except subprocess.TimeoutExpired:
        raise SpecError(mark, "git show did not answer within 60 s", "check the repository", code="Y006") from None
    if proc.returncode != 0:
        why = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise SpecError(mark, f"git cannot show {rev}:{path} ({why[-1] if why else 'exit ' + str(proc.returncode)})",
                        "check the revision and the path (from the repository's root, or ./PATH from here)",
                        code="Y006")
    try:
        return proc.stdout.decode("utf-8"), arg
    except UnicodeDecodeError as exc:
        raise SpecError(mark, f"the file is not UTF-8 text (byte {exc.start})", "save it as UTF-8",
                        code="Y006") from None


def diff_specs(old_arg: str, new_arg: str, dims=None, vars=None, dtype: str = "float32",
               max_layers: int | None = None) -> Diff:
    """Analyze two specs (paths, ``-`` or ``git:REV:PATH``) with the same overrides and compare them."""
    from .engine import analyze
    from .spec.graph import DEFAULT_MAX_LAYERS

    sides = []
    for arg in (old_arg, new_arg):
        text, label = read_spec(arg)
        sides.append((analyze(text, dims=dims, vars=vars, dtype=dtype, max_layers=max_layers or DEFAULT_MAX_LAYERS,
                              file=label), label))
    (old, old_label), (new, new_label) = sides
    return diff_reports(old, new, old_label, new_label)


# --- budgets on the change ----------------------------------------------------------------------

class Gate(NamedTuple):
    """A budget on the increase of a total: ``limit`` is a count, or a percent of the old total."""

    field: str
    limit: float
    percent: bool
    text: str


def parse_gate(field: str, text: str) -> Gate:
    """``"5%"`` (of the old total), ``"1G"``, ``"250k"``, ``"0"``; raises ValueError otherwise."""
    value = text.strip()
    if value.endswith("%"):
        try:
            pct = float(value[:-1])
        except ValueError:
            raise ValueError(f"{text!r} is not a percentage; write e.g. 5%") from None
        if not pct >= 0 or pct == float("inf"):
            raise ValueError(f"{text!r}: a percentage must be a number >= 0")
        return Gate(field, pct, True, value)
    from .lint.config import ConfigError, parse_quantity

    try:
        return Gate(field, parse_quantity(value, "the budget"), False, value)
    except ConfigError as exc:
        raise ValueError(str(exc)) from None


class GateResult(NamedTuple):
    gate: Gate
    delta: Delta
    exceeded: bool

    def message(self) -> str:
        d, g = self.delta, self.gate
        pct = f" ({d.percent:+.2f}%)" if d.percent is not None else ""
        verdict = "exceeds" if self.exceeded else "within"
        return f"{g.field} {d.change:+,}{pct} {verdict} the budget of +{g.text}"


def check_gates(diff: Diff, gates: list[Gate]) -> list[GateResult]:
    """Each gate against the increase of its total. An increase over a percentage of an old total
    of 0 exceeds any percentage; a decrease never exceeds."""
    results = []
    for g in gates:
        d = diff.totals[g.field]
        if d.change <= 0:
            exceeded = False
        elif g.percent:
            exceeded = d.old == 0 or 100 * d.change > g.limit * d.old
        else:
            exceeded = d.change > g.limit
        results.append(GateResult(g, d, exceeded))
    return results


def listed_changes(diff: Diff) -> list:
    """The changes a report lists, in order: a :class:`BlockChange` for a block instance or
    repeat added or removed as a whole (its layers are not listed one by one), and a
    :class:`LayerChange` for every other layer that is not unchanged."""
    whole: dict = {}  # (status, first leaf name) -> the outermost wholly added/removed group
    skip: set = set()  # (status, leaf name) of the layers inside those groups
    alone = {(c.status, c.name) for c in diff.layers if c.status in (ADDED, REMOVED)}
    for b in diff.blocks:
        if b.status not in (ADDED, REMOVED):
            continue
        node = b.new if b.status == ADDED else b.old
        leaves = [n.name for n in node.walk() if n.kind == "layer"]
        if (b.status, leaves[0]) in skip:  # inside a group already listed
            continue
        if not all((b.status, name) in alone for name in leaves):  # some layer of it was matched by position
            continue
        whole[(b.status, leaves[0])] = b
        skip.update((b.status, name) for name in leaves)
    out = []
    for c in diff.layers:
        if c.status == SAME:
            continue
        if c.status in (ADDED, REMOVED):
            key = (c.status, c.name)
            if key in whole:
                out.append(whole[key])
            if key in skip:
                continue
        out.append(c)
    return out
