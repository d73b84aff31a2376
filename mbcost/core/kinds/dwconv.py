"""``dwconv``: a depthwise convolution — one D_K × D_K filter per input channel (the V1 paper's
eq. 3), or ``multiplier`` of them (a depth multiplier: N = M·multiplier).

Cost: D_K·D_K·M·D_F·D_F mult-adds and D_K·D_K·M weights, times the multiplier. Counting
decisions as for a conv (:mod:`.conv`): a BN after it folds; a bias is counted under ``bias``;
the bias and BN are per-element work some counters charge. Timed at the depthwise rate, which
runs far below a device's dense-conv peak.

Row keys: k (3), s (1), d (1), padding (same), multiplier (1), act, bn, bias, n.
"""
from __future__ import annotations

from dataclasses import dataclass

from ...errors import GraphError
from ..conventions import Convention
from ..fields import MAX_EXPANSION
from ..graph import Layer, Pair, Shape
from ..kind import Counting, Factor, Kind, kernel_text, window
from ..spatial import spatial
from ._peers import conv_like
from .conv import bias_elements, extras


@dataclass(frozen=True)
class DepthwiseArgs:
    k: Pair = (3, 3)
    s: Pair = (1, 1)
    d: Pair = (1, 1)
    padding: str | Pair = "same"
    multiplier: int = 1
    act: str | None = None
    bn: bool | None = None
    bias: bool | None = None


def read(f) -> DepthwiseArgs:
    act, bn, bias, padding = f.act(), f.boolean("bn"), f.boolean("bias"), f.padding()
    k, s, d = f.kernel((3, 3)), f.stride(), f.dilation()
    return DepthwiseArgs(k=k, s=s, d=d, padding=padding, multiplier=f.integer("multiplier", 1, hi=MAX_EXPANSION),
                         act=act, bn=bn, bias=bias)


def expand(ex, row) -> None:
    a: DepthwiseArgs = row.args
    for j, name in enumerate(ex.repeat_names(row, "dwconv")):
        ex.emit(name, "dwconv", ex.cur * a.multiplier, groups=ex.cur, multiplier=a.multiplier, k=a.k,
                s=a.s if j == 0 else (1, 1), d=a.d, padding=a.padding, act=ex.activation(a.act),
                bn=ex.batch_norm(a.bn), bias=ex.bias(a.bias))


def shape(layer: Layer, inputs: list[Shape]) -> Shape:
    m = inputs[0][2]
    if m * layer.multiplier != layer.c:
        raise GraphError(f"depthwise conv expects {layer.c // layer.multiplier} channels, got {m}",
                         field=layer.name)
    return (*spatial(layer, inputs[0]), layer.c)


def factor(layer: Layer, m: list[int], conv: Convention) -> Factor:
    """Depthwise conv, one D_K×D_K filter per input channel (``multiplier`` filters with a depth
    multiplier): D_K·D_K·M·D_F·D_F mult-adds and D_K·D_K·M weights, times the multiplier."""
    w = layer.k[0] * layer.k[1] * m[0] * layer.multiplier
    return Factor(w, w + extras(layer, layer.c, conv))


def label(layer: Layer) -> str:
    return f"Conv DW {kernel_text(layer)}"


KIND = Kind(
    "dwconv", "a depthwise convolution (one filter per input channel, or a depth multiplier of them)",
    resamples="down",
    keys=("n", "act", "k", "s", "d", "padding", "multiplier", "bn", "bias", "weights"), read=read, expand=expand, example={"k": 3},
    shape=shape, factor=factor, elements=bias_elements, counts=("bias",),
    label=label, kernel=window, latency="dwconv", peers=conv_like("a Conv2d with groups = C"),
    weights=lambda layer, x: (layer.c, 1, *layer.k),
    counting=Counting(bn="folds", bias=True, work="a bias at each output element, if it has one"),
)
