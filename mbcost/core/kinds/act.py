"""``act``: a standalone activation (where it cannot follow a layer: after a join, or on a
tensor read elsewhere too).

Cost: nothing in the papers' count. Per-element work: the activation on every element, which
the generic activation rule of :mod:`mbcost.core.elements` counts as for any layer's ``act``.

Row keys: act (required).
"""
from __future__ import annotations

from dataclasses import dataclass

from ._peers import view
from ..kind import ACTIVATIONS, Counting, Kind, no_elements, same_shape, weightless
from ._moves import passthrough


@dataclass(frozen=True)
class ActArgs:
    act: str


def read(f) -> ActArgs:
    act = f.act()
    if act is None:
        f.missing(f"missing 'act' (one of {', '.join(ACTIVATIONS)})")
    return ActArgs(act)


def expand(ex, row) -> None:
    passthrough(ex, row, act=row.args.act)


KIND = Kind(
    "act", "a standalone activation",
    elementwise=True,
    keys=("act",), read=read, expand=expand, example={"act": "relu"},
    shape=same_shape, factor=weightless, elements=no_elements,
    label=lambda layer: "Activation", latency="act",
    peers=view('a standalone activation beyond its generic term'),
    counting=Counting(work="the activation on every element (the generic activation rule)"),
)
