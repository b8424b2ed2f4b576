"""The intermediate form of an exported PyTorch module and the one function that writes it as Python.

A :class:`ModuleCode` is a class as a person writes it in ``torchvision/models/resnet.py``: a
constructor with arguments, sub-modules assigned to attributes named after the layers, a few
statements after them (ties, frozen layers), and a ``forward`` of simple statements. Expressions
are Python source strings built by :func:`expr`, which translates a spec expression (the safe
arithmetic of the spec format) into Python with the names of the scope it is written in.
"""

from __future__ import annotations

import ast
import keyword
import re
from typing import NamedTuple

# names a generated module uses itself, and nn.Module's own attributes: a spec name equal to one
# of them gets a trailing underscore
RESERVED = frozenset({"self", "torch", "nn", "F", "math", "int", "float", "range", "super", "tuple", "list",
                      "causal_mask", "example_inputs", "Model", "layer", "block", "_"})
MODULE_ATTRS = frozenset({
    "training", "forward", "eval", "train", "parameters", "named_parameters", "buffers", "named_buffers",
    "children", "named_children", "modules", "named_modules", "state_dict", "load_state_dict", "apply", "cuda",
    "cpu", "to", "type", "float", "double", "half", "bfloat16", "zero_grad", "register_buffer",
    "register_parameter", "register_module", "add_module", "get_submodule", "set_submodule", "get_parameter",
    "get_buffer", "requires_grad_", "extra_repr", "share_memory", "dump_patches", "call_super_init",
    "to_empty", "compile", "ipu", "xpu", "mtia", "get_extra_state", "set_extra_state",
    "register_forward_hook", "register_forward_pre_hook", "register_backward_hook",
    "register_full_backward_hook", "register_full_backward_pre_hook", "register_state_dict_pre_hook",
    "register_load_state_dict_post_hook", "T_destination",
})

_FLOAT_RE = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)$")


def pyname(name: str) -> str:
    """A spec name as a Python local name."""
    return name + "_" if keyword.iskeyword(name) or name in RESERVED else name


def attrname(name: str) -> str:
    """A spec layer name as an attribute of an ``nn.Module``."""
    return name + "_" if keyword.iskeyword(name) or name in MODULE_ATTRS else name


def substitute(code: str, mapping: dict) -> str:
    """Rewrite the names of generated Python source (raises :class:`Unknown` for a name not in ``mapping``)."""
    tree = _Rename({k: paren(v) for k, v in mapping.items()}).visit(ast.parse(code, mode="eval"))
    return ast.unparse(tree)


class Unknown(Exception):
    """An expression names something the scope does not define (the caller writes the number instead)."""


class _Rename(ast.NodeTransformer):
    def __init__(self, names: dict):
        self.names = names
        self.divides = False

    def visit_Name(self, node):
        if node.id in ("min", "max", "round", "int", "math"):
            return node
        if node.id in ("ceil", "floor"):
            return ast.Attribute(ast.Name("math", ast.Load()), node.id, ast.Load())
        if node.id not in self.names:
            raise Unknown(node.id)
        return ast.Name(self.names[node.id], ast.Load())

    def visit_BinOp(self, node):
        if isinstance(node.op, ast.Div):
            self.divides = True
        return self.generic_visit(node)


def expr(raw, names: dict, integer: bool = False) -> str:
    """Python source for a spec value: a number, true/false/null, an expression string, or a list of these.

    ``names`` maps the spec names of the scope to Python source (``planes`` or ``self.planes``).
    ``integer``: the value is an int argument, so an expression with ``/`` is wrapped in ``int()``.
    Raises :class:`Unknown` when the expression names something outside ``names``.
    """
    if isinstance(raw, bool) or raw is None:
        return repr(raw)
    if isinstance(raw, (int, float)):
        return repr(raw)
    if isinstance(raw, (list, tuple)):
        items = [expr(v, names, integer) for v in raw]
        return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"
    text = str(raw).strip()
    if _FLOAT_RE.match(text):
        return repr(float(text))
    tree = ast.parse(text, mode="eval")
    renamer = _Rename(names)
    tree = renamer.visit(tree)
    code = ast.unparse(tree)
    if integer and renamer.divides:
        code = f"int({code})"
    return code


def names_in(code: str) -> set:
    """The plain names that a piece of generated Python source reads."""
    try:
        tree = ast.parse(code, mode="eval")
    except SyntaxError:
        return set()
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}


def paren(code: str) -> str:
    """``code`` in parentheses unless it is a name, a number or a call."""
    return code if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]*|-?\d+|[A-Za-z_][A-Za-z0-9_.]*\(.*\)", code) else f"({code})"


# --- the intermediate form -------------------------------------------------------------------------------------


class Param(NamedTuple):
    name: str
    default: str | None = None  # Python source; None: required
    keyword_only: bool = False


class Stmt(NamedTuple):
    """``targets = value`` (targets may be empty for a bare call, or a loop header ending in ':')."""

    targets: str
    value: str
    body: tuple = ()  # statements of a for loop


class ModuleCode:
    """One ``nn.Module`` class: constructor parameters, statements of ``__init__``, ``forward``."""

    def __init__(self, name: str, doc: str = ""):
        self.name = name
        self.doc = doc
        self.params: list[Param] = []
        self.setup: list[str] = []  # statements before the sub-modules (defaults computed from others)
        self.init: list[str] = []  # self.x = ... lines, in order
        self.after: list[str] = []  # ties, frozen layers
        self.inputs: list[str] = []
        self.forward: list[Stmt] = []
        self.returns: list[str] = []

    def render(self) -> str:
        out = [f"class {self.name}(nn.Module):"]
        if self.doc:
            out.append(f'    """{self.doc}"""')
            out.append("")
        sig = ["self"]
        star = False
        for p in self.params:
            if p.keyword_only and not star:
                sig.append("*")
                star = True
            sig.append(p.name if p.default is None else f"{p.name}={p.default}")
        out.extend(_wrap(f"    def __init__({', '.join(sig)}):", "        "))
        out.append("        super().__init__()")
        out.extend("        " + s for s in self.setup)
        for line in self.init + self.after:
            out.extend(_wrap("        " + line, "            "))
        out.append("")
        out.append(f"    def forward(self, {', '.join(self.inputs)}):")
        for stmt in self.forward:
            out.extend(_stmt(stmt, "        "))
        ret = ", ".join(self.returns)
        out.append(f"        return {ret}")
        return "\n".join(out)


def _stmt(stmt: Stmt, indent: str) -> list[str]:
    if stmt.body:
        lines = [f"{indent}{stmt.value}"]
        for s in stmt.body:
            lines.extend(_stmt(s, indent + "    "))
        return lines
    line = f"{indent}{stmt.targets} = {stmt.value}" if stmt.targets else f"{indent}{stmt.value}"
    return _wrap(line, indent + "    ")


def _wrap(line: str, cont: str, width: int = 110) -> list[str]:
    """Break a long line after commas inside its outermost parentheses."""
    if len(line) <= width:
        return [line]
    depth, start, parts, i0 = 0, None, [], 0
    for i, ch in enumerate(line):
        if ch in "([{":
            depth += 1
            if depth == 1 and start is None:
                start = i
                i0 = i + 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "," and depth == 1 and start is not None:
            parts.append(line[i0:i + 1].strip())
            i0 = i + 1
    if start is None or not parts:
        return [line]
    end = line.rfind(")")
    parts.append(line[i0:end].strip())
    lines, cur = [], line[:start + 1]
    for p in parts:
        piece = p if cur.endswith("(") else " " + p
        if len(cur) + len(piece) > width and not cur.endswith("("):
            lines.append(cur.rstrip())
            cur = cont + p
        else:
            cur += piece
    lines.append(cur + line[end:])
    return lines
