"""The one typed reader of a YAML document's mappings, with errors that say where and what.

Every file mbcost reads — architectures (their top level, rows and blocks), budgets files,
the published-numbers file and device profiles — goes through :class:`Fields`: one mapping of
a :class:`~mbcost.core.yamlio.Document`, its keys checked against the ones allowed (a typo
gets a did-you-mean), each value read by type with a message that names the file, line,
column and field:

    >>> from mbcost.core.yamlio import parse
    >>> doc = parse("k: 3\\ns: [1, 2]\\nname: stem\\n", "net.yaml")
    >>> f = Fields(doc, (), "layers[0]", ("k", "s", "name"))
    >>> f.integer("k"), f.pair("s", (1, 1), hi=8), f.text("name")
    (3, (1, 2), 'stem')
    >>> Fields(doc, (), "layers[0]", ("k", "s", "nmae"))
    Traceback (most recent call last):
    mbcost.errors.SpecError: net.yaml:3:1: layers[0].name: unknown key 'name'; did you mean 'nmae'?

Readers take ``default`` for a missing key; bounds are inclusive. Inside a block, string
values may be arithmetic over the block's parameters (``"4*w"``, :mod:`mbcost.core.expr`):
``env`` holds them.
"""
from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

from ..errors import MbcostError, SpecError
from .yamlio import Document, describe, field_path

Pair = tuple[int, int]  # (height, width) of a kernel, stride or map

MAX_CHANNELS = 1 << 20
MAX_RESOLUTION = 1 << 16
MAX_KERNEL = 1024
MAX_REPEAT = 1000
MAX_EXPANSION = 1024

# Names people reach for first, mapped to ours, for the did-you-mean hint.
_SYNONYMS = {"kernel": "k", "kernel_size": "k", "stride": "s", "strides": "s", "channels": "c",
             "out_channels": "c", "filters": "c", "repeat": "n", "repeats": "n", "expansion": "t",
             "expand_ratio": "t", "activation": "act", "type": "kind", "op": "kind",
             "batch_norm": "bn", "use_bias": "bias", "size": "resolution"}


def did_you_mean(word: str, choices) -> str | None:
    if _SYNONYMS.get(word) in choices:
        return _SYNONYMS[word]
    import difflib  # only on the error path

    hint = difflib.get_close_matches(word, list(choices), n=1)
    return hint[0] if hint else None


def value_at(data: Any, path: tuple) -> Any:
    """The value at a document path: value_at(data, ("layers", 3, "k"))."""
    for p in path:
        data = data[p]
    return data


class Fields:
    """Typed access to one mapping of a document (at ``path``, named ``label`` in messages).

    ``error`` is the exception raised for a bad value (:class:`~mbcost.errors.SpecError` for
    architectures; the published-numbers file raises its own).
    """

    def __init__(self, doc: Document, path: tuple, label: str, allowed: tuple[str, ...],
                 env: dict | None = None, *, error: type[MbcostError] = SpecError):
        self.doc, self.path, self.label, self.env, self.error = doc, path, label, env, error
        value = value_at(doc.data, path)
        if not isinstance(value, dict):
            self.fail(path, f"expected a mapping, got {describe(value)}")
        self.data: dict[str, Any] = value
        for key in value:
            if key not in allowed:
                hint = did_you_mean(key, allowed)
                more = f"; did you mean {hint!r}?" if hint else f"; expected one of {', '.join(allowed)}"
                self.fail(path + (key,), f"unknown key {key!r}{more}", key=True)

    def fail(self, path: tuple, message: str, *, key: bool = False):
        """Raise the reader's error for the value (or key) at ``path``."""
        raise self.error(message, field=field_path(self.label, path[len(self.path):]),
                         where=self.doc.where(path, key=key))

    def fail_key(self, key: str, message: str):
        """Raise the reader's error for this mapping's value at ``key``."""
        self.fail(self.path + (key,), message)

    def has(self, key: str) -> bool:
        return key in self.data

    def integer(self, key: str, default=None, *, lo: int = 1, hi: int = MAX_CHANNELS) -> int | None:
        if key not in self.data:
            return default
        return self._int(self.data[key], (key,), lo, hi)

    def _expr(self, value, sub, what: str = "a number") -> Fraction:
        from .expr import ExprError, evaluate

        try:
            return evaluate(value, self.env or {})
        except ExprError as exc:
            self.fail(self.path + sub, f"expected {what}, got {describe(value)} ({exc})")

    def _int(self, value, sub, lo, hi) -> int:
        given = value  # 1e300 is reported as written, not as its 301 digits
        what = "a positive integer" if lo == 1 else f"an integer ≥ {lo}"
        if isinstance(value, str) and self.env is not None:  # arithmetic over params: "4*w"
            v = self._expr(value, sub, what)
            if v.denominator != 1:
                self.fail(self.path + sub, f"expected an integer, got {value!r} = {v}")
            value = int(v)
        # bool is an int in Python; a YAML 'true' is never a channel count
        if isinstance(value, float) and value.is_integer() and math.isfinite(value):
            value = int(value)
        if not isinstance(value, int) or isinstance(value, bool) or value < lo:
            self.fail(self.path + sub, f"expected {what}, got {describe(given)}")
        if value > hi:
            self.fail(self.path + sub, f"expected at most {hi}, got {describe(given)}")
        return value

    def pair(self, key: str, default: Pair | None, *, hi: int, lo: int = 1) -> Pair | None:
        """A square size (``3``) or a [height, width] pair (``[1, 7]``)."""
        if key not in self.data:
            return default
        value = self.data[key]
        if isinstance(value, list):
            if len(value) != 2:
                self.fail_key(key, f"expected an integer or [height, width], got a list of {len(value)}")
            h, w = (self._int(v, (key, i), lo, hi) for i, v in enumerate(value))
            return (h, w)
        v = self._int(value, (key,), lo, hi)
        return (v, v)

    def number(self, key: str, default=None, *, hi: int = MAX_EXPANSION, zero: bool = False) -> Fraction | None:
        """A positive exact number: 6, 4.5, or arithmetic such as "72/24" (0 too with ``zero``)."""
        if key not in self.data:
            return default
        value = self.data[key]
        if isinstance(value, str) and self.env is not None:
            v = self._expr(value, (key,), "a positive number")
        elif isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
            from .expr import ExprError, bounded

            v = Fraction(repr(value)) if isinstance(value, float) else Fraction(value)
            try:  # the expressions' bounds: 1.0e-300 is a float YAML reads, and 300 digits exact
                v = bounded(v, repr(value))
            except ExprError as exc:
                self.fail_key(key, f"expected a positive number, got {describe(value)} ({exc})")
        else:
            self.fail_key(key, f"expected a positive number, got {describe(value)}")
        if not (0 <= v if zero else 0 < v) or v > hi:
            self.fail_key(key, f"expected a number {'≥' if zero else '>'} 0 and ≤ {hi}, got {describe(value)}")
        return v

    def integers(self, key: str, *, hi: int = MAX_CHANNELS) -> tuple[int, ...] | None:
        if key not in self.data:
            return None
        value = self.data[key]
        if not isinstance(value, list) or not value:
            self.fail_key(key, f"expected a non-empty list of integers, got {describe(value)}")
        return tuple(self._int(v, (key, i), 1, hi) for i, v in enumerate(value))

    def names(self, key: str) -> tuple[str, ...] | None:
        """``from``: one name or a list of names."""
        if key not in self.data:
            return None
        value = self.data[key]
        items = value if isinstance(value, list) else [value]
        if not items:
            self.fail_key(key, "expected a layer name or a list of them, got an empty list")
        for i, item in enumerate(items):
            if not isinstance(item, str) or not item.strip():
                self.fail(self.path + ((key, i) if isinstance(value, list) else (key,)),
                          f"expected a layer name, got {describe(item)}")
        return tuple(items)

    def boolean(self, key: str, default=None) -> bool | None:
        if key not in self.data:
            return default
        value = self.data[key]
        if not isinstance(value, bool):
            self.fail_key(key, f"expected true or false, got {describe(value)}")
        return value

    def choice(self, key: str, choices: tuple[str, ...], default=None) -> str | None:
        if key not in self.data:
            return default
        value = self.data[key]
        if not isinstance(value, str) or value not in choices:
            hint = did_you_mean(value, choices) if isinstance(value, str) else None
            more = f" (did you mean {hint!r}?)" if hint else ""
            self.fail_key(key, f"expected one of {', '.join(choices)}, got {describe(value)}{more}")
        return value

    def text(self, key: str, default=None) -> str | None:
        """A non-empty string, as written."""
        if key not in self.data:
            return default
        value = self.data[key]
        if not isinstance(value, str) or not value.strip():
            self.fail_key(key, f"expected a non-empty string, got {describe(value)}")
        return value
