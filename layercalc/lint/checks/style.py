"""Style warnings about layer sequences that are legal but almost always a mistake.

* ``W002`` style.bias-before-norm: a convolution or Linear with a bias whose
  output goes only to a BatchNorm/InstanceNorm, which removes the per-channel
  mean and with it the bias (when the bias runs along the channels)::

      - Conv2d: {out_channels: 64, kernel_size: 3}   # W002: bias defaults to true
      - BatchNorm2d

* ``W003`` style.dropout-at-output: a Dropout produces a model output.
* ``W006`` style.softmax-at-output: a Softmax or Softmin produces a model
  output (losses expect logits).

A block instance that produces the output is followed to its last layer.
"""

from __future__ import annotations

from ..problem import Problem
from .scopes import output_entries

CODES = ("W002", "W003", "W006")

BIASED = frozenset({"Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d", "Linear"})
MEAN_NORMS = frozenset({"BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "InstanceNorm1d", "InstanceNorm2d",
                        "InstanceNorm3d"})
DROPOUTS = frozenset({"Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout", "FeatureAlphaDropout",
                      "StochasticDepth"})
SOFTMAXES = frozenset({"Softmax", "Softmin"})


def _has_bias(entry) -> tuple[bool, object]:
    args = entry.args or {}
    if "bias" in args:
        return args["bias"] is True, args.vmarks["bias"]
    return True, entry.mark


def _single(entry) -> bool:
    return entry.repeat == 1 or entry.repeat is None


def _output_ranks(ctx) -> dict:
    """Entry position -> the ranks of its outputs (every instance), when the engine ran."""
    ranks: dict = {}
    if ctx.graph is not None and ctx.report is not None:
        for node, row in zip(ctx.graph.nodes, ctx.report.layers):
            ranks.setdefault(tuple(node.mark), set()).add(len(row.output_shape))
    return ranks


def _bias_is_per_channel(entry, ranks: dict) -> bool:
    """Whether the layer's bias runs along dimension 1, the norm's channels.

    True for a batched convolution (N, C, ...) and a Linear with a 2-D output
    (N, features). A Linear on (N, L, features) feeds BatchNorm1d L
    "channels": its bias is not per channel, so not cancelled. Without the
    engine's shapes, convolutions are assumed batched and Linear is skipped.
    """
    seen = ranks.get(tuple(entry.mark))
    want = 2 if entry.type == "Linear" else int(entry.type[-2]) + 2
    if seen is None:
        return entry.type != "Linear"
    return seen == {want}


def check(ctx):
    ranks = None
    for scope in ctx.scopes:
        for slot in scope.slots:
            e = slot.entry
            if e.type not in BIASED or not _single(e) or slot.is_output or len(slot.consumers) != 1:
                continue
            nxt = scope.slots[slot.consumers[0]]
            if nxt.entry.type not in MEAN_NORMS:
                continue
            bias, mark = _has_bias(e)
            if ranks is None:
                ranks = _output_ranks(ctx)
            if bias and _bias_is_per_channel(e, ranks):
                default = "" if e.args and "bias" in e.args else " (bias defaults to true)"
                yield Problem(ctx.file, mark.line, mark.col, "W002",
                              f"{e.type} '{slot.name}' in {scope.where} has a bias{default}, but "
                              f"{nxt.entry.type} '{nxt.name}' right after it subtracts the per-channel mean, which "
                              "cancels the bias: its parameters are learned for nothing",
                              f"add `bias: false` to the {e.type}")
    for top, leaf, path in output_entries(ctx.spec, ctx.scopes):
        via = f" (the last layer of block {' -> '.join(path)})" if path else ""
        if leaf.type in DROPOUTS:
            yield Problem(ctx.file, top.mark.line, top.mark.col, "W003",
                          f"the model output comes from {leaf.type}{via}: it zeroes random outputs in training "
                          "and does nothing at inference",
                          "put the Dropout before the last layer with parameters, or remove it")
        elif leaf.type in SOFTMAXES:
            yield Problem(ctx.file, top.mark.line, top.mark.col, "W006",
                          f"the model output comes from {leaf.type}{via}; PyTorch's losses such as "
                          "CrossEntropyLoss expect logits and normalize them again",
                          "end the model at the logits, or ignore W006 for an inference-only spec")
