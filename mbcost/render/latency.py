"""``mbcost latency fit`` as text: the fitted constants with their meaning, the build factors,
each family's error in the fit and left out, and every measurement beside both predictions."""
from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from ..analyses.latency import LatencyFit
from ..core.conventions import PAPER
from ..core.latency import CONSTANTS, Device
from ..core.multipliers import fmt_alpha
from .text import csv_writer, md_table, printable, text_table


def cost_text(d: Device, name: str) -> str:
    """'0.1517 ns/MAC (6.59 GMAC/s)', '0 (no cost of its own)'."""
    c = next(c for c in CONSTANTS if c.name == name)
    v = d.cost(name)
    if v == 0:
        return "0 (no cost of its own)"
    return f"{v:.4g} {c.unit}" + (f" ({1 / v:.3g} {c.rate})" if c.rate else "")


def device_line(d: Device) -> str:
    """'pixel1 fp32, build tflite-2019 (per-class model)'."""
    base = f" from {d.base}" if d.base else ""
    return (f"{printable(d.name)} {d.dtype}" + (f", build {printable(d.build)}" if d.build else "")
            + f" ({d.variant} model{printable(base)})")


def _pct(x) -> str:
    return "—" if x is None else f"{x:.1f}%"


def _signed(x) -> str:
    return "—" if x is None else f"{100 * x:+.1f}%"


def _head(f: LatencyFit) -> tuple[list[str], list[list[str]]]:
    return ["constant", "cost", "meaning"], [[c.name, cost_text(f.device, c.name), c.meaning] for c in CONSTANTS]


def _families(f: LatencyFit) -> tuple[list[str], list[list[str]]]:
    rows = [[x.family, str(x.n), _pct(x.fit_mape), _pct(x.lofo_mape) if x.lofo_n else "— (build seen only here)"]
            for x in f.families()]
    return ["family", "n", "error in fit", "error left out"], rows


def _points(f: LatencyFit) -> tuple[list[str], list[list[str]]]:
    headers = ["family", "arch", "α", "res", "build", "measured (ms)", "fit (ms)", "error",
               f"{f.leave_out} left out (ms)", "error"]
    rows = [[p.measured.group, _arch(p.measured.arch), fmt_alpha(p.measured.alpha), str(p.measured.resolution),
             p.measured.build or f.device.build or "—", f"{p.measured.ms:g}", f"{p.predicted_ms:.2f}",
             _signed(p.error), "—" if p.lofo_ms is None else f"{p.lofo_ms:.2f}", _signed(p.lofo_error)]
            for p in f.points]
    return headers, rows


def _arch(arch: str) -> str:
    return Path(arch).name if "/" in arch else arch


def _builds(f: LatencyFit) -> str:
    d = f.device
    others = [f"{b} ×{x:.3f}" for b, x in d.builds if b != d.build]
    return (f"builds: predictions are for {d.build or 'the one build measured'}" +
            (f"; {', '.join(others)} as long (fitted)" if others else ""))


def _scale(f: LatencyFit) -> str:
    if not f.base:
        return ""
    return f"{f.variant}: {f.base}'s constants × " + ", ".join(f"{x:.4g}" for x in f.factors)


def _summary(f: LatencyFit) -> str:
    d = f.device
    lofo = [p for p in f.points if p.lofo_ms is not None]
    left = (f"leave-one-{f.leave_out}-out MAPE {_pct(f.lofo_mape)} over {len(lofo)} of {len(f.points)} "
            f"(worst {_pct(f.lofo_max)})" if lofo else f"no {f.leave_out} could be left out")
    return (f"fit MAPE {f.mape:.2f}% over {len(f.points)} measurements, {left}; every prediction carries "
            f"{d.interval_text or 'no interval'}")


def _lines(f: LatencyFit, table) -> list[str]:
    out = [device_line(f.device) + ":", ""] + table(*_head(f), set())
    out += [""] + [x for x in (_scale(f), _builds(f)) if x]
    if f.leave_out == "family":
        out += [""] + table(*_families(f), {1, 2, 3})
    headers, rows = _points(f)
    return out + [""] + table(headers, rows, set(range(5, 10))) + ["", _summary(f)]


def latency_text(f: LatencyFit, **_) -> str:
    return "\n".join(_lines(f, text_table)) + "\n"


def latency_md(f: LatencyFit, **_) -> str:
    return "\n".join(_lines(f, md_table)) + "\n"


def device_dict(d: Device) -> dict[str, Any]:
    """A profile as JSON: its constants (ns per unit), builds, interval and fitted classes."""
    return {"name": d.name, "dtype": d.dtype, "variant": d.variant, "build": d.build,
            "constants": {c.name: {"ns_per_unit": d.cost(c.name), "unit": c.unit,
                                   **({"rate": None if d.cost(c.name) == 0 else 1 / d.cost(c.name),
                                       "rate_unit": c.rate} if c.rate else {})} for c in CONSTANTS},
            "builds": dict(d.builds), "fitted_classes": sorted(d.fitted),
            "fitted_shares": {c.name: x for c, x in zip(CONSTANTS, d.shares) if x > 0},
            "interval_percent": d.interval, "interval_basis": d.interval_basis}


def latency_dict(f: LatencyFit) -> dict[str, Any]:
    return {"device": device_dict(f.device), "variant": f.variant, "base": f.base or None,
            "factors": list(f.factors) or None, "source": f.source,
            "convention": PAPER.with_(act_dtype=f.device.dtype, weight_dtype=f.device.dtype).to_dict(1000),
            "fit_mape_percent": f.mape, "lofo_mape_percent": f.lofo_mape, "left_out": f.leave_out,
            "lofo_max_abs_error_percent": f.lofo_max,
            "families": [{"family": x.family, "n": x.n, "fit_mape_percent": x.fit_mape,
                          "lofo_mape_percent": x.lofo_mape} for x in f.families()],
            "points": [{"family": p.measured.group, "arch": p.measured.arch, "alpha": float(p.measured.alpha),
                        "resolution": p.measured.resolution, "build": p.measured.build or f.device.build,
                        "measured_ms": p.measured.ms, "predicted_ms": p.predicted_ms, "lofo_ms": p.lofo_ms}
                       for p in f.points]}


def latency_json(f: LatencyFit, **_) -> str:
    from .formats import json_text

    return json_text("latency", latency_dict(f))


def latency_csv(f: LatencyFit, **_) -> str:
    buf = io.StringIO()
    w = csv_writer(buf)
    w.writerow(["family", "arch", "alpha", "resolution", "build", "ms", "predicted_ms", "lofo_ms"])
    for p in f.points:
        w.writerow([p.measured.group, p.measured.arch, fmt_alpha(p.measured.alpha), p.measured.resolution,
                    p.measured.build or f.device.build, p.measured.ms, repr(p.predicted_ms),
                    "" if p.lofo_ms is None else repr(p.lofo_ms)])
    return buf.getvalue()
