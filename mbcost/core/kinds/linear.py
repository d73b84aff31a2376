"""``linear``: a fully connected layer applied at every token (or every pixel of a map) —
nn.Linear on a sequence, a 1×1 conv on a map: the same cost, because channels-last or -first is
an implementation detail.

Cost: M·N mult-adds per position, so M·N·P for P positions (N tokens × S sequences, or H·W), and
M·N weights; a bias (nn.Linear's default) is N parameters, counted under the ``bias``
convention, and N·P additions of per-element work. A BN after it folds (LeViT's Linear + BN).
Timed at the dense-conv rate.

Row keys: c, bias (true), act (linear), bn, scale, n.
"""
from __future__ import annotations

from dataclasses import dataclass

from ...errors import GraphError
from ..conventions import Convention
from ..graph import Layer, Shape, Scores, with_channels
from ..kind import Counting, Factor, Kind
from .conv import extras


@dataclass(frozen=True)
class LinearArgs:
    c: int | None
    to_classes: object = None  # a rows.ClassWidth (``c: classes``)
    act: str | None = None
    bias: bool | None = None
    bn: bool | None = None
    scale: str = "always"


def read(f) -> LinearArgs:
    act, bn, bias, scale = f.act(), f.boolean("bn"), f.boolean("bias"), f.scale()
    c, to_classes = f.channels(classes=True)
    return LinearArgs(c=c, to_classes=to_classes, act=act, bias=bias, bn=bn, scale=scale)


def expand(ex, row) -> None:
    a: LinearArgs = row.args
    for name in ex.repeat_names(row, "linear"):
        c = ex.class_width(a.to_classes) if a.to_classes else ex.scale(a.c, a.scale)
        ex.emit(name, "linear", c, act=a.act or "linear", bn=ex.batch_norm(a.bn, False),
                bias=True if a.bias is None else a.bias)


def shape(layer: Layer, inputs: list[Shape]) -> Shape:
    if isinstance(inputs[0], Scores):
        raise GraphError("a linear runs per token or pixel, not on attention scores", field=layer.name)
    return with_channels(inputs[0], layer.c)


def factor(layer: Layer, m: list[int], conv: Convention) -> Factor:
    """M·N mult-adds at each of the P positions (M·N·P) and M·N weights."""
    w = m[0] * layer.c
    return Factor(w, w + extras(layer, layer.c, conv))


def elements(r) -> dict:
    """A bias is added at every output element."""
    h, w, c = r.output_shape
    return {"bias": h * w * c if r.layer.bias else 0}


KIND = Kind(
    "linear", "a fully connected layer at every token (or pixel): a 1×1 conv's cost",
    keys=("n", "act", "c", "bias", "bn", "scale"), read=read, expand=expand, example={"c": 16},
    shape=shape, factor=factor, elements=elements, counts=("bias",),
    label=lambda layer: "Linear", latency="conv",
    counting=Counting(bn="folds", bias=True, work="a bias at each output element, if it has one"),
)
