"""Expansion: architecture rows + width multiplier α → explicit layers.

This is the only place that knows about repeats (n), composite blocks (separable,
bottleneck) and width rounding. Channel counts depend only on α, so they are fixed
here; spatial sizes depend only on the resolution and are inferred by the engine.
"""
from __future__ import annotations

from collections import Counter
from fractions import Fraction

from ..errors import GraphError
from .graph import NETWORK_INPUT, Graph, Layer, Pair
from .spec import ArchSpec, Row

MAX_LAYERS = 100_000


def scale_channels(spec: ArchSpec, c: int, alpha: Fraction, scale: str) -> int:
    """Apply α to a paper channel count c under the file's width rule.

    ``scale: up`` is MobileNetV2's last 1280-channel conv: kept when α ≤ 1, scaled above.
    """
    if scale == "never" or (scale == "up" and alpha <= 1):
        return c
    return spec.width.apply(c, alpha)


class _Expander:
    def __init__(self, spec: ArchSpec, alpha: Fraction, classes: int | None):
        self.spec, self.alpha = spec, alpha
        self.classes = classes if classes is not None else spec.classes
        self.layers: list[Layer] = []
        self.channels: dict[str, int] = {}
        self.last = NETWORK_INPUT
        c0 = spec.in_channels
        self.channels[NETWORK_INPUT] = self.scale(c0, "always") if spec.scale_input else c0
        self.counters: Counter[str] = Counter()

    def scale(self, c: int, how: str) -> int:
        return scale_channels(self.spec, c, self.alpha, how)

    @property
    def cur(self) -> int:
        return self.channels[self.last]

    def emit(self, row: Row, name: str, kind: str, c: int, **kw) -> str:
        if name in self.channels:
            raise GraphError(f"layer name {name!r} is used twice", field=f"layers[{row.index}].name",
                             where=_where(self.spec, row, "name"))
        if len(self.layers) >= MAX_LAYERS:
            raise GraphError(f"architecture expands to more than {MAX_LAYERS} layers",
                             field=f"layers[{row.index}].n", where=_where(self.spec, row, "n"))
        inputs = kw.pop("inputs", (self.last,))
        self.layers.append(Layer(name=name, kind=kind, c=c, inputs=inputs, row=row.index, **kw))
        self.channels[name] = c
        self.last = name
        return name

    def names(self, row: Row, prefix: str) -> list[str]:
        if row.name:
            return [row.name] if row.n == 1 else [f"{row.name}.{j}" for j in range(1, row.n + 1)]
        out = []
        for _ in range(row.n):
            self.counters[prefix] += 1
            out.append(f"{prefix}{self.counters[prefix]}")
        return out

    def bn(self, row: Row, default: bool | None = None) -> bool:
        if row.bn is not None:
            return row.bn
        return self.spec.batch_norm if default is None else default

    def act(self, row: Row) -> str:
        return row.act or self.spec.activation

    # one method per row kind -----------------------------------------------------------

    def conv(self, row: Row):
        for j, name in enumerate(self.names(row, "conv")):
            c = self.scale(row.c, row.scale)
            for what, n in (("input", self.cur), ("output", c)):
                if n % row.groups:
                    raise GraphError(f"groups={row.groups} does not divide the {n} {what} channels",
                                     field=f"layers[{row.index}].groups",
                                     where=_where(self.spec, row, "groups"))
            self.emit(row, name, "conv", c, k=row.k, s=row.s if j == 0 else (1, 1),
                      groups=row.groups, padding=row.padding, act=self.act(row),
                      bn=self.bn(row), bias=bool(row.bias))

    def dwconv(self, row: Row):
        for j, name in enumerate(self.names(row, "dwconv")):
            self.emit(row, name, "dwconv", self.cur, k=row.k, s=row.s if j == 0 else (1, 1),
                      groups=self.cur, padding=row.padding, act=self.act(row), bn=self.bn(row),
                      bias=bool(row.bias))

    def pwconv(self, row: Row):
        for name in self.names(row, "pwconv"):
            self.emit(row, name, "conv", self.scale(row.c, row.scale), act=self.act(row),
                      bn=self.bn(row), bias=bool(row.bias))

    def separable(self, row: Row):
        """MobileNetV1's depthwise separable conv: k×k depthwise, then 1×1 pointwise."""
        for j, name in enumerate(self.names(row, "block")):
            common = dict(act=self.act(row), bn=self.bn(row), block=name)
            self.emit(row, f"{name}.dw", "dwconv", self.cur, k=row.k, s=row.s if j == 0 else (1, 1),
                      groups=self.cur, padding=row.padding, role="dw", **common)
            self.emit(row, f"{name}.pw", "conv", self.scale(row.c, row.scale), role="pw", **common)

    def bottleneck(self, row: Row):
        """MobileNetV2's inverted residual (t, c, n, s): expand ×t, k×k depthwise, linear project.

        The stride s applies to the first of the n repeats only; the shortcut joins the thin
        layers when the stride is 1 and input and output channels agree. With t = 1 there is
        no expansion layer (as in the reference implementations).
        """
        for j, name in enumerate(self.names(row, "block")):
            d_in, block_input = self.cur, self.last
            stride = row.s if j == 0 else (1, 1)
            common = dict(bn=self.bn(row), block=name)
            if row.t != 1:
                self.emit(row, f"{name}.expand", "conv", row.t * d_in, act=self.act(row),
                          role="expand", **common)
            self.emit(row, f"{name}.dw", "dwconv", self.cur, k=row.k, s=stride, groups=self.cur,
                      act=self.act(row), role="dw", **common)
            d_out = self.scale(row.c, row.scale)
            self.emit(row, f"{name}.project", "conv", d_out, act="linear", role="project", **common)
            if stride == (1, 1) and d_in == d_out:
                self.emit(row, f"{name}.add", "add", d_out, inputs=(self.last, block_input),
                          block=name, role="add")

    def pool(self, row: Row):
        for name in self.names(row, "pool"):
            self.emit(row, name, "pool", self.cur, k=row.k, s=row.s, op=row.op,
                      global_=row.global_, padding=row.padding)

    def fc(self, row: Row):
        c = row.c if row.c is not None else self.classes
        if c is None:
            raise GraphError("fc has no 'c' and the file sets no 'classes'",
                             field=f"layers[{row.index}]", where=_where(self.spec, row, None))
        for name in self.names(row, "fc"):
            self.emit(row, name, "fc", c, act=row.act or "linear", bn=self.bn(row, False),
                      bias=True if row.bias is None else row.bias)

    def add(self, row: Row):
        src = row.source
        if src not in self.channels:
            raise GraphError(f"'from: {src}' names no earlier layer",
                             field=f"layers[{row.index}].from", where=_where(self.spec, row, "from"))
        if self.channels[src] != self.cur:
            raise GraphError(f"cannot add {src} ({self.channels[src]} channels) to "
                             f"{self.last} ({self.cur} channels)",
                             field=f"layers[{row.index}]", where=_where(self.spec, row, None))
        for name in self.names(row, "add"):
            self.emit(row, name, "add", self.cur, inputs=(self.last, src))


def _where(spec: ArchSpec, row: Row, key: str | None):
    if spec.document is None:
        from ..errors import Where

        return Where(spec.source)
    path = ("layers", row.index) + ((key,) if key else ())
    return spec.document.where(path)


def expand(spec: ArchSpec, alpha: Fraction = Fraction(1), resolution: Pair | None = None,
           classes: int | None = None) -> Graph:
    """Decode the rows into explicit layers at width α and the given input resolution."""
    if spec.prebuilt is not None:  # an imported model: its layers are already explicit
        return spec.prebuilt(alpha, resolution, classes)
    ex = _Expander(spec, alpha, classes)
    for row in spec.rows:
        getattr(ex, row.kind)(row)
    res = resolution or spec.resolution
    return Graph(name=spec.name, source=spec.source, alpha=alpha, resolution=res,
                 input_shape=(res[0], res[1], ex.channels[NETWORK_INPUT]), layers=tuple(ex.layers),
                 classes=ex.classes,
                 row_where=tuple(_where(spec, row, None) for row in spec.rows))
