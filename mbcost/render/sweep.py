"""A sweep as text: long CSV / JSON with exact integers for programs, and a pivot (α rows ×
resolution columns) as a terminal table, GitHub Markdown or a booktabs LaTeX table for papers.

Only the pivot rounds, to a unit chosen for the whole table (569 in a column headed (M));
CSV and JSON keep every count exact. DataFrames are in :mod:`mbcost.render.frames`.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Iterator

from ..analyses.sweep import Sweep, ints
from ..core.metrics import METRICS
from ..core.multipliers import fmt_alpha
from .text import latex_escape, latex_label, md_cell, printable, res_text, text_table


def number_text(x: Fraction) -> str:
    """α or ρ as the decimal typed (0.75); a value with no finite decimal as a float."""
    text = fmt_alpha(x)
    return text if "/" not in text else repr(float(x))


# --- long formats -----------------------------------------------------------------------------

def setting(sweep: Sweep) -> dict[str, Any]:
    return {"architecture": sweep.architecture, "source": sweep.source,
            "convention": sweep.convention.to_dict(sweep.classes)}


def _columns(sweep: Sweep) -> list[str]:
    return (["architecture", "alpha"] + (["rho"] if sweep.by_rho else []) + ["resolution"] +
            (["depth"] if sweep.by_depth else []) + ["convention"] +
            [m.field for m in _metrics(sweep)])


def _metrics(sweep: Sweep):
    """The registry's metrics this sweep has: every count, and latency when it was timed."""
    return tuple(m for m in METRICS.values() if m.base in sweep.counts)


def sweep_csv(sweep: Sweep, **_) -> Iterator[str]:
    """One row per configuration, each carrying its architecture, α, input H×W and convention;
    counts are exact integers. No pandas.

    Streamed, one chunk per (α, depth) row, so a million-row CSV is never one string: the CLI
    writes each chunk as it comes. The text that repeats (architecture, α, H×W, convention) is
    quoted by the csv module once; the counts are numbers, which never need quoting, and are
    formatted a whole row at a time (a per-row csv.writer call is most of the time at this scale)."""
    def line(cells) -> str:
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerow([printable(c) if isinstance(c, str) else c for c in cells])
        return buf.getvalue()

    def cell(text) -> str:  # one value, quoted if it must be
        return line([text])[:-1]

    yield line(_columns(sweep))
    name, tag = cell(sweep.architecture), cell(sweep.convention.tag(sweep.classes))
    metrics = _metrics(sweep)
    counts = {m.base: sweep.counts[m.base] for m in metrics}
    res = [f"{h}x{w}" for h, w in sweep.resolutions]
    # per configuration column: the text between α and the counts ([ρ,]H×W,), and its resolution
    middles = [(f"{cell(number_text(rho))}," if sweep.by_rho else "") + f"{res[j]}," for rho, j in sweep.columns]
    order = [j for _, j in sweep.columns]
    identity = order == list(range(len(order)))
    for i, (a, d) in enumerate(sweep.rows):
        head = f"{name},{cell(number_text(a))},"
        tail = (f"{number_text(d)}," if sweep.by_depth else "") + f"{tag},"
        texts = []  # each metric's values as text, one per distinct resolution (exact integers)
        for m in metrics:
            row = ints(counts[m.base][i])
            text = list(map(str, row if m.times == 1 else [v * m.times for v in row]))
            texts.append(text if identity else [text[j] for j in order])
        yield "".join(f"{head}{mid}{tail}{values}\n" for mid, values in zip(middles, map(",".join, zip(*texts))))


def sweep_dict(sweep: Sweep) -> dict[str, Any]:
    rows = []
    for p in sweep.points:
        row: dict[str, Any] = {"alpha": float(p.alpha)}
        if sweep.by_rho:
            row["rho"] = float(p.rho)
        row["resolution"] = list(p.resolution)
        if sweep.by_depth:
            row["depth"] = float(p.depth)
        row.update({m.field: m.of(p) for m in _metrics(sweep)})
        rows.append(row)
    return {**setting(sweep), "rows": rows}


def sweep_json(sweep: Sweep, **_) -> Iterator[str]:
    from .formats import json_chunks

    return json_chunks("sweep", sweep_dict(sweep))


# --- the pivot ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Scale:
    """One unit and number of decimals for a whole table: values ÷ divisor, rounded half up."""

    unit: str
    divisor: int
    digits: int

    def __call__(self, n: int) -> str:
        q = Fraction(n, self.divisor) * 10**self.digits
        r = (q + Fraction(1, 2)).__floor__() if q >= 0 else -((-q + Fraction(1, 2)).__floor__())
        sign, r = ("-" if r < 0 else ""), abs(r)
        if not self.digits:
            return f"{sign}{r}"
        whole, frac = divmod(r, 10**self.digits)
        return f"{sign}{whole}.{frac:0{self.digits}d}"


def scale_for(values) -> Scale:
    """M for millions (K, G likewise), with enough decimals that the smallest non-zero value
    keeps two significant digits (at most three decimals): 568,740,352 → 569 beside 41."""
    nonzero = [abs(v) for v in values if v]
    if not nonzero:
        return Scale("", 1, 0)
    lo, hi = min(nonzero), max(nonzero)
    for unit, div in (("G", 10**9), ("M", 10**6), ("K", 10**3)):
        if (lo if unit == "G" else hi) >= div:
            break
    else:
        return Scale("", 1, 0)
    digits = 0
    while digits < 3 and lo * 10**digits < 10 * div:  # fewer than two digits left of the point
        digits += 1
    return Scale(unit, div, digits)


@dataclass(frozen=True)
class Pivot:
    """α rows × resolution columns of one quantity, exact; ``params`` is an extra column
    when the quantity is mult-adds (or FLOPs) and no α's parameter count varies with R."""

    sweep: Sweep
    quantity: str  # madds | flops | params
    cells: tuple[tuple[int, ...], ...]
    params: tuple[int, ...] | None

    @property
    def label(self) -> str:
        return METRICS[self.quantity].noun

    def scales(self) -> tuple[Scale, Scale | None]:
        cells = scale_for(v for row in self.cells for v in row)
        return cells, (scale_for(self.params) if self.params is not None else None)

    def caption(self) -> str:
        s = self.sweep
        unit = self.scales()[0].unit
        names = {"M": "millions", "K": "thousands", "G": "billions"}
        what = f"{self.label} in {names[unit]} ({unit})" if unit else self.label
        cols = "input resolution"
        if s.by_rho:
            first = {}  # the ρ that gave each column (several ρ may round to one size)
            for rho, j in s.columns:
                first.setdefault(s.resolutions[j], rho)
            rhos = [first[r] for r in s.resolutions]
            cols = f"input resolution (ρ = {', '.join(number_text(r) for r in rhos)})"
        extra = f", and parameters ({self.scales()[1].unit or 'count'})" if self.params else ""
        return (f"{printable(s.architecture)}: {what} by width multiplier α (rows) and {cols} (columns)"
                f"{extra}; counting convention {s.convention.describe(s.classes)}.")


def pivot(sweep: Sweep, quantity: str = "madds") -> Pivot:
    """The pivot of ``madds`` (shown as FLOPs under a FLOPs convention) or ``params``."""
    if quantity not in ("madds", "params"):  # FLOPs are the mult-adds pivot under a FLOPs convention
        raise ValueError(f"quantity must be 'madds' or 'params', not {quantity!r}")
    flops = quantity == "madds" and sweep.convention.flops
    metric = METRICS["flops" if flops else quantity]
    cells = tuple(tuple(v * metric.times for v in row) for row in sweep.count(metric.base))
    params = None
    if quantity == "madds":
        per_alpha = [set(row) for row in sweep.count("params")]
        if all(len(s) == 1 for s in per_alpha):
            params = tuple(s.pop() for s in per_alpha)
    return Pivot(sweep, "flops" if flops else quantity, cells, params)


def _header(pv: Pivot, sep: str = "×") -> list[str]:
    cell, par = pv.scales()
    unit = f" ({cell.unit})" if cell.unit else ""
    head = [f"{res_text(r, sep)}{unit}" for r in pv.sweep.resolutions]
    return head + ([f"params ({par.unit})" if par.unit else "params"] if pv.params else [])


def _body(pv: Pivot) -> list[list[str]]:
    cell, par = pv.scales()
    rows = []
    for i, a in enumerate(pv.sweep.alphas):
        rows.append([number_text(a)] + [cell(v) for v in pv.cells[i]] +
                    ([par(pv.params[i])] if pv.params else []))
    return rows


# --- terminal, Markdown, LaTeX ---------------------------------------------------------------------

def pivot_text(pv: Pivot, width: int = 120) -> str:
    """Plain fixed-width columns; a grid wider than ``width`` is cut into several tables."""
    head, body = ["α"] + _header(pv), _body(pv)
    widths = [max(len(h), *(len(r[i]) for r in body)) for i, h in enumerate(head)]
    chunks, cur, used = [], [], widths[0]
    for i in range(1, len(head)):
        if cur and used + 2 + widths[i] > width:
            chunks.append(cur)
            cur, used = [], widths[0]
        cur.append(i)
        used += 2 + widths[i]
    chunks.append(cur)
    out = [pv.caption(), ""]
    for cols in chunks:
        keep = [0] + cols
        out += text_table([head[i] for i in keep], [[r[i] for i in keep] for r in body],
                          set(range(len(keep))))
        out.append("")
    out.append("exact integers: --format csv or json")
    return "\n".join(out) + "\n"


def pivot_markdown(pv: Pivot) -> str:
    """A GitHub pipe table, numbers right-aligned, under a one-line caption."""
    head, body = ["α"] + _header(pv, "×"), _body(pv)
    arch = printable(pv.sweep.architecture).replace("`", "'")
    # a paragraph, not a table cell: only the name (in a code span, taken literally) needs care
    caption = " ".join(pv.caption().replace(printable(pv.sweep.architecture), f"`{arch}`", 1).split())
    lines = [caption, "", "| " + " | ".join(md_cell(h) for h in head) + " |",
             "|" + "|".join("---:" for _ in head) + "|"]
    lines += ["| " + " | ".join(md_cell(c) for c in row) + " |" for row in body]
    return "\n".join(lines) + "\n"


def pivot_latex(pv: Pivot) -> str:
    """A booktabs table (\\toprule, \\midrule, \\bottomrule) with caption and label, ready to
    paste into a document that loads booktabs. The spanner over the resolution columns is
    kept short: LaTeX gives the whole excess of a too-wide spanner to its last column."""
    cell, par = pv.scales()
    n = len(pv.sweep.resolutions)
    spec = "l" + "r" * n + ("r" if pv.params else "")
    unit = f" ({cell.unit})" if cell.unit else ""
    top = [f"\\multicolumn{{{n}}}{{c}}{{{latex_escape(pv.label[0].upper() + pv.label[1:] + unit)}}}"]
    sub = [latex_escape(res_text(r, "×")) for r in pv.sweep.resolutions]
    if pv.params:
        top.append("")
        sub.append(f"Params ({par.unit})" if par.unit else "Params")
    lines = [
        f"% mbcost sweep {' '.join(printable(pv.sweep.architecture).split())}: needs \\usepackage{{booktabs}}",
        "\\begin{table}[htbp]",
        "  \\centering",
        f"  \\caption{{{latex_escape(pv.caption())}}}",
        f"  \\label{{tab:{latex_label(pv.sweep.architecture)}-{pv.quantity}}}",
        f"  \\begin{{tabular}}{{{spec}}}",
        "    \\toprule",
        "    & " + " & ".join(top) + " \\\\",
        f"    \\cmidrule(lr){{2-{n + 1}}}",
        "    $\\alpha$ & " + " & ".join(sub) + " \\\\",
        "    \\midrule",
    ]
    lines += ["    " + " & ".join(row) + " \\\\" for row in _body(pv)]
    lines += ["    \\bottomrule", "  \\end{tabular}", "\\end{table}"]
    return "\n".join(lines) + "\n"


def _per_depth(sweep: Sweep, draw, sep: str) -> str:
    """One α × resolution pivot per depth of the grid (one table when there is no depth axis)."""
    if len(sweep.depths) == 1:
        return draw(sweep)
    return sep.join(f"depth d = {number_text(d)}\n\n" + draw(sweep.at_depth(d)) for d in sweep.depths)


def sweep_text(sweep: Sweep, pivot_on: str = "madds", width: int | None = None, **_) -> str:
    return _per_depth(sweep, lambda s: pivot_text(pivot(s, pivot_on), width or 120), "\n")


def sweep_md(sweep: Sweep, pivot_on: str = "madds", **_) -> str:
    return _per_depth(sweep, lambda s: pivot_markdown(pivot(s, pivot_on)), "\n")


def sweep_latex(sweep: Sweep, pivot_on: str = "madds", **_) -> str:
    return _per_depth(sweep, lambda s: pivot_latex(pivot(s, pivot_on)), "\n")
