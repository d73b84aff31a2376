"""``fc``: a fully connected layer on the flattened H×W×M input (the classifier).

Cost: H·W·M·N mult-adds and H·W·M·N weights — both scale with the input map's area. Counting
decisions: it has a bias by default (the classifier's, which the ``bias`` convention counts; the
papers leave it out), N additions of per-element work; a BN after it (BatchNorm1d) folds. Its
``c`` defaults to the file's ``classes`` (or --classes), and α does not scale it unless the row
says ``scale: true`` (or ``up``): a hidden classifier layer that follows the width multiplier, as
torchvision's MobileNetV3 does with its 1280 (adjust_channels). Timed at the fully-connected rate.

Row keys: c (the classes), act (linear), bias (true), bn (false), scale (false), n.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..conventions import Convention
from ..graph import Layer, Shape
from ..kind import Counting, Factor, Kind, generic, per_call
from ._peers import ATEN, CF, FCM, FV_JIT, FV_OPS, NOTHING, PT_ENGINE, PT_OPS, THOP, THOP_HOOKS, TI, every
from .conv import extras


@dataclass(frozen=True)
class FcArgs:
    c: int | None = None
    to_classes: object = None  # a rows.ClassWidth: ``c: "4*(classes-1)"`` (Faster-RCNN's box layer)
    act: str | None = None
    bn: bool | None = None
    bias: bool | None = None
    scale: str = "never"  # never (a classifier's width is the classes') | always | up (only when α > 1)


def read(f) -> FcArgs:
    act, bn, bias = f.act(), f.boolean("bn"), f.boolean("bias")
    c, to_classes = f.channels(required=False, classes=True)
    scale = f.scale() if f.has("scale") else "never"
    if scale != "never" and c is None:
        f.fail_key("scale", "α scales a width the row states: give 'c' too")
    return FcArgs(c=c, to_classes=to_classes, act=act, bn=bn, bias=bias, scale=scale)


def expand(ex, row) -> None:
    a: FcArgs = row.args
    if a.to_classes:
        c = ex.class_width(a.to_classes)
    elif a.c is None:
        c = ex.classes
        if c is None:
            ex.fail("fc has no 'c' and the file sets no 'classes'")
    else:
        c = ex.scale(a.c, a.scale)
    for name in ex.repeat_names(row, "fc"):
        ex.emit(name, "fc", c, act=a.act or "linear", bn=ex.batch_norm(a.bn, False),
                bias=True if a.bias is None else a.bias)


def shape(layer: Layer, inputs: list[Shape]) -> Shape:
    return (1, 1, layer.c)


def factor(layer: Layer, m: list[int], conv: Convention) -> Factor:
    """Fully connected on the flattened H×W×M input: H·W·M·N mult-adds and H·W·M·N weights
    (so both scale with the input map's area)."""
    w = m[0] * layer.c
    return Factor(w, extras(layer, layer.c, conv), w, area="in")


def elements(r) -> dict:
    """One bias addition per output unit; the elements of the map it reads (H·W > 1: the first
    classifier layer, which an implementation may pool first: torchvision's AlexNet and VGG,
    CALLS["fc"])."""
    h, w, c = r.input_shapes[0]
    return {"bias": r.output_shape[2] if r.layer.bias else 0, "fc_in": h * w * c if h * w > 1 else 0}


# nn.Linear on the flattened (1, H·W·M) input: every counter's Linear rule at batch 1, where
# torchinfo's parameters × batch is W + bias too. With fc: pooled (torchvision's AlexNet, VGG) an
# nn.AdaptiveAvgPool2d to the size the map already has runs first: an adaptive pool's rule with
# input = output = fc_in.
PEERS = every(
    ptflops=per_call("fc", {"pooled": [("pool", "fc in", 2, "fc_in")], "subclass": NOTHING},
                     "W + bias; pooled: + 2 per input element (the pool's hook and F.adaptive_avg_pool2d); "
                     "a subclass of nn.Linear: 0",
                     f"{PT_OPS}:35-43 linear_flops_counter_hook; pooled: :46-48, {PT_ENGINE}:370-371; "
                     f"{PT_ENGINE}:311-314 (exact type)"),
    ptflops_aten=generic(f"{ATEN}:36-54 addmm_flop (+ bias)", "W + bias"),
    fvcore=per_call("fc", {"pooled": [("pool", "fc in", 1, "fc_in")]},
                    "W; pooled: + 1 per input element",
                    f"{FV_JIT}:82-110 addmm/linear_flop_jit (no bias); pooled: {FV_OPS}:42"),
    thop=per_call("fc", {"pooled": [("pool", "fc in", 2, "fc_in")], "subclass": NOTHING},
                  "W (never the bias); pooled: + input + output elements of the pool; a subclass: 0",
                  f"{THOP_HOOKS}:140-147 count_linear; pooled: :114-121 count_adap_avgpool; {THOP}:180-188"),
    torchinfo=generic(f"{TI}:241-242 (weight and bias numel × the batch, 1)", "W + bias"),
    calflops=generic(f"{CF}:37-40 _linear_flops_compute (the bias in FLOPs only)", "W"),
    flopcounter=generic(f"{FCM}:159-174 mm_flop, addmm_flop", "2·W"),
)


KIND = Kind(
    "fc", "a fully connected layer on the flattened input",
    keys=("n", "act", "c", "bias", "bn", "weights", "scale"), read=read, expand=expand, example={"c": 10},
    shape=shape, factor=factor, elements=elements, counts=("bias", "fc_in"),
    label=lambda layer: "Fully Connected", latency="fc", peers=PEERS,
    weights=lambda layer, x: (layer.c, x[0] * x[1] * x[2]),  # N × H·W·M
    counting=Counting(bn="folds", bias=True, work="a bias at each output unit"),
)
