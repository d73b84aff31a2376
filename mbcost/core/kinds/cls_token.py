"""``cls_token``: learned tokens prepended to a sequence — ViT's class token (``n: 2`` for
DeiT's class and distillation tokens).

Cost: n·C parameters and no mult-adds (a concatenation). Timed by the bytes it moves.

Row keys: tokens (1), the tokens it prepends.
"""
from __future__ import annotations

from dataclasses import dataclass

from ...errors import GraphError
from ..fields import MAX_REPEAT
from ..graph import Layer, Shape, Tokens
from ._peers import view
from ..kind import Counting, Factor, Kind, no_elements


@dataclass(frozen=True)
class ClassTokenArgs:
    tokens: int = 1


def read(f) -> ClassTokenArgs:
    return ClassTokenArgs(f.integer("tokens", 1, hi=MAX_REPEAT))


def expand(ex, row) -> None:
    (name,) = ex.repeat_names(row, "cls_token")
    ex.emit(name, "cls_token", ex.cur, extra=row.args.tokens)


def shape(layer: Layer, inputs: list[Shape]) -> Shape:
    x = inputs[0]
    if not isinstance(x, Tokens) or x[1] != 1:
        raise GraphError("a class token is prepended to one sequence of tokens", field=layer.name)
    return Tokens(x[0] + layer.extra, x[2])


def factor(layer: Layer, m: list[int], conv) -> Factor:
    """n·C parameters (the learned tokens), no mult-adds."""
    return Factor(0, layer.extra * m[0])


KIND = Kind(
    "cls_token", "learned tokens prepended to a sequence (ViT's class token)",
    keys=("tokens",), read=read, expand=expand, example=[{"kind": "tokens", "name": "t"},
                                                           {"kind": "cls_token", "name": "x"}],
    shape=shape, factor=factor, elements=no_elements,
    label=lambda layer: "Class token", latency="copy",
    peers=view('torch.cat of a class token'),
    counting=Counting(work="a concatenation"),
)
