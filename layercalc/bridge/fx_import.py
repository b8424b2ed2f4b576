"""Reading a PyTorch model into a flat list of spec layers with ``torch.fx``.

:class:`Reader` is a ``torch.fx.Interpreter``: it runs the traced graph on meta tensors (so every
size is concrete and shape arithmetic evaluates to numbers, never to layers) and, at each node,
one method per node kind (``call_module``, ``call_function``, ``call_method``, ``get_attr``) turns
the call into a spec layer through a table from torch targets to spec types, one row per mapping:
:data:`MODULES` for ``torch.nn`` modules (read by their attributes), :data:`FUNCTIONS` and
:data:`METHODS` for tensor functions and methods. A call without a row stops the import with the
module path, the op and the source line. Folding the flat result into blocks is a separate pass
(:mod:`.fold`).

Imported only by ``layercalc import`` and :func:`layercalc.from_torch`; needs torch.
"""

from __future__ import annotations

import math
import operator
import re

import torch
import torch.fx as fx
import torch.nn.functional as F
from torch import nn

from ..layers import REGISTRY
from .errors import ImportFailed, ImportProblem, UnsupportedOps

# --- values --------------------------------------------------------------------------------------------------


class Src:
    """A tensor of the spec: a model input, a layer's output, or a layer's named extra output."""

    __slots__ = ("name", "extra")

    def __init__(self, name: str, extra: str | None = None):
        self.name = name
        self.extra = extra

    def __repr__(self):
        return self.name + (f".{self.extra}" if self.extra else "")

    def __eq__(self, other):
        return isinstance(other, Src) and (self.name, self.extra) == (other.name, other.extra)

    def __hash__(self):
        return hash((self.name, self.extra))


class Layer:
    """One layer of the flat spec."""

    __slots__ = ("name", "type", "args", "inputs", "path", "classes", "trainable", "tie", "share", "module",
                 "note", "given_name")

    def __init__(self, name, type, args, inputs, path, classes):
        self.name = name  # unique, dotted (the module path for modules)
        self.type = type
        self.args = args  # spec arguments as Python values, defaults left out
        self.inputs = inputs  # list of Src
        self.path = path  # tuple of enclosing module paths, outermost first
        self.classes = classes  # their classes
        self.trainable = True
        self.tie: str | None = None
        self.share: str | None = None
        self.module = None  # the nn.Module (module layers)
        self.note = ""

    def __repr__(self):
        return f"Layer({self.name!r}, {self.type}, {self.args}, {self.inputs})"


class Lazy:
    """A piece of a split tensor (chunk, split, unbind): a Slice/Select layer made when it is used."""

    __slots__ = ("make", "src")

    def __init__(self, make):
        self.make = make
        self.src = None

    def get(self):
        if self.src is None:
            self.src = self.make()
        return self.src


# --- the table of modules -------------------------------------------------------------------------------------


def _norm(value):
    """Attribute values as spec values: tuples of one repeated int become the int, tuples lists."""
    if isinstance(value, torch.Size):
        value = tuple(value)
    if isinstance(value, tuple):
        if len(value) and all(v == value[0] for v in value) and not isinstance(value[0], (tuple, list)):
            return _norm(value[0])
        return [_norm(v) for v in value]
    if isinstance(value, list):
        return [_norm(v) for v in value]
    return value


def _same(value, default) -> bool:
    if value == default:
        return True
    if isinstance(value, list) and not isinstance(default, list):
        return all(v == default for v in value)
    return False


def module_args(t: str, m: nn.Module) -> dict:
    """The spec arguments of a torch.nn module, read from its attributes; defaults and inferable ones left out."""
    rule = REGISTRY[t]
    row = foreign_row(type(m))
    special = row[2] if row else SPECIAL.get(t)
    values = special(m) if special else {}
    out = {}
    for arg in rule.args:
        if arg.infer or arg.name == "inplace":
            continue
        if row and arg.name not in values:
            continue  # another library's module: only what its row reads
        if arg.name in values:
            value = values[arg.name]
        elif arg.name == "bias":
            value = getattr(m, "bias", None) is not None
        elif hasattr(m, arg.name):
            value = _norm(getattr(m, arg.name))
        else:
            continue
        if isinstance(value, torch.Tensor):
            continue
        if not arg.required and _same(value, arg.default):
            continue
        out[arg.name] = value
    return out


def _mha(m):
    return {"bias": m.in_proj_bias is not None, "add_bias_kv": m.bias_k is not None, "dropout": m.dropout}


def _transformer(m):
    act = m.activation
    name = "gelu" if act is F.gelu or isinstance(act, nn.GELU) else "relu"
    return {"nhead": m.self_attn.num_heads, "dim_feedforward": m.linear1.out_features, "dropout": m.dropout.p,
            "activation": name, "layer_norm_eps": m.norm1.eps, "batch_first": m.self_attn.batch_first,
            "norm_first": m.norm_first, "bias": m.linear1.bias is not None}


def _norms(m):
    return {"bias": getattr(m, "bias", None) is not None or not getattr(m, "affine", getattr(m, "elementwise_affine", True))}


def _rnn(m):
    return {"nonlinearity": m.nonlinearity} if hasattr(m, "nonlinearity") else {}


SPECIAL = {
    "MultiheadAttention": _mha,
    "TransformerEncoderLayer": _transformer,
    "TransformerDecoderLayer": _transformer,
    "LayerNorm": _norms,
    "GroupNorm": _norms,
    "BatchNorm1d": _norms, "BatchNorm2d": _norms, "BatchNorm3d": _norms,
    "InstanceNorm1d": _norms, "InstanceNorm2d": _norms, "InstanceNorm3d": _norms,
    "RNN": _rnn, "RNNCell": _rnn,
}

# torch.nn classes whose spec type has another name
RENAMED = {"NonDynamicallyQuantizableLinear": "Linear"}

# modules of other libraries (HuggingFace transformers: layercalc.bridge.hf fills it): class name, or
# "*suffix" for a family of classes (LlamaRMSNorm, MistralRMSNorm...) -> (the prefix of the class's
# module, spec type, reader of the spec arguments from the module's attributes)
FOREIGN: dict = {}


def foreign_row(cls):
    """The row of FOREIGN for a class, or None."""
    row = FOREIGN.get(cls.__name__)
    if row is None:
        row = next((r for k, r in FOREIGN.items() if k.startswith("*") and cls.__name__.endswith(k[1:])), None)
    if row is not None and cls.__module__.startswith(row[0]):
        return row
    return None


def module_type(m: nn.Module) -> str | None:
    """The spec type of a module, or None when the table has no row for it."""
    cls = type(m)
    for c in cls.__mro__:
        name = RENAMED.get(c.__name__, c.__name__)
        if c.__module__.startswith("torch.nn.") and name in REGISTRY:
            # a subclass that computes something else (torchvision's LayerNorm2d permutes) is traced through
            return name if cls.forward is c.forward else None
    row = foreign_row(cls)
    if row is not None:
        return row[1]
    if cls.__name__ in EXPORTED and all(_has(m, a) for a in EXPORTED[cls.__name__]):
        return cls.__name__
    return None


def _has(m: nn.Module, name: str) -> bool:
    """Whether a module has an attribute, read without ``Module.__getattr__`` (which torch.fx patches
    while tracing to record every parameter it is asked for)."""
    return name in m.__dict__ or name in m._parameters or name in m._buffers or name in m._modules


_WINDOWED = ("qkv", "proj", "window_size", "shift_size", "num_heads", "attention_dropout", "dropout",
             "relative_position_index")

# the classes `layercalc export` writes for the types torch.nn lacks, recognized by name and attributes
EXPORTED = {"GroupedQueryAttention": ("q_proj", "k_proj", "num_kv_heads", "head_dim", "is_causal", "rotary"),
            "RotaryEmbedding": ("rotary_dim", "base"),
            # torchvision.ops.StochasticDepth (and the class export writes): the same name and arguments
            "StochasticDepth": ("p", "mode"),
            "RelativePositionBias": ("relative_position_bias_table", "relative_position_index", "window_size",
                                     "num_heads"),
            # torchvision's Swin attention (torchvision.models.swin_transformer), and the classes export writes
            "ShiftedWindowAttention": _WINDOWED, "ShiftedWindowAttentionV2": _WINDOWED + ("cpb_mlp", "logit_scale")}


def _gqa(m):
    e = m.q_proj.in_features
    return {"num_heads": m.num_heads, "num_kv_heads": m.num_kv_heads if m.num_kv_heads != m.num_heads else None,
            "head_dim": m.head_dim if m.head_dim != e // m.num_heads else None,
            "bias": m.q_proj.bias is not None, "is_causal": m.is_causal, "rotary": m.rotary is not None}


def _windowed(m):
    return {"window_size": _norm(tuple(m.window_size)), "shift_size": _norm(tuple(m.shift_size)),
            "num_heads": m.num_heads, "qkv_bias": m.qkv.bias is not None, "proj_bias": m.proj.bias is not None,
            "attention_dropout": m.attention_dropout, "dropout": m.dropout}


SPECIAL["GroupedQueryAttention"] = _gqa
SPECIAL["ShiftedWindowAttention"] = SPECIAL["ShiftedWindowAttentionV2"] = _windowed


def is_norm_act(m: nn.Module) -> bool:
    """timm's BatchNormAct2d: an nn.BatchNorm2d whose forward also runs its ``drop`` and ``act`` modules."""
    return type(m).__name__ == "BatchNormAct2d" and isinstance(m, nn.BatchNorm2d) and hasattr(m, "act")


def is_leaf(m: nn.Module) -> bool:
    return module_type(m) is not None or isinstance(m, nn.TransformerEncoder) or is_norm_act(m)


# --- the tables of functions and methods ----------------------------------------------------------------------
#
# Each row: target -> (spec type, how to read the arguments). The reader receives the evaluated
# positional and keyword arguments (tensors as meta tensors) and returns (args, tensor inputs).

ACTIVATIONS = {
    F.relu: "ReLU", torch.relu: "ReLU", F.relu6: "ReLU6", F.gelu: "GELU", F.silu: "SiLU", F.sigmoid: "Sigmoid",
    torch.sigmoid: "Sigmoid", F.tanh: "Tanh", torch.tanh: "Tanh", F.hardswish: "Hardswish",
    F.hardsigmoid: "Hardsigmoid", F.mish: "Mish", F.elu: "ELU", F.selu: "SELU", F.leaky_relu: "LeakyReLU",
    F.softplus: "Softplus", F.logsigmoid: "LogSigmoid", torch.abs: "Abs", torch.neg: "Neg",
    F.dropout: "Dropout",
}
METHOD_ACTIVATIONS = {"relu": "ReLU", "sigmoid": "Sigmoid", "tanh": "Tanh", "abs": "Abs", "neg": "Neg"}
NO_OPS = {"contiguous", "clone", "detach", "float", "to", "type_as"}
SIZE_METHODS = {"size", "dim", "numel"}


class Reader(fx.Interpreter):
    """Runs the traced graph on meta tensors and writes one spec layer per tensor op."""

    def __init__(self, gm: fx.GraphModule, root: nn.Module):
        super().__init__(gm, garbage_collect_values=False)
        self.root = root
        self.layers: list[Layer] = []
        self.refs: dict = {}  # fx node -> structure of Src/None mirroring its value
        self.names: set = set()
        self.called: dict = {}  # id(module) -> layer name of its first call
        self.node = None
        self.problems: list = []
        self.inputs: list[tuple[str, list, str]] = []
        self.outputs = None
        self.counters: dict = {}
        self.notes: list = []
        self.direct_buffers: set = set()  # ids of the buffers read directly (Buffer layers)

    # --- running ---------------------------------------------------------------------------------------------

    def run_node(self, n):
        self.node = n
        result = super().run_node(n)
        if n not in self.refs:
            self.refs[n] = None
        return result

    def placeholder(self, target, args, kwargs):
        value = super().placeholder(target, args, kwargs)
        name = re.sub(r"\W", "_", self.node.name)
        if isinstance(value, torch.Tensor):
            self.inputs.append((name, list(value.shape), str(value.dtype).removeprefix("torch.")))
            self.refs[self.node] = Src(name)
            self.names.add(name)
        return value

    def output(self, target, args, kwargs):
        self.outputs = self._refs(self.node.args[0])
        return super().output(target, args, kwargs)

    # --- the four node kinds -------------------------------------------------------------------------------

    def call_module(self, target, args, kwargs):
        m = self.fetch_attr(target)
        result = super().call_module(target, args, kwargs)
        if isinstance(m, nn.TransformerEncoder):
            self._encoder(target, m, kwargs)
            return result
        if is_norm_act(m):
            self._norm_act(target, m)
            return result
        t = module_type(m)
        if t is None:
            self._unsupported(f"module {type(m).__name__}", "write it with torch.nn modules, or add a row to the "
                              "module table of layercalc.bridge.fx_import")
            return result
        ins = self._tensor_inputs(self.node.args, self.node.kwargs)
        self._module_layer(target, m, t, ins, args, kwargs, result)
        return result

    def _module_layer(self, target, m, t, ins, args, kwargs, result) -> Layer:
        """The layer of one call of module ``m`` (spec type ``t``) at path ``target``, reading ``ins``."""
        layer_args = module_args(t, m)
        call_args = {}
        if t == "MultiheadAttention":
            kw = dict(zip(("query", "key", "value", "key_padding_mask", "need_weights", "attn_mask",
                           "average_attn_weights", "is_causal"), args))
            kw.update(kwargs)
            if kw.get("need_weights", True) is False:
                call_args["need_weights"] = False
            if kw.get("average_attn_weights", True) is False:
                call_args["average_attn_weights"] = False
            if kw.get("is_causal") or kw.get("attn_mask") is not None:
                call_args["is_causal"] = True
            ins = ins[:3]
            if len(ins) == 3 and ins[0] == ins[1] == ins[2]:
                ins = ins[:1]
        elif t in ("TransformerEncoderLayer",):
            if kwargs.get("is_causal") or kwargs.get("src_mask") is not None or (len(args) > 1 and args[1] is not None):
                call_args["is_causal"] = True
            ins = ins[:1]
        elif t == "TransformerDecoderLayer":
            if kwargs.get("tgt_is_causal") or kwargs.get("tgt_mask") is not None:
                call_args["tgt_is_causal"] = True
            ins = ins[:2]
        elif t in ("RNN", "LSTM", "GRU", "LSTMCell", "GRUCell", "RNNCell"):
            if len(ins) > 1:
                self._unsupported(f"{t} with an initial state", "let the initial state default to zeros")
            ins = ins[:1]
        layer_args.update(call_args)
        name = self._module_name(target)
        first = self.called.get(id(m))
        layer = self._add(name, t, layer_args, ins)
        layer.module = m
        holds = any(True for _ in m.parameters()) or any(True for _ in m.buffers())
        if first is not None and holds:
            layer.share = first  # a module with no state called again is just the same op again
        elif first is None:
            self.called[id(m)] = name
        params = list(m.parameters())
        if params and not any(p.requires_grad for p in params):
            layer.trainable = False
        self.refs[self.node] = self._result_refs(t, layer, result, layer_args)
        return layer

    def _encoder(self, target, m, kwargs):
        """nn.TransformerEncoder: its layers (and final norm) one by one, as its forward runs them."""
        if kwargs.get("mask") is not None or kwargs.get("src_key_padding_mask") is not None:
            self._unsupported("nn.TransformerEncoder with a mask", "call it without a mask, or with is_causal")
            return
        cur = self._src(self.node.args[0])
        base = tuple(self._stack())
        for i, layer in enumerate(m.layers):
            a = module_args("TransformerEncoderLayer", layer)
            if kwargs.get("is_causal"):
                a["is_causal"] = True
            q = f"{target}.layers.{i}"
            lay = self._add(self._unique(q), "TransformerEncoderLayer", a, [cur])
            lay.path = tuple(p for p, _ in base) + (f"{target}.layers", q)
            lay.classes = tuple(c for _, c in base) + (nn.ModuleList, type(layer))
            lay.module = layer
            cur = Src(lay.name)
        if m.norm is not None:
            t = module_type(m.norm)
            lay = self._add(self._unique(f"{target}.norm"), t, module_args(t, m.norm), [cur])
            lay.path = tuple(p for p, _ in base) + (f"{target}.norm",)
            lay.classes = tuple(c for _, c in base) + (type(m.norm),)
            lay.module = m.norm
            cur = Src(lay.name)
        self.refs[self.node] = cur

    def _norm_act(self, target, m):
        """timm's BatchNormAct2d: a BatchNorm2d (named after the module, which holds its weights and
        statistics), then its ``drop`` and ``act`` modules as their own layers; an Identity is nothing."""
        if self.called.get(id(m)) is not None:
            self._unsupported(f"{type(m).__name__} called twice", "call it once")
            return
        layer = self._add(self._module_name(target), "BatchNorm2d", module_args("BatchNorm2d", m),
                          [self._src(self.node.args[0])])
        layer.module = m
        self.called[id(m)] = layer.name
        params = [p for n, p in m.named_parameters() if "." not in n]
        if params and not any(p.requires_grad for p in params):
            layer.trainable = False
        cur = Src(layer.name)
        for part in ("drop", "act"):
            sub = getattr(m, part, None)
            if sub is None or isinstance(sub, nn.Identity):
                continue
            t = module_type(sub)
            if t is None:
                self._unsupported(f"module {type(sub).__name__} (the {part} of {type(m).__name__})",
                                  "use a torch.nn activation, or add a row to the module table")
                return
            lay = self._add(self._unique(f"{target}.{part}"), t, module_args(t, sub), [cur])
            lay.module = sub
            self.called[id(sub)] = lay.name
            cur = Src(lay.name)
        self.refs[self.node] = cur

    def call_function(self, target, args, kwargs):
        result = super().call_function(target, args, kwargs)
        self._function(target, args, kwargs, result, method=False)
        return result

    def call_method(self, target, args, kwargs):
        result = super().call_method(target, args, kwargs)
        self._function(target, args, kwargs, result, method=True)
        return result

    def get_attr(self, target, args, kwargs):
        value = super().get_attr(target, args, kwargs)
        if isinstance(value, nn.Parameter):
            name, layer = self._attribute_layer(target, "Parameter", {"shape": list(value.shape)})
            layer.trainable = value.requires_grad
            first = self.called.get(id(value))
            if first is not None:
                self._unsupported("a parameter read twice", "read it once and reuse the tensor")
            self.called[id(value)] = name
            self.refs[self.node] = Src(name)
        elif isinstance(value, torch.Tensor):
            self._buffer_layer(target, value)
        return value

    def _attribute_layer(self, target: str, layer_type: str, args: dict):
        """(name, layer) for a tensor attribute that forward reads directly, placed in the modules whose
        attribute it is (a layer scale inside its block)."""
        name = self._unique(target)
        layer = self._add(name, layer_type, args, [])
        parts = target.split(".")[:-1]
        quals = [".".join(parts[:k]) for k in range(1, len(parts) + 1)]
        layer.path = tuple(quals)
        layer.classes = tuple(type(self.root.get_submodule(q)) for q in quals)
        return name, layer

    def _buffer_layer(self, target: str, value):
        """A buffer read directly (a registered table or mask): a Buffer layer in the modules that own it."""
        name, _ = self._attribute_layer(target, "Buffer", _buffer_args(value))
        if self.called.get(id(value)) is not None:
            self._unsupported("a buffer read twice", "read it once and reuse the tensor")
        self.called[id(value)] = name
        self.direct_buffers.add(id(value))
        self.refs[self.node] = Src(name)

    # --- functions and methods -----------------------------------------------------------------------------

    def _function(self, target, args, kwargs, result, method: bool):
        n = self.node
        tensors = [a for a in _flat(n.args) + _flat(list(n.kwargs.values())) if isinstance(a, fx.Node)
                   and isinstance(self.env.get(a), torch.Tensor)]
        if isinstance(result, torch.Size) or (isinstance(result, (tuple, list)) and not any(
                isinstance(r, torch.Tensor) for r in _flat(result))):
            if target is operator.getitem and isinstance(self.refs.get(n.args[0]), (tuple, list)):
                self.refs[n] = self._getitem(self.refs[n.args[0]], args[1])
            return
        if tensors and not any(isinstance(self._refs(a), (Src, tuple, list, Lazy)) for a in tensors):
            return  # an op on constants (a mask built from sizes): evaluated, not a layer
        if not isinstance(result, (torch.Tensor, tuple, list)) or not tensors:
            if isinstance(result, (tuple, list)) and any(isinstance(r, torch.Tensor) for r in result) and tensors:
                pass
            else:
                # sizes, dims and other Python values: evaluated, not layers; getitem on tuples of tensors
                if target is operator.getitem and isinstance(self.refs.get(n.args[0]), (tuple, list)):
                    self.refs[n] = self._getitem(self.refs[n.args[0]], args[1])
                return
        key = target if not method else target
        if target is operator.getitem:
            base = self.refs.get(n.args[0])
            if isinstance(base, (tuple, list)):
                self.refs[n] = self._getitem(base, args[1])
                return
            self._index(args[0], args[1], result)
            return
        if method and target in NO_OPS:
            self.refs[n] = self._refs(n.args[0])
            return
        if (method and target in SIZE_METHODS) or not isinstance(result, (torch.Tensor, tuple, list)):
            return
        handler = METHODS.get(target) if method else FUNCTIONS.get(key) or NAMED.get(
            (getattr(target, "__module__", None), getattr(target, "__name__", None)))
        act = (METHOD_ACTIVATIONS.get(target) if method else ACTIVATIONS.get(key))
        if handler is None and act is not None:
            handler = _activation(act)
        if handler is None:
            what = f"Tensor.{target}" if method else _op_name(target)
            self._unsupported(what, "express it with supported ops (see docs/pytorch.md), or wrap it in a "
                              "torch.nn module that layercalc knows")
            return
        try:
            out = handler(self, args, kwargs, result)
        except ImportProblem as exc:
            self._unsupported(exc.op, exc.fix)
            return
        if out is None:
            return
        if isinstance(out, Src) or not isinstance(out[0], str):
            self.refs[n] = out  # a value passed through, or the pieces of a split
            return
        t, layer_args, ins = out
        layer = self._add(self._op_name(t), t, layer_args, ins)
        self.refs[n] = Src(layer.name)

    def _index(self, x, index, result):
        """``x[...]`` with ints, slices, None and Ellipsis: Select, Slice and Reshape layers."""
        src = self._src(self.node.args[0])
        if not isinstance(index, tuple):
            index = (index,)
        if any(isinstance(i, torch.Tensor) for i in index):
            self._unsupported("indexing by a tensor", "index by ints and slices")
            return
        if any(i is None for i in index):
            layer = self._add(self._op_name("Reshape"), "Reshape", {"shape": list(result.shape)}, [src])
            self.refs[self.node] = Src(layer.name)
            return
        dim = 0
        shape = list(x.shape)
        ell = index.index(Ellipsis) if Ellipsis in index else None
        cur = src
        items = list(index)
        if ell is not None:
            items = items[:ell] + [slice(None)] * (len(shape) - len(items) + 1) + items[ell + 1:]
        for item in items:
            if isinstance(item, int):
                layer = self._add(self._op_name("Select"), "Select", {"dim": dim, "index": item}, [cur])
                cur = Src(layer.name)
                shape.pop(dim)
            elif isinstance(item, slice):
                if item == slice(None):
                    dim += 1
                    continue
                a = {"dim": dim}
                if item.start not in (None, 0):
                    a["start"] = item.start
                if item.stop is not None and item.stop < 2**62:
                    a["end"] = item.stop
                if item.step not in (None, 1):
                    a["step"] = item.step
                layer = self._add(self._op_name("Slice"), "Slice", a, [cur])
                cur = Src(layer.name)
                dim += 1
            else:
                self._unsupported(f"indexing by {type(item).__name__}", "index by ints and slices")
                return
        self.refs[self.node] = cur

    # --- after the run -------------------------------------------------------------------------------------

    def output_srcs(self) -> list:
        out = []

        def walk(r):
            if isinstance(r, Lazy):
                r = r.get()
            if isinstance(r, Src):
                out.append(r)
            elif isinstance(r, (tuple, list)):
                for x in r:
                    walk(x)
            elif isinstance(r, dict):
                for x in r.values():
                    walk(x)
        walk(self.outputs)
        return out

    def run_located(self, make_inputs, doing: str, fix: str = ""):
        """Run the graph on ``make_inputs()``; a failure (making the inputs included) raises the gaps found
        so far (UnsupportedOps) or one ImportFailed naming the node it stopped at:
        "{doing} failed at {node}: {error}{fix}"."""
        try:
            return self.run(*make_inputs())
        except (UnsupportedOps, ImportFailed):
            raise
        except Exception as exc:  # noqa: BLE001
            if self.problems:
                raise UnsupportedOps(self.problems) from None
            where = self.node.name if self.node is not None else "the model"
            raise ImportFailed(f"{doing} failed at {where}: {type(exc).__name__}: "
                               f"{str(exc).splitlines()[0] if str(exc) else ''}{fix}") from None

    def finish(self):
        """Ties, and the parameters that forward never reaches (counted as model.parameters() counts them)."""
        owner: dict = {}
        seen_modules = set()
        self.notes = []
        for layer in self.layers:
            if layer.type == "Parameter":
                continue
            m = layer.module
            if m is None or layer.share is not None:
                continue
            seen_modules.add(id(m))
            for pname, p in m.named_parameters():
                first = owner.get(id(p))
                if first is not None and first[0] != layer.name:
                    if pname == "weight" and first[1] == "weight":
                        layer.tie = first[0]
                    else:
                        self.notes.append(f"{layer.name}.{pname} is shared with {first[0]}.{first[1]} and "
                                          "counted twice: only a whole weight can be tied")
                else:
                    owner[id(p)] = (layer.name, pname)
        for pid, name in self.called.items():
            owner.setdefault(pid, (name, ""))
        self.output_refs = self.output_srcs()
        counted_buffers = set(self.direct_buffers)
        for layer in self.layers:
            if layer.module is not None and layer.share is None:
                counted_buffers |= {id(b) for b in layer.module.buffers()}
        # what forward never reaches, module by module (model.parameters() and model.buffers() count it)
        n_params = n_buffers = 0
        seen: set = set()
        for path, m in self.root.named_modules(remove_duplicate=False):
            prefix = f"{path}." if path else ""
            tensors = [(n, p, "Parameter") for n, p in m.named_parameters(recurse=False)]
            tensors += [(n, b, "Buffer") for n, b in m.named_buffers(recurse=False)]
            for n, value, t in tensors:
                if id(value) in seen or id(value) in (owner if t == "Parameter" else counted_buffers):
                    continue
                seen.add(id(value))
                name = self._unique(prefix + n)
                if t == "Parameter":
                    layer = Layer(name, t, {"shape": list(value.shape)}, [], (), ())
                    layer.trainable = value.requires_grad
                    layer.note = "never called by forward; counted as model.parameters() counts it"
                    owner[id(value)] = (name, "")
                    n_params += 1
                else:
                    layer = Layer(name, t, _buffer_args(value), [], (), ())
                    layer.note = "never read by forward; counted as model.buffers() counts it"
                    n_buffers += 1
                self.layers.append(layer)
                self.names.add(name)
        if n_params or n_buffers:
            what = " and ".join(f"{k} {kind} tensor(s)" for k, kind in ((n_params, "parameter"), (n_buffers, "buffer"))
                                if k)
            self.notes.append(f"{what} that forward never reaches are written as Parameter and Buffer layers")

    # --- helpers -------------------------------------------------------------------------------------------

    def constant_value(self, node):
        """The concrete value of a tensor built from sizes alone (a mask), or None when unknown."""
        return None

    def _stack(self) -> list:
        """The modules the current node runs in, outermost first: (path, class) pairs."""
        stack = self.node.meta.get("nn_module_stack") or {}
        return list(stack.values())

    def _add(self, name, t, args, ins) -> Layer:
        stack = self._stack()
        path = tuple(v[0] for v in stack)
        classes = tuple(v[1] for v in stack)
        layer = Layer(name, t, args, list(ins), path, classes)
        layer.given_name = None
        self.layers.append(layer)
        self.names.add(name)
        return layer

    def _module_name(self, target: str) -> str:
        return self._unique(target)

    def _op_name(self, t: str) -> str:
        stack = self._stack()
        path = stack[-1][0] if stack else ""
        key = (path, t)
        self.counters[key] = self.counters.get(key, 0) + 1
        base = f"{t.lower()}_{self.counters[key]}"
        return self._unique(f"{path}.{base}" if path else base)

    def _unique(self, name: str) -> str:
        if name not in self.names:
            return name
        k = 2
        while f"{name}_{k}" in self.names:
            k += 1
        return f"{name}_{k}"

    def _refs(self, arg):
        if isinstance(arg, fx.Node):
            r = self.refs.get(arg)
            return r.get() if isinstance(r, Lazy) else r
        if isinstance(arg, (tuple, list)):
            return type(arg)(self._refs(a) for a in arg)
        return None

    def _src(self, arg) -> Src:
        r = self._refs(arg)
        if isinstance(r, Lazy):
            r = r.get()
        if not isinstance(r, Src):
            raise ImportProblem("a tensor that does not come from the inputs", "build it from the inputs")
        return r

    def _tensor_inputs(self, args, kwargs) -> list:
        out = []
        for a in _flat(list(args)) + _flat(list(kwargs.values())):
            if isinstance(a, fx.Node) and isinstance(self.env.get(a), torch.Tensor):
                r = self._refs(a)
                if isinstance(r, Src):
                    out.append(r)
        return out

    def _getitem(self, base, index):
        item = base[index]
        return item.get() if isinstance(item, Lazy) else item

    def _result_refs(self, t, layer, result, layer_args):
        name = layer.name
        if t == "MultiheadAttention":
            return (Src(name), Src(name, "attn_weights") if result[1] is not None else None)
        if t in ("RNN", "GRU"):
            return (Src(name), Src(name, "h_n"))
        if t == "LSTM":
            return (Src(name), (Src(name, "h_n"), Src(name, "c_n")))
        if t == "LSTMCell":
            return (Src(name), Src(name, "c"))
        if isinstance(result, tuple) and layer_args.get("return_indices"):
            return (Src(name), Src(name, "indices"))
        return Src(name)

    def _unsupported(self, op: str, fix: str):
        n = self.node
        stack = self._stack()
        path = stack[-1][0] if stack else "(the model's forward)"
        where = ""
        trace = n.meta.get("stack_trace")
        if trace:
            lines = [ln.strip() for ln in trace.strip().splitlines() if ln.strip().startswith("File ")
                     and "/torch/" not in ln and "layercalc/bridge" not in ln]
            if lines:
                m = re.match(r'File "([^"]+)", line (\d+)', lines[-1])
                where = f"{m.group(1)}:{m.group(2)}" if m else lines[-1]
        self.problems.append((path or "(the model's forward)", op, where, fix))


def _op_name(target) -> str:
    """The name users know an op by: torch.sort, torch.nn.functional.pad, operator.pow."""
    name = getattr(target, "__name__", str(target))
    if getattr(torch, name, None) is target:
        return f"torch.{name}"
    if getattr(F, name, None) is target:
        return f"torch.nn.functional.{name}"
    if getattr(operator, name, None) is target:
        return f"operator.{name}"
    mod = getattr(target, "__module__", None)
    return f"{mod}.{name}" if mod else name


def _flat(items) -> list:
    out = []
    for a in items:
        if isinstance(a, (tuple, list)):
            out.extend(_flat(a))
        else:
            out.append(a)
    return out


def _buffer_args(value) -> dict:
    """The arguments of a Buffer layer for a tensor: its shape, and its dtype unless float32."""
    a = {"shape": list(value.shape)}
    dtype = str(value.dtype).removeprefix("torch.")
    if dtype != "float32":
        a["dtype"] = dtype
    return a


def _activation(t):
    def read(r, args, kwargs, result):
        src = r._src(r.node.args[0])
        a = {}
        if t == "GELU" and kwargs.get("approximate", "none") != "none":
            a["approximate"] = kwargs["approximate"]
        if t == "Dropout":
            p = kwargs.get("p", args[1] if len(args) > 1 else 0.5)
            if p != 0.5:
                a["p"] = p
        if t == "LeakyReLU":
            slope = kwargs.get("negative_slope", args[1] if len(args) > 1 else 0.01)
            if slope != 0.01:
                a["negative_slope"] = slope
        return t, a, [src]
    return read


def _arg(args, kwargs, i, name, default=None):
    if name in kwargs:
        return kwargs[name]
    return args[i] if len(args) > i else default


def _binary(t):
    """a op b of two tensors, or of a tensor and a Python number (``x * 0.125``, ``1 - x``): ``scalar``."""
    def read(r, args, kwargs, result):
        a, b = args[0], _arg(args, kwargs, 1, "other")
        if kwargs.get("alpha", 1) != 1 or kwargs.get("rounding_mode") is not None:
            extra = "alpha" if kwargs.get("alpha", 1) != 1 else "rounding_mode"
            raise ImportProblem(f"{t} with {extra}", f"write the {t.lower()} without {extra}")
        nodes = list(r.node.args[:2]) + ([r.node.kwargs["other"]] if "other" in r.node.kwargs else [])
        tensors = [isinstance(v, torch.Tensor) for v in (a, b)]
        if all(tensors):
            return t, {}, [r._src(nodes[0]), r._src(nodes[1])]
        number = b if tensors[0] else a
        if isinstance(number, bool) or not isinstance(number, (int, float)):
            raise ImportProblem(f"{t} of a tensor and {number!r}", "use a tensor or a Python number")
        layer_args = {"scalar": number}
        if not tensors[0]:
            if t in ("Add", "Mul"):  # 1 + x is x + 1
                return t, layer_args, [r._src(nodes[1])]
            layer_args["scalar_first"] = True
        return t, layer_args, [r._src(nodes[0] if tensors[0] else nodes[1])]
    return read


def _flatten(r, args, kwargs, result):
    a = {}
    start, end = _arg(args, kwargs, 1, "start_dim", 0), _arg(args, kwargs, 2, "end_dim", -1)
    if start != 1:
        a["start_dim"] = start
    if end != -1:
        a["end_dim"] = end
    return "Flatten", a, [r._src(r.node.args[0])]


def _reshape(r, args, kwargs, result):
    shape = list(args[1:]) if len(args) > 2 or not isinstance(args[1] if len(args) > 1 else None, (tuple, list)) \
        else list(args[1])
    if not shape and "shape" in kwargs:
        shape = list(kwargs["shape"])
    out = [(-1 if s == -1 else int(result.shape[i])) for i, s in enumerate(shape)] if len(shape) == result.dim() \
        else list(result.shape)
    return "Reshape", {"shape": out}, [r._src(r.node.args[0])]


def _permute(r, args, kwargs, result):
    dims = list(args[1]) if len(args) == 2 and isinstance(args[1], (tuple, list)) else list(args[1:])
    return "Permute", {"dims": dims}, [r._src(r.node.args[0])]


def _transpose(r, args, kwargs, result):
    return "Transpose", {"dim0": _arg(args, kwargs, 1, "dim0"), "dim1": _arg(args, kwargs, 2, "dim1")}, \
        [r._src(r.node.args[0])]


def _mean(r, args, kwargs, result):
    dim = _arg(args, kwargs, 1, "dim")
    a = {}
    if dim is not None:
        a["dim"] = list(dim) if isinstance(dim, (tuple, list)) else dim
    if _arg(args, kwargs, 2, "keepdim", False):
        a["keepdim"] = True
    return "Mean", a, [r._src(r.node.args[0])]


def _cat(r, args, kwargs, result):
    dim = _arg(args, kwargs, 1, "dim", 0)
    srcs = [r._src(n) for n in r.node.args[0]]
    if len(srcs) == 1:
        return srcs[0]  # the concatenation of one tensor is that tensor
    a = {"dim": dim} if dim != 0 else {}
    return "Concat", a, srcs


def _softmax(t):
    def read(r, args, kwargs, result):
        return t, {"dim": _arg(args, kwargs, 1, "dim")}, [r._src(r.node.args[0])]
    return read


def _matmul(r, args, kwargs, result):
    return "MatMul", {}, [r._src(r.node.args[0]), r._src(r.node.args[1])]


def _einsum(r, args, kwargs, result):
    """torch.einsum of two operands where it is a batched matrix product (``bhid,bhjd->bhij``): a MatMul,
    with a Transpose of an operand whose last two letters are the other way round."""
    eq = str(args[0]).replace(" ", "")
    nodes = list(r.node.args[1:])
    if len(nodes) == 1 and isinstance(nodes[0], (list, tuple)):
        nodes = list(nodes[0])
    lhs, _, out = eq.partition("->")
    ops = lhs.split(",")
    fix = "write it with @ or torch.matmul (and transpose)"
    if len(ops) != 2 or len(nodes) != 2 or "." in eq or len(out) < 2 or len(set(out)) != len(out):
        raise ImportProblem(f"torch.einsum('{args[0]}'), which is not a matrix product", fix)
    batch, i, j = out[:-2], out[-2], out[-1]
    a, b = ops
    ks = set(a) - set(out)
    if len(ks) != 1 or set(b) - set(out) != ks or len(a) != len(out) or len(b) != len(out):
        raise ImportProblem(f"torch.einsum('{args[0]}'), which is not a matrix product", fix)
    k = ks.pop()
    srcs = [r._src(nodes[0]), r._src(nodes[1])]
    for n, (have, want, flipped) in enumerate(((a, batch + i + k, batch + k + i), (b, batch + k + j, batch + j + k))):
        if have == flipped:
            layer = r._add(r._op_name("Transpose"), "Transpose", {"dim0": -2, "dim1": -1}, [srcs[n]])
            srcs[n] = Src(layer.name)
        elif have != want:
            raise ImportProblem(f"torch.einsum('{args[0]}'), which is not a matrix product", fix)
    return "MatMul", {}, srcs


def _expand(r, args, kwargs, result):
    shape = list(args[1]) if len(args) == 2 and isinstance(args[1], (tuple, list)) else list(args[1:])
    return "Expand", {"shape": [int(s) for s in shape]}, [r._src(r.node.args[0])]


def _sdpa(r, args, kwargs, result):
    a = {}
    if kwargs.get("is_causal") or (len(args) > 5 and args[5]):
        a["is_causal"] = True
    if kwargs.get("scale") is not None:
        a["scale"] = kwargs["scale"]
    if kwargs.get("enable_gqa"):
        a["enable_gqa"] = True
    mask = r.node.kwargs.get("attn_mask", r.node.args[3] if len(r.node.args) > 3 else None)
    if _arg(args, kwargs, 3, "attn_mask") is not None:  # the value: a placeholder may hold None
        kind = mask_kind(r.constant_value(mask), args[0].shape[-2], args[1].shape[-2])
        if kind == "causal":
            a["is_causal"] = True
        elif kind != "none":
            raise ImportProblem("scaled_dot_product_attention with an attn_mask" + kind,
                                "use is_causal=True, or no mask")
    if a.get("scale") is not None and math.isclose(a["scale"], 1 / math.sqrt(args[0].shape[-1]), rel_tol=1e-12):
        del a["scale"]  # torch's default
    return "ScaledDotProductAttention", a, [r._src(n) for n in r.node.args[:3]]


def mask_kind(mask, queries: int, keys: int) -> str:
    """"none" for a mask that keeps every score, "causal" for torch's is_causal mask (query i sees keys
    0..i), else a phrase saying why it is neither."""
    if mask is None:
        return " computed from the inputs"
    if not isinstance(mask, torch.Tensor) or mask.device.type == "meta":
        return " whose values are unknown"
    keep = mask if mask.dtype == torch.bool else mask == 0
    try:
        keep = keep.expand(*keep.shape[:-2], queries, keys)
    except RuntimeError:
        return f" of shape {list(mask.shape)}"
    if bool(keep.all()):
        return "none"
    if bool((keep == torch.ones(queries, keys, dtype=torch.bool).tril()).all()):
        return "causal"
    return " that is neither causal nor empty"


def _adaptive_avg(n):
    def read(r, args, kwargs, result):
        size = _norm(_arg(args, kwargs, 1, "output_size"))
        return f"AdaptiveAvgPool{n}d", {"output_size": size}, [r._src(r.node.args[0])]
    return read


def _split(kind):
    """chunk, split, unbind: one Slice (or Select) per piece, made when the piece is used."""
    def read(r, args, kwargs, result):
        src = r._src(r.node.args[0])
        x = args[0]
        if kind == "unbind":
            dim = _arg(args, kwargs, 1, "dim", 0)
        else:
            dim = _arg(args, kwargs, 2, "dim", 0)
        dim = dim % x.dim()
        pieces = []
        start = 0
        node = r.node
        for k, piece in enumerate(result):
            size = piece.shape[dim] if kind != "unbind" else 1

            def make(start=start, size=size, k=k):
                saved = r.node
                r.node = node
                try:
                    if kind == "unbind":
                        layer = r._add(r._op_name("Select"), "Select", {"dim": dim, "index": k}, [src])
                    else:
                        a = {"dim": dim}
                        if start:
                            a["start"] = start
                        if start + size != x.shape[dim]:
                            a["end"] = start + size
                        layer = r._add(r._op_name("Slice"), "Slice", a, [src])
                finally:
                    r.node = saved
                return Src(layer.name)
            pieces.append(Lazy(make))
            start += size
        return tuple(pieces)
    return read


def _select(r, args, kwargs, result):
    return "Select", {"dim": _arg(args, kwargs, 1, "dim"), "index": _arg(args, kwargs, 2, "index")}, \
        [r._src(r.node.args[0])]


def _pool(kind, n):
    """F.avg_pool2d / F.max_pool2d with torch's defaults (stride = kernel_size)."""
    names = ("kernel_size", "stride", "padding") + (("ceil_mode", "count_include_pad", "divisor_override")
                                                    if kind == "Avg" else ("dilation", "ceil_mode", "return_indices"))

    def read(r, args, kwargs, result):
        a = {}
        for i, name in enumerate(names):
            v = _arg(args, kwargs, i + 1, name)
            if v is None or (isinstance(v, (list, tuple)) and not v):
                continue
            a[name] = _norm(tuple(v) if isinstance(v, list) else v)
        if "stride" not in a:
            a["stride"] = a["kernel_size"]
        for name, default in (("padding", 0), ("dilation", 1), ("ceil_mode", False), ("count_include_pad", True),
                              ("return_indices", False)):
            if a.get(name) == default:
                del a[name]
        if a.get("return_indices"):
            raise ImportProblem(f"{kind.lower()}_pool{n}d with return_indices", "use nn.MaxPool with return_indices")
        return f"{kind}Pool{n}d", a, [r._src(r.node.args[0])]
    return read


def _layer_norm(r, args, kwargs, result):
    """F.layer_norm(x, shape, self.weight, self.bias, eps) inside a module: a LayerNorm owning those parameters."""
    shape = list(_arg(args, kwargs, 1, "normalized_shape"))
    eps = _arg(args, kwargs, 4, "eps", 1e-5)
    nodes = list(r.node.args[2:4]) + [r.node.kwargs.get(k) for k in ("weight", "bias")]
    owned = [n for n in nodes if isinstance(n, fx.Node)]
    weight, bias = _arg(args, kwargs, 2, "weight"), _arg(args, kwargs, 3, "bias")
    for n in owned:
        if n.op != "get_attr" or len(n.users) != 1:
            raise ImportProblem("torch.nn.functional.layer_norm with computed weights",
                                "use torch.nn.LayerNorm (a module owns its parameters)")
        src = r.refs.get(n)
        r.layers[:] = [lay for lay in r.layers if not (isinstance(src, Src) and lay.name == src.name)]
    a = {"normalized_shape": shape[0] if len(shape) == 1 else shape}
    if eps != 1e-5:
        a["eps"] = eps
    if weight is None:
        a["elementwise_affine"] = False
    elif bias is None:
        a["bias"] = False
    return "LayerNorm", a, [r._src(r.node.args[0])]


def _patch_merging(r, args, kwargs, result):
    """torchvision's ``_patch_merging_pad`` (Swin): a zero pad of H and W to even sizes, the four interleaved
    quarters x[..., a::2, b::2, :], concatenated on the channels. Written as the Slice and Concat layers it is."""
    x = args[0]
    rank = x.dim()
    src = r._src(r.node.args[0])
    h, w = x.shape[-3], x.shape[-2]
    if h % 2 or w % 2:
        pad = r._add(r._op_name("ZeroPad3d"), "ZeroPad3d", {"padding": [0, 0, 0, w % 2, 0, h % 2]}, [src])
        src = Src(pad.name)
    rows = {}
    for a in (0, 1):
        rows[a] = Src(r._add(r._op_name("Slice"), "Slice", {"dim": rank - 3, **({"start": a} if a else {}),
                                                             "step": 2}, [src]).name)
    quarters = []
    for a, b in ((0, 0), (1, 0), (0, 1), (1, 1)):  # torchvision's order: x0, x1, x2, x3
        cut = r._add(r._op_name("Slice"), "Slice", {"dim": rank - 2, **({"start": b} if b else {}), "step": 2},
                     [rows[a]])
        quarters.append(Src(cut.name))
    return "Concat", {"dim": rank - 1}, quarters


def relative_position_bias(table, index):
    """torchvision's MaxViT ``get_relative_positional_bias()``: the table gathered by the index buffer,
    (1, heads, N, N). The import calls this in its place, so torch.fx records one call (below)."""
    n = index.shape[0] if index.dim() == 2 else math.isqrt(index.numel())
    bias = table[index.reshape(-1)].reshape(n, n, -1)
    return bias.permute(2, 0, 1).contiguous().unsqueeze(0)


fx.wrap("relative_position_bias")


def _relative_position_bias(r, args, kwargs, result):
    """A RelativePositionBias layer, which owns the table and the index: the Parameter and Buffer layers
    that reading them made are dropped."""
    table, index = args[0], args[1]
    trainable = True
    for n in r.node.args[:2]:
        src = r.refs.get(n)
        for lay in r.layers:
            if isinstance(src, Src) and lay.name == src.name and lay.type == "Parameter":
                trainable = lay.trainable
        r.layers[:] = [lay for lay in r.layers if not (isinstance(src, Src) and lay.name == src.name)]
    rows, heads = table.shape
    n = math.isqrt(index.numel())
    w = math.isqrt(n)
    if w * w != n or (2 * w - 1) ** 2 != rows:
        raise ImportProblem(f"a relative position bias of a table of {rows} rows and {n} positions, which is not "
                            "a square window", "use a square window")
    layer = r._add(r._op_name("RelativePositionBias"), "RelativePositionBias",
                   {"window_size": w, "num_heads": heads}, [])
    layer.trainable = trainable
    return Src(layer.name)


#: modules whose method computes a relative position bias from their table and index (torchvision's MaxViT):
#: the import replaces the method by a call of relative_position_bias while it traces
BIAS_METHODS = {"RelativePositionalMultiHeadAttention": "get_relative_positional_bias"}


#: functions that models define (and ``torch.fx.wrap``), by module and name: torch.fx records them as one call
NAMED = {("torchvision.models.swin_transformer", "_patch_merging_pad"): _patch_merging}

FUNCTIONS = {
    operator.add: _binary("Add"), torch.add: _binary("Add"), operator.iadd: _binary("Add"),
    operator.mul: _binary("Mul"), torch.mul: _binary("Mul"), operator.imul: _binary("Mul"),
    operator.sub: _binary("Sub"), operator.isub: _binary("Sub"), torch.sub: _binary("Sub"),
    operator.truediv: _binary("Div"), torch.div: _binary("Div"), operator.itruediv: _binary("Div"),
    torch.true_divide: _binary("Div"),
    operator.matmul: _matmul, torch.matmul: _matmul, torch.bmm: _matmul,
    torch.flatten: _flatten, torch.reshape: _reshape, torch.permute: _permute, torch.transpose: _transpose,
    torch.swapaxes: _transpose, torch.swapdims: _transpose, torch.einsum: _einsum,
    torch.mean: _mean, torch.cat: _cat, torch.concat: _cat, torch.chunk: _split("chunk"),
    torch.split: _split("split"), torch.unbind: _split("unbind"),
    F.softmax: _softmax("Softmax"), torch.softmax: _softmax("Softmax"), F.log_softmax: _softmax("LogSoftmax"),
    F.scaled_dot_product_attention: _sdpa, F.adaptive_avg_pool2d: _adaptive_avg(2),
    F.adaptive_avg_pool1d: _adaptive_avg(1), F.layer_norm: _layer_norm, torch.select: _select,
    F.avg_pool1d: _pool("Avg", 1), F.avg_pool2d: _pool("Avg", 2), F.avg_pool3d: _pool("Avg", 3),
    F.max_pool1d: _pool("Max", 1), F.max_pool2d: _pool("Max", 2), F.max_pool3d: _pool("Max", 3),
    torch.avg_pool1d: _pool("Avg", 1), torch.max_pool1d: _pool("Max", 1), torch.max_pool2d: _pool("Max", 2),
    relative_position_bias: _relative_position_bias,
}
METHODS = {
    "add": _binary("Add"), "mul": _binary("Mul"), "sub": _binary("Sub"), "div": _binary("Div"),
    "add_": _binary("Add"), "mul_": _binary("Mul"), "sub_": _binary("Sub"), "div_": _binary("Div"),
    "matmul": _matmul, "flatten": _flatten, "view": _reshape, "reshape": _reshape, "permute": _permute,
    "transpose": _transpose, "swapaxes": _transpose, "swapdims": _transpose, "mean": _mean,
    "chunk": _split("chunk"), "split": _split("split"),
    "unbind": _split("unbind"), "softmax": _softmax("Softmax"), "expand": _expand, "select": _select,
}



# --- the rows of torch.export's ATen ops (layercalc.bridge.program reads exported programs) ---------------
#
# The same readers as the torch functions above; an exported graph also holds the no-ops that
# torch.fx never sees (`alias`, `to` of the same dtype) and the views that keep the shape.


def _through(r, args, kwargs, result):
    """A no-op (contiguous, alias, a dtype cast): the same tensor."""
    return r._src(r.node.args[0])


def _view(r, args, kwargs, result):
    if list(result.shape) == list(args[0].shape):
        return _through(r, args, kwargs, result)
    return _reshape(r, args, kwargs, result)


def _unsqueeze(r, args, kwargs, result):
    """unsqueeze and squeeze: a Reshape to the result's sizes."""
    if list(result.shape) == list(args[0].shape):
        return _through(r, args, kwargs, result)
    return "Reshape", {"shape": list(result.shape)}, [r._src(r.node.args[0])]


def _slice(r, args, kwargs, result):
    """aten.slice(x, dim, start, end, step): a Slice, left out when it keeps the whole dimension."""
    if list(result.shape) == list(args[0].shape):
        return _through(r, args, kwargs, result)
    dim, start, end, step = (_arg(args, kwargs, i, name, d) for i, name, d in
                             ((1, "dim", 0), (2, "start", None), (3, "end", None), (4, "step", 1)))
    a = {"dim": dim}
    if start not in (None, 0):
        a["start"] = start
    if end is not None and end < args[0].shape[dim]:
        a["end"] = end
    if step != 1:
        a["step"] = step
    return "Slice", a, [r._src(r.node.args[0])]


def _expand_to(r, args, kwargs, result):
    if list(result.shape) == list(args[0].shape):
        return _through(r, args, kwargs, result)
    return "Expand", {"shape": [int(s) for s in args[1]]}, [r._src(r.node.args[0])]


def _aten_rows():
    aten = torch.ops.aten
    rows = {
        aten.add.Tensor: _binary("Add"), aten.add.Scalar: _binary("Add"), aten.mul.Tensor: _binary("Mul"),
        aten.mul.Scalar: _binary("Mul"), aten.sub.Tensor: _binary("Sub"), aten.div.Tensor: _binary("Div"),
        aten.matmul.default: _matmul, aten.bmm.default: _matmul,
        aten.view.default: _view, aten.reshape.default: _view, aten._unsafe_view.default: _view,
        aten.unsqueeze.default: _unsqueeze, aten.squeeze.dim: _unsqueeze, aten.squeeze.dims: _unsqueeze,
        aten.permute.default: _permute, aten.transpose.int: _transpose, aten.expand.default: _expand_to,
        aten.slice.Tensor: _slice, aten.select.int: _select, aten.flatten.using_ints: _flatten,
        aten.mean.dim: _mean, aten.cat.default: _cat, aten.split.Tensor: _split("split"),
        aten.split_with_sizes.default: _split("split"), aten.chunk.default: _split("chunk"),
        aten.unbind.int: _split("unbind"), aten.softmax.int: _softmax("Softmax"),
        aten.log_softmax.int: _softmax("LogSoftmax"), aten.scaled_dot_product_attention.default: _sdpa,
    }
    for op in ("contiguous.default", "alias.default", "clone.default", "detach.default", "to.dtype",
               "to.dtype_layout", "to.device", "_to_copy.default", "lift_fresh_copy.default"):
        name, _, overload = op.partition(".")
        rows[getattr(getattr(aten, name), overload)] = _through
    acts = {aten.relu.default: "ReLU", aten.gelu.default: "GELU", aten.silu.default: "SiLU",
            aten.sigmoid.default: "Sigmoid", aten.tanh.default: "Tanh", aten.neg.default: "Neg",
            aten.abs.default: "Abs", aten.dropout.default: "Dropout", aten.hardswish.default: "Hardswish"}
    return rows, acts


_rows, _acts = _aten_rows()
FUNCTIONS.update(_rows)
ACTIVATIONS.update(_acts)

# --- tracing ------------------------------------------------------------------------------------------------


class LeafTracer(fx.Tracer):
    """torch.fx's tracer with every module of the table as a leaf."""

    record_stack_traces = True  # the source line of an op without a row

    def is_leaf_module(self, m, qualname):
        return is_leaf(m)


def trace(model: nn.Module, example: list, input_names=None) -> Reader:
    """Trace ``model`` and read it on ``example`` (meta tensors); raise UnsupportedOps listing every gap."""
    from torch._subclasses.fake_tensor import FakeTensorMode

    tracer = LeafTracer()
    was_training = model.training
    model.eval()  # the forward of eval mode: no auxiliary outputs, dropout as itself
    patched = []
    for m in model.modules():
        method = BIAS_METHODS.get(type(m).__name__)
        if method and _has(m, "relative_position_bias_table") and _has(m, "relative_position_index"):
            m.__dict__[method] = lambda m=m: relative_position_bias(m.relative_position_bias_table,
                                                                    m.relative_position_index)
            patched.append((m, method))
    try:
        graph = tracer.trace(model)
    except Exception as exc:  # noqa: BLE001 - any failure of symbolic tracing is reported as one message
        model.train(was_training)
        raise ImportFailed(f"torch.fx cannot trace {type(model).__name__}: {type(exc).__name__}: "
                           f"{str(exc).splitlines()[0] if str(exc) else ''}. Fix: make forward free of "
                           "control flow on tensor values, or import with --hf for HuggingFace models") from None
    finally:
        for m, method in patched:
            del m.__dict__[method]
    if input_names:
        placeholders = [n for n in graph.nodes if n.op == "placeholder"]
        for n, new in zip(placeholders, input_names):
            n.name = new
    try:
        gm = fx.GraphModule(tracer.root, graph)
    except Exception as exc:  # noqa: BLE001
        raise ImportFailed(f"torch.fx cannot rebuild {type(model).__name__}: {exc}. Fix: rename the sub-module "
                           "the message names") from None
    reader = Reader(gm, model)
    fake = FakeTensorMode(allow_non_fake_inputs=True)
    first = next(iter(model.parameters()), None)
    device = first.device if first is not None else torch.device("cpu")
    try:
        with torch.no_grad(), torch.device(device), fake:  # tensors made in forward go where the weights are
            reader.run_located(lambda: [fake.from_tensor(torch.empty(t.shape, dtype=t.dtype, device=device))
                                        for t in example], f"running {type(model).__name__} on the example inputs",
                               ". Fix: check --input (shapes and dtypes the model accepts)")
    finally:
        model.train(was_training)
    if reader.problems:
        raise UnsupportedOps(reader.problems)
    reader.finish()
    return reader


__all__ = ["trace", "Reader", "Layer", "Src", "math"]
