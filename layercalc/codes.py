"""Stable diagnostic codes, one registry for the loader, the engine and ``lint``.

Families: ``Y`` YAML and file, ``S`` schema (keys, types, values), ``G`` graph
(names, shapes, dtypes, structure), ``B`` budgets, ``W`` style warnings
(``B`` and ``W`` are found by ``layercalc lint`` only), ``X`` internal errors.
A code never changes meaning once released; new problems get new codes.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Code:
    code: str
    slug: str
    level: str  # "error" or "warning"
    summary: str
    explanation: str = ""


CODES: dict[str, Code] = {}


def _code(code: str, slug: str, level: str, summary: str, explanation: str = "") -> None:
    if code in CODES:
        raise ValueError(f"duplicate diagnostic code {code}")
    CODES[code] = Code(code, slug, level, summary, explanation)


_code("Y001", "yaml.syntax", "error", "the file is not valid YAML")
_code("Y002", "yaml.anchor", "error", "anchors, aliases and merge keys are not allowed",
      "Anchors (&a), aliases (*a) and merge keys (<<) let a small file expand into a huge one; "
      "use a block with `repeat` instead.")
_code("Y003", "yaml.duplicate-key", "error", "a mapping has the same key twice")
_code("Y004", "yaml.tag", "error", "explicit YAML tags such as !!python/object are not allowed")
_code("Y005", "file.too-large", "error", "the spec is larger than 1 MiB")
_code("Y006", "file.unreadable", "error", "the file cannot be read or is not UTF-8")
_code("S000", "schema.invalid", "error", "the spec does not follow the format")
_code("S001", "schema.unknown-key", "error", "an unknown key (top level, block or meta key)")
_code("S002", "schema.missing-key", "error", "a required key or argument is missing")
_code("S003", "schema.wrong-type", "error", "a value has the wrong type")
_code("S004", "schema.unknown-layer", "error", "an unknown layer type or block")
_code("S005", "schema.unknown-argument", "error", "an argument the layer type does not take")
_code("S006", "schema.invalid-value", "error", "a value is out of range or not one of the allowed choices")
_code("S007", "schema.bad-expression", "error", "an expression cannot be evaluated")
_code("S008", "schema.version", "error", "the `layercalc:` format version is missing or unsupported")
_code("S009", "schema.bad-name", "error", "a name is not an identifier or clashes with another")
_code("G001", "graph.undefined-name", "error", "`from`, `tie`, `share` or `outputs` names something that does not exist")
_code("G002", "graph.duplicate-name", "error", "two layers of one scope have the same name")
_code("G003", "graph.shape-mismatch", "error", "a layer cannot take the shape of its input")
_code("G004", "graph.not-divisible", "error", "a size must divide another (channels by groups, embed_dim by heads)")
_code("G005", "graph.recursive-block", "error", "a block uses itself, directly or not")
_code("G006", "graph.too-many-layers", "error", "the expanded graph is larger than --max-layers")
_code("G007", "graph.dtype-mismatch", "error", "a layer gets an input of the wrong dtype")
_code("G008", "graph.arity", "error", "a layer gets the wrong number of inputs")
_code("G009", "graph.bad-extra-output", "error", "a named extra output that the layer does not have")
_code("G010", "graph.share-mismatch", "error", "`tie` or `share` between layers whose parameters differ")
_code("G011", "graph.limit", "error", "blocks nest too deeply, or a tensor has too many dimensions")
_code("G101", "symbolic.no-form", "error", "with --symbolic, a layer's arithmetic on a symbolic dim has no exact form",
      "A symbolic dim (--symbolic) reaches arithmetic that has no exact polynomial or floor form: a true "
      "division, a float factor, a size used as a divisor, or a gcd or slice that the check at a second point "
      "catches. The message names the layer and the operation. Fix: leave that dim concrete.")
_code("G102", "symbolic.parameter-depends", "error", "with --symbolic, a parameter shape depends on a symbolic dim",
      "Parameter and buffer counts must be numbers: a `Linear` whose in_features follows a symbolic dim has no "
      "fixed size. Fix: leave that dim concrete, or make the layer's arguments independent of it.")

# --- lint: budgets (B) and style warnings (W) -------------------------------------
# These are found by `layercalc lint` only (layercalc/lint/checks/), never by the engine.
_code("B001", "budget.params", "error", "the spec has more parameters than its budget allows",
      "The total number of parameters (the `params` total of `layercalc summary`, shared weights counted "
      "once) is larger than `max-params`, set with `--max-params` or in `[tool.layercalc]` of pyproject.toml, "
      "globally or per file (`[tool.layercalc.per-file.\"specs/big/*.yaml\"]`). The message names the largest "
      "layers. Fix: make the model smaller, or raise the budget for this file on purpose, in review.")
_code("B002", "budget.macs", "error", "the spec needs more multiply-accumulates than its budget allows",
      "The total MACs of one forward pass at the spec's default dims (the `macs` total of `layercalc flops`) "
      "is larger than `max-macs` (`--max-macs` or pyproject.toml). MACs count the dense products only; "
      "see the counting conventions. Fix: make the model cheaper, or raise the budget for this file.")
_code("B003", "budget.param-bytes", "error", "the parameters take more bytes than the budget allows",
      "params times the size of the parameter dtype (`--dtype` or `dtype` in pyproject.toml, default "
      "float32: 4 bytes) is larger than `max-param-bytes`. Budgets accept suffixes: 25M, 1.5G, 100MiB. "
      "Fix: make the model smaller, store it in a smaller dtype, or raise the budget.")
_code("W001", "style.unused-name", "warning", "a layer has a name that nothing refers to",
      "A layer is named (`name: proj`) but no `from`, `tie`, `share`, `outputs` or block `output` refers "
      "to it, and it is not an output. Often a leftover after a `from:` was edited. Off by default, since "
      "many specs name layers after torch's modules only to label the report's rows: enable it with "
      "`--select W001` (or `select` in pyproject.toml). Fix: refer to the name, or remove `name:`.")
_code("W002", "style.bias-before-norm", "warning", "a convolution or Linear with a bias feeds a BatchNorm",
      "A Conv*, ConvTranspose* or Linear layer has `bias: true` (the default) and its output goes only to a "
      "BatchNorm* or InstanceNorm* right after it. The norm subtracts the per-channel mean, which removes "
      "any constant per-channel bias, so the bias parameters are learned for nothing (and cost memory). "
      "(A Linear counts only when its output is (N, features): on (N, L, features) the norm's channels are "
      "the L positions, and the bias is not cancelled.) "
      "torchvision's models write `bias=False` before every BatchNorm. Fix: add `bias: false` to the layer.")
_code("W003", "style.dropout-at-output", "warning", "a Dropout layer produces a model output",
      "The layer that produces a model output (the last layer, or one named in `outputs`) is a Dropout. "
      "In training it zeroes random outputs (logits), which the loss then sees; at inference it does "
      "nothing. Dropout belongs before the last Linear layer (`Dropout` then `Linear`, as in AlexNet, VGG "
      "and MobileNetV2). Fix: move the Dropout before the last layer with parameters, or remove it.")
_code("W004", "style.unused-output", "warning", "a layer's output is used by nothing",
      "No later entry takes this layer's output (neither as the next entry's default input nor through "
      "`from`), and it is not a model or block output: its parameters and MACs are counted but it does not "
      "contribute to any output. Usually a branch that was never merged (a shortcut without its `Add`) or "
      "a `from:` that skips a layer by mistake. Fix: use its output, or remove the layer.")
_code("W005", "style.unused-block", "warning", "a block is defined but never used",
      "A block under `blocks:` is not used by the layers or by any other used block, so it is neither "
      "counted nor checked beyond its structure. Fix: use it, or remove it.")
_code("W006", "style.softmax-at-output", "warning", "the model output is produced by Softmax",
      "The layer that produces a model output is a Softmax (or Softmin). PyTorch's losses, "
      "`nn.CrossEntropyLoss` first of all, expect raw logits and apply log-softmax themselves; a model that "
      "already ends in Softmax is then normalized twice, which flattens its gradients. Fix: end the model at "
      "the logits (apply softmax at inference only), or use LogSoftmax with `nn.NLLLoss`; if the spec "
      "describes an inference graph on purpose, ignore W006 for that file.")
_code("X001", "internal.error", "error", "layercalc failed on this file (a bug in layercalc)",
      "Checking this file raised an unexpected exception. The other files are still checked. This is a bug "
      "in layercalc, not in the spec: please report it with the file (set LAYERCALC_DEBUG=1 for the "
      "traceback).")


# --- explanations of the engine's codes, shown by `layercalc lint --explain CODE` ----

def _explain(code: str, explanation: str) -> None:
    import dataclasses

    CODES[code] = dataclasses.replace(CODES[code], explanation=explanation)


_explain("Y001", "The file could not be parsed as YAML: bad indentation, a missing colon, an unclosed quote or "
         "bracket, a tab used for indentation. The position is where the parser gave up, which is often just "
         "after the real mistake. Fix: check indentation, colons and quotes on this line and the one before.")
_explain("Y003", "A mapping has the same key twice, e.g. two `stride:` in one layer's arguments or two layers "
         "written in one list item. YAML would silently keep the last one; layercalc refuses it. "
         "Fix: remove one of the keys, or put each layer in its own `- ` item.")
_explain("Y004", "Explicit tags (`!!python/object`, `!!binary`, `!custom`) are refused: specs are plain YAML "
         "read with a safe loader, and a tag never has a meaning in a spec. Fix: remove the tag.")
_explain("Y005", "Specs larger than 1 MiB are refused before parsing, so that no file can make the tool slow. "
         "Fix: split the spec, or describe repeated structure with a block and `repeat`.")
_explain("Y006", "The file does not exist, cannot be read, or is not UTF-8 text. Fix: check the path and the "
         "permissions, and save the file as UTF-8.")
_explain("S000", "The spec does not follow the format in a way that no more specific code describes. "
         "Fix: compare with an example in specs/ and the format description.")
_explain("S001", "A key that the format does not know: at the top level (`layercalc name dims vars inputs "
         "blocks layers outputs`), in a block (`params inputs layers output`), in an input (`shape dtype`), "
         "or a second layer type in one entry. The message suggests the closest valid key. "
         "Fix: correct the spelling, or move the key to where it belongs.")
_explain("S002", "A required key or argument is missing: `inputs` or `layers` in the spec, a layer type in an "
         "entry, a block param without default (`null`), or a layer argument without default such as "
         "`out_features`. Fix: add it.")
_explain("S003", "A value has the wrong type: a list where a mapping is expected, a string where true/false is "
         "expected (`bias: yes` is fine, `bias: 'false'` is a string), a number that must be an integer, "
         "a mapping where a number is expected. Fix: write a value of the type named in the message.")
_explain("S004", "An entry names a layer type that is neither a torch.nn type supported by layercalc nor a "
         "block defined under `blocks:`. Names are case-sensitive, as in torch.nn (`Conv2d`, not `conv2d`); "
         "the message suggests the closest type. `layercalc layers` lists the types. Fix: correct the name "
         "or define the block.")
_explain("S005", "A layer is given an argument that its torch.nn type does not take (or a block instance a "
         "param its block does not declare). Argument names are torch's (`kernel_size`, `out_features`); the "
         "message suggests the closest one and lists all. Fix: correct or remove the argument.")
_explain("S006", "A value is out of range (a kernel size of 0, a negative channel count, `repeat: 0`) or is "
         "not one of the allowed choices (`padding_mode: zero` instead of `zeros`). Fix: use a value in the "
         "range or one of the choices named in the message.")
_explain("S007", "An expression cannot be evaluated: an undefined name, a syntax error, a division by zero, a "
         "result over 10**18, an exponent over 64, or something that is not arithmetic (calls other than "
         "min max ceil floor round, attribute access, subscripts). Expressions are evaluated by a whitelist, "
         "never by eval. Fix: use numbers, names of dims, vars and block params, and + - * / // % **.")
_explain("S008", "The spec has no `layercalc:` key, or a version this layercalc does not read. Every spec "
         "starts with `layercalc: 1`. Fix: add or correct it.")
_explain("S009", "A name is not an identifier (`[A-Za-z_][A-Za-z0-9_]*`), or clashes: a block named like a "
         "layer type, a var named like a function, a name defined twice among dims and vars. "
         "Fix: rename it.")
_explain("G001", "`from`, `tie`, `share`, `outputs` or a block's `output` names something that is not defined "
         "at that point: names refer to model inputs, earlier layers of the same scope, or the block's inputs "
         "(a layer inside a block cannot see the model's layers). The message suggests the closest name. "
         "Fix: correct the name, or move the layer after the one it refers to.")
_explain("G002", "Two layers of one scope (the spec, or one block) have the same `name`. Fix: rename one.")
_explain("G003", "A layer cannot take the shape of its input: a Linear whose `in_features` disagrees with the "
         "input's last dimension, a Conv2d fed a 2-D tensor, a kernel larger than the padded input, an Add of "
         "shapes that do not broadcast, `padding: same` with a stride > 1. "
         "Fix: check the shapes with `layercalc shape` up to this layer.")
_explain("G004", "A size must divide another: in_channels and out_channels by `groups`, `embed_dim` by "
         "`num_heads`, channels by `num_groups`. Fix: choose sizes that divide.")
_explain("G005", "A block uses itself, directly or through other blocks, which would expand forever. "
         "Fix: use `repeat` to stack copies of a block.")
_explain("G006", "The graph would have more layers after expanding blocks and `repeat` than the cap "
         "(100,000 by default, `--max-layers`), e.g. `repeat: 10**9`. Fix: reduce `repeat`, or raise the cap.")
_explain("G007", "A layer gets an input of the wrong dtype: an Embedding needs integer indices "
         "(`dtype: int64`), most other layers need floating-point inputs. Fix: declare the input's dtype, or "
         "feed the layer from an Embedding.")
_explain("G008", "A layer or block gets the wrong number of inputs: `Add` with one input, `Bilinear` with three, "
         "a block with inputs [x, skip] given one. Fix: list one name per input in `from: [...]`.")
_explain("G009", "`from: layer.NAME` selects an extra output that the layer does not have (LSTM has `h_n` and "
         "`c_n`, GRU and RNN `h_n`, MultiheadAttention `attn_weights`). Fix: select an existing extra output.")
_explain("G011", "The spec goes beyond one of layercalc's limits, which keep every analysis small and fast: "
         "blocks nested more than 32 deep (a block using a block using a block ...), or a tensor with more than "
         "64 dimensions (PyTorch's own limit), declared as an input or produced by a layer. "
         "Fix: flatten the nesting of blocks (`repeat` stacks copies without nesting), or use fewer dimensions.")
_explain("G010", "`tie` or `share` links layers whose parameters differ: `tie` needs weights of the same shape, "
         "`share` an earlier, non-repeated entry of the same type (or block) whose parameters have the same "
         "shapes. Fix: link matching layers, or remove `tie`/`share`.")
