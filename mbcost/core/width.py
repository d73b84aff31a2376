"""Width rules: how the width multiplier α turns a paper's channel count into a real one.

The reference implementations round α·c differently, and the differences decide exact
matches: TF-slim's and Keras's MobileNetV1 floor it, TF-slim's and torchvision's MobileNetV2
round to a multiple of 8 (timm keeps the same ``make_divisible`` in its helpers).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction


@dataclass(frozen=True)
class WidthRule:
    """How the width multiplier α turns a paper channel count c into a real one.

    ``floor``: max(floor(c·α), min) — TF-slim / Keras MobileNetV1.
    ``make_divisible``: c·α rounded to the nearest multiple of ``divisor``, at
    least ``min``, bumped up one ``divisor`` if rounding lost more than 10% —
    TF-slim / torchvision MobileNetV2.
    """

    rule: str = "floor"
    min: int = 8
    divisor: int = 8

    def apply(self, c: int, alpha: Fraction) -> int:
        if alpha == 1:  # the file's own channel counts, even ones below min or off the divisor
            return c
        # exact: α = p/q is the decimal the user typed, not its binary float; v = c·p/q, in
        # integers (a sweep applies this for every α, and Fraction arithmetic was most of it)
        p, q = alpha.numerator, alpha.denominator
        if self.rule == "floor":
            return max(c * p // q, self.min)
        d = self.divisor
        n = max(self.min, (2 * c * p + d * q) // (2 * q) // d * d)  # ⌊v + d/2⌋, down to a multiple of d
        if 10 * n * q < 9 * c * p:  # n < 0.9·v: rounding lost more than 10%
            n += d
        return n

    def round(self, v: Fraction) -> int:
        """An exact channel count v (an expansion t·M) rounded by the rule, even at α = 1, as
        TF-slim's expand_input_by_factor and torchvision's adjust_channels do."""
        if self.rule == "floor":
            return max(math.floor(v), 1)
        return make_divisible(v, self.divisor, self.min)


def make_divisible(v: Fraction, divisor: int, minimum: int | None = None) -> int:
    """torchvision's _make_divisible: the nearest multiple of ``divisor`` (at least ``minimum``,
    by default the divisor), bumped up one divisor if rounding lost more than 10%."""
    n = max(minimum or divisor, math.floor(v + Fraction(divisor, 2)) // divisor * divisor)
    return n + divisor if n < Fraction(9, 10) * v else n
