"""The shape of the package: no import cycles, typer only in ``layercalc/cli/``, and a start-up
that loads no rule, engine or renderer (commands import their libraries when they run)."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PKG = ROOT / "layercalc"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(p): p for p in sorted(PKG.rglob("*.py"))}


def _imports(name: str, path: Path) -> set[str]:
    """Every layercalc module that ``name`` imports, at any depth of its code (lazy imports too)."""
    is_pkg = path.name == "__init__.py"
    base = name.split(".") if is_pkg else name.split(".")[:-1]
    out = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = base[: len(base) - node.level + 1]
                mod = ".".join(anchor + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            # `from pkg import sub` imports the module pkg.sub when there is one
            targets = [f"{mod}.{a.name}" if f"{mod}.{a.name}" in MODULES else mod for a in node.names]
        else:
            continue
        out.update(t for t in targets if t in MODULES and t != name)
    return out


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def _cycle():
    """One import cycle as a list of modules, or None (depth-first search, iterative)."""
    state: dict[str, int] = {}
    for start in GRAPH:
        if state.get(start):
            continue
        stack = [(start, iter(sorted(GRAPH[start])))]
        path = [start]
        state[start] = 1
        while stack:
            node, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                state[node] = 2
                stack.pop()
                path.pop()
            elif state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            elif not state.get(nxt):
                state[nxt] = 1
                stack.append((nxt, iter(sorted(GRAPH[nxt]))))
                path.append(nxt)
    return None


def test_the_graph_is_read():
    # the walk must see the edges it is meant to judge, or the cycle test below proves nothing
    assert "layercalc.engine" in GRAPH["layercalc.cli.options"]
    assert "layercalc.layers" in GRAPH["layercalc.engine"]
    assert "layercalc.cli.options" in GRAPH["layercalc.cli.report"]


def test_no_import_cycle():
    assert _cycle() is None, "import cycle: " + " -> ".join(_cycle())


def test_the_cycle_finder_finds_a_cycle():
    saved = dict(GRAPH)
    try:
        GRAPH["layercalc.engine"] = GRAPH["layercalc.engine"] | {"layercalc.cli.options"}
        assert _cycle() is not None
    finally:
        GRAPH.clear()
        GRAPH.update(saved)


@pytest.mark.parametrize("name", sorted(MODULES))
def test_only_the_cli_imports_typer(name):
    tree = ast.parse(MODULES[name].read_text())
    imported = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {(n.module or "").split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and not n.level}
    if name == "layercalc.cli" or name.startswith("layercalc.cli."):
        return
    assert "typer" not in imported and "click" not in imported, f"{name} imports typer/click: move that code into layercalc/cli/"


def _is_main_guard(node) -> bool:
    return isinstance(node, ast.If) and isinstance(node.test, ast.Compare) and \
        isinstance(node.test.left, ast.Name) and node.test.left.id == "__name__"


def test_libraries_never_exit():
    """Libraries return data or raise; only the CLI maps outcomes to exit statuses."""
    offenders = []
    for name, path in MODULES.items():
        if name == "layercalc.cli" or name.startswith("layercalc.cli.") or name == "layercalc.__main__":
            continue
        tree = ast.parse(path.read_text())
        scripts = {id(n) for top in tree.body if _is_main_guard(top) for n in ast.walk(top)}  # `python -m` tools
        for node in ast.walk(tree):
            if id(node) not in scripts and isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "exit" \
                    and isinstance(node.func.value, ast.Name) and node.func.value.id == "sys":
                offenders.append(f"{name}:{node.lineno}")
    assert not offenders, offenders


def test_start_up_loads_no_library():
    """`layercalc --version` registers every command without importing a rule, the engine or a renderer."""
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "layercalc", "--version"], cwd=ROOT,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    loaded = {line.split("|")[-1].strip() for line in proc.stderr.splitlines() if line.startswith("import time:")}
    ours = {m for m in loaded if m == "layercalc" or m.startswith("layercalc.")}
    assert "layercalc.cli" in ours  # the importtime lines are read
    assert ours <= {"layercalc"} | {m for m in MODULES if m.startswith("layercalc.cli")}, sorted(ours)
    assert not {m for m in loaded if m.split(".")[0] in ("rich", "yaml", "torch", "numpy")}
