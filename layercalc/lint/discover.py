"""Turning PATH arguments into the list of spec files to lint.

* a file is linted whatever its name (a missing one is reported as ``Y006``);
* a directory is searched recursively for ``*.yaml`` and ``*.yml``, skipping
  hidden directories (``.git``, ``.venv``...), ``__pycache__`` and ``node_modules``;
* a glob (``specs/*.yaml``, ``specs/**/*.yml``; ``**`` crosses directories)
  adds the YAML files and directories it matches;
* ``-`` reads one spec from standard input.

Files come out in the order of the arguments, each directory sorted, each file once.

A repository holds YAML files that are not specs (CI workflows,
``.pre-commit-config.yaml``, docker-compose files). :func:`discover_specs` keeps
only the specs among the files found in directories and globs (and, with
``specs_only``, among the files named too): a spec is a YAML file with a
top-level ``layercalc:`` key (:func:`is_spec_text`).
"""

from __future__ import annotations

import glob
import os
import re

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


def _discover(args) -> tuple[list[tuple[str, bool]], list[str]]:
    """([(path, named)], notes): the files in order, each with whether it was named itself
    (not found in a directory or by a glob), and notes about arguments that matched nothing."""
    files: list[tuple[str, bool]] = []
    notes: list[str] = []
    seen: set[str] = set()

    def add(path: str, named: bool = False) -> int:
        path = path if path == "-" else os.path.normpath(path)
        key = path if path == "-" else os.path.realpath(path)
        if key not in seen:
            seen.add(key)
            files.append((path, named))
        return 1

    for arg in args:
        if arg == "-":
            add(arg, True)
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
            add(arg, True)  # a file, or a missing one: the checker reports it as unreadable
    return files, notes


def discover(args) -> tuple[list[str], list[str]]:
    """Return (files, notes): every file the arguments name or find, and notes about arguments
    that matched nothing."""
    files, notes = _discover(args)
    return [path for path, _ in files], notes


def discover_specs(args, specs_only: bool = False) -> tuple[list[str], list[str], list[tuple[str, str]]]:
    """Return (files, notes, skipped): the files to lint; notes about arguments that matched
    nothing; and the files passed over with the reason, each one a file found in a directory or
    by a glob (or named, with ``specs_only``) that is not a layercalc spec. A named file is
    otherwise linted whatever it holds (a file that is not a spec gets one S008 problem)."""
    found, notes = _discover(args)
    files: list[str] = []
    skipped: list[tuple[str, str]] = []
    for path, named in found:
        if path == "-" or (named and not specs_only) or (named and not os.path.isfile(path)):
            files.append(path)
            continue
        reason = not_a_spec(path)
        if reason is None:
            files.append(path)
        else:
            skipped.append((path, reason))
    return files, notes, skipped


#: a top-level ``layercalc:`` key: at the start of a line (a block mapping's key at column 0),
#: plain or quoted, followed by a space, a comment or the end of the line
_SPEC_KEY = re.compile(rb"""^(?:layercalc|"layercalc"|'layercalc')[ \t]*:(?:[ \t]|$)""", re.M)
_READ = (1 << 20) + 16  # specs are at most 1 MiB (the loader refuses larger files)


def is_spec_text(data: bytes) -> bool:
    """Whether YAML source (bytes) is a layercalc spec: it has a top-level ``layercalc:`` key.

    A line starting with the key is enough (a block mapping's top-level keys are the only
    lines at column 0 that end their key with ``:``; a block scalar's lines are indented).
    A document written in flow style (``{layercalc: 1, ...}``) is parsed to read its keys.
    """
    if data.startswith(b"\xef\xbb\xbf"):  # a UTF-8 byte order mark, as some editors write
        data = data[3:]
    if _SPEC_KEY.search(data):
        return True
    body = b"\n".join(line for line in data.splitlines()
                      if line.strip() and not line.lstrip().startswith((b"#", b"---", b"%")))
    if not body.lstrip().startswith(b"{"):
        return False
    import yaml

    try:
        doc = yaml.safe_load(data)
    except (yaml.YAMLError, ValueError, RecursionError):
        return False
    return isinstance(doc, dict) and "layercalc" in doc


def not_a_spec(path: str) -> str | None:
    """None when the file at ``path`` is a layercalc spec; otherwise why it is passed over."""
    try:
        with open(path, "rb") as fh:
            data = fh.read(_READ)
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})"
    if is_spec_text(data):
        return None
    return "not a layercalc spec (no top-level `layercalc:` key)"
