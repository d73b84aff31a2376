"""An architecture row, as written and validated: what every kind's row has in common, and the
readers its kind's own keys are read with.

Every row has ``kind``, an optional ``name`` and ``from`` (the layers it reads; none: the row
before), and — for the kinds that repeat — ``n``. Everything else belongs to the kind: its
module in :mod:`mbcost.core.kinds` lists the keys it accepts and reads them into its own
parameter record (``Row.args``), with the :class:`RowFields` readers below so that every kind
says "expected a positive integer" the same way. :func:`read_row` dispatches on ``kind``
through :data:`mbcost.core.kinds.KINDS`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from ..errors import SpecError
from .fields import MAX_CHANNELS, MAX_KERNEL, MAX_REPEAT, Fields, Pair, did_you_mean, value_at
from .kind import ACTIVATIONS
from .kinds import KINDS, writable
from .yamlio import Document, describe

if TYPE_CHECKING:
    from .blocks import BlockDef

COMMON = ("kind", "name", "from", "if")
RESERVED = ("input", "in")  # the network's (or a block's) input
MAX_TIMES = 1 << 16  # a block run once per proposal: Faster-RCNN's 300, with room


@dataclass(frozen=True)
class Defaults:
    """What a row without its own ``bn``, ``act``, ``bias`` or width uses: its file's settings
    (a backbone's rows keep their file's, whatever the file that builds on them says)."""

    batch_norm: bool
    activation: str
    bias: bool | None
    width: object  # a mbcost.core.width.WidthRule


@dataclass(frozen=True)
class ClassWidth:
    """A width written over the class count: ``c: classes`` (a classifier), ``c: "anchors*classes"``
    (an SSD class head: a score per anchor and class slot), ``c: "4*(classes-1)"`` (Faster-RCNN's
    class-specific boxes). It is evaluated as the layers are built, with the file's class count
    or the convention's (``--classes``), so one file serves 91 COCO slots and 81 alike."""

    text: str
    env: tuple = ()  # the params and block parameters it may read, as (name, value) pairs

    def at(self, classes: int) -> Fraction:
        from .expr import evaluate

        return evaluate(self.text, {**dict(self.env), "classes": classes})


@dataclass(frozen=True)
class Row:
    """One row of the architecture table, validated but not yet expanded (a bottleneck row with
    n = 4 is one row). ``args`` is the kind's own parameter record."""

    kind: str
    index: int  # position among the architecture's rows (blocks instantiated), for messages
    args: Any = None
    name: str | None = None
    inputs: tuple[str, ...] | None = None  # ``from``: None is the previous row's output
    n: int = 1
    stage: bool = False  # the row states n: --depth scales its repeats
    path: tuple = ()  # where the row is in the document
    label: str = ""  # how messages name it: layers[3], or blocks.fire.rows[1] (in layers[3])
    enter: tuple = ()  # ((name of a block instance's input, its from), …) — bound first, outermost first
    exit: tuple[str, ...] = ()  # names that refer to this row's output once it is done
    scope: str | None = None  # the block instance a row belongs to: its auto names are scoped
    doc: Document | None = field(default=None, compare=False, repr=False)  # its file (a backbone's rows: another)
    defaults: Defaults | None = None  # its file's settings; None: the architecture's
    part: str = ""  # 'backbone': a row of the file's backbone (dropped after its ``until``)
    times: int = 1  # runs per inference (a block call's ``times``: once per proposal)

    # ``weights: NAME``: the row reuses that earlier layer's weights (its mult-adds at every call,
    # its parameters once, at NAME); a kind that takes it lists "weights" in its keys
    weights: str | None = None

    def where(self, key: str | None = None):
        return self.doc.where(self.path + ((key,) if key else ()))


class RowFields(Fields):
    """One row's mapping, with the readers of the keys several kinds share (the papers' symbols:
    c output channels, k kernel D_K, s stride, d dilation)."""

    def __init__(self, doc: Document, path: tuple, label: str, kind: str, allowed: tuple[str, ...],
                 env: dict | None):
        super().__init__(doc, path, label, allowed, env)
        self.kind = kind
        self.inputs: tuple[str, ...] | None = None  # ``from``, once read_row has read it

    def missing(self, what: str):
        """The row lacks a key it needs: 'missing 'c' (output channels)'."""
        self.fail(self.path, what)

    def act(self) -> str | None:
        return self.choice("act", ACTIVATIONS)

    def scale(self) -> str:
        """Whether α scales the row's channels: true (always), false (never) or up (only when
        α > 1: MobileNetV2's last 1280-channel conv)."""
        scale = self.data.get("scale", True)  # not a dict key: it may be a list, or 1 (== True)
        shown = {True: "always", False: "never", "up": "up"}.get(scale) \
            if isinstance(scale, bool) or scale == "up" else None
        if shown is None:
            self.fail_key("scale", f"expected true, false or up, got {describe(self.data['scale'])}")
        return shown

    def padding(self) -> str | Pair:
        """'same' (TensorFlow's), 'valid', or an integer padding on each side (PyTorch's)."""
        value = self.data.get("padding", "same")
        if isinstance(value, str) and value in ("same", "valid"):
            return value
        if isinstance(value, str) and value.isidentifier() and value not in (self.env or {}):
            self.choice("padding", ("same", "valid"))  # a typo of same/valid, said as such
        if isinstance(value, (int, list, str)) and not isinstance(value, bool):
            return self.pair("padding", (0, 0), hi=MAX_KERNEL, lo=0)
        self.fail_key("padding", f"expected same, valid, an integer or [h, w], got {describe(value)}")

    def kernel(self, default: Pair = (1, 1)) -> Pair:
        return self.pair("k", default, hi=MAX_KERNEL)

    def stride(self, default: Pair = (1, 1)) -> Pair:
        return self.pair("s", default, hi=MAX_KERNEL)

    def dilation(self) -> Pair:
        return self.pair("d", (1, 1), hi=MAX_KERNEL)

    def channels(self, *, required: bool = True, classes: bool = False) -> tuple[int | None, ClassWidth | None]:
        """``c``, or — for the kinds that take ``classes`` — a :class:`ClassWidth` when it is
        written over the class count (``c: classes``, SqueezeNet's conv classifier;
        ``"anchors*classes"``, a detector's class head)."""
        value, env = self.data.get("c"), self.env or {}
        if isinstance(value, str) and "classes" not in env:
            from .expr import ExprError, names

            if "classes" in names(value):
                if not classes:
                    self.fail_key("c", f"a {self.kind} row's 'c' cannot count classes (conv, pwconv, "
                                       "deconv, linear and fc rows can)")
                width = ClassWidth(value, tuple(sorted(env.items())))
                try:
                    width.at(1000)  # a malformed expression is refused at its line, not as layers are built
                except ExprError as exc:
                    self.fail_key("c", f"expected a width over the classes, got {describe(value)} ({exc})")
                return None, width
        c = self.integer("c")
        if c is None and required:
            self.missing("missing 'c' (output channels)")
        return c, None

    def single_input(self) -> None:
        """The kinds that read one tensor: ``from`` names at most one."""
        if self.inputs is not None and len(self.inputs) != 1:
            self.fail_key("from", f"{self.kind} takes one input, got {len(self.inputs)}")

    def joined_inputs(self, *, minimum: int = 2, exactly: int | None = None,
                      expected: str = "[x, gate]") -> tuple[str, ...]:
        """The tensors a join (add, concat, mul) reads: ``minimum`` or more (``exactly`` of them)."""
        ins = self.inputs
        if ins is None:
            self.missing(f"missing 'from' (the layers whose outputs {self.kind} joins)")
        if exactly is not None and len(ins) != exactly:
            self.fail_key("from", f"expected {expected}, got {len(ins)} name{'s' if len(ins) != 1 else ''}")
        if exactly is None and len(ins) < minimum:
            self.fail_key("from", f"expected a list of two or more layer names, got {len(ins)}")
        return ins


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
    doc: Document | None = field(default=None, compare=False, repr=False)
    defaults: Defaults | None = None
    part: str = ""
    # ``times``: the instance runs this many times on inputs of one size (Faster-RCNN's second
    # stage, once per proposal): its mult-adds and element counts times that, its parameters once
    times: int = 1


def read_call(doc: Document, path: tuple, label: str, index: int, env: dict, block: "BlockDef") -> BlockCall:
    f = Fields(doc, path, label, ("kind", "name", "from", "if", "n", "times") + block.params, env)
    if not holds(f):
        return None
    args = {}
    for p in block.params:
        if not f.has(p):
            f.fail(path, f"missing {p!r} (block {block.name} takes {', '.join(block.params)})")
        args[p] = f.number(p, hi=MAX_CHANNELS, zero=True)  # 0 is a setting too (no start dwconv)
    name = f.text("name")
    if name in RESERVED:
        f.fail(path + ("name",), f"{name!r} is reserved for the network's (or a block's) input")
    inputs = f.names("from")
    if inputs is not None and len(inputs) != 1:
        f.fail(path + ("from",), f"a block takes one input, got {len(inputs)}")
    return BlockCall(block.name, index, name, inputs, f.integer("n", 1, hi=MAX_REPEAT), f.has("n"), args,
                     path, label, doc, times=f.integer("times", 1, hi=MAX_TIMES))


def holds(f: Fields) -> bool:
    """A row's ``if:`` — a condition over the params (``"s == 1"``, ``"k > 0 and t != 1"``) —
    or true when it has none."""
    if not f.has("if"):
        return True
    from .expr import ExprError, condition

    value = f.data["if"]
    if isinstance(value, bool):
        return value
    if not isinstance(value, str):
        f.fail_key("if", f"expected a condition such as \"s == 1\", got {describe(value)}")
    try:
        return condition(value, f.env or {})
    except ExprError as exc:
        f.fail_key("if", f"expected a condition, got {describe(value)} ({exc})")


def read_row(doc: Document, path: tuple, label: str, index: int, env: dict,
             blocks: dict) -> Row | BlockCall | None:
    """The row at ``path``: a kind's row, read by its kind's own reader, or a call of one of the
    file's ``blocks``; None when its ``if:`` is false."""
    item = value_at(doc.data, path)
    if not isinstance(item, dict):
        raise SpecError(f"expected a mapping like {{kind: conv, c: 32, k: 3, s: 2}}, got {describe(item)}",
                        field=label, where=doc.where(path))
    kinds = writable() + tuple(blocks)
    if "kind" not in item:
        raise SpecError(f"missing 'kind' (one of {', '.join(kinds)})", field=label, where=doc.where(path))
    kind = item["kind"]
    if not isinstance(kind, str) or kind not in kinds:
        hint = did_you_mean(kind, kinds) if isinstance(kind, str) else None
        more = f"; did you mean {hint!r}?" if hint else f"; expected one of {', '.join(kinds)}"
        raise SpecError(f"unknown layer kind {describe(kind)}{more}", field=f"{label}.kind",
                        where=doc.where(path + ("kind",)))
    if kind in blocks:
        return read_call(doc, path, label, index, env, blocks[kind])
    k = KINDS[kind]
    f = RowFields(doc, path, label, kind, COMMON + k.keys, env)
    if not holds(f):
        return None
    name = f.text("name")
    n = f.integer("n", 1, hi=MAX_REPEAT)
    f.inputs = f.names("from")
    if name in RESERVED:
        f.fail_key("name", f"{name!r} is reserved for the network's (or a block's) input")
    args = k.read(f)
    if not k.joins:
        f.single_input()
    weights = f.text("weights") if "weights" in k.keys else None
    return Row(kind=kind, index=index, args=args, name=name, inputs=f.inputs, n=n, stage=f.has("n"),
               path=path, label=label, doc=doc, weights=weights)


