"""``sub``: a − b, element-wise, for two tensors of one shape — PoolFormer's and EfficientFormer's
pooling token mixer, ``pool(x) − x`` (timm/models/efficientformer.py Pooling.forward).

Cost: no weights, so nothing in the papers' count or FlopCounterMode's. Per-element work: one
subtraction per output element — an addition of the negation, so the ``add`` count. No counter
charges it: ptflops patches ``torch.add``, ``torch.mul`` and their Tensor methods by name but
not ``torch.sub`` (ptflops/pytorch_ops.py TENSOR_OPS_MAPPING), fvcore has no ``aten::sub``
handle, and the others count no element-wise op (:mod:`.add`). Timed by the bytes it moves.

Row keys: from ([a, b]: a − b).
"""
from __future__ import annotations

from ...errors import GraphError
from ..graph import Layer, Shape, layout
from ..kind import Counting, Kind, fmt_shape, weightless
from ._peers import view
from .add import joined


def read(f) -> None:
    f.joined_inputs(exactly=2, expected="[a, b] (a − b)")


def expand(ex, row) -> None:
    inputs = joined(ex, row)
    ca, cb = (ex.channels[x] for x in inputs)
    if ca != cb:
        ex.fail(f"cannot subtract {inputs[1]} ({cb} channels) from {inputs[0]} ({ca} channels)")
    (name,) = ex.repeat_names(row, "sub")
    ex.emit(name, "sub", ca, inputs=inputs)


def shape(layer: Layer, inputs: list[Shape]) -> Shape:
    a, b = inputs
    if a != b or layout(a) != layout(b):
        raise GraphError(f"cannot subtract {layer.inputs[1]} ({fmt_shape(b)}) from {layer.inputs[0]} "
                         f"({fmt_shape(a)}): the shapes differ", field=layer.name)
    return a


def elements(r) -> dict:
    """One subtraction per output element."""
    h, w, c = r.output_shape
    return {"add": h * w * c}


KIND = Kind(
    "sub", "element-wise difference a − b of two tensors of one shape (pool(x) − x)",
    elementwise=True,
    read=read, expand=expand, example={"from": ["input", "input"]}, joins=True,
    shape=shape, factor=weightless, elements=elements, counts=("add",),
    label=lambda layer: "Subtract", shows_act=False, latency="add",
    peers=view("a subtraction (ptflops patches torch.add and torch.mul, not torch.sub)"),
    counting=Counting(work="one subtraction per output element"),
)
