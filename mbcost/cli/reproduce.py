"""``mbcost reproduce``: every published MobileNet number, recomputed and compared."""
from __future__ import annotations

import enum
import json
import textwrap
from pathlib import Path
from typing import Annotated, Optional

import typer

from ..errors import UsageError
from ..core.multipliers import fmt_alpha
from ..render.report import text_table
from ..analyses.reproduce import (Outcome, decimal_text, load_published, printed_value, reproduce, results_dict,
                         select, summarize)
from . import io
from .app import app
from .options import console

QUANTITY_TEXT = {"madds": "mult-adds", "params": "params", "madds_share": "% mult-adds",
                 "params_share": "% params"}
MARK = {"ok": "✓", "explained": "✗", "unexplained": "✗ FAIL", "stale": "✓ STALE"}
RIGHT = {"ours (exact)", "ours", "published"}
STYLE = {"ok": "green", "explained": "yellow", "unexplained": "bold red", "stale": "bold red"}


class ReproduceFormat(str, enum.Enum):
    table = "table"
    json = "json"


@app.command("reproduce", epilog="Examples:\n\n"
             "  mbcost reproduce\n\n"
             "  mbcost reproduce --source slim\n\n"
             "  mbcost reproduce --format json | jq '.entries[] | select(.status != \"ok\")'\n\n"
             "  mbcost reproduce --data my_numbers.yaml\n\n"
             "A value matches when our exact count, truncated or rounded to the printed digits, "
             "equals them. ✓ match · ✗ a documented mismatch (the reason is printed). "
             "Exit codes: 0 every value matches or is explained, 1 an unexplained mismatch or "
             "an explanation that no longer applies, 2 bad input.")
def reproduce_cmd(
    fmt: Annotated[ReproduceFormat, typer.Option("--format", "-f", help="Output format.")] = ReproduceFormat.table,
    source: Annotated[Optional[str], typer.Option(
        "--source", "-s", help="Only sources whose key or citation contains this text (e.g. v1-paper, slim, keras).",
        show_default=False)] = None,
    data: Annotated[Optional[Path], typer.Option(
        "--data", help="A published-numbers file in the format of the packaged one.",
        dir_okay=False, show_default="the packaged mbcost/published.yaml")] = None,
) -> int:
    """Recompute every published MobileNet mult-add and parameter count (V1 and V2 papers, TF-slim, Keras, torchvision, timm) under the source's counting convention, and compare with the printed digits."""
    entries = load_published(data)
    chosen = select(entries, source)
    if not chosen:
        keys = sorted({e.source.key for e in entries})
        raise UsageError(f"no published source matches {source!r}; sources: {', '.join(keys)}",
                         field="--source")
    outcomes = reproduce(chosen)
    summary = summarize(outcomes)
    if fmt is ReproduceFormat.json:
        io.echo(json.dumps(results_dict(outcomes), indent=2, ensure_ascii=False))
    else:
        render(outcomes, console())
    return 0 if summary.ok else 1


def in_unit(o: Outcome) -> str:
    """Our value in the printed unit, two digits finer than printed (truncated), so the
    reader sees which way it rounds: 568.74M against 569M."""
    e = o.entry
    if e.unit == "1":
        return ""  # the exact count is in the printed unit already
    return decimal_text(o.scaled, printed_value(e.printed)[1] + 2) + e.unit


def published(o: Outcome) -> str:
    e = o.entry
    return e.printed if e.unit == "1" else e.printed + e.unit


def render(outcomes: list[Outcome], con) -> None:
    headers = ["", "row", "α · R", "quantity", "ours (exact)", "ours", "published"]
    rows = [[MARK[o.status], _label(o.entry), _setting(o), _quantity(o.entry), f"{o.value:,}", in_unit(o),
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
            _wrapped(con, "our count gives other digits (truncated or rounded), and the data file gives "
                          "no reason", width, arrow, style="red")
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


def _setting(o: Outcome) -> str:
    h, w = o.resolution
    r = str(h) if h == w else f"{h}×{w}"
    rho = f" (ρ {fmt_alpha(o.entry.rho)})" if o.entry.rho is not None else ""
    return f"{fmt_alpha(o.entry.alpha)} · {r}{rho}"


def _quantity(e) -> str:
    q = QUANTITY_TEXT[e.quantity]
    return q + (" ×2 = FLOPs" if e.convention.flops and e.quantity == "madds" else "")


def _wrapped(con, text: str, width: int, indent: str, style: str | None = None) -> None:
    rest = " " * len(indent)
    body = textwrap.fill(text, width=width, initial_indent=indent, subsequent_indent=rest)
    con.print(body, style=style, markup=False, highlight=False, soft_wrap=True)
