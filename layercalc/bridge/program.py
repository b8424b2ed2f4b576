"""Reading a ``torch.export`` program into the flat layers of :mod:`.fx_import`.

Models that ``torch.fx`` cannot trace (HuggingFace's, with their caches, masks and output classes)
are exported with ``torch.export.export(model, args, kwargs, strict=False)``, which records every
ATen op with the modules it ran in (``nn_module_stack``). :class:`ProgramReader` is the same
:class:`~.fx_import.Reader` with two differences:

- **Module calls.** The ops of one call of a module that has a spec type (a ``torch.nn`` module, or
  a row of :data:`~.fx_import.FOREIGN` such as HuggingFace's ``LlamaRMSNorm`` or GPT-2's ``Conv1D``)
  are read together, as ``call_module`` reads a leaf: the outermost such module of a node's stack
  owns it, its inputs are the tensors its ops read from outside, its outputs the ones read outside.
- **Constants.** Ops on tensors built from sizes alone (an attention mask from ``arange``) are run
  for real on the CPU, so that a mask can be recognized as causal or empty; parameters and buffers
  stay on the meta device.

Every other op goes through the same tables as ``torch.fx``'s functions (:data:`~.fx_import.FUNCTIONS`
holds the ATen rows), and folding and writing are shared.
"""

from __future__ import annotations

import torch
import torch.fx as fx

from .errors import ImportFailed, UnsupportedOps
from .fx_import import Layer, Lazy, Reader, Src, module_type

# extra outputs of the types a module call can return more than one tensor of, in torch's order
EXTRA_OUTPUTS = {"RotaryTables": ("sin",)}
# ops that return their input (read through when a module's output is its own input)
_ALIASES = {"contiguous", "alias", "clone", "detach", "to", "_to_copy", "lift_fresh_copy"}


class Call:
    """The ops of one call of a module with a spec type."""

    __slots__ = ("key", "path", "module", "type", "nodes", "depth")

    def __init__(self, key, path, module, type_, depth):
        self.key = key
        self.path = path
        self.module = module
        self.type = type_
        self.nodes: list = []
        self.depth = depth


def module_calls(graph: fx.Graph, root: torch.nn.Module) -> dict:
    """node -> its Call, for the nodes that run inside a module with a spec type."""
    types: dict = {}
    calls: dict = {}
    of: dict = {}
    last = None
    for n in graph.nodes:
        if n.op != "call_function":
            continue
        stack = list((n.meta.get("nn_module_stack") or {}).items())
        owner = None
        for depth, (key, (path, _)) in enumerate(stack):
            if not path:
                continue
            if path not in types:
                try:
                    m = root.get_submodule(path)
                except AttributeError:
                    m = None
                types[path] = (m, module_type(m) if m is not None else None)
            m, t = types[path]
            if t is not None:
                owner = (key, path, m, t, depth)
                break
        if owner is None:
            last = None
            continue
        call = calls.get(owner[0])
        if call is None or call is not last:  # a new call (a module called again is a second Call)
            call = Call(*owner)
            calls[owner[0]] = call
        call.nodes.append(n)
        of[n] = call
        last = call
    return of


def live_nodes(graph: fx.Graph) -> set:
    """The nodes whose values reach the outputs as data: not those that only build an attention mask
    (read as a constant by the attention, see :func:`~.fx_import.mask_kind`)."""
    live: set = set()
    todo = [n for n in graph.nodes if n.op == "output"]
    while todo:
        n = todo.pop()
        if n in live:
            continue
        live.add(n)
        args = list(n.all_input_nodes)
        if n.op == "call_function" and n.target is torch.ops.aten.scaled_dot_product_attention.default:
            mask = n.kwargs.get("attn_mask", n.args[3] if len(n.args) > 3 else None)
            args = [a for a in args if a is not mask]
        todo.extend(args)
    return live


def concrete_constants(graph: fx.Graph, known: dict) -> dict:
    """node -> its value computed on the CPU, for the nodes that depend only on ``known`` placeholders
    (the inputs' example values) and on no parameter or buffer."""
    known = dict(known)

    def value(a):
        return known[a]

    for n in graph.nodes:
        if n.op != "call_function":
            continue
        if any(a not in known for a in n.all_input_nodes):
            continue
        kwargs = dict(n.kwargs)
        if "device" in kwargs:
            kwargs["device"] = torch.device("cpu")
        try:
            result = n.target(*fx.node.map_arg(n.args, value), **fx.node.map_arg(kwargs, value))
        except Exception:  # noqa: BLE001 - not computable here: stays unknown
            continue
        known[n] = result
    return known


def example_value(name: str, val):
    """The value an input is assumed to hold when a mask is computed from it: positions 0, 1, 2... for
    ``position_ids``, ones for ``attention_mask`` (every token attended), zeros for the others."""
    if not isinstance(val, torch.Tensor):
        return None
    shape = tuple(int(d) for d in val.shape)
    if name == "position_ids" and shape:
        return torch.arange(shape[-1], dtype=val.dtype).expand(shape).clone()
    if name == "attention_mask":
        return torch.ones(shape, dtype=val.dtype)
    return torch.zeros(shape, dtype=val.dtype)


class ProgramReader(Reader):
    """A :class:`Reader` of an exported program's graph (ATen ops, parameters lifted to inputs)."""

    def __init__(self, program, root: torch.nn.Module):
        super().__init__(program.graph_module, root)
        from torch.export.graph_signature import InputKind

        self.program = program
        self.kinds: dict = {}  # placeholder name -> (kind, target)
        for spec in program.graph_signature.input_specs:
            kind = {InputKind.PARAMETER: "param", InputKind.BUFFER: "buffer",
                    InputKind.CONSTANT_TENSOR: "constant", InputKind.USER_INPUT: "input"}.get(spec.kind, "other")
            self.kinds[spec.arg.name] = (kind, spec.target)
        graph = program.graph_module.graph
        self.calls = module_calls(graph, root)
        self.live = live_nodes(graph)
        known = {}
        for n in graph.nodes:
            kind, target = self.kinds.get(n.name, ("", None))
            if n.op == "placeholder" and kind == "constant":
                known[n] = program.constants[target]
            elif n.op == "placeholder" and kind == "input":
                known[n] = example_value(n.name, n.meta.get("val"))
        self.constants = concrete_constants(graph, {n: v for n, v in known.items() if v is not None})

    def flat_inputs(self, user_inputs: dict) -> list:
        """The values of the placeholders: the model's parameters and buffers (on meta), and the inputs by name."""
        user = iter(user_inputs.values())
        out = []
        for spec in self.program.graph_signature.input_specs:
            kind, target = self.kinds[spec.arg.name]
            if kind == "param":
                out.append(self.root.get_parameter(target))
            elif kind == "buffer":
                out.append(self.root.get_buffer(target))
            elif kind == "constant":
                out.append(self.program.constants[target])
            elif spec.arg.name in user_inputs:
                out.append(user_inputs[spec.arg.name])
            else:
                out.append(next(user))
        return out

    def constant_value(self, node):
        return self.constants.get(node)

    def _stack(self) -> list:
        out = []
        for path, _ in (self.node.meta.get("nn_module_stack") or {}).values():
            if path:
                try:
                    out.append((path, type(self.root.get_submodule(path))))
                except AttributeError:
                    continue
        return out

    # --- the node kinds ------------------------------------------------------------------------------------

    def placeholder(self, target, args, kwargs):
        kind, name = self.kinds.get(self.node.name, ("input", None))
        if kind == "input":
            return super().placeholder(target, args, kwargs)
        value = fx.Interpreter.placeholder(self, target, args, kwargs)
        if kind == "param":
            node = self.node
            self.refs[node] = Lazy(lambda: self._parameter(node, name, value))
        return value

    def call_function(self, target, args, kwargs):
        call = self.calls.get(self.node)
        if self.node not in self.live:  # an attention mask: evaluated, not layers
            return fx.Interpreter.call_function(self, target, args, kwargs)
        if call is None:
            return super().call_function(target, args, kwargs)
        result = fx.Interpreter.call_function(self, target, args, kwargs)
        if self.node is call.nodes[-1]:
            self._call_layer(call, result)
        return result

    # --- a module call -------------------------------------------------------------------------------------

    def _call_layer(self, call: Call, result):
        inside = set(call.nodes)
        ins: list = []
        through: dict = {}  # a node of the call that is one of its inputs, unchanged -> that input's Src
        for n in call.nodes:
            for a in n.all_input_nodes:
                if a in inside or self.kinds.get(a.name, ("input",))[0] in ("param", "buffer", "constant"):
                    continue
                r = self._refs(a)
                if isinstance(r, Src):
                    if r not in ins:
                        ins.append(r)
                elif isinstance(self.env.get(a), torch.Tensor) and a not in self.constants:
                    if not self.problems:  # else the op that made it is already reported
                        self._unsupported(f"module {type(call.module).__name__} reading a tensor computed from "
                                          f"a buffer ({a.name})", "pass that tensor as an input of the model")
                elif isinstance(self.env.get(a), torch.Tensor):
                    self._unsupported(f"module {type(call.module).__name__} reading a tensor built inside the "
                                      f"model ({a.name})", "pass that tensor as an input of the model "
                                      "(e.g. --input position_ids=1,128:int64)")
            op = getattr(n.target, "__name__", "").split(".")[0]
            if op in _ALIASES and n.args and isinstance(n.args[0], fx.Node):
                src = self._refs(n.args[0]) if n.args[0] not in inside else through.get(n.args[0])
                if isinstance(src, Src):
                    through[n] = src
        outs = [n for n in call.nodes if n not in through and any(u not in inside for u in n.users)]
        if not outs:
            outs = [call.nodes[-1]]
        extras = EXTRA_OUTPUTS.get(call.type, ())
        if len(outs) > 1 + len(extras):
            self._unsupported(f"module {type(call.module).__name__} returning {len(outs)} tensors",
                              "return one tensor from it, or import the module that calls it")
            return
        layer = self._module_layer(call.path, call.module, call.type, ins, (), {},
                                   result if outs[0] is self.node else self.env[outs[0]])
        stack = self._stack()
        keep = [i for i, (p, _) in enumerate(stack) if p == call.path]
        if keep:
            layer.path = tuple(p for p, _ in stack[:keep[0] + 1])
            layer.classes = tuple(c for _, c in stack[:keep[0] + 1])
        for n, src in through.items():
            self.refs[n] = src
        self.refs[outs[0]] = Src(layer.name)
        for n, extra in zip(outs[1:], extras):
            self.refs[n] = Src(layer.name, extra)

    def _parameter(self, node, target: str, value) -> Src:
        """A parameter that forward reads directly (not through its module): a Parameter layer."""
        saved = self.node
        self.node = node
        try:
            name, layer = self._attribute_layer(target, "Parameter", {"shape": list(value.shape)})
            layer.trainable = value.requires_grad
            self.called[id(value)] = name
        finally:
            self.node = saved
        return Src(name)


def read_program(model: torch.nn.Module, kwargs: dict) -> ProgramReader:
    """Export ``model`` called with the meta tensors ``kwargs`` (non-strict) and read it; raise UnsupportedOps
    listing every gap, ImportFailed when torch.export cannot trace it."""
    model.eval()
    try:
        with torch.no_grad():
            program = torch.export.export(model, (), dict(kwargs), strict=False)
    except Exception as exc:  # noqa: BLE001 - any failure of tracing is reported as one message
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise ImportFailed(f"torch.export cannot trace {type(model).__name__}: {type(exc).__name__}: {first}. "
                           "Fix: check the inputs (names, shapes, dtypes) the model's forward accepts") from None
    reader = ProgramReader(program, model)
    with torch.no_grad():
        reader.run_located(lambda: reader.flat_inputs(kwargs), f"reading {type(model).__name__}")
    if reader.problems:
        raise UnsupportedOps(reader.problems)
    reader.finish()
    return reader


__all__ = ["read_program", "ProgramReader", "Layer"]
