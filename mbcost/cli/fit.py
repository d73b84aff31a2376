"""``mbcost fit``: the (α, resolution) of ARCH that fit every limit, best expected top-1 first."""
from __future__ import annotations

from typing import Annotated, Optional

import typer

from ..core.metrics import METRICS
from ..errors import UsageError
from .app import app
from .check import with_limits
from .options import (Arch, COUNTING, ConventionFlags, Device, Output, choose_format, convention_options,
                      device, model, output_format, write)


@app.command(epilog="Examples:\n\n"
             "  mbcost fit mobilenet_v2 --max-madds 150M\n\n"
             "  mbcost fit mobilenet_v2 --max-madds 300M --max-params 3M --format csv -o fits.csv\n\n"
             "  mbcost fit mobilenet_v1 --max-madds 200M --alpha 0.25:1:0.05 --resolution 128:224:16\n\n"
             "  mbcost fit mobilenet_v2 --max-latency 30 --device pixel1 --max-params 3M\n\n"
             "Candidates: the family's published TF-slim widths × resolutions 96:224:32 unless --alpha / "
             "--resolution give a grid. Only configurations within every limit are listed, and only those "
             "no other listed configuration beats on every limited metric and expected top-1. Expected top-1: "
             "published where TF-slim released the checkpoint, else interpolated (docs/fit.md).")
@with_limits
@convention_options(*COUNTING)
def fit(
    arch: Arch,
    alpha: Annotated[Optional[str], typer.Option(
        "--alpha", "-a", help="Candidate widths α: a list 1,0.75,0.5 and/or ranges 0.25:1.4:0.05.",
        show_default="the family's published α")] = None,
    resolution: Annotated[Optional[str], typer.Option(
        "--resolution", "-r", help="Candidate resolutions: a list 224,192 and/or ranges 96:224:16.",
        show_default="96:224:32")] = None,
    fmt: output_format("fit") = None,
    output: Output = None,
    device_name: Device = None,
    counting: ConventionFlags = None,
    limits: dict | None = None,
) -> None:
    """The Pareto set of (α, resolution) of ARCH within every limit: ranked by expected ImageNet top-1 where the family's accuracies are published, else by the largest cost under budget."""
    from ..analyses.budget import parse_limits
    from ..analyses.fit import fit as run_fit

    conv = counting.convention()
    fmt = choose_format("fit", fmt, output)
    given = {m: v for m, v in limits.items() if v is not None}
    parsed = parse_limits(given, conv, field=lambda m: METRICS[m].flag)
    if not parsed:
        raise UsageError(f"nothing to fit: give {' or '.join(m.flag for m in METRICS.values())}", field=arch)
    write("fit", fmt, run_fit(model(arch), parsed, alphas=alpha, resolutions=resolution, convention=conv,
                              device=device(device_name)), output)
