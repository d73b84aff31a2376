"""An architecture diff as a terminal table, JSON for programs, or Markdown for a PR comment.

Deltas are exact signed integers (B − A) in every format; only the terminal table's
before/after columns abbreviate (25.7M). Unchanged layers are left out of the table and
the Markdown unless asked for; the JSON always lists every aligned position.
"""
from __future__ import annotations

from typing import Any, Iterator

from ..analyses.diff import STATUSES, ArchDiff, LayerDelta
from ..core.engine import Report
from ..core.metrics import COUNTS as METRICS, compute
from ..core.multipliers import fmt_alpha
from .report import setting
from .text import human, latex_table, md_cell, percent, printable, rich_text, signed


def side_text(r: Report) -> str:
    return f"{printable(r.source)} (α {fmt_alpha(r.alpha)}, {r.resolution[0]}×{r.resolution[1]})"


def layer_text(d: LayerDelta) -> str:
    return printable(f"{d.a.name} → {d.b.name}" if d.renamed else d.name)


def _compute(d: ArchDiff) -> tuple[str, int]:
    """The compute metric's label and its factor over its base count (FLOPs = 2 × mult-adds)."""
    m = compute(d.b.convention)
    return m.label, m.times


def _shown(d: ArchDiff, all_layers: bool) -> list[LayerDelta]:
    return [x for x in d.layers if all_layers or x.status != "unchanged"]


def layers_line(d: ArchDiff, all_layers: bool) -> str:
    c = d.counts()
    parts = []
    for status in STATUSES:
        text = f"{c[status]} {status}"
        blocks = d.whole_blocks(status) if status in ("removed", "added") else []
        if blocks:
            text += f" (block{'s' if len(blocks) > 1 else ''} {printable(', '.join(blocks))})"
        parts.append(text)
    hidden = "" if all_layers or not c["unchanged"] else " (not listed; --all lists them)"
    return "layers: " + ", ".join(parts) + hidden


def totals_line(d: ArchDiff) -> str:
    name, f = _compute(d)
    return (f"total  {name} {f * d.total('madds', 'a'):,} → {f * d.total('madds', 'b'):,} "
            f"({signed(f * d.delta('madds'))}, {percent(d.ratio('madds'))})  ·  "
            f"params {d.total('params', 'a'):,} → {d.total('params', 'b'):,} "
            f"({signed(d.delta('params'))}, {percent(d.ratio('params'))})")


# --- the terminal -----------------------------------------------------------------------------

def diff_table(d: ArchDiff, console, all_layers: bool = False) -> None:
    from rich import box
    from rich.table import Table

    name, f = _compute(d)
    title = f"{side_text(d.a)}  →  {side_text(d.b)}  ·  {d.b.convention.describe(d.b.classes)}"
    t = Table(title=title, title_justify="left", header_style="bold", box=box.SIMPLE_HEAD, pad_edge=False)
    for col, just in (("", "left"), ("layer", "left"), ("kind", "left"), (f"{name} A → B", "right"),
                      (f"Δ {name}", "right"), ("params A → B", "right"), ("Δ params", "right"),
                      ("what changed", "left")):
        t.add_column(col, justify=just, no_wrap=col != "what changed")
    style = {"removed": "red", "added": "green", "changed": "yellow", "unchanged": "dim"}
    for x in _shown(d, all_layers):
        t.add_row(x.status, layer_text(x), printable(x.kind),
                  f"{human(f * x.cost('madds', 'a'))} → {human(f * x.cost('madds', 'b'))}",
                  signed(f * x.delta("madds")),
                  f"{human(x.cost('params', 'a'), 2)} → {human(x.cost('params', 'b'), 2)}",
                  signed(x.delta("params")), printable("; ".join(x.changes)), style=style[x.status])
    t.add_section()
    t.add_row("total", "", "", f"{human(f * d.total('madds', 'a'))} → {human(f * d.total('madds', 'b'))}",
              signed(f * d.delta("madds")),
              f"{human(d.total('params', 'a'), 2)} → {human(d.total('params', 'b'), 2)}",
              signed(d.delta("params")), "", style="bold")
    console.print(t)
    console.print(totals_line(d), soft_wrap=True)
    console.print(layers_line(d, all_layers), soft_wrap=True)


# --- JSON -------------------------------------------------------------------------------------

def _side(r: Report) -> dict[str, Any]:
    return {**setting(r), **{m.field: m.of(r) for m in METRICS.values()}}


def _abd(a: int, b: int) -> dict[str, int]:
    return {"a": a, "b": b, "delta": b - a}


def diff_dict(d: ArchDiff) -> dict[str, Any]:
    """The JSON contract of ``mbcost diff`` (docs/ci.md)."""
    def costs(get) -> dict[str, Any]:
        return {m.field: _abd(m.times * get(m.base, "a"), m.times * get(m.base, "b")) for m in METRICS.values()}

    return {
        "a": _side(d.a),
        "b": _side(d.b),
        "convention": d.b.convention.to_dict(d.b.classes),
        "totals": costs(d.total),
        "summary": d.counts(),
        "removed_blocks": d.whole_blocks("removed"),
        "added_blocks": d.whole_blocks("added"),
        "layers": _records(d.layers),
    }


def _records(layers) -> list[dict[str, Any]]:
    """One record per aligned position: the same fields as ``costs`` gives the totals, read
    straight from the two layer results (100,000 of these in a long diff)."""
    fields = [(m.field, m.base, m.times) for m in METRICS.values()]
    out = []
    for x in layers:
        a, b = x.a, x.b
        record = {"status": x.status, "a": a.name if a else None, "b": b.name if b else None, "kind": x.kind}
        for name, base, times in fields:
            record[name] = _abd(times * getattr(a, base) if a is not None else 0,
                                times * getattr(b, base) if b is not None else 0)
        record["changes"] = list(x.changes)
        out.append(record)
    return out


def diff_json(d: ArchDiff, **_) -> Iterator[str]:
    from .formats import json_chunks

    return json_chunks("diff", diff_dict(d))


def diff_text(d: ArchDiff, styled: bool = False, width: int | None = None, all_layers: bool = False, **_) -> str:
    return rich_text(lambda con: diff_table(d, con, all_layers), styled=styled, width=width or 160)


def diff_latex(d: ArchDiff, all_layers: bool = False, **_) -> str:
    """Per-layer deltas as a booktabs table (exact counts), the totals as its last row."""
    name, f = _compute(d)
    rows = [[x.status, layer_text(x), x.kind, f"{f * x.cost('madds', 'a'):,}", f"{f * x.cost('madds', 'b'):,}",
             signed(f * x.delta("madds")), signed(x.delta("params"))] for x in _shown(d, all_layers)]
    rows.append(["total", "", "", f"{f * d.total('madds', 'a'):,}", f"{f * d.total('madds', 'b'):,}",
                 signed(f * d.delta("madds")), signed(d.delta("params"))])
    return latex_table(["", "layer", "kind", f"{name} A", f"{name} B", f"Δ {name}", "Δ params"], rows,
                       caption=f"{side_text(d.a)} → {side_text(d.b)}; counting convention "
                               f"{d.b.convention.describe(d.b.classes)}.",
                       label=f"diff-{d.a.architecture}-{d.b.architecture}", right={3, 4, 5, 6},
                       note="mbcost diff")


# --- Markdown ---------------------------------------------------------------------------------

def diff_md(d: ArchDiff, all_layers: bool = False, **_) -> str:
    """A PR comment: totals, then one row per layer that changed."""
    name, f = _compute(d)
    lines = [f"### mbcost diff: `{md_cell(side_text(d.a))}` → `{md_cell(side_text(d.b))}`", "",
             f"Convention: {md_cell(d.b.convention.describe(d.b.classes))}", "",
             "| | A | B | Δ |", "|---|---:|---:|---:|"]
    for label, m, k in ((name, "madds", f), ("params", "params", 1)):
        lines.append(f"| **{label}** | {k * d.total(m, 'a'):,} | {k * d.total(m, 'b'):,} | "
                     f"**{signed(k * d.delta(m))}** ({percent(d.ratio(m))}) |")
    lines += ["", md_cell(layers_line(d, all_layers)) + "."]
    shown = _shown(d, all_layers)
    if shown:
        lines += ["", f"| | layer | kind | {name} A | {name} B | Δ {name} | Δ params | what changed |",
                  "|---|---|---|---:|---:|---:|---:|---|"]
        for x in shown:
            lines.append(f"| {x.status} | `{md_cell(layer_text(x))}` | {x.kind} | "
                         f"{f * x.cost('madds', 'a'):,} | {f * x.cost('madds', 'b'):,} | "
                         f"{signed(f * x.delta('madds'))} | {signed(x.delta('params'))} | "
                         f"{md_cell('; '.join(x.changes))} |")
    return "\n".join(lines) + "\n"
