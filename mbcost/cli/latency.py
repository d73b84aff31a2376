"""``mbcost latency fit``: calibrate a per-op-class latency profile to your own measurements."""
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
    per_class = "per-class"
    scaled = "scaled"
    scaled_compute = "scaled-compute"


@app.command(epilog="Examples:\n\n"
             "  mbcost latency fit measured.csv --name myphone --save myphone.yaml\n\n"
             "  mbcost latency fit few.csv --variant scaled --base pixel1 --save myphone.yaml\n\n"
             "  mbcost latency fit quant.csv --dtype int8 --variant scaled-compute --base pixel1\n\n"
             "  mbcost report mobilenet_v2 --device myphone.yaml\n\n"
             "measured.csv has a header and the columns arch, alpha, resolution, ms (arch: a built-in name or a "
             "path relative to the CSV), and optionally family (left out together; default: the architecture) "
             "and build (the software that measured it; each other build gets a fitted factor). The fit minimizes "
             "squared relative errors by non-negative least squares; each family is refitted without and "
             "predicted, and that error is the ± every prediction carries. Variants: per-class (the ten "
             "constants), scaled (one factor on --base's constants), scaled-compute (one on its convolutions, "
             "one on the rest). docs/latency.md.")
def latency(
    action: Annotated[Action, typer.Argument(help="fit: fit a profile to a CSV of measurements.")],
    measured: Annotated[Path, typer.Argument(help="CSV with columns arch, alpha, resolution, ms [, family, build].",
                                             dir_okay=False, show_default=False)],
    variant: Annotated[Variant, typer.Option("--variant", help="Which constants are free.")] = Variant.per_class,
    base: Annotated[Optional[str], typer.Option("--base", metavar="DEVICE", show_default=False,
                                                help="The profile a scaled variant scales: a built-in (pixel1) "
                                                     "or a profile .yaml; its profile in --dtype if it has one.")] = None,
    dtype: Annotated[str, typer.Option("--dtype", metavar="DTYPE",
                                       help="What the measurements ran in: fp32, fp16, bf16, int8 "
                                            "(the bytes each layer moves).")] = "fp32",
    build: Annotated[Optional[str], typer.Option("--build", metavar="NAME", show_default="the most measured",
                                                 help="The build predictions are for (a value of the build column).")] = None,
    name: Annotated[str, typer.Option("--name", help="The profile's name.")] = "fitted",
    save: Annotated[Optional[Path], typer.Option("--save", metavar="FILE", dir_okay=False, show_default=False,
                                                 help="Write the fitted profile as YAML, for --device FILE.")] = None,
    fmt: output_format("latency") = None,
    output: Output = None,
) -> None:
    """Fit a device's per-op-class latency profile to measured latencies, and report its error on families left out."""
    from ..analyses.latency import fit_profile, load_device, read_measurements
    from ..core.memory import DTYPES
    from .io import write_atomic

    fmt = choose_format("latency", fmt, output)
    check_output(save)
    if save is not None and save.suffix.lower() not in (".yaml", ".yml"):
        raise UsageError(f"expected a .yaml file, got {str(save)!r}", field="--save")
    if dtype not in DTYPES:
        raise UsageError(f"expected one of {', '.join(DTYPES)}, got {dtype!r}", field="--dtype")
    if base is not None and variant is Variant.per_class:
        raise UsageError("--base is what a scaled variant scales: add --variant scaled or scaled-compute",
                         field="--base")
    base_profile = None
    if base is not None:
        b = load_device(base, flag="--base")
        base_profile = b.siblings.get(dtype, b)
    rows = read_measurements(measured)
    result = fit_profile(rows, variant.value, name=name, dtype=dtype, base=base_profile, build=build,
                         source=f"mbcost latency fit {measured}")
    if save is not None:
        write_atomic(save, result.yaml())
    write("latency", fmt, result, output)
