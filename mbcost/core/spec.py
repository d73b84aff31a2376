"""The architecture file, as written: rows that read like the papers' tables.

``load_spec`` validates a YAML document into an :class:`ArchSpec` — a list of
:class:`Row` records, still compact (a bottleneck row with n = 4 is one row).
Nothing here knows α, ρ or costs; :mod:`mbcost.core.expand` turns rows into layers.
The format is documented in docs/format.md.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from fractions import Fraction
from pathlib import Path
from typing import Any, Callable

from ..errors import SpecError, Where
from .yamlio import Document, Outline, describe, field_path, parse, read_text

Pair = tuple[int, int]  # (height, width) of a kernel, stride or map

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
        # exact: α = p/q is the decimal the user typed, not its binary float; v = c·p/q, in
        # integers (a sweep applies this for every α, and Fraction arithmetic was most of it)
        p, q = alpha.numerator, alpha.denominator
        if self.rule == "floor":
            return max(c * p // q, self.min)
        d = self.divisor
        n = max(self.min, (2 * c * p + d * q) // (2 * q) // d * d)  # ⌊v + d/2⌋, down to a multiple of d
        if 10 * n * q < 9 * c * p:  # n < 0.9·v: rounding lost more than 10%
            n += d
        return n

    def round(self, v: Fraction) -> int:
        """An exact channel count v (an expansion t·M) rounded by the rule, even at α = 1, as
        TF-slim's expand_input_by_factor and torchvision's adjust_channels do."""
        if self.rule == "floor":
            return max(math.floor(v), 1)
        return make_divisible(v, self.divisor, self.min)


def make_divisible(v: Fraction, divisor: int, minimum: int | None = None) -> int:
    """torchvision's _make_divisible: the nearest multiple of ``divisor`` (at least ``minimum``,
    by default the divisor), bumped up one divisor if rounding lost more than 10%."""
    n = max(minimum or divisor, math.floor(v + Fraction(divisor, 2)) // divisor * divisor)
    return n + divisor if n < Fraction(9, 10) * v else n


@dataclass(frozen=True)
class Row:
    """One row of the architecture table, validated but not yet expanded.

    Field names follow the papers: c output channels, k kernel (D_K), s stride, d dilation,
    n repeats, t expansion factor (MobileNetV2; any positive number for mbconv), exp an
    absolute expansion width (MobileNetV3's "exp size").
    """

    kind: str
    index: int  # position among the architecture's rows (blocks instantiated), for messages
    name: str | None = None
    inputs: tuple[str, ...] | None = None  # ``from``: None is the previous row's output
    c: int | None = None
    to_classes: bool = False  # ``c: classes``: the class count (the file's, or --classes)
    k: Pair = (1, 1)
    s: Pair = (1, 1)
    d: Pair = (1, 1)
    n: int = 1
    stage: bool = False  # the row states n: --depth scales its repeats
    t: Fraction = Fraction(1)
    exp: int | None = None
    groups: int = 1
    multiplier: int = 1
    padding: str | Pair = "same"
    output_padding: Pair = (0, 0)
    act: str | None = None
    bn: bool | None = None
    bias: bool | None = None
    scale: str = "always"  # always | up (only when α > 1) | never
    op: str = "avg"
    global_: bool = False
    ceil: bool = False
    sizes: tuple[int, ...] = ()
    up: int | None = None
    size: Pair | None = None
    mode: str = "nearest"
    se: Fraction | None = None  # squeeze-excite ratio
    se_base: str = "exp"  # exp | in: the channels the ratio is of
    se_divisor: int = 8
    se_act: str = "relu"
    se_gate: str = "hsigmoid"
    path: tuple = ()  # where the row is in the document
    label: str = ""  # how messages name it: layers[3], or blocks.fire.rows[1] (in layers[3])
    enter: tuple | None = None  # (name of a block instance's input, its from) — bound first
    exit: tuple[str, ...] = ()  # names that refer to this row's output once it is done
    scope: str | None = None  # the block instance a row belongs to: its auto names are scoped


@dataclass(frozen=True)
class BlockDef:
    """A user-defined composite kind: parameters and a template of rows (``blocks:``)."""

    name: str
    params: tuple[str, ...]
    rows: tuple[tuple, ...]  # document paths of the template rows


@dataclass(frozen=True)
class BlockCall:
    """A row that uses a block: its instance name, wiring, repeats and parameter values."""

    kind: str
    index: int
    name: str | None
    inputs: tuple[str, ...] | None
    n: int
    stage: bool
    args: dict
    path: tuple
    label: str


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
    rows: tuple  # Row and BlockCall, as written (blocks not yet instantiated)
    title: str = ""
    bias: bool | None = None  # the default bias of conv rows (None: none but the classifier)
    params: dict = field(default_factory=dict)
    blocks: dict = field(default_factory=dict)
    outputs: tuple[str, ...] = ()
    alpha: Fraction | None = None  # a variant's width, depth and resolution are the defaults
    depth: Fraction | None = None
    variant: str | None = None
    variants: tuple[str, ...] = ()
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

    def __init__(self, doc: Document, path: tuple, label: str, allowed: tuple[str, ...],
                 env: dict | None = None):
        self.doc, self.path, self.label, self.env = doc, path, label, env
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

    def _expr(self, value, sub, what: str = "a number") -> Fraction:
        from .expr import ExprError, evaluate

        try:
            return evaluate(value, self.env or {})
        except ExprError as exc:
            self.fail(self.path + sub, f"expected {what}, got {describe(value)} ({exc})")

    def _int(self, key, value, sub, lo, hi) -> int:
        given = value  # 1e300 is reported as written, not as its 301 digits
        if isinstance(value, str) and self.env is not None:  # arithmetic over params: "4*w"
            v = self._expr(value, sub, "a positive integer" if lo == 1 else f"an integer ≥ {lo}")
            if v.denominator != 1:
                self.fail(self.path + sub, f"expected an integer, got {value!r} = {v}")
            value = int(v)
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

    def pair(self, key: str, default: Pair, *, hi: int, lo: int = 1) -> Pair:
        """A square size (``3``) or a [height, width] pair (``[1, 7]``)."""
        if key not in self.data:
            return default
        value = self.data[key]
        if isinstance(value, list):
            if len(value) != 2:
                self.fail(self.path + (key,), f"expected an integer or [height, width], got a list of {len(value)}")
            h, w = (self._int(key, v, (key, i), lo, hi) for i, v in enumerate(value))
            return (h, w)
        v = self._int(key, value, (key,), lo, hi)
        return (v, v)

    def number(self, key: str, default=None, *, hi: int = MAX_EXPANSION, zero: bool = False) -> Fraction | None:
        """A positive exact number: 6, 4.5, or arithmetic such as "72/24" (0 too with ``zero``)."""
        if key not in self.data:
            return default
        value = self.data[key]
        if isinstance(value, str) and self.env is not None:
            v = self._expr(value, (key,), "a positive number")
        elif isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
            v = Fraction(repr(value)) if isinstance(value, float) else Fraction(value)
        else:
            self.fail(self.path + (key,), f"expected a positive number, got {describe(value)}")
        if not (0 <= v if zero else 0 < v) or v > hi:
            self.fail(self.path + (key,), f"expected a number {'≥' if zero else '>'} 0 and ≤ {hi}, "
                                          f"got {describe(value)}")
        return v

    def ints(self, key: str, *, hi: int = MAX_CHANNELS) -> tuple[int, ...] | None:
        if key not in self.data:
            return None
        value = self.data[key]
        if not isinstance(value, list) or not value:
            self.fail(self.path + (key,), f"expected a non-empty list of integers, got {describe(value)}")
        return tuple(self._int(key, v, (key, i), 1, hi) for i, v in enumerate(value))

    def names(self, key: str) -> tuple[str, ...] | None:
        """``from``: one name or a list of names."""
        if key not in self.data:
            return None
        value = self.data[key]
        items = value if isinstance(value, list) else [value]
        if not items:
            self.fail(self.path + (key,), "expected a layer name or a list of them, got an empty list")
        for i, item in enumerate(items):
            if not isinstance(item, str) or not item.strip():
                sub = (key, i) if isinstance(value, list) else (key,)
                self.fail(self.path + sub, f"expected a layer name, got {describe(item)}")
        return tuple(items)

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

ACTIVATIONS = ("relu", "relu6", "linear", "hswish", "hsigmoid", "sigmoid", "swish", "gelu", "tanh",
               "leaky_relu")
_COMMON = ("kind", "name", "from", "n", "act")
_CONV = ("c", "k", "s", "d", "groups", "padding", "bn", "bias", "scale")
_SE = ("se", "se_base", "se_divisor", "se_act", "se_gate")
ROW_KEYS: dict[str, tuple[str, ...]] = {
    "conv": _COMMON + _CONV,
    "dwconv": _COMMON + ("k", "s", "d", "padding", "multiplier", "bn", "bias"),
    "pwconv": _COMMON + ("c", "bn", "bias", "scale"),
    "deconv": _COMMON + _CONV + ("output_padding",),
    "separable": _COMMON + ("c", "k", "s", "padding", "bn", "scale"),
    "bottleneck": _COMMON + ("t", "c", "k", "s", "bn", "scale"),
    "mbconv": _COMMON + ("t", "exp", "c", "k", "s", "bn", "scale") + _SE,
    "se": ("kind", "name", "from", "n", "act", "se", "se_divisor", "se_gate"),
    "pool": ("kind", "name", "from", "n", "op", "k", "s", "global", "padding", "ceil"),
    "fc": _COMMON + ("c", "bias", "bn"),
    "add": ("kind", "name", "from", "act"),
    "concat": ("kind", "name", "from"),
    "mul": ("kind", "name", "from"),
    "split": ("kind", "name", "from", "sizes"),
    "shuffle": ("kind", "name", "from", "groups"),
    "upsample": ("kind", "name", "from", "scale", "size", "mode"),
    "act": ("kind", "name", "from", "act"),
    "flatten": ("kind", "name", "from"),
    "dropout": ("kind", "name", "from", "p"),
}
KINDS = tuple(ROW_KEYS)
# how many inputs a kind takes from ``from`` (None: any number ≥ 2)
_ARITY = {"add": None, "concat": None, "mul": 2}


def _row(doc: Document, path: tuple, label: str, index: int, env: dict, blocks: dict) -> Row | BlockCall:
    item = _get(doc.data, path)
    if not isinstance(item, dict):
        raise SpecError(f"expected a mapping like {{kind: conv, c: 32, k: 3, s: 2}}, got {describe(item)}",
                        field=label, where=doc.where(path))
    kinds = KINDS + tuple(blocks)
    if "kind" not in item:
        raise SpecError(f"missing 'kind' (one of {', '.join(kinds)})", field=label, where=doc.where(path))
    kind = item["kind"]
    if not isinstance(kind, str) or kind not in kinds:
        hint = did_you_mean(kind, kinds) if isinstance(kind, str) else None
        more = f"; did you mean {hint!r}?" if hint else f"; expected one of {', '.join(kinds)}"
        raise SpecError(f"unknown layer kind {describe(kind)}{more}", field=f"{label}.kind",
                        where=doc.where(path + ("kind",)))
    if kind in blocks:
        return _block_call(doc, path, label, index, env, blocks[kind])
    keys = ROW_KEYS[kind]
    f = _Fields(doc, path, label, keys, env)
    kw: dict[str, Any] = {"kind": kind, "index": index, "name": f.str("name"), "path": path, "label": label,
                          "n": f.int("n", 1, hi=MAX_REPEAT), "stage": f.has("n"), "inputs": f.names("from")}
    if kw["name"] in ("input", "in"):
        f.fail(path + ("name",), f"{kw['name']!r} is reserved for the network's (or a block's) input")
    if "act" in keys:
        kw["act"] = f.choice("act", ACTIVATIONS)
    for key in ("bn", "bias"):
        if key in keys:
            kw[key] = f.bool(key)
    if "scale" in keys and kind != "upsample":
        scale = f.data.get("scale", True)  # not a dict key yet: it may be a list, or 1 (== True)
        kw["scale"] = {True: "always", False: "never", "up": "up"}.get(scale) \
            if isinstance(scale, bool) or scale == "up" else None
        if kw["scale"] is None:
            f.fail(path + ("scale",), f"expected true, false or up, got {describe(f.data['scale'])}")
    if "padding" in keys:
        value = f.data.get("padding", 0 if kind == "deconv" else "same")
        if isinstance(value, str) and value in ("same", "valid") and kind != "deconv":
            kw["padding"] = value
        elif isinstance(value, str) and value.isidentifier() and value not in env and kind != "deconv":
            f.choice("padding", ("same", "valid"))  # a typo of same/valid, said as such
        elif kind == "deconv" and isinstance(value, str) and value.isidentifier() and value not in env:
            f.fail(path + ("padding",), f"a transposed conv takes integer padding (PyTorch's), got {describe(value)}")
        elif isinstance(value, (int, list, str)) and not isinstance(value, bool) and value not in ("same", "valid"):
            kw["padding"] = f.pair("padding", (0, 0), hi=MAX_KERNEL, lo=0)
        else:
            f.fail(path + ("padding",), "expected same, valid, an integer or [h, w]"
                   + (" (a transposed conv takes integer padding)" if kind == "deconv" else "")
                   + f", got {describe(value)}")
    if "k" in keys:
        kw["k"] = f.pair("k", (3, 3) if kind in ("dwconv", "separable", "bottleneck", "mbconv") else (1, 1),
                         hi=MAX_KERNEL)
    if "s" in keys:
        kw["s"] = f.pair("s", kw.get("k", (1, 1)) if kind == "pool" else (1, 1), hi=MAX_KERNEL)
    if "d" in keys:
        kw["d"] = f.pair("d", (1, 1), hi=MAX_KERNEL)
    if "output_padding" in keys:
        kw["output_padding"] = f.pair("output_padding", (0, 0), hi=MAX_KERNEL, lo=0)
    if "c" in keys:
        if f.data.get("c") == "classes" and "classes" not in env:  # SqueezeNet's conv classifier
            kw["c"], kw["to_classes"] = None, True
        else:
            kw["c"] = f.int("c")
        if kw["c"] is None and kind != "fc" and not kw.get("to_classes"):
            f.fail(path, "missing 'c' (output channels)")
    if "groups" in keys:
        kw["groups"] = f.int("groups", 2 if kind == "shuffle" else 1)
    if kind == "dwconv":
        kw["multiplier"] = f.int("multiplier", 1, hi=MAX_EXPANSION)
    if kind == "bottleneck":
        kw["t"] = Fraction(f.int("t", 1, hi=MAX_EXPANSION))
        if not f.has("t"):
            f.fail(path, "missing 't' (expansion factor)")
    if kind == "mbconv":
        if f.has("t") == f.has("exp"):
            f.fail(path, "give the expansion as 't' (a factor of the input channels) or 'exp' "
                         "(a width, MobileNetV3's exp size), not " + ("both" if f.has("t") else "neither"))
        kw["t"] = f.number("t", Fraction(1))
        kw["exp"] = f.int("exp")
    if kind in ("mbconv", "se"):
        kw["se"] = f.number("se", None, hi=1)
        if kind == "se" and kw["se"] is None:
            f.fail(path, "missing 'se' (the squeeze ratio, e.g. 0.25)")
        kw["se_base"] = f.choice("se_base", ("exp", "in"), "exp")
        kw["se_divisor"] = f.int("se_divisor", 8 if kind == "mbconv" else 1)
        kw["se_act"] = f.choice("se_act", ACTIVATIONS, "relu")
        kw["se_gate"] = f.choice("se_gate", ACTIVATIONS, "hsigmoid" if kind == "mbconv" else "sigmoid")
        if kind == "se":
            kw["se_act"] = kw["act"] or "relu"
    if kind == "pool":
        kw["op"] = f.choice("op", ("avg", "max"), "avg")
        kw["global_"] = f.bool("global", False)
        kw["ceil"] = bool(f.bool("ceil", False))
        if not kw["global_"] and not f.has("k"):
            f.fail(path, "a pool needs 'k' (window) or 'global: true'")
    if kind == "split":
        kw["sizes"] = f.ints("sizes")
        if kw["sizes"] is None or len(kw["sizes"]) < 2:
            f.fail(path, "a split needs 'sizes', the channels of each of two or more parts")
    if kind == "upsample":
        if f.has("scale") == f.has("size"):
            f.fail(path, "give an upsample either 'scale' (an integer factor) or 'size' (H or [H, W])")
        kw["up"] = f.int("scale", None, hi=MAX_KERNEL)
        kw["size"] = f.pair("size", None, hi=MAX_RESOLUTION)
        kw["mode"] = f.choice("mode", ("nearest", "bilinear"), "nearest")
    if kind == "act" and kw["act"] is None:
        f.fail(path, f"missing 'act' (one of {', '.join(ACTIVATIONS)})")
    if kind == "dropout" and f.has("p"):
        p = f.data["p"]
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p < 1:
            f.fail(path + ("p",), f"expected a probability from 0 to below 1, got {describe(p)}")
    if kind in _ARITY:
        ins = kw["inputs"]
        if ins is None:
            f.fail(path, f"missing 'from' (the layers whose outputs {kind} joins)")
        if kind == "add" and len(ins) == 1:  # mbcost 0.1's form: the previous row + from
            pass
        elif _ARITY[kind] is None and len(ins) < 2:
            f.fail(path + ("from",), f"expected a list of two or more layer names, got {len(ins)}")
        elif _ARITY[kind] and len(ins) != _ARITY[kind]:
            f.fail(path + ("from",), f"expected [x, gate], got {describe(f.data['from'])}")
    elif kw["inputs"] is not None and len(kw["inputs"]) != 1:
        f.fail(path + ("from",), f"{kind} takes one input, got {len(kw['inputs'])}")
    return Row(**kw)


def _block_call(doc, path, label, index, env, block: BlockDef) -> BlockCall:
    f = _Fields(doc, path, label, ("kind", "name", "from", "n") + block.params, env)
    args = {}
    for p in block.params:
        if not f.has(p):
            f.fail(path, f"missing {p!r} (block {block.name} takes {', '.join(block.params)})")
        args[p] = f.number(p, hi=MAX_CHANNELS)
    name = f.str("name")
    if name in ("input", "in"):
        f.fail(path + ("name",), f"{name!r} is reserved for the network's (or a block's) input")
    inputs = f.names("from")
    if inputs is not None and len(inputs) != 1:
        f.fail(path + ("from",), f"a block takes one input, got {len(inputs)}")
    return BlockCall(block.name, index, name, inputs, f.int("n", 1, hi=MAX_REPEAT), f.has("n"), args,
                     path, label)


def _blocks(doc: Document) -> dict[str, BlockDef]:
    raw = doc.data.get("blocks")
    if raw is None:
        return {}
    if not isinstance(raw, dict) or not raw:
        raise SpecError(f"expected a mapping of block names to {{params, rows}}, got {describe(raw)}",
                        field="blocks", where=doc.where(("blocks",)))
    out = {}
    for name in raw:
        f = _Fields(doc, ("blocks", name), f"blocks.{name}", ("params", "rows"))
        if name in KINDS or name in ("input", "in"):
            f.fail(("blocks", name), f"a block cannot be named {name!r}, a built-in kind", key=True)
        params = f.data.get("params", [])
        if not isinstance(params, list) or not all(isinstance(p, str) and p.isidentifier() for p in params):
            f.fail(("blocks", name, "params"), f"expected a list of parameter names, got {describe(params)}")
        rows = f.data.get("rows")
        if not isinstance(rows, list) or not rows:
            f.fail(("blocks", name), "expected 'rows', a non-empty list of layer rows")
        out[name] = BlockDef(name, tuple(params), tuple(("blocks", name, "rows", j) for j in range(len(rows))))
    return out


def instantiate(spec: ArchSpec, depth: Fraction = Fraction(1)) -> list[Row]:
    """The rows with every block call replaced by its template rows, names scoped to the
    instance (``fire2.squeeze``) and repeats scaled by the depth multiplier (⌈n·d⌉ for rows
    that state n, as EfficientNet's compound scaling does)."""
    out: list[Row] = []
    counters: dict[str, int] = {}
    for row in spec.rows:
        if isinstance(row, Row):
            out.append(replace(row, n=repeats(row, depth), index=len(out)))
            continue
        n = repeats(row, depth)
        for j in range(n):
            if row.name:
                inst = row.name if n == 1 else f"{row.name}.{j + 1}"
            else:
                counters[row.kind] = counters.get(row.kind, 0) + 1
                inst = f"{row.kind}{counters[row.kind]}"
            source = row.inputs if j == 0 else None  # later repeats read the previous instance
            _instance(spec, row, inst, source, depth, out)
            exits = (inst,) + ((row.name,) if row.name and j == n - 1 and n > 1 else ())
            out[-1] = replace(out[-1], exit=out[-1].exit + exits)
        if len(out) > MAX_ROWS:
            raise SpecError(f"blocks expand to more than {MAX_ROWS} rows", field=f"{row.label}.n",
                            where=spec.document.where(row.path + ("n",)))
    return out


MAX_ROWS = 100_000


def _instance(spec: ArchSpec, call: BlockCall, inst: str, source, depth, out: list[Row]) -> None:
    block = spec.blocks[call.kind]
    env = {**spec.params, **call.args}
    inner = {_get(spec.document.data, p).get("name") for p in block.rows
             if isinstance(_get(spec.document.data, p), dict)}
    for j, path in enumerate(block.rows):
        label = f"blocks.{block.name}.rows[{j}] (in {call.label})"
        row = _row(spec.document, path, label, len(out), env, {})
        if isinstance(row, BlockCall):  # _row was given no blocks, so this cannot happen
            raise AssertionError(row)

        def scoped(name: str) -> str:
            if name == "in":
                return f"{inst}.in"
            base = name.split(".")[0]
            return f"{inst}.{name}" if base in inner else name

        row = replace(row, name=f"{inst}.{row.name}" if row.name else None,
                      inputs=tuple(scoped(x) for x in row.inputs) if row.inputs else None,
                      n=repeats(row, depth), index=len(out), scope=inst,
                      enter=(f"{inst}.in", source) if j == 0 else None)
        out.append(row)


def repeats(row, depth: Fraction) -> int:
    return math.ceil(row.n * depth) if row.stage and depth != 1 else row.n


TOP_KEYS = ("name", "title", "input", "classes", "width", "batch_norm", "activation", "bias", "params",
            "variants", "blocks", "layers", "outputs")
VARIANT_KEYS = ("alpha", "depth", "resolution", "params", "title", "batch_norm", "activation", "bias",
                "classes")


def _params(doc: Document, path: tuple, label: str) -> dict[str, Fraction]:
    f = _Fields(doc, path, label, tuple(_get(doc.data, path)) if isinstance(_get(doc.data, path), dict) else ())
    out = {}
    for key in f.data:
        if not str(key).isidentifier():
            f.fail(path + (key,), f"a parameter name must be a plain name, got {key!r}", key=True)
        out[key] = f.number(key, hi=MAX_CHANNELS, zero=True)  # 0 is a padding (AlexNet's conv1)
    return out


def _variant_params(doc: Document, name, params: dict) -> dict[str, Fraction]:
    """A variant's keys checked, and the params it sets (each must be one of the file's)."""
    v = _Fields(doc, ("variants", name), f"variants.{name}", VARIANT_KEYS)
    if not v.has("params"):
        return {}
    extra = _params(doc, ("variants", name, "params"), f"variants.{name}.params")
    unknown = [k for k in extra if k not in params]
    if unknown and params:
        v.fail(("variants", name, "params", unknown[0]),
               f"unknown parameter {unknown[0]!r}; the file's params are {', '.join(params)}", key=True)
    return extra


def recognise_file(what: str, expected: str, keys: tuple[str, ...]) -> Callable[[Outline, str], None]:
    """A :func:`~mbcost.core.yamlio.parse` recogniser: the file must be a mapping with one of
    ``keys`` (or a near miss of one, such as 'Layers'), else it is named, never quoted — not
    its text, not its keys (issue 17)."""
    def recognise(outline: Outline, source: str) -> None:
        if outline.kind == "a mapping" and any(k in keys or did_you_mean(k, keys) for k in outline.keys):
            return
        got = "a mapping with none of those keys" if outline.kind == "a mapping" else outline.kind
        raise SpecError(f"not {what}: expected {expected}, got {got}; the file's contents are not shown",
                        where=Where(source))  # the whole file: no line to point at
    return recognise


# Any path can be given as ARCH, to diff, --baseline or a budgets entry, and a message may end
# up in a public CI log: a file that is not an architecture at all (secret.env, a key file) is
# refused from its outline, before a value, a tag or a key of it could be quoted.
recognise_architecture = recognise_file(
    "an architecture", "a YAML mapping with 'input' and 'layers' (docs/format.md)", TOP_KEYS)


def spec_from_document(doc: Document, variant: str | None = None) -> ArchSpec:
    recognise_architecture(Outline.of(doc.data), doc.source)
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
    params = _params(doc, ("params",), "params") if top.has("params") else {}
    variants = doc.data.get("variants") or {}
    if top.has("variants") and (not isinstance(variants, dict) or not variants):
        top.fail(("variants",), f"expected a mapping of variant names to settings, got {describe(variants)}")
    chosen = top  # where a variant's overrides are read from
    settings: dict[str, Any] = {}
    overrides = {name: _variant_params(doc, name, params) for name in variants}  # every one checked
    if variant is not None:
        if variant not in variants:
            hint = did_you_mean(variant, [str(v) for v in variants])
            more = f"; did you mean {hint!r}?" if hint else ""
            raise SpecError(f"no variant {variant!r}; the file has "
                            f"{', '.join(map(str, variants)) or 'none'}{more}", field="variant",
                            where=doc.where(("variants",)) if variants else Where(doc.source))
        v = _Fields(doc, ("variants", variant), f"variants.{variant}", VARIANT_KEYS)
        chosen = v
        settings = {"alpha": v.number("alpha", None, hi=64), "depth": v.number("depth", None, hi=64),
                    "resolution": v.pair("resolution", None, hi=MAX_RESOLUTION)}
        params = {**params, **overrides[variant]}

    def pick(key, getter):
        return getter(chosen, key) if chosen is not top and chosen.has(key) else getter(top, key)

    blocks = _blocks(doc)
    rows = tuple(_row(doc, ("layers", i), f"layers[{i}]", i, params, blocks) for i in range(len(layers)))
    outputs = doc.data.get("outputs")
    if outputs is not None:
        if not isinstance(outputs, list) or not outputs or not all(isinstance(o, str) for o in outputs):
            top.fail(("outputs",), f"expected a list of layer names, got {describe(outputs)}")
    return ArchSpec(
        name=variant_name(top.str("name", Path(doc.source).stem), variant),
        title=pick("title", lambda f, k: f.str(k, "")),
        source=doc.source,
        resolution=settings.get("resolution") or inp.pair("resolution", (224, 224), hi=MAX_RESOLUTION),
        in_channels=inp.int("channels", 3),
        scale_input=bool(inp.bool("scale", False)),
        classes=pick("classes", lambda f, k: f.int(k, None)),
        width=rule,
        batch_norm=bool(pick("batch_norm", lambda f, k: f.bool(k, False))),
        activation=pick("activation", lambda f, k: f.choice(k, ACTIVATIONS, "relu")),
        bias=pick("bias", lambda f, k: f.bool(k, None)),
        rows=rows,
        params=params,
        blocks=blocks,
        outputs=tuple(outputs or ()),
        alpha=settings.get("alpha"),
        depth=settings.get("depth"),
        variant=variant,
        variants=tuple(map(str, variants)),
        document=doc,
    )


# Readers of model files that are not architecture YAML, by extension: path → ArchSpec. Core
# cannot import them (they need optional packages); mbcost.api registers them.
READERS: dict[str, Callable[[Path], ArchSpec]] = {}


def load_spec(arch: str | Path, variant: str | None = None) -> ArchSpec:
    """Load an architecture by built-in name (``mobilenet_v2``, ``efficientnet_b3`` — a file's
    variant), by path, or as ``path@variant``."""
    path, named = resolve_arch(arch)
    if path.suffix.lower() in READERS:
        return READERS[path.suffix.lower()](path)
    source = str(arch) if not isinstance(arch, Path) else str(path)
    if named is not None:
        source = str(arch).rsplit("@", 1)[0] if "@" in str(arch) else source
    return spec_from_document(parse(read_text(path), source, recognise_architecture),
                              variant if variant is not None else named)


def builtin_dir() -> Path:
    """Where the built-in architectures are installed. mbcost ships as plain files (never a
    zip), so the package's folder is enough — and importlib.resources costs ~8 ms a start."""
    try:
        from .. import configs
    except ImportError:  # run from a source checkout without installing: configs/ is beside it
        return Path(__file__).resolve().parents[2] / "configs"
    return Path(configs.__file__).parent


def builtin_names() -> list[str]:
    return sorted(p.stem for p in builtin_dir().glob("*.yaml"))


def _variants_of(path: Path) -> tuple[str, ...]:
    data = parse(read_text(path), str(path)).data
    variants = data.get("variants") if isinstance(data, dict) else None
    return tuple(map(str, variants)) if isinstance(variants, dict) else ()


def variant_name(stem: str, variant: str | None) -> str:
    """A variant's built-in name: efficientnet + b3 → efficientnet_b3, but mnasnet + 1_0 →
    mnasnet1_0 (torchvision's names: no underscore between a word and a width)."""
    if variant is None:
        return stem
    return f"{stem}{variant}" if stem[-1:].isalpha() and variant[:1].isdigit() else f"{stem}_{variant}"


def builtin_variants() -> list[str]:
    """Every built-in name: each file, and each file's variants as file_variant."""
    out = []
    for p in sorted(builtin_dir().glob("*.yaml")):
        out.append(p.stem)
        out += [variant_name(p.stem, v) for v in _variants_of(p)]
    return out


def resolve_arch(arch: str | Path) -> tuple[Path, str | None]:
    """(file, variant). A path that exists wins; ``file@variant`` names a variant; a built-in
    name may be a file (``mobilenet_v2``) or a file's variant (``efficientnet_b3`` is
    efficientnet.yaml, variant b3); otherwise a clear error."""
    text = str(arch)
    p = Path(arch)
    if not isinstance(arch, Path) and "@" in text and not p.exists():
        base, variant = text.rsplit("@", 1)
        return resolve_arch(base)[0], variant
    if p.exists() or isinstance(arch, Path) or p.suffix in (".yaml", ".yml", *READERS) or "/" in text:
        return p, None
    candidate = builtin_dir() / f"{text}.yaml"
    if candidate.is_file():
        return candidate, None
    for i in range(len(text) - 1, 0, -1):  # the longest file name first: shufflenet_v2 + x0_5
        base, variant = builtin_dir() / f"{text[:i]}.yaml", text[i:].lstrip("_")
        if variant and base.is_file() and variant in _variants_of(base):  # mnasnet1_0: mnasnet, 1_0
            return base, variant
    names = builtin_names()
    hint = did_you_mean(text, names)
    more = f"; did you mean {hint!r}?" if hint else ""
    raise SpecError(f"unknown architecture {text!r}: not a file and not a built-in "
                    f"({', '.join(names)}){more}")
