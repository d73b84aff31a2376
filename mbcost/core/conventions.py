"""Counting conventions: what a "parameter" and a "mult-add" include for a given reader.

The papers count weights only (batch norm folded into the convolutions, no biases,
pooling / activations / residual adds free, 1000 classes). Frameworks report what
their parameter containers hold. One :class:`Convention` object carries all of it into
the engine, so no cost function grows an ``if`` per framework. docs/conventions.md says
which published source uses which.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from ..errors import UsageError

BN_CHOICES = (0, 1, 2, 3, 4)
MAX_CLASSES = 1 << 20


@dataclass(frozen=True)
class Convention:
    """How to count.

    bn:      numbers counted per batch-norm channel — 0 folded (papers), 2 trainable γ, β
             (torchvision, Keras "trainable"), 3 β + moving mean and variance (what reproduces
             TF-slim's README, see docs/conventions.md), 4 all of γ, β, mean, variance (Keras total).
    bias:    count the biases of layers that have one (by default only the classifier).
    classes: override the file's class count (1001 for TF-slim's background class).
    flops:   report FLOPs = 2 × mult-adds instead of mult-adds.
    act_dtype, weight_dtype: the element types activations and parameters are stored in
             (fp32, fp16, bf16, int8; :data:`mbcost.core.memory.DTYPES`) — bytes, not counts,
             depend on them, so they travel with the rest of "how to count".
    chunks:  0: every activation tensor is materialised whole; N ≥ 1: MobileNetV2 §6.2's
             memory-efficient bottleneck, the expanded tensor computed in N chunks.
    """

    name: str = "paper"
    bn: int = 0
    bias: bool = False
    classes: int | None = None
    flops: bool = False
    act_dtype: str = "fp32"
    weight_dtype: str = "fp32"
    chunks: int = 0

    def __post_init__(self) -> None:
        # The one place a convention is validated: the API, the CLI's flags, budgets and
        # published-data files all build one, and rename the field in the message to theirs.
        check_convention(self)

    @property
    def modified(self) -> bool:
        """True when the counting departs from the built-in profile it is named after (a --bn,
        --bias or --classes override): outputs then say so, with every field."""
        base = PROFILES.get(self.name)
        return base is not None and (base.bn, base.bias, base.classes) != (self.bn, self.bias, self.classes)

    def describe(self, classes: int | None = None) -> str:
        """'paper (bn=0, no bias, mult-adds)'; a modified profile is 'torchvision, modified (…)'."""
        parts = [f"bn={self.bn}", "bias" if self.bias else "no bias"]
        shown = self.classes if self.classes is not None else classes
        if shown is not None:
            parts.append(f"{shown} classes")
        if self.flops:
            parts.append("FLOPs = 2×MAdds")
        if self.memory_modified:
            parts.append(self.memory_text())
        return f"{self.name}{', modified' if self.modified else ''} ({', '.join(parts)})"

    @property
    def memory_modified(self) -> bool:
        """True when memory is not counted the default way (fp32 everywhere, whole tensors)."""
        return (self.act_dtype, self.weight_dtype, self.chunks) != ("fp32", "fp32", 0)

    def memory_text(self) -> str:
        """'activations fp16, weights int8, bottlenecks in 6 chunks'."""
        text = f"activations {self.act_dtype}, weights {self.weight_dtype}"
        return text + (f", bottlenecks in {self.chunks} chunks" if self.chunks else "")

    def to_dict(self, classes: int | None = None) -> dict:
        """Everything that decides a count, for machine-readable outputs. ``classes`` is the
        class count actually used (the file's, unless this convention overrides it)."""
        return {"profile": self.name, "modified": self.modified, "bn": self.bn, "bias": self.bias,
                "classes": self.classes if self.classes is not None else classes,
                "compute": "flops" if self.flops else "madds",
                "activation_dtype": self.act_dtype, "weight_dtype": self.weight_dtype,
                "bottleneck_chunks": self.chunks}

    def tag(self, classes: int | None = None) -> str:
        """The convention in one CSV cell: 'torchvision;bn=2;bias=1;classes=1000;madds'
        (a modified profile's name ends in '*'); memory settings other than the default follow
        (';act=fp16;weights=int8;chunks=6'), so the default tag is unchanged."""
        d = self.to_dict(classes)
        tag = (f"{d['profile']}{'*' if d['modified'] else ''};bn={d['bn']};bias={int(d['bias'])};"
               f"classes={d['classes'] if d['classes'] is not None else 'none'};{d['compute']}")
        if self.memory_modified:
            tag += f";act={self.act_dtype};weights={self.weight_dtype}" + \
                (f";chunks={self.chunks}" if self.chunks else "")
        return tag

    def with_(self, **changes) -> "Convention":
        """A copy with the given fields changed (None means keep, as for an unset flag). The
        profile's name is kept; :attr:`modified` tells that the counting departs from it."""
        return self.changed(**{k: v for k, v in changes.items() if v is not None})

    def changed(self, **changes) -> "Convention":
        """A copy with exactly these fields set (``classes=None``: the file's own count), validated."""
        return replace(self, **changes)


def _shown(value) -> str:
    from .yamlio import describe  # how every error message quotes a value

    if isinstance(value, (bool, str, bytes, type(None), list, dict, int)):
        return describe(value)
    if isinstance(value, float):
        return f"{value!r} (a float)"
    return f"a {type(value).__name__}"


def check_convention(c: "Convention") -> None:
    """Raise :class:`UsageError` naming the field (``bn``, ``classes``, …) of the first value
    that no counting convention can have. Callers with other names for the fields (``--bn``,
    ``budgets[0].bn``) catch it and rename ``field``."""
    def fail(field: str, message: str):
        raise UsageError(message, field=field)

    for key in ("bn", "classes"):  # numpy's integers are integers; bool is not a count
        value = getattr(c, key)
        if not isinstance(value, (int, bool)) and hasattr(type(value), "__index__"):
            object.__setattr__(c, key, value.__index__())

    if not isinstance(c.name, str) or not c.name.strip():
        fail("name", f"expected a non-empty name, got {_shown(c.name)}")
    if isinstance(c.bn, bool) or not isinstance(c.bn, int) or c.bn not in BN_CHOICES:
        fail("bn", f"expected 0, 1, 2, 3 or 4 numbers per batch-norm channel, got {_shown(c.bn)}")
    from .memory import DTYPES

    for key in ("act_dtype", "weight_dtype"):
        if not isinstance(getattr(c, key), str) or getattr(c, key) not in DTYPES:
            fail(key, f"expected one of {', '.join(DTYPES)}, got {_shown(getattr(c, key))}")
    if not isinstance(c.chunks, int) and hasattr(type(c.chunks), "__index__"):
        object.__setattr__(c, "chunks", c.chunks.__index__())
    if isinstance(c.chunks, bool) or not isinstance(c.chunks, int) or not 0 <= c.chunks <= 1 << 20:
        fail("chunks", f"expected 0 (whole tensors) or a number of chunks ≥ 1, got {_shown(c.chunks)}")
    for key in ("bias", "flops"):
        if not isinstance(getattr(c, key), bool):
            fail(key, f"expected true or false, got {_shown(getattr(c, key))}")
    if c.classes is not None:
        if isinstance(c.classes, bool) or not isinstance(c.classes, int) or c.classes < 1:
            fail("classes", f"expected a positive number of classes, got {_shown(c.classes)}")
        if c.classes > MAX_CLASSES:
            fail("classes", f"expected at most {MAX_CLASSES} classes, got {_shown(c.classes)}")


PAPER = Convention()
PROFILES: dict[str, Convention] = {
    "paper": PAPER,
    "torchvision": Convention(name="torchvision", bn=2, bias=True),
    "keras": Convention(name="keras", bn=4, bias=True),
}


def require_convention(value, field: str = "convention") -> Convention:
    """``value`` if it is a :class:`Convention`, else one clear error naming the parameter:
    ``analyze(..., convention="keras")`` used to fail deep inside the engine with an
    AttributeError. A profile's name is not taken silently: the message says how to get it."""
    if isinstance(value, Convention):
        return value
    if isinstance(value, str) and value in PROFILES:
        hint = f"; for the {value!r} profile pass mbcost.PROFILES[{value!r}]"
    else:
        hint = f"; the profiles are mbcost.PROFILES[name] for name in {', '.join(PROFILES)}"
    shown = repr(value) if isinstance(value, (str, int, float, type(None))) and len(repr(value)) <= 40 \
        else f"a value of type {type(value).__name__}"
    raise UsageError(f"expected a Convention (mbcost.PAPER, mbcost.Convention(bn=2, bias=True), …), "
                     f"got {shown}{hint}", field=field)
