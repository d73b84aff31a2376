"""``flatten``: the map as one vector (before an fc). An fc flattens its input anyway, so the
layer keeps its H×W×C for counting; the tensor is N×(H·W·C).

Cost: a view: nothing in any count.

Row keys: none.
"""
from __future__ import annotations

from ._peers import view
from ..kind import Counting, Kind, no_elements, same_shape, weightless
from ._moves import passthrough


def read(f) -> None:
    return None


KIND = Kind(
    "flatten", "the map as one vector",
    read=read, expand=passthrough, example={},
    shape=same_shape, factor=weightless, elements=no_elements,
    label=lambda layer: "Flatten", latency="free",
    peers=view('a flatten'),
    counting=Counting(work="views its input"),
)
