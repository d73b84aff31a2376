"""``mbcost list``: the built-in architectures (files and their variants), each with its title and source."""
from __future__ import annotations

from ..analyses.catalog import builtins
from .app import app
from .options import Output, choose_format, output_format, write


@app.command("list", epilog="Examples:\n\n"
             "  mbcost list\n\n"
             "  mbcost list --format md > builtins.md\n\n"
             "  mbcost list --format json | jq -r '.builtins[] | select(.variant) | .name'\n\n"
             "A variant is reached by its name (efficientnet_b3, resnet50_torchvision) or as "
             "FILE@VARIANT; docs/families.md says how each differs from its paper.")
def list_cmd(
    fmt: output_format("list") = None,
    output: Output = None,
) -> None:
    """Every built-in architecture name — each file in configs/ and each of its variants — with its input size, width α, depth d, title and the source its file cites."""
    fmt = choose_format("list", fmt, output)
    write("list", fmt, builtins(), output)
