"""``layerscale``: a learned per-channel scale γ ⊙ x (CaiT's and ConvNeXt's layer scale).

Cost: C parameters, and no mult-adds: γ·x is one product per element with no accumulation (the
``mul`` count, which counters that charge an element-wise product see), and neither the papers
nor FlopCounterMode count it. Timed by the bytes it moves.

Row keys: none.
"""
from __future__ import annotations

from ..kind import Counting, Factor, Kind, same_shape
from ._moves import passthrough
from ._peers import elementwise
from .add import TENSOR_OPS


def read(f) -> None:
    return None


def factor(layer, m: list[int], conv) -> Factor:
    """No mult-adds (one product per element, no accumulation) and C parameters, γ."""
    return Factor(0, m[0])


def elements(r) -> dict:
    """One product per element."""
    h, w, c = r.output_shape
    return {"mul": h * w * c}


KIND = Kind(
    "layerscale", "a learned per-channel scale γ (layer scale)",
    read=read, expand=passthrough, example={}, elementwise=True,
    shape=same_shape, factor=factor, elements=elements, counts=("mul",),
    label=lambda layer: "Layer scale", latency="mul", peers=elementwise("layerscale", "mul", TENSOR_OPS),
    counting=Counting(work="one product per element"),
)
