"""Flags shared by several commands, and the helpers that turn them into library calls."""
from __future__ import annotations

import enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from ..core.conventions import PROFILES, Convention
from ..errors import UsageError
from . import io

Arch = Annotated[str, typer.Argument(help="A built-in name (mobilenet_v2) or a path to an architecture YAML file.",
                                     show_default=False)]
Alpha = Annotated[str, typer.Option("--alpha", "-a", help="Width multiplier α (any number > 0).")]
Resolution = Annotated[Optional[str], typer.Option("--resolution", "-r",
                                                   help="Input resolution R in pixels (square).",
                                                   show_default="the file's own")]
Rho = Annotated[Optional[str], typer.Option("--rho", help="Resolution multiplier ρ: R = round(ρ × the file's resolution).")]
Output = Annotated[Optional[Path], typer.Option("--output", "-o", help="Write to FILE (atomically) instead of stdout.",
                                                dir_okay=False, show_default=False)]

_CONV = "Counting convention"
Profile = Annotated[str, typer.Option("--profile", help=f"Preset convention: {', '.join(PROFILES)}.",
                                      rich_help_panel=_CONV)]
Classes = Annotated[Optional[int], typer.Option("--classes", help="Override the file's number of classes.",
                                                rich_help_panel=_CONV, show_default=False)]
Bias = Annotated[Optional[bool], typer.Option("--bias/--no-bias", help="Count biases of layers that have one.",
                                              rich_help_panel=_CONV, show_default="per profile")]
BN = Annotated[Optional[int], typer.Option("--bn", help="Parameters per batch-norm channel: 0 folded, 2 γ β, "
                                           "3 β mean var, 4 all.", rich_help_panel=_CONV,
                                           show_default="per profile")]
Flops = Annotated[bool, typer.Option("--flops", help="Report FLOPs (2 × mult-adds).", rich_help_panel=_CONV)]


class ReportFormat(str, enum.Enum):
    table = "table"
    csv = "csv"
    json = "json"


def convention(profile: str = "paper", classes: int | None = None, bias: bool | None = None,
               bn: int | None = None, flops: bool = False) -> Convention:
    if profile not in PROFILES:
        raise UsageError(f"expected one of {', '.join(PROFILES)}, got {profile!r}", field="--profile")
    try:  # Convention validates its own fields; the message names the flag
        return PROFILES[profile].with_(bn=bn, bias=bias, classes=classes, flops=flops or None)
    except UsageError as exc:
        raise UsageError(exc.message, field=FLAGS.get(exc.field, exc.field)) from None


FLAGS = {"bn": "--bn", "classes": "--classes", "bias": "--bias/--no-bias", "flops": "--flops"}


def check_output(output: Path | None) -> None:
    """Refuse an unwritable --output before any work, so a failing run never leaves a file."""
    if output is not None:
        from ..render.report import check_output_path

        check_output_path(output)


def emit(text: str, output: Path | None) -> None:
    """Print to stdout, or write the file all-or-nothing."""
    from ..render.report import write_atomic

    if output is None:
        io.write(text)
    else:
        write_atomic(output, text)


def styled() -> bool:
    """Bold and colour only for a person at a terminal (and never with NO_COLOR set)."""
    import os

    return io.isatty() and not os.environ.get("NO_COLOR")


def console():
    """stdout for tables (through mbcost.cli.io, like every other output); when piped, wide
    enough that no column is cut."""
    from rich.console import Console

    return Console(file=io.stdout, emoji=False) if io.isatty() else \
        Console(file=io.stdout, width=120, emoji=False)
