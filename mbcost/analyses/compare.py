"""``mbcost compare``: every counter's total on one network, what it includes, and how far it is
from the papers' count.

One analysis of the network (under torchvision's parameter convention, which is what every one
of these counters reports as parameters) and one :class:`~mbcost.core.peers.Count` per profile.
The papers' count is the reference row: weight multiply-accumulates only.

    >>> c = compare("mobilenet_v2")
    >>> [(row.name, row.total, row.delta) for row in c.rows][:3]
    [('paper', 300774272, 0), ('ptflops', 320300008, 19525736), ('ptflops-aten', 300775272, 1000)]
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from ..core.conventions import PROFILES, Convention
from ..core.elements import Totals, total
from ..core.engine import Report, analyze
from ..core.peers import PEERS, Count, Implementation, Profile, count, implementation_of
from ..core.present import Printable
from ..core.spec import ArchSpec

# The papers' count as a profile: weight multiply-accumulates and nothing else.
PAPER = Profile("paper", "the MobileNet papers' mult-adds (mbcost's default)", "mbcost report ARCH", kinds=False)


@dataclass(frozen=True)
class Row:
    count: Count
    paper: int  # the papers' count in this row's unit (FLOPs: 2 × mult-adds)

    @property
    def name(self) -> str:
        return self.count.profile.name

    @property
    def total(self) -> int:
        return self.count.total

    @property
    def delta(self) -> int:
        return self.total - self.paper

    @property
    def ratio(self) -> Fraction | None:
        return Fraction(self.delta, self.paper) if self.paper else None


@dataclass(frozen=True, repr=False)
class Comparison(Printable):
    report: Report
    implementation: Implementation
    rows: tuple[Row, ...]  # the papers' first, then every profile of PEERS
    elements: Totals

    def __getitem__(self, name: str) -> Row:
        return next(r for r in self.rows if r.name == name)


def compare_report(report: Report, implementation: Implementation | None = None) -> Comparison:
    impl = implementation or implementation_of(report.architecture, base=report.graph.implementation)
    rows = []
    for p in (PAPER, *PEERS.values()):
        c = count(p, report, impl)
        rows.append(Row(c, report.madds * p.macs))
    return Comparison(report, impl, tuple(rows), total(report))


def compare(arch: str | Path | ArchSpec, alpha: float | str | Fraction = 1,
            resolution: int | str | None = None, rho: float | str | Fraction | None = None,
            pool: str | None = None, convention: Convention = PROFILES["torchvision"]) -> Comparison:
    """Every counter on ``arch`` at width α and a resolution; ``pool`` ('module' or
    'functional') overrides how the implementation is taken to call its pools. The
    convention sets the parameters and the class count (the counters' own parameter count is
    torchvision's); the counts are the profiles'."""
    report = analyze(arch, alpha=alpha, resolution=resolution, rho=rho, convention=convention)
    return compare_report(report, implementation_of(report.architecture, pool, base=report.graph.implementation))
