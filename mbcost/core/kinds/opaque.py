"""``opaque``: an op of an imported model that mbcost does not cost, kept with
``--allow-unknown`` so that what follows it is still costed.

Its output is the H×W×N the model states (``k`` holds H×W) and it counts nothing; every
output of a result holding one says PARTIAL and names the op. It is never written in a file.
"""
from __future__ import annotations

from ..graph import Layer, Shape
from ..kind import Counting, Factor, Kind, generic, no_elements
from ._peers import COUNTERS, every


def shape(layer: Layer, inputs: list[Shape]) -> Shape:
    return (layer.k[0], layer.k[1], layer.c)


def factor(layer: Layer, m: list[int], conv) -> Factor:
    """An op of an imported model that mbcost does not cost (kept with --allow-unknown): its
    output is the H×W×N the model states (k holds H×W), and it counts nothing — the result is
    marked partial."""
    return Factor(0, 0)


NOT_A_MODEL_OP = "it stands for an op mbcost cannot cost, which no other format could rebuild"

# mbcost does not know the op, so no profile can say what a counter charges for it: the counts
# are a lower bound, and every output says the result is partial
PEERS = every(**{name.replace("-", "_"): generic("the op is not costed (a partial result)",
                                                 "unknown: not costed") for name in COUNTERS})

KIND = Kind(
    "opaque", "an imported op mbcost does not cost (--allow-unknown)",
    shape=shape, factor=factor, elements=no_elements,
    label=lambda layer: f"{layer.op} (not costed)", latency="opaque", peers=PEERS,
    counting=Counting(work="unknown: not costed"),
    unsupported={"read": "it is what --allow-unknown keeps of an imported op; no file writes it",
                 "expand": "it is never written in a file",
                 "torch": NOT_A_MODEL_OP, "onnx_export": NOT_A_MODEL_OP,
                 "yaml": "an op mbcost does not cost has no row: convert refuses a partial model"},
)
