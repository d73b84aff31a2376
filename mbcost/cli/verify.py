"""``mbcost verify``: the papers' closed forms, checked layer by layer against the engine."""
from __future__ import annotations

from typing import Annotated

import typer

from ..analyses.verify import verify_report
from ..core.engine import Report, analyze
from . import io
from .app import app
from .options import (Alpha, Arch, ConventionFlags, Depth, Output, Resolution, Rho, choose_format,
                      convention_options, model, output_format, write)

@app.command(epilog="Examples:\n\n"
             "  mbcost verify mobilenet_v1\n\n"
             "  mbcost verify mobilenet_v2 --alpha 0.75 --format json | jq .network\n\n"
             "  mbcost verify examples/mobilenet_v1_table3.yaml --alpha 0.75 --rho 0.714\n\n"
             "Exit codes: 0 every identity holds, 1 one fails (the layer is named), 2 bad input.")
@convention_options("profile", "classes", "bias", "bn")
def verify(
    arch: Arch,
    alpha: Alpha = None,
    depth: Depth = None,
    resolution: Resolution = None,
    rho: Rho = None,
    fmt: output_format("verify") = None,
    output: Output = None,
    counting: ConventionFlags = None,
    strict: Annotated[bool, typer.Option(
        "--strict", help="Exit 1 when there is nothing to check (no separable pair or bottleneck): for CI, "
        "so a network that loses its structure does not pass silently.")] = False,
) -> int:
    """Check that every depthwise separable pair costs exactly 1/N + 1/D_K² of the standard convolution it replaces, and every MobileNetV2 bottleneck h·w·d′·t·(d′ + k² + d″), using the engine's own per-layer counts."""
    conv = counting.convention()
    fmt = choose_format("verify", fmt, output)
    return run(analyze(model(arch), alpha=alpha, resolution=resolution, rho=rho, convention=conv, depth=depth), fmt,
               output, strict)


def run(report: Report, fmt: str = "table", output=None, strict: bool = False) -> int:
    """Verify an engine result and print or write it; the exit code (0 all hold, 1 any fails,
    or, with ``strict``, nothing was checked)."""
    v = verify_report(report)
    write("verify", fmt, v, output)
    if fmt != "table" or output is not None:
        for line in v.failures():  # stdout stays pure JSON; people still see what broke
            io.error_line(f"verify: {line}")
    if strict and not v.checked:
        io.error_line(f"verify: --strict: {report.architecture} has no depthwise separable pair or "
                      "bottleneck, so nothing was checked")
        return 1
    return 0 if v.ok else 1
