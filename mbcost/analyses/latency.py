"""Device profiles for the roofline latency model (:mod:`mbcost.core.latency`), and fitting one
to measured latencies.

Profiles ship as YAML in ``mbcost/analyses/devices/`` (``--device pixel1``); ``--device`` also
takes a path to a profile written by ``mbcost latency fit --save``. ``pixel1`` is regenerated
by ``tools/fit_pixel1.py`` from TF-slim's 22 MobileNetV2 latencies
(``mbcost/analyses/data/tfslim_mobilenet_v2.csv``).

**Fitting** (:func:`fit_profile`): least squares on ln(predicted / measured) — relative error,
so a 5 ms and a 140 ms network weigh alike — over the constants' logarithms (all positive),
by Nelder–Mead from a few starting points. Variants choose which of the four constants are
free (:data:`VARIANTS`); ``roofline`` (one compute rate and the bandwidth, no overhead) is the
default: on the 22 Pixel-1 points more constants buy under 0.4 points of leave-one-out error
(docs/research/latency/RESULTS.md). **Leave-one-out** refits on all points but one and predicts
that one, for each point in turn.
"""
from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from fractions import Fraction
from importlib import resources
from pathlib import Path

from ..core.conventions import PAPER
from ..core.engine import analyze, load
from ..core.latency import Device, is_depthwise, moved_bytes
from ..core.multipliers import fmt_alpha, parse_alpha, parse_resolution
from ..core.spec import recognise_file
from ..core.yamlio import parse, read_text
from ..errors import MbcostError, SpecError, UsageError, Where

DEVICES = "devices"

# variant → the free constants; the others are tied (rate_dw = rate_conv) or fixed (overhead = 0)
VARIANTS = {
    "roofline": ("rate_conv", "bandwidth"),
    "roofline+dw": ("rate_conv", "rate_dw", "bandwidth"),
    "roofline+overhead": ("rate_conv", "bandwidth", "overhead"),
    "full": ("rate_conv", "rate_dw", "bandwidth", "overhead"),
}


# --- profiles ----------------------------------------------------------------------------------

def builtin_devices() -> list[str]:
    return sorted(p.name[:-5] for p in resources.files(__package__).joinpath(DEVICES).iterdir()
                  if p.name.endswith(".yaml"))


# a profile is a mapping with 'constants'; anything else is refused before a value of it is quoted
_recognise_device = recognise_file("a device profile", "a mapping with 'name' and 'constants' (rate_conv, "
                                   "rate_dw, bandwidth, overhead)", ("constants",))


def load_device(name: str | Path, flag: str = "--device") -> Device:
    """A built-in profile by name (``pixel1``) or a profile YAML by path."""
    text_name = str(name)
    if text_name in builtin_devices():
        source = f"mbcost/analyses/{DEVICES}/{text_name}.yaml"
        text = resources.files(__package__).joinpath(DEVICES, f"{text_name}.yaml").read_text(encoding="utf-8")
    elif text_name.endswith((".yaml", ".yml")) or "/" in text_name:
        source, text = text_name, read_text(Path(text_name))
    else:
        raise UsageError(f"unknown device {text_name!r}; expected one of {', '.join(builtin_devices())} "
                         "or a profile .yaml (mbcost latency fit --save)", field=flag)
    doc = parse(text, source, _recognise_device)
    data = doc.data
    if not isinstance(data, dict) or not isinstance(data.get("constants"), dict):
        raise SpecError("expected a device profile: a mapping with 'name' and 'constants' "
                        "(rate_conv, rate_dw, bandwidth, overhead)", where=Where(source))
    consts = data["constants"]
    values = {}
    for key in ("rate_conv", "rate_dw", "bandwidth", "overhead"):
        entry = consts.get(key, {"value": 0} if key == "overhead" else None)
        value = entry.get("value") if isinstance(entry, dict) else entry
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or \
                value < 0 or (value == 0 and key != "overhead"):
            raise SpecError(f"expected a number {'≥ 0' if key == 'overhead' else '> 0'}, got {value!r}",
                            field=f"constants.{key}", where=doc.where(("constants",)) if "constants" in data
                            else Where(source))
        values[key] = float(value)
    dtype = data.get("dtype_bytes", 4)
    if isinstance(dtype, bool) or not isinstance(dtype, int) or not 1 <= dtype <= 16:
        raise SpecError(f"expected whole bytes 1..16, got {dtype!r}", field="dtype_bytes", where=Where(source))
    return Device(str(data.get("name", text_name)), dtype_bytes=dtype,
                  description=str(data.get("description", "")).strip(), source=source,
                  quality=data.get("quality") if isinstance(data.get("quality"), dict) else {}, **values)


def profile_yaml(device: Device, variant: str, source: str, quality: dict) -> str:
    """A profile as YAML, in the layout :func:`load_device` reads."""
    import yaml

    free = VARIANTS[variant]
    units = {"rate_conv": "GMAC/s", "rate_dw": "GMAC/s", "bandwidth": "GB/s", "overhead": "us/layer"}
    doc = {
        "name": device.name,
        "description": device.description,
        "model": "per layer: max(madds / rate(kind), bytes / bandwidth) + overhead; "
                 "bytes = dtype_bytes * (input + output activations + weights)",
        "variant": variant,
        "dtype_bytes": device.dtype_bytes,
        "constants": {k: {"value": round(getattr(device, k), 4), "unit": units[k], "fitted": k in free}
                      for k in units},
        "source": source,
        "quality": quality,
    }
    return ("# A fitted mbcost latency profile (mbcost latency fit / tools/fit_pixel1.py): do not hand-edit.\n" +
            yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100))


# --- measurements ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Measured:
    arch: str
    alpha: Fraction
    resolution: int
    ms: float
    line: int = 0


def read_measurements(path: Path) -> list[Measured]:
    """A CSV with a header naming ``arch, alpha, resolution, ms`` (other columns ignored);
    ``arch`` is a built-in name or a path relative to the CSV."""
    text = read_text(path)
    reader = csv.DictReader(text.splitlines())
    need = ("arch", "alpha", "resolution", "ms")
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in need if c not in header]
    if missing:
        raise SpecError(f"expected a header with the columns {', '.join(need)}; missing {', '.join(missing)}",
                        where=Where(str(path), 1))
    rows = []
    for i, raw in enumerate(reader, start=2):
        row = {(k or "").strip(): (v or "").strip() for k, v in raw.items() if k is not None}
        where = Where(str(path), i)
        try:
            arch = row["arch"]
            if not arch:
                raise UsageError("expected an architecture", field="arch")
            ref = path.parent / arch
            arch_ref = str(ref) if (ref.exists() or arch.endswith((".yaml", ".yml"))) else arch
            alpha = parse_alpha(row["alpha"])
            res = parse_resolution(row["resolution"])
            try:
                ms = float(row["ms"])
            except ValueError:
                raise UsageError(f"expected milliseconds > 0, got {row['ms']!r}", field="ms") from None
            if not (math.isfinite(ms) and ms > 0):
                raise UsageError(f"expected milliseconds > 0, got {row['ms']!r}", field="ms")
        except MbcostError as exc:
            field = exc.field if exc.field in need else next((c for c in need if c in exc.message), exc.field)
            raise SpecError(exc.message, field=field or "row", where=where) from None
        rows.append(Measured(arch_ref, alpha, res, ms, i))
    if len(rows) < 3:
        raise SpecError(f"expected at least 3 measurements to fit and leave one out, got {len(rows)}",
                        where=Where(str(path)))
    return rows


# --- fitting -----------------------------------------------------------------------------------

@dataclass
class _Layers:
    """One configuration's layers as arrays: mult-adds, bytes, depthwise or not."""

    madds: object
    bytes: object
    dw: object

    @property
    def n(self) -> int:
        return len(self.madds)


def _layers(arch, alpha, res, dtype_bytes: int = 4) -> _Layers:
    import numpy as np

    r = analyze(arch, alpha=alpha, resolution=res, convention=PAPER)
    return _Layers(np.array([x.madds for x in r.layers], float),
                   np.array([moved_bytes(x, dtype_bytes) for x in r.layers], float),
                   np.array([is_depthwise(x) for x in r.layers], bool))


def _predict(L: _Layers, c: dict) -> float:
    import numpy as np

    rate = np.where(L.dw, c["rate_dw"], c["rate_conv"]) * 1e6
    return float(np.maximum(L.madds / rate, L.bytes / (c["bandwidth"] * 1e6)).sum() + L.n * c["overhead"] / 1000)


def _constants(theta, free: tuple[str, ...]) -> dict:
    c = dict(zip(free, (math.exp(t) for t in theta)))
    c.setdefault("rate_dw", c["rate_conv"])
    c.setdefault("overhead", 0.0)
    return c


def _nelder_mead(f, x0, steps, iters: int = 600, tol: float = 1e-12):
    """A plain Nelder–Mead simplex (no scipy dependency for a 2–4 parameter fit)."""
    import numpy as np

    n = len(x0)
    simplex = [np.array(x0, float)] + [np.array(x0, float) + np.eye(n)[i] * steps[i] for i in range(n)]
    values = [f(x) for x in simplex]
    for _ in range(iters):
        order = np.argsort(values)
        simplex, values = [simplex[i] for i in order], [values[i] for i in order]
        if abs(values[-1] - values[0]) < tol:
            break
        centroid = np.mean(simplex[:-1], axis=0)
        xr = centroid + (centroid - simplex[-1])
        fr = f(xr)
        if fr < values[0]:
            xe = centroid + 2 * (centroid - simplex[-1])
            fe = f(xe)
            simplex[-1], values[-1] = (xe, fe) if fe < fr else (xr, fr)
        elif fr < values[-2]:
            simplex[-1], values[-1] = xr, fr
        else:
            xc = centroid + 0.5 * (simplex[-1] - centroid)
            fc = f(xc)
            if fc < values[-1]:
                simplex[-1], values[-1] = xc, fc
            else:
                simplex = [simplex[0]] + [simplex[0] + 0.5 * (s - simplex[0]) for s in simplex[1:]]
                values = [values[0]] + [f(s) for s in simplex[1:]]
    best = int(np.argmin(values))
    return simplex[best], values[best]


_START = {"rate_conv": (2.0, 5.0), "rate_dw": (1.0, 4.0), "bandwidth": (1.5, 6.0), "overhead": (1.0, 20.0)}


def _fit(layers: list[_Layers], ms: list[float], free: tuple[str, ...]) -> dict:
    import itertools

    targets = [math.log(m) for m in ms]

    def loss(theta):
        if any(abs(t) > 30 for t in theta):
            return float("inf")
        c = _constants(theta, free)
        return sum((math.log(_predict(L, c)) - t) ** 2 for L, t in zip(layers, targets))

    best = None
    for start in itertools.product(*(_START[k] for k in free)):
        theta, value = _nelder_mead(loss, [math.log(s) for s in start], [0.5] * len(free))
        theta, value = _nelder_mead(loss, theta, [0.1] * len(free))  # restart: NM stalls on ridges
        if best is None or value < best[1]:
            best = (theta, value)
    return _constants(best[0], free)


@dataclass(frozen=True)
class FitPoint:
    measured: Measured
    predicted_ms: float  # with the profile fitted on every point
    loo_ms: float  # with the profile fitted on every other point

    @property
    def error(self) -> float:
        return self.predicted_ms / self.measured.ms - 1

    @property
    def loo_error(self) -> float:
        return self.loo_ms / self.measured.ms - 1


@dataclass(frozen=True)
class LatencyFit:
    device: Device
    variant: str
    source: str
    points: tuple[FitPoint, ...]

    @property
    def mape(self) -> float:
        return 100 * sum(abs(p.error) for p in self.points) / len(self.points)

    @property
    def loo_mape(self) -> float:
        return 100 * sum(abs(p.loo_error) for p in self.points) / len(self.points)

    @property
    def loo_max(self) -> float:
        return 100 * max(abs(p.loo_error) for p in self.points)

    def quality(self) -> dict:
        return {"fit_mape_percent": round(self.mape, 2), "loo_mape_percent": round(self.loo_mape, 2),
                "loo_max_abs_error_percent": round(self.loo_max, 1), "n_points": len(self.points)}

    def yaml(self) -> str:
        return profile_yaml(self.device, self.variant, self.source, self.quality())


def fit_profile(measured: list[Measured], variant: str = "roofline", name: str = "fitted",
                description: str = "", source: str = "", dtype_bytes: int = 4) -> LatencyFit:
    """Fit a profile's free constants to measurements, with leave-one-out predictions."""
    if variant not in VARIANTS:
        raise UsageError(f"expected one of {', '.join(VARIANTS)}, got {variant!r}", field="--variant")
    free = VARIANTS[variant]
    if len(measured) <= len(free):
        raise UsageError(f"{len(measured)} measurements cannot fit and leave one out of {len(free)} constants",
                         field="--variant")
    specs: dict[str, object] = {}
    layers = []
    for m in measured:
        try:
            spec = specs.setdefault(m.arch, load(m.arch))
            layers.append(_layers(spec, m.alpha, m.resolution, dtype_bytes))
        except MbcostError as exc:
            if not exc.where.line and source:
                exc.message = f"{source}:{m.line}: arch {m.arch!r}, α {fmt_alpha(m.alpha)}, {m.resolution}: " \
                              f"{exc.message}"
            raise
    ms = [m.ms for m in measured]
    c = _fit(layers, ms, free)
    loo = []
    for i in range(len(measured)):
        ci = _fit(layers[:i] + layers[i + 1:], ms[:i] + ms[i + 1:], free)
        loo.append(_predict(layers[i], ci))
    device = Device(name, c["rate_conv"], c["rate_dw"], c["bandwidth"], c["overhead"], dtype_bytes,
                    description=description, source=source)
    points = tuple(FitPoint(m, _predict(L, c), p) for m, L, p in zip(measured, layers, loo))
    return LatencyFit(device, variant, source, points)
