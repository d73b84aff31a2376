"""Expansion: architecture rows + width multiplier α (+ depth multiplier) → explicit layers.

This is the only place that knows about repeats (n), composite rows (separable, bottleneck,
mbconv, se), user-defined blocks (instantiated by :func:`mbcost.core.spec.instantiate`),
wiring by name (``from:``) and width rounding. Channel counts depend only on α, so they are
fixed here; spatial sizes depend only on the resolution and are inferred by the engine.

Every name a row or layer gets is a tensor others may read: a row's ``name`` (its last
repeat's output), each repeat's name, every layer's name, a split's parts ``name.0``, …, and
``input``, the network's input. A row without ``from`` reads the previous row's output.
"""
from __future__ import annotations

from collections import Counter
from fractions import Fraction

from ..errors import GraphError, Where
from .graph import NETWORK_INPUT, Graph, Layer, Pair
from .spec import ArchSpec, Row, instantiate, make_divisible

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
        self.fail(f"'from: {name}' names no earlier layer{more}", key)

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

    def bn(self, row: Row, default: bool | None = None) -> bool:
        if row.bn is not None:
            return row.bn
        return self.spec.batch_norm if default is None else default

    def bias(self, row: Row) -> bool:
        return row.bias if row.bias is not None else bool(self.spec.bias)

    def activation(self, row: Row) -> str:
        return row.act or self.spec.activation

    def run(self, row: Row):
        self.row = row
        if row.enter is not None:  # a block instance starts: bind its `in`
            bind, source = row.enter
            self.last = self.resolve(source[0]) if source else self.last
            self.names[bind] = self.last
        if row.inputs and row.kind not in ("add", "concat", "mul"):
            self.last = self.resolve(row.inputs[0])
        getattr(self, row.kind)(row)
        for name in row.exit:
            self.names[name] = self.last
        if row.name and row.name not in self.names:
            self.names[row.name] = self.last

    # one method per row kind -----------------------------------------------------------

    def _conv_kw(self, row: Row, j: int) -> dict:
        return dict(k=row.k, s=row.s if j == 0 else (1, 1), d=row.d, padding=row.padding,
                    act=self.activation(row), bn=self.bn(row), bias=self.bias(row))

    def conv(self, row: Row, kind: str = "conv"):
        for j, name in enumerate(self.repeat_names(row, kind)):
            c = self.classes if row.to_classes else self.scale(row.c, row.scale)
            if c is None:
                self.fail("'c: classes' but the file sets no 'classes'", "c")
            for what, n in (("input", self.cur), ("output", c)):
                if n % row.groups:
                    self.fail(f"groups={row.groups} does not divide the {n} {what} channels", "groups")
            self.emit(name, kind, c, groups=row.groups,
                      **({"output_padding": row.output_padding} if kind == "deconv" else {}),
                      **self._conv_kw(row, j))

    def deconv(self, row: Row):
        self.conv(row, "deconv")

    def dwconv(self, row: Row):
        for j, name in enumerate(self.repeat_names(row, "dwconv")):
            self.emit(name, "dwconv", self.cur * row.multiplier, groups=self.cur,
                      multiplier=row.multiplier, **self._conv_kw(row, j))

    def pwconv(self, row: Row):
        for name in self.repeat_names(row, "pwconv"):
            self.emit(name, "conv", self.scale(row.c, row.scale), act=self.activation(row),
                      bn=self.bn(row), bias=self.bias(row))

    def separable(self, row: Row):
        """MobileNetV1's depthwise separable conv: k×k depthwise, then 1×1 pointwise."""
        for j, name in enumerate(self.repeat_names(row, "block")):
            common = dict(act=self.activation(row), bn=self.bn(row), block=name)
            self.emit(f"{name}.dw", "dwconv", self.cur, k=row.k, s=row.s if j == 0 else (1, 1),
                      groups=self.cur, padding=row.padding, role="dw", **common)
            self.emit(f"{name}.pw", "conv", self.scale(row.c, row.scale), role="pw", **common)

    def bottleneck(self, row: Row):
        """MobileNetV2's inverted residual (t, c, n, s): expand ×t, k×k depthwise, linear project.

        The stride s applies to the first of the n repeats only; the shortcut joins the thin
        layers when the stride is 1 and input and output channels agree. With t = 1 there is
        no expansion layer (as in the reference implementations).
        """
        for j, name in enumerate(self.repeat_names(row, "block")):
            d_in, block_input = self.cur, self.last
            stride = row.s if j == 0 else (1, 1)
            common = dict(bn=self.bn(row), block=name)
            if row.t != 1:
                self.emit(f"{name}.expand", "conv", int(row.t * d_in), act=self.activation(row),
                          role="expand", **common)
            self.emit(f"{name}.dw", "dwconv", self.cur, k=row.k, s=stride, groups=self.cur,
                      act=self.activation(row), role="dw", **common)
            d_out = self.scale(row.c, row.scale)
            self.emit(f"{name}.project", "conv", d_out, act="linear", role="project", **common)
            if stride == (1, 1) and d_in == d_out:
                self.emit(f"{name}.add", "add", d_out, inputs=(self.last, block_input),
                          block=name, role="add")

    def mbconv(self, row: Row):
        """MobileNetV3's bneck and EfficientNet's MBConv: [1×1 expand] → k×k depthwise → [SE] →
        linear 1×1 project, with a residual when the stride is 1 and the channels agree.

        The expansion is ``exp`` (a width, α-scaled by the width rule: torchvision's
        adjust_channels) or ``t`` (a factor of the α-scaled input, rounded by the width rule:
        TF-slim's expand_input_by_factor and torchvision's EfficientNet). No expansion layer
        when the expanded width equals the input's.
        """
        for j, name in enumerate(self.repeat_names(row, "block")):
            d_in, block_input = self.cur, self.last
            stride = row.s if j == 0 else (1, 1)
            common = dict(bn=self.bn(row), block=name)
            exp = self.scale(row.exp, row.scale) if row.exp is not None else self.spec.width.round(row.t * d_in)
            if exp != d_in:
                self.emit(f"{name}.expand", "conv", exp, act=self.activation(row), role="expand", **common)
            self.emit(f"{name}.dw", "dwconv", exp, k=row.k, s=stride, groups=exp, act=self.activation(row),
                      role="dw", **common)
            if row.se is not None:
                self.squeeze_excite(name, row, exp if row.se_base == "exp" else d_in)
            d_out = self.scale(row.c, row.scale)
            self.emit(f"{name}.project", "conv", d_out, act="linear", role="project", **common)
            if stride == (1, 1) and d_in == d_out:
                self.emit(f"{name}.add", "add", d_out, inputs=(self.last, block_input),
                          block=name, role="add")

    def squeeze_excite(self, block: str, row: Row, base: int):
        """Squeeze-excite (Hu et al.) as MobileNetV3 and EfficientNet place it: global average
        pool → 1×1 reduce (bias) + act → 1×1 expand (bias) + gate → multiply the input, the gate
        broadcast over H×W. Squeeze width: make_divisible(⌊base·ratio⌋, divisor), or
        max(1, ⌊base·ratio⌋) with divisor 1 (torchvision's MobileNetV3 and EfficientNet rules)."""
        x, c = self.last, self.cur
        v = int(base * row.se)
        squeeze = make_divisible(Fraction(v), row.se_divisor) if row.se_divisor > 1 else max(1, v)
        common = dict(block=block)
        self.emit(f"{block}.se.pool", "pool", c, global_=True, op="avg", role="se", **common)
        self.emit(f"{block}.se.reduce", "conv", squeeze, act=row.se_act, bias=True, role="se", **common)
        self.emit(f"{block}.se.expand", "conv", c, act=row.se_gate, bias=True, role="se", **common)
        self.emit(f"{block}.se.mul", "mul", c, inputs=(x, self.last), role="se", **common)

    def se(self, row: Row):
        for name in self.repeat_names(row, "se"):
            self.squeeze_excite(name, row, self.cur)

    def pool(self, row: Row):
        for name in self.repeat_names(row, "pool"):
            self.emit(name, "pool", self.cur, k=row.k, s=row.s, op=row.op,
                      global_=row.global_, padding=row.padding, ceil=row.ceil)

    def fc(self, row: Row):
        c = row.c if row.c is not None else self.classes
        if c is None:
            self.fail("fc has no 'c' and the file sets no 'classes'")
        for name in self.repeat_names(row, "fc"):
            self.emit(name, "fc", c, act=row.act or "linear", bn=self.bn(row, False),
                      bias=True if row.bias is None else row.bias)

    def _joined(self, row: Row) -> tuple[str, ...]:
        if row.kind == "add" and len(row.inputs) == 1:  # mbcost 0.1's form: previous row + from
            return (self.last, self.resolve(row.inputs[0]))
        return tuple(self.resolve(x) for x in row.inputs)

    def add(self, row: Row):
        inputs = self._joined(row)
        cs = [self.channels[x] for x in inputs]
        for x, c in zip(inputs[1:], cs[1:]):
            if c != cs[0]:
                self.fail(f"cannot add {x} ({c} channels) to {inputs[0]} ({cs[0]} channels)")
        (name,) = self.repeat_names(row, "add")
        self.emit(name, "add", cs[0], inputs=inputs, act=row.act or "linear")

    def concat(self, row: Row):
        inputs = self._joined(row)
        (name,) = self.repeat_names(row, "concat")
        self.emit(name, "concat", sum(self.channels[x] for x in inputs), inputs=inputs)

    def mul(self, row: Row):
        inputs = self._joined(row)
        cx, cg = (self.channels[x] for x in inputs)
        if cg not in (cx, 1) and cx != cg:
            self.fail(f"cannot multiply {inputs[0]} ({cx} channels) by {inputs[1]} ({cg} channels)")
        (name,) = self.repeat_names(row, "mul")
        self.emit(name, "mul", cx, inputs=inputs)

    def split(self, row: Row):
        if sum(row.sizes) != self.cur:
            self.fail(f"split sizes {list(row.sizes)} add up to {sum(row.sizes)}, not the {self.cur} "
                      f"input channels of {self.last}", "sizes")
        (name,) = self.repeat_names(row, "split")
        self.emit(name, "split", self.cur, sizes=row.sizes)

    def shuffle(self, row: Row):
        if self.cur % row.groups:
            self.fail(f"groups={row.groups} does not divide the {self.cur} channels", "groups")
        (name,) = self.repeat_names(row, "shuffle")
        self.emit(name, "shuffle", self.cur, groups=row.groups)

    def upsample(self, row: Row):
        (name,) = self.repeat_names(row, "upsample")
        self.emit(name, "upsample", self.cur, up=row.up, size=row.size, mode=row.mode)

    def _passthrough(self, row: Row, **kw):
        (name,) = self.repeat_names(row, row.kind)
        self.emit(name, row.kind, self.cur, **kw)

    def act(self, row: Row):
        self._passthrough(row, act=row.act)

    def flatten(self, row: Row):
        self._passthrough(row)

    def dropout(self, row: Row):
        self._passthrough(row)


def _where(spec: ArchSpec, row: Row, key: str | None):
    if spec.document is None or row is None:
        return Where(spec.source)
    return spec.document.where(row.path + ((key,) if key else ()))


def _check_outputs(ex: _Expander, spec: ArchSpec, rows: list[Row]) -> tuple[str, ...]:
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
    ex = _Expander(spec, alpha, classes)
    rows = instantiate(spec, depth)
    for row in rows:
        ex.run(row)
    outputs = _check_outputs(ex, spec, rows)
    res = resolution or spec.resolution
    return Graph(name=spec.name, source=spec.source, alpha=alpha, resolution=res,
                 input_shape=(res[0], res[1], ex.channels[NETWORK_INPUT]), layers=tuple(ex.layers),
                 classes=ex.classes, outputs=outputs,
                 row_where=tuple(_where(spec, row, None) for row in rows),
                 row_label=tuple(row.label for row in rows)), tuple((c, how, out) for (c, how), out in ex.widths.items())


def same_widths(spec: ArchSpec, widths: Widths | None, alpha: Fraction) -> bool:
    """True when expanding at ``alpha`` gives exactly the layers of the expansion that applied
    ``widths``: α reaches the expander only through the width rule, and the expander is
    deterministic, so if every recorded application gives the same result at ``alpha`` the
    expansion takes the same path and builds the same layers. (At step 0.001, most α of a
    sweep round to a neighbour's channels: the sweep costs each distinct network once.)"""
    return widths is not None and all(scale_channels(spec, c, alpha, how) == out for c, how, out in widths)
