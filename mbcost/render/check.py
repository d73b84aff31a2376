"""A budget check as text for a terminal or CI log, JSON for programs, Markdown for a CI
summary page. JUnit XML is in :mod:`mbcost.render.junit`.

Every count is printed exactly (300,774,272); the overshoot is given absolute and as a
percentage of the limit.
"""
from __future__ import annotations

from typing import Any

from ..analyses.budget import METRIC_NAMES, BudgetResult, CheckRun, Outcome
from ..core.metrics import COUNTS
from .report import setting
from .text import md_cell, percent, printable, signed


def num(v) -> str:
    """An exact count with separators; a latency in ms to 0.01."""
    return f"{v:,.2f} ms" if isinstance(v, float) else f"{v:,}"


def verdict(o: Outcome) -> str:
    """'300,774,272 > 300,000,000 by 774,272 (0.26%)' or '… ≤ …, 225,728 (0.08%) to spare'."""
    name = METRIC_NAMES[o.metric]
    if o.ok:
        return (f"{name} {num(o.count)} ≤ limit {num(o.limit)}: {num(-o.over)} "
                f"({percent(-o.over_ratio if o.over_ratio is not None else None, sign=False)}) to spare")
    return (f"{name} {num(o.count)} > limit {num(o.limit)}: over by {num(o.over)} "
            f"({percent(o.over_ratio, sign=False)})")


def summary_line(run: CheckRun) -> str:
    n, bad = len(run.outcomes), len(run.failures)
    checks = f"{n} check{'s' if n != 1 else ''}"
    if run.unjudged:
        return "NOT CHECKED: " + run.unjudged_line().removeprefix("PARTIAL, so not checked: ")
    partial = [r.budget.name for r in run.results if r.partial]
    allowed = f" (PARTIAL, allowed: {'; '.join(partial)}: the counts leave out ops not costed)" if partial else ""
    if not bad:
        return f"within budget: {checks} passed{allowed}"
    over = list(dict.fromkeys(printable(r.label) for r, _ in run.failures))
    return f"OVER BUDGET: {bad} of {checks} failed: {'; '.join(over)}{allowed}"


def status(r: BudgetResult, o: Outcome) -> str:
    """What a check line starts with: 'ok', 'FAIL', or 'PART' — a partial result not judged."""
    return "PART" if r.unjudged else "ok  " if o.ok else "FAIL"


def partial_text(r: BudgetResult) -> str:
    """What a check line of a partial result ends with: '  [PARTIAL, not costed: Foo ×3]'."""
    return f"  [PARTIAL, not costed: {r.not_costed}{'' if r.budget.allow_partial else '; not judged'}]" \
        if r.partial else ""


def check_text(run: CheckRun) -> str:
    """One line per architecture × metric, starting 'ok' or 'FAIL' ('PART' for a partial result
    not judged); under a failure, the layers that grew most since the baseline; then a summary line."""
    lines = []
    for r in run.results:
        for o in r.outcomes:
            lines.append(f"{status(r, o)}  {printable(r.label)}: {verdict(o)}{partial_text(r)}")
            if not o.ok and r.baseline is not None:
                lines += growth_lines(r, o.metric)
    lines.append(summary_line(run))
    return "\n".join(lines) + "\n"


def growth_lines(r: BudgetResult, metric: str) -> list[str]:
    head = (f"      vs baseline {printable(r.baseline.a.source)}: {signed(r.baseline_delta(metric))} "
            f"{METRIC_NAMES[metric]} in total")
    grown = r.grew_most(metric)
    if not grown:
        return [head + "; no layer grew"]
    width = max(len(_layer_label(d)) for d, _ in grown)
    return [head + "; layers that grew most:"] + [
        f"        {_layer_label(d):<{width}}  {signed(n):>14}  {d.status}" for d, n in grown]


def _layer_label(d) -> str:
    return printable(f"{d.a.name} → {d.b.name}" if d.renamed else d.name)


# --- JSON -------------------------------------------------------------------------------------

def _outcome_dict(r: BudgetResult, o: Outcome) -> dict[str, Any]:
    out: dict[str, Any] = {"metric": o.metric, "count": o.count, "limit": o.limit, "ok": o.ok,
                           "over": o.over,
                           "over_percent": None if o.over_ratio is None else float(100 * o.over_ratio)}
    if r.baseline is not None:
        out["grew_most"] = [{"layer": d.name, "was": d.a.name if d.a else None, "status": d.status,
                             "delta": n} for d, n in r.grew_most(o.metric)]
    return out


def check_dict(run: CheckRun) -> dict[str, Any]:
    """The JSON contract of ``mbcost check`` (docs/ci.md). A partial result says ``"partial": true``
    and its ``not_costed`` ops (as in a report); one not allowed is ``"ok": false`` with no
    failing result: no verdict, exit 2."""
    return {
        "ok": run.ok,
        "checks": len(run.outcomes),
        "failures": len(run.failures),
        "source": run.source,
        "budgets": [
            {
                "name": r.budget.name,
                "label": r.label,
                **setting(r.report),
                "ok": r.ok,
                "results": [_outcome_dict(r, o) for o in r.outcomes],
                **({"baseline": {"source": r.baseline.a.source,
                                 "delta": {m: r.baseline_delta(m) for m in COUNTS}}}
                   if r.baseline is not None else {}),
            }
            for r in run.results
        ],
    }


def check_json(run: CheckRun) -> str:
    from .formats import json_text

    return json_text("check", check_dict(run))


# --- Markdown ---------------------------------------------------------------------------------

def check_md(run: CheckRun) -> str:
    """A GitHub-flavoured Markdown summary (for $GITHUB_STEP_SUMMARY or a PR comment)."""
    n, bad = len(run.outcomes), len(run.failures)
    head = (f"### mbcost budget check: ⚠️ {len(run.unjudged)} PARTIAL result{'s' if len(run.unjudged) > 1 else ''} "
            "not checked" if run.unjudged else
            f"### mbcost budget check: ❌ {bad} of {n} checks over budget" if bad
            else f"### mbcost budget check: ✅ all {n} checks within budget")
    lines = [head, "", "| | architecture | metric | count | limit | over (negative: headroom) |",
             "|---|---|---|---:|---:|---:|"]
    for r in run.results:
        for o in r.outcomes:
            mark = "⚠️" if r.unjudged else "✅" if o.ok else "❌"
            lines.append(f"| {mark} | {md_cell(r.label + partial_text(r))} | {METRIC_NAMES[o.metric]} | "
                         f"{num(o.count)} | {num(o.limit)} | {signed(o.over) if isinstance(o.over, int) else f'{o.over:+.2f}'} ({percent(o.over_ratio)}) |")
    if run.unjudged:
        lines += ["", md_cell(run.unjudged_line())]
    for r in run.results:
        for o in r.outcomes:
            if o.ok or r.baseline is None:
                continue
            lines += ["", f"**{md_cell(r.label)}, {METRIC_NAMES[o.metric]}**: layers that grew most "
                      f"since `{md_cell(r.baseline.a.source)}` ({signed(r.baseline_delta(o.metric))} in total)", ""]
            grown = r.grew_most(o.metric)
            if not grown:
                lines.append("_no layer grew_")
                continue
            lines += ["| layer | status | Δ |", "|---|---|---:|"]
            lines += [f"| `{md_cell(_layer_label(d))}` | {d.status} | {signed(n)} |" for d, n in grown]
    return "\n".join(lines) + "\n"

