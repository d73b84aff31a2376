"""``linear``: a fully connected layer applied at every token (or every pixel of a map) —
nn.Linear on a sequence, a 1×1 conv on a map: the same cost, because channels-last or -first is
an implementation detail.

Cost: M·N mult-adds per position, so M·N·P for P positions (N tokens × S sequences, or H·W), and
M·N weights; a bias (nn.Linear's default) is N parameters, counted under the ``bias``
convention, and N·P additions of per-element work. A BN after it folds (LeViT's Linear + BN).
Timed at the dense-conv rate.

Row keys: c, bias (true), act (linear), bn, scale, n.
"""
from __future__ import annotations

from dataclasses import dataclass

from ...errors import GraphError
from ..conventions import Convention
from ..graph import Layer, Shape, Scores, Tokens, with_channels
from ..kind import Charge, Counting, Factor, Kind, generic, per_call
from ._peers import ATEN, CF, FCM, FV_JIT, NOTHING, PT_ENGINE, PT_OPS, THOP_HOOKS, TI, attention_hook, every
from .conv import extras


@dataclass(frozen=True)
class LinearArgs:
    c: int | None
    to_classes: object = None  # a rows.ClassWidth (``c: classes``)
    act: str | None = None
    bias: bool | None = None
    bn: bool | None = None
    scale: str = "always"


def read(f) -> LinearArgs:
    act, bn, bias, scale = f.act(), f.boolean("bn"), f.boolean("bias"), f.scale()
    c, to_classes = f.channels(classes=True)
    return LinearArgs(c=c, to_classes=to_classes, act=act, bias=bias, bn=bn, scale=scale)


def expand(ex, row) -> None:
    a: LinearArgs = row.args
    for name in ex.repeat_names(row, "linear"):
        c = ex.class_width(a.to_classes) if a.to_classes else ex.scale(a.c, a.scale)
        ex.emit(name, "linear", c, act=a.act or "linear", bn=ex.batch_norm(a.bn, False),
                bias=True if a.bias is None else a.bias)


def shape(layer: Layer, inputs: list[Shape]) -> Shape:
    if isinstance(inputs[0], Scores):
        raise GraphError("a linear runs per token or pixel, not on attention scores", field=layer.name)
    return with_channels(inputs[0], layer.c)


def factor(layer: Layer, m: list[int], conv: Convention) -> Factor:
    """M·N mult-adds at each of the P positions (M·N·P) and M·N weights."""
    w = m[0] * layer.c
    return Factor(w, w + extras(layer, layer.c, conv))


def elements(r) -> dict:
    """A bias is added at every output element; its weights and bias once per sequence (what
    torchinfo charges an nn.Linear: parameters × the batch dimension, S for S sequences)."""
    h, w, c = r.output_shape
    seqs = r.input_shapes[0][1] if isinstance(r.input_shapes[0], Tokens) else 1
    params = r.input_shapes[0][2] * c + (c if r.layer.bias else 0)
    return {"bias": h * w * c if r.layer.bias else 0, "params_batch": params * seqs}


def _ptflops(e, impl):
    hook = attention_hook(e, impl)
    if hook == "timm":  # the Attention's hook replaces the block: its qkv and proj Linears are never summed
        return NOTHING
    if hook == "mha":  # the MultiheadAttention hook's 3·N·C² + 3·N·C and N·C·(C + 1): W + bias
        return []
    return NOTHING if impl.how("linear", e) in ("functional", "subclass") else []


def _aten(e, impl):
    how = impl.how("linear", e)
    return [("bias", "bias", 0, "bias")] if how == "view" or (e.view and how != "conv") else []


PEERS = every(
    ptflops=Charge(_ptflops, "nn.Linear or a 1×1 conv: W + bias; F.linear: 0 (not patched); inside "
                   "nn.MultiheadAttention: its hook's W + bias; inside timm's Attention: 0 (its hook replaces "
                   "the block)",
                   f"{PT_OPS}:35-43 linear_flops_counter_hook, :180-266 the attention hooks; {PT_ENGINE}:349 "
                   f"(F.linear's patch commented out), :96-103 accumulate_flops (no descent into a hooked module)"),
    # torch's linear folds a 3-d or 4-d input into one addmm only when it is contiguous; on a
    # strided view it runs matmul → mm, then add (seen with a logging TorchDispatchMode, torch 2.13
    # and 2.14), and ATEN_OPS_MAPPING has no add
    ptflops_aten=Charge(_aten, "W + bias, module or F.linear alike; on a non-contiguous view (tokens straight from "
                        "x.flatten(2).transpose(1, 2)): W (mm + add, no addmm)",
                        f"{ATEN}:36-54 addmm_flop (+ bias), :23-33 matmul_flop, :109-116 ATEN_OPS_MAPPING (no add)"),
    fvcore=generic(f"{FV_JIT}:99-110 linear_flop_jit (prod(input)·out, no bias)", "W"),
    thop=per_call("linear", {"functional": NOTHING, "subclass": NOTHING},
                  "nn.Linear or a 1×1 conv: W (never the bias); F.linear or a subclass: 0",
                  f"{THOP_HOOKS}:140-147 count_linear (in_features × output numel), :22-34 count_convNd"),
    torchinfo=per_call("linear", {**{how: [("weights", "P", 1, "params_batch"), ("bias", "bias", 0, "bias")]
                                     for how in ("module", "subclass", "view")}, "functional": NOTHING},
                       "nn.Linear: its parameters × the batch (once per sequence, not per token); a 1×1 conv: "
                       "W + bias; F.linear: 0 (its parameters are the calling module's, no leaf)",
                       f"{TI}:226-245 calculate_macs (:241-242 output_size[0] × numel; :237-240 a Conv's × H·W)"),
    calflops=generic(f"{CF}:37-40 _linear_flops_compute (patched at :454; a 1×1 conv: :83-125)", "W"),
    flopcounter=generic(f"{FCM}:159-174 mm_flop, addmm_flop (a 1×1 conv: :215-261)", "2·W"),
)


KIND = Kind(
    "linear", "a fully connected layer at every token (or pixel): a 1×1 conv's cost",
    keys=("n", "act", "c", "bias", "bn", "scale", "weights"), read=read, expand=expand, example={"c": 16},
    shape=shape, factor=factor, elements=elements, counts=("bias", "params_batch"),
    label=lambda layer: "Linear", latency="conv", peers=PEERS, weights=lambda layer, x: (layer.c, x[2]),
    counting=Counting(bn="folds", bias=True, work="a bias at each output element, if it has one"),
)
