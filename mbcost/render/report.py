"""``mbcost report`` as text: a table for people; JSON, CSV, Markdown and LaTeX to keep.

Counts are exact integers in every machine format; only the terminal table abbreviates them
(568.7M, 4.21M). Columns come from the metric registry (:mod:`mbcost.core.metrics`), and every
saved output says what was counted: α, the input as H×W, the full convention.
"""
from __future__ import annotations

from typing import Any, Iterator

from ..core.elements import COUNTS, elements
from ..core.engine import Report
from ..core.graph import layout
from ..core.kinds import kernel_text, kind_of, type_label
from ..core.metrics import METRICS, present, shown
from ..core.multipliers import fmt_alpha
from .text import csv_writer, human, latex_table, md_table, printable, shape_text, square, text_table


def setting(report: Report) -> dict[str, Any]:
    """What was counted — the fields every machine-readable output of a report starts with."""
    return {"architecture": report.architecture, "source": report.source,
            "alpha": float(report.alpha), "alpha_exact": str(report.alpha),
            "resolution": list(report.resolution),
            "convention": report.convention.to_dict(report.classes),
            # an imported model with ops mbcost does not cost (--allow-unknown): totals leave them out
            "partial": report.partial, "not_costed": sorted(set(report.graph.unknown))}


def partial_note(report: Report) -> str:
    """What a title (and the totals) say of a partial result: '  ·  PARTIAL, not costed: Foo ×2, Bar'."""
    return f"  ·  PARTIAL, not costed: {printable(report.not_costed)}" if report.partial else ""


def title(report: Report) -> str:
    return (f"{printable(report.architecture)}  α = {fmt_alpha(report.alpha)}  "
            f"{shape_text(report.resolution)} input  ·  {report.convention.describe(report.classes)}"
            + partial_note(report))


# --- machine formats --------------------------------------------------------------------------

def report_dict(report: Report) -> dict[str, Any]:
    """The JSON contract of ``mbcost report`` (README, "Output formats"; CHANGELOG.md)."""
    return {
        **setting(report),
        "totals": {m.field: m.of(report) for m in present(report)},
        "layers": [
            {
                "name": r.layer.name,
                "kind": r.layer.kind,
                "type": type_label(r.layer),
                "block": r.layer.block,
                "kernel": square(r.layer.k),
                "stride": square(r.layer.s),
                "groups": r.layer.groups,
                "activation": r.layer.act,
                "inputs": list(r.layer.inputs),
                "input_shapes": [list(s) for s in r.input_shapes],
                "input_shape": list(r.input_shape),
                "output_shape": list(r.output_shape),
                "layout": layout(r.output_shape),
                "runs": r.layer.times,  # runs per inference (a block's times: once per proposal)  # map (H, W, C), tokens (N, S, C), scores (N_q·S, N_kv, heads)
                **{m.field: m.of(r) for m in present(report)},
                **({"bound": "memory" if r.memory_bound else "compute"} if report.device else {}),
                # what a counter other than the papers' may multiply (docs/peers.md)
                "elements": elements(r).to_dict(),
                "output_elements": r.output_elements,
                "output_bytes": r.output_bytes,
                "input_bytes": r.input_bytes,
                "alive": list(r.alive),
            }
            for r in report.layers
        ],
        "memory": memory_dict(report),
        # an imported model's parameters: counted, stored in the file, the module's (and why they differ)
        **({"parameters": stored_dict(report)} if report.graph.stored is not None else {}),
        **({"device": device_dict(report.device, report.layers)} if report.device else {}),
        "by_kind": [
            {"type": k.type, "madds": k.madds, "params": k.params,
             "madds_share": k.madds_share, "params_share": k.params_share}
            for k in report.by_kind()
        ],
    }


def device_dict(device, layers=()) -> dict[str, Any]:
    """The latency profile the layers were timed with, and the classes of theirs it never saw."""
    from .latency import device_dict as profile_dict

    return {**profile_dict(device), "warnings": device.warnings(layers)}


def memory_dict(report: Report) -> dict[str, Any]:
    """Where the peak is, what is alive there, and the best execution order found."""
    best = report.best_order()
    act = report.layers[0].act_bytes if report.layers else 4
    return {"order": "file", "peak_layer": report.peak_layer.name if report.layers else None,
            "alive": list(report.peak_layer.alive) if report.layers else [],
            "best_order": {"peak_activation_bytes": best.peak * act, "exact": best.exact,
                           "order": list(best.order)}}


def report_json(report: Report, **_) -> Iterator[str]:
    from .formats import json_chunks

    return json_chunks("report", report_dict(report))


# the per-layer element counts of mbcost.core.elements (its macs are the madds column)
ELEMENT_COLUMNS = tuple(f"elements_{name.removesuffix('_elements')}" for name in COUNTS if name != "macs")
CSV_COLUMNS = ("architecture", "alpha", "resolution", "convention", "name", "kind", "kernel",
               "stride", "groups", "activation", "inputs", "input_shape", "output_shape")


def report_csv(report: Report, **_) -> str:
    """One row per layer; each row carries α, the input H×W and the convention, so it can be
    traced without its file name."""
    import io

    buf = io.StringIO()
    w = csv_writer(buf)
    metrics = present(report)
    # a partial result (ops not costed) says so in every row, as each row says what was counted
    partial = ("partial", "not_costed") if report.partial else ()
    w.writerow(CSV_COLUMNS[:4] + partial + CSV_COLUMNS[4:] + tuple(m.field for m in metrics) +
               (("bound",) if report.device else ()) + ("pool",) + ELEMENT_COLUMNS)
    head = [report.architecture, fmt_alpha(report.alpha), shape_text(report.resolution, "x"),
            report.convention.tag(report.classes)] + (["PARTIAL", report.not_costed] if report.partial else [])
    for r in report.layers:
        L, e = r.layer, elements(r)
        w.writerow(head + [L.name, L.kind, "x".join(map(str, L.k)), "x".join(map(str, L.s)), L.groups,
                           L.act, " ".join(L.inputs), "x".join(map(str, r.input_shape)),
                           "x".join(map(str, r.output_shape))] + [m.of(r) for m in metrics] +
                  (["memory" if r.memory_bound else "compute"] if report.device else []) +
                  [e.pool] + [getattr(e, name) for name in COUNTS if name != "macs"])
    return buf.getvalue()


# --- tables -------------------------------------------------------------------------------------

def _layer_rows(report: Report, exact: bool) -> tuple[list[str], list[list[str]], set[int]]:
    metrics = shown(report.convention)
    compute = metrics[0]
    total = compute.of(report) or 1
    fmt = (lambda n, d=1: f"{n:,}") if exact else human
    headers = ["layer", "kind", "act", "input", "output", "k /s"] + [m.label for m in metrics] + \
        [f"% {compute.label}"]
    rows = [[r.layer.name, r.layer.kind, r.layer.act if kind_of(r.layer).shows_act else "",
             shape_text(r.input_shape), shape_text(r.output_shape), kernel_text(r.layer)] +
            [fmt(m.of(r), 2 if m.name == "params" else 1) for m in metrics] +
            [f"{100 * compute.of(r) / total:.2f}"] for r in report.layers]
    rows.append(["total", "", "", "", "", ""] +
                [fmt(m.of(report), 2 if m.name == "params" else 1) for m in metrics] + ["100.00"])
    if report.device is not None:  # each layer's time and which term bounds it
        headers += ["latency (ms)", "bound"]
        for row, r in zip(rows, report.layers):
            row += [f"{r.latency_ms:.3f}", "memory" if r.memory_bound else "compute"]
        rows[-1] += [f"{report.latency_ms:.3f}", ""]
    return headers, rows, set(range(3, len(headers))) - ({len(headers) - 1} if report.device else set())


def _kind_rows(report: Report) -> tuple[list[str], list[list[str]], set[int]]:
    rows = [[k.type, f"{k.madds:,}", f"{100 * k.madds_share:.2f}%", f"{k.params:,}",
             f"{100 * k.params_share:.2f}%"] for k in report.by_kind()]
    return ["type", "mult-adds", "% mult-adds", "params", "% params"], rows, {1, 2, 3, 4}


def stored_dict(report: Report) -> dict[str, Any] | None:
    """An imported model's two parameter counts beside the convention's, and what separates
    them (:class:`mbcost.core.graph.Stored`); None for an architecture file."""
    s = report.graph.stored
    if s is None:
        return None
    return {"counted": report.params, "file": s.elements, "module": report.module_params,
            "identity_copies": s.copies, "bn_statistics": s.unread, "folded_bn_channels": s.folded_bn,
            "why": stored_why(report)}


def stored_why(report: Report) -> str:
    """Why the counted, the file's and the module's parameters differ, in the report's numbers."""
    s = report.graph.stored
    said = []
    if s.copies:
        said.append(f"the file stores {s.copies:,} numbers once that Identity nodes copy to further layers "
                    "(torch's exporter deduplicates equal initializers), and each layer counts its copy")
    if s.unread:
        said.append(f"it holds {s.unread:,} BN running means and variances, which no convention counts")
    left = s.elements + s.copies - s.unread - report.params
    if left > 0:
        said.append(f"the {report.convention.name} convention leaves out {left:,} numbers (biases, BN parameters)")
    if s.folded_bn:
        said.append(f"the module has γ and β (2 numbers) for each of the {s.folded_bn:,} BN channels the export "
                    "folded into a conv's bias (1 number)")
    return "; ".join(said) if said else "the three agree"


def _totals_lines(report: Report) -> list[str]:
    out = [f"{report.madds:,} mult-adds ({human(report.madds)})  ·  "
           f"{report.params:,} parameters ({human(report.params, 2)})" + partial_note(report)]
    stored = stored_dict(report)
    if stored is not None:
        # a BN folded into a conv is recovered from torch's names only: where none is, say what is assumed
        how = "BN unfolded" if report.graph.stored.folded_bn else "if the export folded no BN into a conv"
        out.append(f"parameters  {stored['counted']:,} counted ({report.convention.name})  ·  {stored['file']:,} "
                   f"stored in the file  ·  {stored['module']:,} in the module (Σ numel, {how})")
        out.append(f"why  {stored['why']}")
    if report.convention.flops:
        flops = METRICS["flops"].of(report)
        out.append(f"FLOPs  {flops:,} ({human(flops)}) = 2 × mult-adds")
    if report.device is not None:
        d = report.device
        bound = [r for r in report.layers if r.memory_bound]
        share = sum(r.latency_ms for r in bound) / report.latency_ms if report.latency_ms else 0
        from .latency import device_line

        interval = f" ({d.interval_text})" if d.interval_text else ""
        out.append(f"latency  {report.latency_ms:.2f} ms{interval} on {device_line(d)}; "
                   f"{len(bound)} of {len(report.layers)} layers memory-bound, {100 * share:.0f}% of the time")
        out += [f"warning  {printable(w)}" for w in d.warnings(report.layers)]
    return out + memory_lines(report)


def memory_lines(report: Report) -> list[str]:
    """'memory  peak 6,021,120 B (6.0 MB, fp32) at block2.dw: …  ·  weights …', and the best
    order when it beats the file's."""
    if not report.layers:
        return []
    c, peak = report.convention, report.peak_layer
    shapes = {"input": report.graph.input_shape, **{r.name: r.output_shape for r in report.layers}}
    alive = ", ".join(f"{printable(t)} {shape_text(shapes[t])}" for t in peak.alive)
    chunked = f", bottlenecks in {c.chunks} chunks" if c.chunks else ""
    out = [f"memory  peak activations {report.peak_activation_bytes:,} B ({human(report.peak_activation_bytes)}B, "
           f"{c.act_dtype}{chunked}) at {printable(peak.name)}, alive: {alive}  ·  weights {report.weight_bytes:,} B "
           f"({human(report.weight_bytes)}B, {c.weight_dtype})"]
    best = report.best_order()
    if best.peak * peak.act_bytes < report.peak_activation_bytes:
        out.append(f"best order  peak {best.peak * peak.act_bytes:,} B "
                   f"({'exact' if best.exact else 'greedy, not proven least'}): {printable(' '.join(best.order))}")
    return out


KIND_TITLE = "by layer type (cf. MobileNetV1 paper, Table 2)"


def report_text(report: Report, styled: bool = False, **_) -> str:
    """The terminal report as plain text; ``styled`` adds ANSI bold to titles, headers and totals.

    No rich here on purpose: importing and rendering through rich costs more than the whole
    analysis, and a table piped to a file or a pager carries no styles anyway.
    """
    b = (lambda s: f"\x1b[1m{s}\x1b[0m") if styled else (lambda s: s)  # noqa: E731

    def block(heading, table, total_last=False):
        lines = text_table(*table)
        lines[0] = b(lines[0])
        if total_last:
            lines[-1] = b(lines[-1])
        return [b(heading)] + lines

    out = block(title(report), _layer_rows(report, exact=False), total_last=True)
    out += [""] + block(KIND_TITLE, _kind_rows(report))
    first, *rest = _totals_lines(report)
    out += ["", f"{b('total')}  {first}"] + [b(line.split("  ", 1)[0]) + "  " + line.split("  ", 1)[1]
                                            for line in rest]
    return "\n".join(out) + "\n"


def report_md(report: Report, **_) -> str:
    """GitHub Markdown: the setting as a paragraph, the layers and the by-type table, exact."""
    out = [f"**{title(report)}**", ""] + md_table(*_layer_rows(report, exact=True))
    out += ["", f"**{KIND_TITLE}**", ""] + md_table(*_kind_rows(report))
    out += [""] + [f"Total: {line}" for line in _totals_lines(report)]
    return "\n".join(out) + "\n"


def report_latex(report: Report, **_) -> str:
    """Two booktabs tables: per layer (exact counts) and by layer type (V1 Table 2's layout)."""
    headers, rows, right = _layer_rows(report, exact=True)
    label = f"{report.architecture}-{fmt_alpha(report.alpha)}-{report.resolution[0]}"
    layers = latex_table(headers, rows, caption=f"Per-layer cost of {title(report)}.",
                         label=f"{label}-layers", right=right, note=f"mbcost report {printable(report.architecture)}")
    kinds = latex_table(*_kind_rows(report)[:2], caption=f"Cost by layer type of {title(report)}.",
                        label=f"{label}-types", right={1, 2, 3, 4}, note=f"mbcost report {printable(report.architecture)}")
    return layers + "\n" + kinds
