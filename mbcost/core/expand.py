"""Expansion: architecture rows + width multiplier α (+ depth multiplier) → explicit layers.

Each row kind's module (:mod:`mbcost.core.kinds`) says how its rows become layers; the
:class:`Expander` here is what they share: repeats (n), user-defined blocks (instantiated by
:func:`mbcost.core.blocks.instantiate`), wiring by name (``from:``), the names layers get and
width rounding. Channel counts depend only on α, so they are fixed here; spatial sizes depend
only on the resolution and are inferred by the engine.

Every name a row or layer gets is a tensor others may read: a row's ``name`` (its last
repeat's output), each repeat's name, every layer's name, a split's parts ``name.0``, …, and
``input``, the network's input. A row without ``from`` reads the previous row's output.
"""
from __future__ import annotations

from collections import Counter
from fractions import Fraction

from ..errors import GraphError, Where
from .blocks import instantiate
from .graph import NETWORK_INPUT, Graph, Layer, Pair
from .kinds import KINDS
from .rows import Row
from .spec import ArchSpec

MAX_LAYERS = 100_000


def scale_channels(rule, c: int, alpha: Fraction, scale: str) -> int:
    """Apply α to a paper channel count c under a width rule (the row's file's).

    ``scale: up`` is MobileNetV2's last 1280-channel conv: kept when α ≤ 1, scaled above.
    """
    if scale == "never" or (scale == "up" and alpha <= 1):
        return c
    return rule.apply(c, alpha)


class Expander:
    """The layers being built from the rows, and the names and channels of every tensor so far."""

    def __init__(self, spec: ArchSpec, alpha: Fraction, classes: int | None, output_stride: int | None = None):
        self.spec, self.alpha = spec, alpha
        self.widths: dict[tuple, int] = {}  # every width rule applied: (c, how, rule) → α·c rounded
        self.classes = classes if classes is not None else spec.classes
        self.layers: list[Layer] = []
        self.channels: dict[str, int] = {}  # tensor → channels
        self.names: dict[str, str] = {}  # any name a row may write in `from` → the tensor it means
        self.last = NETWORK_INPUT
        c0 = spec.in_channels
        self.channels[NETWORK_INPUT] = self.scale(c0, "always", spec.width) if spec.scale_input else c0
        self.names[NETWORK_INPUT] = NETWORK_INPUT
        self.counters: Counter[str] = Counter()
        self.row: Row | None = None
        # the tensors that are attention scores (Q·Kᵀ, then what an element-wise op made of them):
        # a matmul reads them as A in A·V, whose cost and width differ from Q·Kᵀ's
        # (each: whether its Q·Kᵀ read one K/V head shared by all, multi-query attention)
        self.scores: dict[str, bool] = {}
        # DeepLab's output stride: each tensor's stride (input pixels per position) and the rate
        # its windows are dilated by once a stride past the output stride has been dropped
        self.output_stride = output_stride
        # a head built on a backbone is written for the output stride it reads at (its ASPP's rates
        # are the file's): only the backbone's rows are dilated; a plain file's rows all are
        self.dilate_all = not any(r.part == "backbone" for r in spec.rows)
        self.stride: dict[str, Pair] = {NETWORK_INPUT: (1, 1)}
        self.rate: dict[str, Pair] = {NETWORK_INPUT: (1, 1)}

    @property
    def defaults(self):
        """The settings the current row's file gives it (a backbone's rows: the backbone's)."""
        d = self.row.defaults if self.row is not None else None
        return d if d is not None else self.spec

    def scale(self, c: int, how: str, rule=None) -> int:
        rule = rule or (self.defaults.width if self.row is not None else self.spec.width)
        out = scale_channels(rule, c, self.alpha, how)
        self.widths[c, how, rule] = out
        return out

    @property
    def cur(self) -> int:
        return self.channels[self.last]

    def class_width(self, width) -> int:
        """A row's width over the class count (:class:`~mbcost.core.rows.ClassWidth`) at this
        network's count: the file's ``classes``, or the convention's override."""
        if self.classes is None:
            self.fail(f"'c: {width.text}' counts classes but the file sets no 'classes'", "c")
        from .expr import ExprError

        try:
            c = width.at(self.classes)
        except ExprError as exc:
            self.fail(f"'c: {width.text}' with {self.classes} classes: {exc}", "c")
        if c.denominator != 1 or c < 1:
            self.fail(f"'c: {width.text}' is {c} with {self.classes} classes: expected a positive integer", "c")
        return int(c)

    def fail(self, message: str, key: str | None = None):
        row = self.row
        raise GraphError(message, field=f"{row.label}.{key}" if key else row.label,
                         where=_where(self.spec, row, key))

    def resolve(self, name: str, key: str = "from") -> str:
        if name in self.names:
            return self.names[name]
        import difflib  # only on the error path

        hint = difflib.get_close_matches(name, list(self.names), n=1)
        more = f"; did you mean {hint[0]!r}?" if hint else ""
        self.fail(f"'{key}: {name}' names no earlier layer{more}", key)

    def emit(self, name: str, kind: str, c: int, inputs: tuple[str, ...] | None = None, **kw) -> str:
        row = self.row
        if name in self.names:
            self.fail(f"layer name {name!r} is used twice", "name")
        if len(self.layers) >= MAX_LAYERS:
            self.fail(f"architecture expands to more than {MAX_LAYERS} layers", "n")
        inputs = inputs or (self.last,)
        dilating = self.output_stride and (self.dilate_all or row.part == "backbone")
        if dilating:
            kw = self.dilated(kind, inputs[0], name, kw)
        if row.times > 1:
            kw = {**kw, "times": row.times}
        if row.weights and KINDS[kind].weights is not None:
            kw.update(shared=True, weights_of=self.owner(row.weights, kind, kw.get("bias", False)))
        layer = Layer(name=name, kind=kind, c=c, inputs=inputs, row=row.index, **kw)
        self.layers.append(layer)
        outs = layer.outputs()
        for tensor, channels in outs:
            self.channels[tensor] = channels
            self.names[tensor] = tensor
            if dilating:  # a split's parts are where their split is
                self.stride[tensor], self.rate[tensor] = self.stride[name], self.rate[name]
        self.names.setdefault(name, outs[-1][0])
        self.last = outs[-1][0]  # after a split: its last part
        if layer.inputs[0] in self.scores and KINDS[kind].elementwise:
            self.scores[name] = self.scores[layer.inputs[0]]
        return name

    def dilated(self, kind: str, src: str, name: str, kw: dict) -> dict:
        """A layer under an output stride (Chen et al., DeepLab, §3.1): a stride that would take
        the map past the output stride is dropped, and from that layer on every window is dilated
        by the strides dropped, so each keeps its field of view — the layer whose stride is
        dropped takes the new rate, as torchvision's dilated MobileNetV3 and ResNet do (TF's
        DeepLab gives it the old one; the counts are the same). An integer padding that kept the
        map's size is widened with its dilation so it still does."""
        resamples = KINDS[kind].resamples
        stride, rate = self.stride.get(src, (1, 1)), self.rate.get(src, (1, 1))
        s = kw.get("s", (1, 1))
        if resamples == "down" and not kw.get("global_"):
            keep = tuple(si if st * si <= self.output_stride else 1 for st, si in zip(stride, s))
            rate = tuple(r * (si // ki) for r, si, ki in zip(rate, s, keep))
            stride = tuple(st * ki for st, ki in zip(stride, keep))
            kw = {**kw, "s": keep}
            k = kw.get("k", (1, 1))
            if kind != "pool" and rate != (1, 1) and max(k) > 1:
                d0 = kw.get("d", (1, 1))
                d = tuple(a * b for a, b in zip(d0, rate))
                pad = kw.get("padding", "same")
                if isinstance(pad, tuple) and pad == tuple(di * (ki - 1) // 2 for di, ki in zip(d0, k)):
                    kw["padding"] = tuple(di * (ki - 1) // 2 for di, ki in zip(d, k))
                kw["d"] = d
        elif resamples == "up":
            up = kw.get("up") or (s if kind == "deconv" else (1, 1))
            up = up if isinstance(up, tuple) else (up, up)
            stride = tuple(max(1, st // u) for st, u in zip(stride, up))
        self.stride[name], self.rate[name] = stride, rate
        return kw

    def alias(self, name: str) -> None:
        """A composite's name (``block6``, an attention's) means its output once its layers are
        emitted, so later rows read it by that name."""
        if name not in self.names:
            self.names[name] = self.last

    def owner(self, name: str, kind: str, bias: bool) -> str:
        """The layer whose weights ``weights: name`` reuses (the one that holds them, if that layer
        reuses another's): of the same kind, with a bias if this one has one. Its shape is checked
        where the input shapes are known (:func:`mbcost.core.engine.infer`)."""
        tensor = self.resolve(name, "weights")
        layer = next((L for L in reversed(self.layers) if any(t == tensor for t, _ in L.outputs())), None)
        if layer is None or KINDS[layer.kind].weights is None:
            what = "the network's input" if layer is None else f"a {layer.kind} layer"
            self.fail(f"'weights: {name}' names {what}, which has no weights to reuse", "weights")
        if layer.kind != kind:
            self.fail(f"'weights: {name}' names a {layer.kind} layer; a {kind} row can reuse only a {kind}'s "
                      "weights", "weights")
        if layer.bias != bias:
            has = lambda b: "a bias" if b else "no bias"  # noqa: E731
            self.fail(f"'weights: {name}' has {has(layer.bias)} and this row {has(bias)}: the bias is part of "
                      "the weights it reuses", "weights")
        return layer.weights_of or layer.name

    def repeat_names(self, row: Row, prefix: str) -> list[str]:
        if row.name:
            return [row.name] if row.n == 1 else [f"{row.name}.{j}" for j in range(1, row.n + 1)]
        out = []
        key = f"{row.scope}.{prefix}" if row.scope else prefix  # fire2.concat1, not concat7
        for _ in range(row.n):
            self.counters[key] += 1
            out.append(f"{key}{self.counters[key]}")
        return out

    def batch_norm(self, bn: bool | None, default: bool | None = None) -> bool:
        """A row's ``bn``, else ``default``, else the file's ``batch_norm``."""
        if bn is not None:
            return bn
        return self.defaults.batch_norm if default is None else default

    def bias(self, bias: bool | None) -> bool:
        """A row's ``bias``, else the file's."""
        return bias if bias is not None else bool(self.defaults.bias)

    def activation(self, act: str | None) -> str:
        """A row's ``act``, else the file's ``activation``."""
        return act or self.defaults.activation

    def run(self, row: Row):
        self.row = row
        for bind, source in row.enter:  # block instances start here: bind each one's `in`
            self.last = self.resolve(source[0]) if source else self.last
            self.names[bind] = self.last
        kind = KINDS[row.kind]
        if row.inputs and not kind.joins:  # a join resolves each of its inputs itself
            self.last = self.resolve(row.inputs[0])
        kind.expand(self, row)
        for name in row.exit:
            self.names[name] = self.last
        if row.name and row.name not in self.names:
            self.names[row.name] = self.last


def _where(spec: ArchSpec, row: Row, key: str | None):
    if row is None or row.doc is None:
        return Where(spec.source)
    return row.where(key)


def _check_outputs(ex: Expander, spec: ArchSpec, rows: list[Row]) -> tuple[str, ...]:
    """The network's outputs (the last layer, or ``outputs:``); every other tensor must be read."""
    doc = spec.document
    outs = []
    for i, name in enumerate(spec.outputs):
        if name not in ex.names:
            raise GraphError(f"{name!r} names no layer", field=f"outputs[{i}]",
                             where=doc.where(("outputs", i)) if doc else Where(spec.source))
        outs.append(ex.names[name])
    if not outs:
        outs = [ex.last]
    read = {x for layer in ex.layers for x in layer.inputs} | set(outs)
    for layer in ex.layers:
        # every tensor, so each part of a split too: a part nothing reads is a cut-off branch
        unread = [t for t, _ in layer.outputs() if t not in read]
        if unread:
            row = rows[layer.row]
            what = f"part {unread[0]} of {layer.name}" if layer.sizes else layer.name
            raise GraphError(f"the output of {what} is never used: read it with 'from', or list it "
                             "in 'outputs:'", field=row.label, where=_where(spec, row, None))
    return tuple(outs)


def expand(spec: ArchSpec, alpha: Fraction = Fraction(1), resolution: Pair | None = None,
           classes: int | None = None, depth: Fraction = Fraction(1)) -> Graph:
    """Decode the rows into explicit layers at width α, depth multiplier d and the given input
    resolution."""
    return expand_traced(spec, alpha, resolution, classes, depth)[0]


Widths = tuple[tuple, ...]  # (c, how, width rule, its result)


def expand_traced(spec: ArchSpec, alpha: Fraction = Fraction(1), resolution: Pair | None = None,
                  classes: int | None = None, depth: Fraction = Fraction(1)) -> tuple[Graph, Widths | None]:
    """:func:`expand`, and the width rule's distinct applications — (c, how, its result) — or
    None for an imported model (its layers are not expanded here). See :func:`same_widths`."""
    if spec.prebuilt is not None:  # an imported model: its layers are already explicit
        return spec.prebuilt(alpha, resolution, classes), None
    ex = Expander(spec, alpha, classes, spec.output_stride)
    rows = instantiate(spec, depth)
    until = spec.until[0] if spec.until else None
    for row in rows:
        if until is not None and row.part == "backbone" and until in ex.names:
            continue  # past the backbone's last layer kept
        ex.run(row)
    if until is not None and until not in ex.names:
        raise GraphError(f"the backbone has no layer or block named {until!r}", field="backbone.until",
                         where=spec.until[1])
    outputs = _check_outputs(ex, spec, rows)
    res = resolution or spec.resolution
    return Graph(name=spec.name, source=spec.source, alpha=alpha, resolution=res,
                 input_shape=(res[0], res[1], ex.channels[NETWORK_INPUT]), layers=tuple(ex.layers),
                 classes=ex.classes, outputs=outputs,
                 row_where=tuple(_where(spec, row, None) for row in rows),
                 row_label=tuple(row.label for row in rows), implementation=spec.implementation), tuple((c, how, rule, out) for (c, how, rule), out in ex.widths.items())


def same_widths(spec: ArchSpec, widths: Widths | None, alpha: Fraction) -> bool:
    """True when expanding at ``alpha`` gives exactly the layers of the expansion that applied
    ``widths``: α reaches the expander only through the width rule, and the expander is
    deterministic, so if every recorded application gives the same result at ``alpha`` the
    expansion takes the same path and builds the same layers. (At step 0.001, most α of a
    sweep round to a neighbour's channels: the sweep costs each distinct network once.)"""
    return widths is not None and all(scale_channels(rule, c, alpha, how) == out for c, how, rule, out in widths)
