"""The architecture file, as written: rows that read like the papers' tables.

``load_spec`` validates a YAML document into an :class:`ArchSpec` — a list of
:class:`Row` records, still compact (a bottleneck row with n = 4 is one row).
Nothing here knows α, ρ or costs; :mod:`mbcost.core.expand` turns rows into layers.
The format is documented in docs/format.md.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, Callable

from ..errors import SpecError
from .yamlio import Document, describe, field_path, parse, read_text

Pair = tuple[int, int]  # (height, width) of a kernel, stride or map

ACTIVATIONS = ("relu", "relu6", "linear")
MAX_CHANNELS = 1 << 20
MAX_RESOLUTION = 1 << 16
MAX_KERNEL = 1024
MAX_REPEAT = 1000
MAX_EXPANSION = 1024


@dataclass(frozen=True)
class WidthRule:
    """How the width multiplier α turns a paper channel count c into a real one.

    ``floor``: max(floor(c·α), min) — TF-slim / Keras MobileNetV1.
    ``make_divisible``: c·α rounded to the nearest multiple of ``divisor``, at
    least ``min``, bumped up one ``divisor`` if rounding lost more than 10% —
    TF-slim / torchvision MobileNetV2.
    """

    rule: str = "floor"
    min: int = 8
    divisor: int = 8

    def apply(self, c: int, alpha: Fraction) -> int:
        if alpha == 1:  # the file's own channel counts, even ones below min or off the divisor
            return c
        v = c * alpha  # exact: α is the decimal the user typed, not its binary float
        if self.rule == "floor":
            return max(math.floor(v), self.min)
        d = self.divisor
        n = max(self.min, math.floor(v + Fraction(d, 2)) // d * d)
        if n < Fraction(9, 10) * v:
            n += d
        return n


@dataclass(frozen=True)
class Row:
    """One row of the architecture table, validated but not yet expanded.

    Field names follow the papers: c output channels, k kernel (D_K), s stride,
    n repeats, t expansion factor (MobileNetV2).
    """

    kind: str
    index: int  # position in the file's ``layers`` list, for messages
    name: str | None = None
    c: int | None = None
    k: Pair = (1, 1)
    s: Pair = (1, 1)
    n: int = 1
    t: int = 1
    groups: int = 1
    padding: str = "same"
    act: str | None = None
    bn: bool | None = None
    bias: bool | None = None
    scale: str = "always"  # always | up (only when α > 1) | never
    op: str = "avg"
    global_: bool = False
    source: str | None = None  # ``from`` of an add row


@dataclass(frozen=True)
class ArchSpec:
    name: str
    source: str
    resolution: Pair
    in_channels: int
    scale_input: bool
    classes: int | None
    width: WidthRule
    batch_norm: bool
    activation: str
    rows: tuple[Row, ...]
    title: str = ""
    document: Document | None = field(default=None, compare=False, repr=False)
    # a model read from another format (ONNX) has no rows: its layers are fixed, and
    # expand() asks this for the graph at (α, resolution, classes)
    prebuilt: Callable[..., Any] | None = field(default=None, compare=False, repr=False)


# --- reading fields -------------------------------------------------------------------------


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


class _Fields:
    """Typed access to one mapping of the document, with errors that say where and what."""

    def __init__(self, doc: Document, path: tuple, label: str, allowed: tuple[str, ...]):
        self.doc, self.path, self.label = doc, path, label
        value = _get(doc.data, path)
        if not isinstance(value, dict):
            self.fail(path, f"expected a mapping, got {describe(value)}")
        self.data: dict[str, Any] = value
        for key in value:
            if key not in allowed:
                hint = did_you_mean(key, allowed)
                more = f"; did you mean {hint!r}?" if hint else f"; expected one of {', '.join(allowed)}"
                self.fail(path + (key,), f"unknown key {key!r}{more}", key=True)

    def fail(self, path: tuple, message: str, *, key: bool = False):
        raise SpecError(message, field=field_path(self.label, path[len(self.path):]),
                        where=self.doc.where(path, key=key))

    def has(self, key: str) -> bool:
        return key in self.data

    def int(self, key: str, default=None, *, lo: int = 1, hi: int = MAX_CHANNELS) -> int | None:
        if key not in self.data:
            return default
        return self._int(key, self.data[key], (key,), lo, hi)

    def _int(self, key, value, sub, lo, hi) -> int:
        given = value  # 1e300 is reported as written, not as its 301 digits
        # bool is an int in Python; a YAML 'true' is never a channel count
        if isinstance(value, float) and value.is_integer() and math.isfinite(value):
            value = int(value)
        if not isinstance(value, int) or isinstance(value, bool):
            what = "a positive integer" if lo == 1 else f"an integer ≥ {lo}"
            self.fail(self.path + sub, f"expected {what}, got {describe(value)}")
        if value < lo:
            what = "a positive integer" if lo == 1 else f"an integer ≥ {lo}"
            self.fail(self.path + sub, f"expected {what}, got {describe(given)}")
        if value > hi:
            self.fail(self.path + sub, f"expected at most {hi}, got {describe(given)}")
        return value

    def pair(self, key: str, default: Pair, *, hi: int) -> Pair:
        """A square size (``3``) or a [height, width] pair (``[1, 7]``)."""
        if key not in self.data:
            return default
        value = self.data[key]
        if isinstance(value, list):
            if len(value) != 2:
                self.fail(self.path + (key,), f"expected an integer or [height, width], got a list of {len(value)}")
            h, w = (self._int(key, v, (key, i), 1, hi) for i, v in enumerate(value))
            return (h, w)
        v = self._int(key, value, (key,), 1, hi)
        return (v, v)

    def bool(self, key: str, default=None) -> bool | None:
        if key not in self.data:
            return default
        value = self.data[key]
        if not isinstance(value, bool):
            self.fail(self.path + (key,), f"expected true or false, got {describe(value)}")
        return value

    def choice(self, key: str, choices: tuple[str, ...], default=None) -> str | None:
        if key not in self.data:
            return default
        value = self.data[key]
        if value not in choices or not isinstance(value, str):
            hint = did_you_mean(value, choices) if isinstance(value, str) else None
            more = f" (did you mean {hint!r}?)" if hint else ""
            self.fail(self.path + (key,), f"expected one of {', '.join(choices)}, got {describe(value)}{more}")
        return value

    def str(self, key: str, default=None) -> str | None:
        if key not in self.data:
            return default
        value = self.data[key]
        if not isinstance(value, str) or not value.strip():
            self.fail(self.path + (key,), f"expected a non-empty string, got {describe(value)}")
        return value


def _get(data, path):
    for p in path:
        data = data[p]
    return data


# --- the row kinds ----------------------------------------------------------------------------
#
# Each kind lists the keys it accepts; the common ones come first. Adding a layer kind means
# adding it here, in expand.py (how it becomes layers) and, if it is a new primitive, core/ops.py.

_COMMON = ("kind", "name", "n", "act")
ROW_KEYS: dict[str, tuple[str, ...]] = {
    "conv": _COMMON + ("c", "k", "s", "groups", "padding", "bn", "bias", "scale"),
    "dwconv": _COMMON + ("k", "s", "padding", "bn", "bias"),
    "pwconv": _COMMON + ("c", "bn", "bias", "scale"),
    "separable": _COMMON + ("c", "k", "s", "padding", "bn", "scale"),
    "bottleneck": _COMMON + ("t", "c", "k", "s", "bn", "scale"),
    "pool": ("kind", "name", "n", "op", "k", "s", "global", "padding"),
    "fc": ("kind", "name", "n", "act", "c", "bias", "bn"),
    "add": ("kind", "name", "from"),
}
KINDS = tuple(ROW_KEYS)


def _row(doc: Document, i: int) -> Row:
    path = ("layers", i)
    item = doc.data["layers"][i]
    label = f"layers[{i}]"
    if not isinstance(item, dict):
        raise SpecError(f"expected a mapping like {{kind: conv, c: 32, k: 3, s: 2}}, got {describe(item)}",
                        field=label, where=doc.where(path))
    if "kind" not in item:
        raise SpecError(f"missing 'kind' (one of {', '.join(KINDS)})", field=label, where=doc.where(path))
    kind = item["kind"]
    if not isinstance(kind, str) or kind not in ROW_KEYS:
        hint = did_you_mean(kind, KINDS) if isinstance(kind, str) else None
        more = f"; did you mean {hint!r}?" if hint else f"; expected one of {', '.join(KINDS)}"
        raise SpecError(f"unknown layer kind {describe(kind)}{more}", field=f"{label}.kind",
                        where=doc.where(path + ("kind",)))
    f = _Fields(doc, path, label, ROW_KEYS[kind])
    kw: dict[str, Any] = {"kind": kind, "index": i, "name": f.str("name"),
                          "n": f.int("n", 1, hi=MAX_REPEAT)}
    if "act" in ROW_KEYS[kind]:
        kw["act"] = f.choice("act", ACTIVATIONS)
    for key in ("bn", "bias"):
        if key in ROW_KEYS[kind]:
            kw[key] = f.bool(key)
    if "scale" in ROW_KEYS[kind]:
        scale = f.data.get("scale", True)  # not a dict key yet: it may be a list, or 1 (== True)
        kw["scale"] = {True: "always", False: "never", "up": "up"}.get(scale) \
            if isinstance(scale, bool) or scale == "up" else None
        if kw["scale"] is None:
            f.fail(path + ("scale",), f"expected true, false or up, got {describe(f.data['scale'])}")
    if "padding" in ROW_KEYS[kind]:
        kw["padding"] = f.choice("padding", ("same", "valid"), "same")
    if "k" in ROW_KEYS[kind]:
        kw["k"] = f.pair("k", (3, 3) if kind in ("dwconv", "separable", "bottleneck") else (1, 1), hi=MAX_KERNEL)
    if "s" in ROW_KEYS[kind]:
        kw["s"] = f.pair("s", kw.get("k", (1, 1)) if kind == "pool" else (1, 1), hi=MAX_KERNEL)
    if "c" in ROW_KEYS[kind]:
        kw["c"] = f.int("c")
        if kw["c"] is None and kind != "fc":
            f.fail(path, "missing 'c' (output channels)")
    if kind == "conv":
        kw["groups"] = f.int("groups", 1)
    if kind == "bottleneck":
        kw["t"] = f.int("t", 1, hi=MAX_EXPANSION)
        if not f.has("t"):
            f.fail(path, "missing 't' (expansion factor)")
    if kind == "pool":
        kw["op"] = f.choice("op", ("avg", "max"), "avg")
        kw["global_"] = f.bool("global", False)
        if not kw["global_"] and not f.has("k"):
            f.fail(path, "a pool needs 'k' (window) or 'global: true'")
    if kind == "add":
        kw["source"] = f.str("from")
        if kw["source"] is None:
            f.fail(path, "missing 'from' (the name of the layer whose output is added)")
    return Row(**kw)


TOP_KEYS = ("name", "title", "input", "classes", "width", "batch_norm", "activation", "layers")


def spec_from_document(doc: Document) -> ArchSpec:
    if not isinstance(doc.data, dict):
        raise SpecError(f"expected a mapping at the top level, got {describe(doc.data)}",
                        where=doc.where(()))
    top = _Fields(doc, (), "", TOP_KEYS)
    if not top.has("input"):
        top.fail((), "missing 'input' (e.g. input: {resolution: 224, channels: 3})")
    inp = _Fields(doc, ("input",), "input", ("resolution", "channels", "scale"))
    if not inp.has("resolution"):
        inp.fail(("input",), "missing 'resolution'")
    width = _Fields(doc, ("width",), "width", ("rule", "min", "divisor")) if top.has("width") else None
    rule = WidthRule()
    if width:
        rule = WidthRule(
            rule=width.choice("rule", ("floor", "make_divisible"), "floor"),
            min=width.int("min", 8),
            divisor=width.int("divisor", 8),
        )
    layers = doc.data.get("layers")
    if not isinstance(layers, list) or not layers:
        top.fail(("layers",), "expected a non-empty list of layer rows"
                 if "layers" in doc.data else "missing 'layers' (the list of layer rows)")
    return ArchSpec(
        name=top.str("name", Path(doc.source).stem),
        title=top.str("title", ""),
        source=doc.source,
        resolution=inp.pair("resolution", (224, 224), hi=MAX_RESOLUTION),
        in_channels=inp.int("channels", 3),
        scale_input=bool(inp.bool("scale", False)),
        classes=top.int("classes", None),
        width=rule,
        batch_norm=bool(top.bool("batch_norm", False)),
        activation=top.choice("activation", ACTIVATIONS, "relu"),
        rows=tuple(_row(doc, i) for i in range(len(layers))),
        document=doc,
    )


# Readers of model files that are not architecture YAML, by extension: path → ArchSpec. Core
# cannot import them (they need optional packages); mbcost.api registers them.
READERS: dict[str, Callable[[Path], ArchSpec]] = {}


def load_spec(arch: str | Path) -> ArchSpec:
    """Load an architecture by built-in name (``mobilenet_v2``) or by path."""
    path = resolve_arch(arch)
    if path.suffix.lower() in READERS:
        return READERS[path.suffix.lower()](path)
    source = str(arch) if not isinstance(arch, Path) else str(path)
    return spec_from_document(parse(read_text(path), source))


def builtin_dir() -> Path:
    """Where the built-in architectures are installed. mbcost ships as plain files (never a
    zip), so the package's folder is enough — and importlib.resources costs ~8 ms a start."""
    from .. import configs

    return Path(configs.__file__).parent


def builtin_names() -> list[str]:
    return sorted(p.stem for p in builtin_dir().glob("*.yaml"))


def resolve_arch(arch: str | Path) -> Path:
    """A path that exists wins; otherwise a built-in name; otherwise a clear error."""
    p = Path(arch)
    if p.exists() or isinstance(arch, Path) or p.suffix in (".yaml", ".yml", *READERS) or "/" in str(arch):
        return p
    candidate = builtin_dir() / f"{arch}.yaml"
    if candidate.is_file():
        return candidate
    names = builtin_names()
    hint = did_you_mean(str(arch), names)
    more = f"; did you mean {hint!r}?" if hint else ""
    raise SpecError(f"unknown architecture {str(arch)!r}: not a file and not a built-in "
                    f"({', '.join(names)}){more}")
