"""``mbcost report``: every layer's mult-adds and parameters, with totals and a by-type breakdown."""
from __future__ import annotations

from ..core.engine import analyze
from .app import app
from .options import (Alpha, Arch, COUNTING, ConventionFlags, Depth, Device, MEMORY, Output, Resolution, Rho,
                      choose_format, convention_options, device, model, output_format, write)


@app.command(epilog="Examples:\n\n"
             "  mbcost report mobilenet_v2 --alpha 0.75\n\n"
             "  mbcost report mobilenet_v1 --rho 0.714 --format json | jq .totals\n\n"
             "  mbcost report configs/my_net.yaml --profile torchvision --format csv -o costs.csv\n\n"
             "  mbcost report mobilenet_v2 --device pixel1    # latency per layer (± interval), memory- or compute-bound")
@convention_options(*COUNTING, *MEMORY)
def report(
    arch: Arch,
    alpha: Alpha = None,
    depth: Depth = None,
    resolution: Resolution = None,
    rho: Rho = None,
    fmt: output_format("report") = None,
    output: Output = None,
    device_name: Device = None,
    counting: ConventionFlags = None,
) -> None:
    """Cost every layer of ARCH at width α and a resolution: one row per layer, totals, and the share of each layer type (as in the MobileNetV1 paper's Table 2)."""
    conv = counting.convention()
    fmt = choose_format("report", fmt, output)
    dev = device(device_name)
    write("report", fmt, analyze(model(arch), alpha=alpha, resolution=resolution, rho=rho, convention=conv, device=dev,
                                 depth=depth),
          output)
