"""The analytic cost engine: one pure function per primitive layer kind.

Each function takes the layer, its input shapes (H, W, C) and the counting convention,
and returns a :class:`Cost` — mult-adds, parameters and output shape — as exact Python
integers. The functions are registered by kind in ``COSTS``; adding a layer kind means
writing one function here (fvcore keeps its flop handles the same way).

Symbols are the papers': D_K kernel size, M input channels, N output channels,
D_F output feature-map size (H_out × W_out for non-square maps).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from .conventions import Convention
from ..errors import GraphError
from .graph import Layer, Shape


@dataclass(frozen=True)
class Cost:
    madds: int
    params: int
    output_shape: Shape


CostFn = Callable[[Layer, list[Shape], Convention], Cost]
COSTS: dict[str, CostFn] = {}


def cost_of(kind: str):
    def register(fn: CostFn) -> CostFn:
        COSTS[kind] = fn
        return fn

    return register


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


def extras(layer: Layer, n: int, conv: Convention) -> int:
    """Parameters beyond the weights: bias and batch norm, as the convention counts them."""
    return (n if conv.bias and layer.bias else 0) + (conv.bn * n if layer.bn else 0)


@cost_of("conv")
def conv_cost(layer: Layer, inputs: list[Shape], conv: Convention) -> Cost:
    """Standard (optionally grouped) conv: D_K·D_K·(M/groups)·N·D_F·D_F mult-adds,
    D_K·D_K·(M/groups)·N weights. A 1×1 pointwise conv is D_K = 1: M·N·D_F·D_F."""
    (h, w, m), n = inputs[0], layer.c
    if m % layer.groups:
        raise GraphError(f"groups={layer.groups} does not divide the {m} input channels",
                         field=layer.name)
    ho, wo = spatial(layer, inputs[0])
    weights = layer.k[0] * layer.k[1] * (m // layer.groups) * n
    return Cost(weights * ho * wo, weights + extras(layer, n, conv), (ho, wo, n))


@cost_of("dwconv")
def dwconv_cost(layer: Layer, inputs: list[Shape], conv: Convention) -> Cost:
    """Depthwise conv, one D_K×D_K filter per input channel: D_K·D_K·M·D_F·D_F mult-adds,
    D_K·D_K·M weights."""
    m = inputs[0][2]
    if m != layer.c:
        raise GraphError(f"depthwise conv expects {layer.c} channels, got {m}", field=layer.name)
    ho, wo = spatial(layer, inputs[0])
    weights = layer.k[0] * layer.k[1] * m
    return Cost(weights * ho * wo, weights + extras(layer, m, conv), (ho, wo, m))


@cost_of("fc")
def fc_cost(layer: Layer, inputs: list[Shape], conv: Convention) -> Cost:
    """Fully connected on the flattened input: M·N mult-adds and M·N weights."""
    h, w, c = inputs[0]
    weights = h * w * c * layer.c
    return Cost(weights, weights + extras(layer, layer.c, conv), (1, 1, layer.c))


@cost_of("pool")
def pool_cost(layer: Layer, inputs: list[Shape], conv: Convention) -> Cost:
    """Average or max pooling: no mult-adds and no parameters in the papers' count."""
    h, w, c = inputs[0]
    ho, wo = (1, 1) if layer.global_ else spatial(layer, inputs[0])
    return Cost(0, 0, (ho, wo, c))


@cost_of("add")
def add_cost(layer: Layer, inputs: list[Shape], conv: Convention) -> Cost:
    """Residual add: free in the papers' count; both inputs must have the same shape."""
    a, b = inputs
    if a != b:
        raise GraphError(f"cannot add {layer.inputs[1]} ({_fmt(b)}) to {layer.inputs[0]} ({_fmt(a)}): "
                         "the shapes differ", field=layer.name)
    return Cost(0, 0, a)


def _fmt(shape: Shape) -> str:
    return "×".join(map(str, shape))


def layer_cost(layer: Layer, inputs: list[Shape], conv: Convention) -> Cost:
    return COSTS[layer.kind](layer, inputs, conv)

