"""``mbcost export``: the architecture as a model file other tools open (ONNX)."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from ..core.engine import analyze
from ..errors import UsageError
from .app import app
from .options import Alpha, Arch, Classes, Resolution, Rho, check_output, convention, model

TARGETS = ("onnx",)
To = Annotated[str, typer.Option("--to", help=f"The model format to write: {', '.join(TARGETS)}.")]
Target = Annotated[Optional[Path], typer.Option("--output", "-o", help="The file to write (atomically).",
                                                dir_okay=False, show_default=False)]


@app.command(epilog="Examples:\n\n"
             "  mbcost export mobilenet_v2 --to onnx -o mobilenet_v2.onnx\n\n"
             "  mbcost export configs/my_net.yaml --alpha 0.5 --resolution 160 -o my_net.onnx\n\n"
             "  mbcost report mobilenet_v2.onnx   # the same counts, read back\n\n"
             "Needs the onnx package (pip install 'mbcost[onnx]'), not torch.")
def export(
    arch: Arch,
    to: To = "onnx",
    output: Target = None,
    alpha: Alpha = None,  # a variant's own α, as report uses
    resolution: Resolution = None,
    rho: Rho = None,
    classes: Classes = None,
) -> None:
    """Write ARCH at width α and a resolution as an ONNX model: one node per mbcost layer, named as mbcost names it (BN and activation nodes follow as <layer>/bn, <layer>/relu), explicit TensorFlow 'same' pads, random weights; valid for onnx.checker and onnxruntime, and readable back by every mbcost command."""
    if to not in TARGETS:
        raise UsageError(f"expected one of {', '.join(TARGETS)}, got {to!r}", field="--to")
    # the architecture first (its errors are the ones people need), then where it goes
    report = analyze(model(arch), alpha=alpha, resolution=resolution, rho=rho,
                     convention=convention("paper", classes))
    if output is None:
        raise UsageError("give --output FILE: an ONNX model is binary", field="--output")
    check_output(output)
    from ..interop.onnx_export import to_onnx
    from .io import write_atomic

    write_atomic(output, to_onnx(report).SerializeToString())
