"""Safe YAML reading that remembers where every value came from.

We compose the node tree with PyYAML's safe loader and build plain Python values
ourselves, so that we can (1) refuse tags that would construct Python objects,
(2) refuse duplicate keys and merge keys instead of silently picking one,
(3) bound the work an alias bomb can cause, and (4) keep a line:column for
every key and value to put in error messages.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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
    if path.is_dir():
        raise SpecError("is a directory, expected a YAML file", where=Where(name))
    try:
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


def parse(text: str, source: str) -> Document:
    """Parse YAML text into a Document; raise SpecError with a position on any problem."""
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


_scalar_constructor = yaml.SafeLoader("")


def _scalar(node: yaml.ScalarNode, path: Path_, doc: Document) -> Any:
    try:
        return _scalar_constructor.construct_object(node)
    except (yaml.YAMLError, ValueError, OverflowError):
        # an explicit !!int / !!float on text that is not one, or an integer past Python's
        # 4300-digit conversion limit
        what = {"int": "an integer", "float": "a number", "bool": "true or false"}.get(
            node.tag.rsplit(":", 1)[-1], node.tag)
        text = repr(node.value) if len(node.value) <= 40 else f"a {len(node.value)}-character value"
        raise SpecError(f"expected {what}, got {text}", field=field_path("", path) or None,
                        where=Where(doc.source, *_mark(node))) from None


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
    if isinstance(value, int) and len(str(abs(value))) > 15:
        return f"a {len(str(abs(value)))}-digit number"
    return repr(value)
