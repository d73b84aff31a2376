"""``map``: a sequence of tokens back as an H×W map — ``size: [H, W]``, or ``like: NAME``, the
H×W of an earlier map (the one a ``tokens`` row flattened, so the file works at any resolution);
MobileViT's unfolded patches fold back the same way.

Cost: a view, nothing in any count. The N·S tokens must be exactly H·W positions.

Row keys: size or like.
"""
from __future__ import annotations

from dataclasses import dataclass

from ...errors import GraphError
from ..fields import MAX_RESOLUTION
from ..graph import Layer, Pair, Shape, Tokens, fmt_positions, layout
from ._pending import PENDING_EXPORT, PENDING_TORCH, PENDING_IMPORT
from ..kind import Counting, Kind, no_elements, weightless


@dataclass(frozen=True)
class MapArgs:
    size: Pair | None = None
    like: str | None = None


def read(f) -> MapArgs:
    if f.has("size") == f.has("like"):
        f.missing("give a map either 'size' (H or [H, W]) or 'like' (an earlier map whose H×W it takes)")
    return MapArgs(size=f.pair("size", None, hi=MAX_RESOLUTION), like=f.text("like"))


def expand(ex, row) -> None:
    a: MapArgs = row.args
    (name,) = ex.repeat_names(row, "map")
    inputs = (ex.last,) + ((ex.resolve(a.like, "like"),) if a.like else ())
    ex.emit(name, "map", ex.cur, inputs=inputs, shape_only=len(inputs) - 1, size=a.size)


def shape(layer: Layer, inputs: list[Shape]) -> Shape:
    x = inputs[0]
    if not isinstance(x, Tokens):
        raise GraphError(f"'map' folds tokens back into a map; its input is a {layout(x)}", field=layer.name)
    if layer.size is not None:
        h, w = layer.size
    else:
        ref = inputs[1]
        if layout(ref) != "map":
            raise GraphError(f"'like: {layer.inputs[1]}' must name a map, not {layout(ref)}", field=layer.name)
        h, w = ref[0], ref[1]
    if x[0] * x[1] != h * w:
        raise GraphError(f"a {h}×{w} map needs {h * w} positions; {layer.inputs[0]} has {fmt_positions(x)}",
                         field=layer.name)
    return (h, w, x[2])


KIND = Kind(
    "map", "a sequence of tokens back as an H×W map",
    keys=("size", "like"), refs=("like",), read=read, expand=expand, example=[
        {"kind": "tokens", "name": "t"}, {"kind": "map", "name": "x", "like": "input"}],
    shape=shape, factor=weightless, elements=no_elements,
    label=lambda layer: "Map", latency="free",
    counting=Counting(work="a view"),
    unsupported={"torch": PENDING_TORCH, "onnx_export": PENDING_EXPORT, "onnx_import": PENDING_IMPORT},
)
