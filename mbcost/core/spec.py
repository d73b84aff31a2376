"""The architecture file, as written: rows that read like the papers' tables.

``load_spec`` validates a YAML document into an :class:`ArchSpec` — its settings, its
``params`` and ``variants``, its ``blocks`` (:mod:`mbcost.core.blocks`) and its rows, each read
by its kind's own reader (:mod:`mbcost.core.rows`, :mod:`mbcost.core.kinds`) and still compact
(a bottleneck row with n = 4 is one row). Nothing here knows α, ρ or costs;
:mod:`mbcost.core.expand` turns rows into layers. Built-in names and paths are resolved by
:mod:`mbcost.core.locate`. The format is documented in docs/format.md.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, Callable

from ..errors import SpecError, UsageError, Where
from .blocks import read_blocks
from .fields import MAX_CHANNELS, MAX_RESOLUTION, Fields, Pair, did_you_mean, value_at
from .kind import ACTIVATIONS
from .locate import read_model, read_reference, resolve_arch, variant_name
from .rows import read_row
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


TOP_KEYS = ("name", "title", "input", "classes", "width", "batch_norm", "activation", "bias", "params",
            "variants", "blocks", "layers", "outputs", "implementation")
VARIANT_KEYS = ("alpha", "depth", "resolution", "params", "title", "batch_norm", "activation", "bias",
                "classes")


def _params(doc: Document, path: tuple, label: str) -> dict[str, Fraction]:
    f = Fields(doc, path, label, tuple(value_at(doc.data, path)) if isinstance(value_at(doc.data, path), dict) else ())
    out = {}
    for key in f.data:
        if not str(key).isidentifier():
            f.fail(path + (key,), f"a parameter name must be a plain name, got {key!r}", key=True)
        out[key] = f.number(key, hi=MAX_CHANNELS, zero=True)  # 0 is a padding (AlexNet's conv1)
    return out


def _variant_params(doc: Document, name, params: dict) -> dict[str, Fraction]:
    """A variant's keys checked, and the params it sets (each must be one of the file's)."""
    v = Fields(doc, ("variants", name), f"variants.{name}", VARIANT_KEYS)
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
    top = Fields(doc, (), "", TOP_KEYS)
    if not top.has("input"):
        top.fail((), "missing 'input' (e.g. input: {resolution: 224, channels: 3})")
    inp = Fields(doc, ("input",), "input", ("resolution", "channels", "scale"))
    if not inp.has("resolution"):
        inp.fail(("input",), "missing 'resolution'")
    width = Fields(doc, ("width",), "width", ("rule", "min", "divisor")) if top.has("width") else None
    rule = WidthRule()
    if width:
        rule = WidthRule(
            rule=width.choice("rule", ("floor", "make_divisible"), "floor"),
            min=width.integer("min", 8),
            divisor=width.integer("divisor", 8),
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
        v = Fields(doc, ("variants", variant), f"variants.{variant}", VARIANT_KEYS)
        chosen = v
        settings = {"alpha": v.number("alpha", None, hi=64), "depth": v.number("depth", None, hi=64),
                    "resolution": v.pair("resolution", None, hi=MAX_RESOLUTION)}
        params = {**params, **overrides[variant]}

    def pick(key, getter):
        return getter(chosen, key) if chosen is not top and chosen.has(key) else getter(top, key)

    blocks = read_blocks(doc)
    rows = tuple(row for row in (read_row(doc, ("layers", i), f"layers[{i}]", i, params, blocks)
                                 for i in range(len(layers))) if row is not None)
    outputs = doc.data.get("outputs")
    if outputs is not None:
        if not isinstance(outputs, list) or not outputs or not all(isinstance(o, str) for o in outputs):
            top.fail(("outputs",), f"expected a list of layer names, got {describe(outputs)}")
    return ArchSpec(
        name=variant_name(top.text("name", Path(doc.source).stem), variant),
        title=pick("title", lambda f, k: f.text(k, "")),
        source=doc.source,
        resolution=settings.get("resolution") or inp.pair("resolution", (224, 224), hi=MAX_RESOLUTION),
        in_channels=inp.integer("channels", 3),
        scale_input=bool(inp.boolean("scale", False)),
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
        implementation=_implementation(top),
    )


def _implementation(f: Fields):
    """``implementation:``, the name of how the code the file describes calls each op
    (mbcost.core.peers; ``mbcost convert`` writes it), said wrong at its line."""
    if not f.has("implementation"):
        return None
    from .peers import implementation_named

    try:
        return implementation_named(f.data["implementation"])
    except UsageError as exc:
        f.fail(f.path + ("implementation",), exc.message)


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


