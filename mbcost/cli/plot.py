"""``mbcost plot``: figures for papers — a sweep as curves, per-layer bars, a diff as a waterfall."""
from __future__ import annotations

import enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from ..errors import UsageError
from .app import app
from .options import ConventionFlags, Device, check_output, convention_options, device, model


class Kind(str, enum.Enum):
    sweep = "sweep"
    layers = "layers"
    diff = "diff"


class Quantity(str, enum.Enum):
    madds = "madds"
    params = "params"
    latency = "latency"
    top1 = "top1"


class By(str, enum.Enum):
    alpha = "alpha"
    resolution = "resolution"


@app.command(epilog="Examples:\n\n"
             "  mbcost plot sweep mobilenet_v2 -o accuracy_vs_madds.svg     # top-1 vs mult-adds, one curve per α\n\n"
             "  mbcost plot sweep mobilenet_v2 --x latency --device pixel1 --by resolution -o fig.pdf\n\n"
             "  mbcost plot layers mobilenet_v1 --metric madds -o v1_layers.png   # V1 Table 2 as a picture\n\n"
             "  mbcost plot diff mobilenet_v1 mobilenet_v1_shallow -o shallow.svg\n\n"
             "The format follows --output's extension: .png (300 dpi), .svg or .pdf. sweep defaults to the "
             "family's published α × 96:224:32 and plots expected top-1 (published TF-slim points circled). "
             "Needs matplotlib: pip install 'mbcost[plot]'.")
@convention_options("profile", "classes", "bias", "bn")
def plot(
    kind: Annotated[Kind, typer.Argument(help="sweep (curves), layers (bars per layer) or diff (waterfall A → B).")],
    arch: Annotated[str, typer.Argument(help="A built-in name (mobilenet_v2) or an architecture YAML file.",
                                        show_default=False)],
    arch_b: Annotated[Optional[str], typer.Argument(metavar="[B]", show_default=False,
                                                   help="diff only: side B.")] = None,
    output: Annotated[Optional[Path], typer.Option("--output", "-o", dir_okay=False, show_default=False,
                                                   help="The figure file: .png, .svg or .pdf.")] = None,
    alpha: Annotated[Optional[str], typer.Option("--alpha", "-a", show_default="sweep: the family's published α; "
                                                 "else 1.0", help="α (a list or range start:stop:step for sweep).")] = None,
    resolution: Annotated[Optional[str], typer.Option("--resolution", "-r", show_default="sweep: 96:224:32; "
                                                      "else the file's", help="Resolution(s).")] = None,
    x: Annotated[Quantity, typer.Option("--x", help="sweep: the horizontal axis.")] = Quantity.madds,
    y: Annotated[Optional[Quantity], typer.Option("--y", help="sweep: the vertical axis.",
                                                  show_default="top1 where published, else params")] = None,
    by: Annotated[By, typer.Option("--by", help="sweep: one curve per α or per resolution.")] = By.alpha,
    metric: Annotated[Quantity, typer.Option("--metric", help="layers and diff: the quantity per layer.")] = Quantity.madds,
    device_name: Device = None,
    counting: ConventionFlags = None,
) -> None:
    """Draw a paper-ready figure of ARCH: a sweep's curves, its per-layer bars by layer type, or the per-layer waterfall from ARCH to B."""
    from ..render import plot as figures

    if output is None:
        raise UsageError("give the figure file: --output FILE.png, .svg or .pdf", field="--output")
    check_output(output)  # the folder and the file; the extension once the architecture is read
    if arch_b is not None and kind is not Kind.diff:
        raise UsageError(f"a second architecture is only for 'plot diff', got {arch_b!r}", field="B")
    conv = counting.convention()
    dev = device(device_name)
    if Quantity.latency in ((x, y, metric) if kind is Kind.sweep else (metric,)) and dev is None:
        raise UsageError("latency needs a device profile: give --device NAME (e.g. pixel1)", field="--device")
    if kind is Kind.sweep:
        from ..analyses.accuracy import top1_model
        from ..analyses.fit import candidates
        from ..analyses.sweep import grid

        spec = model(arch)
        alphas, resolutions = candidates(spec, alpha, resolution)
        g = grid(spec, alphas, resolutions, convention=conv, device=dev)
        yq = y.value if y is not None else ("top1" if top1_model(spec.name) else "params")
        fig = figures.sweep_figure(g, x.value, yq, by.value)
    elif kind is Kind.layers:
        from ..core.engine import analyze

        if metric is Quantity.top1:
            raise UsageError("top-1 belongs to a network, not a layer: choose madds, params or latency",
                             field="--metric")
        fig = figures.layers_figure(analyze(model(arch), alpha=alpha or "1.0", resolution=resolution, convention=conv,
                                            device=dev), metric.value)
    else:
        from ..analyses.diff import diff_reports
        from ..core.engine import analyze

        if arch_b is None:
            raise UsageError("plot diff needs two architectures: A and B", field="B")
        a = analyze(model(arch), alpha=alpha or "1.0", resolution=resolution, convention=conv)
        b = analyze(model(arch_b), alpha=alpha or "1.0", resolution=resolution, convention=conv)
        fig = figures.diff_figure(diff_reports(a, b), metric.value)
    from .io import write_atomic

    # refuses an extension other than .png, .svg, .pdf before writing; then the one writer
    write_atomic(output, figures.figure_bytes(fig, output))
