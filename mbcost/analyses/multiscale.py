"""Multi-scale and flipped inference: one network run at several input scales (and each input
mirrored too), its cost the sum — how DeepLab evaluates on Pascal VOC (Chen et al., 2017, §4.2;
the MobileNetV2 paper's Table 7 "MF").

Each scale's input is DeepLab's ``scale_dimension(dim, scale) = int((dim − 1)·scale + 1)``
(tensorflow/models research/deeplab/core/utils.py), so a 513 input at 0.5 is 257, and the
flipped copy doubles every count. The per-scale reports are ordinary reports: their layers,
memory and latency are each scale's own.

    >>> m = multiscale("mobilenet_v2", scales="0.5,1", flip=True, resolution=513)
    >>> [r.resolution for r in m.reports], m.passes
    ([(257, 257), (513, 513)], 2)
    >>> m.madds == 2 * sum(r.madds for r in m.reports)
    True
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path

from ..core.conventions import PAPER, Convention, require_convention
from ..core.engine import Report, analyze, load
from ..core.multipliers import input_resolution
from ..core.present import Printable
from ..core.spec import ArchSpec
from ..errors import UsageError
from .sweep import parse_list

MAX_SCALES = 32
MAX_SCALE = Fraction(8)


def scale_dimension(dim: int, scale: Fraction) -> int:
    """DeepLab's rule for a scaled input side: int((dim − 1)·scale + 1)."""
    return math.floor((dim - 1) * scale + 1)


@dataclass(frozen=True, repr=False)
class MultiScale(Printable):
    """A network's cost over several input scales, each run once (twice with ``flip``)."""

    architecture: str
    scales: tuple[Fraction, ...]
    flip: bool
    reports: tuple[Report, ...]  # one per scale, in order

    @property
    def passes(self) -> int:
        """Runs per scale: 2 with the mirrored input."""
        return 2 if self.flip else 1

    @property
    def madds(self) -> int:
        return self.passes * sum(r.madds for r in self.reports)

    @property
    def params(self) -> int:
        """The network's parameters: one network, whatever it is run on."""
        return self.reports[0].params

    @property
    def convention(self) -> Convention:
        return self.reports[0].convention

    def __repr__(self) -> str:
        return (f"<MultiScale {self.architecture}: {len(self.scales)} scales{' × 2 (flipped)' if self.flip else ''}, "
                f"{self.madds:,} mult-adds>")


def parse_scales(value) -> tuple[Fraction, ...]:
    """``--scales 0.5,0.75,1``: positive exact numbers up to 8, at most 32 of them, no repeats."""
    scales = parse_list(value, "--scales")
    if not scales:
        raise UsageError("expected one or more scales, e.g. 0.5,0.75,1", field="--scales")
    if len(scales) > MAX_SCALES:
        raise UsageError(f"expected at most {MAX_SCALES} scales, got {len(scales)}", field="--scales")
    for s in scales:
        if not 0 < s <= MAX_SCALE:
            raise UsageError(f"expected scales > 0 and ≤ {MAX_SCALE}, got {s}", field="--scales")
    # parse_list drops repeats (a sweep's grid is a set); a scale given twice is a typo here
    items = [value] if isinstance(value, (str, int, float, Fraction)) else list(value)
    given = [s for item in items for piece in (item.split(",") if isinstance(item, str) else [item])
             for s in parse_list(piece, "--scales")]
    if len(given) != len(scales):
        raise UsageError("a scale is given twice", field="--scales")
    return tuple(scales)


def multiscale(arch: str | Path | ArchSpec, scales, flip: bool = False, alpha=None, resolution=None,
               rho=None, convention: Convention = PAPER, depth=None, device=None) -> MultiScale:
    """``arch`` at every scale of its input (the file's, or ``resolution``/``rho``), summed; the
    flipped copy of each input doubles the cost."""
    convention = require_convention(convention)
    spec = load(arch)
    base = input_resolution(spec, resolution, rho)
    ss = parse_scales(scales)
    reports = []
    for s in ss:
        h, w = (scale_dimension(x, s) for x in base)
        if min(h, w) < 1:
            raise UsageError(f"scale {s} gives a {h}×{w} input", field="--scales")
        reports.append(analyze(replace(spec, resolution=(h, w)), alpha=alpha, convention=convention, depth=depth,
                               device=device))
    return MultiScale(spec.name, ss, bool(flip), tuple(reports))
