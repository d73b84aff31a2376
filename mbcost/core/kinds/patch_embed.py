"""``patch_embed``: ViT's patch embedding — a p×p conv with stride p (one token per patch,
with a bias), then the map as tokens (``NAME.proj``, ``NAME.tokens``), and a layer norm after
it with ``norm: true``. Each layer is costed as its own kind: the conv's p²·3·C·(H/p)·(W/p).

Row keys: c, patch (16), bias (true), norm (false), scale.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..fields import MAX_KERNEL
from ..graph import Pair
from ..kind import Kind


@dataclass(frozen=True)
class PatchEmbedArgs:
    c: int
    patch: Pair = (16, 16)
    bias: bool = True
    norm: bool = False
    scale: str = "always"


def read(f) -> PatchEmbedArgs:
    scale = f.scale()
    c, _ = f.channels()
    return PatchEmbedArgs(c=c, patch=f.pair("patch", (16, 16), hi=MAX_KERNEL), bias=bool(f.boolean("bias", True)),
                          norm=bool(f.boolean("norm", False)), scale=scale)


def expand(ex, row) -> None:
    a: PatchEmbedArgs = row.args
    for name in ex.repeat_names(row, "patch_embed"):
        ex.emit(f"{name}.proj", "conv", ex.scale(a.c, a.scale), k=a.patch, s=a.patch, padding="valid",
                bias=a.bias, block=name, role="proj")
        ex.emit(f"{name}.tokens", "tokens", ex.cur, block=name, role="tokens")
        if a.norm:
            ex.emit(f"{name}.norm", "layernorm", ex.cur, block=name, role="norm")
        ex.alias(name)


KIND = Kind("patch_embed", "ViT's patch embedding: a p×p conv of stride p, then tokens",
            keys=("c", "patch", "bias", "norm", "scale"), read=read, expand=expand, example={"c": 16, "patch": 4})
