"""``upsample``: a map enlarged by an integer ``scale``, to a ``size``, or to the size of an
earlier map (``like: NAME``: DeepLab's image pooling and logits, LR-ASPP's), nearest or bilinear.

Cost: no weights: nothing in the papers' count. Per-element work — a copy (nearest) or a
4-tap interpolation (bilinear) per output element — is not counted by any profile mbcost has
checked yet.

Row keys: scale (an integer factor), size (H or [H, W]) or like (a map), mode (nearest | bilinear).
"""
from __future__ import annotations

from dataclasses import dataclass

from ..fields import MAX_KERNEL, MAX_RESOLUTION
from ..graph import Layer, Pair, Shape
from ..kind import Counting, Kind, no_elements, weightless
from ..spatial import require_map
from ._moves import passthrough


@dataclass(frozen=True)
class UpsampleArgs:
    up: int | None = None
    size: Pair | None = None
    like: str | None = None
    mode: str = "nearest"


def read(f) -> UpsampleArgs:
    if sum(map(f.has, ("scale", "size", "like"))) != 1:
        f.missing("give an upsample one of 'scale' (an integer factor), 'size' (H or [H, W]) or 'like' "
                  "(an earlier map whose H×W it takes)")
    return UpsampleArgs(up=f.integer("scale", None, hi=MAX_KERNEL), size=f.pair("size", None, hi=MAX_RESOLUTION),
                        like=f.text("like"), mode=f.choice("mode", ("nearest", "bilinear"), "nearest"))


def expand(ex, row) -> None:
    a: UpsampleArgs = row.args
    (name,) = ex.repeat_names(row, "upsample")
    inputs = (ex.last,) + ((ex.resolve(a.like, "like"),) if a.like else ())
    ex.emit(name, "upsample", ex.cur, inputs=inputs, shape_only=len(inputs) - 1, up=a.up, size=a.size, mode=a.mode)


def shape(layer: Layer, inputs: list[Shape]) -> Shape:
    require_map(layer, inputs[0], "enlarges")
    h, w, c = inputs[0]
    if len(inputs) > 1:  # like: the other map's H×W
        return (inputs[1][0], inputs[1][1], c)
    return (*layer.size, c) if layer.size else (h * layer.up, w * layer.up, c)


KIND = Kind(
    "upsample", "a map enlarged by an integer factor or to a size (nearest or bilinear)",
    resamples="up",
    keys=("scale", "size", "like", "mode"), refs=("like",), read=read, expand=expand, example={"scale": 2},
    shape=shape, factor=weightless, elements=no_elements,
    label=lambda layer: "Upsample", latency="copy",
    counting=Counting(work="a copy (nearest) or a 4-tap interpolation (bilinear) per output element; "
                           "no profile counts it yet"),
)
