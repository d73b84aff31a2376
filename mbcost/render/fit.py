"""``mbcost fit`` as text: a ranked table for a person, CSV/JSON with exact counts for
programs, Markdown for a README or an issue.

Counts are exact integers everywhere (the table too: a budget is decided by the last digit);
expected top-1 has one decimal in tables and full precision in JSON/CSV, with how it was
obtained (published, bilinear, ln-alpha, or quadratic-ln-madds = extrapolated).
"""
from __future__ import annotations

import io
from typing import Any

from ..analyses.fit import Candidate, FitResult
from ..core.metrics import METRICS
from .sweep import number_text
from .text import csv_writer, md_table, printable, res_text, text_table


def _value_text(metric: str, v) -> str:
    return f"{v:.2f}" if isinstance(v, float) else f"{v:,}"


def _limit_text(v) -> str:
    return f"{v:.2f} ms" if isinstance(v, float) else f"{v:,}"


def _label(metric: str) -> str:
    m = METRICS[metric]
    return m.label + (f" ({m.unit})" if m.unit else "")


def _top1_text(c: Candidate) -> str:
    if c.expected is None:
        return "n/a"
    mark = {"published": "", "bilinear": " ~", "ln-alpha": " ~", "quadratic-ln-madds": " *"}
    return f"{c.top1:.1f}{mark[c.expected.method]}"


def _rows(r: FitResult) -> tuple[list[str], list[list[str]]]:
    by_top1 = r.ranked_by == "top1"
    headers = ["#", "α", "resolution"] + [_label(m) for m in r.metrics] + (
        ["top-1 (%)", "how"] if by_top1 else [])
    rows = []
    for i, c in enumerate(r.pareto, 1):
        row = [str(i), number_text(c.alpha), res_text(c.resolution)] + \
              [_value_text(m, c.values[m]) for m in r.metrics]
        if by_top1:
            row += [_top1_text(c), c.expected.checkpoint or c.expected.method]
        rows.append(row)
    return headers, rows


def _limits_text(r: FitResult) -> str:
    return ", ".join(f"{METRICS[lim.metric].noun} ≤ {_limit_text(lim.value)}" for lim in r.limits)


def _footer(r: FitResult) -> list[str]:
    ranked = ("ranked by expected ImageNet top-1 (TF-slim's published checkpoints; ~ interpolated "
              "bilinearly in (ln α, ln R) or along ln α, * extrapolated by a quadratic in ln mult-adds)"
              if r.ranked_by == "top1" else
              f"no published accuracy for this architecture: ranked by {METRICS[r.ranked_by].noun}, largest first")
    return [f"{len(r.pareto)} on the Pareto front of {r.fitting} configurations that fit, out of "
            f"{r.candidates} costed; {ranked}.",
            f"convention: {r.convention.describe(r.classes)}" + (f"; device: {printable(r.device)}" if r.device else "")]


def fit_text(r: FitResult, **_) -> str:
    head = f"{printable(r.architecture)}: configurations within {_limits_text(r)}"
    if not r.pareto:
        return head + "\nnone of the " + f"{r.candidates} configurations costed fits.\n" + _footer(r)[1] + "\n"
    headers, rows = _rows(r)
    right = set(range(len(headers))) - {1, len(headers) - 1} if r.ranked_by == "top1" else set(range(len(headers)))
    return "\n".join([head, ""] + text_table(headers, rows, right) + [""] + _footer(r)) + "\n"


def fit_md(r: FitResult, **_) -> str:
    head = f"**{printable(r.architecture)}**: configurations within {_limits_text(r)}"
    if not r.pareto:
        return head + "\n\nNone fits.\n"
    headers, rows = _rows(r)
    return "\n".join([head, ""] + md_table(headers, rows, set(range(3, len(r.metrics) + 3))) +
                     [""] + [f"{line}  " for line in _footer(r)]) + "\n"


def _row_dict(r: FitResult, rank: int, c: Candidate) -> dict[str, Any]:
    row: dict[str, Any] = {"rank": rank, "alpha": float(c.alpha), "resolution": list(c.resolution)}
    row.update({m: c.values[m] for m in r.metrics})
    row["expected_top1"] = c.top1
    row["top1_method"] = c.expected.method if c.expected else None
    row["checkpoint"] = c.expected.checkpoint if c.expected else None
    row["extrapolated"] = c.expected.extrapolated if c.expected else None
    return row


def fit_json(r: FitResult, **_) -> str:
    from .formats import json_text

    body = {"architecture": r.architecture, "source": r.source,
            "convention": r.convention.to_dict(r.classes), "device": r.device,
            "limits": {f"max_{lim.metric}": lim.value for lim in r.limits},
            "ranked_by": r.ranked_by, "candidates": r.candidates, "fitting": r.fitting,
            "rows": [_row_dict(r, i, c) for i, c in enumerate(r.pareto, 1)]}
    return json_text("fit", body)


def fit_csv(r: FitResult, **_) -> str:
    buf = io.StringIO()
    w = csv_writer(buf)
    cols = ["rank", "architecture", "alpha", "resolution", "convention"] + list(r.metrics) + \
           ["expected_top1", "top1_method", "checkpoint"]
    w.writerow(cols)
    tag = r.convention.tag(r.classes)
    for i, c in enumerate(r.pareto, 1):
        w.writerow([i, r.architecture, number_text(c.alpha), f"{c.resolution[0]}x{c.resolution[1]}", tag] +
                   [c.values[m] for m in r.metrics] +
                   ([repr(c.top1), c.expected.method, c.expected.checkpoint or ""] if c.expected else ["", "", ""]))
    return buf.getvalue()
