"""``mbcost latency fit`` as text: the fitted constants, each measurement beside its fitted and
leave-one-out prediction, and the errors that say how far to trust the profile."""
from __future__ import annotations

import csv
import io
from typing import Any

from ..analyses.latency import VARIANTS, LatencyFit
from ..core.conventions import PAPER
from ..core.multipliers import fmt_alpha
from .text import md_table, text_table


def _constants(f: LatencyFit) -> str:
    d = f.device
    return (f"rate_conv {d.rate_conv:.4g} GMAC/s, rate_dw {d.rate_dw:.4g} GMAC/s, bandwidth {d.bandwidth:.4g} GB/s, "
            f"overhead {d.overhead:.4g} µs/layer (variant {f.variant}: fitted {', '.join(VARIANTS[f.variant])})")


def _summary(f: LatencyFit) -> str:
    return (f"fit MAPE {f.mape:.2f}%, leave-one-out MAPE {f.loo_mape:.2f}% (worst {f.loo_max:.1f}%) "
            f"over {len(f.points)} measurements")


def _rows(f: LatencyFit) -> tuple[list[str], list[list[str]]]:
    headers = ["arch", "α", "resolution", "measured (ms)", "fit (ms)", "error", "LOO (ms)", "LOO error"]
    rows = [[p.measured.arch, fmt_alpha(p.measured.alpha), str(p.measured.resolution), f"{p.measured.ms:g}",
             f"{p.predicted_ms:.2f}", f"{100 * p.error:+.1f}%", f"{p.loo_ms:.2f}", f"{100 * p.loo_error:+.1f}%"]
            for p in f.points]
    return headers, rows


def latency_text(f: LatencyFit, **_) -> str:
    headers, rows = _rows(f)
    return "\n".join([f"{f.device.name}: {_constants(f)}", ""] + text_table(headers, rows, set(range(1, 8))) +
                     ["", _summary(f)]) + "\n"


def latency_md(f: LatencyFit, **_) -> str:
    headers, rows = _rows(f)
    return "\n".join([f"**{f.device.name}**: {_constants(f)}", ""] + md_table(headers, rows, set(range(1, 8))) +
                     ["", _summary(f)]) + "\n"


def latency_dict(f: LatencyFit) -> dict[str, Any]:
    d = f.device
    return {"device": d.name, "variant": f.variant, "source": f.source,
            "convention": PAPER.to_dict(1000),  # the layers are costed under the papers' convention
            "constants": {"rate_conv_gmacs": d.rate_conv, "rate_dw_gmacs": d.rate_dw,
                          "bandwidth_gbs": d.bandwidth, "overhead_us": d.overhead, "dtype_bytes": d.dtype_bytes},
            "fit_mape_percent": f.mape, "loo_mape_percent": f.loo_mape, "loo_max_abs_error_percent": f.loo_max,
            "points": [{"arch": p.measured.arch, "alpha": float(p.measured.alpha), "resolution": p.measured.resolution,
                        "measured_ms": p.measured.ms, "predicted_ms": p.predicted_ms, "loo_ms": p.loo_ms}
                       for p in f.points]}


def latency_json(f: LatencyFit, **_) -> str:
    from .formats import json_text

    return json_text("latency", latency_dict(f))


def latency_csv(f: LatencyFit, **_) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["arch", "alpha", "resolution", "ms", "predicted_ms", "loo_ms"])
    for p in f.points:
        w.writerow([p.measured.arch, fmt_alpha(p.measured.alpha), p.measured.resolution, p.measured.ms,
                    repr(p.predicted_ms), repr(p.loo_ms)])
    return buf.getvalue()
