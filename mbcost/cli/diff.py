"""``mbcost diff``: what changing an architecture (or its α or resolution) does to each layer's cost."""
from __future__ import annotations

from typing import Annotated, Optional

import typer

from ..errors import UsageError
from .app import app
from .options import (Alpha, COUNTING, ConventionFlags, Depth, MEMORY, Output, Resolution, Rho,
                      choose_format, convention_options, model, output_format, write)


_B = "Side B (default: the same as A)"


@app.command(epilog="Examples:\n\n"
             "  mbcost diff mobilenet_v1 mobilenet_v1_shallow\n\n"
             "  mbcost diff old_net.yaml new_net.yaml --format md > pr-comment.md\n\n"
             "  mbcost diff mobilenet_v2 --alpha-b 0.75          (one file at α 1.0 and 0.75)\n\n"
             "  mbcost diff mobilenet_v2 --resolution 224 --resolution-b 160\n\n"
             "--alpha, --resolution and --rho set both sides; --alpha-b, --resolution-b and --rho-b "
             "override them for B. Both sides use the same counting convention. Deltas are B − A.")
@convention_options(*COUNTING, *MEMORY)
def diff(
    a: Annotated[str, typer.Argument(metavar="A", show_default=False,
                                     help="Side A ('before'): a built-in name or an architecture YAML file.")],
    b: Annotated[Optional[str], typer.Argument(
        metavar="[B]", show_default=False,
        help="Side B ('after'); leave it out to compare A with itself at another α or resolution.")] = None,
    alpha: Alpha = None,
    depth: Depth = None,
    resolution: Resolution = None,
    rho: Rho = None,
    alpha_b: Annotated[Optional[str], typer.Option("--alpha-b", help="Width multiplier α of B.",
                                                   rich_help_panel=_B, show_default=False)] = None,
    resolution_b: Annotated[Optional[str], typer.Option("--resolution-b", help="Input resolution of B.",
                                                        rich_help_panel=_B, show_default=False)] = None,
    rho_b: Annotated[Optional[str], typer.Option("--rho-b", help="Resolution multiplier ρ of B.",
                                                 rich_help_panel=_B, show_default=False)] = None,
    fmt: output_format("diff") = None,
    all_layers: Annotated[bool, typer.Option("--all", help="List unchanged layers too (table and md).")] = False,
    output: Output = None,
    counting: ConventionFlags = None,
) -> None:
    """Per-layer and total change in mult-adds and parameters from A to B: layers removed, added and changed."""
    # imported here so that other commands' start-up does not pay for them
    from ..core.engine import analyze
    from ..analyses.diff import diff_reports
    from ..core.multipliers import parse_alpha, parse_resolution, parse_rho

    if b is None and alpha_b is None and resolution_b is None and rho_b is None:
        raise UsageError("nothing to compare: give a second architecture B, or --alpha-b, --resolution-b "
                         "or --rho-b to compare A with itself")
    if resolution_b is not None and rho_b is not None:
        raise UsageError("give either --resolution-b or --rho-b, not both", field="--rho-b")
    conv = counting.convention()
    # B inherits A's settings unless overridden; a B-side resolution replaces A's ρ and vice versa
    a_alpha = parse_alpha(alpha) if alpha is not None else None
    b_alpha = parse_alpha(alpha_b, "--alpha-b") if alpha_b is not None else a_alpha
    if resolution_b is not None or rho_b is not None:
        b_res = parse_resolution(resolution_b, "--resolution-b") if resolution_b is not None else None
        b_rho = parse_rho(rho_b, "--rho-b") if rho_b is not None else None
    else:
        b_res, b_rho = resolution, rho
    fmt = choose_format("diff", fmt, output)
    before = analyze(model(a), alpha=a_alpha, resolution=resolution, rho=rho, convention=conv, depth=depth)
    after = analyze(model(b if b is not None else a), alpha=b_alpha, resolution=b_res, rho=b_rho, convention=conv,
                    depth=depth)
    write("diff", fmt, diff_reports(before, after), output, all_layers=all_layers)
