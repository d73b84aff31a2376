"""A sweep as text or a DataFrame: long CSV / JSON with exact integers for programs, and a
pivot (α rows × resolution columns) as a terminal table, GitHub Markdown or a booktabs
LaTeX table for papers.

Only the pivot rounds, to a unit chosen for the whole table (569 in a column headed (M));
CSV, JSON and DataFrames keep every count exact. pandas is imported inside the two frame
functions and nowhere else, so the CLI's CSV path never pays for it.
"""
from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from ..core.multipliers import fmt_alpha
from ..analyses.sweep import Sweep

if TYPE_CHECKING:
    import pandas

    from ..core.engine import Report

Pair = tuple[int, int]


def res_text(res: Pair, sep: str = "x") -> str:
    return str(res[0]) if res[0] == res[1] else f"{res[0]}{sep}{res[1]}"


def number_text(x: Fraction) -> str:
    """α or ρ as the decimal typed (0.75); a value with no finite decimal as a float."""
    text = fmt_alpha(x)
    return text if "/" not in text else repr(float(x))


# --- long formats -----------------------------------------------------------------------------

def _columns(sweep: Sweep) -> list[str]:
    return (["alpha"] + (["rho"] if sweep.by_rho else []) + ["resolution", "madds", "params"] +
            (["flops"] if sweep.convention.flops else []))


def sweep_csv(sweep: Sweep) -> str:
    """One row per configuration; counts are exact integers. No pandas."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(_columns(sweep))
    alpha = {a: number_text(a) for a in sweep.alphas}  # fmt_alpha is Fraction arithmetic: once per α
    res = {r: res_text(r) for r in sweep.resolutions}
    flops, by_rho = sweep.convention.flops, sweep.by_rho
    for p in sweep.points:
        row = [alpha[p.alpha]] + ([number_text(p.rho)] if by_rho else []) + \
              [res[p.resolution], p.madds, p.params] + ([2 * p.madds] if flops else [])
        w.writerow(row)
    return buf.getvalue()


def _json_res(res: Pair) -> int | list[int]:
    return res[0] if res[0] == res[1] else list(res)


def sweep_dict(sweep: Sweep) -> dict[str, Any]:
    rows = []
    for p in sweep.points:
        row: dict[str, Any] = {"alpha": float(p.alpha)}
        if sweep.by_rho:
            row["rho"] = float(p.rho)
        row.update(resolution=_json_res(p.resolution), madds=p.madds, params=p.params)
        if sweep.convention.flops:
            row["flops"] = 2 * p.madds
        rows.append(row)
    return {"architecture": sweep.architecture, "convention": sweep.convention.name, "rows": rows}


def sweep_json(sweep: Sweep) -> str:
    return json.dumps(sweep_dict(sweep), indent=2, ensure_ascii=False) + "\n"


# --- DataFrames ---------------------------------------------------------------------------------

def sweep_frame(sweep: Sweep) -> "pandas.DataFrame":
    import pandas as pd

    cols: dict[str, list] = {c: [] for c in _columns(sweep)}
    for p in sweep.points:
        cols["alpha"].append(float(p.alpha))
        if sweep.by_rho:
            cols["rho"].append(float(p.rho))
        cols["resolution"].append(p.resolution[0] if p.resolution[0] == p.resolution[1]
                                  else res_text(p.resolution))
        cols["madds"].append(p.madds)
        cols["params"].append(p.params)
        if sweep.convention.flops:
            cols["flops"].append(2 * p.madds)
    return pd.DataFrame(cols)


def report_frame(report: "Report") -> "pandas.DataFrame":
    """One row per layer of a report: name, kind, type (the V1 paper's Table 2 label), block,
    role, kernel, stride, groups, act, input and output H, W, C, madds, params."""
    import pandas as pd

    from ..core.engine import layer_type

    rows = []
    for r in report.layers:
        L = r.layer
        rows.append({
            "name": L.name, "kind": L.kind, "type": layer_type(L), "block": L.block, "role": L.role,
            "kernel": res_text(L.k), "stride": res_text(L.s), "groups": L.groups, "act": L.act,
            "in_h": r.input_shape[0], "in_w": r.input_shape[1], "in_c": r.input_shape[2],
            "out_h": r.output_shape[0], "out_w": r.output_shape[1], "out_c": r.output_shape[2],
            "madds": r.madds, "params": r.params,
        })
    frame = pd.DataFrame(rows)
    if report.convention.flops:
        frame["flops"] = 2 * frame["madds"]
    return frame


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
        return {"madds": "mult-adds", "flops": "FLOPs", "params": "parameters"}[self.quantity]

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
            for p in s.points:
                first.setdefault(p.resolution, p.rho)
            rhos = [first[r] for r in s.resolutions]
            cols = f"input resolution (ρ = {', '.join(number_text(r) for r in rhos)})"
        extra = f", and parameters ({self.scales()[1].unit or 'count'})" if self.params else ""
        return (f"{s.architecture}: {what} by width multiplier α (rows) and {cols} (columns)"
                f"{extra}; counting convention {s.convention.describe()}.")


def pivot(sweep: Sweep, quantity: str = "madds") -> Pivot:
    """The pivot of ``madds`` (shown as FLOPs under a FLOPs convention) or ``params``."""
    if quantity not in ("madds", "params"):
        raise ValueError(f"quantity must be 'madds' or 'params', not {quantity!r}")
    at = {(p.alpha, p.resolution): p for p in sweep.points}
    flops = quantity == "madds" and sweep.convention.flops
    cells = tuple(tuple((2 * at[a, r].madds if flops else getattr(at[a, r], quantity))
                        for r in sweep.resolutions) for a in sweep.alphas)
    params = None
    if quantity == "madds":
        per_alpha = [{at[a, r].params for r in sweep.resolutions} for a in sweep.alphas]
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
    from .report import text_table

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


def _md_cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|")


def pivot_markdown(pv: Pivot) -> str:
    """A GitHub pipe table, numbers right-aligned, under a one-line caption."""
    head, body = ["α"] + _header(pv, "×"), _body(pv)
    arch = pv.sweep.architecture.replace("`", "'")
    # a paragraph, not a table cell: only the name (in a code span, taken literally) needs care
    caption = " ".join(pv.caption().replace(pv.sweep.architecture, f"`{arch}`", 1).split())
    lines = [caption, "", "| " + " | ".join(_md_cell(h) for h in head) + " |",
             "|" + "|".join("---:" for _ in head) + "|"]
    lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in body]
    return "\n".join(lines) + "\n"


_LATEX_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#",
                  "_": r"\_", "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}",
                  "^": r"\textasciicircum{}", "α": r"$\alpha$", "ρ": r"$\rho$", "×": r"$\times$",
                  "<": r"\textless{}", ">": r"\textgreater{}"}


def latex_escape(text: str) -> str:
    """Text safe in a LaTeX paragraph: specials escaped, line breaks (a blank line would end
    the caption) folded into spaces."""
    return "".join(_LATEX_SPECIAL.get(ch, ch) for ch in " ".join(text.split()))


def _label(text: str) -> str:
    kept = "".join(ch if ch.isascii() and (ch.isalnum() or ch in "_.:") else "-" for ch in text)
    return "-".join(part for part in kept.split("-") if part) or "table"


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
        f"% mbcost sweep {' '.join(pv.sweep.architecture.split())}: needs \\usepackage{{booktabs}}",
        "\\begin{table}[htbp]",
        "  \\centering",
        f"  \\caption{{{latex_escape(pv.caption())}}}",
        f"  \\label{{tab:{_label(pv.sweep.architecture)}-{pv.quantity}}}",
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
