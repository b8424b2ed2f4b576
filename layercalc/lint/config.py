"""Settings of a lint run: budgets, dtype, code selection, from the command line
and from ``[tool.layercalc]`` in the nearest pyproject.toml.

.. code-block:: toml

    [tool.layercalc]
    max-params = "25M"          # budgets: an integer, or a string with a suffix
    max-macs = 4_500_000_000    #   K M G T (x1000) or Ki Mi Gi Ti (x1024), B optional
    max-param-bytes = "100MiB"
    dtype = "float32"           # parameter dtype for max-param-bytes
    select = ["B", "W"]         # codes, code prefixes or slugs (default: all but W001)
    ignore = ["W006"]
    strict = false              # warnings fail too
    max-layers = 100000

    [tool.layercalc.per-file."specs/big/*.yaml"]
    max-params = "2G"           # later tables win; `false` removes a budget
    ignore = ["W003"]           # added to the global ignore

The nearest pyproject.toml is searched from the current directory upwards;
per-file patterns are matched (``fnmatch``, ``*`` crosses ``/``) against the
file's path relative to that pyproject.toml's directory. Options on the
command line win: ``--max-params`` replaces every budget of that kind,
``--select`` replaces ``select``, ``--ignore`` adds to ``ignore``.
Errors of the Y, S, G and X families cannot be selected or ignored: they make
a spec invalid, and then nothing else about it can be trusted.
"""

from __future__ import annotations

import fnmatch
import os
import re
import sys
from dataclasses import dataclass, field

from ..codes import CODES

#: codes that are off unless selected explicitly (see their --explain text for why)
OPT_IN = frozenset({"W001"})
SELECTABLE_FAMILIES = ("B", "W")
BUDGETS = {"max-params": "params", "max-macs": "macs", "max-param-bytes": "param_bytes"}
BUDGET_CODES = {"max-params": "B001", "max-macs": "B002", "max-param-bytes": "B003"}
KEYS = ("max-params", "max-macs", "max-param-bytes", "dtype", "select", "ignore", "strict", "max-layers",
        "per-file")
PER_FILE_KEYS = ("max-params", "max-macs", "max-param-bytes", "ignore")
DTYPES = ("float16", "bfloat16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool")


class ConfigError(Exception):
    """A usage error in options or in pyproject.toml (exit status 2)."""


# --- quantities ------------------------------------------------------------------

#: the largest budget (a larger one could never fail; beyond it, a number is a mistake)
MAX_BUDGET = 10**30
_QTY = re.compile(r"^(\d+(?:\.\d*)?|\.\d+)(?:[eE]([+-]?\d+))?\s*([KMGTkmgt]i?)?[Bb]?$")
_SCALE = {"k": 10**3, "m": 10**6, "g": 10**9, "t": 10**12, "ki": 2**10, "mi": 2**20, "gi": 2**30, "ti": 2**40}


def parse_quantity(value, what: str) -> int:
    """An integer budget from 12000000, "12M", "1.5G", "100MiB" or "4.5e9"."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ConfigError(f"{what}: expected a number such as 25000000 or \"25M\", got {value!r}")
    too_large = f"{what}: the budget is larger than 10**30; write e.g. 25000000, 25M, 1.5G or 100MiB"
    if isinstance(value, str):
        text = value.strip().replace("_", "").replace(",", "")
        if len(text) > 64:
            raise ConfigError(f"{what}: {value[:40]!r}... is {len(value)} characters long; write e.g. 25000000, "
                              "25M, 1.5G or 100MiB")
        m = _QTY.match(text)
        if not m:
            raise ConfigError(f"{what}: {value!r} is not a number; write e.g. 25000000, 25M, 1.5G or 100MiB")
        mantissa, exp, suffix = m.groups()
        if abs(int(exp or 0)) > 60:
            raise ConfigError(too_large if int(exp) > 0 else f"{what}: {value!r} is not a whole number")
        from fractions import Fraction

        number = Fraction(mantissa) * Fraction(10) ** int(exp or 0) * _SCALE.get((suffix or "").lower(), 1)
        if number.denominator != 1:
            raise ConfigError(f"{what}: {value!r} is not a whole number")
        value = int(number)
    elif isinstance(value, float):
        if not value.is_integer():  # also nan and inf
            raise ConfigError(f"{what}: {value!r} is not a whole number")
        if abs(value) > MAX_BUDGET:
            raise ConfigError(too_large)
        value = int(value)
    if value > MAX_BUDGET:
        raise ConfigError(too_large)
    if value < 0:
        raise ConfigError(f"{what}: {value} is negative; a budget is a number >= 0")
    return value


# --- code selection --------------------------------------------------------------

def _specificity(token: str, code: str) -> int:
    """How specifically ``token`` names ``code``: -1 not at all, 0 ALL, more for longer prefixes."""
    if token == "ALL":
        return 0
    if re.fullmatch(r"[A-Z][0-9]{0,3}", token):
        return len(token) if code.startswith(token) else -1
    slug = CODES[code].slug
    if token == slug:
        return 4
    if slug.startswith(token + "."):
        return 1
    return -1


def split_tokens(values) -> list[str]:
    out = []
    for v in values or ():
        for part in str(v).split(","):
            part = part.strip()
            if part:
                out.append(part.upper() if re.fullmatch(r"[A-Za-z][0-9]{0,3}|all", part) else part)
    return out


def check_tokens(tokens, where: str) -> None:
    from ..errors import did_you_mean

    for t in tokens:
        matched = [c for c in CODES if _specificity(t, c) >= 0]
        if not matched:
            hint = did_you_mean(t, list(CODES) + [c.slug for c in CODES.values()])
            raise ConfigError(f"{where}: '{t}' is not a code, a code prefix or a slug" + (f"; {hint}" if hint else "")
                              + " (`layercalc lint --explain CODE` describes a code)")
        if t != "ALL" and not any(c.startswith(SELECTABLE_FAMILIES) for c in matched):
            raise ConfigError(f"{where}: '{t}' names errors that make a spec invalid; they cannot be selected or "
                              f"ignored (only the {' and '.join(SELECTABLE_FAMILIES)} codes can)")


def is_enabled(code: str, select, ignore) -> bool:
    """Whether ``code`` is reported: the most specific matching token wins; on a tie, ignore wins."""
    if not code.startswith(SELECTABLE_FAMILIES):
        return True
    if select is None:
        s = -1 if code in OPT_IN else 0
    else:
        s = max((_specificity(t, code) for t in select), default=-1)
    i = max((_specificity(t, code) for t in ignore), default=-1)
    return s >= 0 and s > i


# --- settings --------------------------------------------------------------------

@dataclass
class FileSettings:
    """The settings that apply to one file."""

    budgets: dict = field(default_factory=dict)  # "max-params" -> (limit, where it was set)
    dtype: str = "float32"
    max_layers: int = 100_000
    select: tuple | None = None
    ignore: tuple = ()

    def enabled(self, code: str) -> bool:
        return is_enabled(code, self.select, self.ignore)


@dataclass
class Settings:
    """Settings of a run; :meth:`for_file` applies the per-file overrides."""

    budgets: dict = field(default_factory=dict)
    dtype: str = "float32"
    max_layers: int = 100_000
    select: tuple | None = None
    ignore: tuple = ()
    strict: bool = False
    per_file: list = field(default_factory=list)  # [(pattern, {key: value}, where)]
    root: str = "."
    config_path: str | None = None
    cli_budgets: frozenset = frozenset()

    def for_file(self, path: str) -> FileSettings:
        budgets = dict(self.budgets)
        ignore = list(self.ignore)
        if self.per_file and path != "-":
            rel = os.path.relpath(os.path.abspath(path), self.root).replace(os.sep, "/")
            given = path.replace(os.sep, "/")
            for pattern, table, where in self.per_file:
                if fnmatch.fnmatchcase(rel, pattern) or fnmatch.fnmatchcase(given, pattern):
                    for key, value in table.items():
                        if key in BUDGETS and key not in self.cli_budgets:
                            if value is None:
                                budgets.pop(key, None)
                            else:
                                budgets[key] = (value, where)
                        elif key == "ignore":
                            ignore += value
        return FileSettings(budgets, self.dtype, self.max_layers, self.select, tuple(ignore))


def _norm_key(key: str) -> str:
    return str(key).replace("_", "-")


def _token_list(value, where: str) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}: expected a list of codes such as [\"W002\", \"B\"], got {value!r}")
    tokens = split_tokens(value)
    check_tokens(tokens, where)
    return tokens


def _unknown(key, allowed, where):
    from ..errors import did_you_mean

    hint = did_you_mean(key, allowed)
    raise ConfigError(f"{where}: unknown key '{key}'" + (f"; {hint}" if hint else "") + f" (known: {', '.join(allowed)})")


def _budget(value, where):
    if value is False:
        return None
    return parse_quantity(value, where)


def settings_from_table(table: dict, path: str) -> Settings:
    """Settings from a ``[tool.layercalc]`` table read from ``path``."""
    name = os.path.basename(path)
    s = Settings(root=os.path.dirname(os.path.abspath(path)), config_path=path)
    if not isinstance(table, dict):
        raise ConfigError(f"{name}: [tool.layercalc] must be a table")
    for raw_key, value in table.items():
        key = _norm_key(raw_key)
        where = f"{name} [tool.layercalc] {raw_key}"
        if key in BUDGETS:
            b = _budget(value, where)
            if b is not None:
                s.budgets[key] = (b, f"{name} [tool.layercalc]")
        elif key == "dtype":
            if value not in DTYPES:
                raise ConfigError(f"{where}: {value!r} is not a dtype; use one of {', '.join(DTYPES)}")
            s.dtype = value
        elif key == "select":
            s.select = tuple(_token_list(value, where))
        elif key == "ignore":
            s.ignore = tuple(_token_list(value, where))
        elif key == "strict":
            if not isinstance(value, bool):
                raise ConfigError(f"{where}: expected true or false, got {value!r}")
            s.strict = value
        elif key == "max-layers":
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"{where}: expected an integer >= 1, got {value!r}")
            s.max_layers = value
        elif key == "per-file":
            if not isinstance(value, dict):
                raise ConfigError(f"{where}: expected tables such as [tool.layercalc.per-file.\"specs/big/*.yaml\"]")
            for pattern, sub in value.items():
                pwhere = f'{name} [tool.layercalc.per-file."{pattern}"]'
                if not isinstance(sub, dict):
                    raise ConfigError(f"{pwhere}: expected a table of settings")
                entry = {}
                for raw_sub, v in sub.items():
                    k = _norm_key(raw_sub)
                    if k in BUDGETS:
                        entry[k] = _budget(v, f"{pwhere} {raw_sub}")
                    elif k == "ignore":
                        entry[k] = _token_list(v, f"{pwhere} {raw_sub}")
                    else:
                        _unknown(raw_sub, PER_FILE_KEYS, pwhere)
                s.per_file.append((pattern, entry, pwhere))
        else:
            _unknown(raw_key, KEYS, f"{name} [tool.layercalc]")
    return s


def find_pyproject(start: str | None = None) -> str | None:
    """The nearest pyproject.toml in ``start`` (default: the current directory) or above."""
    d = os.path.abspath(start or os.getcwd())
    while True:
        candidate = os.path.join(d, "pyproject.toml")
        if os.path.isfile(candidate):
            return candidate
        parent = os.path.dirname(d)
        if parent == d:
            return None
        d = parent


def read_table(path: str, warn) -> dict | None:
    """The ``[tool.layercalc]`` table of a TOML file, or None; ``warn(message)`` for a skipped config."""
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read it: {exc.strerror or exc}") from None
    try:
        import tomllib
    except ImportError:  # Python 3.10
        try:
            import tomli as tomllib  # type: ignore[no-redef]
        except ImportError:
            warn(f"layercalc lint: Python {sys.version_info[0]}.{sys.version_info[1]} has no tomllib and tomli is not "
                 f"installed, so [tool.layercalc] in {path} is ignored; pass the budgets as options (--max-params ...) "
                 "or install tomli")
            return None
    # Parse, then look: [tool."layercalc"], [tool . layercalc] and inline tables are the same table.
    try:
        doc = tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    except (ValueError, RecursionError, MemoryError) as exc:  # an integer of thousands of digits, deep nesting
        raise ConfigError(f"{path}: cannot be read as TOML: {type(exc).__name__}: {str(exc)[:200]}") from None
    tool = doc.get("tool")
    if not isinstance(tool, dict) or "layercalc" not in tool:
        return None
    return tool["layercalc"]


def load_settings(config: str | None = None, isolated: bool = False, warn=None) -> Settings:
    """Settings from ``config`` (a TOML file), else the nearest pyproject.toml, unless ``isolated``."""
    warn = warn or (lambda message: sys.stderr.write(message + "\n"))
    if isolated:
        return Settings()
    path = config or find_pyproject()
    if path is None:
        return Settings()
    if config is not None and not os.path.isfile(config):
        raise ConfigError(f"--config {config}: no such file")
    table = read_table(path, warn)
    if table is None:
        return Settings(root=os.path.dirname(os.path.abspath(path)))
    return settings_from_table(table, path)


def apply_cli(s: Settings, budgets: dict, dtype: str | None, select, ignore, strict: bool,
              max_layers: int | None) -> Settings:
    """Options given on the command line override the configuration."""
    for key, value in budgets.items():
        if value is not None:
            s.budgets[key] = (parse_quantity(value, f"--{key}"), f"--{key}")
            s.cli_budgets = s.cli_budgets | {key}
    if dtype is not None:
        if dtype not in DTYPES:
            raise ConfigError(f"--dtype: {dtype!r} is not a dtype; use one of {', '.join(DTYPES)}")
        s.dtype = dtype
    if select:
        tokens = split_tokens(select)
        check_tokens(tokens, "--select")
        s.select = tuple(tokens)
    if ignore:
        tokens = split_tokens(ignore)
        check_tokens(tokens, "--ignore")
        s.ignore = tuple(s.ignore) + tuple(tokens)
    s.strict = s.strict or strict
    if max_layers is not None:
        s.max_layers = max_layers
    return s
