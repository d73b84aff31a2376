"""``softmax``: the softmax over each row of attention scores (or over a tensor's channels).

Cost: no weights, nothing in the papers' count or FlopCounterMode's; its per-element work — an
exponential and a share of a sum per element — is the ``softmax`` count. Timed by the bytes it
moves.

Row keys: none.
"""
from __future__ import annotations

from ._pending import PENDING_EXPORT, PENDING_TORCH, PENDING_IMPORT, PENDING_PEERS
from ..kind import Counting, Kind, same_shape, weightless
from ._moves import passthrough


def read(f) -> None:
    return None


def elements(r) -> dict:
    """Every element is exponentiated and divided by its row's sum."""
    h, w, c = r.output_shape
    return {"softmax": h * w * c}


KIND = Kind(
    "softmax", "softmax over the last axis (attention scores' rows)",
    read=read, expand=passthrough, example={}, elementwise=True,
    shape=same_shape, factor=weightless, elements=elements, counts=("softmax",),
    label=lambda layer: "Softmax", latency="softmax",
    counting=Counting(work="an exponential and a normalisation per element"),
    unsupported={"torch": PENDING_TORCH, "onnx_export": PENDING_EXPORT, "onnx_import": PENDING_IMPORT, "peers": PENDING_PEERS},
)
