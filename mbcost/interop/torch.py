"""PyTorch modules built from an architecture file: the YAML is the network that trains.

    >>> import mbcost
    >>> net = mbcost.torch.build("mobilenet_v2", alpha=0.5, resolution=160)   # doctest: +SKIP

:func:`build` expands the architecture exactly as ``mbcost report`` does (same α rounding,
same layers, same names) and turns each layer into a ``torch.nn`` module through
``BUILDERS[kind]``: BN and activations where the file puts them, biases where the layers
have them, weights initialised by PyTorch's own defaults. Under ``--profile torchvision``
``sum(p.numel() for p in net.parameters())`` is mbcost's parameter count, and
``FlopCounterMode``'s total is 2 × its mult-adds (tests/crosscheck proves both in CI).

'same' padding is TensorFlow's (output ceil(in / s)); where it is asymmetric (a 3×3 /2 conv on
an even map pads one pixel after, none before) an ``nn.ZeroPad2d`` precedes the conv. Pads
are fixed for the resolution the module is built at, like a TF graph exported at one input
size: build again for another resolution.

Tensors are laid out as PyTorch's own models lay them out:

- a map is N×C×H×W;
- a sequence of T tokens of C channels is N×T×C (timm's and ``batch_first`` attention's); S
  sequences (MobileViT's unfolded patches, one per pixel of a p_h×p_w patch) are (N·S)×T×C,
  timm's MobileViT layout: sequence s of image n is row n·S + s;
- attention scores are (N·S)×heads×T_q×T_kv.

A ``linear`` on a map is a 1×1 ``Conv2d`` (the same counts as ``nn.Linear`` on channels-last),
on tokens an ``nn.Linear``. Attention is explicit: Q·Kᵀ and A·V are ``torch.matmul`` of the
heads (one K/V head broadcasts over the query heads, multi-query attention), which
FlopCounterMode counts exactly as mbcost does, where a fused ``scaled_dot_product_attention``
kernel would not be counted at all.
"""
from __future__ import annotations

from dataclasses import replace
from fractions import Fraction
from pathlib import Path
from typing import Callable

import torch
from torch import nn
from torch.nn import functional as F

from ..core.conventions import PAPER
from ..core.engine import LayerResult, load, run_graph
from ..core.expand import expand
from ..core.graph import Graph, Layer, Scores, Tokens
from ..core.kinds.tokens import tiled
from ..core.multipliers import input_resolution, parse_alpha, parse_depth
from ..core.spec import ArchSpec
from . import handle, pads_of, unfolded_patch

# the file's activation → its torch.nn module ('linear' is none); swish is SiLU, x·σ(x), and
# hsigmoid PyTorch's relu6(x + 3) / 6, as MobileNetV3 and EfficientNet use them
ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {
    "relu": nn.ReLU, "relu6": nn.ReLU6, "hswish": nn.Hardswish, "hsigmoid": nn.Hardsigmoid,
    "sigmoid": nn.Sigmoid, "swish": nn.SiLU, "gelu": nn.GELU, "tanh": nn.Tanh,
    "leaky_relu": nn.LeakyReLU,  # the slope is PyTorch's default, 0.01 (a free op either way)
}


def _tail(layer: Layer, n: int, bn: Callable[[int], nn.Module]) -> list[nn.Module]:
    """BN then the activation, as the file puts them after a layer."""
    out = [bn(n)] if layer.bn else []
    if layer.act != "linear":
        out.append(ACTIVATIONS[layer.act]())
    return out


def _padded(layer: Layer, shape, core: nn.Module, value: float = 0.0) -> list[nn.Module]:
    """The layer's module behind its padding: symmetric pads (an integer padding, or 'same'
    where TF's pads are equal) go into the module's own ``padding``, asymmetric ones into a
    pad module before it."""
    (t, b), (l, r) = pads_of(layer, shape)
    if (t, l) == (b, r):
        if t or l:
            core.padding = (t, l)
        return [core]
    return [nn.ConstantPad2d((l, r, t, b), value), core]


def _conv(layer: Layer, inputs) -> nn.Module:
    m = inputs[0][2]
    conv = nn.Conv2d(m, layer.c, layer.k, layer.s, groups=layer.groups, bias=layer.bias, dilation=layer.d)
    return nn.Sequential(*_padded(layer, inputs[0], conv), *_tail(layer, layer.c, nn.BatchNorm2d))


def _deconv(layer: Layer, inputs) -> nn.Module:
    """ConvTranspose2d, whose output rule core/ops.py states; 'same'/'valid' mean padding 0."""
    pad = layer.padding if isinstance(layer.padding, tuple) else (0, 0)
    conv = nn.ConvTranspose2d(inputs[0][2], layer.c, layer.k, layer.s, pad, layer.output_padding,
                              groups=layer.groups, bias=layer.bias, dilation=layer.d)
    return nn.Sequential(conv, *_tail(layer, layer.c, nn.BatchNorm2d))


class Flatten(nn.Module):
    """Each image's tensor as one vector: N×(C·H·W) of a map (nn.Flatten), N×(S·T·C) of S
    sequences of T tokens (its (N·S) rows regrouped per image)."""

    def __init__(self, seqs: int = 1):
        super().__init__()
        self.seqs = seqs

    def forward(self, x):  # tokens (3-D), or a map, or a vector already (an fc after a flatten)
        return x.reshape(x.shape[0] // self.seqs, -1) if x.dim() == 3 else x.flatten(1)


def _fc(layer: Layer, inputs) -> nn.Module:
    h, w, m = inputs[0]
    return nn.Sequential(Flatten(seqs_of(inputs[0])), nn.Linear(h * w * m, layer.c, bias=layer.bias),
                         *_tail(layer, layer.c, nn.BatchNorm1d))


class _TFAvgPool(nn.Module):
    """Average pooling over TF's asymmetric 'same' window, which leaves the padding out of
    each mean: the zero-padded sum divided by the count of real pixels."""

    def __init__(self, k, s, pads):
        super().__init__()
        self.pool, self.pads = nn.AvgPool2d(k, s), pads

    def forward(self, x):
        ones = torch.ones_like(x[:1, :1])
        return self.pool(F.pad(x, self.pads)) / self.pool(F.pad(ones, self.pads))


class TokenPool(nn.Module):
    """A sequence's tokens pooled into one N×C×1×1 vector per image, as a global pool gives a
    map's: their mean or maximum over all S sequences, or (``first``) the first token, ViT's
    class token."""

    def __init__(self, op: str, seqs: int):
        super().__init__()
        self.op, self.seqs = op, seqs

    def forward(self, x):
        x = x.reshape(x.shape[0] // self.seqs, -1, x.shape[-1])  # N × S·T × C
        y = x[:, 0] if self.op == "token" else x.amax(1) if self.op == "max" else x.mean(1)
        return y[:, :, None, None]


def _pool(layer: Layer, inputs) -> nn.Module:
    glob = {"avg": nn.AdaptiveAvgPool2d, "max": nn.AdaptiveMaxPool2d}
    if isinstance(inputs[0], Tokens):
        return TokenPool(layer.op, seqs_of(inputs[0]))
    if layer.global_:
        return nn.Sequential(glob[layer.op](1), *_tail(layer, layer.c, nn.BatchNorm2d))
    if isinstance(layer.padding, tuple) or layer.ceil and layer.padding == "valid":  # PyTorch's own pools, as torchvision's
        pad = layer.padding if isinstance(layer.padding, tuple) else (0, 0)
        cls = nn.MaxPool2d if layer.op == "max" else nn.AvgPool2d
        core = [cls(layer.k, layer.s, pad, ceil_mode=layer.ceil)]
    elif layer.op == "max":
        core = _padded(layer, inputs[0], nn.MaxPool2d(layer.k, layer.s), value=float("-inf"))
    else:
        (t, b), (l, r) = pads_of(layer, inputs[0])
        symmetric = (t, l) == (b, r) and 2 * t <= layer.k[0] and 2 * l <= layer.k[1]
        core = [nn.AvgPool2d(layer.k, layer.s, padding=(t, l), count_include_pad=False)
                if symmetric else _TFAvgPool(layer.k, layer.s, (l, r, t, b))]
    return nn.Sequential(*core, *_tail(layer, layer.c, nn.BatchNorm2d))


class Sub(nn.Module):
    """a − b, element-wise (EfficientFormer's pooling mixer, pool(x) − x)."""

    def forward(self, a, b):
        return a - b


def _batchnorm(layer: Layer, inputs) -> nn.Module:
    """A batch norm on its own: BatchNorm2d on a map, BatchNorm1d over tokens' channels."""
    c = inputs[0][2]
    bn = ChannelsFirst(nn.BatchNorm1d(c)) if isinstance(inputs[0], Tokens) else nn.BatchNorm2d(c)
    return nn.Sequential(bn, *_tail(replace(layer, bn=False), c, nn.BatchNorm2d))


class Add(nn.Module):
    """Element-wise sum of the inputs (a residual join), then the layer's activation."""

    def __init__(self, tail: list[nn.Module]):
        super().__init__()
        self.tail = nn.Sequential(*tail)

    def forward(self, *xs):
        out = xs[0]
        for x in xs[1:]:
            out = out + x
        return self.tail(out)


def channel_dim(shape) -> int:
    """The axis of a tensor's channels: 1 of a map (N×C×H×W), the last of tokens (N×T×C); of
    attention scores, their heads (axis 1)."""
    return -1 if isinstance(shape, Tokens) else 1


def seqs_of(shape) -> int:
    """The sequences S a tensor's batch axis holds per image (tokens' S, the scores' query's)."""
    if isinstance(shape, Scores):
        return seqs_of(shape.query)
    return shape[1] if isinstance(shape, Tokens) else 1


class Concat(nn.Module):
    """The inputs side by side along channels (Inception's branches, a U-Net's skip)."""

    def __init__(self, dim: int = 1):
        super().__init__()
        self.dim = dim

    def forward(self, *xs):
        return torch.cat(xs, self.dim)


class Mul(nn.Module):
    """x · gate, element-wise; a N×C×1×1 gate (squeeze-excite) broadcasts over H×W, and over
    the tokens of a sequence (S sequences of each image share their image's gate)."""

    def __init__(self, seqs: int = 0):
        super().__init__()
        self.seqs = seqs  # tokens × a 1×1×C map gate: its sequences per image, else 0

    def forward(self, x, gate):
        if self.seqs:  # (N·S)×T×C viewed N×S×T×C, times the N×1×1×C gate
            return (x.view(-1, self.seqs, *x.shape[1:]) * gate.view(gate.shape[0], 1, 1, -1)).view_as(x)
        return x * gate


class Split(nn.Module):
    """The input's channels in parts of ``sizes`` (ShuffleNetV2's channel split): a tuple, whose
    i-th part is the tensor ``name.i``."""

    def __init__(self, sizes, dim: int = 1):
        super().__init__()
        self.sizes, self.dim = list(sizes), dim

    def forward(self, x):
        return torch.split(x, self.sizes, self.dim)


class Shuffle(nn.Module):
    """ShuffleNet's channel shuffle: C = g·(C/g) channels viewed as g × C/g, transposed, flattened
    back (torchvision's channel_shuffle). C, H, W are the build's, like its pads, so an export
    writes constant shapes (Reshape → Transpose → Reshape, the pattern importers know); on tokens
    the channels are the last axis."""

    def __init__(self, groups: int, shape):
        super().__init__()
        self.groups, (self.h, self.w, self.c) = groups, shape
        self.tokens = isinstance(shape, Tokens)

    def forward(self, x):
        g, c, h, w = self.groups, self.c, self.h, self.w
        if self.tokens:
            return x.view(-1, h, g, c // g).transpose(2, 3).contiguous().view(-1, h, c)
        return x.view(-1, g, c // g, h, w).transpose(1, 2).contiguous().view(-1, c, h, w)


def _upsample(layer: Layer, inputs) -> nn.Module:
    mode = {"nearest": "nearest", "bilinear": "bilinear"}[layer.mode or "nearest"]
    if layer.shape_only:  # like: NAME, to that map's H×W (DeepLab's image pooling, its logits)
        return FirstInput(nn.Upsample(size=tuple(inputs[-1][:2]), mode=mode))
    if layer.size:
        return nn.Upsample(size=tuple(layer.size), mode=mode)
    return nn.Upsample(scale_factor=layer.up, mode=mode)


def _plain(layer: Layer, inputs) -> nn.Module:
    """A standalone activation (with its BN, if the file gives one)."""
    return nn.Sequential(*_tail(layer, layer.c, nn.BatchNorm2d))


# --- tokens, norms and attention -------------------------------------------------------------

class TokenBatchNorm(nn.Module):
    """A BN over the channels of tokens (LeViT's Linear + BatchNorm1d on the flattened tokens)."""

    def __init__(self, c: int):
        super().__init__()
        self.bn = nn.BatchNorm1d(c)

    def forward(self, x):
        return self.bn(x.flatten(0, -2)).view_as(x)


def _linear(layer: Layer, inputs) -> nn.Module:
    """nn.Linear on tokens, a 1×1 Conv2d on a map: M·N weights applied at every position."""
    m = inputs[0][2]
    if isinstance(inputs[0], Tokens):
        return nn.Sequential(nn.Linear(m, layer.c, bias=layer.bias), *_tail(layer, layer.c, TokenBatchNorm))
    return nn.Sequential(nn.Conv2d(m, layer.c, 1, bias=layer.bias), *_tail(layer, layer.c, nn.BatchNorm2d))


class ChannelsLast(nn.Module):
    """A module over the last axis (nn.LayerNorm) applied to a map's channels: ConvNeXt's
    LayerNorm2d, permute → norm → permute back."""

    def __init__(self, inner: nn.Module):
        super().__init__()
        self.inner = inner

    def forward(self, x):
        return self.inner(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)


class ChannelsFirst(nn.Module):
    """A module over N×C×… (nn.GroupNorm) applied to tokens, N×T×C."""

    def __init__(self, inner: nn.Module):
        super().__init__()
        self.inner = inner

    def forward(self, x):
        return self.inner(x.transpose(1, 2)).transpose(1, 2)


def _layernorm(layer: Layer, inputs) -> nn.Module:
    norm = nn.LayerNorm(inputs[0][2], elementwise_affine=layer.affine)
    return norm if isinstance(inputs[0], Tokens) else ChannelsLast(norm)


def _groupnorm(layer: Layer, inputs) -> nn.Module:
    norm = nn.GroupNorm(layer.groups, inputs[0][2], affine=layer.affine)
    return ChannelsFirst(norm) if isinstance(inputs[0], Tokens) else norm


def _per_channel(shape) -> tuple[int, ...]:
    """How a per-channel vector broadcasts over a tensor: C×1×1 on a map (or over scores'
    heads), C on tokens."""
    return (-1,) if isinstance(shape, Tokens) else (-1, 1, 1)


class LayerScale(nn.Module):
    """γ ⊙ x, one learned γ per channel (CaiT's, ConvNeXt's layer scale)."""

    def __init__(self, c: int, shape):
        super().__init__()
        self.gamma = nn.Parameter(torch.full((c,), 1e-6))
        self.view = _per_channel(shape)

    def forward(self, x):
        return x * self.gamma.view(self.view)


class Softmax(nn.Module):
    """Softmax over the scores' keys (their last axis), or over a tensor's channels."""

    def __init__(self, dim: int):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        return x.softmax(self.dim)


def heads_of(x: torch.Tensor, shape, heads: int) -> torch.Tensor:
    """A map or tokens tensor as (N·S)×heads×positions×d, its channels split into heads of d."""
    if isinstance(shape, Tokens):
        b, t, c = x.shape
        return x.reshape(b, t, heads, c // heads).transpose(1, 2)
    b, c, h, w = x.shape
    return x.reshape(b, heads, c // heads, h * w).transpose(-1, -2)


class QK(nn.Module):
    """Attention scores Q·Kᵀ/√d per head: (N·S)×h×T_q×T_kv. K has h heads, or one that every
    query head reads (multi-query attention), broadcast by the matmul."""

    def __init__(self, heads: int, shapes):
        super().__init__()
        (q, k), self.shapes = shapes, shapes
        d = q[2] // heads
        self.heads, self.kv_heads, self.scale = heads, k[2] // d, d ** -0.5

    def forward(self, q, k):
        q = heads_of(q, self.shapes[0], self.heads) * self.scale
        return q @ heads_of(k, self.shapes[1], self.kv_heads).transpose(-1, -2)


class AV(nn.Module):
    """A·V per head, back in the query's layout (tokens, or a map) with h·d_v channels."""

    def __init__(self, heads: int, c: int, shapes):
        super().__init__()
        scores, v = shapes
        self.heads, self.v, self.query = heads, v, scores.query
        self.kv_heads = v[2] * heads // c  # h, or 1 shared (multi-query)

    def forward(self, a, v):
        o = a @ heads_of(v, self.v, self.kv_heads)  # (N·S)×h×T_q×d_v
        if isinstance(self.query, Tokens):
            return o.transpose(1, 2).flatten(2)
        h, w, _ = self.query
        return o.transpose(-1, -2).reshape(o.shape[0], -1, h, w)


def _matmul(layer: Layer, inputs) -> nn.Module:
    return AV(layer.heads, layer.c, inputs) if layer.op == "av" else QK(layer.heads, inputs)


class AttentionBias(nn.Module):
    """A learned bias per head and relative offset added to the scores (LeViT's): the table is
    heads × offsets parameters, the offset of each (query, key) pair an index buffer — here
    |i − j| mod offsets, the table's entries cycled over the pairs."""

    def __init__(self, offsets: int, scores):
        super().__init__()
        nq, nkv, heads = scores
        nq //= seqs_of(scores)
        self.table = nn.Parameter(torch.zeros(heads, offsets))
        self.register_buffer("index", (torch.arange(nq)[:, None] - torch.arange(nkv)[None, :]).abs() % offsets)

    def forward(self, s):
        return s + self.table[:, self.index]


class ToTokens(nn.Module):
    """A map N×C×H×W as tokens N×(H·W)×C (``x.flatten(2).transpose(1, 2)``), or MobileViT's
    unfolding into p_h·p_w sequences of (H/p_h)·(W/p_w) tokens, (N·p_h·p_w)×T×C."""

    def __init__(self, patch, mode: str = "", size=None):
        super().__init__()
        (self.ph, self.pw), self.mode = patch, mode
        # the tiled size as numbers, not computed from x.shape: a traced export then writes a
        # Resize to constant sizes, which shape inference (and so the ONNX importer) can follow
        self.tiled = tiled(*size, patch) if mode and size else None

    def forward(self, x):
        if self.mode:  # timm's MobileVitBlock resizes up to the next multiples of the patch first
            x = _resized(x, self.tiled or tiled(x.shape[2], x.shape[3], (self.ph, self.pw)), self.mode)
        (b, c, h, w), ph, pw = x.shape, self.ph, self.pw
        if ph * pw == 1:
            return x.flatten(2).transpose(1, 2)
        x = x.reshape(b, c, h // ph, ph, w // pw, pw).permute(0, 3, 5, 2, 4, 1)  # N, p_h, p_w, H/p_h, W/p_w, C
        return x.reshape(b * ph * pw, (h // ph) * (w // pw), c)


class ToMap(nn.Module):
    """Tokens back as an N×C×H×W map: the inverse of :class:`ToTokens` with its patch."""

    def __init__(self, size, patch, mode: str = ""):
        super().__init__()
        (self.h, self.w), (self.ph, self.pw), self.mode = size, patch, mode

    def forward(self, x):
        ph, pw = self.ph, self.pw
        (bs, t, c), (h, w) = x.shape, tiled(self.h, self.w, (ph, pw)) if self.mode else (self.h, self.w)
        if ph * pw == 1:
            return x.transpose(1, 2).reshape(bs, c, h, w)
        x = x.reshape(bs // (ph * pw), ph, pw, h // ph, w // pw, c).permute(0, 5, 3, 1, 4, 2).reshape(-1, c, h, w)
        # and back down to H×W, as timm's MobileVitBlock does after folding
        return _resized(x, (self.h, self.w), self.mode) if (h, w) != (self.h, self.w) else x


def _resized(x, size, mode: str):
    """F.interpolate to ``size`` as timm's MobileViT calls it (bilinear: align_corners=False)."""
    if tuple(x.shape[2:]) == tuple(size):
        return x
    return F.interpolate(x, size=size, mode=mode, align_corners=False if mode == "bilinear" else None)


class ClassToken(nn.Module):
    """Learned tokens prepended to each sequence (ViT's class token, DeiT's distillation token)."""

    def __init__(self, n: int, c: int):
        super().__init__()
        self.tokens = nn.Parameter(torch.zeros(1, n, c))

    def forward(self, x):
        return torch.cat([self.tokens.expand(x.shape[0], -1, -1), x], 1)


class PositionEmbedding(nn.Module):
    """A learned vector per position, added: 1×C×H×W on a map, S×T×C on S sequences of tokens
    (each image's (N·S) rows take the same S×T×C)."""

    def __init__(self, shape):
        super().__init__()
        if isinstance(shape, Tokens):
            t, s, c = shape
            self.embedding = nn.Parameter(torch.zeros(s, t, c))
        else:
            h, w, c = shape
            self.embedding = nn.Parameter(torch.zeros(1, c, h, w))

    def forward(self, x):
        e = self.embedding
        return (x.view(-1, *e.shape) + e).view_as(x) if x.dim() == 3 else x + e


def _pos_embed(layer: Layer, inputs) -> nn.Module:
    return PositionEmbedding(inputs[0])


def _map(layer: Layer, inputs, patch=(1, 1)) -> nn.Module:
    h, w = layer.size if layer.size is not None else inputs[1][:2]
    return ToMap((h, w), patch, layer.mode)


class FirstInput(nn.Module):
    """Passes its first input on (a ``map`` that reads ``like`` a map for its size only)."""

    def __init__(self, inner: nn.Module):
        super().__init__()
        self.inner = inner

    def forward(self, x, *_):
        return self.inner(x)


# kind → (layer, its input shapes H×W×C) → module: one handle per primitive kind of
# mbcost.core.kinds (or a reason in the kind's ``unsupported``).
BUILDERS: dict[str, Callable[[Layer, list], nn.Module]] = {
    "conv": _conv,
    "dwconv": _conv,  # a conv with groups = M (N = M·multiplier)
    "deconv": _deconv,
    "fc": _fc,
    "pool": _pool,
    "add": lambda layer, inputs: Add(_tail(layer, layer.c, nn.BatchNorm2d)),
    "sub": lambda layer, inputs: Sub(),
    "batchnorm": _batchnorm,
    "concat": lambda layer, inputs: Concat(channel_dim(inputs[0])),
    "mul": lambda layer, inputs: Mul(seqs_of(inputs[0]) if isinstance(inputs[0], Tokens)
                                     and not isinstance(inputs[1], Tokens) else 0),
    "split": lambda layer, inputs: Split(layer.sizes, channel_dim(inputs[0])),
    "shuffle": lambda layer, inputs: Shuffle(layer.groups, inputs[0]),
    "upsample": _upsample,
    "act": _plain,
    # mbcost keeps a flattened map's H×W×C for counting; the tensor is N×(H·W·C), as an fc reads it
    "flatten": lambda layer, inputs: Flatten(seqs_of(inputs[0])),
    # the file's p is not part of the layer graph, and dropout is the identity in eval mode
    "dropout": lambda layer, inputs: nn.Dropout(),
    "linear": _linear,
    "layernorm": _layernorm,
    "groupnorm": _groupnorm,
    "layerscale": lambda layer, inputs: LayerScale(inputs[0][2], inputs[0]),
    "softmax": lambda layer, inputs: Softmax(-1 if isinstance(inputs[0], (Tokens, Scores)) else 1),
    "matmul": _matmul,
    "attn_bias": lambda layer, inputs: AttentionBias(layer.extra, inputs[0]),
    "tokens": lambda layer, inputs: ToTokens(layer.k, layer.mode, inputs[0][:2]),
    "map": lambda layer, inputs, patch=(1, 1): FirstInput(_map(layer, inputs, patch)),
    "cls_token": lambda layer, inputs: ClassToken(layer.extra, inputs[0][2]),
    "pos_embed": _pos_embed,
}


def _key(name: str, taken: set[str]) -> str:
    """A ModuleDict key for a layer name ('block3.dw' → 'block3_dw'; keys cannot hold dots)."""
    key = name.replace(".", "_")
    while key in taken:
        key += "_"
    taken.add(key)
    return key


class Net(nn.Module):
    """The network of one expanded :class:`~mbcost.core.graph.Graph`, in execution order.

    ``layers[key]`` is the module of one mbcost layer (``key_of[name]`` finds it);
    ``forward`` returns the network's output (the graph's ``outputs:``, a tuple if several,
    else the last layer's), :meth:`outputs` every tensor, by name — a split's parts as
    ``name.0``, ``name.1``, … and the split itself as its input.
    """

    def __init__(self, graph: Graph, results: tuple[LayerResult, ...]):
        super().__init__()
        self.graph = graph
        h, w, c = graph.input_shape
        self.input_size = (1, c, h, w)  # NCHW, what forward expects
        self.layers = nn.ModuleDict()
        self.key_of: dict[str, str] = {}
        taken: set[str] = set()
        self.plan: list[tuple[str, str, tuple[str, ...]]] = []
        producers = {L.name: L for L in graph.layers}
        for r in results:
            layer = r.layer
            builder = handle(BUILDERS, layer.kind, "torch", "mbcost.torch.build")
            key = self.key_of[layer.name] = _key(layer.name, taken)
            # a map folds S sequences back with the patch they were unfolded from
            kw = dict(patch=unfolded_patch(layer, producers, seqs_of(r.input_shape), r.output_shape[:2])) \
                if layer.kind == "map" else {}
            self.layers[key] = builder(layer, list(r.input_shapes), **kw)
            self.plan.append((layer.name, key, layer.inputs, len(layer.sizes)))
        self.results = tuple(graph.outputs) or (self.plan[-1][0],)

    def outputs(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        values = {"input": x}
        for name, key, inputs, parts in self.plan:
            y = self.layers[key](*(values[i] for i in inputs))
            if parts:  # a split: its parts are the tensors later layers read
                values.update((f"{name}.{i}", t) for i, t in enumerate(y))
                y = values[inputs[0]]
            values[name] = y
        return values

    def forward(self, x: torch.Tensor):
        values = self.outputs(x)
        out = tuple(values[name] for name in self.results)
        return out[0] if len(out) == 1 else out


def build(arch: str | Path | ArchSpec, alpha: float | str | Fraction | None = None,
          resolution: int | str | None = None, rho: float | str | Fraction | None = None,
          classes: int | None = None, depth: float | str | Fraction | None = None) -> Net:
    """The ``torch.nn.Module`` of ``arch`` at width α, depth multiplier d and an input
    resolution (or ρ), built from the same expanded graph ``mbcost report`` costs; α, d and
    the resolution default to the file's (a variant's) own, ``classes`` overrides the file's."""
    spec = load(arch)
    a = parse_alpha(alpha) if alpha is not None else (spec.alpha or Fraction(1))
    d = parse_depth(depth) if depth is not None else (spec.depth or Fraction(1))
    res = input_resolution(spec, resolution, rho)
    graph = expand(spec, a, res, classes=classes, depth=d)
    return Net(graph, run_graph(graph, PAPER))
