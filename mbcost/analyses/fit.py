"""``mbcost fit``: which (α, resolution) of an architecture fit a budget, best first.

Candidates are a grid (:func:`candidates`): by default the family's published TF-slim widths
and resolutions — for mobilenet_v2 α ∈ {0.35, 0.5, 0.75, 1.0, 1.3, 1.4} × R ∈ 96:224:32 —
or, for a family without published accuracies, α ∈ {0.25, 0.35, 0.5, 0.75, 1.0, 1.3, 1.4} ×
R ∈ 96:224:32, each time with the file's own resolution added; ``--alpha`` / ``--resolution`` take sweep's lists and ranges for a finer grid.
Mult-adds and parameters come from the sweep's fast path (:func:`mbcost.analyses.sweep.grid`);
a limited metric the grid does not carry is costed per candidate with the engine.

A candidate *fits* when every limited metric is ≤ its limit (limits are inclusive, as in
``check``). Of those, the Pareto set is kept:

- with published accuracies (:mod:`mbcost.analyses.accuracy`): a candidate is dropped when
  another has an expected top-1 at least as high and every limited metric at most as high,
  one of them strictly; the rest are ranked by expected top-1, highest first;
- without: accuracy is unknown, so more compute is taken as better: a candidate is dropped
  when another uses at least as much of every limited metric (one strictly more) while
  fitting; the rest are ranked by the first limited metric, largest first.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from ..core.conventions import PAPER, Convention
from ..core.engine import analyze, load
from ..core.latency import Device
from ..core.metrics import METRICS
from ..core.spec import ArchSpec
from ..errors import UsageError
from .accuracy import Expected, top1_model
from .budget import Limit
from .sweep import Values, grid

DEFAULT_ALPHAS = "0.25,0.35,0.5,0.75,1.0,1.3,1.4"
DEFAULT_RESOLUTIONS = "96:224:32"


@dataclass(frozen=True)
class Candidate:
    alpha: Fraction
    resolution: tuple[int, int]
    values: dict  # metric name → value under the fit's convention (exact ints; latency a float)
    expected: Expected | None = None

    @property
    def top1(self) -> float | None:
        return None if self.expected is None else self.expected.top1


@dataclass(frozen=True)
class FitResult:
    architecture: str
    source: str
    convention: Convention
    limits: tuple[Limit, ...]
    candidates: int  # how many configurations were costed
    fitting: int  # how many of them fit every limit
    pareto: tuple[Candidate, ...]  # best first
    ranked_by: str  # 'top1' or the metric name
    classes: int | None = None
    device: str | None = None

    @property
    def metrics(self) -> tuple[str, ...]:
        """The metrics each listed candidate carries: the limited ones first, then
        mult-adds and params."""
        names = [lim.metric for lim in self.limits]
        return tuple(dict.fromkeys(names + ["madds", "params"]))


def candidates(spec: ArchSpec, alphas: Values, resolutions: Values) -> tuple[Values, Values]:
    """The grid to search: as given, else the family's published widths (or the default
    ones) × the file's own resolution and 96:224:32."""
    model = top1_model(spec.name)
    if alphas is None:
        alphas = [a for a in model.alphas] if model else DEFAULT_ALPHAS
    if resolutions is None:
        own = spec.resolution[0] if spec.resolution[0] == spec.resolution[1] else None
        resolutions = ([own] if own else []) + [DEFAULT_RESOLUTIONS]
    return alphas, resolutions


def _goals(c: Candidate, metrics: tuple[str, ...], by_top1: bool) -> tuple:
    """What a candidate is judged on, each the higher the better: its expected top-1 and the
    negated limited metrics (less is better), else the limited metrics (more of the budget used)."""
    if by_top1:
        return (c.top1,) + tuple(-c.values[m] for m in metrics)
    return tuple(c.values[m] for m in metrics)


def _dominates(a: tuple, b: tuple) -> bool:
    return a != b and all(x >= y for x, y in zip(a, b))


def pareto(cands: list[Candidate], metrics: tuple[str, ...], by_top1: bool) -> list[Candidate]:
    """The candidates no other dominates (at least as good in every goal, better in one), in
    their given order; equal candidates are all kept. Distinct goal tuples sorted best first
    (lexicographically), every earlier one is at least as good in the first goal, and a tuple
    is dominated exactly when an earlier one is at least as good in the rest: with up to three
    goals (a limit or two, and top-1) that is a running maximum or a Fenwick tree of maxima,
    n·log n, where comparing all pairs took minutes on the 842k grid. More goals compare each
    tuple with the front kept so far."""
    goals = [_goals(c, metrics, by_top1) for c in cands]
    order = sorted(set(goals), reverse=True)
    kept: set[tuple] = set()
    k = len(order[0]) if order else 0
    if k <= 3:
        # k == 2: the best second goal so far; k == 3: per rank of the second goal (best first),
        # the best third goal among tuples at least that good in the second (a prefix maximum)
        best = -math.inf
        rank = {v: i for i, v in enumerate(sorted({t[1] for t in order}, reverse=True), 1)} if k == 3 else {}
        tree = [-math.inf] * (len(rank) + 1)
        for n, t in enumerate(order):
            if k == 1:
                dominated = n > 0 and t[0] < order[0][0]
            elif k == 2:
                dominated = best >= t[1]
                best = max(best, t[1])
            else:
                i, top = rank[t[1]], -math.inf
                while i:
                    top, i = max(top, tree[i]), i & (i - 1)
                dominated = top >= t[2]
                i = rank[t[1]]
                while i < len(tree):
                    tree[i], i = max(tree[i], t[2]), i + (i & -i)
            if not dominated:
                kept.add(t)
    else:
        front: list[tuple] = []
        for t in order:
            if not any(_dominates(f, t) for f in front):
                front.append(t)
        kept = set(front)
    return [c for c, g in zip(cands, goals) if g in kept]


def fit(arch: str | Path | ArchSpec, limits: tuple[Limit, ...], alphas: Values = None,
        resolutions: Values = None, convention: Convention = PAPER,
        device: Device | None = None) -> FitResult:
    """The Pareto set of (α, resolution) of ``arch`` within every limit. A latency limit
    needs ``device``; it is timed layer by layer with the engine, for the candidates that pass
    the exact limits."""
    if not limits:
        raise UsageError("nothing to fit: give at least one limit, e.g. --max-madds 150M")
    spec = load(arch)
    alphas, resolutions = candidates(spec, alphas, resolutions)
    g = grid(spec, alphas, resolutions, convention=convention)
    model = top1_model(spec.name)
    fast = [lim for lim in limits if not METRICS[lim.metric].needs]
    slow = [lim for lim in limits if METRICS[lim.metric].needs]
    if slow and device is None:
        raise UsageError("a latency limit needs a device profile: give --device NAME (e.g. pixel1)",
                         field="--max-latency")

    # an exact limit is a bound on one of the sweep's counts (FLOPs = 2 × mult-adds: at most
    # ⌊limit / 2⌋ mult-adds), so the points over it are never built
    most: dict[str, int] = {}
    for lim in fast:
        m = METRICS[lim.metric]
        most[m.base] = min(most.get(m.base, lim.value // m.times), lim.value // m.times)
    fitting: list[Candidate] = []
    expected_at, alpha = None, None
    for p in g.within(most):
        values = {m: METRICS[m].of(p) for m in ("madds", "params")}
        values.update({lim.metric: METRICS[lim.metric].of(p) for lim in fast})
        if slow:  # only what passed the exact limits is costed layer by layer
            report = analyze(spec, p.alpha, p.resolution[0], convention=convention, device=device)
            values.update({lim.metric: METRICS[lim.metric].of(report) for lim in slow})
            if any(values[lim.metric] > lim.value for lim in slow):
                continue
        expected = None
        if model and p.resolution[0] == p.resolution[1]:
            if p.alpha is not alpha:  # the points come α by α: what depends on α only, once
                expected_at, alpha = model.expected_at(p.alpha), p.alpha
            # accuracy belongs to the network, not to the counting convention: the papers' counts
            madds = p.madds if convention == PAPER else None
            expected = expected_at(p.resolution[0], madds)
        fitting.append(Candidate(p.alpha, p.resolution, values, expected))

    by_top1 = bool(model)
    metrics = tuple(lim.metric for lim in limits)
    best = pareto(fitting, metrics, by_top1)
    first = limits[0].metric
    if by_top1:
        best.sort(key=lambda c: (-c.top1, c.values[first]))
    else:
        best.sort(key=lambda c: (-c.values[first], c.alpha, c.resolution))
    return FitResult(spec.name, spec.source, convention, tuple(limits), len(g), len(fitting),
                     tuple(best), "top1" if by_top1 else first,
                     classes=convention.classes if convention.classes is not None else spec.classes,
                     device=device.name if device else None)
