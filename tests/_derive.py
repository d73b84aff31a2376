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

# The memory fields every convention's JSON carries at their defaults (fp32, whole tensors).
FP32 = {"activation_dtype": "fp32", "weight_dtype": "fp32", "bottleneck_chunks": 0}
