"""``mul``: x · gate, element-wise; a 1×1×C gate (squeeze-excite's) is broadcast over H×W.

Cost: no weights, so nothing in the papers' count. Per-element work: one product per output
element, charged by the counters that charge an add (:mod:`.add`). Timed as an element-wise mul
(latency class ``mul``: per output element, plus the bytes it moves).

Row keys: from ([x, gate]).
"""
from __future__ import annotations

from ...errors import GraphError
from ..graph import Layer, Shape
from ..kind import Counting, Factor, Kind, fmt_shape
from ._peers import elementwise
from .add import TENSOR_OPS, joined


def read(f) -> None:
    f.joined_inputs(exactly=2)


def expand(ex, row) -> None:
    inputs = joined(ex, row)
    cx, cg = (ex.channels[x] for x in inputs)
    if cg not in (cx, 1) and cx != cg:
        ex.fail(f"cannot multiply {inputs[0]} ({cx} channels) by {inputs[1]} ({cg} channels)")
    (name,) = ex.repeat_names(row, "mul")
    ex.emit(name, "mul", cx, inputs=inputs)


def shape(layer: Layer, inputs: list[Shape]) -> Shape:
    """x · gate, element-wise; a 1×1×C gate (squeeze-excite) is broadcast over H×W."""
    x, gate = inputs
    if gate != x and gate != (1, 1, x[2]):
        raise GraphError(f"cannot multiply {layer.inputs[0]} ({fmt_shape(x)}) by {layer.inputs[1]} "
                         f"({fmt_shape(gate)}): the gate must be {fmt_shape(x)} or 1×1×{x[2]}", field=layer.name)
    return x


def factor(layer: Layer, m: list[int], conv) -> Factor:
    """x · gate: no weights, so no mult-adds and no parameters."""
    return Factor(0, 0)


def elements(r) -> dict:
    """One product per output element (the 1×1×C gate is broadcast over H×W)."""
    h, w, c = r.output_shape
    return {"mul": h * w * c * (len(r.input_shapes) - 1)}


KIND = Kind(
    "mul", "x · gate, element-wise (a 1×1×C gate broadcast over H×W)",
    elementwise=True,
    read=read, expand=expand, example={"from": ["input", "input"]}, joins=True,
    shape=shape, factor=factor, elements=elements, counts=("mul",),
    label=lambda layer: "Multiply", latency="mul", peers=elementwise("mul", "mul", TENSOR_OPS),
    counting=Counting(work="one product per output element"),
)
