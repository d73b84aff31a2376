"""``concat``: tensors side by side along channels (Inception's branches, a U-Net's skip).

Cost: it moves data and computes nothing: no mult-adds, no parameters, no per-element work.

Row keys: from (two or more names).
"""
from __future__ import annotations

from ..graph import Layer, Shape, with_channels
from ._peers import view
from ..kind import Counting, Kind, no_elements, weightless
from ..spatial import same_map
from .add import joined


def read(f) -> None:
    f.joined_inputs()


def expand(ex, row) -> None:
    inputs = joined(ex, row)
    (name,) = ex.repeat_names(row, "concat")
    ex.emit(name, "concat", sum(ex.channels[x] for x in inputs), inputs=inputs)


def shape(layer: Layer, inputs: list[Shape]) -> Shape:
    same_map(layer, inputs, "concatenate")
    return with_channels(inputs[0], sum(s[2] for s in inputs))  # tokens stay tokens


KIND = Kind(
    "concat", "tensors side by side along channels",
    read=read, expand=expand, example={"from": ["input", "input"]}, joins=True,
    shape=shape, factor=weightless, elements=no_elements,
    label=lambda layer: "Concat", latency="copy",
    peers=view('torch.cat'),
    counting=Counting(work="moves data only"),
)
