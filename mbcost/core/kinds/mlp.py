"""``mlp``: a transformer's feed-forward block — linear to a hidden width, an activation (GELU),
linear back (``NAME.fc1``, ``NAME.fc2``, as timm names them).

The hidden width is ``hidden`` (a width α scales by the width rule) or ``ratio`` × the input
width (timm's mlp_ratio: int(ratio · C), 4 by default). Each layer is a :mod:`linear <.linear>`,
with a bias unless ``bias: false``: 2·N·C·hidden mult-adds at N positions.

Row keys: ratio (4) or hidden, c (the input's), act (gelu), bias (true), n.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

from ..fields import MAX_EXPANSION
from ..kind import Kind


@dataclass(frozen=True)
class MlpArgs:
    ratio: Fraction = Fraction(4)
    hidden: int | None = None
    c: int | None = None
    act: str | None = None
    bias: bool | None = None
    scale: str = "always"


def read(f) -> MlpArgs:
    act, bias, scale = f.act(), f.boolean("bias"), f.scale()
    if f.has("ratio") and f.has("hidden"):
        f.missing("give the hidden width as 'ratio' (of the input's) or 'hidden', not both")
    c, _ = f.channels(required=False)
    return MlpArgs(ratio=f.number("ratio", Fraction(4), hi=MAX_EXPANSION), hidden=f.integer("hidden"), c=c,
                   act=act, bias=bias, scale=scale)


def expand(ex, row) -> None:
    a: MlpArgs = row.args
    bias = True if a.bias is None else a.bias
    for name in ex.repeat_names(row, "mlp"):
        d_in = ex.cur
        hidden = ex.scale(a.hidden, a.scale) if a.hidden is not None else math.floor(a.ratio * d_in)
        ex.emit(f"{name}.fc1", "linear", hidden, act=a.act or "gelu", bias=bias, block=name, role="fc1")
        ex.emit(f"{name}.fc2", "linear", ex.scale(a.c, a.scale) if a.c is not None else d_in, bias=bias,
                block=name, role="fc2")
        ex.alias(name)


KIND = Kind("mlp", "a transformer's feed-forward block: linear, activation, linear",
            keys=("n", "act", "ratio", "hidden", "c", "bias", "scale"), read=read, expand=expand,
            example={"ratio": 2})
