"""``dropout``: the identity at inference (the file's ``p`` is checked and kept for the reader).

Cost: nothing in any count.

Row keys: p (a probability, 0 ≤ p < 1).
"""
from __future__ import annotations

from ._peers import view
from ..kind import Counting, Kind, no_elements, same_shape, weightless
from ..yamlio import describe
from ._moves import passthrough


def read(f) -> None:
    if f.has("p"):
        p = f.data["p"]
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p < 1:
            f.fail_key("p", f"expected a probability from 0 to below 1, got {describe(p)}")


KIND = Kind(
    "dropout", "the identity at inference",
    elementwise=True,
    keys=("p",), read=read, expand=passthrough, example={"p": 0.2},
    shape=same_shape, factor=weightless, elements=no_elements,
    label=lambda layer: "Dropout", latency="free",
    peers=view('dropout in eval'),
    counting=Counting(work="none at inference"),
)
