"""The two global knobs: width multiplier α and resolution (given directly or as ρ).

Both are parsed from what the user typed into exact fractions, so α = 0.75 is 3/4 and
c·α is never a binary-float approximation (docs/format.md, "Width rounding").
"""
from __future__ import annotations

import math
import re
from fractions import Fraction

from ..errors import UsageError
from .fields import MAX_RESOLUTION
from .spec import ArchSpec
from .yamlio import describe, digits

Pair = tuple[int, int]
MAX_ALPHA = 64


def parse_alpha(value: str | float | int | Fraction, flag: str = "--alpha") -> Fraction:
    """α: any finite number > 0 (up to 64); kept exact as the decimal written."""
    alpha = _fraction(value, flag, "α")
    if alpha <= 0 or alpha > MAX_ALPHA:
        raise UsageError(f"expected a width multiplier α > 0 and ≤ {MAX_ALPHA}, got {value}", field=flag)
    return alpha


def parse_depth(value: str | float | int | Fraction, flag: str = "--depth") -> Fraction:
    """The depth multiplier d: each stage (a row that states n) repeats ⌈n·d⌉ times."""
    d = _fraction(value, flag, "d")
    if d <= 0 or d > MAX_ALPHA:
        raise UsageError(f"expected a depth multiplier d > 0 and ≤ {MAX_ALPHA}, got {value}", field=flag)
    return d


def parse_rho(value: str | float | Fraction, flag: str = "--rho") -> Fraction:
    rho = _fraction(value, flag, "ρ")
    if rho <= 0 or rho > MAX_ALPHA:
        raise UsageError(f"expected a resolution multiplier ρ > 0 and ≤ {MAX_ALPHA}, got {value}", field=flag)
    return rho


def parse_resolution(value: str | int, flag: str = "--resolution") -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        r = value
        if digits(r) > MAX_NUMBER_CHARS:  # str() of it would be refused past 4,300 digits
            raise UsageError(f"expected a resolution from 1 to {MAX_RESOLUTION}, got {describe(r)}", field=flag)
    else:
        text = str(value).strip()
        if len(text) > MAX_NUMBER_CHARS:
            raise UsageError(f"expected a positive integer resolution, got a {len(text)}-character value",
                             field=flag)
        try:
            r = int(text.replace("_", ""))
        except ValueError:
            raise UsageError(f"expected a positive integer resolution, got {text!r}", field=flag) from None
    if not 1 <= r <= MAX_RESOLUTION:
        raise UsageError(f"expected a resolution from 1 to {MAX_RESOLUTION}, got {r}", field=flag)
    return r


MAX_NUMBER_CHARS = 50  # a number as typed: 0.000…01 with thousands of digits is a mistake
MAX_EXPONENT = 50  # Fraction("1e-100000000") builds a 100-million-digit integer: a hang
MAX_DIGITS = 60  # numerator and denominator of an exact value (1e-50 has 51 digits)


def bounded(x: Fraction, flag: str, symbol: str) -> Fraction:
    """An exact value whose numerator and denominator have fewer than MAX_DIGITS digits,
    so that it can be printed (Python refuses str() of an int past 4,300 digits) and computed
    with. Every number from a flag, a file or the API passes here or through :func:`_fraction`."""
    if max(abs(x.numerator), x.denominator) >= 10**MAX_DIGITS:
        raise UsageError(f"expected a number for {symbol} of at most {MAX_DIGITS} digits, "
                         f"got {describe(x if x.denominator != 1 else x.numerator)}", field=flag)
    return x


def number_text(value, flag: str, what: str) -> str:
    """A number as typed, checked for length and exponent before anything is built from it."""
    text = str(value).strip()
    if len(text) > MAX_NUMBER_CHARS:
        raise UsageError(f"expected {what}, got a {len(text)}-character value", field=flag)
    exponent = re.search(r"[eE]\s*([+-]?\d+)\s*$", text.replace("_", ""))
    if exponent and abs(int(exponent.group(1))) > MAX_EXPONENT:
        raise UsageError(f"expected {what} between 1e-{MAX_EXPONENT} and {MAX_ALPHA}, got {text!r}",
                         field=flag)
    return text


def _fraction(value, flag: str, symbol: str) -> Fraction:
    if isinstance(value, Fraction):
        return bounded(value, flag, symbol)
    if isinstance(value, bool):
        raise UsageError(f"expected a number for {symbol}, got {value}", field=flag)
    if isinstance(value, int):
        return bounded(Fraction(value), flag, symbol)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise UsageError(f"expected a finite number for {symbol}, got {value}", field=flag)
        value = repr(value)  # the shortest decimal that round-trips: 0.35 → 7/20
    text = str(value).strip()
    if text.lower().lstrip("+-") in ("nan", "inf", "infinity"):
        raise UsageError(f"expected a finite number for {symbol}, got {text!r}", field=flag)
    text = number_text(text, flag, f"a number for {symbol}")
    try:
        out = Fraction(text.replace("_", ""))
    except (ValueError, ZeroDivisionError):
        raise UsageError(f"expected a number for {symbol}, got {text!r}", field=flag) from None
    return bounded(out, flag, symbol)  # '1/3' is short; 1e-50 has a 51-digit denominator


def round_half_up(x: Fraction) -> int:
    return math.floor(x + Fraction(1, 2))


def input_resolution(spec: ArchSpec, resolution: int | str | None = None,
                     rho: str | float | Fraction | None = None) -> Pair:
    """The input size to analyse: ``resolution`` R (square), or ρ × the file's own size
    (R = round(ρ · R₀), halves rounded up), or the file's size."""
    if resolution is not None and rho is not None:
        raise UsageError("give either --resolution or --rho, not both", field="--rho")
    if resolution is not None:
        r = parse_resolution(resolution)
        return (r, r)
    if rho is not None:
        p = parse_rho(rho)
        h, w = (round_half_up(p * x) for x in spec.resolution)
        if min(h, w) < 1 or max(h, w) > MAX_RESOLUTION:
            raise UsageError(f"ρ = {rho} gives an input of {h}×{w}", field="--rho")
        return (h, w)
    return spec.resolution


def fmt_alpha(alpha: Fraction) -> str:
    """α as the decimal the user wrote (3/4 → '0.75'); exact fractions stay fractions."""
    if alpha.denominator == 1:
        return f"{alpha.numerator}.0"
    d = alpha.denominator
    twos = fives = 0
    while d % 2 == 0:
        d //= 2; twos += 1
    while d % 5 == 0:
        d //= 5; fives += 1
    if d != 1:
        return str(alpha)
    digits = max(twos, fives)
    return f"{alpha.numerator * 10**digits // alpha.denominator / 10**digits:.{digits}f}" \
        if digits <= 15 else str(alpha)
