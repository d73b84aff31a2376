"""``tokens``: a map as a sequence of tokens — H×W×C flattened to H·W tokens of C channels
(``x.flatten(2).transpose(1, 2)``), or, with ``patch: [p_h, p_w]``, MobileViT's unfolding: one
sequence per pixel of a p_h×p_w patch, each of the H·W/(p_h·p_w) patches a token of it.

Cost: a view, nothing in any count; every count reads tokens as it reads a map (N·S positions of
C channels), so flattening changes no number.

Row keys: patch (none: one sequence).
"""
from __future__ import annotations

from dataclasses import dataclass

from ...errors import GraphError
from ..fields import MAX_KERNEL
from ..graph import Layer, Pair, Shape, Tokens, layout
from ._pending import PENDING_EXPORT, PENDING_TORCH, PENDING_IMPORT
from ..kind import Counting, Kind, no_elements, weightless
from ._moves import passthrough


@dataclass(frozen=True)
class TokensArgs:
    patch: Pair | None = None


def read(f) -> TokensArgs:
    return TokensArgs(patch=f.pair("patch", None, hi=MAX_KERNEL))


def expand(ex, row) -> None:
    passthrough(ex, row, k=row.args.patch or (1, 1))


def shape(layer: Layer, inputs: list[Shape]) -> Shape:
    x = inputs[0]
    if layout(x) != "map":
        raise GraphError(f"'tokens' flattens a map; its input is already {layout(x)}", field=layer.name)
    h, w, c = x
    ph, pw = layer.k
    if h % ph or w % pw:
        raise GraphError(f"{ph}×{pw} patches do not tile the {h}×{w} map", field=layer.name)
    return Tokens(h * w // (ph * pw), c, ph * pw)


KIND = Kind(
    "tokens", "a map as a sequence of tokens (or MobileViT's unfolded patches)",
    keys=("patch",), read=read, expand=expand, example={},
    shape=shape, factor=weightless, elements=no_elements,
    label=lambda layer: "Tokens", latency="free",
    counting=Counting(work="a view"),
    unsupported={"torch": PENDING_TORCH, "onnx_export": PENDING_EXPORT, "onnx_import": PENDING_IMPORT},
)
