"""``mbcost report``: every layer's mult-adds and parameters, with totals and a by-type breakdown."""
from __future__ import annotations

from ..core.engine import analyze
from .app import app
from ..errors import UsageError
from .options import (Alpha, Arch, COUNTING, ConventionFlags, Depth, Device, Flip, MEMORY, Output, OutputStride,
                      Resolution, Rho, Scales, choose_format, convention_options, device, model, output_format, write)


@app.command(epilog="Examples:\n\n"
             "  mbcost report mobilenet_v2 --alpha 0.75\n\n"
             "  mbcost report mobilenet_v1 --rho 0.714 --format json | jq .totals\n\n"
             "  mbcost report configs/my_net.yaml --profile torchvision --format csv -o costs.csv\n\n"
             "  mbcost report mobilenet_v2 --device pixel1    # latency per layer (± interval), memory- or compute-bound\n\n"
             "  mbcost report deeplabv3_mobilenet_v2 --output-stride 8 --scales 0.5,0.75,1,1.25,1.5,1.75 --flip")
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
    output_stride: OutputStride = None,
    scales: Scales = None,
    flip: Flip = False,
    counting: ConventionFlags = None,
) -> None:
    """Cost every layer of ARCH at width α and a resolution: one row per layer, totals, and the share of each layer type (as in the MobileNetV1 paper's Table 2). With --scales, the cost of each input scale and their sum (multi-scale inference)."""
    conv = counting.convention()
    if flip and scales is None:
        raise UsageError("--flip runs each scale's input mirrored too: give --scales (e.g. --scales 1)", field="--flip")
    fmt = choose_format("report" if scales is None else "multiscale", fmt, output)
    dev = device(device_name)
    spec = model(arch, output_stride)
    if scales is not None:
        from ..analyses.multiscale import multiscale

        write("multiscale", fmt, multiscale(spec, scales, flip, alpha=alpha, resolution=resolution, rho=rho,
                                            convention=conv, depth=depth, device=dev), output)
        return
    write("report", fmt, analyze(spec, alpha=alpha, resolution=resolution, rho=rho, convention=conv, device=dev,
                                 depth=depth),
          output)
