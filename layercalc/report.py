"""The result of an analysis: per-layer rows and totals, independent of any renderer."""

from __future__ import annotations


class LayerRow:
    """One leaf layer of the report. The first ten fields are the JSON report's; the rest are
    details for verify, lint and the renderers."""

    __slots__ = ("name", "type", "input_shapes", "output_shape", "extra_outputs", "params", "trainable_params",
                 "buffers", "macs", "flops", "param_shapes", "buffer_shapes", "args", "line", "shared", "group")

    def __init__(self, name: str, type: str, input_shapes: list[list[int]], output_shape: list[int],
                 extra_outputs: dict[str, list[int]], params: int, trainable_params: int, buffers: int, macs: int,
                 flops: int, param_shapes: dict | None = None, buffer_shapes: dict | None = None,
                 args: dict | None = None, line: int = 0, shared: str | None = None, group=None):
        self.name = name
        self.type = type
        self.input_shapes = input_shapes
        self.output_shape = output_shape
        self.extra_outputs = extra_outputs
        self.params = params
        self.trainable_params = trainable_params
        self.buffers = buffers
        self.macs = macs
        self.flops = flops
        self.param_shapes = param_shapes or {}
        self.buffer_shapes = buffer_shapes or {}
        self.args = args or {}  # resolved arguments after the rule ran (inferred ones filled in)
        self.line = line
        self.shared = shared  # the layer whose parameters this one reuses (`share`/`tie`)
        self.group = group  # the innermost block instance or repeat (layercalc.spec.graph.Group), None at the top

    def __repr__(self) -> str:
        return f"LayerRow({self.to_dict()!r})"

    def to_dict(self) -> dict:
        return {
            "name": self.name, "type": self.type, "input_shapes": self.input_shapes,
            "output_shape": self.output_shape, "extra_outputs": self.extra_outputs,
            "params": self.params, "trainable_params": self.trainable_params, "buffers": self.buffers,
            "macs": self.macs, "flops": self.flops,
        }


class Report:
    """The analysis of one spec: rows in execution order, outputs and totals (``to_dict`` is the JSON report)."""

    def __init__(self, name: str, file: str, dims: dict[str, int], inputs: dict[str, list[int]],
                 layers: list[LayerRow], outputs: dict[str, list[int]], totals: dict[str, int],
                 dtype: str = "float32", input_dtypes: dict[str, str] | None = None):
        self.name = name
        self.file = file
        self.dims = dims
        self.inputs = inputs
        self.layers = layers
        self.outputs = outputs
        self.totals = totals
        self.dtype = dtype
        self.input_dtypes = input_dtypes or {}

    def to_dict(self) -> dict:
        return {
            "layercalc": 1,
            "name": self.name,
            "dims": self.dims,
            "inputs": self.inputs,
            "layers": [row.to_dict() for row in self.layers],
            "outputs": self.outputs,
            "totals": self.totals,
        }

    def tree(self, fields: list[str] | None = None, combine: dict | None = None) -> list:
        """The layers nested under their block instances and repeats, with summed figures
        (a list of :class:`layercalc.tree.TreeNode`; see that module for folding to a depth)."""
        from .tree import build_tree

        return build_tree(self.layers, self.inputs, fields, combine)

    def layer(self, name: str) -> LayerRow:
        for row in self.layers:
            if row.name == name:
                return row
        raise KeyError(name)
