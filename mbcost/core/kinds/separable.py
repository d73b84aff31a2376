"""``separable``: MobileNetV1's depthwise separable convolution — a k×k depthwise conv, then a
1×1 pointwise conv, each with BN and the activation (the V1 paper's Figure 3).

It expands into a :mod:`dwconv <.dwconv>` layer ``NAME.dw`` (D_K·D_K·M·D_F·D_F) and a
:mod:`conv <.conv>` layer ``NAME.pw`` (M·N·D_F·D_F); the sum is the V1 paper's eq. 5, a
ratio 1/N + 1/D_K² of a standard conv's cost, which ``mbcost verify`` checks.

Row keys: c, k (3), s (1), padding (same), act, bn, scale, n.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..graph import Pair
from ..kind import Kind


@dataclass(frozen=True)
class SeparableArgs:
    c: int
    k: Pair = (3, 3)
    s: Pair = (1, 1)
    padding: str | Pair = "same"
    act: str | None = None
    bn: bool | None = None
    scale: str = "always"


def read(f) -> SeparableArgs:
    act, bn, scale, padding = f.act(), f.boolean("bn"), f.scale(), f.padding()
    k, s = f.kernel((3, 3)), f.stride()
    c, _ = f.channels()
    return SeparableArgs(c=c, k=k, s=s, padding=padding, act=act, bn=bn, scale=scale)


def expand(ex, row) -> None:
    """MobileNetV1's depthwise separable conv: k×k depthwise, then 1×1 pointwise."""
    a: SeparableArgs = row.args
    for j, name in enumerate(ex.repeat_names(row, "block")):
        common = dict(act=ex.activation(a.act), bn=ex.batch_norm(a.bn), block=name)
        ex.emit(f"{name}.dw", "dwconv", ex.cur, k=a.k, s=a.s if j == 0 else (1, 1), groups=ex.cur,
                padding=a.padding, role="dw", **common)
        ex.emit(f"{name}.pw", "conv", ex.scale(a.c, a.scale), role="pw", **common)
        ex.alias(name)


KIND = Kind("separable", "MobileNetV1's depthwise separable conv: k×k depthwise, then 1×1 pointwise",
            keys=("n", "act", "c", "k", "s", "padding", "bn", "scale"), read=read, expand=expand, example={"c": 16})
