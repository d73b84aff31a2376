"""``pwconv``: a 1×1 pointwise conv, written without its kernel — a row that expands into one
:mod:`conv <.conv>` layer with D_K = 1 (M·N·D_F·D_F mult-adds; the conv's counting decisions).

Row keys: c, act, bn, bias, scale, n.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..kind import Kind


@dataclass(frozen=True)
class PointwiseArgs:
    c: int
    act: str | None = None
    bn: bool | None = None
    bias: bool | None = None
    scale: str = "always"


def read(f) -> PointwiseArgs:
    act, bn, bias, scale = f.act(), f.boolean("bn"), f.boolean("bias"), f.scale()
    c, _ = f.channels()
    return PointwiseArgs(c=c, act=act, bn=bn, bias=bias, scale=scale)


def expand(ex, row) -> None:
    a: PointwiseArgs = row.args
    for name in ex.repeat_names(row, "pwconv"):
        ex.emit(name, "conv", ex.scale(a.c, a.scale), act=ex.activation(a.act), bn=ex.batch_norm(a.bn),
                bias=ex.bias(a.bias))


KIND = Kind("pwconv", "a 1×1 pointwise convolution (a conv with k = 1)",
            keys=("n", "act", "c", "bn", "bias", "scale"), read=read, expand=expand, example={"c": 16})
