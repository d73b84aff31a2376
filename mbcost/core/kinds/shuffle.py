"""``shuffle``: ShuffleNet's channel shuffle — C = g·(C/g) channels viewed as g × C/g,
transposed and flattened back.

Cost: it moves data: nothing in any count.

Row keys: groups (2).
"""
from __future__ import annotations

from dataclasses import dataclass

from ...errors import GraphError
from ..graph import Layer, Shape
from ._peers import view
from ..kind import Counting, Kind, no_elements, weightless


@dataclass(frozen=True)
class ShuffleArgs:
    groups: int = 2


def read(f) -> ShuffleArgs:
    return ShuffleArgs(f.integer("groups", 2))


def expand(ex, row) -> None:
    g = row.args.groups
    if ex.cur % g:
        ex.fail(f"groups={g} does not divide the {ex.cur} channels", "groups")
    (name,) = ex.repeat_names(row, "shuffle")
    ex.emit(name, "shuffle", ex.cur, groups=g)


def shape(layer: Layer, inputs: list[Shape]) -> Shape:
    if inputs[0][2] % layer.groups:
        raise GraphError(f"groups={layer.groups} does not divide the {inputs[0][2]} channels", field=layer.name)
    return inputs[0]


KIND = Kind(
    "shuffle", "ShuffleNet's channel shuffle",
    keys=("groups",), read=read, expand=expand, example={"groups": 2},
    shape=shape, factor=weightless, elements=no_elements,
    label=lambda layer: "Shuffle", latency="copy",
    peers=view('a channel shuffle'),
    counting=Counting(work="moves data only"),
)
