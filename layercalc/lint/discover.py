"""Turning PATH arguments into the list of spec files to lint.

* a file is linted whatever its name (a missing one is reported as ``Y006``);
* a directory is searched recursively for ``*.yaml`` and ``*.yml``, skipping
  hidden directories (``.git``, ``.venv``...), ``__pycache__`` and ``node_modules``;
* a glob (``specs/*.yaml``, ``specs/**/*.yml``; ``**`` crosses directories)
  adds the YAML files and directories it matches;
* ``-`` reads one spec from standard input.

Files come out in the order of the arguments, each directory sorted, each file once.
"""

from __future__ import annotations

import glob
import os

SUFFIXES = (".yaml", ".yml")
SKIP_DIRS = frozenset({"__pycache__", "node_modules"})


def _is_glob(arg: str) -> bool:
    return any(c in arg for c in "*?[")


def _walk(top: str):
    for root, dirs, names in os.walk(top):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in SKIP_DIRS)
        for name in sorted(names):
            if name.endswith(SUFFIXES):
                yield os.path.join(root, name)


def discover(args) -> tuple[list[str], list[str]]:
    """Return (files, notes): the files to lint, and notes about arguments that matched nothing."""
    files: list[str] = []
    notes: list[str] = []
    seen: set[str] = set()

    def add(path: str) -> int:
        path = path if path == "-" else os.path.normpath(path)
        key = path if path == "-" else os.path.realpath(path)
        if key not in seen:
            seen.add(key)
            files.append(path)
        return 1

    for arg in args:
        if arg == "-":
            add(arg)
        elif os.path.isdir(arg):
            if not sum(add(path) for path in _walk(arg)):
                notes.append(f"no *.yaml or *.yml file in the directory {arg}")
        elif _is_glob(arg) and not os.path.exists(arg):
            found = 0
            for m in sorted(glob.glob(arg, recursive=True)):
                if os.path.isdir(m):
                    found += sum(add(path) for path in _walk(m))
                elif m.endswith(SUFFIXES):
                    found += add(m)
            if not found:
                notes.append(f"no YAML file matches {arg}")
        else:
            add(arg)  # a file, or a missing one: the checker reports it as unreadable
    return files, notes
