"""``add``: element-wise sum of two or more tensors of one shape (a residual join), with an
optional activation after it (ResNet's).

Cost: no weights, so nothing in the papers' count. Per-element work: one addition per output
element for each input past the first, which ptflops charges when the code calls ``torch.add``
by name (not for Python's ``+``: :class:`mbcost.core.peers.Implementation`). Timed as an
element-wise add (latency class ``add``: per output element, its act included, plus the bytes
it moves).

Row keys: from (two or more names; one name means the previous row + it, mbcost 0.1's form),
act.
"""
from __future__ import annotations

from dataclasses import dataclass

from ...errors import GraphError
from ..graph import Layer, Shape, layout
from ..kind import Counting, Factor, Kind, fmt_shape
from ._peers import PT_ENGINE, PT_OPS, elementwise


@dataclass(frozen=True)
class AddArgs:
    act: str | None = None


def read(f) -> AddArgs:
    act = f.act()
    f.joined_inputs(minimum=1)
    return AddArgs(act)


def joined(ex, row) -> tuple[str, ...]:
    """The tensors a join reads; an add with one name reads the previous row's output and it."""
    if row.kind == "add" and len(row.inputs) == 1:  # mbcost 0.1's form: previous row + from
        return (ex.last, ex.resolve(row.inputs[0]))
    return tuple(ex.resolve(x) for x in row.inputs)


def expand(ex, row) -> None:
    inputs = joined(ex, row)
    cs = [ex.channels[x] for x in inputs]
    for x, c in zip(inputs[1:], cs[1:]):
        if c != cs[0]:
            ex.fail(f"cannot add {x} ({c} channels) to {inputs[0]} ({cs[0]} channels)")
    (name,) = ex.repeat_names(row, "add")
    ex.emit(name, "add", cs[0], inputs=inputs, act=row.args.act or "linear")


def shape(layer: Layer, inputs: list[Shape]) -> Shape:
    a = inputs[0]
    for name, b in zip(layer.inputs[1:], inputs[1:]):
        if b != a or layout(b) != layout(a):
            raise GraphError(f"cannot add {name} ({fmt_shape(b)}) to {layer.inputs[0]} ({fmt_shape(a)}): "
                             "the shapes differ", field=layer.name)
    return a


def factor(layer: Layer, m: list[int], conv) -> Factor:
    """A residual join of inputs of one shape: no weights, so no mult-adds and no parameters."""
    return Factor(0, 0)


def elements(r) -> dict:
    """n inputs of one shape: n − 1 additions per output element."""
    h, w, c = r.output_shape
    return {"add": h * w * c * (len(r.input_shapes) - 1)}


# ptflops's patch_tensor_ops wraps torch.add/mul and Tensor.add/mul (not `+`, `*`, `+=`, mul_):
# _elementwise_tensor_flops_hook, the broadcast numel of its operands paired from the left
TENSOR_OPS = f"{PT_OPS}:397-419 _elementwise_tensor_flops_hook, :465-468; {PT_ENGINE}:451-456 patch_tensor_ops"


KIND = Kind(
    "add", "element-wise sum of two or more tensors (a residual join)",
    elementwise=True,
    keys=("act",), read=read, expand=expand, example={"from": ["input", "input"]}, joins=True,
    shape=shape, factor=factor, elements=elements, counts=("add",),
    label=lambda layer: "Add", shows_act=False, latency="add", peers=elementwise("add", "add", TENSOR_OPS),
    counting=Counting(work="one addition per output element for each input past the first"),
)
