"""``split``: the input's channels in parts of ``sizes`` (ShuffleNetV2's channel split); the
i-th part is the tensor ``NAME.i``, which later rows read with ``from``.

Cost: views of its input: nothing in any count.

Row keys: sizes (two or more channel counts that add up to the input's), or parts (two or more
shares of the input's channels: ``parts: [1, 1, 1]`` is a fused projection's q, k and v — part i
has M·pᵢ/Σp channels — which follow the input at every α, as fixed sizes cannot).
"""
from __future__ import annotations

from dataclasses import dataclass

from ...errors import GraphError
from ..graph import Layer, Shape
from ._peers import view
from ..kind import Counting, Kind, no_elements, weightless


@dataclass(frozen=True)
class SplitArgs:
    sizes: tuple[int, ...]
    parts: bool = False  # sizes are shares of the input's channels


def read(f) -> SplitArgs:
    if f.has("sizes") and f.has("parts"):
        f.fail_key("parts", "give the parts' channels as 'sizes' or their shares as 'parts', not both")
    key = "parts" if f.has("parts") else "sizes"
    sizes = f.integers(key)
    if sizes is None or len(sizes) < 2:
        f.missing("a split needs 'sizes', the channels of each of two or more parts (or 'parts', their shares)")
    return SplitArgs(sizes, key == "parts")


def expand(ex, row) -> None:
    sizes = row.args.sizes
    if row.args.parts:
        total = sum(sizes)
        if ex.cur % total:
            ex.fail(f"parts {list(sizes)} do not divide the {ex.cur} input channels of {ex.last} "
                    f"(they need a multiple of {total})", "parts")
        sizes = tuple(ex.cur * p // total for p in sizes)
    if sum(sizes) != ex.cur:
        ex.fail(f"split sizes {list(sizes)} add up to {sum(sizes)}, not the {ex.cur} input channels of "
                f"{ex.last}", "sizes")
    (name,) = ex.repeat_names(row, "split")
    ex.emit(name, "split", ex.cur, sizes=sizes)


def shape(layer: Layer, inputs: list[Shape]) -> Shape:
    h, w, c = inputs[0]
    if sum(layer.sizes) != c:
        raise GraphError(f"split sizes {list(layer.sizes)} add up to {sum(layer.sizes)}, not the "
                         f"{c} input channels", field=layer.name)
    return inputs[0]


KIND = Kind(
    "split", "the input's channels in parts (tensors NAME.0, NAME.1, …)",
    keys=("sizes", "parts"), read=read, expand=expand, example={"sizes": [4, 4]},
    shape=shape, factor=weightless, elements=no_elements,
    label=lambda layer: "Split", latency="copy",
    peers=view('a channel split'),
    counting=Counting(work="views its input"),
)
