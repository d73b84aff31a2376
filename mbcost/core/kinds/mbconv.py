"""``mbconv``: MobileNetV3's bneck and EfficientNet's MBConv — [1×1 expand] → k×k depthwise →
[squeeze-excite] → linear 1×1 project, with a residual when the stride is 1 and the channels
agree.

The expansion is ``exp`` (a width, α-scaled by the width rule: torchvision's adjust_channels)
or ``t`` (a factor of the α-scaled input, rounded by the width rule: TF-slim's
expand_input_by_factor and torchvision's EfficientNet). No expansion layer when the expanded
width equals the input's. Each layer is costed as its own kind; the SE block is :mod:`.se`'s.

Row keys: t or exp, c, k (3), s (1), act, bn, scale, n, and se, se_base (exp), se_divisor (8),
se_act (relu), se_gate (hsigmoid).
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from ..graph import Pair
from ..kind import Kind
from .se import KEYS as SE_KEYS, SqueezeExcite, read_squeeze, squeeze_excite


@dataclass(frozen=True)
class MBConvArgs:
    c: int
    t: Fraction = Fraction(1)
    exp: int | None = None
    k: Pair = (3, 3)
    s: Pair = (1, 1)
    act: str | None = None
    bn: bool | None = None
    scale: str = "always"
    se: SqueezeExcite | None = None


def read(f) -> MBConvArgs:
    act, bn, scale = f.act(), f.boolean("bn"), f.scale()
    k, s = f.kernel((3, 3)), f.stride()
    c, _ = f.channels()
    if f.has("t") == f.has("exp"):
        f.missing("give the expansion as 't' (a factor of the input channels) or 'exp' "
                  "(a width, MobileNetV3's exp size), not " + ("both" if f.has("t") else "neither"))
    return MBConvArgs(c=c, t=f.number("t", Fraction(1)), exp=f.integer("exp"), k=k, s=s, act=act, bn=bn,
                      scale=scale, se=read_squeeze(f, divisor=8, gate="hsigmoid"))


def expand(ex, row) -> None:
    a: MBConvArgs = row.args
    for j, name in enumerate(ex.repeat_names(row, "block")):
        d_in, block_input = ex.cur, ex.last
        stride = a.s if j == 0 else (1, 1)
        common = dict(bn=ex.batch_norm(a.bn), block=name)
        exp = ex.scale(a.exp, a.scale) if a.exp is not None else ex.defaults.width.round(a.t * d_in)
        if exp != d_in:
            ex.emit(f"{name}.expand", "conv", exp, act=ex.activation(a.act), role="expand", **common)
        ex.emit(f"{name}.dw", "dwconv", exp, k=a.k, s=stride, groups=exp, act=ex.activation(a.act), role="dw",
                **common)
        if a.se is not None:
            squeeze_excite(ex, name, a.se, exp if a.se.base == "exp" else d_in)
        d_out = ex.scale(a.c, a.scale)
        ex.emit(f"{name}.project", "conv", d_out, act="linear", role="project", **common)
        if stride == (1, 1) and d_in == d_out:
            ex.emit(f"{name}.add", "add", d_out, inputs=(ex.last, block_input), block=name, role="add")
        ex.alias(name)


KIND = Kind("mbconv", "MobileNetV3's bneck / EfficientNet's MBConv: expand, depthwise, [SE], project",
            keys=("n", "act", "t", "exp", "c", "k", "s", "bn", "scale") + SE_KEYS, read=read, expand=expand, example={"exp": 32, "c": 8, "se": 0.25})
