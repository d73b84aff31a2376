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
        out = []  # values compared as they are, written out only when they differ (a long diff)
        if A.k != B.k:
            out.append(f"k {_pair(A.k)} → {_pair(B.k)}")
        if A.s != B.s:
            out.append(f"s {_pair(A.s)} → {_pair(B.s)}")
        ga, gb = (A.groups if A.kind != "dwconv" else ""), (B.groups if B.kind != "dwconv" else "")
        if ga != gb:
            out.append(f"groups {ga} → {gb}")
        if A.act != B.act:
            out.append(f"act {A.act} → {B.act}")
        if self.a.output_shape != self.b.output_shape:
            out.append(f"out {_shape(self.a.output_shape)} → {_shape(self.b.output_shape)}")
        elif self.a.input_shape != self.b.input_shape:
            out.append(f"in {_shape(self.a.input_shape)} → {_shape(self.b.input_shape)}")
        return tuple(out)


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


# SequenceMatcher is quadratic; above this many (A × B) cells of a stretch that did not align
# trivially, the stretch is first cut at anchors (patience diff) — see opcodes()
QUADRATIC_CELLS = 4_000_000

Op = tuple[str, int, int, int, int]


def opcodes(ka: Sequence, kb: Sequence) -> list[Op]:
    """difflib-style opcodes for two key sequences, in near-linear time for long ones.

    1. The common prefix and suffix are equal blocks, found in one pass (a file diffed with
       itself at another α is all prefix: 100,000 layers in well under a second).
    2. What is left, if small, goes to SequenceMatcher as before — so the networks people
       diff align exactly as they always did.
    3. A long remainder is cut at anchors: keys that occur exactly once on each side, kept
       where they appear in the same order on both (the longest increasing subsequence,
       n log n). Each piece between anchors goes through 1-3 again; a piece with no anchor
       that is still too long is one 'replace' (the coarser key, or removed + added).
    """
    ops: list[Op] = []
    _opcodes(ka, kb, 0, len(ka), 0, len(kb), ops)
    merged: list[Op] = []
    for op in ops:  # adjacent equal blocks (prefix, anchors) read as one, as difflib's do
        if merged and op[0] == "equal" == merged[-1][0]:
            t, i1, _, j1, _ = merged[-1]
            merged[-1] = (t, i1, op[2], j1, op[4])
        elif op[1] != op[2] or op[3] != op[4]:
            merged.append(op)
    return merged


def _opcodes(ka, kb, i1: int, i2: int, j1: int, j2: int, out: list[Op]) -> None:
    p = 0
    while i1 + p < i2 and j1 + p < j2 and ka[i1 + p] == kb[j1 + p]:
        p += 1
    s = 0
    while i1 + p < i2 - s and j1 + p < j2 - s and ka[i2 - 1 - s] == kb[j2 - 1 - s]:
        s += 1
    if p:
        out.append(("equal", i1, i1 + p, j1, j1 + p))
    a1, a2, b1, b2 = i1 + p, i2 - s, j1 + p, j2 - s
    if a1 == a2 or b1 == b2:
        if a1 != a2:
            out.append(("delete", a1, a2, b1, b1))
        elif b1 != b2:
            out.append(("insert", a1, a1, b1, b2))
    elif (a2 - a1) * (b2 - b1) <= QUADRATIC_CELLS:
        # autojunk would treat the many identical 1×1 convs of a big network as noise
        sm = SequenceMatcher(None, ka[a1:a2], kb[b1:b2], autojunk=False)
        out.extend((t, a1 + x1, a1 + x2, b1 + y1, b1 + y2) for t, x1, x2, y1, y2 in sm.get_opcodes())
    else:
        anchors = _anchors(ka, kb, a1, a2, b1, b2)
        if not anchors:
            out.append(("replace", a1, a2, b1, b2))
        else:
            x, y = a1, b1
            for i, j in anchors:
                _opcodes(ka, kb, x, i, y, j, out)
                out.append(("equal", i, i + 1, j, j + 1))
                x, y = i + 1, j + 1
            _opcodes(ka, kb, x, a2, y, b2, out)
    if s:
        out.append(("equal", i2 - s, i2, j2 - s, j2))


def _anchors(ka, kb, a1: int, a2: int, b1: int, b2: int) -> list[tuple[int, int]]:
    """Positions (i, j) of keys unique on both sides, in an order both sides agree on."""
    from bisect import bisect_left
    from collections import Counter

    ca, cb = Counter(ka[a1:a2]), Counter(kb[b1:b2])
    where_b = {kb[j]: j for j in range(b1, b2) if cb[kb[j]] == 1}
    pairs = [(i, where_b[ka[i]]) for i in range(a1, a2) if ca[ka[i]] == 1 and ka[i] in where_b]
    # longest increasing subsequence of the j's (patience sorting), with back-pointers
    tails: list[int] = []
    tail_at: list[int] = []
    back = [-1] * len(pairs)
    for n, (_, j) in enumerate(pairs):
        k = bisect_left(tails, j)
        if k == len(tails):
            tails.append(j)
            tail_at.append(n)
        else:
            tails[k], tail_at[k] = j, n
        back[n] = tail_at[k - 1] if k else -1
    chain, n = [], tail_at[-1] if tail_at else -1
    while n != -1:
        chain.append(pairs[n])
        n = back[n]
    return chain[::-1]


def align(a: Sequence[LayerResult], b: Sequence[LayerResult], keys: Sequence[Key]
          ) -> list[tuple[LayerResult | None, LayerResult | None]]:
    """Pair up two layer sequences, trying each key in turn on what the previous left over."""
    key, coarser = keys[0], keys[1:]
    out: list[tuple[LayerResult | None, LayerResult | None]] = []
    for tag, i1, i2, j1, j2 in opcodes([key(x) for x in a], [key(y) for y in b]):
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
