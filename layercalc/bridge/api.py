"""``layercalc.from_torch`` and the pieces of ``layercalc import``: load a model, read it, fold it, write it."""

from __future__ import annotations

from .errors import BridgeError, ImportFailed, require_torch

DTYPES = ("float16", "bfloat16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool")


def example_inputs(inputs):
    """Example inputs as meta tensors: from shapes, (shape, dtype) pairs, tensors, or a dict name -> one of these.

    Returns (names or None, tensors)."""
    torch = require_torch()
    names = None
    if isinstance(inputs, dict):
        names = list(inputs)
        inputs = list(inputs.values())
    elif isinstance(inputs, torch.Tensor) or (isinstance(inputs, (tuple, list)) and inputs
                                               and all(isinstance(d, int) for d in inputs)):
        inputs = [inputs]
    tensors = []
    for item in inputs:
        if isinstance(item, torch.Tensor):
            tensors.append(torch.empty(item.shape, dtype=item.dtype, device="meta"))
            continue
        dtype = "float32"
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], (str, torch.dtype)):
            item, dtype = item
        if isinstance(dtype, str):
            if dtype not in DTYPES:
                raise BridgeError(f"unknown dtype {dtype!r}; expected one of {', '.join(DTYPES)}")
            dtype = getattr(torch, dtype)
        shape = [int(d) for d in item]
        if any(d < 0 for d in shape):
            raise BridgeError(f"an input shape has a negative size: {shape}")
        tensors.append(torch.zeros(shape, dtype=dtype, device="meta"))
    return names, tensors


def read_model(model, inputs, name: str | None = None, dims: dict | None = None, header: str = "",
               input_names: list | None = None) -> str:
    """Trace ``model`` on ``inputs`` and return the spec's YAML text."""
    require_torch()
    from .fx_import import trace

    names, tensors = example_inputs(inputs)
    reader = trace(model, tensors, input_names or names)
    return write_spec(reader, name or type(model).__name__, dims, header)


def write_spec(reader, name: str, dims: dict | None = None, header: str = "") -> str:
    """Prune, fold and write the layers a reader read as the spec's YAML text."""
    from .emit import to_yaml
    from .fold import fold

    prune(reader)
    folded = fold(reader.layers, [n for n, _, _ in reader.inputs], reader.output_srcs(),
                  getattr(reader, "transparent", ()))
    spec_inputs = []
    dim_values = {}
    for iname, shape, dtype in reader.inputs:
        shape = list(shape)
        for dname, axis in (dims or {}).items():
            if axis < len(shape):
                dim_values.setdefault(dname, shape[axis])
                if shape[axis] == dim_values[dname]:
                    shape[axis] = dname
        spec_inputs.append((iname, shape, dtype))
    notes = list(reader.notes)
    text_header = "\n".join(x for x in [header] + notes if x)
    return to_yaml(folded, name, spec_inputs, text_header, dim_values or None)


def prune(reader) -> None:
    """Drop layers whose output nothing reads and that hold no parameters (the unused piece of a chunk)."""
    outputs = {s.name for s in reader.output_srcs()}
    keep = []
    read = set(outputs)
    for layer in reversed(reader.layers):
        if (layer.name in read or layer.module is not None and any(True for _ in layer.module.parameters())
                or layer.type in ("Parameter", "Buffer")):
            keep.append(layer)
            read |= {s.name for s in layer.inputs}
            if layer.share:
                read.add(layer.share)
            if layer.tie:
                read.add(layer.tie)
    reader.layers = keep[::-1]


def from_torch(model, inputs, name: str | None = None, dims: dict | None = None) -> str:
    """The spec of a PyTorch module, as YAML text.

    ``inputs``: the example inputs, as shapes (``(1, 3, 224, 224)``), ``(shape, dtype)`` pairs,
    tensors, or a dict from input name to one of these. ``dims``: dim name -> axis of the inputs
    written as that name (``{"B": 0}``). Raises :class:`~layercalc.bridge.errors.ImportFailed`
    (with one line per unsupported op) or :class:`~layercalc.bridge.errors.BridgeError`.
    """
    return read_model(model, inputs, name=name, dims=dims)


__all__ = ["from_torch", "read_model", "example_inputs", "ImportFailed", "BridgeError"]
