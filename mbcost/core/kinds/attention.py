"""``attention``: multi-head self-attention (Vaswani et al., §3.2) on a sequence of tokens or on
a map (its H·W positions), with the options mobile networks add.

With h heads, query/key width d_k and value width d_v per head, N query positions of C
channels and N_kv key/value positions, it expands into

    NAME.q      linear C → h·d_k                       N·C·h·d_k
    NAME.k      linear C → h_kv·d_k                    N_kv·C·h_kv·d_k
    NAME.v      linear C → h_kv·d_v                    N_kv·C·h_kv·d_v
    NAME.scores matmul Q·Kᵀ                            N·N_kv·h·d_k
    [NAME.bias  attn_bias, a learned table per head]
    NAME.softmax
    NAME.av     matmul A·V                             N·N_kv·h·d_v
    [NAME.act   an activation on A·V (LeViT's hardswish)]
    NAME.proj   linear h·d_v → C_out                   N·h·d_v·C_out

so for plain attention (d_k = d_v = C/h, N_kv = N, C_out = C) the mult-adds are 4·N·C² + 2·N²·C,
the projections plus Q·Kᵀ and A·V; biases on q, k, v (``qkv_bias``) and proj (``proj_bias``)
are parameters counted under ``bias``. h_kv is h, or 1 with ``multi_query`` (one K/V head
shared by every query head). With ``fused`` (the default for plain attention, as timm and
torchvision build it) q, k and v are one linear C → h·(2·d_k + d_v), ``NAME.qkv``, split
into three: the same counts.

``kv_stride: s`` downsamples the keys and values first (a map only): ``kv_down: dwconv`` (the
default: MobileNetV4's Mobile MQA, a k×k depthwise conv of stride s with BN before each of the
K and V projections), ``conv`` (a k×k conv of stride s, PVT's spatial reduction, shared) or
``pool`` (an average pool, EfficientFormerV2's); N_kv is then the downsampled map's positions.

Widths: ``key_dim`` and ``value_dim`` are per head; without them d_k = C/h of the α-scaled input,
so α scales the head dimension and keeps the heads (a given ``key_dim`` is α-scaled by the file's
width rule like any channel count). With ``head_dim`` instead of ``heads`` the heads are
C / head_dim, so α scales the heads and keeps their width — DeiT's Ti/S/B (192/384/768 wide,
3/6/12 heads of 64) are one network at α = 1/4, 1/2, 1 of B.

Row keys: heads or head_dim (one is required), key_dim, value_dim, multi_query, fused, qkv_bias (true), proj
(true), proj_bias (true), c (the input's), offsets (an attention bias table), act (on A·V),
kv_stride, kv_down, kv_k (3), scale, n.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..fields import MAX_KERNEL
from ..kind import Kind


@dataclass(frozen=True)
class AttentionArgs:
    heads: int | None
    head_dim: int | None = None
    key_dim: int | None = None
    value_dim: int | None = None
    multi_query: bool = False
    fused: bool | None = None
    qkv_bias: bool = True
    proj: bool = True
    proj_bias: bool = True
    c: int | None = None
    offsets: int | None = None
    act: str | None = None
    kv_stride: int = 1
    kv_down: str = "dwconv"
    kv_k: int = 3
    scale: str = "always"


def read(f) -> AttentionArgs:
    act, scale = f.act(), f.scale()
    heads, head_dim = f.integer("heads"), f.integer("head_dim")
    if (heads is None) == (head_dim is None):
        f.missing("give the attention 'heads' (e.g. 8) or 'head_dim' (the width of each, e.g. 64: the heads are "
                  "C / head_dim, so they follow α), not " + ("both" if heads else "neither"))
    c, _ = f.channels(required=False)
    args = AttentionArgs(
        heads=heads, head_dim=head_dim, key_dim=f.integer("key_dim"), value_dim=f.integer("value_dim"),
        multi_query=bool(f.boolean("multi_query", False)), fused=f.boolean("fused"),
        qkv_bias=bool(f.boolean("qkv_bias", True)), proj=bool(f.boolean("proj", True)),
        proj_bias=bool(f.boolean("proj_bias", True)), c=c, offsets=f.integer("offsets"), act=act,
        kv_stride=f.integer("kv_stride", 1, hi=MAX_KERNEL), kv_down=f.choice("kv_down", ("dwconv", "conv", "pool"),
                                                                          "dwconv"),
        kv_k=f.integer("kv_k", 3, hi=MAX_KERNEL), scale=scale)
    if args.fused and (args.multi_query or args.kv_stride > 1):
        f.fail_key("fused", "a fused qkv projection reads one input for all three: not with multi_query or kv_stride")
    if not args.proj and c is not None:
        f.fail_key("c", "the output width is the projection's: 'c' needs 'proj: true'")
    return args


def expand(ex, row) -> None:
    a: AttentionArgs = row.args
    for name in ex.repeat_names(row, "attention"):
        _one(ex, name, a)
        ex.alias(name)


def _one(ex, name: str, a: AttentionArgs) -> None:
    x, c = ex.last, ex.cur
    if a.heads is None:  # as many heads of head_dim as the (α-scaled) width holds
        if c % a.head_dim:
            ex.fail(f"head_dim {a.head_dim} does not divide the {c} channels of {x}", "head_dim")
        h = c // a.head_dim
    else:
        h = a.heads
    dk = ex.scale(a.key_dim, a.scale) if a.key_dim is not None else None
    if dk is None:
        if c % h:
            ex.fail(f"{h} heads do not divide the {c} channels of {x}: give key_dim", "heads")
        dk = c // h
    dv = ex.scale(a.value_dim, a.scale) if a.value_dim is not None else dk
    h_kv = 1 if a.multi_query else h
    common = dict(block=name)
    fused = a.fused if a.fused is not None else not (a.multi_query or a.kv_stride > 1)
    if fused:
        ex.emit(f"{name}.qkv", "linear", h * (2 * dk + dv), bias=a.qkv_bias, role="qkv", **common)
        ex.emit(f"{name}.split", "split", ex.cur, sizes=(h * dk, h * dk, h * dv), role="qkv", **common)
        q, k, v = (f"{name}.split.{i}" for i in range(3))
    else:
        q = ex.emit(f"{name}.q", "linear", h * dk, inputs=(x,), bias=a.qkv_bias, role="q", **common)
        k = _kv(ex, name, "k", x, h_kv * dk, a)
        v = _kv(ex, name, "v", x, h_kv * dv, a)
    ex.emit(f"{name}.scores", "matmul", h, inputs=(q, k), heads=h, op="qk", role="scores", **common)
    ex.scores[f"{name}.scores"] = a.multi_query and h > 1
    if a.offsets is not None:
        ex.emit(f"{name}.bias", "attn_bias", h, extra=a.offsets, role="bias", **common)
    ex.emit(f"{name}.softmax", "softmax", h, role="softmax", **common)
    ex.emit(f"{name}.av", "matmul", h * dv, inputs=(ex.last, v), heads=h, op="av", role="av", **common)
    if a.act is not None and a.act != "linear":
        ex.emit(f"{name}.act", "act", ex.cur, act=a.act, role="act", **common)
    if a.proj:
        c_out = ex.scale(a.c, a.scale) if a.c is not None else c
        ex.emit(f"{name}.proj", "linear", c_out, bias=a.proj_bias, role="proj", **common)


def _kv(ex, name: str, which: str, x: str, width: int, a: AttentionArgs) -> str:
    """The K or V projection, after the keys' and values' downsampling when there is one."""
    src = x
    if a.kv_stride > 1:
        s, k = (a.kv_stride,) * 2, (a.kv_k,) * 2
        down = f"{name}.kv_down" if a.kv_down != "dwconv" else f"{name}.{which}_down"
        if down in ex.names:  # the conv and pool downsampling is shared by K and V
            src = down
        elif a.kv_down == "dwconv":  # MobileNetV4: a depthwise conv with BN before each projection
            src = ex.emit(down, "dwconv", ex.channels[x], inputs=(x,), k=k, s=s, groups=ex.channels[x], bn=True,
                          role="kv_down", block=name)
        elif a.kv_down == "conv":
            src = ex.emit(down, "conv", ex.channels[x], inputs=(x,), k=(a.kv_stride,) * 2, s=s, padding="valid",
                          bias=True, role="kv_down", block=name)
        else:
            src = ex.emit(down, "pool", ex.channels[x], inputs=(x,), k=k, s=s, op="avg", role="kv_down", block=name)
    return ex.emit(f"{name}.{which}", "linear", width, inputs=(src,), bias=a.qkv_bias, role=which, block=name)


KIND = Kind("attention", "multi-head self-attention: projections, Q·Kᵀ, softmax, A·V, output projection",
            keys=("n", "act", "heads", "head_dim", "key_dim", "value_dim", "multi_query", "fused", "qkv_bias", "proj",
                  "proj_bias", "c", "offsets", "kv_stride", "kv_down", "kv_k", "scale"),
            read=read, expand=expand, example={"heads": 2})
