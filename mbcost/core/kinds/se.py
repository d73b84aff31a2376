"""``se``: squeeze-and-excite (Hu et al.), as MobileNetV3 and EfficientNet place it — global
average pool → 1×1 reduce (bias) + act → 1×1 expand (bias) + gate → multiply the input, the
gate broadcast over H×W.

It expands into :mod:`pool <.pool>`, two :mod:`conv <.conv>` and a :mod:`mul <.mul>` layer,
so the gated map costs what the engine says of each (the squeeze convs run on a 1×1 map: C·C′
mult-adds each). Squeeze width: make_divisible(⌊base·ratio⌋, divisor), or max(1, ⌊base·ratio⌋)
with divisor 1 (torchvision's MobileNetV3 and EfficientNet rules).

Row keys: se (the ratio, required), se_divisor (1), se_gate (sigmoid), act (the squeeze's, relu), n.
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from ..kind import ACTIVATIONS, Kind
from ..width import make_divisible

KEYS = ("se", "se_base", "se_divisor", "se_act", "se_gate")  # an mbconv row's squeeze-excite keys


@dataclass(frozen=True)
class SqueezeExcite:
    ratio: Fraction
    base: str = "exp"  # exp | in: the channels the ratio is of (an mbconv's)
    divisor: int = 1
    act: str = "relu"
    gate: str = "sigmoid"


def read_squeeze(f, *, divisor: int, gate: str, act: str | None = None,
                 required: bool = False) -> SqueezeExcite | None:
    """The squeeze-excite keys of a row (None when it has no ``se``)."""
    ratio = f.number("se", None, hi=1)
    if ratio is None and required:
        f.missing("missing 'se' (the squeeze ratio, e.g. 0.25)")
    base = f.choice("se_base", ("exp", "in"), "exp")
    div = f.integer("se_divisor", divisor)
    se_act = f.choice("se_act", ACTIVATIONS, "relu")
    se_gate = f.choice("se_gate", ACTIVATIONS, gate)
    if ratio is None:
        return None
    return SqueezeExcite(ratio, base, div, act or se_act, se_gate)


def read(f) -> SqueezeExcite:
    return read_squeeze(f, divisor=1, gate="sigmoid", act=f.act(), required=True)


def squeeze_excite(ex, block: str, se: SqueezeExcite, base: int) -> None:
    """Emit the SE layers of ``block`` on the current tensor, the ratio taken of ``base``."""
    x, c = ex.last, ex.cur
    v = int(base * se.ratio)
    squeeze = make_divisible(Fraction(v), se.divisor) if se.divisor > 1 else max(1, v)
    ex.emit(f"{block}.se.pool", "pool", c, global_=True, op="avg", role="se", block=block)
    ex.emit(f"{block}.se.reduce", "conv", squeeze, act=se.act, bias=True, role="se", block=block)
    ex.emit(f"{block}.se.expand", "conv", c, act=se.gate, bias=True, role="se", block=block)
    ex.emit(f"{block}.se.mul", "mul", c, inputs=(x, ex.last), role="se", block=block)


def expand(ex, row) -> None:
    for name in ex.repeat_names(row, "se"):
        squeeze_excite(ex, name, row.args, ex.cur)
        ex.alias(name)


KIND = Kind("se", "squeeze-and-excite: global pool, reduce, expand, gate the input",
            keys=("n", "act", "se", "se_divisor", "se_gate"), read=read, expand=expand, example={"se": 0.25})
