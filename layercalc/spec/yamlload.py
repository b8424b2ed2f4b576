"""Safe YAML loading that keeps the position of every value.

PyYAML composes the document into nodes (the C loader when available); we
turn the nodes into plain values wrapped so that each mapping and sequence
remembers where it, its keys and its items stand in the file:

* :class:`YMap` -- a ``dict`` with ``mark`` (the mapping), ``kmarks`` (key ->
  mark of the key) and ``vmarks`` (key -> mark of the value);
* :class:`YSeq` -- a ``list`` with ``mark`` and ``imarks`` (mark per item);
* scalars -- plain ``str``/``int``/``float``/``bool``/``None``.

Rejected, each with a ``file:line:col`` error: anchors, aliases and merge
keys, duplicate keys, explicit tags, files over 1 MiB, integer literals larger
than 10**18 in absolute value, and YAML syntax errors.
"""

from __future__ import annotations

import yaml

from ..errors import Mark, SpecError

MAX_BYTES = 1 << 20

try:  # the C loader composes several times faster
    _Loader = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    _Loader = yaml.SafeLoader

_STD = "tag:yaml.org,2002:"
_INT = _STD + "int"
_BOOL = _STD + "bool"
_SCALAR_TAGS = {_STD + t for t in ("str", "int", "float", "bool", "null")}


#: an integer literal longer than this cannot be at most 10**18 (digits, sign, underscores of YAML 1.1)
MAX_INT_CHARS = 40
MAX_INT = 10**18


def _small_int(value: int, node, file: str) -> int:
    if -MAX_INT <= value <= MAX_INT:
        return value
    raise SpecError(_mark(file, node.start_mark), f"the integer {node.value[:30]}{'...' if len(node.value) > 30 else ''} "
                    "is larger than 10**18 in absolute value", "write a smaller number", code="S006")


class YMap(dict):
    __slots__ = ("mark", "kmarks", "vmarks")


class YSeq(list):
    __slots__ = ("mark", "imarks")


def _mark(file: str, m) -> Mark:
    return Mark(file, m.line + 1, m.column + 1)


class _Converter:
    def __init__(self, file: str):
        self.file = file
        self.seen: set[int] = set()
        self.constructor = yaml.SafeLoader("")  # only its construct_* methods are used

    def convert(self, node):
        nid = id(node)
        if nid in self.seen:  # the same node twice: it came from an alias
            raise SpecError(_mark(self.file, node.start_mark), "an alias (*name) repeats an anchored node",
                            "write the value out, or use a block with `repeat`", code="Y002")
        if isinstance(node, yaml.ScalarNode):
            return self.scalar(node)
        self.seen.add(nid)
        if isinstance(node, yaml.MappingNode):
            return self.mapping(node)
        return self.sequence(node)

    def check_tag(self, node, expected: str) -> None:
        if node.tag != expected and node.tag not in _SCALAR_TAGS:
            raise SpecError(_mark(self.file, node.start_mark), f"the tag '{node.tag}' is not allowed",
                            "remove the tag: specs are plain YAML", code="Y004")

    def scalar(self, node: yaml.ScalarNode):
        tag = node.tag
        if tag not in _SCALAR_TAGS:
            if tag == _STD + "merge":
                raise SpecError(_mark(self.file, node.start_mark), "a merge key (<<) was found",
                                "write the keys out, or use a block", code="Y002")
            self.check_tag(node, _STD + "str")
        if tag == _STD + "str":
            return node.value
        if tag == _STD + "null":
            return None
        value = node.value
        if tag == _INT:
            if len(value) > MAX_INT_CHARS:
                raise SpecError(_mark(self.file, node.start_mark),
                                f"the integer literal has {len(value)} characters; layercalc takes integers up to "
                                "10**18 in absolute value", "write a smaller number", code="S006")
            if value.isascii() and value.isdigit() and (value[0] != "0" or len(value) == 1):
                return _small_int(int(value), node, self.file)  # the common case, without YAML 1.1's forms
        if tag == _BOOL and value.lower() in self.constructor.bool_values:
            return self.constructor.bool_values[value.lower()]
        try:
            result = self.constructor.construct_object(node)
            if tag == _INT and isinstance(result, int):
                return _small_int(result, node, self.file)
            return result
        except (ValueError, KeyError, IndexError, TypeError, OverflowError):  # `!!int abc`, `!!bool maybe`, `!!float ""`
            raise SpecError(_mark(self.file, node.start_mark),
                            f"the value {value!r} is not a valid {tag.rsplit(':', 1)[-1]}",
                            "remove the explicit tag (!!int, !!float, !!bool), or write a valid value", code="Y001") from None

    def mapping(self, node: yaml.MappingNode) -> YMap:
        self.check_tag(node, _STD + "map")
        out = YMap()
        out.mark = _mark(self.file, node.start_mark)
        out.kmarks = {}
        out.vmarks = {}
        for knode, vnode in node.value:
            if isinstance(knode, yaml.ScalarNode) and knode.tag == _STD + "merge":
                raise SpecError(_mark(self.file, knode.start_mark), "a merge key (<<) was found",
                                "write the keys out, or use a block", code="Y002")
            key = self.convert(knode)
            kmark = _mark(self.file, knode.start_mark)
            if isinstance(key, (dict, list)):
                raise SpecError(kmark, "a mapping key is a collection", "use a plain name as key", code="S003")
            if key in out:
                first = out.kmarks[key]
                raise SpecError(kmark, f"the key '{key}' appears twice (first at line {first.line})",
                                "remove or rename one of them", code="Y003")
            out[key] = self.convert(vnode)
            out.kmarks[key] = kmark
            out.vmarks[key] = _mark(self.file, vnode.start_mark)
        return out

    def sequence(self, node: yaml.SequenceNode) -> YSeq:
        self.check_tag(node, _STD + "seq")
        out = YSeq()
        out.mark = _mark(self.file, node.start_mark)
        out.imarks = []
        for item in node.value:
            out.append(self.convert(item))
            out.imarks.append(_mark(self.file, item.start_mark))
        return out


def _find_anchor(text: str, file: str) -> None:
    """Raise on the first anchor or alias event (only called when '&' occurs)."""
    try:
        for event in yaml.parse(text, Loader=_Loader):
            anchor = getattr(event, "anchor", None)
            if anchor is not None:
                kind = "an alias (*" if isinstance(event, yaml.AliasEvent) else "an anchor (&"
                raise SpecError(_mark(file, event.start_mark), f"{kind}{anchor}) was found",
                                "write the value out, or use a block with `repeat`", code="Y002")
    except yaml.YAMLError:
        return  # the composer reports syntax errors with their place


def load_yaml(text: str, file: str):
    """Parse ``text`` into positioned values; raise :class:`SpecError` on any problem."""
    if len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        raise SpecError(Mark(file, 1, 1), f"the spec is {len(text.encode('utf-8', 'surrogatepass'))} bytes, over the 1 MiB limit",
                        "split it, or use blocks with `repeat`", code="Y005")
    try:
        if "&" in text:
            _find_anchor(text, file)
        node = yaml.compose(text, Loader=_Loader)
    except UnicodeEncodeError as exc:  # a lone surrogate: text decoded with surrogateescape, or built in Python
        line = text.count("\n", 0, exc.start) + 1
        col = exc.start - (text.rfind("\n", 0, exc.start) + 1) + 1
        raise SpecError(Mark(file, line, col), f"the text holds {exc.object[exc.start]!r}, which is not a Unicode "
                        "character (a lone surrogate)", "save the file as UTF-8", code="Y006") from None
    except yaml.MarkedYAMLError as exc:
        m = exc.problem_mark or exc.context_mark
        mark = _mark(file, m) if m is not None else Mark(file, 1, 1)
        problem = exc.problem or exc.context or "invalid YAML"
        if "undefined alias" in str(problem) or "found undefined" in str(problem):
            raise SpecError(mark, f"an alias was found ({problem})", "aliases are not allowed; write the value out",
                            code="Y002") from None
        raise SpecError(mark, f"invalid YAML: {problem}", "check indentation, colons and quotes near this place",
                        code="Y001") from None
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow (NUL, most C0 controls)
        pos = max(exc.position, 0)
        if _Loader is not yaml.SafeLoader:  # libyaml counts bytes of UTF-8
            pos = len(text.encode("utf-8", "surrogatepass")[:pos].decode("utf-8", "ignore"))
        pos = min(pos, len(text))
        line, col = text.count("\n", 0, pos) + 1, pos - (text.rfind("\n", 0, pos) + 1) + 1
        char = exc.character if isinstance(exc.character, str) else chr(exc.character)
        raise SpecError(Mark(file, line, col), f"invalid YAML: the character {char!r} is not allowed",
                        "remove it, or write it as an escape inside a double-quoted string", code="Y001") from None
    except yaml.YAMLError as exc:
        raise SpecError(Mark(file, 1, 1), f"invalid YAML: {' '.join(str(exc).split())}", "check the file's syntax",
                        code="Y001") from None
    except RecursionError:
        raise SpecError(Mark(file, 1, 1), "the YAML nests too deeply", "flatten the document", code="Y001") from None
    if node is None:
        return None
    try:
        return _Converter(file).convert(node)
    except RecursionError:
        raise SpecError(Mark(file, 1, 1), "the YAML nests too deeply", "flatten the document", code="Y001") from None
    except yaml.YAMLError as exc:  # a scalar that its resolver accepted but its constructor refused
        m = getattr(exc, "problem_mark", None)
        raise SpecError(_mark(file, m) if m else Mark(file, 1, 1), f"invalid value: {getattr(exc, 'problem', exc)}",
                        "write a plain number or string", code="Y001") from None
