"""The op registry: every primitive layer kind defined once — its shape rule and its counts.

Each :class:`Op` has two parts, registered together with ``@op(kind, shape=…)``:

- a **shape rule** ``(layer, input shapes) → output shape`` that also refuses layers that do
  not fit their inputs (channels, groups, a map that shrinks below 1×1);
- a **factor** ``(layer, input channel counts, convention) → Factor`` that gives the layer's
  counts split into what the width α sets (channel counts) and what the resolution sets
  (a feature map's area H·W):

      mult-adds = m · A        params = p₀ + p₁ · A

  with A the output map's area, or the input map's for ``area="in"`` (an fc on a flattened
  map). Every count in the papers' convention has this form, because channel counts depend
  only on α and map sizes only on the resolution.

The engine (:mod:`mbcost.core.engine`) evaluates a factor at one configuration's area; the
sweep (:mod:`mbcost.analyses.sweep`) evaluates the same factor at thousands of areas without
re-expanding the graph. Both read ``OPS``, so they cannot disagree, and a new primitive is one
entry here (fvcore keeps one flop handle per operator the same way).

Counting convention stated where the numbers are made: a mult-add is one multiply and one add
of a weight with an input; parameters are weights, plus biases and batch-norm numbers as the
:class:`~mbcost.core.conventions.Convention` says. Pooling, activations and adds are free.

Symbols are the papers': D_K kernel size, M input channels, N output channels,
D_F output feature-map size (H_out × W_out for non-square maps).
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from typing import Callable

from ..errors import GraphError
from .conventions import Convention
from .graph import Layer, Shape


@dataclass(frozen=True)
class Factor:
    """A layer's counts as functions of the map area A: mult-adds m·A, params p0 + p1·A."""

    m: int
    p0: int
    p1: int = 0
    area: str = "out"  # out | in: which map's H·W is A

    def at(self, area: int) -> tuple[int, int]:
        """(mult-adds, params) at a map area."""
        return self.m * area, self.p0 + self.p1 * area


ShapeRule = Callable[[Layer, list[Shape]], Shape]
FactorRule = Callable[[Layer, list[int], Convention], Factor]


@dataclass(frozen=True)
class Op:
    kind: str
    shape: ShapeRule
    factor: FactorRule

    def doc(self) -> str:
        """The counting formula, as its factor's docstring states it."""
        return (self.factor.__doc__ or "").strip()


OPS: dict[str, Op] = {}


def op(kind: str, shape: ShapeRule):
    """Register a primitive: decorate its factor, naming its shape rule."""
    def register(factor: FactorRule) -> FactorRule:
        @functools.wraps(factor)
        def counted(layer: Layer, m: list[int], conv: Convention) -> Factor:
            f = factor(layer, m, conv)
            if layer.shared:  # weights and bias are counted at the layer that owns them; its BN is its own
                return replace(f, p0=conv.bn * layer.c if layer.bn else 0, p1=0)
            if layer.shared_bias and layer.bias and conv.bias:
                return replace(f, p0=f.p0 - layer.c)
            return f

        OPS[kind] = Op(kind, shape, counted)
        return factor

    return register


@dataclass(frozen=True)
class Cost:
    madds: int
    params: int
    output_shape: Shape


def layer_cost(layer: Layer, inputs: list[Shape], conv: Convention) -> Cost:
    """One layer at one configuration: its shape rule, then its factor at that map's area."""
    o = OPS[layer.kind]
    out = o.shape(layer, inputs)
    f = o.factor(layer, [s[2] for s in inputs], conv)
    h, w, _ = inputs[0] if f.area == "in" else out
    return Cost(*f.at(h * w), out)


# --- shape rules ----------------------------------------------------------------------------------

def out_size(layer: Layer, size: int, k: int, s: int) -> int:
    """'same': ceil(in / s) (TensorFlow's rule); 'valid': floor((in − k) / s) + 1."""
    n = -(-size // s) if layer.padding == "same" else (size - k) // s + 1
    if n < 1:
        raise GraphError(f"feature map shrinks below 1×1: the {k}-wide kernel ({layer.padding} "
                         f"padding) does not fit the {size}-wide input", field=layer.name)
    return n


def spatial(layer: Layer, shape: Shape) -> tuple[int, int]:
    (kh, kw), (sh, sw) = layer.k, layer.s
    return out_size(layer, shape[0], kh, sh), out_size(layer, shape[1], kw, sw)


def _conv_shape(layer: Layer, inputs: list[Shape]) -> Shape:
    m = inputs[0][2]
    if m % layer.groups:
        raise GraphError(f"groups={layer.groups} does not divide the {m} input channels",
                         field=layer.name)
    return (*spatial(layer, inputs[0]), layer.c)


def _dwconv_shape(layer: Layer, inputs: list[Shape]) -> Shape:
    m = inputs[0][2]
    if m != layer.c:
        raise GraphError(f"depthwise conv expects {layer.c} channels, got {m}", field=layer.name)
    return (*spatial(layer, inputs[0]), m)


def _fc_shape(layer: Layer, inputs: list[Shape]) -> Shape:
    return (1, 1, layer.c)


def _pool_shape(layer: Layer, inputs: list[Shape]) -> Shape:
    h, w, c = inputs[0]
    return (1, 1, c) if layer.global_ else (*spatial(layer, inputs[0]), c)


def _add_shape(layer: Layer, inputs: list[Shape]) -> Shape:
    a = inputs[0]
    for name, b in zip(layer.inputs[1:], inputs[1:]):
        if b != a:
            raise GraphError(f"cannot add {name} ({_fmt(b)}) to {layer.inputs[0]} ({_fmt(a)}): "
                             "the shapes differ", field=layer.name)
    return a


def _fmt(shape: Shape) -> str:
    return "×".join(map(str, shape))


# --- the primitives -------------------------------------------------------------------------------

def extras(layer: Layer, n: int, conv: Convention) -> int:
    """Parameters beyond the weights: bias and batch norm, as the convention counts them."""
    return (n if conv.bias and layer.bias else 0) + (conv.bn * n if layer.bn else 0)


@op("conv", shape=_conv_shape)
def conv(layer: Layer, m: list[int], conv: Convention) -> Factor:
    """Standard (optionally grouped) conv: D_K·D_K·(M/groups)·N·D_F·D_F mult-adds and
    D_K·D_K·(M/groups)·N weights. A 1×1 pointwise conv is D_K = 1: M·N·D_F·D_F."""
    w = layer.k[0] * layer.k[1] * (m[0] // layer.groups) * layer.c
    return Factor(w, w + extras(layer, layer.c, conv))


@op("dwconv", shape=_dwconv_shape)
def dwconv(layer: Layer, m: list[int], conv: Convention) -> Factor:
    """Depthwise conv, one D_K×D_K filter per input channel: D_K·D_K·M·D_F·D_F mult-adds and
    D_K·D_K·M weights."""
    w = layer.k[0] * layer.k[1] * m[0]
    return Factor(w, w + extras(layer, m[0], conv))


@op("fc", shape=_fc_shape)
def fc(layer: Layer, m: list[int], conv: Convention) -> Factor:
    """Fully connected on the flattened H×W×M input: H·W·M·N mult-adds and H·W·M·N weights
    (so both scale with the input map's area)."""
    w = m[0] * layer.c
    return Factor(w, extras(layer, layer.c, conv), w, area="in")


@op("pool", shape=_pool_shape)
def pool(layer: Layer, m: list[int], conv: Convention) -> Factor:
    """Average or max pooling: no mult-adds and no parameters in the papers' count."""
    return Factor(0, 0)


@op("add", shape=_add_shape)
def add(layer: Layer, m: list[int], conv: Convention) -> Factor:
    """Element-wise add of inputs of one shape (a residual join): free in the papers' count."""
    return Factor(0, 0)


def _opaque_shape(layer: Layer, inputs: list[Shape]) -> Shape:
    return (layer.k[0], layer.k[1], layer.c)


@op("opaque", shape=_opaque_shape)
def opaque(layer: Layer, m: list[int], conv: Convention) -> Factor:
    """An op of an imported model that mbcost does not cost (kept with --allow-unknown): its
    output is the H×W×N the model states (k holds H×W), and it counts nothing — the result is
    marked partial."""
    return Factor(0, 0)
