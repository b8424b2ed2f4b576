"""``layercalc export``: a spec as a standalone PyTorch module that imports only torch.

The module reads as a person would write it (torchvision's ``resnet.py`` is the model): one
``nn.Module`` class per block, its params as constructor arguments; the model class ``Model`` with
the spec's dims and vars as keyword arguments and its defaults; the spec's layer names as
attribute names (so ``state_dict`` keys are the spec's layer names); ``repeat`` as an
``nn.ModuleList`` and a loop; ``tie`` as a shared weight, ``share`` as one module called again,
``trainable: false`` as ``requires_grad_(False)``; ``Buffer`` as ``register_buffer``; structure layers (``Add``, ``Reshape``,
``Concat``...) as the tensor expressions they stand for. ``example_inputs(**dims)`` returns zero
tensors of the inputs' shapes and dtypes.

Arguments the spec writes are written as Python expressions over the dims, vars and block params
they name. Arguments the spec lets layercalc infer (``in_features``, ``in_channels``...) are
written as the expression of the input size they come from, followed through the layers before
(``planes * expansion`` after a convolution with that many output channels) and passed into block
classes as ``in_channels``/``in_features``, as torchvision passes ``inplanes``; where a size cannot
be followed (after a Reshape to literal numbers) the number is written.

Nothing here imports torch: exporting works without it.
"""

from __future__ import annotations

import math
import re

from ..engine import read_source, run_graph
from ..errors import Mark, SpecError
from ..layers import REGISTRY
from ..layers.registry import takes_no_input
from ..spec.graph import DEFAULT_MAX_LAYERS, _Expander, expand, generated_name
from ..spec.model import eval_int, parse_spec
from ..spec.yamlload import YMap, YSeq, load_yaml
from .pycode import ModuleCode, Param, Stmt, Unknown, attrname, expr, names_in, paren, pyname, substitute

# spec arguments that torch takes when the module is called, not when it is built
CALL_ARGS = {
    "MultiheadAttention": ("need_weights", "average_attn_weights", "is_causal"),
    "TransformerEncoderLayer": ("is_causal",),
    "TransformerDecoderLayer": ("tgt_is_causal", "memory_is_causal"),
}

# layer types that are tensor expressions in forward, not modules
FUNCTIONAL = {"Add", "Sub", "Mul", "Div", "Abs", "Neg", "Concat", "Select", "Slice", "Mean", "MatMul", "Expand",
              "Reshape", "Permute", "Transpose", "ScaledDotProductAttention"}

# layer types without a torch.nn class: the exported module defines them (HELPERS below)
HELPER_TYPES = {"GroupedQueryAttention", "RotaryEmbedding", "RelativePositionBias", "ShiftedWindowAttention",
                "ShiftedWindowAttentionV2", "RotaryTables", "StochasticDepth"}

# inferred argument -> which input (index) and which of its dimensions it is
_LAST = ("in_features", "input_size", "embed_dim", "d_model", "in1_features")


def _infer_source(t: str, arg: str, ranks: list[int]) -> tuple[int, int]:
    if arg == "in2_features":
        return 1, ranks[1] - 1
    if arg == "kdim":
        return (1 if len(ranks) > 1 else 0), -1
    if arg == "vdim":
        return (2 if len(ranks) > 2 else 0), -1
    if arg in _LAST:
        return 0, ranks[0] - 1
    if arg == "in_channels" or t.startswith("InstanceNorm"):
        spatial = int(t[-2]) if t[-2].isdigit() else 0
        return 0, ranks[0] - spatial - 1
    return 0, 1 if ranks[0] > 1 else 0  # num_features, num_channels


class Val:
    """A value in a forward scope: its Python variable, shape, and per dimension the constructor-time
    Python expression of its size."""

    __slots__ = ("var", "shape", "dims", "extras")

    def __init__(self, var: str, shape, dims: list[str], extras: dict | None = None):
        self.var = var
        self.shape = list(shape)
        self.dims = dims
        self.extras = extras or {}


class _Forward(dict):
    """Spec names -> ``self.NAME`` in forward; records the names forward needs."""

    def __init__(self, init_names: dict):
        super().__init__({k: f"self.{v}" for k, v in init_names.items()})
        self.used: set = set()
        self.init_names = init_names

    def __getitem__(self, key):
        self.used.add(key)
        return super().__getitem__(key)


class Exporter:
    def __init__(self, spec, graph, report, source: str):
        self.spec = spec
        self.graph = graph
        self.rows = report.layers
        self.pos = 0
        self.source = source
        self.classes: dict[str, str] = {}  # rendered body -> class name
        self.class_code: list[str] = []
        self.class_names: set = set()
        self.helpers: set = set()
        self.uses_math = False
        self.expander = _Expander(spec, DEFAULT_MAX_LAYERS)
        self.overrides: dict = {}

    # --- rows --------------------------------------------------------------------------------------------

    def next_row(self, expected: str):
        row = self.rows[self.pos]
        if row.name != expected:  # pragma: no cover - the walk mirrors the expansion
            raise AssertionError(f"export walked to {expected}, the graph has {row.name}")
        self.pos += 1
        return row

    # --- scopes ------------------------------------------------------------------------------------------

    def scope(self, entries, cls: ModuleCode, inputs: dict, env: dict, init_names: dict, numeric: dict,
              prefix: str, trainable: bool, output_ref=None) -> Val:
        """Generate the attributes and forward statements of one scope; return its output value."""
        fwd = _Forward(init_names)
        explicit = {e.name for e in entries if e.name}
        names: dict = dict(inputs)  # spec name -> Val
        counters: dict = {}
        referenced = set()
        for e in entries:
            for r in e.from_ or ():
                referenced.add(r.name)
            if e.share is not None:
                referenced.add(e.share.name)
        if output_ref is not None:
            referenced.add(output_ref.name)
        first_input = next(iter(inputs))
        taken_vars = set(inputs) | {e.name for e in entries if e.name}
        chain = next(v for v in (pyname(first_input), "out", "h", "y", "z", "x")
                     if v not in {pyname(n) for n in taken_vars} or (v == pyname(first_input)
                                                                  and first_input not in referenced))
        prev = inputs[first_input]
        attrs: dict = {}  # spec name -> attribute
        plan = []
        for e in entries:
            name = e.name or generated_name(e.type, counters, lambda n: n in explicit or n in names)
            plan.append(name)
            names[name] = None
        names = dict(inputs)
        for e, name in zip(entries, plan):
            repeat = eval_int(e.repeat, env, e.repeat_mark or e.mark, "`repeat`", minimum=1)
            if e.from_ is not None:
                ins = []
                for r in e.from_:
                    v = names[r.name]
                    ins.append(v if r.extra is None else v.extras[r.extra])
            else:
                ins = [prev] if prev is not None else []
            own = name in referenced or e is entries[-1] and output_ref is None and prefix == "" or (
                self._is_output(name, prefix))
            var = pyname(name) if own else chain
            if e.type in self.spec.blocks:
                out = self.block_entry(e, name, repeat, ins, var, cls, env, init_names, fwd, numeric, prefix,
                                       trainable and e.trainable, attrs)
            else:
                out = self.leaf_entry(e, name, repeat, ins, var, cls, env, init_names, fwd, numeric, prefix,
                                      trainable and e.trainable, attrs)
            attrs[name] = attrname(name)
            names[name] = out
            prev = out
        for key in sorted(fwd.used):
            py = init_names[key]
            cls.setup.append(f"self.{py} = {py}")
        if output_ref is not None:
            v = names[output_ref.name]
            return v if output_ref.extra is None else v.extras[output_ref.extra]
        self.scope_names = names
        return prev

    def _is_output(self, name: str, prefix: str) -> bool:
        return prefix == "" and any(r.name == name for r in (self.spec.outputs or ()))

    # --- one leaf entry ----------------------------------------------------------------------------------

    def leaf_entry(self, e, name, repeat, ins, var, cls, env, init_names, fwd, numeric, prefix, trainable, attrs):
        t = e.type
        rule = REGISTRY[t]
        attr = attrname(name)
        raw = e.args or YMap()
        ctors, outs, rows = [], [], []
        cur = ins
        for k in range(repeat):
            row = self.next_row(f"{prefix}{name}" + (f".{k}" if repeat > 1 else ""))
            rows.append(row)
            ctor = self.ctor(t, rule, raw, row, cur, init_names, numeric) if t not in FUNCTIONAL else None
            ctors.append(ctor)
            out = Val(var, row.output_shape, self.out_dims(t, rule, raw, row, cur, init_names, numeric))
            outs.append(out)
            if takes_no_input(t):
                cur = [out]
            else:
                cur = [out] + cur[1:]
        row = rows[0]
        if takes_no_input(t):
            ins = []
        ins_code = [v.var for v in ins]
        shared = attrname(e.share.name) if e.share is not None else None
        if t in FUNCTIONAL:
            value = self.functional(t, raw, row, ins, fwd)
            cls.forward.append(Stmt(var, value))
            for k in range(1, repeat):
                cls.forward.append(Stmt(var, self.functional(t, raw, rows[k], [outs[k - 1]] + ins[1:], fwd)))
        elif t in ("Parameter", "Buffer"):
            shape = ctors[0][1:-1].rstrip(",") if ctors[0].startswith("(") else ctors[0]
            if t == "Parameter":
                cls.init.append(f"self.{attr} = nn.Parameter(torch.zeros({shape}))")
            else:
                dtype = row.args.get("dtype", "float32")
                kind = "" if dtype == "float32" else f", dtype=torch.{dtype}"
                cls.init.append(f"self.register_buffer({attr!r}, torch.zeros({shape or '()'}{kind}))")
            cls.forward.append(Stmt(var, f"self.{attr}"))
        else:
            listed = repeat > 1 or not isinstance(e.repeat, int)
            if shared is None:
                if not listed:
                    cls.init.append(f"self.{attr} = {ctors[0]}")
                else:
                    cls.init.append(f"self.{attr} = {_module_list(ctors, e.repeat, init_names)}")
            module = f"self.{shared or attr}"
            if not listed:
                cls.forward.append(Stmt(*self.call(t, row, module, ins_code, ins, var, name)))
            else:
                if ins and ins[0].var != var:
                    cls.forward.append(Stmt(var, ins[0].var))
                if shared is None:
                    step = Stmt(*self.call(t, row, "layer", [var] + ins_code[1:], ins, var, name))
                    cls.forward.append(Stmt("", f"for layer in {module}:", (step,)))
                else:
                    step = Stmt(*self.call(t, row, module, [var] + ins_code[1:], ins, var, name))
                    cls.forward.append(Stmt("", f"for _ in range({self._repeat_code(e, fwd)}):", (step,)))
        if e.tie is not None:
            cls.after.append(f"self.{attr}.weight = self.{attrname(e.tie.name)}.weight")
        if not e.trainable and shared is None:
            cls.after.append(f"self.{attr}.requires_grad_(False)")
        last = outs[-1]
        extras = {}
        for ex, shape in rows[-1].extra_outputs.items():
            extras[ex] = Val(f"{pyname(name)}_{ex}", shape,
                             self.extra_dims(t, raw, rows[-1], ex, last, init_names, numeric))
        last.extras = extras
        return last

    def extra_dims(self, t, raw, row, extra, out, names, numeric) -> list[str]:
        """The sizes of an extra output (a recurrent layer's final states, pooling's indices...) as
        expressions: the output's own where the shapes agree, a recurrent state's batch and hidden size."""
        shape = row.extra_outputs[extra]
        if list(shape) == list(row.output_shape):
            return list(out.dims)
        dims = [str(n) for n in shape]
        if t in ("RNN", "LSTM", "GRU") and len(shape) >= 2:
            arg = "proj_size" if extra == "h_n" and row.args.get("proj_size") else "hidden_size"
            try:
                dims[-1] = expr(raw[arg], names, integer=True) if arg in raw else str(row.args[arg])
            except (Unknown, SyntaxError):
                pass
            if len(shape) == 3:  # (layers x directions, B, H): B from the output
                dims[1] = out.dims[0] if row.args.get("batch_first") else out.dims[1]
        return [d if self.value(d, numeric) == n else str(n) for d, n in zip(dims, shape)]

    def _repeat_code(self, e, fwd) -> str:
        try:
            return expr(e.repeat, fwd, integer=True)
        except Unknown:
            return str(e.repeat)

    def ctor(self, t, rule, raw, row, ins, init_names, numeric) -> str:
        """The constructor call of one layer (for Parameter: its shape)."""
        if t in ("Parameter", "Buffer"):
            return self.arg_code(rule.args[0], raw, row, init_names)
        kwargs = []
        skip = CALL_ARGS.get(t, ())
        ranks = [len(v.shape) for v in ins]
        for arg in rule.args:
            if arg.name in skip:
                continue
            if arg.name in raw:
                kwargs.append(f"{arg.name}={self.arg_code(arg, raw, row, init_names)}")
            elif arg.infer:
                value = row.args.get(arg.name)
                if value is None:
                    continue
                if t == "MultiheadAttention" and arg.name in ("kdim", "vdim") and value == row.args["embed_dim"]:
                    continue
                i, d = _infer_source(t, arg.name, ranks)
                code = ins[i].dims[d] if i < len(ins) and d < len(ins[i].dims) else str(value)
                if self.value(code, numeric) != value:
                    code = str(value)
                kwargs.append(f"{arg.name}={code}")
        prefix = "" if t in HELPER_TYPES else "nn."
        if t in HELPER_TYPES:
            self.helpers.add(t)
        return f"{prefix}{t}({', '.join(kwargs)})"

    def arg_code(self, arg, raw, row, names) -> str:
        value = raw[arg.name]
        if isinstance(value, str) and ((arg.choices and value in arg.choices) or (arg.kind == "str" and value not in names)):
            return repr(value)
        try:
            code = expr(value, names, integer=arg.kind in ("int", "ints", "shape"))
        except (Unknown, SyntaxError):
            code = repr(row.args.get(arg.name))
        if "math." in code:
            self.uses_math = True
        return code

    def value(self, code: str, numeric: dict):
        try:
            return eval(code, {"__builtins__": {}, "int": int, "min": min, "max": max, "round": round, "math": math},
                        dict(numeric))
        except Exception:  # noqa: BLE001 - a code that does not evaluate is replaced by the number
            return None

    # --- forward expressions -----------------------------------------------------------------------------

    def fwd_arg(self, rule, raw, row, name, fwd, integer=True) -> str:
        if name in raw:
            try:
                return expr(raw[name], fwd, integer=integer)
            except (Unknown, SyntaxError):
                pass
        return repr(row.args.get(name))

    def functional(self, t, raw, row, ins, fwd) -> str:
        rule = REGISTRY[t]
        xs = [v.var for v in ins]
        x = xs[0] if xs else ""

        def a(n, integer=True):
            return self.fwd_arg(rule, raw, row, n, fwd, integer)

        if t in ("Add", "Mul", "Sub", "Div"):
            sign = {"Add": " + ", "Mul": " * ", "Sub": " - ", "Div": " / "}[t]
            if raw.get("scalar") is not None:  # a Python number operand
                number = self.fwd_arg(rule, raw, row, "scalar", fwd, integer=False)
                if not re.fullmatch(r"[\w.]+", number):
                    number = f"({number})"
                return f"{number}{sign}{x}" if row.args.get("scalar_first") else f"{x}{sign}{number}"
            return sign.join(xs)
        if t == "MatMul":
            return f"{xs[0]} @ {xs[1]}"
        if t == "Abs":
            return f"{x}.abs()"
        if t == "Neg":
            return f"-{x}"
        if t == "Concat":
            return f"torch.cat([{', '.join(xs)}], dim={a('dim')})"
        if t == "Select":
            return f"{x}.select({a('dim')}, {a('index')})"
        if t == "Slice":
            rank = len(ins[0].shape)
            dim = row.args["dim"] % rank
            start = a("start") if "start" in raw else ""
            end = a("end") if raw.get("end") is not None else ""
            step = (":" + a("step")) if "step" in raw else ""
            return f"{x}[{':, ' * dim}{start}:{end}{step}]"
        if t == "Mean":
            keep = ", keepdim=True" if row.args.get("keepdim") else ""
            dim = a("dim") if raw.get("dim") is not None else None
            return f"{x}.mean(dim={dim}{keep})" if dim is not None else f"{x}.mean({keep.lstrip(', ')})"
        if t in ("Expand", "Reshape"):
            return f"{x}.{t.lower()}{_args_tuple(a('shape'))}"
        if t == "Permute":
            return f"{x}.permute{_args_tuple(a('dims'))}"
        if t == "Transpose":
            return f"{x}.transpose({a('dim0')}, {a('dim1')})"
        if t == "ScaledDotProductAttention":
            kw = [f"{n}={a(n, integer=False)}" for n in ("dropout_p", "is_causal", "scale", "enable_gqa") if n in raw]
            if "dropout_p" in raw:  # the functional applies its dropout whenever called: in training only
                kw[0] = f"dropout_p={a('dropout_p', integer=False)} if self.training else 0.0"
            return f"F.scaled_dot_product_attention({', '.join(xs + kw)})"
        raise AssertionError(t)  # pragma: no cover

    def call(self, t, row, module, xs, ins, var, name) -> tuple[str, str]:
        """(targets, call) of a module layer."""
        py = pyname(name)
        args = list(xs)
        kw = []
        targets = var
        if t == "MultiheadAttention":
            if len(args) == 1:
                args = args * 3
            q, k = ins[0], ins[1] if len(ins) > 1 else ins[0]
            seq = 1 if row.args["batch_first"] and len(q.shape) == 3 else 0
            if not row.args["need_weights"]:
                kw.append("need_weights=False")
            if not row.args["average_attn_weights"]:
                kw.append("average_attn_weights=False")
            if row.args["is_causal"]:
                self.helpers.add("causal_mask")
                kw.append(f"attn_mask=causal_mask({args[0]}.size({seq}), {args[1]}.size({seq})), is_causal=True")
            targets = f"{var}, {py + '_attn_weights' if 'attn_weights' in row.extra_outputs else '_'}"
        elif t == "TransformerEncoderLayer" and row.args["is_causal"]:
            self.helpers.add("causal_mask")
            seq = 1 if row.args["batch_first"] and len(ins[0].shape) == 3 else 0
            kw.append(f"src_mask=causal_mask({args[0]}.size({seq}), {args[0]}.size({seq})), is_causal=True")
        elif t == "TransformerDecoderLayer":
            seq = 1 if row.args["batch_first"] and len(ins[0].shape) == 3 else 0
            if row.args["tgt_is_causal"]:
                self.helpers.add("causal_mask")
                kw.append(f"tgt_mask=causal_mask({args[0]}.size({seq}), {args[0]}.size({seq})), tgt_is_causal=True")
            if row.args["memory_is_causal"]:
                self.helpers.add("causal_mask")
                kw.append(f"memory_mask=causal_mask({args[0]}.size({seq}), {args[1]}.size({seq})), "
                          "memory_is_causal=True")
        elif t in ("RNN", "GRU"):
            targets = f"{var}, {py}_h_n"
        elif t == "LSTM":
            targets = f"{var}, ({py}_h_n, {py}_c_n)"
        elif t == "LSTMCell":
            targets = f"{var}, {py}_c"
        elif "indices" in row.extra_outputs:
            targets = f"{var}, {py}_indices"
        elif t == "RotaryTables":
            targets = f"{var}, {py}_sin"
        return targets, f"{module}({', '.join(args + kw)})"

    # --- sizes followed through layers -------------------------------------------------------------------

    def out_dims(self, t, rule, raw, row, ins, names, numeric) -> list[str]:
        shape = row.output_shape
        x = ins[0] if ins else None

        def given(arg):
            try:
                if arg in raw:
                    return expr(raw[arg], names, integer=True)
            except (Unknown, SyntaxError):
                pass
            v = row.args.get(arg)
            return str(v)

        def written(items, sizes):
            """The sizes the spec writes, as expressions over the names; -1 and what cannot be followed keep
            ``sizes``."""
            sizes = list(sizes)
            for i, item in enumerate(items):
                if item != -1:
                    try:
                        sizes[i] = expr(item, names, integer=True)
                    except (Unknown, SyntaxError):
                        pass
            return sizes

        dims = []
        for i, n in enumerate(shape):
            if x is not None and len(x.shape) == len(shape) and x.shape[i] == n:
                dims.append(x.dims[i])
            else:
                dims.append(str(n))
        rank = len(shape)
        if t in ("Linear", "Bilinear") and rank:
            dims[-1] = given("out_features")
        elif t.startswith(("Conv", "ConvTranspose")) and rank:
            spatial = int(t[-2])
            dims[rank - spatial - 1] = given("out_channels")
        elif t in ("Embedding", "EmbeddingBag"):
            if t == "Embedding":
                dims = list(x.dims) + [given("embedding_dim")]
            else:
                dims[-1] = given("embedding_dim")
        elif t in ("RNN", "LSTM", "GRU"):
            h = given("proj_size") if row.args.get("proj_size") else given("hidden_size")
            dims[-1] = f"{paren(h)} * 2" if row.args.get("bidirectional") else h
        elif t in ("RNNCell", "LSTMCell", "GRUCell"):
            dims[-1] = given("hidden_size")
        elif t == "Flatten" and x is not None:
            r = len(x.shape)
            s, end = row.args["start_dim"] % r, row.args["end_dim"] % r
            factors = [paren(d) for d in x.dims[s:end + 1] if d != "1"] or ["1"]
            merged = " * ".join(factors)
            dims = list(x.dims[:s]) + [merged] + list(x.dims[end + 1:])
        elif t == "Select" and x is not None:
            dims = [v for i, v in enumerate(x.dims) if i != row.args["dim"] % len(x.shape)]
        elif t == "Unflatten" and x is not None and isinstance(raw.get("unflattened_size"), list):
            d, n = row.args["dim"] % len(x.shape), len(raw["unflattened_size"])
            dims[d:d + n] = written(raw["unflattened_size"], dims[d:d + n])
        elif t == "Concat":
            d = row.args["dim"] % rank
            dims[d] = " + ".join(paren(v.dims[d]) for v in ins)
        elif t == "Permute":
            dims = [x.dims[p % rank] for p in row.args["dims"]]
        elif t == "Transpose":
            dims = list(x.dims)
            a, b = row.args["dim0"] % rank, row.args["dim1"] % rank
            dims[a], dims[b] = dims[b], dims[a]
        elif t in ("Parameter", "Buffer", "Reshape", "Expand") and "shape" in raw and isinstance(raw["shape"], list):
            dims = written(raw["shape"], dims)
        elif t == "MatMul" and rank:
            dims[-1] = ins[1].dims[-1]
        return [d if self.value(d, numeric) == n else str(n) for d, n in zip(dims, shape)]

    # --- blocks ------------------------------------------------------------------------------------------

    def block_entry(self, e, name, repeat, ins, var, cls, env, init_names, fwd, numeric, prefix, trainable, attrs):
        block = self.spec.blocks[e.type]
        benv = self.expander.block_env(block, e, env)
        attr = attrname(name)
        calls, outs = [], []
        cur = ins
        for k in range(repeat):
            inst = f"{prefix}{name}." + (f"{k}." if repeat > 1 else "")
            cname, call, out = self.block_class(block, e, benv, cur, inst, init_names, numeric)
            calls.append(call)
            out = Val(var, out.shape, out.dims)
            outs.append(out)
            cur = [out] + list(cur[1:])
        shared = attrname(e.share.name) if e.share is not None else None
        xs = [v.var for v in ins]
        listed = repeat > 1 or not isinstance(e.repeat, int)
        if shared is None:
            if not listed:
                cls.init.append(f"self.{attr} = {calls[0]}")
            else:
                cls.init.append(f"self.{attr} = {_module_list(calls, e.repeat, init_names)}")
        module = shared or attr
        if not listed:
            cls.forward.append(Stmt(var, f"self.{module}({', '.join(xs)})"))
        else:
            if xs[0] != var:
                cls.forward.append(Stmt(var, xs[0]))
            call = Stmt(var, f"block({', '.join([var] + xs[1:])})")
            if shared is None:
                cls.forward.append(Stmt("", f"for block in self.{module}:", (call,)))
            else:
                cls.forward.append(Stmt("", f"for _ in range({self._repeat_code(e, fwd)}):",
                                        (Stmt(var, f"self.{module}({', '.join([var] + xs[1:])})"),)))
        if not e.trainable and shared is None:
            cls.after.append(f"self.{attr}.requires_grad_(False)")
        return outs[-1]

    def block_class(self, block, e, benv, ins, inst, outer_names, outer_numeric):
        """Generate the class of one block instance; return (class name, constructor call, output Val)."""
        code = ModuleCode(block.name)
        params = list(block.params)
        init_names = {}
        numeric = {}
        for k, v in self.spec.env.items():
            init_names[k] = pyname(k)
            numeric[pyname(k)] = v
        in_names = {}
        inputs = {}
        for bi, (iname, v) in enumerate(zip(block.inputs, ins)):
            rank = len(v.shape)
            dims = []
            for d in range(rank):
                if len(block.inputs) == 1:
                    nice = "in_features" if d == rank - 1 else "in_channels" if d == 1 else f"in_dim{d}"
                else:
                    nice = f"{iname}_features" if d == rank - 1 else f"{iname}_channels" if d == 1 else f"{iname}_dim{d}"
                nice = pyname(nice)
                in_names[nice] = v.dims[d]
                numeric[nice] = v.shape[d]
                dims.append(nice)
            inputs[iname] = Val(pyname(iname), v.shape, dims)
        for p in params:
            init_names[p] = pyname(p)
            numeric[pyname(p)] = benv[p]
        code.inputs = [pyname(i) for i in block.inputs]
        out = self.scope(block.layers, code, inputs, benv, init_names, numeric, inst, True, block.output)
        code.returns = [out.var]
        # the constructor's parameters: the input sizes it uses, the block's params, the vars it reads
        used = set()
        for line in code.init + code.after + code.setup:
            used |= _names_of_line(line)
        sig, call = [], []
        for nice, outer in in_names.items():
            if nice in used:
                sig.append(Param(nice))
                call.append(outer)
        defaults = []
        for p in params:
            default = block.params[p]
            py = pyname(p)
            if default is None:
                sig.append(Param(py))
            elif isinstance(default, (bool, int, float)) or (isinstance(default, str) and _is_literal(default, init_names)):
                sig.append(Param(py, repr(float(default)) if isinstance(default, str) and _FLOAT.match(default)
                                 else repr(default)))
            else:
                sig.append(Param(py, "None"))
                defaults.append(f"if {py} is None:\n            {py} = {expr(default, init_names)}")
            if e.args is not None and p in e.args:
                raw = e.args[p]
                if isinstance(raw, str) and _is_literal(raw, outer_names):
                    call.append(f"{py}={raw!r}")
                else:
                    try:
                        call.append(f"{py}={expr(raw, outer_names)}")
                    except (Unknown, SyntaxError):
                        call.append(f"{py}={benv[p]!r}")
        code.setup = defaults + code.setup
        for line in defaults:
            used |= _names_of_line(line)
        own = {pyname(p) for p in params} | set(in_names)
        spec_names = {pyname(k) for k in self.spec.env}
        outer_py = outer_names_by_py(outer_names)
        for g in sorted(n for n in used if n in spec_names and n not in own):
            sig.append(Param(g, keyword_only=True))
            call.append(f"{g}={outer_py.get(g, g)}")
        code.params = sig
        # the output sizes, in the caller's names
        mapping = {nice: in_names[nice] for nice in in_names}
        for p in params:
            mapping[pyname(p)] = repr(benv[p])
        for c in call:
            if "=" in c:
                k, v = c.split("=", 1)
                mapping[k] = v
        for k in self.spec.env:
            mapping.setdefault(pyname(k), outer_py.get(pyname(k), pyname(k)))
        dims = []
        for d, n in zip(out.dims, out.shape):
            try:
                c = substitute(d, mapping)
            except (Unknown, SyntaxError):
                c = str(n)
            dims.append(c if self.value(c, outer_numeric) == n else str(n))
        out = Val(out.var, out.shape, dims)
        body = code.render()
        cname = self.classes.get(body)
        if cname is None:
            cname = block.name
            n = 2
            while cname in self.class_names or cname in ("Model",) or cname in HELPER_TYPES:
                cname = f"{block.name}{n}"
                n += 1
            code.name = cname
            self.class_names.add(cname)
            self.classes[body] = cname
            self.class_code.append(code.render())
        return cname, f"{cname}({', '.join(call)})", out

    # --- the whole module --------------------------------------------------------------------------------

    def model(self, raw_doc) -> str:
        spec = self.spec
        code = ModuleCode("Model", f"{spec.name}, as the spec describes it.")
        init_names = {k: pyname(k) for k in spec.env}
        numeric = {pyname(k): v for k, v in spec.env.items()}
        for section in ("dims", "vars"):
            sec = raw_doc.get(section) or {}
            for k in sec:
                rawv = sec[k]
                py = pyname(k)
                if k in self.overrides:
                    rawv = self.overrides[k]
                if isinstance(rawv, (int, float)) and not isinstance(rawv, bool):
                    code.params.append(Param(py, repr(rawv)))
                elif isinstance(rawv, str) and _FLOAT.match(rawv.strip()):
                    code.params.append(Param(py, repr(float(rawv))))
                else:
                    code.params.append(Param(py, "None"))
                    code.setup.append(f"if {py} is None:\n            {py} = {expr(rawv, init_names)}")
        inputs = {}
        for i in spec.inputs:
            rawshape = raw_doc["inputs"][i.name]
            if isinstance(rawshape, YMap):
                rawshape = rawshape["shape"]
            dims = []
            for d, item in zip(i.shape, rawshape):
                try:
                    c = expr(item, init_names, integer=True)
                except (Unknown, SyntaxError):
                    c = str(d)
                dims.append(c if self.value(c, numeric) == d else str(d))
            inputs[i.name] = Val(pyname(i.name), i.shape, dims)
        code.inputs = [pyname(n) for n in inputs]
        last = self.scope(spec.layers, code, inputs, spec.env, init_names, numeric, "", True)
        names = self.scope_names
        if spec.outputs is None:
            code.returns = [last.var]
        else:
            rets = []
            for r in spec.outputs:
                v = names[r.name]
                rets.append((v if r.extra is None else v.extras[r.extra]).var)
            code.returns = rets
        return self.module_text(code, raw_doc, inputs, init_names, numeric)

    def module_text(self, model: ModuleCode, raw_doc, inputs, init_names, numeric) -> str:
        spec = self.spec
        lines = [f'"""{spec.name}: a PyTorch module written by `layercalc export` from {self.source}.',
                 "",
                 "    model = Model()",
                 "    outputs = model(*example_inputs())",
                 '"""', ""]
        if self.uses_math or any("math." in c for c in self.class_code) or "ShiftedWindowAttentionV2" in self.helpers:
            lines.append("import math")
            lines.append("")
        lines.append("import torch")
        lines.append("from torch import nn")
        if "F.scaled_dot_product_attention" in "\n".join(self.class_code) + model.render() or self.helpers & {
                "GroupedQueryAttention", "ShiftedWindowAttention", "ShiftedWindowAttentionV2"}:
            lines.append("from torch.nn import functional as F")
        lines.append("")
        needs = {"RotaryEmbedding": {"GroupedQueryAttention"}, "relative_position_index": {
            "RelativePositionBias", "ShiftedWindowAttention", "ShiftedWindowAttentionV2"},
            "ShiftedWindowAttention": {"ShiftedWindowAttentionV2"}}
        for h in ("causal_mask", "RotaryEmbedding", "GroupedQueryAttention", "relative_position_index",
                  "RelativePositionBias", "ShiftedWindowAttention", "ShiftedWindowAttentionV2", "RotaryTables",
                  "StochasticDepth"):
            if h in self.helpers or self.helpers & needs.get(h, set()):
                lines.append("")
                lines.append(HELPERS[h].strip("\n"))
                lines.append("")
        for c in self.class_code:
            lines.append("")
            lines.append(c)
            lines.append("")
        lines.append("")
        lines.append(model.render())
        lines.append("")
        # example inputs
        used = set()
        for v in inputs.values():
            for d in v.dims:
                used |= names_in(d)
        params = []
        dims_first = list(spec.dims) + [k for k in spec.vars]
        for k in dims_first:
            py = pyname(k)
            if py in used:
                params.append(f"{py}={spec.env[k]!r}")
        lines.append("")
        lines.append(f"def example_inputs({', '.join(params)}):")
        lines.append(f'    """Zero tensors of the shapes and dtypes of the inputs ({", ".join(inputs)})."""')
        items = []
        for i in spec.inputs:
            v = inputs[i.name]
            dtype = "" if i.dtype == "float32" else f", dtype=torch.{i.dtype}"
            items.append(f"torch.zeros({', '.join(v.dims)}{dtype})")
        lines.append(f"    return ({', '.join(items)}{',' if len(items) == 1 else ''})")
        return "\n".join(lines) + "\n"


_FLOAT = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)$")


def _is_literal(text: str, names=()) -> bool:
    """A literal word such as ``same`` or ``nearest-exact`` (not a name in scope, not an expression)."""
    word = text.strip()
    return (bool(re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", word)) and word not in names
            and word not in ("min", "max", "ceil", "floor", "round") and not _FLOAT.match(word))


def outer_names_by_py(outer_names: dict) -> dict:
    """The caller's Python name of each spec var or dim, keyed by its own Python name (the first
    spec name wins where two map to one); built once per block use, so that an export stays
    linear in the number of vars."""
    out: dict = {}
    for spec_name, py in outer_names.items():
        out.setdefault(pyname(spec_name), py)
    return out


def names_in_setup(text: str) -> set:
    return set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", text))


def _names_of_line(line: str) -> set:
    """Names read by a generated statement such as ``self.conv = nn.Conv2d(in_channels=c, ...)``."""
    import ast

    try:
        tree = ast.parse(line.strip())
    except SyntaxError:
        return names_in_setup(line)
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def _args_tuple(code: str) -> str:
    return code if code.startswith("(") else f"({code})"


def _module_list(ctors: list[str], repeat_raw, names: dict) -> str:
    try:
        n = expr(repeat_raw, names, integer=True)
    except (Unknown, SyntaxError):
        n = str(len(ctors))
    if all(c == ctors[0] for c in ctors):
        return f"nn.ModuleList([{ctors[0]} for _ in range({n})])"
    if all(c == ctors[1] for c in ctors[1:]):
        rest = f"{paren(n)} - 1" if not n.isdigit() else str(int(n) - 1)
        return f"nn.ModuleList([{ctors[0]}] + [{ctors[1]} for _ in range({rest})])"
    return f"nn.ModuleList([{', '.join(ctors)}])"


HELPERS = {
    "causal_mask": '''
@torch.fx.wrap  # built from sizes: a leaf when the model is traced
def causal_mask(queries, keys):
    """The boolean mask of causal attention: True where a query may not see a key."""
    return torch.ones(queries, keys, dtype=torch.bool).triu(1)
''',
    "RotaryEmbedding": '''
class RotaryEmbedding(nn.Module):
    """Rotary position embedding of the features of (batch, time, [heads,] features) tensors."""

    def __init__(self, rotary_dim=None, base=10000.0):
        super().__init__()
        self.rotary_dim = rotary_dim
        self.base = base

    def forward(self, x):
        heads_axis = x.dim() == 4
        d = self.rotary_dim or x.size(-1)
        t = torch.arange(x.size(1), dtype=torch.float32, device=x.device)
        inv_freq = self.base ** (-torch.arange(0, d, 2, dtype=torch.float32, device=x.device) / d)
        angles = t[:, None] * inv_freq[None, :]
        angles = torch.cat([angles, angles], dim=-1)
        if heads_axis:
            angles = angles[:, None, :]
        rot, rest = x[..., :d], x[..., d:]
        half = d // 2
        rotated = torch.cat([-rot[..., half:], rot[..., :half]], dim=-1)
        return torch.cat([rot * angles.cos() + rotated * angles.sin(), rest], dim=-1)
''',
    "RotaryTables": '''
class RotaryTables(nn.Module):
    """The cos and sin tables of rotary position embedding, from position ids, computed once for every layer."""

    def __init__(self, dim, base=10000.0, scaling=1.0, original=True):
        super().__init__()
        inv_freq = base ** (-torch.arange(0, dim, 2, dtype=torch.float32) / dim)
        self.register_buffer("inv_freq", inv_freq, persistent=False)
        if original:
            self.register_buffer("original_inv_freq", inv_freq.clone(), persistent=False)
        self.scaling = scaling

    def forward(self, position_ids):
        angles = position_ids[:, :, None].float() * self.inv_freq
        angles = torch.cat([angles, angles], dim=-1)
        return angles.cos() * self.scaling, angles.sin() * self.scaling
''',
    "StochasticDepth": '''
class StochasticDepth(nn.Module):
    """Drops a whole residual branch per sample ("row") or for the batch ("batch") with probability p in
    training, as torchvision.ops.StochasticDepth; the identity in eval mode."""

    def __init__(self, p, mode):
        super().__init__()
        self.p = p
        self.mode = mode

    def forward(self, x):
        if not self.training or self.p == 0.0:
            return x
        size = [x.shape[0]] + [1] * (x.dim() - 1) if self.mode == "row" else [1] * x.dim()
        noise = torch.empty(size, dtype=x.dtype, device=x.device).bernoulli_(1.0 - self.p)
        if self.p < 1.0:
            noise.div_(1.0 - self.p)
        return x * noise
''',
    "GroupedQueryAttention": '''
class GroupedQueryAttention(nn.Module):
    """Llama's self-attention: num_kv_heads key/value heads shared by num_heads query heads."""

    def __init__(self, embed_dim, num_heads, num_kv_heads=None, head_dim=None, bias=False, is_causal=False,
                 rotary=False):
        super().__init__()
        self.num_heads = num_heads
        self.num_kv_heads = num_kv_heads or num_heads
        self.head_dim = head_dim or embed_dim // num_heads
        self.is_causal = is_causal
        self.q_proj = nn.Linear(embed_dim, self.num_heads * self.head_dim, bias=bias)
        self.k_proj = nn.Linear(embed_dim, self.num_kv_heads * self.head_dim, bias=bias)
        self.v_proj = nn.Linear(embed_dim, self.num_kv_heads * self.head_dim, bias=bias)
        self.o_proj = nn.Linear(self.num_heads * self.head_dim, embed_dim, bias=bias)
        self.rotary = RotaryEmbedding() if rotary else None

    def forward(self, x):
        unbatched = x.dim() == 2
        if unbatched:
            x = x.unsqueeze(0)
        b, t, _ = x.shape
        q = self.q_proj(x).view(b, t, self.num_heads, self.head_dim)
        k = self.k_proj(x).view(b, t, self.num_kv_heads, self.head_dim)
        v = self.v_proj(x).view(b, t, self.num_kv_heads, self.head_dim)
        if self.rotary is not None:
            q, k = self.rotary(q), self.rotary(k)
        q, k, v = q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2)
        groups = self.num_heads // self.num_kv_heads
        k, v = k.repeat_interleave(groups, dim=1), v.repeat_interleave(groups, dim=1)
        out = F.scaled_dot_product_attention(q, k, v, is_causal=self.is_causal)
        out = self.o_proj(out.transpose(1, 2).reshape(b, t, self.num_heads * self.head_dim))
        return out[0] if unbatched else out
''',
    "relative_position_index": '''
def relative_position_index(wh, ww):
    """For each pair of the wh * ww positions of a window, the row of the bias table of their offset."""
    coords = torch.stack(torch.meshgrid(torch.arange(wh), torch.arange(ww), indexing="ij")).flatten(1)
    offsets = coords[:, :, None] - coords[:, None, :]
    return ((offsets[0] + wh - 1) * (2 * ww - 1) + offsets[1] + ww - 1).flatten()
''',
    "RelativePositionBias": '''
class RelativePositionBias(nn.Module):
    """A learned bias per head for each offset between two positions of a window, as (1, heads, N, N)."""

    def __init__(self, window_size, num_heads):
        super().__init__()
        wh, ww = (window_size, window_size) if isinstance(window_size, int) else window_size
        self.window_size = (wh, ww)
        self.num_heads = num_heads
        self.relative_position_bias_table = nn.Parameter(torch.zeros((2 * wh - 1) * (2 * ww - 1), num_heads))
        self.register_buffer("relative_position_index", relative_position_index(wh, ww))

    def forward(self):
        n = self.window_size[0] * self.window_size[1]
        bias = self.relative_position_bias_table[self.relative_position_index].view(n, n, -1)
        return bias.permute(2, 0, 1).unsqueeze(0)
''',
    "ShiftedWindowAttention": '''
class ShiftedWindowAttention(nn.Module):
    """Swin's attention inside (shifted) windows of a (B, H, W, C) map, as torchvision writes it."""

    def __init__(self, dim, window_size, shift_size, num_heads, qkv_bias=True, proj_bias=True,
                 attention_dropout=0.0, dropout=0.0):
        super().__init__()
        pair = lambda v: (v, v) if isinstance(v, int) else tuple(v)  # noqa: E731
        self.window_size, self.shift_size = pair(window_size), pair(shift_size)
        self.num_heads = num_heads
        self.attention_dropout, self.dropout = attention_dropout, dropout
        self.qkv = nn.Linear(dim, dim * 3, bias=qkv_bias)
        self.proj = nn.Linear(dim, dim, bias=proj_bias)
        self.define_bias()
        self.register_buffer("relative_position_index", relative_position_index(*self.window_size))

    def define_bias(self):
        wh, ww = self.window_size
        self.relative_position_bias_table = nn.Parameter(torch.zeros((2 * wh - 1) * (2 * ww - 1), self.num_heads))

    def qkv_bias(self):
        return self.qkv.bias

    def gather(self, table):
        n = self.window_size[0] * self.window_size[1]
        return table[self.relative_position_index].view(n, n, -1).permute(2, 0, 1).contiguous().unsqueeze(0)

    def position_bias(self):
        return self.gather(self.relative_position_bias_table)

    def scores(self, q, k):
        """(what torchvision keeps to the end of the call, the scores): q scaled."""
        q = q * (q.size(-1) ** -0.5)
        return q, q.matmul(k.transpose(-2, -1))

    def forward(self, x):
        bias = self.position_bias()
        b, h, w, c = x.shape
        (wh, ww), (sh, sw) = self.window_size, self.shift_size
        x = F.pad(x, (0, 0, 0, (ww - w % ww) % ww, 0, (wh - h % wh) % wh))
        hp, wp = x.size(1), x.size(2)
        sh, sw = (0 if wh >= hp else sh), (0 if ww >= wp else sw)
        if sh + sw:
            x = torch.roll(x, shifts=(-sh, -sw), dims=(1, 2))
        windows, n = (hp // wh) * (wp // ww), wh * ww
        x = x.view(b, hp // wh, wh, wp // ww, ww, c).permute(0, 1, 3, 2, 4, 5).reshape(b * windows, n, c)
        qkv_bias = self.qkv_bias()
        qkv = F.linear(x, self.qkv.weight, qkv_bias)
        q, k, v = qkv.reshape(x.size(0), x.size(1), 3, self.num_heads, -1).permute(2, 0, 3, 1, 4)
        held, attn = self.scores(q, k)  # noqa: F841 - alive to the end, as in torchvision
        attn = attn + bias
        if sh + sw:  # -100 between tokens from different regions of the rolled map
            mask = x.new_zeros((hp, wp))
            count = 0
            for top, bottom in ((0, -wh), (-wh, -sh), (-sh, None)):
                for left, right in ((0, -ww), (-ww, -sw), (-sw, None)):
                    mask[top:bottom, left:right] = count
                    count += 1
            mask = mask.view(hp // wh, wh, wp // ww, ww).permute(0, 2, 1, 3).reshape(windows, n)
            mask = mask.unsqueeze(1) - mask.unsqueeze(2)
            mask = mask.masked_fill(mask != 0, -100.0).masked_fill(mask == 0, 0.0)
            attn = attn.view(b, windows, self.num_heads, n, n) + mask.unsqueeze(1).unsqueeze(0)
            attn = attn.view(-1, self.num_heads, n, n)
        attn = F.dropout(attn.softmax(dim=-1), p=self.attention_dropout, training=self.training)
        x = (attn @ v).transpose(1, 2).reshape(x.size(0), x.size(1), c)
        x = F.dropout(self.proj(x), p=self.dropout, training=self.training)
        x = x.view(b, hp // wh, wp // ww, wh, ww, c).permute(0, 1, 3, 2, 4, 5).reshape(b, hp, wp, c)
        if sh + sw:
            x = torch.roll(x, shifts=(sh, sw), dims=(1, 2))
        return x[:, :h, :w, :].contiguous()
''',
    "ShiftedWindowAttentionV2": '''
class ShiftedWindowAttentionV2(ShiftedWindowAttention):
    """Swin v2's window attention: cosine scores scaled per head, and a position bias computed by an MLP."""

    def define_bias(self):
        wh, ww = self.window_size
        self.logit_scale = nn.Parameter(torch.log(10 * torch.ones((self.num_heads, 1, 1))))
        self.cpb_mlp = nn.Sequential(nn.Linear(2, 512), nn.ReLU(inplace=True),
                                     nn.Linear(512, self.num_heads, bias=False))
        dh = torch.arange(1 - wh, wh, dtype=torch.float32) / (wh - 1) * 8
        dw = torch.arange(1 - ww, ww, dtype=torch.float32) / (ww - 1) * 8
        table = torch.stack(torch.meshgrid(dh, dw, indexing="ij")).permute(1, 2, 0).contiguous().unsqueeze(0)
        self.register_buffer("relative_coords_table", torch.sign(table) * torch.log2(table.abs() + 1.0) / 3.0)

    def position_bias(self):
        return 16 * torch.sigmoid(self.gather(self.cpb_mlp(self.relative_coords_table).view(-1, self.num_heads)))

    def scores(self, q, k):
        """(what torchvision keeps to the end of the call, the scores): the logit scale, exp'd."""
        attn = F.normalize(q, dim=-1) @ F.normalize(k, dim=-1).transpose(-2, -1)
        scale = torch.clamp(self.logit_scale, max=math.log(100.0)).exp()
        return scale, attn * scale

    def qkv_bias(self):
        """The bias of q, k, v with the k third zeroed."""
        bias, c = self.qkv.bias, self.qkv.in_features
        return None if bias is None else torch.cat([bias[:c], torch.zeros_like(bias[c:2 * c]), bias[2 * c:]])
''',
}


def export(source, dims=None, vars=None, file: str | None = None) -> str:
    """The PyTorch module of a spec (a path, ``-``, or YAML text), as Python source.

    Raises :class:`~layercalc.errors.SpecError` when the spec is invalid.
    """
    text, file = read_source(source, file)
    doc = load_yaml(text, file)
    spec = parse_spec(doc, file, dims=dims, vars=vars)
    graph = expand(spec)
    report = run_graph(graph)
    shown = file if file not in ("<string>", "<stdin>") else "a spec"
    try:
        exporter = Exporter(spec, graph, report, shown)
        exporter.overrides = dict(dims or {}, **(vars or {}))
        return exporter.model(doc)
    except (Unknown, SyntaxError, KeyError) as exc:  # pragma: no cover - a spec that loads always exports
        raise SpecError(Mark(file, 1, 1), f"the spec cannot be exported ({type(exc).__name__}: {exc})",
                        "report this spec as a bug", code="G003") from None


__all__ = ["export", "YSeq"]
