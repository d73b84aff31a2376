"""``bottleneck``: MobileNetV2's inverted residual with a linear bottleneck, written as the V2
paper's Table 2 row (t, c, n, s).

It expands into, per repeat: a 1×1 expansion conv to t·M channels (none when t = 1, as in the
reference implementations), a k×k depthwise conv (stride s on the first repeat only), a linear
1×1 projection to c, and a residual add when the stride is 1 and the input and output channels
agree. Each layer is costed as its own kind (:mod:`.conv`, :mod:`.dwconv`, :mod:`.add`).

Row keys: t (an integer ≥ 1), c, k (3), s (1), act, bn, scale, n.
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from ..fields import MAX_EXPANSION
from ..graph import Pair
from ..kind import Kind


@dataclass(frozen=True)
class BottleneckArgs:
    t: Fraction
    c: int
    k: Pair = (3, 3)
    s: Pair = (1, 1)
    act: str | None = None
    bn: bool | None = None
    scale: str = "always"


def read(f) -> BottleneckArgs:
    act, bn, scale = f.act(), f.boolean("bn"), f.scale()
    k, s = f.kernel((3, 3)), f.stride()
    c, _ = f.channels()
    t = Fraction(f.integer("t", 1, hi=MAX_EXPANSION))
    if not f.has("t"):
        f.missing("missing 't' (expansion factor)")
    return BottleneckArgs(t=t, c=c, k=k, s=s, act=act, bn=bn, scale=scale)


def expand(ex, row) -> None:
    """MobileNetV2's inverted residual (t, c, n, s): expand ×t, k×k depthwise, linear project.

    The stride s applies to the first of the n repeats only; the shortcut joins the thin
    layers when the stride is 1 and input and output channels agree. With t = 1 there is
    no expansion layer (as in the reference implementations).
    """
    a: BottleneckArgs = row.args
    for j, name in enumerate(ex.repeat_names(row, "block")):
        d_in, block_input = ex.cur, ex.last
        stride = a.s if j == 0 else (1, 1)
        common = dict(bn=ex.batch_norm(a.bn), block=name)
        if a.t != 1:
            ex.emit(f"{name}.expand", "conv", int(a.t * d_in), act=ex.activation(a.act), role="expand", **common)
        ex.emit(f"{name}.dw", "dwconv", ex.cur, k=a.k, s=stride, groups=ex.cur, act=ex.activation(a.act),
                role="dw", **common)
        d_out = ex.scale(a.c, a.scale)
        ex.emit(f"{name}.project", "conv", d_out, act="linear", role="project", **common)
        if stride == (1, 1) and d_in == d_out:
            ex.emit(f"{name}.add", "add", d_out, inputs=(ex.last, block_input), block=name, role="add")
        ex.alias(name)


KIND = Kind("bottleneck", "MobileNetV2's inverted residual (t, c, n, s): expand, depthwise, linear project",
            keys=("n", "act", "t", "c", "k", "s", "bn", "scale"), read=read, expand=expand, example={"t": 6, "c": 8})
