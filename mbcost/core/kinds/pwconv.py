"""``pwconv``: a 1×1 pointwise conv, written without its kernel — a row that expands into one
:mod:`conv <.conv>` layer with D_K = 1 (M·N·D_F·D_F mult-adds; the conv's counting decisions).

Row keys: c or t (the output width as a factor of the input's, as :mod:`.conv` reads it),
act, bn, bias, scale, n.
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from ..kind import Kind
from .conv import out_width, relative_width


@dataclass(frozen=True)
class PointwiseArgs:
    c: int | None
    act: str | None = None
    bn: bool | None = None
    bias: bool | None = None
    scale: str = "always"
    t: Fraction | None = None
    to_classes: Any = None  # a rows.ClassWidth (``c: "anchors*classes"``)


def read(f) -> PointwiseArgs:
    act, bn, bias, scale = f.act(), f.boolean("bn"), f.boolean("bias"), f.scale()
    c, to_classes, t = relative_width(f)
    return PointwiseArgs(c=c, act=act, bn=bn, bias=bias, scale=scale, t=t, to_classes=to_classes)


def expand(ex, row) -> None:
    a: PointwiseArgs = row.args
    for name in ex.repeat_names(row, "pwconv"):
        c = ex.class_width(a.to_classes) if a.to_classes else out_width(ex, a.c, a.t, a.scale)
        ex.emit(name, "conv", c, act=ex.activation(a.act), bn=ex.batch_norm(a.bn),
                bias=ex.bias(a.bias))


KIND = Kind("pwconv", "a 1×1 pointwise convolution (a conv with k = 1)",
            keys=("n", "act", "c", "t", "bn", "bias", "scale", "weights"), read=read, expand=expand, example={"c": 16})
