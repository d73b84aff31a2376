"""Hand derivations shared by the tests: MobileNetV1 and V2 summed straight from the papers'
formulas, independently of the engine, and the papers' printed-digit rule.

Standard conv D_K²·M·N·D_F², depthwise D_K²·M·D_F², pointwise M·N·D_F², FC M·N ('same'
padding: D_F = ⌈R / s⌉). Nothing here imports mbcost: a test compares the engine with these,
and an expected value written in a test stays arithmetic with its derivation in a comment.
"""
from __future__ import annotations

import math
from fractions import Fraction

# --- MobileNetV1 --------------------------------------------------------------------------------

# The 13 separable pairs at α = 1, 224×224: (M, N, D_F) from the paper's Table 1. conv1 (3×3,
# stride 2, 3 → 32) runs at 112²; each pair's depthwise carries the stride.
V1_PAIRS = [(32, 64, 112), (64, 128, 56), (128, 128, 56), (128, 256, 28), (256, 256, 28),
            (256, 512, 14)] + [(512, 512, 14)] * 5 + [(512, 1024, 7), (1024, 1024, 7)]

# At α = 1, R = 224:
#   conv1 3·3·3·32·112²          =  10,838,016
#   32→64 at 112²:   9·32·112² + 32·64·112²       =   3,612,672 + 25,690,112
#   64→128 at 56²:   9·64·56² + 64·128·56²        =   1,806,336 + 25,690,112
#   128→128 at 56²:  9·128·56² + 128·128·56²      =   3,612,672 + 51,380,224
#   128→256 at 28²:  9·128·28² + 128·256·28²      =     903,168 + 25,690,112
#   256→256 at 28²:  9·256·28² + 256·256·28²      =   1,806,336 + 51,380,224
#   256→512 at 14²:  9·256·14² + 256·512·14²      =     451,584 + 25,690,112
#   5 × 512→512 at 14²: 5·(9·512·14² + 512·512·14²) = 4,515,840 + 256,901,120
#   512→1024 at 7²:  9·512·7² + 512·1024·7²       =     225,792 + 25,690,112
#   1024→1024 at 7²: 9·1024·7² + 1024·1024·7²     =     451,584 + 51,380,224
#   FC 1024·1000                                  =   1,024,000
#   total                                         = 568,740,352 mult-adds
# and weights 864 + Σ (9·M + M·N) + 1,024,000 = 4,209,088.

# Batch norm follows every conv, depthwise included, never the classifier: the first conv's 32
# plus, for each pair M → N, M (the depthwise output) + N (the pointwise output):
#   Σ M = 32+64+128+128+256+256+5·512+512+1024 = 4,960
#   Σ N = 64+128+128+256+256+512+5·512+1024+1024 = 5,952
#   32 + 4,960 + 5,952 = 10,944
V1_BN_CHANNELS = 32 + sum(m + n for m, n, _ in V1_PAIRS)


def _fraction(x) -> Fraction:
    return Fraction(str(x)) if isinstance(x, float) else Fraction(x)


def v1_by_hand(alpha=1, res: int = 224) -> tuple[int, int]:
    """(mult-adds, weights) of MobileNetV1 at width α and resolution R: channels
    max(⌊c·α⌋, 8) as TF-slim's depth(); D_F = ⌈R / 2ᵏ⌉ where it is 224 / 2ᵏ at 224."""
    a = _fraction(alpha)
    f = lambda c: max(math.floor(c * a), 8)  # noqa: E731
    size = lambda d224: -(-res // (224 // d224))  # noqa: E731  ⌈R / 2ᵏ⌉
    m, d = f(32), size(112)
    madds, params = 9 * 3 * m * d * d, 9 * 3 * m
    for _, n, d224 in V1_PAIRS:
        d, n = size(d224), f(n)
        madds += 9 * m * d * d + m * n * d * d
        params += 9 * m + m * n
        m = n
    return madds + m * 1000, params + m * 1000


# --- MobileNetV2 --------------------------------------------------------------------------------

# Table 2's bottleneck rows (t, c, n, s) at α = 1; conv1 3×3/2 to 32 before, a 1×1 conv to
# 1280, the global pool and the FC after.
V2_ROWS = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1),
           (6, 160, 3, 2), (6, 320, 1, 1)]
V2_WIDTHS = tuple(c for _, c, _, _ in V2_ROWS)


def v2_by_hand(stem: int = 32, widths: tuple[int, ...] = V2_WIDTHS, last: int = 1280,
               classes: int = 1000) -> tuple[int, int]:
    """(mult-adds, weights) of MobileNetV2 at 224×224 with the given channel counts (α = 1 by
    default), from the bottleneck formula h·w·d′·t·d′ (expand, absent for t = 1) +
    h′·w′·t·d′·(k² + d″) (depthwise + project)."""
    d, c_in = 112, stem
    madds, params = 9 * 3 * stem * d * d, 9 * 3 * stem
    for (t, _, n, s), c in zip(V2_ROWS, widths):
        for i in range(n):
            d_out = math.ceil(d / (s if i == 0 else 1))
            e = t * c_in
            if t != 1:
                madds += d * d * c_in * e
                params += c_in * e
            madds += d_out * d_out * e * (9 + c)
            params += e * (9 + c)
            d, c_in = d_out, c
    madds += d * d * c_in * last + last * classes
    params += c_in * last + last * classes
    return madds, params


def v2_bn_channels(stem: int = 32, widths: tuple[int, ...] = V2_WIDTHS, last: int = 1280) -> int:
    """Batch-norm channels of MobileNetV2: conv1; per bottleneck repeat with input d′ and
    output c, the expansion t·d′ (absent for t = 1), the depthwise t·d′ and the projection c;
    the final 1×1 conv. At α = 1:
        32 + (32+16) + (96+96+24) + (144+144+24) + (144+144+32) + 2·(192+192+32)
        + (192+192+64) + 3·(384+384+64) + (384+384+96) + 2·(576+576+96)
        + (576+576+160) + 2·(960+960+160) + (960+960+320) + 1280 = 17,056"""
    total, d = stem, stem
    for (t, _, n, _), c in zip(V2_ROWS, widths):
        for _ in range(n):
            total += (t * d if t != 1 else 0) + t * d + c
            d = c
    return total + last


# --- the papers' printed digits -------------------------------------------------------------------


def printed(value: int, text: str, unit: int = 10**6) -> bool:
    """True if the paper's digits `text` are `value` / `unit` truncated or rounded to what it
    prints (the papers do both)."""
    decimals = len(text.split(".")[1]) if "." in text else 0
    scaled = Fraction(value, unit) * 10**decimals
    return int(text.replace(".", "")) in (math.floor(scaled), math.floor(scaled + Fraction(1, 2)))


# --- torchvision's MobileNetV2, element by element (for the peer counters) ---------------------

def make_divisible(v: float, divisor: int = 8) -> int:
    """torchvision.models._utils._make_divisible: nearest multiple of 8, at least 8, at most 10% down."""
    new_v = max(divisor, int(v + divisor / 2) // divisor * divisor)
    return new_v + divisor if new_v < 0.9 * v else new_v


def tv_mobilenet_v2_elements(alpha: float, res: int, classes: int = 1000) -> dict[str, int]:
    """Element counts of torchvision's mobilenet_v2(width_mult=α) on a 1×3×R×R input, walked from
    torchvision 0.29's mobilenetv2.py independently of mbcost: every Conv2dNormActivation is a conv
    without bias, a BatchNorm2d and (except the linear projection) a ReLU6; InvertedResidual's
    hidden width is round(inp·t); the shortcut `x + self.conv(x)` joins stride-1 blocks with equal
    channels; the last conv has make_divisible(1280·max(1, α)) channels; the global pool is
    F.adaptive_avg_pool2d; the classifier a Linear with bias. Keys: macs (Σ k²·(C_in/g)·C_out·H·W
    + the Linear's in·out), bias, bn, bn_channels, relu6, pool_in, pool_out, add."""
    t = dict.fromkeys(("macs", "bias", "bn", "bn_channels", "relu6", "pool_in", "pool_out", "add"), 0)

    def conv_bn(c_in, c_out, k, s, g, h, act):
        h_out = (h + 2 * ((k - 1) // 2) - k) // s + 1   # PyTorch's rule with padding (k − 1) / 2
        el = c_out * h_out * h_out
        t["macs"] += k * k * (c_in // g) * el
        t["bn"] += el
        t["bn_channels"] += c_out
        t["relu6"] += el if act else 0
        return h_out

    c = make_divisible(32 * alpha)
    h = conv_bn(3, c, 3, 2, 1, res, True)
    for expand, c_paper, n, s in [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2),
                                  (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]:
        c_out = make_divisible(c_paper * alpha)
        for i in range(n):
            stride = s if i == 0 else 1
            hidden = int(round(c * expand))
            if expand != 1:
                h = conv_bn(c, hidden, 1, 1, 1, h, True)
            h = conv_bn(hidden, hidden, 3, stride, hidden, h, True)
            h = conv_bn(hidden, c_out, 1, 1, 1, h, False)
            if stride == 1 and c == c_out:
                t["add"] += c_out * h * h
            c = c_out
    last = make_divisible(1280 * max(1.0, alpha))
    h = conv_bn(c, last, 1, 1, 1, h, True)
    t["pool_in"], t["pool_out"] = last * h * h, last
    t["macs"] += last * classes
    t["bias"] += classes
    return t


# --- torchvision's ResNet and MobileNetV3-Large, layer by layer (element counts) ----------------
# Each layer is a dict of mbcost.core.elements.Elements' fields; torchvision 0.29's resnet.py and
# mobilenetv3.py walked by hand on a 1×3×224×224 input. Pools there are nn.Module's, adds and the
# SE gate Python operators, every activation a module.

def _conv_out(h: int, k: int, s: int, p: int | None = None) -> int:
    p = (k - 1) // 2 if p is None else p
    return (h + 2 * p - k) // s + 1


def tv_resnet_layers(blocks: tuple[int, ...], bottleneck: bool, classes: int = 1000) -> list[dict]:
    """resnet18 = ((2, 2, 2, 2), False), resnet50 = ((3, 4, 6, 3), True). A BasicBlock is
    conv3×3(s)-BN-ReLU, conv3×3-BN; a Bottleneck (V1.5, stride on the 3×3) conv1×1-BN-ReLU,
    conv3×3(s)-BN-ReLU, conv1×1(×4)-BN; a 1×1(s)-BN downsample when the shape changes; then
    `out += identity` and the block's self.relu again."""
    layers: list[dict] = []

    def conv(c_in, c_out, k, s, h, act=True, p=None):
        h_out = _conv_out(h, k, s, p)
        el = c_out * h_out * h_out
        layers.append(dict(macs=k * k * c_in * el, bn=el, bn_channels=c_out,
                           **(dict(act="relu", act_elements=el) if act else {})))
        return h_out

    h = conv(3, 64, 7, 2, 224, p=3)
    h_pool = _conv_out(h, 3, 2, 1)
    layers.append(dict(kind="pool", pool="max", pool_in=64 * h * h, pool_out=64 * h_pool * h_pool))
    h, c = h_pool, 64
    expansion = 4 if bottleneck else 1
    for stage, (n, planes) in enumerate(zip(blocks, (64, 128, 256, 512))):
        for i in range(n):
            s = 2 if stage > 0 and i == 0 else 1
            out = planes * expansion
            if bottleneck:
                h1 = conv(c, planes, 1, 1, h)
                h1 = conv(planes, planes, 3, s, h1)
                h1 = conv(planes, out, 1, 1, h1, act=False)
            else:
                h1 = conv(c, planes, 3, s, h)
                h1 = conv(planes, planes, 3, 1, h1, act=False)
            if s != 1 or c != out:
                conv(c, out, 1, s, h, act=False, p=0)
            el = out * h1 * h1
            layers.append(dict(kind="add", add=el, act="relu", act_elements=el))
            h, c = h1, out
    layers.append(dict(kind="pool", pool="global_avg", pool_in=c * h * h, pool_out=c))
    layers.append(dict(macs=c * classes, bias=classes))
    return layers


# (in, kernel, expanded, out, SE, activation, stride): torchvision's mobilenet_v3_large setting
V3_LARGE = [(16, 3, 16, 16, False, "relu", 1), (16, 3, 64, 24, False, "relu", 2),
            (24, 3, 72, 24, False, "relu", 1), (24, 5, 72, 40, True, "relu", 2),
            (40, 5, 120, 40, True, "relu", 1), (40, 5, 120, 40, True, "relu", 1),
            (40, 3, 240, 80, False, "hswish", 2), (80, 3, 200, 80, False, "hswish", 1),
            (80, 3, 184, 80, False, "hswish", 1), (80, 3, 184, 80, False, "hswish", 1),
            (80, 3, 480, 112, True, "hswish", 1), (112, 3, 672, 112, True, "hswish", 1),
            (112, 5, 672, 160, True, "hswish", 2), (160, 5, 960, 160, True, "hswish", 1),
            (160, 5, 960, 160, True, "hswish", 1)]


def tv_mobilenet_v3_large_layers(classes: int = 1000) -> list[dict]:
    """Stem conv3×3/2 16 + BN + Hardswish; each bneck: 1×1 expand + BN + act (when expanded ≠ in),
    k×k depthwise (stride s) + BN + act, SE (nn.AdaptiveAvgPool2d(1) → 1×1 conv with bias to
    make_divisible(exp / 4) + ReLU → 1×1 conv with bias back + Hardsigmoid → `scale * input`),
    1×1 project + BN, `result += input` when s = 1 and in = out; then 1×1 to 960 + BN + Hardswish,
    the module pool, Linear(960, 1280) + Hardswish, Dropout, Linear(1280, classes)."""
    layers: list[dict] = []

    def conv(c_in, c_out, k, s, h, act, groups=1, bn=True, bias=False):
        h_out = _conv_out(h, k, s)
        el = c_out * h_out * h_out
        layers.append(dict(macs=k * k * (c_in // groups) * el, bias=el if bias else 0,
                           bn=el if bn else 0, bn_channels=c_out if bn else 0,
                           **(dict(act=act, act_elements=el) if act else {})))
        return h_out

    h = conv(3, 16, 3, 2, 224, "hswish")
    for c_in, k, exp, c_out, se, act, s in V3_LARGE:
        h_in = h
        if exp != c_in:
            h = conv(c_in, exp, 1, 1, h, act)
        h = conv(exp, exp, k, s, h, act, groups=exp)
        if se:
            squeeze = make_divisible(exp // 4)
            layers.append(dict(kind="pool", pool="global_avg", pool_in=exp * h * h, pool_out=exp))
            conv(exp, squeeze, 1, 1, 1, "relu", bn=False, bias=True)
            conv(squeeze, exp, 1, 1, 1, "hsigmoid", bn=False, bias=True)
            layers.append(dict(kind="mul", mul=exp * h * h))
        h = conv(exp, c_out, 1, 1, h, None)
        if s == 1 and c_in == c_out and h == h_in:
            layers.append(dict(kind="add", add=c_out * h * h))
    h = conv(160, 960, 1, 1, h, "hswish")
    layers.append(dict(kind="pool", pool="global_avg", pool_in=960 * h * h, pool_out=960))
    layers.append(dict(macs=960 * 1280, bias=1280, act="hswish", act_elements=1280))
    layers.append(dict(macs=1280 * classes, bias=classes))
    return layers
# The memory fields every convention's JSON carries at their defaults (fp32, whole tensors).
FP32 = {"activation_dtype": "fp32", "weight_dtype": "fp32", "bottleneck_chunks": 0}
