"""Safe YAML reading that remembers where every value came from.

We compose the node tree with PyYAML's safe loader and build plain Python values
ourselves, so that we can (1) refuse tags that would construct Python objects,
(2) refuse duplicate keys and merge keys instead of silently picking one,
(3) bound the work an alias bomb can cause, and (4) keep a line:column for
every key and value to put in error messages.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, Callable

import yaml

from ..errors import SpecError, Where

try:  # the C composer is several times faster; marks are the same
    _Loader = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    _Loader = yaml.SafeLoader

MAX_FILE_BYTES = 1 << 20
MAX_NODES = 100_000  # an expanded document bigger than this is an alias bomb, not an architecture
MAX_DEPTH = 50  # an architecture nests 3 deep; this bounds our recursion (and a self-referencing alias)

_PLAIN_TAGS = {
    "tag:yaml.org,2002:" + t for t in ("map", "seq", "str", "int", "float", "bool", "null")
}
# YAML 1.1 resolves `2001-12-14` to a date and a lone `=` to a "value" node; nobody writing an
# architecture means either, so they stay the text they are and fail validation as such.
_TEXT_TAGS = {"tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:value"}

_NODE_NAMES = {yaml.MappingNode: "a mapping", yaml.SequenceNode: "a list", yaml.ScalarNode: "a single value"}

Path_ = tuple  # (key or index, ...) from the document root


@dataclass
class Document:
    """A parsed YAML file: its plain value, and the position of every node by path."""

    source: str
    data: Any
    value_marks: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    key_marks: dict[Path_, tuple[int, int]] = field(default_factory=dict)

    def where(self, path: Path_, *, key: bool = False) -> Where:
        marks = self.key_marks if key else self.value_marks
        # fall back to the closest enclosing node we know
        p = tuple(path)
        while p not in marks and p:
            p = p[:-1]
        line, col = marks.get(p, (None, None))
        return Where(self.source, line, col)


def _mark(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def read_text(path: Path) -> str:
    """Read a user's file as UTF-8 text, turning every OS failure into one clear error."""
    name = str(path)
    if "\0" in name:  # the OS cannot take it; Python raises ValueError from every path call
        raise SpecError("the path contains a NUL byte (\\0), which no file name can",
                        where=Where(name.replace("\0", "\\0")))
    try:
        if path.is_dir():
            raise SpecError("is a directory, expected a YAML file", where=Where(name))
        with path.open("rb") as fh:
            raw = fh.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise SpecError("no such file", where=Where(name)) from None
    except PermissionError:
        raise SpecError("permission denied", where=Where(name)) from None
    except OSError as exc:
        raise SpecError(f"cannot read: {exc.strerror or exc}", where=Where(name)) from None
    if len(raw) > MAX_FILE_BYTES:
        raise SpecError(f"file is larger than {MAX_FILE_BYTES} bytes", where=Where(name))
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise SpecError(
            f"byte 0x{raw[exc.start]:02x} is not valid UTF-8", where=Where(name, line, col)
        ) from None


@dataclass(frozen=True)
class Outline:
    """What a file is before any of its values are read: the root's kind and its top-level
    keys. A reader decides from this alone whether the file is one of its own, so that a
    stranger (``secret.env`` given as an architecture) is refused before any message could
    quote one of its values, tags or keys — such messages may end up in a public CI log."""

    kind: str  # "a mapping", "a list", "text" or "a single value"
    keys: tuple[str, ...] = ()  # a mapping's plain top-level keys

    @classmethod
    def of(cls, data: Any) -> "Outline":
        """The outline of values already built."""
        if isinstance(data, dict):
            return cls("a mapping", tuple(k for k in data if isinstance(k, str)))
        return cls({list: "a list", str: "text"}.get(type(data), "a single value"))


def _outline(node: yaml.Node) -> Outline:
    if isinstance(node, yaml.MappingNode):
        return Outline("a mapping", tuple(k.value for k, _ in node.value
                                          if isinstance(k, yaml.ScalarNode) and k.tag in _PLAIN_TAGS))
    if isinstance(node, yaml.SequenceNode):
        return Outline("a list")
    return Outline("text" if node.tag == "tag:yaml.org,2002:str" else "a single value")


def parse(text: str, source: str, recognise: Callable[[Outline, str], None] | None = None) -> Document:
    """Parse YAML text into a Document; raise SpecError with a position on any problem.

    ``recognise(outline, source)``, if given, sees the file's :class:`Outline` before any
    value is built and raises if the file is not what the reader expects. The composer's own
    messages (libyaml's) name the problem, never the text."""
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = Where(source, mark.line + 1, mark.column + 1) if mark else Where(source)
        # "while parsing a flow mapping, did not find expected ',' or '}'"
        problem = ", ".join(p for p in (exc.context, exc.problem) if p) or "invalid YAML"
        raise SpecError(f"invalid YAML: {problem}", where=where) from None
    except yaml.reader.ReaderError as exc:  # a control character: no mark, only an offset
        line = text.count("\n", 0, exc.position) + 1
        col = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        ch = exc.character if isinstance(exc.character, int) else ord(exc.character)
        raise SpecError(f"invalid YAML: control character U+{ch:04X} is not allowed",
                        where=Where(source, line, col)) from None
    except yaml.YAMLError as exc:
        raise SpecError(f"invalid YAML: {exc}", where=Where(source)) from None
    except RecursionError:  # the pure-Python composer on deep nesting (libyaml stops at 1000)
        raise SpecError(f"nested more than {MAX_DEPTH} levels deep", where=Where(source)) from None
    finally:
        loader.dispose()
    if root is None:
        raise SpecError("file is empty, expected a YAML mapping", where=Where(source, 1, 1))
    if recognise is not None:
        recognise(_outline(root), source)
    doc = Document(source, None)
    budget = [MAX_NODES]
    doc.data = _build(root, (), doc, budget)
    return doc


def _build(node: yaml.Node, path: Path_, doc: Document, budget: list[int]) -> Any:
    if len(path) > MAX_DEPTH:
        raise SpecError(f"nested more than {MAX_DEPTH} levels deep",
                        where=Where(doc.source, *_mark(node)))
    budget[0] -= 1
    if budget[0] < 0:
        raise SpecError(
            f"document expands to more than {MAX_NODES} values (an alias bomb?)",
            where=Where(doc.source, *_mark(node)),
        )
    doc.value_marks.setdefault(path, _mark(node))
    if node.tag in _TEXT_TAGS and isinstance(node, yaml.ScalarNode):
        return node.value
    if node.tag not in _PLAIN_TAGS:
        tag = node.tag.replace("tag:yaml.org,2002:", "!!", 1)  # as the user wrote it
        raise SpecError(
            f"YAML tag {tag!r} is not allowed; only plain mappings, lists and scalars",
            field=field_path("", path) or None, where=Where(doc.source, *_mark(node)),
        )
    kind = node.tag.rsplit(":", 1)[-1]
    fits = {"map": yaml.MappingNode, "seq": yaml.SequenceNode}.get(kind, yaml.ScalarNode)
    if not isinstance(node, fits):  # `!!map x`, `!!str {a: 1}`: the tag contradicts the value
        raise SpecError(
            f"the YAML tag !!{kind} needs {_NODE_NAMES[fits]}, got {_NODE_NAMES[type(node)]}",
            field=field_path("", path) or None, where=Where(doc.source, *_mark(node)),
        )
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
                message = "merge keys '<<' are not supported; write the keys out" \
                    if isinstance(key_node, yaml.ScalarNode) else "keys must be plain names, got a " + \
                    ("list" if isinstance(key_node, yaml.SequenceNode) else "mapping")
                raise SpecError(
                    message,
                    field=field_path("", path) or None, where=Where(doc.source, *_mark(key_node)),
                )
            key = str(key_node.value)
            if key in out:
                raise SpecError(
                    f"duplicate key {key!r}", field=field_path("", path + (key,)),
                    where=Where(doc.source, *_mark(key_node)),
                )
            doc.key_marks[path + (key,)] = _mark(key_node)
            out[key] = _build(value_node, path + (key,), doc, budget)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_build(item, path + (i,), doc, budget) for i, item in enumerate(node.value)]
    return _scalar(node, path, doc)


# --- scalars ----------------------------------------------------------------------------------
#
# We construct scalars ourselves rather than through PyYAML's constructor: it crashes on an
# explicit tag over text it cannot parse (``!!bool maybe`` is a KeyError, ``!!int ""`` an
# IndexError), reads YAML 1.1's octal (``040`` = 32), hexadecimal, binary and base-60
# (``1:30`` = 90) integers without a word, and would build integers of any length. Here an
# integer is decimal only (digits, optionally signed, ``_`` between digits), and every other
# form is refused with the value as written and what YAML 1.1 would have made of it.

MAX_NUMBER_CHARS = 100  # a number longer than this in a file is a mistake, not a count
_DECIMAL = re.compile(r"[-+]?(?:0|[1-9][0-9_]*)")
_NONDECIMAL = (  # (pattern, what YAML 1.1 reads it as, base)
    (re.compile(r"[-+]?0b[01_]+"), "binary", 2),
    (re.compile(r"[-+]?0x[0-9a-fA-F_]+"), "hexadecimal", 16),
    (re.compile(r"[-+]?0[0-7_]+"), "octal", 8),
)
_BASE60 = re.compile(r"[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?")
_NULLS = ("", "~", "null", "Null", "NULL")
_BOOLS = {"yes": True, "no": False, "true": True, "false": False, "on": True, "off": False,
          "y": True, "n": False}
_WHAT = {"int": "an integer", "float": "a number", "bool": "true or false", "null": "null (~)"}


def _base60(text: str) -> int | float:
    sign = -1 if text.startswith("-") else 1
    total: int | float = 0
    for part in text.lstrip("+-").replace("_", "").split(":"):
        total = total * 60 + (float(part) if "." in part else int(part))
    return sign * total


def _yaml11(text: str) -> str:
    """What YAML 1.1 makes of an integer that is not decimal: 'octal (= 32)'."""
    if _BASE60.fullmatch(text):
        return f"base 60 (= {_base60(text)})"
    for pattern, name, base in _NONDECIMAL:
        if pattern.fullmatch(text):
            digits = text.replace("_", "").lstrip("+-")
            value = int(digits[2:] if base != 8 else digits, base) * (-1 if text.startswith("-") else 1)
            return f"{name} (= {value})"
    return ""


def _scalar(node: yaml.ScalarNode, path: Path_, doc: Document) -> Any:
    kind = node.tag.rsplit(":", 1)[-1]
    text = node.value

    def fail(message: str):
        raise SpecError(message, field=field_path("", path) or None, where=Where(doc.source, *_mark(node)))

    def shown() -> str:
        return repr(text) if len(text) <= 40 else f"a {len(text)}-character value"

    if kind == "str":
        return text
    if kind == "null":
        if text not in _NULLS:
            fail(f"expected null (~ or nothing) for the tag !!null, got {shown()}")
        return None
    if kind == "bool":
        if text.lower() not in _BOOLS:
            fail(f"expected true or false, got {shown()}")
        return _BOOLS[text.lower()]
    if len(text) > MAX_NUMBER_CHARS:
        fail(f"expected {_WHAT[kind]}, got {shown()}")
    if kind == "int":
        if _DECIMAL.fullmatch(text):
            return int(text.replace("_", ""))
        read_as = _yaml11(text)
        if read_as:
            fail(f"expected a decimal integer, got {text}, which YAML 1.1 reads as {read_as}; "
                 f"write the number in decimal (or quote it for text)")
        fail(f"expected an integer, got {shown()}")
    # float
    if _BASE60.fullmatch(text):
        fail(f"expected a decimal number, got {text}, which YAML 1.1 reads as base 60 "
             f"(= {_base60(text)}); write the number in decimal (or quote it for text)")
    plain = text.replace("_", "").lower()
    specials = {".inf": math.inf, "+.inf": math.inf, "-.inf": -math.inf, ".nan": math.nan}
    if plain in specials:
        return specials[plain]
    try:
        if plain.lstrip("+-")[:1] in ("i", "n"):  # Python's float() takes 'inf' and 'nan', YAML does not
            raise ValueError
        return float(plain)
    except ValueError:
        fail(f"expected a number, got {shown()}")


# --- naming values in messages ----------------------------------------------------------------

def field_path(label: str, sub: tuple) -> str:
    """A value's place as the user reads it: field_path("layers", (3, "s")) → 'layers[3].s'."""
    out = label
    for p in sub:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else p)
    return out


def describe(value: Any) -> str:
    """A value as an error message quotes it: short, typed, never a 5,000-digit integer."""
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (dict, list)):
        return "a mapping" if isinstance(value, dict) else "a list"
    if isinstance(value, str):
        return repr(value if len(value) <= 40 else value[:37] + "...")
    if isinstance(value, int) and abs(value) >= 10**15:
        return f"a {digits(value)}-digit number"
    if isinstance(value, Fraction) and max(abs(value.numerator), value.denominator) >= 10**15:
        return f"a fraction of {digits(value.numerator)} over {digits(value.denominator)} digits"
    return repr(value)


def digits(n: int) -> int:
    """How many decimal digits ``n`` has, without str(n), which Python refuses past 4,300
    digits (and which is quadratic before that)."""
    n = abs(n)
    if n < 10**15:
        return len(str(n))
    d = int(n.bit_length() * 0.30102999566398120)  # log10(2); at most one short
    return d + (n >= 10**d)
