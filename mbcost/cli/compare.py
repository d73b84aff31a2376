"""``mbcost compare``: what ptflops, fvcore, thop, torchinfo, calflops and FlopCounterMode
would print for an architecture, each as the papers' count plus the terms it adds."""
from __future__ import annotations

from typing import Annotated, Optional

import typer

from ..analyses.compare import compare as run_compare
from .app import app
from .options import (Alpha, Arch, Classes, Output, Resolution, Rho, choose_format, convention, model,
                      output_format, write)

Pool = Annotated[Optional[str], typer.Option(
    "--pool", metavar="module|functional|mean", show_default="the implementation's",
    help="How the implementation calls its pools: as nn.Module (torchvision's ResNet, MobileNetV3), "
         "as F.adaptive_avg_pool2d in forward (torchvision's MobileNetV2) or as x.mean (MNASNet, "
         "ShuffleNetV2). thop and ptflops count them differently.")]

Impl = Annotated[Optional[str], typer.Option(
    "--implementation", "-i", metavar="PRESET", show_default="the file's 'implementation', else torchvision",
    help="How the code the counters would run calls each op: a preset of torchvision's or timm's "
         "families (torchvision, torchvision.mobilenetv2, timm.convnext, …; docs/peers.md lists them).")]


@app.command(epilog="Examples:\n\n"
             "  mbcost compare mobilenet_v2\n\n"
             "  mbcost compare mobilenet_v2 --alpha 0.35 --resolution 96 --format json | jq '.profiles[].total'\n\n"
             "  mbcost compare my_net.yaml --pool module --format md > counters.md\n\n"
             "Each total is a formula over the network's element counts (docs/peers.md); the "
             "profiles reproduce each counter on the implementation the file names (its 'implementation': "
             "a preset of torchvision's or timm's code, or how each op is called), torchvision's by default.")
def compare(
    arch: Arch,
    alpha: Alpha = None,  # a variant's own α, as report uses
    resolution: Resolution = None,
    rho: Rho = None,
    pool: Pool = None,
    implementation: Impl = None,
    classes: Classes = None,
    fmt: output_format("compare") = None,
    output: Output = None,
) -> None:
    """One row per FLOP counter (ptflops, ptflops-aten, fvcore, thop, torchinfo, calflops, FlopCounterMode): the total it prints for ARCH, what that total includes, and its difference from the papers' mult-adds."""
    conv = convention("torchvision", classes)  # the parameters every one of these counters reports
    fmt = choose_format("compare", fmt, output)
    write("compare", fmt, run_compare(model(arch), alpha=alpha, resolution=resolution, rho=rho, pool=pool,
                                      convention=conv, implementation=implementation), output)
