"""The architecture file, as written: rows that read like the papers' tables.

``load_spec`` validates a YAML document into an :class:`ArchSpec` — its settings, its
``params`` and ``variants``, its ``blocks`` (:mod:`mbcost.core.blocks`) and its rows, each read
by its kind's own reader (:mod:`mbcost.core.rows`, :mod:`mbcost.core.kinds`) and still compact
(a bottleneck row with n = 4 is one row). Nothing here knows α, ρ or costs;
:mod:`mbcost.core.expand` turns rows into layers. Built-in names and paths are resolved by
:mod:`mbcost.core.locate`. The format is documented in docs/format.md.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from fractions import Fraction
from pathlib import Path
from typing import Any, Callable

from ..errors import SpecError, UsageError, Where
from .blocks import read_blocks
from .fields import MAX_CHANNELS, MAX_RESOLUTION, Fields, Pair, did_you_mean, value_at
from .kind import ACTIVATIONS
from .locate import read_model, read_reference, resolve_arch, variant_name
from .rows import Defaults, read_row
from .width import WidthRule
from .yamlio import Document, Outline, describe, parse, read_text


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
    until: tuple | None = None  # (the backbone's last layer kept, where the file says so)
    output_stride: int | None = None  # the backbone's strides past it become dilation (DeepLab)
    document: Document | None = field(default=None, compare=False, repr=False)
    # how the code it describes calls each op (mbcost.core.peers.Implementation): the file's
    # ``implementation:``, or the code an imported model came from (None: torchvision's usual)
    implementation: Any = None
    # a model read from another format (ONNX) has no rows: its layers are fixed, and
    # expand() asks this for the graph at (α, resolution, classes)
    prebuilt: Callable[..., Any] | None = field(default=None, compare=False, repr=False)
    # an imported model that can be built again at another width (torchvision's width_mult): α →
    # its Graph (None: it cannot), which ``mbcost convert`` reads each layer's width rule from
    rebuild: Callable[..., Any] | None = field(default=None, compare=False, repr=False)
    # an imported PyTorch module's submodules: qualified name → class name (convert's block names)
    module_classes: dict = field(default_factory=dict, compare=False, repr=False)


TOP_KEYS = ("name", "title", "backbone", "input", "classes", "width", "batch_norm", "activation", "bias",
            "params", "variants", "blocks", "layers", "outputs", "implementation")
VARIANT_KEYS = ("alpha", "depth", "resolution", "params", "title", "batch_norm", "activation", "bias",
                "classes", "width", "output_stride", "implementation")


def _params(doc: Document, path: tuple, label: str) -> dict[str, Fraction]:
    f = Fields(doc, path, label, tuple(value_at(doc.data, path)) if isinstance(value_at(doc.data, path), dict) else ())
    out = {}
    for key in f.data:
        if not str(key).isidentifier():
            f.fail(path + (key,), f"a parameter name must be a plain name, got {key!r}", key=True)
        out[key] = f.number(key, hi=MAX_CHANNELS, zero=True)  # 0 is a padding (AlexNet's conv1)
    return out


def _variant_params(doc: Document, name, params: dict, backbone: bool = False) -> dict[str, Fraction]:
    """A variant's keys checked, and the params it sets (each must be one of the file's)."""
    v = Fields(doc, ("variants", name), f"variants.{name}", VARIANT_KEYS)
    if v.has("output_stride"):  # a segmenter's OS 32 model: its backbone's strides as they are
        if not backbone:
            v.fail_key("output_stride", "an output stride is a backbone's: the file has no 'backbone'")
        _output_stride(v)
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


@dataclass(frozen=True)
class Backbone:
    """A file's ``backbone:``: another architecture whose rows (up to ``until``) come first, with
    its blocks, params and settings, so a head reads its feature maps by name."""

    spec: ArchSpec
    rows: tuple  # the rows kept
    output_stride: int | None = None
    until: str | None = None  # the backbone's last layer (or block) kept; its later rows are dropped


OUTPUT_STRIDES = (4, 8, 16, 32)


def _backbone(doc: Document, top: Fields) -> Backbone:
    value = doc.data["backbone"]
    if isinstance(value, str):
        f, name = None, value
    else:
        f = Fields(doc, ("backbone",), "backbone", ("arch", "until", "output_stride"))
        if not f.has("arch"):
            f.fail(("backbone",), "missing 'arch' (a built-in name such as mobilenet_v2, or a path)")
        name = f.text("arch")
    if not isinstance(name, str) or not name.strip():
        top.fail(("backbone",), f"expected a built-in name or a mapping {{arch, until, output_stride}}, "
                                f"got {describe(value)}")
    path = ("backbone", "arch") if f else ("backbone",)
    ref = Path(doc.source).parent / name if name.endswith((".yaml", ".yml")) or "/" in name else name
    try:
        spec = load_spec(ref)
    except SpecError as exc:
        if exc.where.line is None:  # a whole-file error: say which entry named the file
            raise SpecError(exc.message, field="backbone", where=doc.where(path)) from None
        raise
    if spec.document is not None and "backbone" in spec.document.data:
        top.fail(path, f"{name!r} has a backbone of its own; a backbone is one file's rows")
    if spec.prebuilt is not None:
        top.fail(path, f"{name!r} is an imported model; a backbone is an architecture file")
    # the feature extractor: every row before the classifier's global pool — or, with ``until``,
    # up to the layer or block of that name (found as the rows expand: ``block12``, ``conv2``)
    rows = spec.rows
    pools = [i for i, r in enumerate(rows) if r.kind == "pool" and getattr(r.args, "global_", False)]
    rows = tuple(replace(r, part="backbone") for r in (rows[:pools[-1]] if pools else rows))
    until = f.text("until") if f else None
    return Backbone(spec, rows, _output_stride(f) if f else None, until)


def _output_stride(f: Fields) -> int | None:
    stride = f.integer("output_stride", None, hi=1024)
    if stride is not None and stride not in OUTPUT_STRIDES:
        f.fail_key("output_stride", f"expected one of {', '.join(map(str, OUTPUT_STRIDES))}, got {stride}")
    return stride


def _width(doc: Document, path: tuple) -> WidthRule:
    w = Fields(doc, path, ".".join(map(str, path)), ("rule", "min", "divisor"))
    return WidthRule(rule=w.choice("rule", ("floor", "make_divisible"), "floor"), min=w.integer("min", 8),
                     divisor=w.integer("divisor", 8))


def spec_from_document(doc: Document, variant: str | None = None) -> ArchSpec:
    recognise_architecture(Outline.of(doc.data), doc.source)
    top = Fields(doc, (), "", TOP_KEYS)
    backbone = _backbone(doc, top) if top.has("backbone") else None
    base = backbone.spec if backbone else None
    if not top.has("input") and base is None:
        top.fail((), "missing 'input' (e.g. input: {resolution: 224, channels: 3})")
    inp = Fields(doc, ("input",), "input", ("resolution", "channels", "scale")) if top.has("input") else None
    if inp is not None and not inp.has("resolution"):
        inp.fail(("input",), "missing 'resolution'")
    rule = _width(doc, ("width",)) if top.has("width") else (base.width if base else WidthRule())
    layers = doc.data.get("layers")
    if not isinstance(layers, list) or not layers:
        top.fail(("layers",), "expected a non-empty list of layer rows"
                 if "layers" in doc.data else "missing 'layers' (the list of layer rows)")
    params = {**(base.params if base else {}), **(_params(doc, ("params",), "params") if top.has("params") else {})}
    variants = doc.data.get("variants") or {}
    if top.has("variants") and (not isinstance(variants, dict) or not variants):
        top.fail(("variants",), f"expected a mapping of variant names to settings, got {describe(variants)}")
    chosen = top  # where a variant's overrides are read from
    settings: dict[str, Any] = {}
    overrides = {name: _variant_params(doc, name, params, backbone is not None) for name in variants}  # all checked
    if variant is not None:
        if variant not in variants:
            hint = did_you_mean(variant, [str(v) for v in variants])
            more = f"; did you mean {hint!r}?" if hint else ""
            raise SpecError(f"no variant {variant!r}; the file has "
                            f"{', '.join(map(str, variants)) or 'none'}{more}", field="variant",
                            where=doc.where(("variants",)) if variants else Where(doc.source))
        v = Fields(doc, ("variants", variant), f"variants.{variant}", VARIANT_KEYS)
        chosen = v
        settings = {"alpha": v.number("alpha", None, hi=64), "depth": v.number("depth", None, hi=64),
                    "resolution": v.pair("resolution", None, hi=MAX_RESOLUTION)}
        params = {**params, **overrides[variant]}
        if v.has("width"):  # a variant's own width rule (ShuffleNet's groups set its divisor)
            rule = _width(doc, ("variants", variant, "width"))
        if v.has("output_stride"):
            settings["output_stride"] = _output_stride(v)

    inherited = {"batch_norm": base.batch_norm, "activation": base.activation, "bias": base.bias} if base else {}

    def pick(key, getter):
        if chosen is not top and chosen.has(key):
            return getter(chosen, key)
        return inherited[key] if key in inherited and not top.has(key) else getter(top, key)

    blocks = read_blocks(doc)
    if base is not None:
        for name in set(blocks) & set(base.blocks):
            top.fail(("blocks", name), f"block {name!r} is the backbone's too: rename it", key=True)
        blocks = {**base.blocks, **blocks}
    rows = tuple(row for row in (read_row(doc, ("layers", i), f"layers[{i}]", i, params, blocks)
                                 for i in range(len(layers))) if row is not None)
    # every row and block of this file uses this file's settings; a backbone's keep their own
    own = Defaults(bool(pick("batch_norm", lambda f, k: f.boolean(k, False))),
                   pick("activation", lambda f, k: f.choice(k, ACTIVATIONS, "relu")),
                   pick("bias", lambda f, k: f.boolean(k, None)), rule)
    rows = tuple(replace(r, defaults=own) for r in rows)
    blocks = {n: b if b.defaults is not None else replace(b, defaults=own) for n, b in blocks.items()}
    if backbone is not None:
        rows = backbone.rows + rows
    outputs = doc.data.get("outputs")
    if outputs is not None:
        if not isinstance(outputs, list) or not outputs or not all(isinstance(o, str) for o in outputs):
            top.fail(("outputs",), f"expected a list of layer names, got {describe(outputs)}")
    return ArchSpec(
        name=variant_name(top.text("name", Path(doc.source).stem), variant),
        title=pick("title", lambda f, k: f.text(k, "")),
        source=doc.source,
        resolution=settings.get("resolution") or (inp.pair("resolution", (224, 224), hi=MAX_RESOLUTION) if inp
                                                  else base.resolution),
        in_channels=inp.integer("channels", 3) if inp else base.in_channels,
        scale_input=bool(inp.boolean("scale", False)) if inp else base.scale_input,
        classes=pick("classes", lambda f, k: f.integer(k, None)),
        width=rule,
        batch_norm=bool(pick("batch_norm", lambda f, k: f.boolean(k, False))),
        activation=pick("activation", lambda f, k: f.choice(k, ACTIVATIONS, "relu")),
        bias=pick("bias", lambda f, k: f.boolean(k, None)),
        rows=rows,
        params=params,
        blocks=blocks,
        outputs=tuple(outputs or ()),
        alpha=settings.get("alpha"),
        depth=settings.get("depth"),
        variant=variant,
        variants=tuple(map(str, variants)),
        document=doc,
        output_stride=settings.get("output_stride") or (backbone.output_stride if backbone else None),
        until=(backbone.until, doc.where(("backbone", "until"))) if backbone and backbone.until else None,
        implementation=pick("implementation", _implementation),
    )


def _implementation(f: Fields, key: str):
    """``implementation:``, a preset's name or a mapping of op → how (mbcost.core.peers), said
    wrong at its line."""
    if not f.has(key):
        return None
    from .peers import implementation_from

    try:
        return implementation_from(f.data[key])
    except UsageError as exc:  # its field is implementation.OP: point at that entry when there is one
        value, sub = f.data[key], (exc.field or "").split(".", 1)[1:]
        at = (key, sub[0]) if sub and isinstance(value, dict) and sub[0] in value else (key,)
        f.fail(f.path + at, exc.message)


def load_spec(arch: str | Path, variant: str | None = None, *, allow_unknown: bool = False) -> ArchSpec:
    """Load an architecture by built-in name (``mobilenet_v2``, ``efficientnet_b3`` — a file's
    variant), by path, or as ``path@variant``. A model file of another format (``.onnx``) is read
    by its reader, a model a framework builds (``torchvision:NAME``, ``timm:NAME``,
    ``file.py:factory``: :func:`mbcost.core.locate.reference`) by PyTorch's; ``allow_unknown``
    keeps the ops it cannot cost as zero-cost layers, and the result is marked partial."""
    if isinstance(arch, str) and not Path(arch).exists():
        model = read_reference(arch, allow_unknown=allow_unknown)  # torchvision:NAME, timm:NAME, file.py:factory
        if model is not None:
            return model
    path, named = resolve_arch(arch)
    model = read_model(path, allow_unknown=allow_unknown)
    if model is not None:
        return model
    source = str(arch) if not isinstance(arch, Path) else str(path)
    if named is not None:
        source = str(arch).rsplit("@", 1)[0] if "@" in str(arch) else source
    return spec_from_document(parse(read_text(path), source, recognise_architecture),
                              variant if variant is not None else named)


