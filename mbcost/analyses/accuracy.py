"""Published ImageNet top-1 as data, and the expected top-1 of any (α, resolution) of a family.

The numbers ship in ``mbcost/analyses/data/`` exactly as the research notes transcribed them
(docs/research/latency/RESULTS.md), each row with its citation in a ``source`` column:

- ``tfslim_mobilenet_v2.csv``: TF-slim's 22 float MobileNetV2 checkpoints (α, resolution,
  MACs, params, top-1, top-5, Pixel-1 ms), tensorflow/models
  ``research/slim/nets/mobilenet/README.md`` @ 60c28f91;
- ``tfslim_mobilenet_v1.csv``: TF-slim's 16 float MobileNetV1 checkpoints (and their
  quantized top-1), ``research/slim/nets/mobilenet_v1.md`` @ 10cf1c0a;
- ``tfslim_mobilenet_v3.csv``: TF-slim's MobileNetV3 tables (no built-in config yet);
- ``papers.csv``: the V1 paper's Tables 4–7 and 9, the V2 paper's Table 4, the V3 paper's
  Tables 3–5, with the typos the notes found.

**How top-1 is interpolated** (:func:`expected_top1`), for a family whose TF-slim grid
ships (mobilenet_v1, mobilenet_v2); the choice and its leave-one-out errors are in
docs/research/latency/RESULTS.md §3:

1. a published checkpoint: its published top-1 (method ``published``);
2. inside the published rectangle of α × resolution: bilinear in (ln α, ln R) between the
   four surrounding checkpoints (``bilinear``; about 0.2 points between checkpoints);
3. on a published row beyond the rectangle (α between 1.0 and 1.4 at 224 for V2): linear in
   ln α along that row (``ln-alpha``);
4. anywhere else: a quadratic in ln(mult-adds) least-squares fitted to all the family's
   checkpoints, with their exact mult-adds (``quadratic-ln-madds``, flagged
   ``extrapolated``; for V2 its leave-one-out RMSE is 0.7 points, 1.5 at worst).
"""
from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from typing import Callable
from importlib import resources

from ..core.conventions import PAPER

DATA = "data"


@dataclass(frozen=True)
class PublishedTop1:
    """One published float checkpoint: where it was printed and its ImageNet top-1 (%)."""

    checkpoint: str
    alpha: Fraction
    resolution: int
    top1: float
    top5: float | None
    source: str
    pixel1_ms: float | None = None


# the built-in architectures whose TF-slim table ships, and the file it is in
FAMILIES = {"mobilenet_v1": "tfslim_mobilenet_v1.csv", "mobilenet_v2": "tfslim_mobilenet_v2.csv"}


def data_text(name: str) -> str:
    return resources.files(__package__).joinpath(DATA, name).read_text(encoding="utf-8")


def read_csv(name: str) -> list[dict[str, str]]:
    """A shipped data file's rows (csv.DictReader: the citations contain commas)."""
    return list(csv.DictReader(data_text(name).splitlines()))


def _float(text: str) -> float | None:
    return float(text) if text.strip() else None


@lru_cache(maxsize=None)
def published(architecture: str) -> tuple[PublishedTop1, ...]:
    """The TF-slim float checkpoints of a built-in family, or () when none ship."""
    if architecture not in FAMILIES:
        return ()
    return tuple(PublishedTop1(r["checkpoint"], Fraction(r["alpha"]), int(r["resolution"]),
                               float(r["top1"]), _float(r["top5"]), r["source"],
                               _float(r.get("pixel1_cpu_ms") or ""))
                 for r in read_csv(FAMILIES[architecture]))


@dataclass(frozen=True)
class Expected:
    """An expected top-1 and how it was obtained."""

    top1: float
    method: str  # published | bilinear | ln-alpha | quadratic-ln-madds
    checkpoint: str | None = None  # the published checkpoint, for method 'published'

    @property
    def extrapolated(self) -> bool:
        return self.method == "quadratic-ln-madds"


class Top1Model:
    """Expected top-1 of one family at any (α, resolution), built from its checkpoints."""

    def __init__(self, architecture: str):
        self.architecture = architecture
        self.rows = published(architecture)
        self.at = {(r.alpha, r.resolution): r for r in self.rows}
        self.alphas = sorted({r.alpha for r in self.rows})
        self.resolutions = sorted({r.resolution for r in self.rows})
        self._quadratic: tuple[float, float, float] | None = None
        self._r_brackets: dict[int, tuple | None] = {}  # each resolution's, found once

    def __bool__(self) -> bool:
        return bool(self.rows)

    def expected(self, alpha: Fraction, resolution: int, madds: int | None = None) -> Expected | None:
        return self.expected_at(alpha)(resolution, madds)

    def expected_at(self, alpha: Fraction) -> Callable[[int, int | None], Expected | None]:
        """``expected`` at one α, as a function of (resolution, exact mult-adds or None): what
        depends on α alone (its published rows, its bracket of widths) is found once, so a fit
        over 1,751 α × 481 resolutions does not hash and compare 842k Fractions."""
        a = Fraction(alpha)
        if not self.rows:
            return lambda R, madds=None: None
        published = {R: row for (x, R), row in self.at.items() if x == a}
        ab = self._bracket(self.alphas, a)
        u = None if ab is None else math.log(a / ab[0]) / math.log(ab[1] / ab[0])
        along = {}  # at a published resolution: linear in ln α between two widths published there
        for R in self.resolutions:
            widths = sorted(x for x, y in self.at if y == R)
            wb = self._bracket(widths, a)
            if wb is not None:
                w = math.log(a / wb[0]) / math.log(wb[1] / wb[0])
                along[R] = (1 - w) * self.at[wb[0], R].top1 + w * self.at[wb[1], R].top1

        # the published top-1s at the two widths around α, per resolution: the cell's corners
        edges = [{R: self.at[x, R].top1 for R in self.resolutions if (x, R) in self.at} for x in ab or ()]

        def at(resolution: int, madds: int | None = None) -> Expected:
            R = int(resolution)
            if R in published:
                return Expected(published[R].top1, "published", published[R].checkpoint)
            cell = self._cell(edges, u, R)
            if cell is not None:
                return Expected(cell, "bilinear")
            if R in along:
                return Expected(along[R], "ln-alpha")
            if madds is None:
                madds = self._madds(a, R)
            c0, c1, c2 = self.quadratic()
            x = math.log(madds / 1e6)
            return Expected(c0 + c1 * x + c2 * x * x, "quadratic-ln-madds")

        return at

    def _bracket(self, values: list, v) -> tuple | None:
        if not (values and values[0] <= v <= values[-1]):
            return None
        return next(((lo, hi) for lo, hi in zip(values, values[1:]) if lo <= v <= hi), None)

    def _cell(self, edges: list[dict], u: float | None, R: int) -> float | None:
        """Bilinear in (ln α, ln R) inside a cell whose four corners are published: ``edges``
        the top-1s at the widths around α by resolution, ``u`` α's way between them in ln α."""
        if not edges:
            return None
        if R not in self._r_brackets:
            self._r_brackets[R] = self._bracket(self.resolutions, R)
        rb = self._r_brackets[R]
        if rb is None or not all(r in e for e in edges for r in rb):
            return None
        (t0, t1), (r0, r1) = edges, rb
        v = math.log(R / r0) / math.log(r1 / r0)
        return (1 - u) * (1 - v) * t0[r0] + u * (1 - v) * t1[r0] + (1 - u) * v * t0[r1] + u * v * t1[r1]

    def _madds(self, a: Fraction, R: int) -> int:
        from .sweep import grid  # the exact count, under the papers' convention

        return grid(self.architecture, [a], [R], convention=PAPER).points[0].madds

    def quadratic(self) -> tuple[float, float, float]:
        """top-1 ≈ c0 + c1·x + c2·x², x = ln(mult-adds / 10⁶), least squares over the
        checkpoints' exact mult-adds (the printed MACs carry typos: V1's 0.75 rows)."""
        if self._quadratic is None:
            from .sweep import grid

            import numpy as np

            g = grid(self.architecture, self.alphas, self.resolutions, convention=PAPER)
            xs = [math.log(g.at(r.alpha, r.resolution).madds / 1e6) for r in self.rows]
            A = np.array([[1.0, x, x * x] for x in xs])
            coef = np.linalg.lstsq(A, np.array([r.top1 for r in self.rows]), rcond=None)[0]
            self._quadratic = tuple(float(c) for c in coef)
        return self._quadratic


@lru_cache(maxsize=None)
def top1_model(architecture: str) -> Top1Model:
    return Top1Model(architecture)


def expected_top1(architecture: str, alpha, resolution: int, madds: int | None = None) -> Expected | None:
    """The expected top-1 of a built-in family at (α, resolution), or None without data.

    >>> expected_top1("mobilenet_v2", Fraction("0.75"), 160)
    Expected(top1=66.4, method='published', checkpoint='mobilenet_v2_0.75_160')
    >>> round(expected_top1("mobilenet_v2", Fraction("0.75"), 176).top1, 2)   # between 160 and 192
    67.6
    """
    return top1_model(architecture).expected(Fraction(alpha), resolution, madds)
