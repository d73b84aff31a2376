"""``pos_embed``: a learned position embedding added to every position (ViT's, DeiT's).

Cost: one learned vector per position, N·C parameters for N positions (tokens, class token
included, or the H·W of a map) — so its parameters scale with the input area, as the module it
describes is built for one resolution — and no mult-adds: the additions (N·C, the ``add``
count) are per-element work.

Row keys: none.
"""
from __future__ import annotations

from ...errors import GraphError
from ..graph import Layer, Scores, Shape
from ..kind import Counting, Factor, Kind
from ._moves import passthrough
from ._peers import elementwise
from .add import TENSOR_OPS


def read(f) -> None:
    return None


def shape(layer: Layer, inputs: list[Shape]) -> Shape:
    if isinstance(inputs[0], Scores):
        raise GraphError("a position embedding is added to tokens or a map, not attention scores", field=layer.name)
    return inputs[0]


def factor(layer: Layer, m: list[int], conv) -> Factor:
    """N·C parameters, C per position (A = the positions), no mult-adds."""
    return Factor(0, 0, m[0])


def elements(r) -> dict:
    """One addition per element."""
    h, w, c = r.output_shape
    return {"add": h * w * c}


KIND = Kind(
    "pos_embed", "a learned position embedding added to every position",
    read=read, expand=passthrough, example={}, elementwise=True,
    shape=shape, factor=factor, elements=elements, counts=("add",),
    label=lambda layer: "Position embedding", latency="add", peers=elementwise("pos_embed", "add", TENSOR_OPS),
    counting=Counting(work="one addition per element"),
)
