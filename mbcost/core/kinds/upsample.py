"""``upsample``: a map enlarged by an integer ``scale`` or to a ``size``, nearest or bilinear.

Cost: no weights: nothing in the papers' count. Per-element work — a copy (nearest) or a
4-tap interpolation (bilinear) per output element — is not counted by any profile mbcost has
checked yet.

Row keys: scale (an integer factor) or size (H or [H, W]), mode (nearest | bilinear).
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
    mode: str = "nearest"


def read(f) -> UpsampleArgs:
    if f.has("scale") == f.has("size"):
        f.missing("give an upsample either 'scale' (an integer factor) or 'size' (H or [H, W])")
    return UpsampleArgs(up=f.integer("scale", None, hi=MAX_KERNEL), size=f.pair("size", None, hi=MAX_RESOLUTION),
                        mode=f.choice("mode", ("nearest", "bilinear"), "nearest"))


def expand(ex, row) -> None:
    a: UpsampleArgs = row.args
    passthrough(ex, row, up=a.up, size=a.size, mode=a.mode)


def shape(layer: Layer, inputs: list[Shape]) -> Shape:
    require_map(layer, inputs[0], "enlarges")
    h, w, c = inputs[0]
    return (*layer.size, c) if layer.size else (h * layer.up, w * layer.up, c)


KIND = Kind(
    "upsample", "a map enlarged by an integer factor or to a size (nearest or bilinear)",
    keys=("scale", "size", "mode"), read=read, expand=expand, example={"scale": 2},
    shape=shape, factor=weightless, elements=no_elements,
    label=lambda layer: "Upsample", latency="copy",
    counting=Counting(work="a copy (nearest) or a 4-tap interpolation (bilinear) per output element; "
                           "no profile counts it yet"),
)
