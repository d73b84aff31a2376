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


def scale_channels(spec: ArchSpec, c: int, alpha: Fraction, scale: str) -> int:
    """Apply α to a paper channel count c under the file's width rule.

    ``scale: up`` is MobileNetV2's last 1280-channel conv: kept when α ≤ 1, scaled above.
    """
    if scale == "never" or (scale == "up" and alpha <= 1):
        return c
    return spec.width.apply(c, alpha)


class Expander:
    """The layers being built from the rows, and the names and channels of every tensor so far."""

    def __init__(self, spec: ArchSpec, alpha: Fraction, classes: int | None):
        self.spec, self.alpha = spec, alpha
        self.widths: dict[tuple[int, str], int] = {}  # every width rule applied: (c, how) → α·c rounded
        self.classes = classes if classes is not None else spec.classes
        self.layers: list[Layer] = []
        self.channels: dict[str, int] = {}  # tensor → channels
        self.names: dict[str, str] = {}  # any name a row may write in `from` → the tensor it means
        self.last = NETWORK_INPUT
        c0 = spec.in_channels
        self.channels[NETWORK_INPUT] = self.scale(c0, "always") if spec.scale_input else c0
        self.names[NETWORK_INPUT] = NETWORK_INPUT
        self.counters: Counter[str] = Counter()
        self.row: Row | None = None
        # the tensors that are attention scores (Q·Kᵀ, then what an element-wise op made of them):
        # a matmul reads them as A in A·V, whose cost and width differ from Q·Kᵀ's
        # (each: whether its Q·Kᵀ read one K/V head shared by all, multi-query attention)
        self.scores: dict[str, bool] = {}

    def scale(self, c: int, how: str) -> int:
        out = scale_channels(self.spec, c, self.alpha, how)
        self.widths[c, how] = out
        return out

    @property
    def cur(self) -> int:
        return self.channels[self.last]

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
        layer = Layer(name=name, kind=kind, c=c, inputs=inputs or (self.last,), row=row.index, **kw)
        self.layers.append(layer)
        outs = layer.outputs()
        for tensor, channels in outs:
            self.channels[tensor] = channels
            self.names[tensor] = tensor
        self.names.setdefault(name, outs[-1][0])
        self.last = outs[-1][0]  # after a split: its last part
        if layer.inputs[0] in self.scores and KINDS[kind].elementwise:
            self.scores[name] = self.scores[layer.inputs[0]]
        return name

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
        return self.spec.batch_norm if default is None else default

    def bias(self, bias: bool | None) -> bool:
        """A row's ``bias``, else the file's."""
        return bias if bias is not None else bool(self.spec.bias)

    def activation(self, act: str | None) -> str:
        """A row's ``act``, else the file's ``activation``."""
        return act or self.spec.activation

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
    if spec.document is None or row is None:
        return Where(spec.source)
    return spec.document.where(row.path + ((key,) if key else ()))


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
        if not any(t in read for t, _ in layer.outputs()):
            row = rows[layer.row]
            raise GraphError(f"the output of {layer.name} is never used: read it with 'from', or list it "
                             "in 'outputs:'", field=row.label, where=_where(spec, row, None))
    return tuple(outs)


def expand(spec: ArchSpec, alpha: Fraction = Fraction(1), resolution: Pair | None = None,
           classes: int | None = None, depth: Fraction = Fraction(1)) -> Graph:
    """Decode the rows into explicit layers at width α, depth multiplier d and the given input
    resolution."""
    return expand_traced(spec, alpha, resolution, classes, depth)[0]


Widths = tuple[tuple[int, str, int], ...]


def expand_traced(spec: ArchSpec, alpha: Fraction = Fraction(1), resolution: Pair | None = None,
                  classes: int | None = None, depth: Fraction = Fraction(1)) -> tuple[Graph, Widths | None]:
    """:func:`expand`, and the width rule's distinct applications — (c, how, its result) — or
    None for an imported model (its layers are not expanded here). See :func:`same_widths`."""
    if spec.prebuilt is not None:  # an imported model: its layers are already explicit
        return spec.prebuilt(alpha, resolution, classes), None
    ex = Expander(spec, alpha, classes)
    rows = instantiate(spec, depth)
    for row in rows:
        ex.run(row)
    outputs = _check_outputs(ex, spec, rows)
    res = resolution or spec.resolution
    return Graph(name=spec.name, source=spec.source, alpha=alpha, resolution=res,
                 input_shape=(res[0], res[1], ex.channels[NETWORK_INPUT]), layers=tuple(ex.layers),
                 classes=ex.classes, outputs=outputs,
                 row_where=tuple(_where(spec, row, None) for row in rows),
                 row_label=tuple(row.label for row in rows), implementation=spec.implementation), tuple((c, how, out) for (c, how), out in ex.widths.items())


def same_widths(spec: ArchSpec, widths: Widths | None, alpha: Fraction) -> bool:
    """True when expanding at ``alpha`` gives exactly the layers of the expansion that applied
    ``widths``: α reaches the expander only through the width rule, and the expander is
    deterministic, so if every recorded application gives the same result at ``alpha`` the
    expansion takes the same path and builds the same layers. (At step 0.001, most α of a
    sweep round to a neighbour's channels: the sweep costs each distinct network once.)"""
    return widths is not None and all(scale_channels(spec, c, alpha, how) == out for c, how, out in widths)
