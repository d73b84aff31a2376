"""Results as pandas DataFrames, for notebooks: one row per layer, or per configuration.

pandas is imported inside these functions and nowhere else, so no command's start-up pays for
it; ``mbcost.to_frame(result)`` is the front door.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from ..core.kinds import type_label
from ..core.metrics import METRICS, present
from .text import res_text

if TYPE_CHECKING:
    import pandas

    from ..analyses.sweep import Sweep
    from ..core.engine import Report


def to_frame(result) -> "pandas.DataFrame":
    """A report (one row per layer) or a sweep (one row per configuration) as a DataFrame."""
    from ..analyses.sweep import Sweep

    return sweep_frame(result) if isinstance(result, Sweep) else report_frame(result)


def sweep_frame(sweep: "Sweep") -> "pandas.DataFrame":
    """alpha, [rho,] resolution (int; 'HxW' text if not square), then every metric, exact."""
    import pandas as pd

    cols: dict[str, list] = {"alpha": [float(p.alpha) for p in sweep.points]}
    if sweep.by_rho:
        cols["rho"] = [float(p.rho) for p in sweep.points]
    cols["resolution"] = [p.resolution[0] if p.resolution[0] == p.resolution[1] else res_text(p.resolution)
                          for p in sweep.points]
    if sweep.by_depth:
        cols["depth"] = [float(p.depth) for p in sweep.points]
    for m in (present(sweep.points[0]) if sweep.points else METRICS.values()):
        cols[m.field] = [m.of(p) for p in sweep.points]
    return pd.DataFrame(cols)


def report_frame(report: "Report") -> "pandas.DataFrame":
    """One row per layer of a report: name, kind, type (the V1 paper's Table 2 label), block,
    role, kernel, stride, groups, act, input and output H, W, C, then every metric."""
    import pandas as pd

    rows = []
    for r in report.layers:
        L = r.layer
        rows.append({
            "name": L.name, "kind": L.kind, "type": type_label(L), "block": L.block, "role": L.role,
            "kernel": res_text(L.k), "stride": res_text(L.s), "groups": L.groups, "act": L.act,
            "inputs": " ".join(L.inputs),
            "in_h": r.input_shape[0], "in_w": r.input_shape[1], "in_c": r.input_shape[2],
            "out_h": r.output_shape[0], "out_w": r.output_shape[1], "out_c": r.output_shape[2],
            **{m.field: m.of(r) for m in present(report)},
        })
    return pd.DataFrame(rows)
