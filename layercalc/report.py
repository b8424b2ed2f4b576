"""The result of an analysis: per-layer rows and totals, independent of any renderer."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class LayerRow:
    name: str
    type: str
    input_shapes: list[list[int]]
    output_shape: list[int]
    extra_outputs: dict[str, list[int]]
    params: int
    trainable_params: int
    buffers: int
    macs: int
    flops: int
    # not in the JSON report: details for verify, lint and the renderers
    param_shapes: dict = field(default_factory=dict, repr=False)
    buffer_shapes: dict = field(default_factory=dict, repr=False)
    args: dict = field(default_factory=dict, repr=False)
    line: int = 0
    shared: str | None = None  # the layer whose parameters this one reuses (`share`/`tie`)
    written: dict = field(default_factory=dict, repr=False)  # arguments before the rule ran (inferable ones None)
    given: dict = field(default_factory=dict, repr=False)  # the arguments the spec wrote

    def to_dict(self) -> dict:
        return {
            "name": self.name, "type": self.type, "input_shapes": self.input_shapes,
            "output_shape": self.output_shape, "extra_outputs": self.extra_outputs,
            "params": self.params, "trainable_params": self.trainable_params, "buffers": self.buffers,
            "macs": self.macs, "flops": self.flops,
        }


@dataclass
class Report:
    name: str
    file: str
    dims: dict[str, int]
    inputs: dict[str, list[int]]
    layers: list[LayerRow]
    outputs: dict[str, list[int]]
    totals: dict[str, int]
    dtype: str = "float32"
    input_dtypes: dict[str, str] = field(default_factory=dict)

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

    def layer(self, name: str) -> LayerRow:
        for row in self.layers:
            if row.name == name:
                return row
        raise KeyError(name)
