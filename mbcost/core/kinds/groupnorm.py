"""``groupnorm``: group normalisation (nn.GroupNorm) — the C channels in ``groups`` groups, each
normalised over its channels and all positions, with a learned γ and β per channel.

Cost: as a layer norm's (:mod:`.layernorm`): no mult-adds, 2·C parameters under every
convention, and every element normalised. ``groups: 1`` normalises all channels and positions
together (PoolFormer's and EfficientFormerV2's GroupNorm(1, C)).

Row keys: groups (required), affine (true).
"""
from __future__ import annotations

from ...errors import GraphError
from ..kind import Counting, Kind
from . import _norms
from .layernorm import NormArgs


def read(f) -> NormArgs:
    groups = f.integer("groups")
    if groups is None:
        f.missing("missing 'groups' (the channel groups normalised together, e.g. 1)")
    return NormArgs(affine=bool(f.boolean("affine", True)), groups=groups)


def expand(ex, row) -> None:
    g = row.args.groups
    if ex.cur % g:
        ex.fail(f"groups={g} does not divide the {ex.cur} channels", "groups")
    (name,) = ex.repeat_names(row, "groupnorm")
    ex.emit(name, "groupnorm", ex.cur, affine=row.args.affine, groups=g)


def shape(layer, inputs):
    if inputs[0][2] % layer.groups:
        raise GraphError(f"groups={layer.groups} does not divide the {inputs[0][2]} channels", field=layer.name)
    return _norms.shape(layer, inputs)


KIND = Kind(
    "groupnorm", "group normalisation (channels in groups, affine per channel)",
    keys=("groups", "affine"), read=read, expand=expand, example={"groups": 2}, elementwise=True,
    shape=shape, factor=_norms.factor, elements=_norms.elements, counts=("norm", "norm_channels", "params_batch"),
    label=lambda layer: "GroupNorm", latency="groupnorm",
    peers=_norms.peers('groupnorm', 'nn.GroupNorm', ptflops_affine=True, thop=False),
    counting=Counting(bn="own", work="mean, variance, normalise, scale and shift per element"),
)
