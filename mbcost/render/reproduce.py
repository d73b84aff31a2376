"""``mbcost reproduce`` as text: every published value beside ours, grouped by source and table.

The terminal table wraps reasons to the terminal; JSON (one record per printed value, with its
convention), CSV, Markdown and LaTeX keep every exact count.
"""
from __future__ import annotations

import textwrap

from ..analyses.reproduce import Outcome, decimal_text, outcome_dict, printed_value, results_dict, summarize
from ..core.multipliers import fmt_alpha
from .text import csv_writer, latex_table, md_table, printable, rich_text, text_table

QUANTITY_TEXT = {"madds": "mult-adds", "params": "params", "channels": "channels", "memory": "memory (B)",
                 "latency": "latency",
                 "madds_share": "% mult-adds",
                 "params_share": "% params"}
MARK = {"ok": "✓", "explained": "✗", "unexplained": "✗ FAIL", "stale": "✓ STALE"}
RIGHT = {"ours (exact)", "ours", "published"}
STYLE = {"ok": "green", "explained": "yellow", "unexplained": "bold red", "stale": "bold red"}


def in_unit(o: Outcome) -> str:
    """Our value in the printed unit, two digits finer than printed (truncated), so the
    reader sees which way it rounds: 568.74M against 569M."""
    e = o.entry
    if e.unit == "1" or o.value is None or e.quantity == "latency":  # a latency is shown once, in ms
        return ""  # the exact count is in the printed unit already (or there is none)
    return decimal_text(o.scaled, printed_value(e.printed)[1] + 2) + e.unit


def published(o: Outcome) -> str:
    e = o.entry
    return e.printed if e.unit == "1" else e.printed + e.unit


def render(outcomes: list[Outcome], con) -> None:
    headers = ["", "row", "α · R", "quantity", "ours (exact)", "ours", "published"]
    rows = [[MARK[o.status], _label(o.entry), _setting(o), _quantity(o.entry), _ours(o), in_unit(o),
             published(o)] for o in outcomes]
    lines = text_table(headers, rows, {i for i, h in enumerate(headers) if h in RIGHT})
    for drop in ("α · R", "ours"):  # on a narrow terminal, leave these out first
        if max(map(len, lines)) <= con.width:
            break
        headers, rows = _without(headers, rows, headers.index(drop))
        lines = text_table(headers, rows, {i for i, h in enumerate(headers) if h in RIGHT})
    width = max(60, min(con.width, 120))
    arrow = "      ↳ "
    con.print(lines[0], style="bold", markup=False, highlight=False, soft_wrap=True)
    group = None
    said: dict = {}  # reasons and notes already shown in this table → the row that gave them
    for o, line in zip(outcomes, lines[2:]):
        e = o.entry
        if (e.source.key, e.table, e.convention) != group:
            if group is None or group[0] != e.source.key:
                con.print()
                _wrapped(con, f"{e.source.key}: {e.source.citation}", width, "", style="bold")
            group, said = (e.source.key, e.table, e.convention), {}
            _wrapped(con, f"{e.table}  ·  convention {e.convention.describe()}", width, "  ", style="cyan")
            if e.table_note:
                _wrapped(con, e.table_note, width, "  ", style="dim")
        con.print(line, style=STYLE[o.status], markup=False, highlight=False, soft_wrap=True)
        if o.status == "explained":
            if e.explained in said:
                _wrapped(con, f"same reason as {said[e.explained]}", width, arrow, style="dim")
            else:
                said[e.explained] = f"{e.label} {QUANTITY_TEXT[e.quantity]}"
                _wrapped(con, e.explained, width, arrow)
        elif o.status == "stale":
            _wrapped(con, f"stale explanation: the data file says this cannot be matched, but our count "
                          f"now gives the printed digits ({o.match}). Remove or update it: {e.explained}",
                     width, arrow, style="red")
        elif o.status == "unexplained":
            why = ("our prediction is outside the profile's interval" if e.quantity == "latency" else
                   "our count gives other digits (truncated or rounded)")
            _wrapped(con, f"{why}, and the data file gives no reason", width, arrow, style="red")
        elif e.note and (e.label, e.note) not in said:  # a row's note once, not per quantity
            said[(e.label, e.note)] = e.label
            _wrapped(con, e.note, width, arrow, style="dim")
    s = summarize(outcomes)
    con.print()
    con.print(f"{len(outcomes)} published values: {s.matched} match (✓), {s.explained} explained "
              f"mismatch{'es' if s.explained != 1 else ''} (✗, reason given), {s.unexplained} unexplained, "
              f"{s.stale} stale explanation{'s' if s.stale != 1 else ''}",
              style="bold " + ("green" if s.ok else "red"), markup=False, highlight=False)


def _without(headers: list[str], rows: list[list[str]], i: int):
    return headers[:i] + headers[i + 1:], [r[:i] + r[i + 1:] for r in rows]


def _label(e) -> str:
    """The row's label, and the layers it counts if not the whole network: a whole block
    (block7.dw + block7.pw) is shown as [block7]."""
    if not e.layers:
        return e.label
    blocks = {name.split(".")[0] for name in e.layers}
    shown = blocks if len(blocks) == 1 and all("." in n for n in e.layers) else e.layers
    return f"{e.label} [{', '.join(sorted(shown))}]"


def _ours(o: Outcome) -> str:
    if isinstance(o.value, float):  # a predicted latency (ms), not an exact count: and how far off
        return f"{o.value:,.2f}ms ({100 * (o.value / float(o.entry.printed.replace(',', '')) - 1):+.1f}%)"
    return "—" if o.value is None else f"{o.value:,}"


def _setting(o: Outcome) -> str:
    if not o.entry.architecture:
        return "—"
    h, w = o.resolution
    r = str(h) if h == w else f"{h}×{w}"
    rho = f" (ρ {fmt_alpha(o.entry.rho)})" if o.entry.rho is not None else ""
    e = o.entry
    os_ = f" OS {e.output_stride}" if e.output_stride else ""
    ms = f" × {len(e.scales)} scales{' × 2 flips' if e.flip else ''}" if e.scales else ""
    return f"{fmt_alpha(o.alpha)} · {r}{rho}{os_}{ms}"


def _quantity(e) -> str:
    q = QUANTITY_TEXT[e.quantity] + (f" ({e.device})" if e.device else "")
    return q + (" ×2 = FLOPs" if e.convention.flops and e.quantity == "madds" else "")


def _wrapped(con, text: str, width: int, indent: str, style: str | None = None) -> None:
    rest = " " * len(indent)
    body = textwrap.fill(printable(text), width=width, initial_indent=indent, subsequent_indent=rest)
    con.print(body, style=style, markup=False, highlight=False, soft_wrap=True)


def reproduce_text(outcomes: list[Outcome], styled: bool = False, width: int | None = None) -> str:
    return rich_text(lambda con: render(outcomes, con), styled=styled, width=width)


def reproduce_json(outcomes: list[Outcome]) -> str:
    from .formats import json_text

    return json_text("reproduce", results_dict(outcomes))


def _rows(outcomes: list[Outcome]) -> list[list[str]]:
    return [[MARK[o.status], o.entry.source.key, o.entry.table, _label(o.entry), _setting(o),
             _quantity(o.entry), _ours(o), published(o)] for o in outcomes]


HEADERS = ["", "source", "table", "row", "α · R", "quantity", "ours (exact)", "published"]


def _summary_line(outcomes: list[Outcome]) -> str:
    s = summarize(outcomes)
    return (f"{len(outcomes)} published values: {s.matched} match, {s.explained} explained, "
            f"{s.unexplained} unexplained, {s.stale} stale")


def reproduce_md(outcomes: list[Outcome]) -> str:
    out = md_table(HEADERS, _rows(outcomes), {6, 7})
    reasons = [printable(f"- {o.entry.label} ({o.entry.source.key}, {QUANTITY_TEXT[o.entry.quantity]}): {o.entry.explained}")
               for o in outcomes if o.status == "explained"]
    return "\n".join(["**mbcost reproduce**", ""] + out + ["", _summary_line(outcomes)] +
                     (["", "Explained mismatches:", ""] + reasons if reasons else [])) + "\n"


def reproduce_latex(outcomes: list[Outcome]) -> str:
    return latex_table(HEADERS, _rows(outcomes), caption=f"Published numbers recomputed by mbcost. "
                       f"{_summary_line(outcomes)}.", label="mbcost-reproduce", right={6, 7},
                       note="mbcost reproduce")


def reproduce_csv(outcomes: list[Outcome]) -> str:
    """One row per printed value, with its architecture, α, input, convention and both counts."""
    import csv
    import io

    columns = ["id", "status", "source", "table", "label", "architecture", "alpha", "resolution", "rho",
               "convention", "quantity", "published", "unit", "ours", "match", "explained"]
    buf = io.StringIO()
    w = csv_writer(buf)
    w.writerow(columns)
    for o in outcomes:
        d = outcome_dict(o)
        d["resolution"] = f"{o.resolution[0]}x{o.resolution[1]}"
        d["convention"] = o.entry.convention.tag()
        w.writerow([d[c] for c in columns])
    return buf.getvalue()
