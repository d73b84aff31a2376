"""``fc``: a fully connected layer on the flattened H×W×M input (the classifier).

Cost: H·W·M·N mult-adds and H·W·M·N weights — both scale with the input map's area. Counting
decisions: it has a bias by default (the classifier's, which the ``bias`` convention counts; the
papers leave it out), N additions of per-element work; a BN after it (BatchNorm1d) folds. Its
``c`` defaults to the file's ``classes`` (or --classes). Timed at the fully-connected rate.

Row keys: c (the classes), act (linear), bias (true), bn (false), n.
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
    to_classes: object = None  # a rows.ClassWidth: ``c: "4*(classes-1)"`` (Faster-RCNN's box layer)
    act: str | None = None
    bn: bool | None = None
    bias: bool | None = None


def read(f) -> FcArgs:
    act, bn, bias = f.act(), f.boolean("bn"), f.boolean("bias")
    c, to_classes = f.channels(required=False, classes=True)
    return FcArgs(c=c, to_classes=to_classes, act=act, bn=bn, bias=bias)


def expand(ex, row) -> None:
    a: FcArgs = row.args
    if a.to_classes:
        c = ex.class_width(a.to_classes)
    elif a.c is None:
        c = ex.classes
        if c is None:
            ex.fail("fc has no 'c' and the file sets no 'classes'")
    else:
        c = a.c
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
    keys=("n", "act", "c", "bias", "bn"), read=read, expand=expand, example={"c": 10},
    shape=shape, factor=factor, elements=elements, counts=("bias",),
    label=lambda layer: "Fully Connected", latency="fc",
    counting=Counting(bn="folds", bias=True, work="a bias at each output unit"),
)
