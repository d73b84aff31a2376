"""The grid behind ``mbcost.sweep``: α and resolution lists, and their exact costs, fast.

Why this is fast without being a second cost model: channel counts depend only on α and
feature-map sizes only on the resolution. So the file is parsed once, expanded once per α,
and its spatial sizes inferred once per resolution — by the engine itself (``run_graph``),
which also raises its usual errors. Each layer's cost is then bilinear in the two:

    mult-adds = m(α) · A(R)        params = p₀(α) + p₁(α) · A(R)

with A the layer's output area H_out·W_out (conv: D_K·D_K·(M/g)·N · D_F², dwconv:
D_K·D_K·M · D_F²) or its input area (fc on a flattened map: M·N · H·W). The op registry
(:mod:`mbcost.core.ops`) defines that split once per layer kind, and the engine evaluates the
same factors at one area; tests check the result equals ``analyze`` exactly on every
built-in config and convention.

Kept apart from :mod:`mbcost.api` (the front door) so ``import mbcost`` stays cheap.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from decimal import Decimal
from fractions import Fraction
from operator import mul
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable, Union

from ..core.engine import infer, load
from ..core.memory import DTYPES, peak_grid, plan, whole_tensors
from ..core.conventions import PAPER, Convention, require_convention
from ..core.ops import OPS
from ..errors import MbcostError, UsageError
from ..core.expand import expand
from ..core.graph import NETWORK_INPUT, Graph, Layer, Pair
from ..core.multipliers import (bounded, fmt_alpha, input_resolution, number_text, parse_alpha,
                                parse_depth, parse_resolution, parse_rho)
from ..core.present import Printable
from ..core.spec import ArchSpec

MAX_CONFIGS = 100_000

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
        items = list(values)
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


_SYMBOLS = {"--alpha": "α", "--resolution": "the resolution", "--rho": "ρ", "--depth": "d"}
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
    latency_ms: float | None = None  # with a device: the roofline time (the engine's, layer by layer)
    peak_activation_bytes: int = 0  # the convention's activation dtype, file order
    weight_bytes: int = 0


@dataclass(frozen=True, repr=False)
class Sweep(Printable):
    """A grid of configurations, α-major in the order given.

    ``resolutions`` are the distinct input sizes (a pivot's columns); with ρ several ρ may
    round to the same size, and ``points`` keeps one per (α, ρ).
    """

    architecture: str
    source: str
    convention: Convention
    alphas: tuple[Fraction, ...]
    resolutions: tuple[Pair, ...]
    points: tuple[SweepPoint, ...]
    by_rho: bool = False
    depths: tuple[Fraction, ...] = (Fraction(1),)  # the depth axis (compound scaling's d)
    by_depth: bool = False  # depths were asked for: outputs carry a depth column
    classes: int | None = None  # the class count the classifier was built with

    def __repr__(self) -> str:
        return (f"<Sweep {self.architecture}: {len(self.alphas)} α × {len(self.resolutions)} resolutions, "
                f"{len(self.points)} points, {self.convention.describe(self.classes)}>")

    def __len__(self) -> int:
        return len(self.points)

    def __iter__(self):
        return iter(self.points)

    def at(self, alpha, resolution: int | Pair, depth=None) -> SweepPoint:
        """The point at α, a resolution (an int for a square input) and a depth (the first)."""
        a = parse_alpha(alpha)
        d = parse_depth(depth) if depth is not None else self.depths[0]
        res = (resolution, resolution) if isinstance(resolution, int) else tuple(resolution)
        for p in self.points:
            if p.alpha == a and p.resolution == res and p.depth == d:
                return p
        raise KeyError((alpha, resolution))

    def at_depth(self, depth: Fraction) -> "Sweep":
        """The α × resolution grid at one depth (what a pivot table shows)."""
        return replace(self, points=tuple(p for p in self.points if p.depth == depth), depths=(depth,))


# --- the fast path: the op registry's factors, evaluated at many areas -------------------------

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


def _costs(spec: ArchSpec, alphas: list[Fraction], resolutions: list[Pair],
           conv: Convention, depth: Fraction = Fraction(1)) -> dict[tuple[Fraction, Pair], tuple[int, int, int, int]]:
    """(mult-adds, params, peak activation bytes, weight bytes) at every (α, resolution)."""
    graphs: dict[Fraction, Graph] = {}
    for a in alphas:
        try:
            graphs[a] = expand(spec, a, None, classes=conv.classes, depth=depth)
        except MbcostError as exc:
            raise _context(exc, a, None)
    groups: dict[tuple, list[Fraction]] = {}
    for a, g in graphs.items():
        groups.setdefault(_spatial_key(g), []).append(a)

    out: dict[tuple[Fraction, Pair], tuple[int, int, int, int]] = {}
    act, wbytes = DTYPES[conv.act_dtype], DTYPES[conv.weight_dtype]
    for group in groups.values():
        rep = graphs[group[0]]
        factors = {a: _factors(graphs[a], conv) for a in group}
        walked = []
        for res in resolutions:
            try:  # the engine infers the shapes (and refuses maps that shrink below 1×1)
                walked.append(infer(_at(rep, res), conv))
            except MbcostError as exc:
                raise _context(exc, group[0], res)
        # the peak is a max over steps of per-step sums, not bilinear: core/memory.py evaluates
        # it per configuration from the same shapes, pruning steps that can never be largest
        tensor_areas = [whole_tensors(rep, {n: h * w for n, (h, w, _) in shapes.items()}, parts="first")
                        for shapes, _ in walked]
        peaks = peak_grid(plan(rep, conv.chunks), tensor_areas, [_channels(graphs[a]) for a in group])
        for j, (res, (shapes, costed)) in enumerate(zip(resolutions, walked)):
            # which map's H·W each layer scales with depends on its kind only: same for the group
            maps = [inputs[0] if f.area == "in" else cost.output_shape
                    for (_, inputs, cost), f in zip(costed, factors[group[0]][3])]
            areas = [h * w for h, w, _ in maps]
            for i, a in enumerate(group):
                m, p0, p1, _ = factors[a]
                params = p0 + (sum(map(mul, p1, areas)) if p1 else 0)
                out[a, res] = (sum(map(mul, m, areas)), params, peaks[i][j] * act, params * wbytes)
    return out


def _channels(graph: Graph) -> dict[str, int]:
    """Each tensor's channel count at the graph's α ('input' the network input's)."""
    return whole_tensors(graph, {NETWORK_INPUT: graph.input_shape[2],
                                 **{t: c for L in graph.layers for t, c in L.outputs()}})


def _factors(graph: Graph, conv: Convention):
    """The graph's layers as (m per layer, Σ p0, p1 per layer or [] if all zero, the Factors),
    from the same op definitions the engine uses."""
    channels = {NETWORK_INPUT: graph.input_shape[2]}
    fs = []
    for L in graph.layers:
        fs.append(OPS[L.kind].factor(L, [channels[i] for i in L.inputs], conv))
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
         rhos: Values = None, convention: Convention = PAPER, depths: Values = None, device=None) -> Sweep:
    """Exact mult-adds and parameters at every (α, resolution[, depth]) — or (α, ρ) — of a grid
    (:func:`mbcost.sweep_grid` documents the arguments)."""
    convention = require_convention(convention)
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
    points = []
    for d in d_list:  # depth changes the layers themselves: the outer loop
        try:
            costs = _costs(spec, a_list, distinct, convention, d)
        except MbcostError as exc:
            if len(d_list) > 1:
                exc.message = f"at depth {_show(d)}: {exc.message}"
            raise
        points += [SweepPoint(a, res, *costs[a, res][:2], rho=p, depth=d, peak_activation_bytes=costs[a, res][2],
                              weight_bytes=costs[a, res][3]) for a in a_list for p, res in columns]
    if device is not None:  # latency needs each layer's shapes: the engine, per configuration
        from ..core.engine import analyze

        points = [replace(p, latency_ms=analyze(spec, p.alpha, p.resolution[0], convention=convention,
                                                device=device, depth=p.depth).latency_ms) for p in points]
    return Sweep(spec.name, spec.source, convention, tuple(a_list), tuple(distinct), tuple(points),
                 by_rho=bool(rho_list), depths=tuple(d_list), by_depth=depths is not None,
                 classes=convention.classes if convention.classes is not None else spec.classes)
