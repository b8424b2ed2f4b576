"""Receptive fields (`layercalc shape --receptive-field`) against a brute-force computation in the
reference executor.

The brute force knows no formula: for every layer, along one spatial axis at a time, it runs the
layer's reference kernel (the executor's own reading of the written arguments, with channels and
samples cut to one or two) on a random input, moves one input position at a time by a large
amount and records which output positions change. Those local maps are composed through the real
graph (skips and concatenations included) as sets of positions of the network's input, at the
spec's real sizes. For every output position of every layer, the analytic window
``start + i*jump ... start + i*jump + size - 1`` must contain the positions found, and its ends
must be reached wherever they lie inside the input (so size, stride and padding are all pinned
where the input is wide enough: the test widens it where the field is larger than the input).
"""

import os
import random

import pytest

from layercalc.engine import load_graph, run_graph
from layercalc.receptive import receptive_fields
from layercalc.reference.kernel import run_kernel
from layercalc.reference.registry import KERNELS
from layercalc.reference.signatures import parse_args
from layercalc.reference.tensor import Tensor

HERE = os.path.dirname(os.path.abspath(__file__))
CHANNEL_ARGS = ("in_channels", "out_channels", "num_features", "num_channels")
WINDOW_TYPES = ("Conv", "MaxPool", "AvgPool", "LPPool")
BUMP = 1000.0

DILATED = """layercalc: 1
name: dilated-skip
inputs:
  x: [1, 3, 61, 45]
layers:
  - Conv2d: {out_channels: 4, kernel_size: 3, dilation: 2, padding: 2}
    name: a
  - Conv2d: {out_channels: 4, kernel_size: [3, 5], stride: 2, dilation: [1, 3], padding: [1, 6]}
    name: b
  - ReLU
  - Conv2d: {out_channels: 4, kernel_size: 3, padding: same, dilation: 3}
    name: c
  - Conv2d: {out_channels: 4, kernel_size: 1, stride: 2}
    from: a
    name: shortcut
  - Add:
    from: [c, shortcut]
    name: join
  - ZeroPad2d: {padding: [2, 0, 1, 1]}
    name: pad
  - MaxPool2d: {kernel_size: 3, stride: 2, ceil_mode: true}
    name: pool
  - Conv2d: {out_channels: 2, kernel_size: 1}
    from: pool
    name: plain
  - Conv2d: {out_channels: 2, kernel_size: 3, dilation: 4, padding: 4}
    from: pool
    name: wide
  - Concat: {dim: 1}
    from: [plain, wide]
    name: cat
  - AvgPool2d: {kernel_size: 2, stride: 1}
  - AdaptiveAvgPool2d: {output_size: [3, 1]}
    name: gap
"""


def probe_size(row, args, axis_len_other, n):
    """The length of a non-tested axis: small, but long enough for the layer to run."""
    t = row.type
    if t.startswith(WINDOW_TYPES):
        k = args["kernel_size"]
        k = k[0] if isinstance(k, (tuple, list)) else k
        d = args.get("dilation", 1) or 1
        d = d[0] if isinstance(d, (tuple, list)) else d
        p = args.get("padding", 0)
        p = 0 if isinstance(p, str) else (p[0] if isinstance(p, (tuple, list)) else p)
        return max(1, (max(k) if isinstance(k, tuple) else k) * max(d if isinstance(d, tuple) else (d,)))
    if t.startswith("Adaptive"):
        return axis_len_other
    return 1


def local_maps(node, row, axis, n, cache):
    """For each operand: output position along ``axis`` -> the set of operand positions that move it."""
    args = parse_args(node.type, node.args, node.env)
    # windows run on one sample of one channel (they are most of the work); anything else on two of each,
    # so that a reduction over channels or samples (a softmax) still sees a move of one
    per = 1 if node.type.startswith(WINDOW_TYPES) else 2
    for key in CHANNEL_ARGS:
        if args.get(key) is not None:
            args[key] = per
    if "groups" in args:
        args["groups"] = 1
    shapes = [list(s) for s in row.input_shapes]
    spatial = [s[-n:] for s in shapes]
    sizes = []
    for sp in spatial:
        size = []
        for d in range(n):
            if d == axis:
                size.append(sp[d])
            elif row.type.startswith("Adaptive") or row.type.endswith(("Pad1d", "Pad2d", "Pad3d")) or sp[d] == 1:
                size.append(sp[d])
            else:
                size.append(min(sp[d], _other(row.type, args, d, n)))
        sizes.append(size)
    key = (node.type, repr(sorted(args.items())), repr(sizes), axis)
    if key in cache:
        return cache[key]
    rng = random.Random(7)
    # positive values: a power average of a negative number is not a number
    inputs = [Tensor([per, per] + s, [rng.uniform(0.1, 1) for _ in range(per * per * _prod(s))]) for s in sizes]
    base = run_kernel(KERNELS[node.type], args, inputs, seed=1).output
    if len(base.shape) != 2 + n or base.shape[2 + axis] != row.output_shape[-n + axis]:
        raise ValueError("the probe does not keep the layer's spatial layout")
    out_len = base.shape[2 + axis]
    out_index = _indices(list(base.shape))
    maps = []
    for m, x in enumerate(inputs):
        deps = [set() for _ in range(out_len)]
        for j in range(x.shape[2 + axis]):
            # sample 0, channel 0 only: a softmax over channels ignores a move of all of them
            moved = Tensor(x.shape, [v + BUMP if idx[0] == 0 and idx[1] == 0 and idx[2 + axis] == j else v
                                     for v, idx in zip(x.data, _indices(list(x.shape)))])
            ins = list(inputs)
            ins[m] = moved
            out = run_kernel(KERNELS[node.type], args, ins, seed=1).output
            for v0, v1, idx in zip(base.data, out.data, out_index):
                if v0 != v1 and (v0 == v0 or v1 == v1):  # moved (NaN on both sides did not move)
                    deps[idx[2 + axis]].add(j)
        maps.append(deps)
    cache[key] = maps
    return maps


def _other(t, args, d, n):
    if t.startswith(WINDOW_TYPES):
        def at(name, default):
            v = args.get(name, default)
            if v is None or isinstance(v, str):
                return default
            return v[d] if isinstance(v, (tuple, list)) else v
        k, dil = at("kernel_size", 1), at("dilation", 1)
        return max(1, (k - 1) * dil + 1)
    return 1


def _prod(s):
    out = 1
    for v in s:
        out *= v
    return out


def _indices(spatial):
    import itertools

    return list(itertools.product(*(range(v) for v in spatial)))


def brute_force(graph, report, image, axis, n):
    """Layer name -> per output position along ``axis``: the set (a bit mask) of input positions it reads."""
    length = report.inputs[image][-n + axis]
    deps = {image: [1 << j for j in range(length)]}
    cache = {}
    for node, row in zip(graph.nodes, report.layers):
        if any(s.node not in deps or s.extra for s in node.inputs) or not node.inputs:
            continue  # the field ended upstream
        if any(len(s) < n + 2 for s in row.input_shapes) or len(row.output_shape) < n + 2 or \
                node.type in ("Flatten", "Linear"):
            continue
        try:
            maps = local_maps(node, row, axis, n, cache)
        except Exception:  # noqa: BLE001 - a layer the small probe cannot run: no brute force below it
            continue
        out = []
        for o in range(row.output_shape[-n + axis]):
            mask = 0
            for src, m in zip(node.inputs, maps):
                for j in m[o]:
                    mask |= deps[src.node][j]
            out.append(mask)
        deps[node.name] = out
    return deps


def check(spec_text, file, borders=True):
    """Compare every field with the brute force; ``borders=False`` checks only the output positions
    whose window lies inside the input (reflected, replicated and circular padding fold the borders)."""
    graph = load_graph(spec_text, file=file)
    report = run_graph(graph)
    image, rows, _ = receptive_fields(graph, report)
    n = len(report.inputs[image]) - 2
    pinned = 0
    checked = set()
    for axis in range(n):
        width = report.inputs[image][-n + axis]
        deps = brute_force(graph, report, image, axis, n)
        for row in rows:
            if row.field is None:
                continue
            if row.name not in deps:  # the brute force reaches every layer with a field, but those that
                # change the rank (Select) and what follows them
                assert any(len(report.layer(a).output_shape) != n + 2 for a in _upstream(graph, row.name)), row
                continue
            found = deps[row.name]
            assert len(found) == row.output_shape[-n + axis]
            for o, mask in enumerate(found):
                lo = row.field.start[axis] + o * row.field.jump[axis]
                hi = lo + row.field.size[axis] - 1
                if not borders and (lo < 0 or hi > width - 1):
                    continue
                if not mask:  # a padding layer's own zeros read no input
                    assert row.type.endswith(("Pad1d", "Pad2d", "Pad3d")), (row.name, axis, o)
                    continue
                first, last = (mask & -mask).bit_length() - 1, mask.bit_length() - 1
                assert lo <= first and last <= hi, (row.name, axis, o, (first, last), (lo, hi))
                if lo >= 0:
                    assert first == lo, (row.name, axis, o, first, lo)
                    pinned += 1
                if hi <= width - 1:
                    assert last == hi, (row.name, axis, o, last, hi)
                    pinned += 1
            checked.add(row.name)
    return rows, checked, pinned


def _upstream(graph, name):
    """``name`` and every layer it reads, directly or not."""
    nodes = {nd.name: nd for nd in graph.nodes}
    seen, todo = set(), [name]
    while todo:
        k = todo.pop()
        if k in seen or k not in nodes:
            continue
        seen.add(k)
        todo.extend(s.node for s in nodes[k].inputs)
    return seen


def read(name, **replace):
    with open(os.path.join(HERE, "..", "specs", f"{name}.yaml")) as fh:
        text = fh.read()
    for old, new in replace.items():
        assert old in text
        text = text.replace(old, new)
    return text


def fields(rows):
    return {r.name: r.field for r in rows}


def test_resnet18_equals_brute_force():
    # 224 high, 480 wide: ResNet-18's last field (435) fits in the width, so its ends are pinned there
    rows, checked, pinned = check(read("resnet18", **{"x: [B, 3, 224, 224]": "x: [B, 3, 224, 480]"}), "resnet18.yaml")
    f = fields(rows)
    # the published receptive field of ResNet-18's last conv stage: 435, stride 32
    assert f["layer4.block.relu_1"].size == (435, 435) and f["layer4.block.relu_1"].jump == (32, 32)
    # conv1 7x7/2 pad 3: 7, stride 2, padding 3; maxpool 3x3/2 pad 1: 7 + 2*2 = 11, stride 4, padding 3 + 2 = 5
    assert f["conv1"] == ((7, 7), (2, 2), (-3, -3)) and f["maxpool"] == ((11, 11), (4, 4), (-5, -5))
    assert len(checked) == 69 - 2 and pinned > 1000  # every layer but flatten and fc, the global pool included


def test_vgg16_equals_brute_force():
    rows, checked, pinned = check(read("vgg16", **{"x: [B, 3, 224, 224]": "x: [B, 3, 224, 240]"}), "vgg16.yaml")
    f = fields(rows)
    # each 3x3 conv adds 2 * jump, each 2x2/2 pool adds 1 * jump and doubles it:
    # 3, 5 | 6 (jump 2) | 10, 14 | 16 (4) | 24, 32, 40 | 44 (8) | 60, 76, 92 | 100 (16) | 132, 164, 196 | 212 (32)
    convs = [r.name for r in rows if r.type == "Conv2d"]
    pools = [r.name for r in rows if r.type == "MaxPool2d"]
    assert [f[c].size[0] for c in convs] == [3, 5, 10, 14, 24, 32, 40, 60, 76, 92, 132, 164, 196]
    assert [f[p].size[0] for p in pools] == [6, 16, 44, 100, 212]
    assert f[pools[-1]].jump == (32, 32) and f[convs[-1]].jump == (16, 16)
    assert pinned > 500


def test_dilated_spec_with_a_skip_equals_brute_force():
    rows, checked, pinned = check(DILATED, "dilated.yaml")
    f = fields(rows)
    # a: 3x3 dilation 2 pad 2: 1 + 2*2 = 5, padding 2
    assert f["a"] == ((5, 5), (1, 1), (-2, -2))
    # b: kernel (3, 5), dilation (1, 3), stride 2, padding (1, 6): 5 + 2*1 = 7 and 5 + 4*3 = 17; padding 2+1, 2+6
    assert f["b"] == ((7, 17), (2, 2), (-3, -8))
    # c: 3x3 dilation 3, 'same' (padding 3) on stride 2: 7 + 2*3*2 = 19 and 17 + 12 = 29; padding 3 + 3*2, 8 + 6
    assert f["c"] == ((19, 29), (2, 2), (-9, -14))
    # join = union of c and the 1x1/2 shortcut (field 5 from a, start -2): the larger, c's
    assert f["join"] == f["c"]
    # cat: the union of plain (pool's field) and wide (3x3 dilation 4 pad 4 on pool's stride 4): the larger
    assert f["cat"] == f["wide"] and f["wide"].size[0] == f["pool"].size[0] + 2 * 4 * 4
    assert "gap" in checked and pinned > 100


def test_fields_end_where_positions_mix():
    graph = load_graph(read("resnet18"))
    _, rows, _ = receptive_fields(graph, run_graph(graph))
    f = {r.name: r for r in rows}
    assert f["flatten"].field is None and f["flatten"].note == "Flatten mixes positions at 'flatten'"
    assert f["fc"].note == f["flatten"].note
    graph = load_graph(read("gpt2-small"))
    name, rows, note = receptive_fields(graph, run_graph(graph))
    assert name is None and "not convolutional" in note


def test_the_brute_force_catches_a_wrong_formula(monkeypatch):
    # forget the dilation in the window formula: the brute force must disagree
    import layercalc.receptive as rf

    right = rf._window_field
    monkeypatch.setattr(rf, "_window_field", lambda f, k, s, p, d: right(f, k, s, p, (1,) * len(d)))
    with pytest.raises(AssertionError):
        check(DILATED, "dilated.yaml")


def test_cli_receptive_field(tmp_path):
    import json
    import subprocess
    import sys

    p = subprocess.run([sys.executable, "-m", "layercalc", "shape", os.path.join(HERE, "..", "specs", "resnet18.yaml"),
                        "--receptive-field", "--format", "json"], capture_output=True, text=True)
    assert p.returncode == 0
    d = json.loads(p.stdout)
    layers = {layer["name"]: layer for layer in d["layers"]}
    assert d["input"] == "x"
    assert layers["layer4.block.relu_1"]["receptive_field"] == {"size": [435, 435], "stride": [32, 32],
                                                                "padding": [217, 217], "start": [-217, -217]}
    assert layers["fc"]["receptive_field"] is None and "Flatten" in layers["fc"]["note"]
    p = subprocess.run([sys.executable, "-m", "layercalc", "shape", os.path.join(HERE, "..", "specs", "lenet5.yaml"),
                        "--receptive-field"], capture_output=True, text=True)
    # LeNet-5: C1 5x5 -> 5; S2 2x2/2 -> 6, stride 2; C3 5x5 -> 6 + 4*2 = 14; S4 -> 16, stride 4; C5 5x5 -> 16 + 4*4 = 32
    assert p.returncode == 0 and "C5.conv" in p.stdout
    row = next(line for line in p.stdout.splitlines() if line.strip().startswith("C5.conv"))
    assert row.split()[-3:] == ["32", "4", "0"]


def test_every_bundled_spec_gets_fields_or_a_reason():
    import glob

    from layercalc.receptive import fields_of

    for path in sorted(glob.glob(os.path.join(HERE, "..", "specs", "**", "*.yaml"), recursive=True)):
        report, image, rows, note = fields_of(path)
        assert len(rows) == len(report.layers)
        if image is None:
            assert "not convolutional" in note and all(r.field is None for r in rows), path
        else:
            assert all(r.field is not None or r.note for r in rows), path
            assert all(min(r.field.size) >= 1 and min(r.field.jump) >= 1 for r in rows if r.field), path


@pytest.mark.parametrize("name,borders", [("conv", False), ("pooling", True), ("activation", True),
                                          ("dropout", True), ("norm", True), ("structure", False)])
def test_coverage_specs_equal_brute_force(name, borders):
    # every layer type of the family on its first spatial input: 1-d convolutions with 'same', dilation and
    # reflect padding (interior positions only: reflection folds the borders), every pooling kind with
    # padding, dilation and ceil_mode, element-wise layers, padding layers
    with open(os.path.join(HERE, "..", "specs", "coverage", f"{name}.yaml")) as fh:
        rows, checked, pinned = check(fh.read(), f"coverage/{name}.yaml", borders)
    assert checked and pinned > 0
