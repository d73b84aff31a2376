"""``mbcost compare`` as text: one row per counter — its total, what it includes, and its
distance from the papers' count — as a table, JSON, CSV, Markdown or LaTeX."""
from __future__ import annotations

from typing import Any

from ..analyses.compare import Comparison, Row
from ..core.multipliers import fmt_alpha
from ..core.peers import COMPONENTS, LABELS
from .report import setting
from .text import csv_writer, latex_table, md_table, percent, printable, shape_text, signed, text_table

UNIT = {"madds": "MACs", "flops": "FLOPs"}


def title(c: Comparison) -> str:
    r = c.report
    return (f"{printable(r.architecture)}  α = {fmt_alpha(r.alpha)}  {shape_text(r.resolution)} input  ·  "
            f"implementation: {c.implementation.name}")


def _rows(c: Comparison) -> tuple[list[str], list[list[str]], set[int]]:
    headers = ["profile", "unit", "total", "Δ vs paper", "Δ %", "includes"]
    rows = [[row.name, UNIT[row.count.profile.unit], "—" if row.total is None else f"{row.total:,}",
             "—" if row.delta is None else signed(row.delta), percent(row.ratio), row.count.formula()]
            for row in c.rows]
    return headers, rows, {2, 3, 4}


def _notes(c: Comparison) -> list[str]:
    e = c.elements.counts
    used = {t.label for row in c.rows for t in row.count.terms} - {"W", "bias", "BN", "BN channels"}
    more = "".join(f"; {label} = {LABELS[label]}" for label in LABELS if label in used)
    return [f"W = weight multiply-accumulates ({e['macs']:,}); bias = bias additions ({e['bias']:,}); "
            f"BN = batch-norm elements ({e['bn']:,}), BN channels ({e['bn_channels']:,}){more}; an activation's "
            "name = its elements; FLOPs count 2 per multiply-accumulate.",
            f"Implementation assumed: {c.implementation.source}."]


def compare_text(c: Comparison, styled: bool = False, **_) -> str:
    b = (lambda s: f"\x1b[1m{s}\x1b[0m") if styled else (lambda s: s)  # noqa: E731
    lines = text_table(*_rows(c))
    lines[0] = b(lines[0])
    return "\n".join([b(title(c))] + lines + [""] + _notes(c)) + "\n"


def compare_md(c: Comparison, **_) -> str:
    return "\n".join([f"**{title(c)}**", ""] + md_table(*_rows(c)) + [""] + _notes(c)) + "\n"


def compare_latex(c: Comparison, **_) -> str:
    headers, rows, right = _rows(c)
    r = c.report
    return latex_table(headers, rows, caption=f"What each counter counts: {title(c)}.",
                       label=f"compare-{r.architecture}-{fmt_alpha(r.alpha)}-{r.resolution[0]}",
                       right=right, note=f"mbcost compare {printable(r.architecture)}")


def row_dict(row: Row) -> dict[str, Any]:
    p = row.count.profile
    return {"profile": p.name, "tool": p.tool, "reads": p.reads, "unit": p.unit, "total": row.total,
            "paper": row.paper, "delta": row.delta,
            "delta_ratio": float(row.ratio) if row.ratio is not None else None,
            "components": row.count.components, "formula": row.count.formula(),
            "terms": [{"component": t.component, "label": t.label, "coefficient": t.coefficient,
                       "elements": t.elements, "count": t.count} for t in row.count.terms],
            "source": p.source, "crash": row.count.crash or None}


def compare_dict(c: Comparison) -> dict[str, Any]:
    impl = c.implementation
    return {**setting(c.report),
            "implementation": impl.to_dict(),
            "elements": c.elements.to_dict(),
            "profiles": [row_dict(row) for row in c.rows]}


def compare_json(c: Comparison, **_) -> str:
    from .formats import json_text

    return json_text("compare", compare_dict(c))


CSV_COLUMNS = ("architecture", "alpha", "resolution", "convention", "implementation", "profile", "unit", "total", "paper",
               "delta") + COMPONENTS + ("formula",)


def compare_csv(c: Comparison, **_) -> str:
    import io

    buf = io.StringIO()
    w = csv_writer(buf)
    w.writerow(CSV_COLUMNS)
    r = c.report
    head = [r.architecture, fmt_alpha(r.alpha), shape_text(r.resolution, "x"), r.convention.tag(r.classes),
            c.implementation.name]
    for row in c.rows:
        comp = row.count.components
        w.writerow(head + [row.name, row.count.profile.unit, "" if row.total is None else row.total, row.paper,
                           "" if row.delta is None else row.delta]
                   + [comp[k] for k in COMPONENTS] + [row.count.formula()])
    return buf.getvalue()
