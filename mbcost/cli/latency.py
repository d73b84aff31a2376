"""``mbcost latency fit``: calibrate a roofline latency profile to your own measurements."""
from __future__ import annotations

import enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from ..errors import UsageError
from .app import app
from .options import Output, check_output, choose_format, output_format, write


class Action(str, enum.Enum):
    fit = "fit"


class Variant(str, enum.Enum):
    roofline = "roofline"
    roofline_dw = "roofline+dw"
    roofline_overhead = "roofline+overhead"
    full = "full"


@app.command(epilog="Examples:\n\n"
             "  mbcost latency fit measured.csv\n\n"
             "  mbcost latency fit measured.csv --variant roofline+dw --name mydevice --save mydevice.yaml\n\n"
             "  mbcost report mobilenet_v2 --device mydevice.yaml\n\n"
             "measured.csv has a header and the columns arch, alpha, resolution, ms (arch: a built-in name or a "
             "path relative to the CSV). The fit minimizes squared log-ratio errors; leave-one-out refits without "
             "each measurement and predicts it. Variants: roofline (rate, bandwidth), roofline+dw (+ a depthwise "
             "rate), roofline+overhead (+ µs per layer), full (all four).")
def latency(
    action: Annotated[Action, typer.Argument(help="fit: fit a profile to a CSV of measurements.")],
    measured: Annotated[Path, typer.Argument(help="CSV with columns arch, alpha, resolution, ms.",
                                             dir_okay=False, show_default=False)],
    variant: Annotated[Variant, typer.Option("--variant", help="Which roofline constants are free.")] = Variant.roofline,
    name: Annotated[str, typer.Option("--name", help="The profile's name.")] = "fitted",
    save: Annotated[Optional[Path], typer.Option("--save", metavar="FILE", dir_okay=False, show_default=False,
                                                 help="Write the fitted profile as YAML, for --device FILE.")] = None,
    fmt: output_format("latency") = None,
    output: Output = None,
) -> None:
    """Fit a device's roofline latency profile (at most 4 constants) to measured latencies, and report its leave-one-out error."""
    from ..analyses.latency import fit_profile, read_measurements
    from .io import write_atomic

    fmt = choose_format("latency", fmt, output)
    check_output(save)
    if save is not None and save.suffix.lower() not in (".yaml", ".yml"):
        raise UsageError(f"expected a .yaml file, got {str(save)!r}", field="--save")
    rows = read_measurements(measured)
    result = fit_profile(rows, variant.value, name=name, source=f"mbcost latency fit {measured}")
    if save is not None:
        write_atomic(save, result.yaml())
    write("latency", fmt, result, output)
