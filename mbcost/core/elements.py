"""Per-layer element counts: every number a FLOP counter might multiply by a cost per element.

The papers count one thing per layer — the multiply-accumulates of weights with inputs. Other
counters add terms the papers leave out: a bias added at every output position, a batch norm's
scale and shift at every element, one operation per activation element, a pool's input or
output elements. mbcost knows every layer's shapes, so it can count each of those elements
exactly; :mod:`mbcost.core.peers` then writes each counter's total as a formula over them, and
``report``'s JSON and CSV list them per layer so users can write their own.

Everything here is read off what each :class:`~mbcost.core.engine.LayerResult` already holds
(the layer's kind, act, bn and bias, its input and output shapes, its mult-adds); nothing is
costed twice. What a layer contributes depends on its kind, through :data:`KINDS` — one entry
per primitive kind of :data:`mbcost.core.ops.OPS` (a test fails if a kind has none, so a new
primitive cannot silently count zero elements). Two rules hold for every kind: a layer with
``bn`` has a batch norm over its output (C·H·W elements, C channels), and a layer whose ``act``
is not ``linear`` applies that activation to every output element.

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
from typing import TYPE_CHECKING, Callable, Iterable

from .graph import Shape

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
    mul:          element-wise products of a mul: output × (inputs − 1), after broadcasting
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

    def to_dict(self) -> dict:
        """For JSON: every count, with the activation and pool named."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


# The integer fields, in order: what CSV columns and network totals carry.
COUNTS = tuple(f.name for f in fields(Elements) if f.type == "int")


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


# --- per kind: what a layer of that kind touches beyond the generic bn / act rules ----------------

KindRule = Callable[["LayerResult"], dict]


def _conv(r: "LayerResult") -> dict:
    # a bias is added at every output position of every output channel
    return {"macs": r.madds, "bias": numel(r.output_shape) if r.layer.bias else 0}


def _fc(r: "LayerResult") -> dict:
    return {"macs": r.madds, "bias": r.output_shape[2] if r.layer.bias else 0}


def _pool(r: "LayerResult") -> dict:
    op = r.layer.op or "avg"
    return {"pool": f"global_{op}" if r.layer.global_ else op,
            "pool_in": numel(r.input_shape), "pool_out": numel(r.output_shape)}


def _add(r: "LayerResult") -> dict:
    # n inputs of one shape: n − 1 additions per output element
    return {"add": numel(r.output_shape) * (len(r.input_shapes) - 1)}


def _mul(r: "LayerResult") -> dict:
    # x · gate: one product per output element (the 1×1×C gate is broadcast over H×W)
    return {"mul": numel(r.output_shape) * (len(r.input_shapes) - 1)}


def _moves(r: "LayerResult") -> dict:
    # concat, split, shuffle, flatten and dropout (eval) move or view data: no arithmetic; a
    # standalone act row is counted by the generic activation rule; upsampling's interpolation
    # is not yet a count of its own (no profile here counts it on the networks we check)
    return {}


KINDS: dict[str, KindRule] = {
    "conv": _conv,
    "dwconv": _conv,
    "deconv": _conv,
    "fc": _fc,
    "pool": _pool,
    "add": _add,
    "mul": _mul,
    **{kind: _moves for kind in ("concat", "split", "shuffle", "flatten", "dropout", "act", "upsample")},
    "opaque": _moves,  # an imported op mbcost does not know (--allow-unknown): the result says partial
}


class UnknownKind(KeyError):
    """A layer kind with no entry in :data:`KINDS`: a bug to fix here, never a silent zero."""


def elements(r: "LayerResult") -> Elements:
    """One layer's element counts."""
    layer = r.layer
    try:
        rule = KINDS[layer.kind]
    except KeyError:
        raise UnknownKind(f"mbcost.core.elements has no rule for layer kind {layer.kind!r} "
                          f"(layer {layer.name}): add one to KINDS") from None
    out = numel(r.output_shape)
    generic: dict = {}
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
