"""Figures for papers (matplotlib, the Agg backend; PNG, SVG or PDF by the file's extension).

- :func:`sweep_figure`: a sweep as curves — mult-adds, params, latency or expected top-1
  against each other, one curve per α or per resolution, with TF-slim's published top-1
  marked where it ships (the papers' accuracy-vs-MAdds figures);
- :func:`layers_figure`: one bar per layer of any metric, coloured by layer type (the V1
  paper's Table 2 as a picture);
- :func:`diff_figure`: a waterfall of per-layer deltas from A's total to B's.

Sized for one column of a two-column paper (3.4 × 2.6 in at 300 dpi for PNG); every axis
carries its unit, and the title the architecture, α, resolution and convention. matplotlib is
an optional extra (``pip install mbcost[plot]``), imported only here.

Every string on a figure is plain text: layer, block and file names are the user's, and
matplotlib reads ``$…$`` as mathtext by default — ``$\\sqrt{$`` in a name crashed the run, and
``$x^2$`` was typeset instead of printed as written. :func:`pyplot` turns that parsing off
for every text object (``text.parse_math``), so no label can be forgotten; names pass through
:func:`~mbcost.render.text.printable` too (an ESC is invalid in SVG's XML).

A figure is rendered to bytes here (:func:`figure_bytes`); the CLI writes them through the
one atomic writer every output file uses (:func:`mbcost.cli.io.write_atomic`), so a symlink,
a FIFO or ``/dev/full`` behaves as for any other ``--output``.
"""
from __future__ import annotations

from pathlib import Path

from ..core.kinds import type_label
from ..core.metrics import METRICS
from ..core.multipliers import fmt_alpha
from ..errors import UsageError
from .text import printable

SIZE = (3.4, 2.6)  # inches: one column of a two-column paper
WIDE = (7.0, 2.8)  # both columns, for per-layer bars
DPI = 300
FORMATS = (".png", ".svg", ".pdf")

AXES = {  # quantity → (axis label with its unit, divisor)
    "madds": ("mult-adds (millions)", 1e6),
    "flops": ("FLOPs (millions)", 1e6),
    "params": ("parameters (millions)", 1e6),
    "latency": ("latency (ms)", 1.0),
    "top1": ("ImageNet top-1 (%)", 1.0),
}


def pyplot():
    try:
        import matplotlib
    except ImportError:
        raise UsageError("figures need matplotlib: pip install 'mbcost[plot]'", field="plot") from None
    matplotlib.use("Agg")
    matplotlib.rcParams.update({"font.size": 7, "axes.titlesize": 7, "legend.fontsize": 6,
                                "svg.fonttype": "none",  # text stays text in SVG (searchable, editable)
                                "pdf.fonttype": 42,
                                "text.parse_math": False,  # user text is never mathtext
                                "text.usetex": False})
    import matplotlib.pyplot as plt

    return plt


def figure_format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise UsageError(f"expected a figure file ending in {', '.join(FORMATS)}, got {str(path)!r}",
                         field="--output")
    return suffix[1:]


def _value(point, quantity: str, top1) -> float | None:
    if quantity == "top1":
        return None if top1 is None else top1.top1
    v = METRICS[quantity].of(point)
    return None if v is None else v / AXES[quantity][1]


def sweep_figure(sweep, x: str = "madds", y: str = "top1", by: str = "alpha"):
    """Curves of ``y`` against ``x`` over a sweep, one per α (``by='alpha'``) or resolution."""
    from ..analyses.accuracy import top1_model

    plt = pyplot()
    model = top1_model(sweep.architecture)
    if "top1" in (x, y) and not model:
        raise UsageError(f"no published accuracy for {printable(sweep.architecture)}: top-1 can be plotted for "
                         "mobilenet_v1 and mobilenet_v2", field="--y")
    fig, ax = plt.subplots(figsize=SIZE, layout="constrained")
    groups: dict = {}
    for p in sweep.points:
        groups.setdefault(p.alpha if by == "alpha" else p.resolution, []).append(p)
    published_x, published_y = [], []
    for key, pts in groups.items():
        xs, ys = [], []
        for p in sorted(pts, key=lambda q: (q.resolution, q.alpha)):
            e = model.expected(p.alpha, p.resolution[0], p.madds) if model and "top1" in (x, y) else None
            vx, vy = _value(p, x, e), _value(p, y, e)
            if vx is None or vy is None:
                continue
            xs.append(vx)
            ys.append(vy)
            if e is not None and e.method == "published":
                published_x.append(vx)
                published_y.append(vy)
        label = f"α = {fmt_alpha(key)}" if by == "alpha" else f"{key[0]}×{key[1]}"
        ax.plot(xs, ys, marker="o", markersize=2.5, linewidth=1, label=label)
    if published_x:
        ax.scatter(published_x, published_y, s=14, facecolors="none", edgecolors="black", linewidths=0.6,
                   zorder=3, label="published (TF-slim)")
    if x in ("madds", "flops", "latency"):
        ax.set_xscale("log")
    ax.set_xlabel(AXES[x][0])
    ax.set_ylabel(AXES[y][0])
    ax.grid(True, linewidth=0.3, alpha=0.5)
    ax.legend(loc="best", frameon=False)
    what = "per α" if by == "alpha" else "per resolution"
    ax.set_title(f"{printable(sweep.architecture)}, one curve {what}\n{sweep.convention.describe(sweep.classes)}")
    return fig


TYPE_COLOURS = {"Conv 3×3": "#4C72B0", "Conv DW 3×3": "#DD8452", "Conv 1×1": "#55A868", "Add": "#8172B3",
                "Pool": "#937860", "Fully Connected": "#C44E52"}


def _colour(label: str, seen: dict) -> str:
    if label not in TYPE_COLOURS and label not in seen:
        seen[label] = f"C{len(seen) + 6}"
    return TYPE_COLOURS.get(label) or seen[label]


def _metric_axis(metric: str) -> tuple[str, float]:
    return AXES[metric] if metric in AXES else (METRICS[metric].label, 1.0)


def _setting(report) -> str:
    return (f"{printable(report.architecture)}, α = {fmt_alpha(report.alpha)}, {report.resolution[0]}×{report.resolution[1]}"
            f"\n{report.convention.describe(report.classes)}" +
            (f" · {printable(report.device.name)}" if getattr(report, "device", None) else ""))


def layers_figure(report, metric: str = "madds"):
    """One bar per layer, coloured by layer type, with a legend of the types' shares."""
    plt = pyplot()
    m = METRICS[metric]
    if m.of(report) is None:
        raise UsageError(f"{m.noun} needs --device", field="--metric")
    label, div = _metric_axis(metric)
    fig, ax = plt.subplots(figsize=WIDE, layout="constrained")
    seen: dict = {}
    values = [m.of(r) / div for r in report.layers]
    types = [type_label(r.layer) for r in report.layers]
    ax.bar(range(len(values)), values, color=[_colour(t, seen) for t in types], width=0.8)
    total = m.of(report) or 1
    handles = []
    for t in dict.fromkeys(types):
        share = sum(m.of(r) for r in report.layers if type_label(r.layer) == t) / total
        handles.append(plt.Rectangle((0, 0), 1, 1, color=_colour(t, seen), label=f"{t} ({100 * share:.1f}%)"))
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    ax.set_xlabel("layer (network order)")
    ax.set_ylabel(label)
    ax.set_xlim(-0.8, len(values) - 0.2)
    ax.set_title(f"{m.noun} per layer: {_setting(report)}")
    return fig


def diff_figure(d, metric: str = "madds"):
    """A waterfall from A's total through each changed layer's delta to B's total."""
    plt = pyplot()
    if metric not in ("madds", "params"):
        raise UsageError(f"expected madds or params, got {metric!r}", field="--metric")
    label, div = _metric_axis(metric)
    deltas = [x for x in d.layers if x.delta(metric)]
    fig, ax = plt.subplots(figsize=WIDE, layout="constrained")
    start = d.total(metric, "a") / div
    ax.bar(0, start, color="#888888", width=0.8)
    level = start
    for i, x in enumerate(deltas, 1):
        v = x.delta(metric) / div
        ax.bar(i, v, bottom=level, width=0.8, color="#C44E52" if v > 0 else "#55A868")
        level += v
    end = d.total(metric, "b") / div
    ax.bar(len(deltas) + 1, end, color="#444444", width=0.8)
    names = ["A total"] + [printable(x.name) for x in deltas] + ["B total"]
    ax.set_xticks(range(len(names)), names, rotation=90, fontsize=4 if len(names) > 30 else 6)
    ax.set_ylabel(label)
    ax.legend(handles=[plt.Rectangle((0, 0), 1, 1, color="#C44E52", label="grew"),
                       plt.Rectangle((0, 0), 1, 1, color="#55A868", label="shrank")], frameon=False, loc="best")
    ax.set_title(f"{METRICS[metric].noun}, A → B\nA = {_setting(d.a).replace(chr(10), ' · ')}\n"
                 f"B = {_setting(d.b).replace(chr(10), ' · ')}", fontsize=6)
    return fig


def figure_bytes(fig, path: Path) -> bytes:
    """The figure as the bytes of the file ``path`` names (.png, .svg or .pdf), and closed.
    An extension other than those is refused before anything is drawn."""
    import io

    import matplotlib.pyplot as plt

    import warnings

    try:
        fmt = figure_format(path)
        buf = io.BytesIO()
        with warnings.catch_warnings():  # a layout matplotlib cannot fit (long names) is still drawn:
            warnings.simplefilter("ignore", UserWarning)  # stderr keeps only the one error line
            fig.savefig(buf, format=fmt, dpi=DPI, metadata={"Date": None} if fmt in ("svg", "pdf") else None)
        return buf.getvalue()
    finally:
        plt.close(fig)
