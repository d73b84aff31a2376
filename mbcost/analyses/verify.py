"""The papers' two closed forms, checked against the engine's own per-layer counts.

MobileNetV1 (eq. 5): a depthwise separable convolution — a D_K×D_K depthwise conv on M
channels, then a 1×1 pointwise conv to N channels, on a D_F×D_F output map — costs

    D_K²·M·D_F² + M·N·D_F²    against    D_K²·M·N·D_F²

for the standard convolution with the same M, N, D_K, stride and output size, a ratio of
exactly 1/N + 1/D_K².

MobileNetV2 (section 5.1): a bottleneck block with input h×w×d′, expansion t, kernel k and
output d″ costs h·w·d′·t·(d′ + k² + d″) at stride 1. At stride s the expansion still runs
at the input size and the depthwise and projection at the output size h′×w′:

    h·w·d′·(t·d′) + h′·w′·t·d′·(k² + d″)

and when t = 1 there is no expansion layer at all, so the first term is absent.

Every check here takes the shapes and channel counts the engine propagated, recomputes
each layer's mult-adds from them with these formulas, and compares with the count the
engine reported — so a wrong cost function (or a tampered result) fails, naming the layer.
All arithmetic is exact: integers, and :class:`fractions.Fraction` for ratios.
Non-square kernels and maps use D_K² → k_h·k_w and D_F² → H·W. docs/verify.md has more.
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Iterable

from ..core.engine import LayerResult, Report
from ..core.graph import Pair

BOTTLENECK_ROLES = frozenset({"expand", "dw", "project", "add"})

PAPER_FORMULA = "h·w·d′·t·(d′ + k² + d″)"
PAPER_FORMULA_T1 = "h·w·d′·(k² + d″)"  # t = 1: the reference nets have no expansion layer
GENERAL_FORMULA = "h·w·d′·t·d′ + h′·w′·t·d′·(k² + d″)"
GENERAL_FORMULA_T1 = "h′·w′·d′·(k² + d″)"


@dataclass(frozen=True)
class Mismatch:
    """One layer whose engine count differs from its closed form."""

    layer: str
    engine: int
    expected: int
    formula: str

    def __str__(self) -> str:
        return (f"{self.layer}: engine counts {self.engine:,} mult-adds, "
                f"{self.formula} = {self.expected:,}")


@dataclass(frozen=True)
class PairCheck:
    """A depthwise conv and the 1×1 conv that consumes it (MobileNetV1 paper, eq. 5)."""

    depthwise: str
    pointwise: str
    M: int  # depthwise input channels
    N: int  # pointwise output channels
    D_K: Pair  # depthwise kernel (k_h, k_w)
    D_F: Pair  # depthwise output map (H, W)
    stride: Pair
    separable_madds: int  # the engine's depthwise + pointwise counts
    standard_madds: int  # D_K²·M·N·D_F², recomputed
    mismatches: tuple[Mismatch, ...]

    @property
    def ratio(self) -> Fraction:
        return Fraction(self.separable_madds, self.standard_madds)

    @property
    def formula(self) -> Fraction:
        return Fraction(1, self.N) + Fraction(1, self.D_K[0] * self.D_K[1])

    @property
    def reduction(self) -> Fraction:
        """How many times fewer mult-adds than the standard conv (1 / ratio)."""
        return 1 / self.ratio

    @property
    def ok(self) -> bool:
        return not self.mismatches and self.ratio == self.formula


@dataclass(frozen=True)
class BottleneckCheck:
    """A MobileNetV2 inverted-residual block: its engine total against the paper's formula."""

    block: str
    layers: tuple[str, ...]
    t: Fraction  # expand output channels / d′; 1 when there is no expansion layer
    d_in: int  # d′
    d_out: int  # d″
    k: Pair
    stride: Pair
    input_size: Pair  # h, w
    output_size: Pair  # h′, w′
    has_expand: bool
    madds: int  # the engine's block total
    general_madds: int  # the stride-s form, recomputed
    general_formula: str
    paper_madds: int | None  # None where the stride-1 formula does not apply
    paper_formula: str | None
    note: str  # why the paper's formula was adjusted or not applied; "" when it applies as printed
    mismatches: tuple[Mismatch, ...]

    @property
    def ok(self) -> bool:
        return (not self.mismatches and self.madds == self.general_madds
                and (self.paper_madds is None or self.paper_madds == self.madds))


@dataclass(frozen=True)
class NetworkCheck:
    """The same network with every separable pair replaced by a standard convolution.

    standard_madds = madds − Σ separable_madds + Σ standard_madds over the pairs; for
    MobileNetV1 this is exactly mobilenet_v1_conv ("Conv MobileNet", paper Table 4).
    """

    madds: int
    pairs_separable_madds: int
    pairs_standard_madds: int

    @property
    def standard_madds(self) -> int:
        return self.madds - self.pairs_separable_madds + self.pairs_standard_madds

    @property
    def ratio(self) -> Fraction:
        return Fraction(self.madds, self.standard_madds) if self.standard_madds else Fraction(1)


@dataclass(frozen=True)
class Verification:
    architecture: str
    report: Report
    pairs: tuple[PairCheck, ...]
    bottlenecks: tuple[BottleneckCheck, ...]
    network: NetworkCheck
    # layers with a cost that no closed form here covers (a plain conv, an fc, squeeze-excite's
    # convs…): named, so "all exact" is never read as "every layer checked"
    unchecked: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return all(p.ok for p in self.pairs) and all(b.ok for b in self.bottlenecks)

    @property
    def checked(self) -> bool:
        """Something was checked: at least one separable pair or bottleneck."""
        return bool(self.pairs or self.bottlenecks)

    def failures(self) -> list[str]:
        """One line per failed check, naming the layer (or the pair/block when every
        layer matches its form but the identity still does not hold)."""
        out: list[str] = []
        named: set[str] = set()  # a V2 dw/project is in a pair and a block: report it once

        def add(ms: tuple[Mismatch, ...]) -> None:
            for m in ms:
                if m.layer not in named:
                    named.add(m.layer)
                    out.append(str(m))

        for p in self.pairs:
            add(p.mismatches)
            if not p.mismatches and p.ratio != p.formula:
                out.append(f"{p.depthwise} → {p.pointwise}: ratio {p.ratio} ≠ 1/N + 1/D_K² = {p.formula}")
        for b in self.bottlenecks:
            add(b.mismatches)
            if not b.mismatches and not b.ok:
                out.append(f"{b.block}: engine total {b.madds:,} ≠ {b.general_formula} = {b.general_madds:,}")
        return out


# --- finding the structures ------------------------------------------------------------------


def _consumers(layers: Iterable[LayerResult]) -> dict[str, list[LayerResult]]:
    out: dict[str, list[LayerResult]] = {}
    for r in layers:
        for src in r.layer.inputs:
            out.setdefault(src, []).append(r)
    return out


def _gate(r: LayerResult, users: list[LayerResult]) -> LayerResult | None:
    """The squeeze-excite multiply on ``r``'s map, when ``r``'s readers are exactly an SE
    branch (a global pool) and the mul that gates ``r`` with it. The gate rescales channels
    and keeps the map, so the conv after it still reads ``r``'s M channels at D_F × D_F."""
    muls = [u for u in users if u.layer.kind == "mul" and u.layer.inputs[0] == r.name]
    pools = [u for u in users if u.layer.kind == "pool" and u.layer.global_]
    return muls[0] if len(users) == 2 and len(muls) == 1 and len(pools) == 1 else None


def find_pairs(layers: tuple[LayerResult, ...]) -> list[tuple[LayerResult, LayerResult]]:
    """Depthwise convs whose only consumer is a plain 1×1, stride-1 conv on the main path —
    directly, or through a squeeze-excite gate (MobileNetV3's bneck, EfficientNet's MBConv).

    Anything else (a dw feeding two layers, a strided or grouped 1×1, a depth multiplier) is
    not the structure eq. 5 describes, so it is not a pair.
    """
    cons = _consumers(layers)
    pairs = []
    for r in layers:
        if r.layer.kind != "dwconv" or r.layer.multiplier != 1:
            continue
        users = cons.get(r.name, [])
        via = _gate(r, users)
        if via is not None:
            users = cons.get(via.name, [])
        if len(users) != 1:
            continue
        pw = users[0]
        L = pw.layer
        if (L.kind == "conv" and L.k == (1, 1) and L.s == (1, 1) and L.groups == 1
                and L.inputs[0] == (via or r).name):
            pairs.append((r, pw))
    return pairs


def find_bottlenecks(layers: tuple[LayerResult, ...]) -> list[tuple[str, list[LayerResult]]]:
    """Blocks whose layers play bottleneck roles, with one depthwise and one projection."""
    blocks: dict[str, list[LayerResult]] = {}
    for r in layers:
        if r.layer.block is not None:
            blocks.setdefault(r.layer.block, []).append(r)
    out = []
    for name, members in blocks.items():
        roles = [m.layer.role for m in members]
        if (set(roles) <= BOTTLENECK_ROLES and roles.count("dw") == 1 and roles.count("project") == 1
                and roles.count("expand") <= 1 and roles.count("add") <= 1):
            out.append((name, members))
    return out


# --- the checks ------------------------------------------------------------------------------


def _hw(shape) -> int:
    return shape[0] * shape[1]


def _expect(r: LayerResult, expected: int, formula: str) -> list[Mismatch]:
    """The engine's count against the formula, times the layer's runs (a block run once per
    proposal, ``times: 300``, does the per-run work 300 times)."""
    n = r.layer.times
    expected, formula = n * expected, (f"{n} × {formula}" if n > 1 else formula)
    return [] if r.madds == expected else [Mismatch(r.name, r.madds, expected, formula)]


def check_pair(dw: LayerResult, pw: LayerResult) -> PairCheck:
    M = dw.input_shape[2]
    N = pw.layer.c
    kk = dw.layer.k[0] * dw.layer.k[1]
    D_F = dw.output_shape[:2]
    # both forms use the depthwise layer's M and D_F: the pointwise conv must read exactly
    # that map, and if the engine fed it anything else its count will not match
    mismatches = _expect(dw, kk * M * _hw(D_F), "D_K²·M·D_F²")
    mismatches += _expect(pw, M * N * _hw(D_F), "M·N·D_F²")
    return PairCheck(
        depthwise=dw.name, pointwise=pw.name, M=M, N=N, D_K=dw.layer.k, D_F=(D_F[0], D_F[1]),
        stride=dw.layer.s, separable_madds=dw.madds + pw.madds,
        standard_madds=dw.layer.times * kk * M * N * _hw(D_F), mismatches=tuple(mismatches))


def check_bottleneck(block: str, members: list[LayerResult]) -> BottleneckCheck:
    by_role = {m.layer.role: m for m in members}
    dw, project = by_role["dw"], by_role["project"]
    expand, add = by_role.get("expand"), by_role.get("add")
    first = members[0]
    h, w, d_in = first.input_shape
    td = dw.input_shape[2]  # t·d′: the expanded width the depthwise runs on
    t = Fraction(td, d_in)
    d_out = project.layer.c
    k = dw.layer.k
    kk = k[0] * k[1]
    ho, wo = dw.output_shape[:2]

    mismatches: list[Mismatch] = []
    expand_madds = 0
    if expand is not None:
        expand_madds = h * w * d_in * expand.layer.c
        mismatches += _expect(expand, expand_madds, "h·w·d′·(t·d′)")
    dw_madds = ho * wo * td * kk
    project_madds = ho * wo * td * d_out
    mismatches += _expect(dw, dw_madds, "h′·w′·t·d′·k²")
    mismatches += _expect(project, project_madds, "h′·w′·t·d′·d″")
    if add is not None:
        mismatches += _expect(add, 0, "a residual add (free)")
    runs = first.layer.times
    general = runs * (expand_madds + dw_madds + project_madds)

    paper_madds: int | None = None
    paper_formula: str | None = None
    if dw.layer.s != (1, 1):
        note = (f"stride {_pair_text(dw.layer.s)}: the paper's formula is for stride 1 only; "
                f"checked against the stride-s form")
    elif (ho, wo) != (h, w):  # stride 1 but 'valid' padding: the map still shrinks
        note = (f"the map shrinks from {h}×{w} to {ho}×{wo}: the paper's formula assumes it "
                f"does not; checked against the stride-s form")
    elif expand is None:
        paper_formula = PAPER_FORMULA_T1
        paper_madds = h * w * d_in * (kk + d_out)
        note = ("t = 1: no expansion layer, so the paper's d′ (expansion) term is absent: "
                f"{PAPER_FORMULA_T1} (as printed, {PAPER_FORMULA} would give "
                f"{h * w * d_in * (d_in + kk + d_out):,})")
    else:
        paper_formula = PAPER_FORMULA
        # t·(d′ + k² + d″) with t = (t·d′)/d′ kept exact
        paper_madds = h * w * td * (d_in + kk + d_out)
        note = ""
    if paper_madds is not None:
        paper_madds *= runs
    return BottleneckCheck(
        block=block, layers=tuple(m.name for m in members), t=t, d_in=d_in, d_out=d_out, k=k,
        stride=dw.layer.s, input_size=(h, w), output_size=(ho, wo), has_expand=expand is not None,
        madds=sum(m.madds for m in members), general_madds=general,
        general_formula=GENERAL_FORMULA if expand is not None else GENERAL_FORMULA_T1,
        paper_madds=paper_madds, paper_formula=paper_formula, note=note,
        mismatches=tuple(mismatches))


def verify_report(report: Report) -> Verification:
    """Check every separable pair and bottleneck of an engine result."""
    pairs = tuple(check_pair(dw, pw) for dw, pw in find_pairs(report.layers))
    blocks = tuple(check_bottleneck(b, m) for b, m in find_bottlenecks(report.layers))
    network = NetworkCheck(report.madds, sum(p.separable_madds for p in pairs),
                           sum(p.standard_madds for p in pairs))
    covered = {n for p in pairs for n in (p.depthwise, p.pointwise)} | {n for b in blocks for n in b.layers}
    unchecked = tuple(r.name for r in report.layers if r.madds and r.name not in covered)
    return Verification(report.architecture, report, pairs, blocks, network, unchecked)


def verify(arch, alpha=None, resolution=None, rho=None, convention=None, depth=None) -> Verification:
    """``analyze`` then ``verify_report``: the library form of ``mbcost verify``."""
    from ..core.engine import analyze
    from ..core.conventions import PAPER

    return verify_report(analyze(arch, alpha=alpha, resolution=resolution, rho=rho,
                                 convention=convention or PAPER, depth=depth))


# --- machine format --------------------------------------------------------------------------


def fraction_text(x: Fraction) -> str:
    """The JSON contract's "p/q" (an integer ratio is still written "p/1")."""
    return f"{x.numerator}/{x.denominator}"


def _square(pair) -> int | list[int]:
    return pair[0] if pair[0] == pair[1] else list(pair)


def _number(x: Fraction) -> int | str:
    return x.numerator if x.denominator == 1 else fraction_text(x)


def verification_dict(v: Verification) -> dict[str, Any]:
    """The JSON contract of ``mbcost verify`` (docs/verify.md)."""
    r = v.report
    return {
        "ok": v.ok,
        "architecture": v.architecture,
        "alpha": float(r.alpha),
        "resolution": _square(r.resolution),
        "convention": r.convention.name,
        "pairs": [
            {
                "depthwise": p.depthwise,
                "pointwise": p.pointwise,
                "M": p.M,
                "N": p.N,
                "K": _square(p.D_K),
                "D_F": _square(p.D_F),
                "separable_madds": p.separable_madds,
                "standard_madds": p.standard_madds,
                "ratio": fraction_text(p.ratio),
                "formula": fraction_text(p.formula),
                "ok": p.ok,
            }
            for p in v.pairs
        ],
        "bottlenecks": [
            {
                "block": b.block,
                "layers": list(b.layers),
                "t": _number(b.t),
                "d_in": b.d_in,
                "d_out": b.d_out,
                "K": _square(b.k),
                "stride": _square(b.stride),
                "input_size": list(b.input_size),
                "output_size": list(b.output_size),
                "madds": b.madds,
                "general_madds": b.general_madds,
                "general_formula": b.general_formula,
                "paper_madds": b.paper_madds,
                "paper_formula": b.paper_formula,
                "note": b.note,
                "ok": b.ok,
            }
            for b in v.bottlenecks
        ],
        "network": {
            "madds": v.network.madds,
            "pairs_separable_madds": v.network.pairs_separable_madds,
            "pairs_standard_madds": v.network.pairs_standard_madds,
            "standard_madds": v.network.standard_madds,
            "ratio": fraction_text(v.network.ratio),
        },
        "failures": v.failures(),
        "checked": v.checked,
        "unchecked": list(v.unchecked),
    }


def _pair_text(pair: Pair) -> str:
    return str(pair[0]) if pair[0] == pair[1] else f"{pair[0]}×{pair[1]}"
