"""Costing one layer: its kind's shape rule, then its kind's factor at that map's area.

Counting convention stated where the numbers are made: a mult-add is one multiply and one add
of a weight with an input; parameters are weights, plus biases and batch-norm numbers as the
:class:`~mbcost.core.conventions.Convention` says. Each kind's factor (:mod:`mbcost.core.kinds`)
gives its counts split into what the width α sets and what the resolution sets,

    mult-adds = m · A        params = p₀ + p₁ · A

with A the output map's area (or the input's); the engine (:mod:`mbcost.core.engine`) evaluates
it at one configuration, the sweep (:mod:`mbcost.analyses.sweep`) at thousands, both through
:func:`factor_of`, so they cannot disagree.

Symbols are the papers': D_K kernel size, M input channels, N output channels,
D_F output feature-map size (H_out × W_out for non-square maps).
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from .conventions import Convention
from .graph import Layer, Shape
from ..errors import GraphError
from .kind import Factor, fmt_shape
from .kinds import kind_of


@dataclass(frozen=True)
class Cost:
    madds: int
    params: int
    output_shape: Shape


def factor_of(layer: Layer, m: list[int], conv: Convention) -> Factor:
    """The layer's factor at input channels ``m``. An imported layer whose weights are an earlier
    layer's initializers (``shared``) counts its mult-adds but not those weights: they are
    counted once, where they are owned."""
    f = kind_of(layer).factor(layer, m, conv)
    if layer.times > 1:  # run once per proposal: the work repeats, the weights are one set
        f = replace(f, m=f.m * layer.times)
    if layer.shared:  # weights and bias are counted at the layer that owns them; its BN is its own
        return replace(f, p0=conv.bn * layer.c if layer.bn else 0, p1=0)
    if layer.shared_bias and layer.bias and conv.bias:
        return replace(f, p0=f.p0 - layer.c)
    return f


def layer_cost(layer: Layer, inputs: list[Shape], conv: Convention,
               weights: dict[str, tuple[int, ...]] | None = None) -> Cost:
    """One layer at one configuration: its shape rule, then its factor at that map's area;
    ``weights`` (the weighted layers' weight shapes so far) checks a row that reuses another's."""
    if weights is not None:
        shared_weights(layer, inputs, weights)
    out = kind_of(layer).shape(layer, inputs)
    f = factor_of(layer, [s[2] for s in inputs], conv)
    h, w, _ = inputs[0] if f.area == "in" else out
    return Cost(*f.at(h * w), out)


def shared_weights(layer: Layer, inputs: list[Shape], seen: dict[str, tuple[int, ...]]) -> None:
    """Record a weighted layer's weight shape; a layer that reuses another's (``weights: NAME``)
    must have the same, or the file is wrong (its mult-adds are its own, its parameters NAME's)."""
    rule = kind_of(layer).weights
    if rule is None:
        return
    shape = rule(layer, inputs[0])
    if layer.weights_of is None:
        seen[layer.name] = shape
    elif seen[layer.weights_of] != shape:
        text = lambda s: "×".join(map(str, s))  # noqa: E731
        raise GraphError(f"'weights: {layer.weights_of}' reuses weights of {text(seen[layer.weights_of])}, but this "
                         f"layer's are {text(shape)} (its input is {fmt_shape(inputs[0])})", field="weights")
