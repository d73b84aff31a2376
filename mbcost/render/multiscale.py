"""``mbcost report --scales … [--flip]``: the cost of each input scale and their sum."""
from __future__ import annotations

from typing import Any, Iterator

from ..analyses.multiscale import MultiScale
from ..core.multipliers import fmt_alpha
from .report import setting
from .text import human, md_table, shape_text, text_table


def _rows(m: MultiScale, exact: bool) -> tuple[list[str], list[list[str]], set[int]]:
    fmt = (lambda n, d=1: f"{n:,}") if exact else human
    headers = ["scale", "input", "mult-adds", "× runs", "mult-adds, all runs", "peak act. B"]
    rows = [[fmt_alpha(s), shape_text(r.resolution), fmt(r.madds), str(m.passes), fmt(m.passes * r.madds),
             fmt(r.peak_activation_bytes)] for s, r in zip(m.scales, m.reports)]
    rows.append(["total", "", "", "", fmt(m.madds), ""])
    return headers, rows, {2, 3, 4, 5}


def _title(m: MultiScale) -> str:
    r = m.reports[0]
    how = f"{len(m.scales)} scale{'s' if len(m.scales) > 1 else ''}" + (", each also flipped" if m.flip else "")
    return (f"{m.architecture}  α = {fmt_alpha(r.alpha)}  ·  {how}  ·  {r.convention.describe(r.classes)}")


def _total(m: MultiScale) -> str:
    runs = len(m.scales) * m.passes
    return (f"{m.madds:,} mult-adds ({human(m.madds)}) over {runs} run{'s' if runs > 1 else ''}  ·  "
            f"{m.params:,} parameters ({human(m.params, 2)}), one network")


def multiscale_text(m: MultiScale, **_) -> str:
    return "\n".join([_title(m)] + text_table(*_rows(m, exact=False)) + ["", f"total  {_total(m)}"]) + "\n"


def multiscale_md(m: MultiScale, **_) -> str:
    return "\n".join([f"**{_title(m)}**", ""] + md_table(*_rows(m, exact=True)) + ["", f"Total: {_total(m)}"]) + "\n"


def multiscale_dict(m: MultiScale) -> dict[str, Any]:
    base = setting(m.reports[0])
    del base["resolution"]
    return {**base, "flip": m.flip, "runs_per_scale": m.passes,
            "scales": [{"scale": float(s), "scale_exact": str(s), "resolution": list(r.resolution), "madds": r.madds,
                        "params": r.params, "peak_activation_bytes": r.peak_activation_bytes}
                       for s, r in zip(m.scales, m.reports)],
            "totals": {"madds": m.madds, "params": m.params}}


def multiscale_json(m: MultiScale, **_) -> Iterator[str]:
    from .formats import json_chunks

    return json_chunks("report", multiscale_dict(m))


def multiscale_csv(m: MultiScale, **_) -> str:
    import csv
    import io

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["architecture", "alpha", "convention", "scale", "resolution", "runs", "madds", "params"])
    r0 = m.reports[0]
    for s, r in zip(m.scales, m.reports):
        w.writerow([m.architecture, fmt_alpha(r0.alpha), r0.convention.tag(r0.classes), fmt_alpha(s),
                    shape_text(r.resolution, "x"), m.passes, m.passes * r.madds, r.params])
    return buf.getvalue()
