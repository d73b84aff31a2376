"""``mbcost sweep``: totals over a grid of width multipliers α and resolutions (or ρ)."""
from __future__ import annotations

import enum
from typing import Annotated, Optional

import typer

from .app import app
from .options import (Arch, COUNTING, ConventionFlags, Device, MEMORY, Output, choose_format,
                      convention_options, device, model, output_format, write)


class PivotOn(str, enum.Enum):
    madds = "madds"
    params = "params"


Alphas = Annotated[Optional[str], typer.Option(
    "--alpha", "-a", help="Width multipliers α: a list 1,0.75,0.5 and/or ranges start:stop:step "
    "(0.25:2.0:0.05, stop included).", show_default="1.0, or the variant's")]
Resolutions = Annotated[Optional[str], typer.Option(
    "--resolution", "-r", help="Input resolutions R in pixels: a list 224,192,160 and/or ranges 96:320:8.",
    show_default="the file's own")]
Depths = Annotated[Optional[str], typer.Option(
    "--depth", "-d", help="Depth multipliers d (a list and/or ranges, 1,1.1,1.2 or 1:2:0.1): a depth axis; "
    "every stage (a row that states n) repeats ⌈n·d⌉ times.", show_default="1.0, or the variant's")]
Rhos = Annotated[Optional[str], typer.Option(
    "--rho", help="Resolution multipliers ρ instead of --resolution: R = round(ρ × the file's resolution).",
    show_default=False)]


@app.command(epilog="Examples:\n\n"
             "  mbcost sweep mobilenet_v1 --alpha 1,0.75,0.5,0.25 --resolution 224,192,160,128\n\n"
             "  mbcost sweep mobilenet_v2 --alpha 0.35:1.4:0.05 --resolution 96:224:32 --format csv -o grid.csv\n\n"
             "  mbcost sweep mobilenet_v1 -a 1,0.5 -r 224,160 --format latex --pivot params\n\n"
             "  mbcost sweep mobilenet_v2 -a 0.35,0.5,0.75,1 -r 96:224:32 --device pixel1 -f csv   # + latency_ms\n\n"
             "table, md and latex show α rows × resolution columns (rounded, unit in the header); "
             "csv and json have one row per configuration with exact integers.")
@convention_options(*COUNTING, *MEMORY)
def sweep(
    arch: Arch,
    alpha: Alphas = None,
    resolution: Resolutions = None,
    rho: Rhos = None,
    depth: Depths = None,
    fmt: output_format("sweep") = None,
    output: Output = None,
    pivot_on: Annotated[PivotOn, typer.Option("--pivot", help="The quantity in the α × resolution grid of "
                                              "table, md and latex (mult-adds also get a params column when "
                                              "parameters do not depend on the resolution).")] = PivotOn.madds,
    device_name: Device = None,
    counting: ConventionFlags = None,
) -> None:
    """Mult-adds and parameters of ARCH at every (α, resolution) of a grid — the width × resolution tables of the MobileNet papers, for any file and counting convention."""
    from ..analyses.sweep import grid as sweep_grid
    from . import io

    conv = counting.convention()
    fmt = choose_format("sweep", fmt, output)
    with io.progress(f"sweep {arch}") as step:  # a bar at a terminal, for hundreds of α
        grid = sweep_grid(model(arch), alphas=alpha, resolutions=resolution, rhos=rho, convention=conv, depths=depth,
                          device=device(device_name), progress=step)
    write("sweep", fmt, grid, output, pivot_on=pivot_on.value)
