"""What a change to an architecture costs, layer by layer.

Layer names are positional — ``block7`` is the seventh separable block — so removing a
row renumbers every block after it. Pairing layers by name would compare MobileNetV1's
block7 (a 14×14×512 pair) with Shallow MobileNet's block7 (the 7×7×1024 one) and call
every later layer "changed". Instead we align the two layer sequences on what each layer
*is*, the way a text diff aligns lines:

1. its signature (kind, role, D_K, stride, depthwise or not, input channels M, output
   channels N) — skipped when the two sides have different α, since then every channel
   count differs;
2. within a stretch that did not align, (kind, role, D_K, stride) — a row made wider or
   narrower still lines up with its old self;
3. then (kind, role) — a changed kernel or stride does too.

What still does not align is reported as removed (only in A) or added (only in B). Aligned
pairs are "changed" when their cost or shape differs, "unchanged" otherwise (possibly
renamed: Shallow MobileNet's block7 is MobileNetV1's block12).
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from fractions import Fraction

from ..core.engine import LayerResult, Report

STATUSES = ("removed", "added", "changed", "unchanged")


def _shape(s) -> str:
    return "×".join(map(str, s))


def _pair(p) -> str:
    return str(p[0]) if p[0] == p[1] else "×".join(map(str, p))


@dataclass(frozen=True)
class LayerDelta:
    """One aligned position: a layer of A, of B, or of both."""

    status: str  # removed | added | changed | unchanged
    a: LayerResult | None
    b: LayerResult | None

    @property
    def name(self) -> str:
        """The layer's name where it lives now (B), or where it was (A) if removed."""
        return (self.b or self.a).name

    @property
    def renamed(self) -> bool:
        return self.a is not None and self.b is not None and self.a.name != self.b.name

    @property
    def kind(self) -> str:
        return (self.b or self.a).layer.kind

    @property
    def block(self) -> str | None:
        return (self.b or self.a).layer.block

    def cost(self, metric: str, side: str) -> int:
        r = self.a if side == "a" else self.b
        return 0 if r is None else getattr(r, metric)

    def delta(self, metric: str) -> int:
        """B − A for ``madds`` or ``params``; an absent side counts 0."""
        return self.cost(metric, "b") - self.cost(metric, "a")

    @property
    def changes(self) -> tuple[str, ...]:
        """What differs between the two sides, as '<what> <A> → <B>' phrases. The input
        shape is only mentioned when the output shape did not change (else it is implied)."""
        if self.a is None or self.b is None:
            return ()
        A, B = self.a.layer, self.b.layer
        out_a, out_b = _shape(self.a.output_shape), _shape(self.b.output_shape)
        in_a, in_b = _shape(self.a.input_shape), _shape(self.b.input_shape)
        pairs = (("k", _pair(A.k), _pair(B.k)), ("s", _pair(A.s), _pair(B.s)),
                 ("groups", A.groups if A.kind != "dwconv" else "", B.groups if B.kind != "dwconv" else ""),
                 ("act", A.act, B.act), ("out", out_a, out_b),
                 ("in", in_a if out_a == out_b else "", in_b if out_a == out_b else ""))
        return tuple(f"{what} {x} → {y}" for what, x, y in pairs if x != y)


@dataclass(frozen=True)
class ArchDiff:
    """A → B: every aligned layer position, in network order."""

    a: Report
    b: Report
    layers: tuple[LayerDelta, ...]

    def total(self, metric: str, side: str) -> int:
        return getattr(self.a if side == "a" else self.b, metric)

    def delta(self, metric: str) -> int:
        return self.total(metric, "b") - self.total(metric, "a")

    def ratio(self, metric: str) -> Fraction | None:
        """The change as a fraction of A's total (None when A's total is 0)."""
        base = self.total(metric, "a")
        return Fraction(self.delta(metric), base) if base else None

    def with_status(self, status: str) -> list[LayerDelta]:
        return [d for d in self.layers if d.status == status]

    def counts(self) -> dict[str, int]:
        return {s: len(self.with_status(s)) for s in STATUSES}

    def whole_blocks(self, status: str) -> list[str]:
        """Blocks (separable / bottleneck) all of whose layers were removed (or added)."""
        side = "a" if status == "removed" else "b"
        members: dict[str, list[bool]] = {}
        for d in self.layers:
            r = d.a if side == "a" else d.b
            if r is not None and r.layer.block:
                members.setdefault(r.layer.block, []).append(d.status == status)
        return [blk for blk, hit in members.items() if all(hit)]

    def grew_most(self, metric: str = "madds", n: int = 5) -> list[LayerDelta]:
        """The n layers whose ``metric`` grew most from A to B (added layers included)."""
        grown = [d for d in self.layers if d.delta(metric) > 0]
        return sorted(grown, key=lambda d: -d.delta(metric))[:n]


Key = Callable[[LayerResult], tuple]


def _full(r: LayerResult) -> tuple:
    L = r.layer
    return (L.kind, L.role, L.k, L.s, L.groups == 1, r.input_shape[2], L.c)


def _structure(r: LayerResult) -> tuple:
    L = r.layer
    return (L.kind, L.role, L.k, L.s)


def _kind(r: LayerResult) -> tuple:
    return (r.layer.kind, r.layer.role)


def align(a: Sequence[LayerResult], b: Sequence[LayerResult], keys: Sequence[Key]
          ) -> list[tuple[LayerResult | None, LayerResult | None]]:
    """Pair up two layer sequences, trying each key in turn on what the previous left over."""
    key, coarser = keys[0], keys[1:]
    # autojunk would treat the many identical 1×1 convs of a big network as noise
    sm = SequenceMatcher(None, [key(x) for x in a], [key(y) for y in b], autojunk=False)
    out: list[tuple[LayerResult | None, LayerResult | None]] = []
    for tag, i1, i2, j1, j2 in sm.get_opcodes():
        if tag == "equal":
            out += zip(a[i1:i2], b[j1:j2])
        elif tag == "replace" and coarser:
            out += align(a[i1:i2], b[j1:j2], coarser)
        else:
            out += [(x, None) for x in a[i1:i2]] + [(None, y) for y in b[j1:j2]]
    return out


def _status(x: LayerResult | None, y: LayerResult | None) -> str:
    if y is None:
        return "removed"
    if x is None:
        return "added"
    same = (x.madds, x.params) == (y.madds, y.params) and not LayerDelta("", x, y).changes
    return "unchanged" if same else "changed"


def diff_reports(a: Report, b: Report) -> ArchDiff:
    """Compare two costed architectures: A is 'before', B 'after'.

    Both should use the same counting convention; a diff across conventions measures
    the convention, not the architecture.
    """
    keys: list[Key] = [_full, _structure, _kind] if a.alpha == b.alpha else [_structure, _kind]
    pairs = align(a.layers, b.layers, keys)
    return ArchDiff(a, b, tuple(LayerDelta(_status(x, y), x, y) for x, y in pairs))
