"""Per-layer element counts: every number a FLOP counter might multiply by a cost per element.

The papers count one thing per layer — the multiply-accumulates of weights with inputs. Other
counters add terms the papers leave out: a bias added at every output position, a batch norm's
scale and shift at every element, one operation per activation element, a pool's input or
output elements. mbcost knows every layer's shapes, so it can count each of those elements
exactly; :mod:`mbcost.core.peers` then writes each counter's total as a formula over them, and
``report``'s JSON and CSV list them per layer so users can write their own.

Everything here is read off what each :class:`~mbcost.core.engine.LayerResult` already holds
(the layer's kind, act, bn and bias, its input and output shapes, its mult-adds); nothing is
costed twice. Three rules hold for every kind: ``macs`` are the layer's mult-adds (its kind's
one formula, never restated), a layer with ``bn`` has a batch norm over its output (C·H·W
elements, C channels), and a layer whose ``act`` is not ``linear`` applies that activation to
every output element. What else a layer contributes is its kind's ``elements`` facet
(:mod:`mbcost.core.kinds`: a pool's input and output elements, an add's additions, …).

    >>> import mbcost
    >>> r = mbcost.analyze("mobilenet_v2")
    >>> e = elements(r["conv1"])
    >>> e.macs, e.bn, e.bn_channels, e.act, e.act_elements   # 112·112·32 = 401,408
    (10838016, 401408, 32, 'relu6', 401408)
    >>> t = total(r)
    >>> t.counts["pool_in"], t.counts["add"]   # 1280·7·7; Σ of the residual outputs
    (62720, 216384)
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Iterable

from .graph import Shape
from .kinds import UnknownKind, kind_of  # noqa: F401  (UnknownKind: what elements() raises)

if TYPE_CHECKING:
    from .engine import LayerResult


def numel(shape: Shape) -> int:
    """Elements of an (H, W, C) map (batch 1)."""
    h, w, c = shape
    return h * w * c


@dataclass(frozen=True)
class Elements:
    """The element counts of one layer (or, summed, of a network), batch 1.

    macs:         weight multiply-accumulates, the papers' mult-adds (conv D_K²·(M/g)·N·D_F²,
                  fc M·N)
    bias:         bias additions: N·D_F² for a conv with a bias, N for an fc with one
    bn:           batch-norm elements C·H·W (eval mode, affine: a scale and a shift each)
    bn_channels:  batch-norm channels C (its γ and β are 2·C parameters)
    act:          the activation applied to the output ('' for linear)
    act_elements: elements it is applied to (the output's)
    pool:         '' or the pooling: avg, max, global_avg, global_max
    pool_in, pool_out: the pool's input and output elements
    add:          element-wise additions of an add: output × (inputs − 1)
    mul:          element-wise products of a mul: output × (inputs − 1), after broadcasting; a
                  layer scale's γ·x: one per element
    norm:         elements a layer norm or group norm normalises (mean, variance, scale, shift)
    norm_channels: its channels C (its γ and β are 2·C parameters)
    softmax:      elements a softmax exponentiates and normalises
    kind:         the layer's kind, whose peer terms apply to its own counts (not an output field)
    """

    macs: int = 0
    bias: int = 0
    bn: int = 0
    bn_channels: int = 0
    act: str = ""
    act_elements: int = 0
    pool: str = ""
    pool_in: int = 0
    pool_out: int = 0
    add: int = 0
    mul: int = 0
    norm: int = 0
    norm_channels: int = 0
    softmax: int = 0
    kind: str = field(default="", metadata={"output": False})
    # the layer's name and block role, which say how its code calls it (Implementation.how)
    name: str = field(default="", compare=False, metadata={"output": False})
    role: str = field(default="", compare=False, metadata={"output": False})

    def to_dict(self) -> dict:
        """For JSON: every count, with the activation and pool named."""
        return {name: getattr(self, name) for name in FIELDS}


# What outputs carry, in order: every field, and the integer ones (CSV columns, network totals).
FIELDS = tuple(f.name for f in fields(Elements) if f.metadata.get("output", True))
COUNTS = tuple(f.name for f in fields(Elements) if f.type == "int")
GENERIC = ("macs", "bias", "bn", "bn_channels", "act", "act_elements")  # what every profile prices itself


@dataclass(frozen=True)
class Totals:
    """A network's element counts: :data:`COUNTS` summed over its layers (``counts``), and the
    activation and pool elements by type (relu6 → elements, global_avg → input elements)."""

    counts: dict[str, int]
    act_elements: dict[str, int] = field(default_factory=dict)
    pool_in: dict[str, int] = field(default_factory=dict)
    pool_out: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {**self.counts, "act_elements_by_type": dict(self.act_elements),
                "pool_in_by_type": dict(self.pool_in), "pool_out_by_type": dict(self.pool_out)}


def elements(r: "LayerResult") -> Elements:
    """One layer's element counts."""
    layer = r.layer
    rule = kind_of(layer).elements
    out = numel(r.output_shape)
    generic: dict = {"macs": r.madds, "kind": layer.kind, "name": layer.name, "role": layer.role or ""}
    if layer.bn:
        generic.update(bn=out, bn_channels=r.output_shape[2])
    if layer.act and layer.act != "linear":
        generic.update(act=layer.act, act_elements=out)
    return Elements(**generic, **rule(r))



def total(results: Iterable["LayerResult"] | object) -> Totals:
    """A network's element counts (a Report or any iterable of LayerResults)."""
    layers = getattr(results, "layers", results)
    counts = dict.fromkeys(COUNTS, 0)
    acts: dict[str, int] = {}
    p_in: dict[str, int] = {}
    p_out: dict[str, int] = {}
    for r in layers:
        e = elements(r)
        for name in COUNTS:
            counts[name] += getattr(e, name)
        if e.act:
            acts[e.act] = acts.get(e.act, 0) + e.act_elements
        if e.pool:
            p_in[e.pool] = p_in.get(e.pool, 0) + e.pool_in
            p_out[e.pool] = p_out.get(e.pool, 0) + e.pool_out
    return Totals(counts, acts, p_in, p_out)
