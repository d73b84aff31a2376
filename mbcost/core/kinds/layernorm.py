"""``layernorm``: layer normalisation over the C channels of each token (nn.LayerNorm), or of
each pixel of a map (ConvNeXt's LayerNorm2d), with a learned γ and β (``affine``, the default).

Cost: no mult-adds — normalising is per-element work (mean, variance, normalise, scale, shift
per element: the ``norm`` count, which fvcore and ptflops charge) as a batch norm's is, and the
papers and FlopCounterMode count neither — and 2·C parameters under every convention: unlike a
batch norm it cannot be folded into a conv, so ``bn`` does not apply. Timed by the bytes it moves.

Row keys: affine (true).
"""
from __future__ import annotations

from dataclasses import dataclass

from ..kind import Counting, Kind
from . import _norms


@dataclass(frozen=True)
class NormArgs:
    affine: bool = True
    groups: int = 1


def read(f) -> NormArgs:
    return NormArgs(affine=bool(f.boolean("affine", True)))


def expand(ex, row) -> None:
    (name,) = ex.repeat_names(row, row.kind)
    ex.emit(name, row.kind, ex.cur, affine=row.args.affine, groups=row.args.groups)


KIND = Kind(
    "layernorm", "layer normalisation over the channels of each token or pixel (affine)",
    keys=("affine",), read=read, expand=expand, example={}, elementwise=True,
    shape=_norms.shape, factor=_norms.factor, elements=_norms.elements, counts=("norm", "norm_channels", "params_batch"),
    label=lambda layer: "LayerNorm", latency="layernorm",
    peers=_norms.peers('layernorm', 'nn.LayerNorm', ptflops_affine=False, thop=True),
    counting=Counting(bn="own", work="mean, variance, normalise, scale and shift per element"),
)
