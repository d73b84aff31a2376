"""``--format html`` (or ``-o page.html``): one self-contained page per run.

Each page is built from its command's JSON document (``report_dict``, ``sweep_dict``,
``diff_dict``, …: embedded whole, so the page's numbers are the JSON's numbers) and what the
page needs beyond it: the memory timeline of each execution order
(:func:`mbcost.core.memory.timeline`), expected top-1 per sweep point, the layers of a diff's
two sides or of each budget entry for their graphs. Nothing here knows a layer kind by name:
the graph and tables read each layer's own fields (type, kernel, stride, inputs, block,
shapes, counts). How a page is put together and kept safe: :mod:`.page`.
"""
from __future__ import annotations

from typing import Any

from ...core.memory import timeline
from ...core.metrics import METRICS, compute, present, shown
from ...core.multipliers import fmt_alpha
from ..report import device_dict, report_dict, setting, title
from ..text import shape_text
from .page import Column, Table, check_rows, exact, html_page

BY_FIELD = {m.field: m for m in METRICS.values()}
OUTPUT_BYTES = ("output_bytes", "output B", "bytes of the layer's output tensor")
LATENCY = METRICS["latency"]
# what the graph reads of a layer (the report's JSON records carry these and more)
GRAPH_FIELDS = ("name", "kind", "type", "block", "kernel", "stride", "inputs", "output_shape")


# --- pieces every page with a network shares -----------------------------------------------------

def header(report) -> dict[str, Any]:
    """What was counted and the totals, for a page's header."""
    totals = [(m.label, m.of(report), m.unit, m.description) for m in present(report)]
    return {"setting": setting(report), "described": report.convention.describe(report.classes),
            "totals": totals, "alpha": fmt_alpha(report.alpha), "input": shape_text(report.resolution)}


def _columns(report) -> list[tuple[str, str, str]]:
    """The metrics a layer's box can be shaded by: (field, label, unit)."""
    out = [(m.field, m.label, m.unit) for m in (compute(report.convention), METRICS["params"])]
    out.append((OUTPUT_BYTES[0], OUTPUT_BYTES[1], "B"))
    if report.device is not None:
        out.append((LATENCY.field, LATENCY.label, LATENCY.unit))
    return out


def graph(report, layers: list[dict] | None = None, status: dict[str, str] | None = None) -> dict[str, Any]:
    """What a graph needs beyond the layers' records: the metrics to shade by, the owner of each
    split part (a layer reading ``sp.1`` reads ``sp``), and optionally a status per layer name
    (a diff's changes, verify's checks) to colour by instead. ``layers``: the records, for a
    page whose JSON does not hold them (a report's does)."""
    fields = GRAPH_FIELDS + tuple(f for f, _, _ in _columns(report))
    out: dict[str, Any] = {
        "metrics": _columns(report),
        "parts": {t: L.name for L in report.graph.layers for t, _ in L.outputs() if t != L.name},
        "input": list(report.graph.input_shape),
    }
    if layers is not None:
        out["layers"] = [{k: r[k] for k in fields if k in r} for r in layers]
    if status is not None:
        out["status"] = status
    return out


def layer_table(report, records: list[dict], id: str = "layers") -> Table:
    """Every layer, sortable by any column and filterable by kind and name."""
    c = compute(report.convention)
    total = c.of(report) or 1
    columns = [Column("#", "index"), Column("layer", "name"), Column("kind", "kind"), Column("type", "type"),
               Column("block", "block"), Column("k", "kernel"), Column("s", "stride"), Column("groups", "groups"),
               Column("act", "activation"), Column("input", "input_shape"), Column("output", "output_shape")]
    columns += [Column(m.label, m.field, m.description) for m in shown(report.convention)]
    columns.append(Column(OUTPUT_BYTES[1], OUTPUT_BYTES[0], OUTPUT_BYTES[2]))
    if report.device is not None:
        columns += [Column("latency (ms)", LATENCY.field, LATENCY.description),
                    Column("bound", "bound", "memory when its memory term exceeds its compute and activation terms")]
    columns.append(Column(f"% {c.label}", "share", f"the layer's share of the network's {c.noun}"))
    columns.append(Column("inputs", "inputs", "the layers it reads (from:)"))  # last: the longest text
    rows = [{**r, "index": i + 1, "share": round(100 * r[c.field] / total, 2)} for i, r in enumerate(records)]
    return Table.of(id, columns, rows, attrs=lambda r: {"layer": r["name"], "name": r["name"], "kind": r["kind"]},
                    filters=[("kind", "kind")])


def memory(report, body: dict[str, Any]) -> dict[str, Any]:
    """The live bytes at every step of the file's order, and of the best order when it is
    better (the one ``memory.best_order`` in the JSON names): what the timeline draws."""
    if not report.layers:
        return {}
    act = report.layers[0].act_bytes
    elements = report.tensor_elements()
    chunks = report.convention.chunks

    def order(steps) -> dict[str, Any]:
        peak = max(range(len(steps)), key=lambda i: steps[i][1])
        return {"steps": [{"layers": list(s.layers), "alive": list(s.alive), "bytes": n} for s, n in steps],
                "peak": steps[peak][1], "peak_step": peak}

    out = {"file": order(timeline(report.graph, elements, chunks, times=act))}
    best = body["memory"]["best_order"]
    if best["peak_activation_bytes"] < report.peak_activation_bytes:
        out["best"] = {**order(timeline(report.graph, elements, chunks, best["order"], act)), "exact": best["exact"]}
    shapes = {"input": report.graph.input_shape}
    for r in report.layers:
        shapes[r.name] = r.output_shape
        shapes.update({t: r.output_shape[:2] + (c,) for t, c in r.layer.outputs() if t != r.name})
    alive = {t for o in out.values() for s in o["steps"] for t in s["alive"]}
    out["tensors"] = {t: {"shape": list(shapes[t]), "bytes": elements[t] * act} for t in sorted(alive)}
    return out


# --- report ---------------------------------------------------------------------------------

def report_html(report, **_) -> str:
    check_rows(len(report.layers), "layers")
    body = report_dict(report)
    mem = memory(report, body)
    kinds = Table.of("types", [Column("type", "type"), Column("mult-adds", "madds"), Column("% mult-adds", "madds_pct"),
                               Column("params", "params"), Column("% params", "params_pct")],
                     [{**k, "madds_pct": round(100 * k["madds_share"], 2), "params_pct": round(100 * k["params_share"], 2)}
                      for k in body["by_kind"]], attrs=lambda k: {"name": k["type"]})
    return html_page("report", body, title(report), extra={"graph": graph(report), "memory": mem},
                head=header(report), layers=layer_table(report, body["layers"]), kinds=kinds, memory=mem,
                device=device_dict(report.device, report.layers) if report.device else None)


# --- sweep ----------------------------------------------------------------------------------

def sweep_html(sweep, **_) -> str:
    from ...analyses.accuracy import top1_model
    from ..sweep import _metrics, sweep_dict

    check_rows(len(sweep), "configurations")
    body = sweep_dict(sweep)
    model = top1_model(sweep.architecture)
    top1 = []
    for p in sweep.points if model else ():
        # the published grid is square inputs of the family's own depth: nothing to say elsewhere
        e = model.expected(p.alpha, p.resolution[0], p.madds) \
            if p.resolution[0] == p.resolution[1] and p.depth == 1 else None
        top1.append(None if e is None else {"top1": e.top1, "method": e.method, "checkpoint": e.checkpoint})
    # axes say what they count (noun) and in what (ms); columns are the report's headers
    quantities = [(m.field, m.noun, "ms" if m.unit == "ms" else "") for m in _metrics(sweep)]
    if any(top1):
        quantities.append(("top1", "expected top-1", "%"))
    keys = ["alpha"] + (["rho"] if sweep.by_rho else []) + ["resolution"] + (["depth"] if sweep.by_depth else [])
    records = [{**row, "top1": t and t["top1"], "method": t and t["method"]}
               for row, t in zip(body["rows"], top1 or [None] * len(body["rows"]))]
    columns = [Column({"alpha": "α", "rho": "ρ"}.get(k, k), k) for k in keys]
    columns += [Column(BY_FIELD[f].label + (f" ({unit})" if unit else ""), f, BY_FIELD[f].description)
                for f, _, unit in quantities if f != "top1"]
    if any(top1):
        columns += [Column("top-1 (%)", "top1", "expected ImageNet top-1 (mbcost.analyses.accuracy)"),
                    Column("top-1 from", "method", "published: a TF-slim checkpoint; otherwise how it was interpolated")]
    grid = Table.of("grid", columns, records,
                    attrs=lambda r: {"name": f"α {r['alpha']:g} {shape_text(r['resolution'])}",
                                     "alpha": f"{r['alpha']:g}", "resolution": shape_text(r["resolution"])},
                    filters=[("alpha", "α"), ("resolution", "resolution")])
    # one curve per the key that varies least (a curve per α along the resolutions, as mbcost
    # plot draws them); when only one key varies, a single curve along it
    distinct = {k: len({str(r[k]) for r in body["rows"]}) for k in keys}
    varying = [k for k in keys if distinct[k] > 1]
    still = [k for k in keys if distinct[k] == 1]
    first = min(varying, key=distinct.get) if len(varying) > 1 or not still else still[0]
    groups = [first] + [k for k in keys if k != first]
    return html_page("sweep", body, f"{sweep.architecture}: a sweep of {len(sweep):,} configurations",
                extra={"quantities": quantities, "top1": top1 or None, "groups": groups,
                       "log": ["madds", "flops", LATENCY.field]},  # log x by default, as mbcost plot draws them
                grid=grid, published=any(t and t["method"] == "published" for t in top1), described=sweep.convention.describe(sweep.classes), count=len(sweep),
                alphas=sorted({fmt_alpha(a) for a in sweep.alphas}, key=float),
                resolutions=[shape_text(r) for r in sweep.resolutions])


# --- diff -----------------------------------------------------------------------------------

def diff_html(d, **_) -> str:
    from ..diff import diff_dict

    check_rows(len(d.layers), "layers")
    body = diff_dict(d)
    side = {"a": {x.a.name: x.status for x in d.layers if x.a is not None},
            "b": {x.b.name: x.status for x in d.layers if x.b is not None}}
    metrics = [m for m in METRICS.values() if m.field in body["totals"]]
    columns = [Column("status", "status"), Column("A", "a"), Column("B", "b"), Column("kind", "kind")]
    for m in (compute(d.b.convention), METRICS["params"], METRICS["peak_memory"]):
        columns += [Column(f"{m.label} A", f"{m.field}/a"), Column(f"{m.label} B", f"{m.field}/b"),
                    Column(f"Δ {m.label}", f"{m.field}/delta", f"B − A, {m.noun}")]
    columns.append(Column("what changed", "changes"))
    records = body["layers"]  # every aligned position; the status filter picks
    table = Table.of("changes", columns, records,
                     attrs=lambda r: {"name": " ".join(n for n in (r["a"], r["b"]) if n), "status": r["status"],
                                      "a": r["a"] or "", "b": r["b"] or ""}, filters=[("status", "status")])
    totals = [(m.label, body["totals"][m.field], m.unit) for m in metrics]
    return html_page("diff", body, f"diff: {d.a.architecture} → {d.b.architecture}",
                extra={"a": graph(d.a, report_dict(d.a)["layers"], side["a"]),
                       "b": graph(d.b, report_dict(d.b)["layers"], side["b"]),
                       "waterfall": [(m.field, m.label) for m in metrics]},
                a=header(d.a), b=header(d.b), totals=totals, changes=table, shown=len(records))


# --- compare, verify, check, reproduce ----------------------------------------------------------

def compare_html(c, **_) -> str:
    from ..compare import compare_dict

    body = compare_dict(c)
    columns = [Column("profile", "profile"), Column("tool", "tool"), Column("unit", "unit"), Column("total", "total"),
               Column("paper", "paper"), Column("Δ vs paper", "delta"), Column("Δ %", "pct"),
               Column("includes", "formula"), Column("reads", "reads"), Column("source", "source")]
    records = [{**p, "pct": None if p["delta_ratio"] is None else round(100 * p["delta_ratio"], 2)}
               for p in body["profiles"]]
    table = Table.of("profiles", columns, records, attrs=lambda p: {"name": p["profile"], "unit": p["unit"]},
                     filters=[("unit", "unit")])
    elements = Table.of("elements", [Column("what", "what"), Column("elements", "n")],
                        [{"what": k, "n": v} for k, v in body["elements"].items() if not isinstance(v, dict)],
                        attrs=lambda e: {"name": e["what"]})
    return html_page("compare", body, f"{c.report.architecture}: what each counter counts", libraries=("chart",),
                head=header(c.report), profiles=table, elements=elements)


def verify_html(v, **_) -> str:
    from ...analyses.verify import verification_dict

    body = {**verification_dict(v), **setting(v.report)}
    status = {n: "unchecked" for n in body["unchecked"]}
    for p in body["pairs"]:
        status[p["depthwise"]] = status[p["pointwise"]] = "ok" if p["ok"] else "failed"
    for b in body["bottlenecks"]:
        status.update(dict.fromkeys(b["layers"], "ok" if b["ok"] else "failed"))
    pairs = Table.of("pairs", [Column("depthwise", "depthwise"), Column("pointwise", "pointwise"), Column("M", "M"),
                               Column("N", "N"), Column("D_K", "K"), Column("D_F", "D_F"),
                               Column("separable", "separable_madds"), Column("standard", "standard_madds"),
                               Column("ratio", "ratio"), Column("1/N + 1/D_K²", "formula"), Column("exact", "ok")],
                     body["pairs"], attrs=lambda p: {"name": f"{p['depthwise']} {p['pointwise']}",
                                                     "ok": "ok" if p["ok"] else "failed"}, filters=[("ok", "result")])
    blocks = Table.of("bottlenecks", [Column("block", "block"), Column("t", "t"), Column("d′", "d_in"),
                                      Column("d″", "d_out"), Column("k", "K"), Column("s", "stride"),
                                      Column("in", "input_size"), Column("out", "output_size"),
                                      Column("engine", "madds"), Column("general", "general_madds"),
                                      Column("paper", "paper_madds"), Column("note", "note"), Column("exact", "ok")],
                      body["bottlenecks"], attrs=lambda b: {"name": b["block"], "ok": "ok" if b["ok"] else "failed"},
                      filters=[("ok", "result")])
    return html_page("verify", body, f"verify {v.architecture}", libraries=("dagre",),
                extra={"graph": graph(v.report, report_dict(v.report)["layers"], status)},
                head=header(v.report), pairs=pairs, blocks=blocks)


def check_html(run, **_) -> str:
    from ..check import check_dict

    body = check_dict(run)
    layers = sum(len(r.report.layers) for r in run.results)
    detail = layers <= 20_000  # each entry's layers and graph; past it the page keeps the verdicts only
    entries, extra = [], []
    for i, (r, d) in enumerate(zip(run.results, body["budgets"])):
        records = report_dict(r.report)["layers"] if detail else None
        entries.append({"id": f"entry-{i + 1}", "budget": d, "head": header(r.report),
                        "layers": layer_table(r.report, records, id=f"layers-{i + 1}") if detail else None})
        extra.append(graph(r.report, records) if detail else None)
    summary = Table.of("entries", [Column("", "mark"), Column("entry", "label", link="anchor"), Column("architecture", "architecture"),
                                   Column("α", "alpha"), Column("input", "resolution"), Column("checks", "checks"),
                                   Column("over budget", "over")],
                       [{**d, "mark": "?" if r.unjudged else "✓" if d["ok"] else "✗", "checks": len(d["results"]), "anchor": f"#entry-{i + 1}",
                         "over": ", ".join(o["metric"] for o in d["results"] if not o["ok"])}
                        for i, (r, d) in enumerate(zip(run.results, body["budgets"]))],
                       attrs=lambda d: {"name": d["label"], "ok": "pass" if d["ok"] else "fail"},
                       filters=[("ok", "verdict")])
    return html_page("check", body, f"mbcost check: {f'{len(run.unjudged)} PARTIAL, not checked' if run.unjudged else 'all within budget' if run.ok else f'{len(run.failures)} over budget'}",
                extra={"entries": extra}, libraries=("dagre",), summary=summary, entries=entries, detail=detail,
                layer_count=layers)


def reproduce_html(outcomes, **_) -> str:
    from ...analyses.reproduce import results_dict

    body = results_dict(outcomes)
    columns = [Column("status", "status"), Column("source", "source"), Column("table", "table"),
               Column("row", "label"), Column("architecture", "architecture"), Column("α", "alpha"),
               Column("R", "resolution"), Column("quantity", "quantity"), Column("published", "published"),
               Column("unit", "unit"), Column("ours", "ours_in_unit"), Column("ours (exact)", "ours"),
               Column("match", "match"), Column("explained", "explained")]
    table = Table.of("entries", columns, body["entries"],
                     attrs=lambda e: {"name": f"{e['label']} {e['table']} {e['architecture']}", "status": e["status"],
                                      "source": e["source"]},
                     filters=[("status", "status"), ("source", "source")])
    s = body["summary"]
    return html_page("reproduce", body, f"mbcost reproduce: {s['matched']} match, {s['explained']} explained, "
                f"{s['unexplained']} unexplained, {s['stale']} stale", libraries=(), entries=table)


__all__ = ["report_html", "sweep_html", "diff_html", "compare_html", "verify_html", "check_html", "reproduce_html",
           "exact"]
