"""``conv``: a standard, optionally grouped, convolution — the papers' D_K × D_K × M × N filter.

Cost (the V1 paper's eq. 1): D_K·D_K·(M/g)·N·D_F·D_F mult-adds and D_K·D_K·(M/g)·N weights,
g the groups; a 1×1 pointwise conv is D_K = 1: M·N·D_F·D_F. Counting decisions: a BN after it
folds into its weights (the papers' bn=0; torchvision's γ and β are bn=2); its bias, if it has
one, is counted under the ``bias`` convention; the bias (N·D_F² additions) and the BN's scale
and shift are per-element work some counters charge (:mod:`mbcost.core.peers`). Timed as a
dense conv, as a depthwise one when it has one group per input channel, and as a fully
connected layer on a 1×1 map (:func:`latency`).

Row keys: c or t, k (1), s (1), d (1), groups (1), padding (same), act, bn, bias, scale, n.
``t`` gives the output width as a factor of the input's instead of ``c``: N = t·M rounded by
the file's width rule, even at α = 1 (M is already α-scaled, so α is applied once) — the
expansion conv of MobileNetV4's FusedIB and EfficientNetV2's FusedMBConv, make_divisible(M·e). With ``minus: NAME``
(a tensor whose channels are left out) the conv makes c − that width, α-scaled first —
ShuffleNet's stride-2 branch, concatenated with its input to make c.
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from ...errors import GraphError
from ..graph import Layer, Pair, Shape
from ..kind import Counting, Factor, Kind, kernel_text, window
from ..spatial import spatial
from ..conventions import Convention
from ._peers import conv_like


@dataclass(frozen=True)
class ConvArgs:
    """A conv row's parameters (also a transposed conv's: :mod:`.deconv`)."""

    c: int | None
    to_classes: Any = None  # a rows.ClassWidth: ``c: classes``, ``"anchors*classes"`` (the file's count, or --classes)
    k: Pair = (1, 1)
    s: Pair = (1, 1)
    d: Pair = (1, 1)
    groups: int = 1
    padding: str | Pair = "same"
    act: str | None = None
    bn: bool | None = None
    bias: bool | None = None
    scale: str = "always"  # always | up (only when α > 1) | never
    output_padding: Pair = (0, 0)  # a transposed conv's
    t: Fraction | None = None  # the output width as a factor of the input's (c is then None)
    minus: str | None = None  # a tensor whose channels it leaves out: c − its width (a concat's branch)


KEYS = ("n", "act", "c", "t", "k", "s", "d", "groups", "padding", "bn", "bias", "scale", "minus", "weights")


def read(f) -> ConvArgs:
    act, bn, bias, scale, padding = f.act(), f.boolean("bn"), f.boolean("bias"), f.scale(), f.padding()
    k, s, d = f.kernel(), f.stride(), f.dilation()
    c, to_classes, t = relative_width(f)
    return ConvArgs(c=c, to_classes=to_classes, k=k, s=s, d=d, groups=f.integer("groups", 1), padding=padding,
                    act=act, bn=bn, bias=bias, scale=scale, t=t, minus=f.text("minus"))


def relative_width(f) -> tuple[int | None, Any, Fraction | None]:
    """``c`` (or a width over the classes: ``c: classes``), or ``t``: the output width as a
    factor of the input's."""
    if f.has("t") and f.has("c"):
        f.fail_key("t", "give the output width as 'c' (channels) or 't' (a factor of the input's), not both")
    if f.has("t"):
        return None, None, f.number("t")
    return (*f.channels(classes=True), None)


def out_width(ex, c: int | None, t: Fraction | None, how: str) -> int:
    """A row's output channels: c scaled by α, or t times the (α-scaled) input rounded by the
    width rule (TF-slim's expand_input_by_factor, timm's make_divisible(in_chs · exp_ratio))."""
    return ex.defaults.width.round(t * ex.cur) if t is not None else ex.scale(c, how)


def expand(ex, row, kind: str = "conv") -> None:
    a: ConvArgs = row.args
    for j, name in enumerate(ex.repeat_names(row, kind)):
        c = ex.class_width(a.to_classes) if a.to_classes else out_width(ex, a.c, a.t, a.scale)
        if a.minus is not None:  # ShuffleNet's stride-2 branch: the unit's width less its input's, at this α
            other = ex.channels[ex.resolve(a.minus, "minus")]
            if c <= other:
                ex.fail(f"c = {c} leaves nothing once {a.minus}'s {other} channels are taken out", "minus")
            c -= other
        for what, n in (("input", ex.cur), ("output", c)):
            if n % a.groups:
                ex.fail(f"groups={a.groups} does not divide the {n} {what} channels", "groups")
        ex.emit(name, kind, c, groups=a.groups, k=a.k, s=a.s if j == 0 else (1, 1), d=a.d, padding=a.padding,
                act=ex.activation(a.act), bn=ex.batch_norm(a.bn), bias=ex.bias(a.bias),
                **({"output_padding": a.output_padding} if kind == "deconv" else {}))


def check_groups(layer: Layer, m: int) -> None:
    if m % layer.groups:
        raise GraphError(f"groups={layer.groups} does not divide the {m} input channels", field=layer.name)


def shape(layer: Layer, inputs: list[Shape]) -> Shape:
    check_groups(layer, inputs[0][2])
    return (*spatial(layer, inputs[0]), layer.c)


def extras(layer: Layer, n: int, conv: Convention) -> int:
    """Parameters beyond the weights: bias and batch norm, as the convention counts them."""
    return (n if conv.bias and layer.bias else 0) + (conv.bn * n if layer.bn else 0)


def weights(layer: Layer, m: list[int]) -> int:
    """D_K·D_K·(M/g)·N."""
    return layer.k[0] * layer.k[1] * (m[0] // layer.groups) * layer.c


def factor(layer: Layer, m: list[int], conv: Convention) -> Factor:
    """Standard (optionally grouped) conv: D_K·D_K·(M/groups)·N·D_F·D_F mult-adds and
    D_K·D_K·(M/groups)·N weights. A 1×1 pointwise conv is D_K = 1: M·N·D_F·D_F."""
    w = weights(layer, m)
    return Factor(w, w + extras(layer, layer.c, conv))


def bias_elements(r) -> dict:
    """A bias is added at every output position of every output channel."""
    h, w, c = r.output_shape
    return {"bias": h * w * c if r.layer.bias else 0}


def label(layer: Layer) -> str:
    return f"Conv {kernel_text(layer)}" + (f" (groups {layer.groups})" if layer.groups > 1 else "")


def matrix_vector(r) -> bool:
    """A 1×1 map in and out: at batch 1 a matrix-vector product, whatever the kind."""
    (h, w, _), (oh, ow, _) = r.input_shapes[0], r.output_shape
    return h * w == 1 and oh * ow == 1


def latency(r) -> str:
    """A grouped conv with one group per input channel runs as a depthwise conv (``dwconv``);
    one on a 1×1 map (SE's squeeze and excite, MobileNetV3's head) as a matrix-vector
    product, like a fully connected layer (``fc``); any other as a dense conv (``conv``)."""
    L = r.layer
    if L.groups > 1 and L.groups == r.input_shapes[0][2]:
        return "dwconv"
    return "fc" if matrix_vector(r) else "conv"


def weight_shape(layer: Layer, x: Shape) -> tuple[int, ...]:
    """N × M/g × D_K × D_K (PyTorch's Conv2d.weight)."""
    return (layer.c, x[2] // layer.groups, *layer.k)


KIND = Kind(
    "conv", "a standard (optionally grouped) convolution",
    resamples="down",
    keys=KEYS, refs=("minus",), read=read, expand=expand, example={"c": 16, "k": 3, "s": 2},
    shape=shape, factor=factor, elements=bias_elements, counts=("bias",),
    label=label, kernel=window, latency=latency, peers=conv_like("a Conv2d"), weights=weight_shape,
    counting=Counting(bn="folds", bias=True, work="a bias at each output element, if it has one"),
)
