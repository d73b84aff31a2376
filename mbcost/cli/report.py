"""``mbcost report``: every layer's mult-adds and parameters, with totals and a by-type breakdown."""
from __future__ import annotations

from typing import Annotated

import typer

from ..core.engine import analyze
from ..render.report import report_csv, report_json, report_text
from .app import app
from .options import (Alpha, Arch, BN, Bias, Classes, Flops, Output, Profile, ReportFormat,
                     Resolution, Rho, check_output, convention, emit, styled)


@app.command(epilog="Examples:\n\n"
             "  mbcost report mobilenet_v2 --alpha 0.75\n\n"
             "  mbcost report mobilenet_v1 --rho 0.714 --format json | jq .totals\n\n"
             "  mbcost report configs/my_net.yaml --profile torchvision --format csv -o costs.csv")
def report(
    arch: Arch,
    alpha: Alpha = "1.0",
    resolution: Resolution = None,
    rho: Rho = None,
    fmt: Annotated[ReportFormat, typer.Option("--format", "-f", help="Output format.")] = ReportFormat.table,
    output: Output = None,
    profile: Profile = "paper",
    classes: Classes = None,
    bias: Bias = None,
    bn: BN = None,
    flops: Flops = False,
) -> None:
    """Cost every layer of ARCH at width α and a resolution: one row per layer, totals, and the share of each layer type (as in the MobileNetV1 paper's Table 2)."""
    conv = convention(profile, classes, bias, bn, flops)
    check_output(output)
    result = analyze(arch, alpha=alpha, resolution=resolution, rho=rho, convention=conv)
    if fmt is ReportFormat.table:
        text = report_text(result, bold=output is None and styled())
    else:
        text = report_csv(result) if fmt is ReportFormat.csv else report_json(result)
    emit(text, output)
