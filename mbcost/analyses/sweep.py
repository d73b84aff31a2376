"""The grid behind ``mbcost.sweep``: α and resolution lists, and their exact costs, fast.

Why this is fast without being a second cost model: channel counts depend only on α and
feature-map sizes only on the resolution. So the file is parsed once, expanded once per α,
and its spatial sizes inferred once per resolution — by the engine itself (``run_graph``),
which also raises its usual errors. Each layer's cost is then bilinear in the two:

    mult-adds = m(α) · A(R)        params = p₀(α) + p₁(α) · A(R)

with A the layer's output area H_out·W_out (conv: D_K·D_K·(M/g)·N · D_F², dwconv:
D_K·D_K·M · D_F²) or its input area (fc on a flattened map: M·N · H·W). The op registry
(:mod:`mbcost.core.kinds`, through :func:`mbcost.core.cost.factor_of`) defines that split once per layer kind, and the engine evaluates the
same factors at one area; tests check the result equals ``analyze`` exactly on every
built-in config and convention.

Kept apart from :mod:`mbcost.api` (the front door) so ``import mbcost`` stays cheap.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from functools import cached_property
from operator import mul
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Callable, Iterable, Union

from ..core.engine import LayerResult, infer, load
from ..core.memory import DTYPES, area_classes, peak_grid, plan
from ..core.conventions import PAPER, Convention, require_convention
from ..core.cost import factor_of
from ..errors import MbcostError, UsageError
from ..core.expand import expand_traced, same_widths
from ..core.graph import NETWORK_INPUT, Graph, Pair
from ..core.multipliers import (bounded, fmt_alpha, input_resolution, number_text, parse_alpha, parse_depth,
                                parse_resolution, parse_rho)
from ..core.present import Printable
from ..core.spec import ArchSpec

# α × resolution (× depth, when that axis comes) configurations in one sweep; a million is two
# 8 MB arrays and a 90 MB CSV, written in seconds (benchmarks/bench.py)
MAX_CONFIGS = 1_000_000
# layers expanded in one sweep, over its distinct networks: ~10 µs each, so about 4 s. The 842k
# grid of mobilenet_v2 expands 1,751 networks (~260,000 layers); -d 1:64:0.25 made 253
# networks of up to 64× the layers (13 s) and -d 0.001:64:0.001 64,000 of them (minutes, 1.5 GB)
MAX_EXPANDED = 400_000

Values = Union[str, int, float, Fraction, Iterable[Union[str, int, float, Fraction]], None]


# --- lists and ranges ---------------------------------------------------------------------------

_EXAMPLES = {"--alpha": "1,0.75,0.5 or 0.25:2.0:0.05", "--resolution": "224,192,160 or 96:320:8",
             "--rho": "1,0.857,0.714 or 0.5:1:0.125", "--depth": "1,1.1,1.2 or 1:2:0.1"}


def parse_list(values: Values, flag: str) -> list[Fraction]:
    """'1,0.75,0.5', '0.25:2.0:0.05' (start:stop:step, stop included when it lands on the
    grid), a mix of both, one number, or an iterable of numbers → exact values, in order,
    without repeats. Ranges are computed in exact fractions: 0.25:2.0:0.05 is 36 values."""
    if values is None:
        return []
    if isinstance(values, (bytes, bytearray, memoryview)):  # list(b"12") would be α = 49, 50
        raise UsageError(f"expected numbers or text like {_EXAMPLES[flag]}, got {type(values).__name__} "
                         f"{bytes(values[:20])!r}", field=flag)
    if isinstance(values, dict):
        raise UsageError(f"expected numbers or text like {_EXAMPLES[flag]}, got a dict", field=flag)
    if isinstance(values, (str, int, float, Fraction)):
        items = [values]
    else:
        try:
            items = list(values)
        except TypeError:  # not a list at all: say so, as for any other wrong value
            raise UsageError(f"expected numbers or text like {_EXAMPLES[flag]}, got a value of type "
                             f"{type(values).__name__}", field=flag) from None
    parts: list[str | int | float | Fraction] = []
    for item in items:
        if isinstance(item, str):
            pieces = [p.strip() for p in item.split(",")]
            if not all(pieces):
                raise UsageError(f"expected comma-separated values like {_EXAMPLES[flag]}, "
                                 f"got {item!r}", field=flag)
            parts.extend(pieces)
        else:
            parts.append(item)
    if not parts:
        raise UsageError(f"expected at least one value, like {_EXAMPLES[flag]}", field=flag)
    out: dict[Fraction, None] = {}
    for part in parts:
        for v in (_range(part, flag) if isinstance(part, str) and ":" in part else [_number(part, flag)]):
            out[v] = None
        if len(out) > MAX_CONFIGS:
            raise UsageError(f"more than {MAX_CONFIGS:,} values", field=flag)
    return list(out)


_SYMBOLS = {"--alpha": "α", "--resolution": "the resolution", "--rho": "ρ", "--depth": "d", "--scales": "a scale"}
_EXPONENT = re.compile(r"[eE]\s*([+-]?\d+)\s*$")


def _number(value, flag: str) -> Fraction:
    if isinstance(value, float):
        value = float(value)  # numpy's float64 repr is 'np.float64(0.5)'; the float's is '0.5'
    elif not isinstance(value, (int, Fraction, str)) and hasattr(value, "__index__"):
        value = int(value)  # numpy integers
    if isinstance(value, bool):
        raise UsageError(f"expected a number, got {value}", field=flag)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise UsageError(f"expected a finite number, got {value}", field=flag)
        value = repr(value)
    symbol = _SYMBOLS[flag]
    if isinstance(value, (Fraction, int)):
        return bounded(Fraction(value), flag, symbol)
    if not isinstance(value, str):
        raise UsageError(f"expected a number or a range start:stop:step like {_EXAMPLES[flag]}, "
                         f"got a value of type {type(value).__name__}", field=flag)
    text = value.replace("_", "")
    exponent = _EXPONENT.search(text)
    if exponent and abs(int(exponent.group(1))) > 30:  # Fraction('1e999999999') would build that integer
        raise UsageError(f"expected a number of sensible size, got {text!r}", field=flag)
    number_text(text, flag, "a number")  # the length cap every other flag's number has
    try:
        return bounded(Fraction(text), flag, symbol)
    except (ValueError, ZeroDivisionError, TypeError):
        raise UsageError(f"expected a number or a range start:stop:step like {_EXAMPLES[flag]}, "
                         f"got {value!r}", field=flag) from None


def _range(text: str, flag: str) -> list[Fraction]:
    bits = text.split(":")
    if len(bits) != 3 or not all(b.strip() for b in bits):
        raise UsageError(f"expected a range start:stop:step like {_EXAMPLES[flag].split(' or ')[1]}, "
                         f"got {text!r}", field=flag)
    start, stop, step = (_number(b.strip(), flag) for b in bits)
    if step == 0:
        raise UsageError(f"the step of {text!r} is zero", field=flag)
    count = math.floor((stop - start) / step) + 1
    if count < 1:
        raise UsageError(f"the range {text!r} is empty (a {'positive' if step > 0 else 'negative'} "
                         f"step cannot go from {bits[0]} to {bits[1]})", field=flag)
    if count > MAX_CONFIGS:
        raise UsageError(f"the range {text!r} has {count:,} values, more than {MAX_CONFIGS:,}", field=flag)
    return [start + i * step for i in range(count)]


def _show(x: Fraction) -> str:
    text = fmt_alpha(x) if x.denominator != 1 else str(x.numerator)
    if len(text) <= 20:
        return text
    return format((Decimal(x.numerator) / Decimal(x.denominator)).normalize(), "g")


def _checked(values: list[Fraction], check: Callable, flag: str) -> list:
    """Each value through the single-value parser, its complaint showing the value as typed."""
    out = []
    for v in values:
        try:
            out.append(check(v))
        except UsageError as exc:
            raise UsageError(exc.message.rsplit(", got ", 1)[0] + f", got {_show(v)}", field=flag) from None
    return out


def _alphas(values: Values) -> list[Fraction]:
    return _checked(parse_list(values, "--alpha"), parse_alpha, "--alpha") or [Fraction(1)]


def _rhos(values: Values) -> list[Fraction]:
    return _checked(parse_list(values, "--rho"), parse_rho, "--rho")


def _resolution(r: Fraction) -> int:
    if r.denominator != 1:
        raise UsageError(f"expected whole pixels, got {r}", field="--resolution")
    return parse_resolution(r.numerator)


def _resolutions(values: Values) -> list[int]:
    return _checked(parse_list(values, "--resolution"), _resolution, "--resolution")


# --- the result -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class SweepPoint:
    """One configuration: exact counts under the sweep's convention (mult-adds, not FLOPs)."""

    alpha: Fraction
    resolution: Pair
    madds: int
    params: int
    rho: Fraction | None = None
    depth: Fraction = Fraction(1)
    peak_activation_bytes: int = 0  # the convention's activation dtype, file order
    weight_bytes: int = 0
    latency_ms: float | None = None  # with a device: its latency (the engine's, layer by layer)


# The counts a sweep computes per configuration: SweepPoint's fields after α and the resolution.
COUNTS = ("madds", "params", "peak_activation_bytes", "weight_bytes")


@dataclass(frozen=True, repr=False)
class Sweep(Printable):
    """A grid of configurations, α-major in the order given.

    ``resolutions`` are the distinct input sizes (a pivot's columns); ``columns`` are the
    configurations per α in the order given, as (ρ or None, index into ``resolutions``) — with
    ρ several ρ may round to the same size, and each keeps its column. ``counts`` holds, per
    count of :data:`COUNTS`, one row per α of exact integers per distinct resolution: a numpy
    array (int64, or Python integers as dtype object when a count could pass 2⁶³) for a large
    grid, a list for a small one (:func:`ints` reads either). A million configurations are
    two 8 MB arrays, not a million objects; :attr:`points` builds the objects on demand.
    """

    architecture: str
    source: str
    convention: Convention
    alphas: tuple[Fraction, ...]
    resolutions: tuple[Pair, ...]
    columns: tuple[tuple[Fraction | None, int], ...]
    counts: dict
    by_rho: bool = False
    classes: int | None = None  # the class count the classifier was built with
    depths: tuple[Fraction, ...] = (Fraction(1),)  # the depth axis (compound scaling's d)
    by_depth: bool = False  # depths were asked for: outputs carry a depth column

    @property
    def rows(self) -> list[tuple[Fraction, Fraction]]:
        """(α, depth) of each row of ``counts``: depth-major, α in the order given."""
        return [(a, d) for d in self.depths for a in self.alphas]

    def __repr__(self) -> str:
        return (f"<Sweep {self.architecture}: {len(self.alphas)} α × {len(self.resolutions)} resolutions, "
                f"{len(self)} points, {self.convention.describe(self.classes)}>")

    def __len__(self) -> int:
        return len(self.alphas) * len(self.depths) * len(self.columns)

    def __iter__(self):
        return iter(self.points) if "points" in self.__dict__ else self._points()

    def _points(self, most: dict[str, int] | None = None):
        counts = [self.counts[c] for c in COUNTS]
        latency = self.counts.get("latency_ms")
        ok = None  # per α row, whether each resolution is within ``most``: numpy, not 842k tests
        for c, v in (most or {}).items():
            import numpy as np

            within = np.asarray(self.counts[c], dtype=object if v >= 2**63 else None) <= v
            ok = within if ok is None else ok & within
        for i, (a, d) in enumerate(self.rows):
            row = [ints(c[i]) for c in counts]  # numpy → Python ints, once per α
            keep = ok[i].tolist() if ok is not None else None
            for rho, j in self.columns:
                if keep is None or keep[j]:
                    yield self._point(a, d, j, rho, [r[j] for r in row], latency[i][j] if latency else None)

    def within(self, most: dict[str, int]):
        """The points whose counts are at most ``most`` (a count of :data:`COUNTS` → its
        largest value), in order; only those are built (``fit`` on the 842k grid)."""
        return self._points(most)

    def _point(self, a, d, j, rho, values, latency) -> SweepPoint:
        return SweepPoint(a, self.resolutions[j], *values[:2], rho=rho, depth=d, peak_activation_bytes=values[2],
                          weight_bytes=values[3], latency_ms=latency)

    @cached_property
    def points(self) -> tuple[SweepPoint, ...]:
        return tuple(self._points())

    def count(self, name: str) -> list[list[int]]:
        """One count (``madds``, ``params``) as exact Python integers, α rows × ``resolutions``."""
        return [ints(row) for row in self.counts[name]]

    def at(self, alpha, resolution: int | Pair, depth=None) -> SweepPoint:
        """The point at α, a resolution (an int for a square input) and a depth (the first)."""
        a = parse_alpha(alpha)
        d = parse_depth(depth) if depth is not None else self.depths[0]
        res = (resolution, resolution) if isinstance(resolution, int) else tuple(resolution)
        if (a, d) not in self.rows or res not in self.resolutions:
            raise KeyError((alpha, resolution))
        i, j = self.rows.index((a, d)), self.resolutions.index(res)
        rho = next(r for r, k in self.columns if k == j)
        latency = self.counts.get("latency_ms")
        return self._point(a, d, j, rho, [int(self.counts[c][i][j]) for c in COUNTS],
                           latency[i][j] if latency else None)

    def at_depth(self, depth: Fraction) -> "Sweep":
        """The α × resolution grid at one depth (what a pivot table shows)."""
        k = self.depths.index(depth) * len(self.alphas)
        pick = slice(k, k + len(self.alphas))
        return replace(self, counts={c: v[pick] for c, v in self.counts.items()}, depths=(depth,))


# --- the fast path: the op registry's factors, evaluated at many areas -------------------------
#
# Per α (one expansion, then dropped: memory does not grow with the number of α), the layers'
# factors m, p₀, p₁ (mult-adds m·A, params p₀ + p₁·A); per structure — the α whose graphs
# have equal kinds, kernels, strides and wiring, so equal map sizes — the area matrix
# A[resolution, layer], inferred once by the engine. An α's row of the grid is then two
# matrix-vector products, A·m and p₀ + A·p₁, in int64 when the largest possible sum fits,
# in exact Python integers otherwise.

_INT64 = 2**63 - 1


def _spatial_key(graph: Graph) -> tuple:
    """Everything a layer's output H×W depends on besides the input size. Graphs of two α
    with equal keys have equal feature-map sizes at every resolution."""
    return tuple((L.name, L.kind, L.k, L.s, L.padding, L.global_, L.inputs) for L in graph.layers)


def _at(graph: Graph, res: Pair) -> Graph:
    return replace(graph, resolution=res, input_shape=(res[0], res[1], graph.input_shape[2]))


def _context(exc: MbcostError, alpha: Fraction | None, res: Pair | None) -> MbcostError:
    where = ", ".join(([f"α = {fmt_alpha(alpha)}"] if alpha is not None else []) +
                      ([f"{res[0]}×{res[1]} input"] if res is not None else []))
    exc.message = f"at {where}: {exc.message}"
    return exc


@dataclass
class _Structure:
    """The area matrix of one structure: A[r, l] = the H·W that layer l's factor scales with
    (its input or output map, per its kind) at resolution r, with its largest entry. A numpy
    int64 array for a large grid, else lists of Python integers: numpy's import alone costs
    about a report's whole run, more than a small grid's arithmetic."""

    areas: object
    largest: int
    plan: object = None  # the liveness steps of this structure (core/memory.py)
    classes: object = None  # its tensors by map area across the resolutions (the peak is not bilinear)


# the configurations above which numpy pays for its import
NUMPY_FROM = 20_000


def _structure(graph: Graph, alpha: Fraction, resolutions: list[Pair], conv: Convention,
               factors, vectorised: bool) -> _Structure:
    rows, tensor_areas = [], []
    for res in resolutions:
        try:  # the engine infers the shapes (and refuses maps that shrink below 1×1)
            shapes, costed = infer(_at(graph, res), conv)
        except MbcostError as exc:
            raise _context(exc, alpha, res)
        rows.append([h * w for h, w, _ in ((inputs[0] if f.area == "in" else cost.output_shape)
                                           for (_, inputs, cost), f in zip(costed, factors))])
        tensor_areas.append({n: h * w for n, (h, w, _) in shapes.items()})
    largest = max((max(r, default=0) for r in rows), default=0)
    pl = plan(graph, conv.chunks)
    classes = area_classes(pl, tensor_areas, vectorised)
    if vectorised:
        import numpy as np

        # H·W ≤ 65,536² < 2³³: int64 holds every area
        return _Structure(np.array(rows, dtype=np.int64).reshape(len(resolutions), len(factors)), largest,
                          pl, classes)
    return _Structure(rows, largest, pl, classes)


def _row(st: _Structure, factor: list[int], offset: int = 0):
    """offset + A·factor for one α (``factor`` empty: all zero), per resolution. With numpy:
    int64 when no sum can pass 2⁶³ − 1, else exact Python integers (dtype object) — never a
    silent wrap-around."""
    if isinstance(st.areas, list):
        return [offset + sum(map(mul, factor, ar)) for ar in st.areas] if factor else [offset] * len(st.areas)
    import numpy as np

    n = st.areas.shape[0]
    largest = max(map(abs, factor), default=0)
    if abs(offset) + largest * st.largest * len(factor) <= _INT64:
        if not factor:
            return np.full(n, offset, dtype=np.int64)
        return st.areas @ np.array(factor, dtype=np.int64) + offset
    if not factor:
        return np.full(n, offset, dtype=object)
    return st.areas.astype(object) @ np.array(factor, dtype=object) + offset


def _costs(spec: ArchSpec, rows: list[tuple[Fraction, Fraction]], resolutions: list[Pair], conv: Convention,
           progress: Callable[[int], None] | None = None, device=None) -> dict:
    """{count: one row per (α, depth), one exact integer per resolution} for :data:`COUNTS` (a
    rows × resolutions numpy array, or a list of lists). ``progress(k)`` is told each row done.
    The peak activation memory is a max over execution steps of per-step sums, not bilinear:
    core/memory.py's peak_grid evaluates it from the same shapes, per structure. With a
    ``device``, also "latency_ms": the engine's latency of each configuration (a float
    per resolution, one list per row)."""
    vectorised = len(rows) * len(resolutions) > NUMPY_FROM
    if vectorised:  # one (α × resolution) array per count, not one small array per α
        import numpy as np

        out = {c: np.zeros((len(rows), len(resolutions)), dtype=np.int64) for c in COUNTS}
    else:
        out = {c: [None] * len(rows) for c in COUNTS}
    if device is not None:
        out["latency_ms"] = [None] * len(rows)
        device = device.at(conv)  # its profile in the convention's dtype, or a usage error
    act, wbytes = DTYPES[conv.act_dtype], DTYPES[conv.weight_dtype]
    structures: dict[tuple, _Structure] = {}
    previous = None  # (depth, widths, row index) of the last network costed
    expanded = 0  # layers of the networks expanded so far: the work a depth axis multiplies
    for i, (a, d) in enumerate(rows):
        if previous is not None and previous[0] == d and same_widths(spec, previous[1], a):
            for c in out:  # the same layers as the row before: the same counts
                out[c][i] = out[c][previous[2]] if hasattr(out[c], "dtype") else list(out[c][previous[2]])
            if progress is not None:
                progress(i + 1)
            continue
        try:
            graph, widths = expand_traced(spec, a, None, classes=conv.classes, depth=d)
        except MbcostError as exc:
            raise _context(exc, a, None)
        previous = (d, widths, i)
        expanded += len(graph.layers)
        if expanded > MAX_EXPANDED:
            raise UsageError(f"this sweep expands to more than {MAX_EXPANDED:,} layers in all, at {len(rows):,} "
                             f"(α, depth) rows (each depth, and each α that changes a width, is a network of its "
                             f"own; d = {_show(d)} has {len(graph.layers):,} layers): give fewer --depth or --alpha "
                             "values", field="--depth" if len({r[1] for r in rows}) > 1 else "--alpha")
        m, p0, p1, fs = _factors(graph, conv)
        key = _spatial_key(graph)
        if key not in structures:
            structures[key] = _structure(graph, a, resolutions, conv, fs, vectorised)
        st = structures[key]
        params = _row(st, p1, p0)
        peak = peak_grid(st.plan, st.classes, _channels(graph), times=act)  # in bytes
        weights = params * wbytes if hasattr(params, "dtype") else [p * wbytes for p in params]
        for c, row in (("madds", _row(st, m)), ("params", params), ("peak_activation_bytes", peak),
                       ("weight_bytes", weights)):
            if vectorised and row.dtype == object and out[c].dtype != object:
                out[c] = out[c].astype(object)  # exact from here on; int64 values convert exactly
            out[c][i] = row
        if device is not None:
            out["latency_ms"][i] = [_latency(graph, res, conv, device, a) for res in resolutions]
        if progress is not None:
            progress(i + 1)
    return out


def _latency(graph: Graph, res: Pair, conv: Convention, device, alpha: Fraction) -> float:
    """The latency of ``graph`` at ``res`` on ``device``, exactly as ``analyze`` gives
    it: the engine's per-layer results, each layer's time, summed in layer order. Per distinct
    network, not per α, and without the memory bookkeeping latency does not read."""
    try:
        _, costed = infer(_at(graph, res), conv)
    except MbcostError as exc:
        raise _context(exc, alpha, res)
    a, w = DTYPES[conv.act_dtype], DTYPES[conv.weight_dtype]  # the bytes analyze's layers carry
    return sum(device.layer_ms(LayerResult(layer, inputs, cost.output_shape, cost.madds, cost.params, act_bytes=a,
                                           weight_bytes=cost.params * w))
               for layer, inputs, cost in costed)


def _channels(graph: Graph) -> dict[str, int]:
    """Each tensor's channel count at the graph's α ('input' the network input's)."""
    return {NETWORK_INPUT: graph.input_shape[2],
            **{t: c for L in graph.layers for t, c in [(L.name, L.c)] + L.outputs()}}


def ints(row) -> list[int]:
    """A row of counts as exact Python integers (numpy's become ints, lists stay)."""
    return row.tolist() if hasattr(row, "tolist") else row


def _factors(graph: Graph, conv: Convention):
    """The graph's layers as (m per layer, Σ p0, p1 per layer or [] if all zero, the Factors),
    from the same op definitions the engine uses."""
    channels = {NETWORK_INPUT: graph.input_shape[2]}
    fs = []
    for L in graph.layers:
        fs.append(factor_of(L, [channels[i] for i in L.inputs], conv))
        channels.update(L.outputs())
    p1 = [f.p1 for f in fs]
    return [f.m for f in fs], sum(f.p0 for f in fs), p1 if any(p1) else [], fs


def _rho_resolution(spec: ArchSpec, rho: Fraction) -> Pair:
    try:
        return input_resolution(spec, rho=rho)
    except UsageError as exc:  # say ρ as typed (0.001), not as the fraction (1/1000)
        exc.message = exc.message.replace(f"ρ = {rho} ", f"ρ = {_show(rho)} ")
        raise


def grid(arch: str | Path | ArchSpec, alphas: Values = None, resolutions: Values = None,
         rhos: Values = None, convention: Convention = PAPER, depths: Values = None, device=None,
         progress: Callable[[int, int], None] | None = None) -> Sweep:
    """Exact counts at every (α, resolution[, depth]) — or (α, ρ) — of a grid
    (:func:`mbcost.sweep_grid` documents the arguments). ``progress(done, total)``, if given,
    is called as the rows are costed (the CLI draws a bar from it at a terminal)."""
    convention = require_convention(convention)
    if progress is not None and not callable(progress):
        raise UsageError(f"expected a function progress(done, total), got a value of type {type(progress).__name__}",
                         field="progress")
    spec = load(arch)
    a_list = _checked(parse_list(alphas, "--alpha"), parse_alpha, "--alpha") or [spec.alpha or Fraction(1)]
    d_list = _checked(parse_list(depths, "--depth"), parse_depth, "--depth") or [spec.depth or Fraction(1)]
    rho_list = _rhos(rhos)
    r_list = _resolutions(resolutions)
    if r_list and rho_list:
        raise UsageError("give either --resolution or --rho, not both", field="--rho")
    n = len(a_list) * max(len(r_list), len(rho_list), 1) * len(d_list)
    if n > MAX_CONFIGS:
        raise UsageError(f"{len(a_list):,} α × {max(len(r_list), len(rho_list)):,} resolutions"
                         + (f" × {len(d_list):,} depths" if len(d_list) > 1 else "") +
                         f" is {n:,} configurations, more than {MAX_CONFIGS:,}", field="--alpha")
    if rho_list:
        columns = [(p, _rho_resolution(spec, p)) for p in rho_list]
    else:
        columns = [(None, input_resolution(spec, resolution=r)) for r in r_list] or [(None, spec.resolution)]
    distinct = list(dict.fromkeys(res for _, res in columns))
    index = {res: j for j, res in enumerate(distinct)}
    rows = [(a, d) for d in d_list for a in a_list]  # depth changes the layers themselves: the outer loop
    told = (lambda k: progress(k, len(rows))) if progress is not None else None
    counts = _costs(spec, rows, distinct, convention, told, device)
    return Sweep(spec.name, spec.source, convention, tuple(a_list), tuple(distinct),
                 tuple((p, index[res]) for p, res in columns), counts, by_rho=bool(rho_list),
                 classes=convention.classes if convention.classes is not None else spec.classes,
                 depths=tuple(d_list), by_depth=depths is not None)
