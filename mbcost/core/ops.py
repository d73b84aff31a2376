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

def out_size(layer: Layer, size: int, k: int, s: int, d: int = 1, pad: int | None = None) -> int:
    """'same': ceil(in / s) (TensorFlow's rule); 'valid': floor((in − k′) / s) + 1; an integer
    padding p: floor((in + 2p − k′) / s) + 1 (PyTorch's rule, with ceil_mode for pools), where
    k′ = d·(k − 1) + 1 is the dilated kernel."""
    span = d * (k - 1) + 1
    if pad is None and layer.padding == "same":
        n = -(-size // s)
    else:
        p = 0 if pad is None else pad
        room = size + 2 * p - span
        n = (-(-room // s) if layer.ceil else room // s) + 1
        if layer.ceil and (n - 1) * s >= size + p:  # PyTorch: the last window must start inside
            n -= 1
    if n < 1:
        how = f"{layer.padding} padding" if isinstance(layer.padding, str) else f"padding {pad}"
        raise GraphError(f"feature map shrinks below 1×1: the {span}-wide kernel ({how}) does not "
                         f"fit the {size}-wide input", field=layer.name)
    return n


def spatial(layer: Layer, shape: Shape) -> tuple[int, int]:
    (kh, kw), (sh, sw), (dh, dw) = layer.k, layer.s, layer.d
    ph, pw = layer.padding if isinstance(layer.padding, tuple) else (None, None)
    return out_size(layer, shape[0], kh, sh, dh, ph), out_size(layer, shape[1], kw, sw, dw, pw)


def _conv_shape(layer: Layer, inputs: list[Shape]) -> Shape:
    m = inputs[0][2]
    if m % layer.groups:
        raise GraphError(f"groups={layer.groups} does not divide the {m} input channels",
                         field=layer.name)
    return (*spatial(layer, inputs[0]), layer.c)


def _dwconv_shape(layer: Layer, inputs: list[Shape]) -> Shape:
    m = inputs[0][2]
    if m * layer.multiplier != layer.c:
        raise GraphError(f"depthwise conv expects {layer.c // layer.multiplier} channels, got {m}",
                         field=layer.name)
    return (*spatial(layer, inputs[0]), layer.c)


def _deconv_shape(layer: Layer, inputs: list[Shape]) -> Shape:
    """PyTorch's ConvTranspose2d: (in − 1)·s − 2p + d·(k − 1) + output_padding + 1."""
    m = inputs[0][2]
    if m % layer.groups:
        raise GraphError(f"groups={layer.groups} does not divide the {m} input channels", field=layer.name)
    pad = layer.padding if isinstance(layer.padding, tuple) else (0, 0)
    out = [(i - 1) * s - 2 * p + d * (k - 1) + op + 1 for i, s, p, d, k, op in
           zip(inputs[0][:2], layer.s, pad, layer.d, layer.k, layer.output_padding)]
    if min(out) < 1:
        raise GraphError(f"a transposed conv output of {out[0]}×{out[1]}", field=layer.name)
    return (out[0], out[1], layer.c)


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


def _same_map(layer: Layer, inputs: list[Shape], what: str) -> tuple[int, int]:
    hw = inputs[0][:2]
    for name, s in zip(layer.inputs[1:], inputs[1:]):
        if s[:2] != hw:
            raise GraphError(f"cannot {what} {name} ({_fmt(s)}) with {layer.inputs[0]} ({_fmt(inputs[0])}): "
                             "the feature maps differ in size", field=layer.name)
    return hw


def _concat_shape(layer: Layer, inputs: list[Shape]) -> Shape:
    return (*_same_map(layer, inputs, "concatenate"), sum(s[2] for s in inputs))


def _mul_shape(layer: Layer, inputs: list[Shape]) -> Shape:
    """x · gate, element-wise; a 1×1×C gate (squeeze-excite) is broadcast over H×W."""
    x, gate = inputs
    if gate != x and gate != (1, 1, x[2]):
        raise GraphError(f"cannot multiply {layer.inputs[0]} ({_fmt(x)}) by {layer.inputs[1]} ({_fmt(gate)}): "
                         f"the gate must be {_fmt(x)} or 1×1×{x[2]}", field=layer.name)
    return x


def _split_shape(layer: Layer, inputs: list[Shape]) -> Shape:
    h, w, c = inputs[0]
    if sum(layer.sizes) != c:
        raise GraphError(f"split sizes {list(layer.sizes)} add up to {sum(layer.sizes)}, not the "
                         f"{c} input channels", field=layer.name)
    return inputs[0]


def _shuffle_shape(layer: Layer, inputs: list[Shape]) -> Shape:
    if inputs[0][2] % layer.groups:
        raise GraphError(f"groups={layer.groups} does not divide the {inputs[0][2]} channels", field=layer.name)
    return inputs[0]


def _upsample_shape(layer: Layer, inputs: list[Shape]) -> Shape:
    h, w, c = inputs[0]
    return (*layer.size, c) if layer.size else (h * layer.up, w * layer.up, c)


def _same_shape(layer: Layer, inputs: list[Shape]) -> Shape:
    return inputs[0]


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
    """Depthwise conv, one D_K×D_K filter per input channel (``multiplier`` filters with a depth
    multiplier): D_K·D_K·M·D_F·D_F mult-adds and D_K·D_K·M weights, times the multiplier."""
    w = layer.k[0] * layer.k[1] * m[0] * layer.multiplier
    return Factor(w, w + extras(layer, layer.c, conv))


@op("deconv", shape=_deconv_shape)
def deconv(layer: Layer, m: list[int], conv: Convention) -> Factor:
    """Transposed conv: each input position scatters D_K·D_K·(M/groups)·N products, so
    D_K·D_K·(M/groups)·N·H_in·W_in mult-adds (as PyTorch's FlopCounterMode counts it) and
    D_K·D_K·(M/groups)·N weights."""
    w = layer.k[0] * layer.k[1] * (m[0] // layer.groups) * layer.c
    return Factor(w, w + extras(layer, layer.c, conv), area="in")


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
@op("concat", shape=_concat_shape)
@op("mul", shape=_mul_shape)
@op("split", shape=_split_shape)
@op("shuffle", shape=_shuffle_shape)
@op("upsample", shape=_upsample_shape)
@op("act", shape=_same_shape)
@op("flatten", shape=_same_shape)
@op("dropout", shape=_same_shape)
def free(layer: Layer, m: list[int], conv: Convention) -> Factor:
    """No weights, so no mult-adds and no parameters in the papers' count: add (a residual
    join of inputs of one shape), concat (along channels), mul (element-wise, a 1×1×C gate
    broadcast), split, shuffle, upsample (nearest or bilinear), a standalone activation,
    flatten (an fc flattens its input anyway, so the map keeps its H×W×C for counting) and
    dropout. docs/format.md gives each one's per-element work for conventions that count it."""
    return Factor(0, 0)


def _opaque_shape(layer: Layer, inputs: list[Shape]) -> Shape:
    return (layer.k[0], layer.k[1], layer.c)


@op("opaque", shape=_opaque_shape)
def opaque(layer: Layer, m: list[int], conv: Convention) -> Factor:
    """An op of an imported model that mbcost does not cost (kept with --allow-unknown): its
    output is the H×W×N the model states (k holds H×W), and it counts nothing — the result is
    marked partial."""
    return Factor(0, 0)
