"""``deconv``: a transposed convolution, with PyTorch's ConvTranspose2d output rule
(in − 1)·s − 2p + d·(k − 1) + output_padding + 1.

Cost: each input position scatters D_K·D_K·(M/g)·N products, so D_K·D_K·(M/g)·N·H_in·W_in
mult-adds (as FlopCounterMode counts it) and D_K·D_K·(M/g)·N weights. Counting decisions as
for a conv (:mod:`.conv`). Its padding is an integer (PyTorch's), never 'same'.

Row keys: those of a conv, plus output_padding; padding defaults to 0.
"""
from __future__ import annotations

from ...errors import GraphError
from ..conventions import Convention
from ..fields import MAX_KERNEL
from ..graph import Layer, Shape
from ..kind import Charge, Counting, Factor, Kind, generic, kernel_text, window
from ._peers import ATEN, CF, FCM, FV_JIT, PT_OPS, THOP, THOP_CALC, THOP_HOOKS, TI, every
from ..yamlio import describe
from ..spatial import require_map
from . import conv


def read(f) -> conv.ConvArgs:
    act, bn, bias, scale, padding = f.act(), f.boolean("bn"), f.boolean("bias"), f.scale(), _padding(f)
    k, s, d = f.kernel(), f.stride(), f.dilation()
    output_padding = f.pair("output_padding", (0, 0), hi=MAX_KERNEL, lo=0)
    # PyTorch's (and ONNX's) rule: the extra rows and columns of output are fewer than the
    # stride or the dilation, else they would be positions no input reaches
    if any(isinstance(o, int) and isinstance(a, int) and isinstance(b, int) and o >= max(a, b)
           for o, a, b in zip(output_padding, s, d)):
        f.fail_key("output_padding", f"expected an output_padding smaller than the stride {list(s)} or the dilation "
                   f"{list(d)}, got {list(output_padding)}")
    c, to_classes = f.channels(classes=True)
    return conv.ConvArgs(c=c, to_classes=to_classes, k=k, s=s, d=d, groups=f.integer("groups", 1),
                         padding=padding, act=act, bn=bn, bias=bias, scale=scale, output_padding=output_padding)


def _padding(f):
    value = f.data.get("padding", 0)
    if isinstance(value, str) and value.isidentifier() and value not in (f.env or {}):
        f.fail_key("padding", f"a transposed conv takes integer padding (PyTorch's), got {describe(value)}")
    if isinstance(value, (int, list, str)) and not isinstance(value, bool) and value not in ("same", "valid"):
        return f.pair("padding", (0, 0), hi=MAX_KERNEL, lo=0)
    f.fail_key("padding", "expected same, valid, an integer or [h, w] (a transposed conv takes integer padding)"
               f", got {describe(value)}")


def expand(ex, row) -> None:
    conv.expand(ex, row, "deconv")


def shape(layer: Layer, inputs: list[Shape]) -> Shape:
    """PyTorch's ConvTranspose2d: (in − 1)·s − 2p + d·(k − 1) + output_padding + 1."""
    require_map(layer, inputs[0])
    conv.check_groups(layer, inputs[0][2])
    pad = layer.padding if isinstance(layer.padding, tuple) else (0, 0)
    out = [(i - 1) * s - 2 * p + d * (k - 1) + op + 1 for i, s, p, d, k, op in
           zip(inputs[0][:2], layer.s, pad, layer.d, layer.k, layer.output_padding)]
    if min(out) < 1:
        raise GraphError(f"a transposed conv output of {out[0]}×{out[1]}", field=layer.name)
    return (out[0], out[1], layer.c)


def factor(layer: Layer, m: list[int], c: Convention) -> Factor:
    """Transposed conv: each input position scatters D_K·D_K·(M/groups)·N products, so
    D_K·D_K·(M/groups)·N·H_in·W_in mult-adds (as PyTorch's FlopCounterMode counts it) and
    D_K·D_K·(M/groups)·N weights."""
    w = conv.weights(layer, m)
    return Factor(w, w + conv.extras(layer, layer.c, c), area="in")


def latency(r) -> str:
    """Timed as a dense conv, or as a matrix-vector product (``fc``) on a 1×1 map."""
    return "fc" if conv.matrix_vector(r) else "conv"


def label(layer: Layer) -> str:
    return f"Deconv {kernel_text(layer)}"


def elements(r) -> dict:
    """Its bias at every output element; its weights × its output positions (what counters that
    treat it as a conv charge) and its mult-adds / groups (calflops's)."""
    L, (hi, wi, m), (h, w, _) = r.layer, r.input_shapes[0], r.output_shape
    per_group = L.k[0] * L.k[1] * m * (L.c // L.groups // L.groups) * hi * wi  # calflops: D_K²·M·⌊(N/g)/g⌋·H_in·W_in
    return {**conv.bias_elements(r), "macs_out": conv.weights(L, [m]) * h * w, "macs_per_group": per_group}


# Three conventions (NEW_OPS.md §10): per input position (ptflops, aten, fvcore, FlopCounterMode),
# per output position (thop, torchinfo — equal at stride 1 with "same" sizes, s² apart at stride s),
# and calflops's mult-adds / groups (it takes out_channels = weight.shape[1], already C_out/g,
# and divides by the groups again).
PEERS = every(
    ptflops=generic(f"{PT_OPS}:60-92 conv_flops_counter_hook(transpose=True): input positions (:76-78), "
                    "+ C_out·H_out·W_out for a bias (:85-88); registered at :310-312", "W (per input position) + bias"),
    ptflops_aten=generic(f"{ATEN}:71-106 conv_flop_count(transposed): input positions, + the bias (:93-94)",
                         "W (per input position) + bias"),
    fvcore=generic(f"{FV_JIT}:127-151 conv_flop_count(transposed): input positions, no bias",
                   "W (per input position)"),
    thop=Charge(lambda e, impl: [("weights", "W_out", 1, e.macs_out)],
                "its weights × the output positions (as a conv), no bias",
                f"{THOP_HOOKS}:22-34 count_convNd → {THOP_CALC}:28-34 (out numel·C_in/g·k²); {THOP}:26-28"),
    torchinfo=Charge(lambda e, impl: [("weights", "W_out", 1, e.macs_out)],
                     "(weight + bias numel) × the output positions",
                     f"{TI}:237-240 ('Conv' in the class name: × output H·W)"),
    calflops=Charge(lambda e, impl: [("weights", "W/g", 1, e.macs_per_group)],
                    "W / groups (its out_channels is weight.shape[1], already C_out/g, divided by groups again)",
                    f"{CF}:128-171 _conv_trans_flops_compute (:140, :161)"),
    flopcounter=generic(f"{FCM}:215-261 conv_flop_count(transposed): input positions", "2·W"),
)


KIND = Kind(
    "deconv", "a transposed convolution (PyTorch's ConvTranspose2d)",
    resamples="up",
    keys=conv.KEYS + ("output_padding",), read=read, expand=expand, example={"c": 8, "k": 2, "s": 2},
    shape=shape, factor=factor, elements=elements, counts=("bias", "macs_out", "macs_per_group"),
    label=label, kernel=window, latency=latency, peers=PEERS,
    weights=lambda layer, x: (x[2], layer.c // layer.groups, *layer.k),  # ConvTranspose2d.weight: M × N/g × k × k
    counting=Counting(bn="folds", bias=True, work="a bias at each output element, if it has one"),
)
