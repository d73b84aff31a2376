"""``tokens``: a map as a sequence of tokens — H×W×C flattened to H·W tokens of C channels
(``x.flatten(2).transpose(1, 2)``), or, with ``patch: [p_h, p_w]``, MobileViT's unfolding: one
sequence per pixel of a p_h×p_w patch, each of the H·W/(p_h·p_w) patches a token of it.

A map whose sides are not multiples of the patch is refused, unless ``resize`` (bilinear or
nearest) says to resize it up to the next multiples first, ⌈H/p_h⌉·p_h × ⌈W/p_w⌉·p_w — what
timm's MobileVitBlock does with F.interpolate before unfolding (a ``map`` with the same
``patch`` folds back and resizes down to H×W).

Cost: a view, nothing in any count; every count reads tokens as it reads a map (N·S positions of
C channels), so flattening changes no number. A resize has no weights; its interpolation is
per-element work (the ``resize_out`` count, which ptflops, fvcore and thop charge as they charge an
``upsample``: :mod:`.upsample`), and what follows it runs on the resized map's positions.

Row keys: patch (none: one sequence), resize (none | bilinear | nearest; needs a patch).
"""
from __future__ import annotations

from dataclasses import dataclass

from ...errors import GraphError
from ..fields import MAX_KERNEL
from ..graph import Layer, Pair, Shape, Tokens, layout
from ..kind import Counting, Kind, weightless
from . import upsample
from ._moves import passthrough

RESIZE = ("bilinear", "nearest")


@dataclass(frozen=True)
class TokensArgs:
    patch: Pair | None = None
    resize: str = ""


def read_resize(f) -> str:
    """``resize``: how a map that the patch does not tile is resized to (or from) the next
    multiples of the patch; it needs a ``patch``."""
    resize = f.choice("resize", RESIZE, "")
    if resize and not f.has("patch"):
        f.fail_key("resize", "a resize makes the map a multiple of the patch: it needs 'patch'")
    return resize


def read(f) -> TokensArgs:
    return TokensArgs(patch=f.pair("patch", None, hi=MAX_KERNEL), resize=read_resize(f))


def expand(ex, row) -> None:
    passthrough(ex, row, k=row.args.patch or (1, 1), mode=row.args.resize)


def tiled(h: int, w: int, patch: Pair) -> tuple[int, int]:
    """H×W resized up to the next multiples of the patch (itself when they are)."""
    ph, pw = patch
    return -(-h // ph) * ph, -(-w // pw) * pw


def shape(layer: Layer, inputs: list[Shape]) -> Shape:
    x = inputs[0]
    if layout(x) != "map":
        raise GraphError(f"'tokens' flattens a map; its input is already {layout(x)}", field=layer.name)
    h, w, c = x
    ph, pw = layer.k
    if h % ph or w % pw:
        if not layer.mode:
            raise GraphError(f"{ph}×{pw} patches do not tile the {h}×{w} map (resize: bilinear resizes it up to "
                             f"the next multiples first, as timm's MobileViT does)", field=layer.name)
        h, w = tiled(h, w, layer.k)
    return Tokens(h * w // (ph * pw), c, ph * pw)


def elements(r) -> dict:
    """A view; with ``resize``, the resized map's elements (when the patch does not tile the map)."""
    (h, w, c), layer = r.input_shapes[0], r.layer
    if not layer.mode or (h % layer.k[0] == 0 and w % layer.k[1] == 0):
        return {}
    th, tw = tiled(h, w, layer.k)
    return {"resize": layer.mode, "resize_out": th * tw * c}


KIND = Kind(
    "tokens", "a map as a sequence of tokens (or MobileViT's unfolded patches)",
    keys=("patch", "resize"), read=read, expand=expand, example={},
    shape=shape, factor=weightless, elements=elements, counts=("resize", "resize_out"),
    label=lambda layer: "Tokens", latency="free", peers=upsample.PEERS,
    counting=Counting(work="a view (a resize: an interpolation per element, which counters charge as an upsample's)"),
)
