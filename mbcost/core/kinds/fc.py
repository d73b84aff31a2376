"""``fc``: a fully connected layer on the flattened H×W×M input (the classifier).

Cost: H·W·M·N mult-adds and H·W·M·N weights — both scale with the input map's area. Counting
decisions: it has a bias by default (the classifier's, which the ``bias`` convention counts; the
papers leave it out), N additions of per-element work; a BN after it (BatchNorm1d) folds. Its
``c`` defaults to the file's ``classes`` (or --classes), and α does not scale it unless the row
says ``scale: true`` (or ``up``): a hidden classifier layer that follows the width multiplier, as
torchvision's MobileNetV3 does with its 1280 (adjust_channels). Timed at the fully-connected rate.

Row keys: c (the classes), act (linear), bias (true), bn (false), scale (false), n.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..conventions import Convention
from ..graph import Layer, Shape
from ..kind import Counting, Factor, Kind
from .conv import extras


@dataclass(frozen=True)
class FcArgs:
    c: int | None = None
    act: str | None = None
    bn: bool | None = None
    bias: bool | None = None
    scale: str = "never"  # never (a classifier's width is the classes') | always | up (only when α > 1)


def read(f) -> FcArgs:
    act, bn, bias = f.act(), f.boolean("bn"), f.boolean("bias")
    c, _ = f.channels(required=False)
    scale = f.scale() if f.has("scale") else "never"
    if scale != "never" and c is None:
        f.fail_key("scale", "α scales a width the row states: give 'c' too")
    return FcArgs(c=c, act=act, bn=bn, bias=bias, scale=scale)


def expand(ex, row) -> None:
    a: FcArgs = row.args
    c = ex.scale(a.c, a.scale) if a.c is not None else ex.classes
    if c is None:
        ex.fail("fc has no 'c' and the file sets no 'classes'")
    for name in ex.repeat_names(row, "fc"):
        ex.emit(name, "fc", c, act=a.act or "linear", bn=ex.batch_norm(a.bn, False),
                bias=True if a.bias is None else a.bias)


def shape(layer: Layer, inputs: list[Shape]) -> Shape:
    return (1, 1, layer.c)


def factor(layer: Layer, m: list[int], conv: Convention) -> Factor:
    """Fully connected on the flattened H×W×M input: H·W·M·N mult-adds and H·W·M·N weights
    (so both scale with the input map's area)."""
    w = m[0] * layer.c
    return Factor(w, extras(layer, layer.c, conv), w, area="in")


def elements(r) -> dict:
    """One bias addition per output unit."""
    return {"bias": r.output_shape[2] if r.layer.bias else 0}


KIND = Kind(
    "fc", "a fully connected layer on the flattened input",
    keys=("n", "act", "c", "bias", "bn", "scale"), read=read, expand=expand, example={"c": 10},
    shape=shape, factor=factor, elements=elements, counts=("bias",),
    label=lambda layer: "Fully Connected", latency="fc",
    counting=Counting(bn="folds", bias=True, work="a bias at each output unit"),
)
