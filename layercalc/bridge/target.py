"""Finding and building the model that ``layercalc import TARGET`` names."""

from __future__ import annotations

import ast
import importlib
import importlib.util
import os
import sys
import types

from ..errors import did_you_mean
from .errors import BridgeError, ImportFailed


def parse_value(text: str):
    """``--arg`` values: Python literals (numbers, True/False/None, strings, tuples), else the text itself."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def import_module(name: str):
    """Import a module; a torchvision whose compiled operators do not load is imported without them
    (only its Python model definitions are needed)."""
    try:
        return importlib.import_module(name)
    except RuntimeError as exc:
        if "torchvision::" not in str(exc):
            raise
        for key in [k for k in sys.modules if k == "torchvision" or k.startswith("torchvision.")]:
            del sys.modules[key]
        sys.modules["torchvision._meta_registrations"] = types.ModuleType("torchvision._meta_registrations")
        return importlib.import_module(name)


def resolve(target: str):
    """``package.module:callable`` or ``path/to/file.py:callable`` -> the callable."""
    where, sep, attr = target.rpartition(":")
    if not sep or not where or not attr:
        raise BridgeError(f"TARGET {target!r} is not `module:callable` or `file.py:callable`; "
                          "e.g. torchvision.models:resnet50 or model.py:Net")
    if where.endswith(".py") or os.sep in where:
        if not os.path.isfile(where):
            raise BridgeError(f"TARGET {target!r}: the file {where} does not exist")
        name = "layercalc_import_" + os.path.splitext(os.path.basename(where))[0].replace("-", "_")
        spec = importlib.util.spec_from_file_location(name, where)
        if spec is None or spec.loader is None:  # not a Python source file (model.yaml:Net)
            raise BridgeError(f"TARGET {target!r}: {where} is not a Python file; name a .py file, e.g. model.py:Net")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        sys.path.insert(0, os.path.dirname(os.path.abspath(where)))
        try:
            spec.loader.exec_module(module)
        except Exception as exc:  # noqa: BLE001 - the user's file: one line, no traceback
            raise ImportFailed(f"running {where} failed: {type(exc).__name__}: {exc}") from None
        finally:
            sys.path.pop(0)
    else:
        try:
            module = import_module(where)
        except ModuleNotFoundError as exc:
            raise BridgeError(f"TARGET {target!r}: no module named {exc.name!r}") from None
        except Exception as exc:  # noqa: BLE001
            raise ImportFailed(f"importing {where} failed: {type(exc).__name__}: {exc}") from None
    fn = getattr(module, attr, None)
    if fn is None or not callable(fn):
        names = [n for n in dir(module) if not n.startswith("_")]
        hint = did_you_mean(attr, names)
        raise BridgeError(f"TARGET {target!r}: {where} has no callable {attr!r}" + (f"; {hint}" if hint else ""))
    return fn


def build(target: str, args: dict):
    """Call the TARGET with ``args``: on the meta device when it allows, so that no weight is allocated."""
    import torch

    fn = resolve(target)
    try:
        with torch.device("meta"):
            model = fn(**args)
    except TypeError as exc:
        raise BridgeError(f"TARGET {target!r} cannot be called with {args or 'no arguments'}: {exc}. "
                          "Fix: pass its arguments with --arg NAME=VALUE") from None
    except Exception:  # noqa: BLE001 - some constructors need real tensors: build on the CPU
        try:
            model = fn(**args)
        except Exception as exc:  # noqa: BLE001
            raise ImportFailed(f"calling {target} failed: {type(exc).__name__}: {exc}") from None
    if not isinstance(model, torch.nn.Module):
        raise BridgeError(f"TARGET {target!r} returned {type(model).__name__}, not a torch.nn.Module")
    return model
