"""An architecture diff as a terminal table, JSON for programs, or Markdown for a PR comment.

Deltas are exact signed integers (B − A) in every format; only the terminal table's
before/after columns abbreviate (25.7M). Unchanged layers are left out of the table and
the Markdown unless asked for; the JSON always lists every aligned position.
"""
from __future__ import annotations

import json
from typing import Any

from ..core.engine import Report
from .check import md_cell, percent, signed
from ..analyses.diff import STATUSES, ArchDiff, LayerDelta
from ..core.multipliers import fmt_alpha
from .report import human, square


def side_text(r: Report) -> str:
    return f"{r.source} (α {fmt_alpha(r.alpha)}, {r.resolution[0]}×{r.resolution[1]})"


def layer_text(d: LayerDelta) -> str:
    return f"{d.a.name} → {d.b.name}" if d.renamed else d.name


def _compute(d: ArchDiff) -> tuple[str, int]:
    """The compute metric's name and its factor over mult-adds (FLOPs = 2 × mult-adds)."""
    return ("FLOPs", 2) if d.b.convention.flops else ("mult-adds", 1)


def _shown(d: ArchDiff, all_layers: bool) -> list[LayerDelta]:
    return [x for x in d.layers if all_layers or x.status != "unchanged"]


def layers_line(d: ArchDiff, all_layers: bool) -> str:
    c = d.counts()
    parts = []
    for status in STATUSES:
        text = f"{c[status]} {status}"
        blocks = d.whole_blocks(status) if status in ("removed", "added") else []
        if blocks:
            text += f" (block{'s' if len(blocks) > 1 else ''} {', '.join(blocks)})"
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
    title = f"{side_text(d.a)}  →  {side_text(d.b)}  ·  {d.b.convention.describe()}"
    t = Table(title=title, title_justify="left", header_style="bold", box=box.SIMPLE_HEAD, pad_edge=False)
    for col, just in (("", "left"), ("layer", "left"), ("kind", "left"), (f"{name} A → B", "right"),
                      (f"Δ {name}", "right"), ("params A → B", "right"), ("Δ params", "right"),
                      ("what changed", "left")):
        t.add_column(col, justify=just, no_wrap=col != "what changed")
    style = {"removed": "red", "added": "green", "changed": "yellow", "unchanged": "dim"}
    for x in _shown(d, all_layers):
        t.add_row(x.status, layer_text(x), x.kind,
                  f"{human(f * x.cost('madds', 'a'))} → {human(f * x.cost('madds', 'b'))}",
                  signed(f * x.delta("madds")),
                  f"{human(x.cost('params', 'a'), 2)} → {human(x.cost('params', 'b'), 2)}",
                  signed(x.delta("params")), "; ".join(x.changes), style=style[x.status])
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
    return {"architecture": r.architecture, "source": r.source, "alpha": float(r.alpha),
            "resolution": square(r.resolution), "madds": r.madds, "params": r.params}


def _abd(a: int, b: int) -> dict[str, int]:
    return {"a": a, "b": b, "delta": b - a}


def diff_dict(d: ArchDiff) -> dict[str, Any]:
    """The JSON contract of ``mbcost diff`` (docs/ci.md)."""
    flops = d.b.convention.flops
    metrics = ("madds", "params")

    def costs(get) -> dict[str, Any]:
        out = {m: _abd(get(m, "a"), get(m, "b")) for m in metrics}
        if flops:
            out["flops"] = _abd(2 * get("madds", "a"), 2 * get("madds", "b"))
        return out

    return {
        "a": _side(d.a),
        "b": _side(d.b),
        "convention": d.b.convention.name,
        "totals": costs(d.total),
        "summary": d.counts(),
        "removed_blocks": d.whole_blocks("removed"),
        "added_blocks": d.whole_blocks("added"),
        "layers": [
            {"status": x.status, "a": x.a.name if x.a else None, "b": x.b.name if x.b else None,
             "kind": x.kind, **costs(x.cost), "changes": list(x.changes)}
            for x in d.layers
        ],
    }


def diff_json(d: ArchDiff) -> str:
    return json.dumps(diff_dict(d), indent=2, ensure_ascii=False) + "\n"


# --- Markdown ---------------------------------------------------------------------------------

def diff_md(d: ArchDiff, all_layers: bool = False) -> str:
    """A PR comment: totals, then one row per layer that changed."""
    name, f = _compute(d)
    lines = [f"### mbcost diff: `{md_cell(side_text(d.a))}` → `{md_cell(side_text(d.b))}`", "",
             f"Convention: {md_cell(d.b.convention.describe())}", "",
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
