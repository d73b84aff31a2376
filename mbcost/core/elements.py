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

from dataclasses import dataclass, field, fields, replace
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

    macs:         weight multiply-accumulates, the papers' mult-adds (conv D_K²·(M/g)·N·D_F², fc M·N)
    macs_out:     a transposed conv's weights × its *output* positions (D_K²·(M/g)·N·H_out·W_out):
                  what counters that treat it as a conv charge; its ``macs`` are per input position
    macs_per_group: a transposed conv's D_K²·M·⌊(N/g)/g⌋·H_in·W_in, its ``macs`` / groups when g
                  divides N/g (calflops divides its filters per group by the groups again)
    bias:         bias additions: N·D_F² for a conv with a bias, N for an fc with one
    bn:           batch-norm elements C·H·W (eval mode, affine: a scale and a shift each)
    bn_channels:  batch-norm channels C (its γ and β are 2·C parameters)
    act:          the activation applied to the output ('' for linear)
    act_elements: elements it is applied to (the output's)
    pool:         '' or the pooling: avg, max, global_avg, global_max; tokens_avg, tokens_max
    pool_in, pool_out: the pool's input and output elements
    fc_in:        an fc's input elements H·W·M (a pool to the size it already has, in some
                  implementations: torchvision's AlexNet and VGG)
    add:          element-wise additions of an add: output × (inputs − 1)
    mul:          element-wise products of a mul: output × (inputs − 1), after broadcasting; a
                  layer scale's γ·x: one per element
    norm:         elements a layer norm or group norm normalises (mean, variance, scale, shift)
    norm_channels: its channels C (its γ and β are 2·C parameters)
    params_batch: a linear's or a norm's weight and bias elements × the output's leading
                  (batch) dimension — 1 for a map, S for S sequences of tokens — which torchinfo
                  charges a module that is not a conv: a Linear over N tokens counts its
                  parameters once per sequence, not per token
    softmax:      elements a softmax exponentiates and normalises
    softmax_rows: the rows it normalises (its elements / the length of a row)
    query:        a Q·Kᵀ's query elements N·h·d_k (ptflops's attention hooks charge scaling q)
    resize:       '' or how a map is resized: nearest, bilinear (an upsample, MobileViT's resize)
    resize_out:   the resized map's elements
    kind:         the layer's kind, whose peer terms apply to its own counts (not an output field)
    name, role, strided: the layer's name, its part in a block and whether its stride is > 1: an
                  implementation may call the op of some layers differently (not output fields)
    view:         a linear reads a map's tokens as they are flattened, x.flatten(2).transpose(1, 2):
                  a strided view, on which torch's linear runs mm + add instead of addmm (set by
                  :func:`mbcost.core.peers.count`, which sees the graph; not an output field)
    """

    macs: int = 0
    macs_out: int = 0
    macs_per_group: int = 0
    bias: int = 0
    bn: int = 0
    bn_channels: int = 0
    act: str = ""
    act_elements: int = 0
    pool: str = ""
    pool_in: int = 0
    pool_out: int = 0
    fc_in: int = 0
    add: int = 0
    mul: int = 0
    norm: int = 0
    norm_channels: int = 0
    params_batch: int = 0
    softmax: int = 0
    softmax_rows: int = 0
    query: int = 0
    resize: str = ""
    resize_out: int = 0
    kind: str = field(default="", metadata={"output": False})
    name: str = field(default="", metadata={"output": False})
    role: str = field(default="", metadata={"output": False})
    strided: bool = field(default=False, metadata={"output": False})
    view: bool = field(default=False, metadata={"output": False})

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
    generic: dict = {"macs": r.madds, "kind": layer.kind, "name": layer.name, "role": layer.role or "",
                     "strided": layer.s != (1, 1)}
    if layer.bn:
        generic.update(bn=out, bn_channels=r.output_shape[2])
    if layer.act and layer.act != "linear":
        generic.update(act=layer.act, act_elements=out)
    e = Elements(**generic, **rule(r))
    if layer.times > 1:  # every element count repeats with the runs (macs are already the layer's)
        e = replace(e, **{n: getattr(e, n) * layer.times for n in COUNTS if n != "macs"})
    return e



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
