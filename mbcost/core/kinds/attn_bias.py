"""``attn_bias``: a learned attention bias added to the scores, one table entry per relative
offset and head (LeViT's and EfficientFormer's attention biases).

Cost: heads × ``offsets`` parameters (the table; its index is a buffer, not a parameter) and no
mult-adds: the additions are per-element work. The table is built for one resolution (a 7×7
grid has 49 offsets), so ``offsets`` is given, as the module fixes it.

Row keys: offsets (required).
"""
from __future__ import annotations

from dataclasses import dataclass

from ...errors import GraphError
from ..fields import MAX_CHANNELS
from ..graph import Layer, Scores, Shape
from ..kind import Counting, Factor, Kind
from ._peers import elementwise
from .add import TENSOR_OPS


@dataclass(frozen=True)
class AttentionBiasArgs:
    offsets: int


def read(f) -> AttentionBiasArgs:
    offsets = f.integer("offsets", None, hi=MAX_CHANNELS)
    if offsets is None:
        f.missing("missing 'offsets' (the bias table's entries per head: the relative offsets, e.g. 49)")
    return AttentionBiasArgs(offsets)


def expand(ex, row) -> None:
    if ex.last not in ex.scores:
        ex.fail(f"an attention bias is added to attention scores; {ex.last} is not")
    (name,) = ex.repeat_names(row, "attn_bias")
    ex.emit(name, "attn_bias", ex.cur, extra=row.args.offsets)


def shape(layer: Layer, inputs: list[Shape]) -> Shape:
    if not isinstance(inputs[0], Scores):
        raise GraphError("an attention bias is added to attention scores", field=layer.name)
    return inputs[0]


def factor(layer: Layer, m: list[int], conv) -> Factor:
    """heads × offsets parameters (m = the scores' heads), no mult-adds."""
    return Factor(0, m[0] * layer.extra)


def elements(r) -> dict:
    """One addition per score."""
    h, w, c = r.output_shape
    return {"add": h * w * c}


KIND = Kind(
    "attn_bias", "a learned attention bias per relative offset and head (LeViT, EfficientFormer)",
    keys=("offsets",), read=read, expand=expand, elementwise=True, example=[
        {"kind": "matmul", "name": "s", "from": ["input", "input"], "heads": 2},
        {"kind": "attn_bias", "name": "b", "offsets": 16},
        {"kind": "matmul", "name": "x", "from": ["b", "input"], "heads": 2}],
    shape=shape, factor=factor, elements=elements, counts=("add",),
    label=lambda layer: "Attention bias", latency="add", peers=elementwise("attn_bias", "add", TENSOR_OPS),
    counting=Counting(work="one addition per score"),
)
