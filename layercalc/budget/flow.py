"""Which tensors require grad: the model's inputs never; a layer's output when an input does or its
weights are trainable."""

from __future__ import annotations

from ..layers.registry import takes_no_input


def weights_trainable(node, row, trainable: dict) -> bool:
    """Whether a layer's weights get gradients: its own flag, or for ``share``/``tie`` the owner's (one
    parameter, one requires_grad). ``trainable`` maps the layers seen so far to their answer."""
    owner = node.share or node.tie
    w = bool(row.param_shapes) and (trainable[owner] if owner is not None else node.trainable)
    trainable[node.name] = w
    return w


def grad_flow(graph, report):
    """Per row: (which inputs require grad, whether its weights are trainable, whether its output requires
    grad). The model's inputs never require grad; a layer's output does when an input does or it has
    trainable parameters."""
    req = {(name, None): False for name in report.inputs}
    out = []
    trainable = {}
    for node, row in zip(graph.nodes, report.layers):
        ins = [(s.node, s.extra) for s in node.inputs] if not takes_no_input(row.type) else []
        r_in = [req[k] for k in ins]
        w = weights_trainable(node, row, trainable)
        o = any(r_in) or w
        req[(node.name, None)] = o
        for extra in row.extra_outputs:
            req[(node.name, extra)] = o
        out.append((r_in, w, o))
    return out
