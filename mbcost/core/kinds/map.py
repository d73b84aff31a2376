"""``map``: a sequence of tokens back as an H×W map — ``size: [H, W]``, or ``like: NAME``, the
H×W of an earlier map (the one a ``tokens`` row flattened, so the file works at any resolution);
MobileViT's unfolded patches fold back the same way.

The N·S tokens must be exactly H·W positions. With ``patch: [p_h, p_w]`` they are the unfolded
p_h×p_w patches of a ``tokens`` row with that patch: S = p_h·p_w sequences, and with ``resize``
(that row's resize) the tokens of the map resized up to the next multiples of the patch, folded
back and resized down to H×W (timm's MobileVitBlock: fold, then F.interpolate).

Cost: a view, nothing in any count but a resize's interpolation (``resize_out``, as for ``tokens``).

Row keys: size or like, patch, resize (none | bilinear | nearest; needs a patch).
"""
from __future__ import annotations

from dataclasses import dataclass

from ...errors import GraphError
from ..fields import MAX_KERNEL, MAX_RESOLUTION
from ..graph import Layer, Pair, Shape, Tokens, fmt_positions, layout
from ..kind import Counting, Kind, weightless
from . import upsample
from .tokens import read_resize, tiled


@dataclass(frozen=True)
class MapArgs:
    size: Pair | None = None
    like: str | None = None
    patch: Pair | None = None
    resize: str = ""


def read(f) -> MapArgs:
    if f.has("size") == f.has("like"):
        f.missing("give a map either 'size' (H or [H, W]) or 'like' (an earlier map whose H×W it takes)")
    return MapArgs(size=f.pair("size", None, hi=MAX_RESOLUTION), like=f.text("like"),
                   patch=f.pair("patch", None, hi=MAX_KERNEL), resize=read_resize(f))


def expand(ex, row) -> None:
    a: MapArgs = row.args
    (name,) = ex.repeat_names(row, "map")
    inputs = (ex.last,) + ((ex.resolve(a.like, "like"),) if a.like else ())
    ex.emit(name, "map", ex.cur, inputs=inputs, shape_only=len(inputs) - 1, size=a.size, k=a.patch or (1, 1), mode=a.resize)


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
    ph, pw = layer.k
    if (ph, pw) != (1, 1) and x[1] != ph * pw:
        raise GraphError(f"{ph}×{pw} patches fold {ph * pw} sequences; {layer.inputs[0]} has {fmt_positions(x)}",
                         field=layer.name)
    th, tw = tiled(h, w, layer.k) if layer.mode else (h, w)
    if x[0] * x[1] != th * tw:
        resized = f" (resized to {th}×{tw})" if (th, tw) != (h, w) else ""
        raise GraphError(f"a {h}×{w} map{resized} needs {th * tw} positions; {layer.inputs[0]} has "
                         f"{fmt_positions(x)}", field=layer.name)
    return (h, w, x[2])


def elements(r) -> dict:
    """A view; with ``resize``, the map resized back down to H×W (when it was resized up)."""
    layer, (h, w, c) = r.layer, r.output_shape
    if not layer.mode or tiled(h, w, layer.k) == (h, w):
        return {}
    return {"resize": layer.mode, "resize_out": h * w * c}


KIND = Kind(
    "map", "a sequence of tokens back as an H×W map",
    keys=("size", "like", "patch", "resize"), read=read, expand=expand, refs=("like",), example=[
        {"kind": "tokens", "name": "t"}, {"kind": "map", "name": "x", "like": "input"}],
    shape=shape, factor=weightless, elements=elements, counts=("resize", "resize_out"),
    label=lambda layer: "Map", latency="free", peers=upsample.PEERS,
    counting=Counting(work="a view (a resize: an interpolation per element, which counters charge as an upsample's)"),
)
