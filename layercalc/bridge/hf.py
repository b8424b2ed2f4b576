"""``layercalc import --hf``: HuggingFace transformers models from their config.json alone.

The model is built from the config (``config.architectures[0]``, else ``AutoModel``) with random
weights on the meta device, offline (``HF_HUB_OFFLINE=1``: nothing is downloaded), exported with
``torch.export`` and read by :mod:`.program`. HuggingFace's own modules that compute what a spec
type computes are rows of :data:`ROWS` (added to the module table of :mod:`.fx_import`); every other
op goes through the same tables as ``torch.fx``'s.

Imported only by ``layercalc import --hf``; needs torch and transformers (``layercalc[hf]``).
"""

from __future__ import annotations

import importlib.util
import inspect
import json
import os
import sys
import types
from pathlib import Path

from .errors import INSTALL_HF, BridgeError, ImportFailed, require_torch

# the inputs given when --input does not name them, in the order of HuggingFace's forward; the first
# sets the batch and sequence sizes of the others
DEFAULT_INPUTS = ("input_ids", "token_type_ids", "position_ids")
DEFAULT_SHAPE = (1, 128)


# --- the table of HuggingFace modules: class name (or *suffix) -> (spec type, reader of its arguments) ----


def _rmsnorm(m):
    weight = getattr(m, "weight", None)
    eps = getattr(m, "variance_epsilon", getattr(m, "eps", None))
    out = {"normalized_shape": int(weight.shape[0]) if weight is not None else None, "eps": eps}
    if weight is None:
        out["elementwise_affine"] = False
    return out


def _conv1d(m):
    # GPT-2's Conv1D is a Linear whose weight is stored transposed, (in, out)
    return {"out_features": m.nf, "bias": m.bias is not None}


def _gelu_tanh(m):
    return {"approximate": "tanh"}


def _rotary(m):
    buffers = dict(m.named_buffers(recurse=False))
    out = {"dim": 2 * int(buffers["inv_freq"].shape[-1]), "original": "original_inv_freq" in buffers}
    params = getattr(getattr(m, "config", None), "rope_parameters", None)
    base = params.get("rope_theta") if isinstance(params, dict) else None
    if isinstance(base, (int, float)) and base != 10000.0:
        out["base"] = float(base)
    scaling = getattr(m, "attention_scaling", 1.0)
    if isinstance(scaling, (int, float)) and scaling != 1.0:
        out["scaling"] = float(scaling)
    return out


ROWS = {
    "*RMSNorm": ("RMSNorm", _rmsnorm),
    "Conv1D": ("Linear", _conv1d),
    "NewGELUActivation": ("GELU", _gelu_tanh),
    "GELUTanh": ("GELU", _gelu_tanh),
    "PytorchGELUTanh": ("GELU", _gelu_tanh),
    "FastGELUActivation": ("GELU", _gelu_tanh),
    "GELUActivation": ("GELU", lambda m: {}),
    "SiLUActivation": ("SiLU", lambda m: {}),
    "*RotaryEmbedding": ("RotaryTables", _rotary),
}


def _register_rows() -> None:
    from .fx_import import FOREIGN

    for name, (t, reader) in ROWS.items():
        FOREIGN.setdefault(name, ("transformers.", t, reader))


# --- building the model ---------------------------------------------------------------------------------------


def require_transformers():
    """Import transformers offline, or raise BridgeError with how to install it."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    if "torchvision" not in sys.modules and importlib.util.find_spec("torchvision") is not None:
        from .target import import_module

        try:  # a torchvision without its compiled operators: its Python modules are enough for transformers
            import_module("torchvision")
        except Exception:  # noqa: BLE001
            sys.modules["torchvision._meta_registrations"] = types.ModuleType("torchvision._meta_registrations")
    try:
        import transformers
    except ImportError:
        raise BridgeError(INSTALL_HF) from None
    return transformers


def config_file(path: str) -> Path:
    p = Path(path)
    if p.is_dir():
        p = p / "config.json"
    if not p.is_file():
        raise BridgeError(f"--hf {path}: no such file" + (" (a directory without config.json)" if Path(path).is_dir()
                                                           else "") + "; give a config.json or its directory")
    return p


def load_config(path: str):
    """The transformers config of a config.json (or of the directory holding one)."""
    p = config_file(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BridgeError(f"--hf {p}: not a JSON config: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("model_type"), str):
        raise BridgeError(f"--hf {p}: no \"model_type\" in it; a HuggingFace config.json names its model_type "
                          "(e.g. \"llama\", \"gpt2\", \"bert\")")
    transformers = require_transformers()
    from transformers import AutoConfig

    model_type = data.pop("model_type")
    try:
        config = AutoConfig.for_model(model_type, **data)
    except ValueError as exc:
        if "Unrecognized model" in str(exc) or model_type not in _known_types():
            from ..errors import did_you_mean

            hint = did_you_mean(model_type, sorted(_known_types()))
            raise BridgeError(f"--hf {p}: unknown model_type {model_type!r} for transformers "
                              f"{transformers.__version__}" + (f"; {hint}" if hint else "")) from None
        raise BridgeError(f"--hf {p}: transformers refuses the config: {str(exc).splitlines()[0]}") from None
    except Exception as exc:  # noqa: BLE001 - transformers' own validation: one line
        raise BridgeError(f"--hf {p}: transformers refuses the config: {type(exc).__name__}: "
                          f"{str(exc).splitlines()[0] if str(exc) else ''}") from None
    return config


def _known_types() -> set:
    from transformers.models.auto.configuration_auto import CONFIG_MAPPING_NAMES

    return set(CONFIG_MAPPING_NAMES)


def build_model(config):
    """The model class the config names (architectures[0]), else AutoModel, on the meta device."""
    torch = require_torch()
    import transformers

    config.use_cache = False  # no cache object in the outputs: torch.export returns tensors only
    names = getattr(config, "architectures", None) or []
    cls = getattr(transformers, names[0], None) if names else None
    try:
        with torch.device("meta"):
            if cls is None:
                model = transformers.AutoModel.from_config(config)
            else:
                model = cls._from_config(config)
    except Exception as exc:  # noqa: BLE001 - the model's constructor: one line
        raise ImportFailed(f"building {names[0] if names else 'the model'} from the config failed: "
                           f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}") from None
    model.eval()
    return model


def model_inputs(model, given: list) -> dict:
    """Meta tensors for the model's forward, by name: the --input ones, and the default ones it accepts.

    ``given``: (name or None, shape, dtype or None)."""
    torch = require_torch()
    from .api import DTYPES

    accepted = list(inspect.signature(model.forward).parameters)
    out: dict = {}
    if len(given) > 1 and any(name is None for name, _, _ in given):
        raise BridgeError("several --input need names: --input input_ids=1,128 --input attention_mask=1,128")
    for name, shape, dtype in given:
        name = name or DEFAULT_INPUTS[0]
        if name not in accepted:
            raise BridgeError(f"--input {name}: {type(model).__name__}.forward has no argument {name!r}; it takes "
                              + ", ".join(a for a in accepted if a not in ("kwargs", "args")))
        dtype = dtype or ("int64" if name.endswith("_ids") else "float32")
        if dtype not in DTYPES:
            raise BridgeError(f"--input {name}: unknown dtype {dtype!r}; expected one of {', '.join(DTYPES)}")
        out[name] = torch.zeros(shape, dtype=getattr(torch, dtype), device="meta")
    first = out.get("input_ids")
    shape = tuple(first.shape) if first is not None else DEFAULT_SHAPE
    if not out:
        if "input_ids" not in accepted:
            raise BridgeError(f"{type(model).__name__}.forward takes no input_ids; give its inputs with "
                              "--input NAME=SHAPE[:DTYPE]")
        out["input_ids"] = torch.zeros(shape, dtype=torch.int64, device="meta")
    buffers = {n.rpartition(".")[2] for n, _ in model.named_buffers()}
    for name in DEFAULT_INPUTS[1:]:
        # position_ids, which forward would otherwise build from sizes; token_type_ids where forward would
        # otherwise read a buffer of zeros (BERT)
        wanted = name == "position_ids" or name in buffers
        if wanted and name in accepted and name not in out and len(shape) == 2:
            out[name] = torch.zeros(shape, dtype=torch.int64, device="meta")
    return {name: out[name] for name in accepted if name in out}  # forward's order


def wrappers(model, config) -> set:
    """The module paths whose layers are written inline rather than as a block used once: the base model
    under a head (``transformer`` of GPT2LMHeadModel), and the module holding the stack of layers
    (``encoder`` of BERT), so that the spec reads embeddings, one block repeated, the final norm, the head."""
    torch = require_torch()
    out = set()
    base = getattr(model, "base_model", model)
    layers = getattr(config, "num_hidden_layers", None)
    for path, m in model.named_modules():
        if m is base and m is not model:
            out.add(path)
        if isinstance(m, torch.nn.ModuleList) and len(m) == layers and "." in path:
            parent = path.rpartition(".")[0]
            if parent and model.get_submodule(parent) is not base:
                out.add(parent)
    return out


def read_hf(config_path: str, given: list, name: str | None = None, dims: dict | None = None) -> str:
    """The spec (YAML text) of the HuggingFace model of a config.json; ``given`` as :func:`model_inputs`."""
    require_torch()
    config = load_config(config_path)
    _register_rows()
    from .api import write_spec
    from .program import read_program

    model = build_model(config)
    inputs = model_inputs(model, given)
    reader = read_program(model, inputs)
    reader.transparent = wrappers(model, config)
    arch = (getattr(config, "architectures", None) or [type(model).__name__])[0]
    header = (f"imported by `layercalc import --hf {config_path}` ({arch}, transformers "
              f"{sys.modules['transformers'].__version__})")
    return write_spec(reader, name or getattr(config, "model_type", arch), dims, header)
