"""``mbcost check``: fail (exit 1) when an architecture is over its mult-add, FLOP or parameter budget."""
from __future__ import annotations

import inspect
import os
from pathlib import Path
from typing import Annotated, Optional

import typer

from ..errors import UsageError
from . import io
from .app import _one_line, app
from ..core.metrics import METRICS
from .options import (COUNTING, MEMORY, ConventionFlags, Device, Resolution, Rho, allow_unknown, choose_format,
                      convention_options, device, emit, model, output_format, render, replace_parameter, styled)


_LIMITS = "Limits (inclusive; 300M, 3.5M, 1.2G, 750K, 300e6, 300_000_000; bytes 5MB, 2MiB, 400KB)"
Size = Optional[str]


def _style(line: str) -> str:
    if line.startswith("FAIL"):
        return typer.style("FAIL", fg="red", bold=True) + line[4:]
    if line.startswith("PART") or line.startswith("NOT CHECKED"):
        word = line.split(" ")[0] if line.startswith("PART") else "NOT CHECKED"
        return typer.style(word, fg="yellow", bold=True) + line[len(word):]
    if line.startswith("ok  "):
        return typer.style("ok", fg="green") + line[2:]
    return line


def _append_step_summary(markdown: str) -> None:
    """GitHub Actions shows $GITHUB_STEP_SUMMARY on the run's page. Failing to write it
    must not change the check's verdict, so it is a warning, not an error."""
    path = os.environ.get("GITHUB_STEP_SUMMARY")
    if not path:
        return
    try:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(markdown + "\n")
    except OSError as exc:
        io.error_line(f"warning: cannot append to GITHUB_STEP_SUMMARY={path}: {exc.strerror or exc}")


def with_limits(command):
    """Give a command one ``--max-<metric>`` option per metric of the registry; their values
    reach it as ``limits``: {metric name: text or None}."""
    extra = [inspect.Parameter(
        f"max_{m.name}", inspect.Parameter.KEYWORD_ONLY, default=None,
        annotation=Annotated[Size, typer.Option(m.flag, metavar="SIZE", rich_help_panel=_LIMITS,
                                                show_default=False, help=f"Most {m.noun} allowed.")])
        for m in METRICS.values()]
    return replace_parameter(command, "limits", extra, lambda v: {m: v[f"max_{m}"] for m in METRICS})


@app.command(epilog="Examples:\n\n"
             "  mbcost check mobilenet_v2 --max-madds 301M --max-params 3.5M\n\n"
             "  mbcost check mobilenet_v2 --max-peak-memory 5MB --max-weights 4MiB --dtype fp16\n\n"
             "  mbcost check configs/my_net.yaml --alpha 0.5 --max-madds 140M --baseline old_net.yaml\n\n"
             "  mbcost check --budgets budgets.yaml --format junit --output mbcost-junit.xml\n\n"
             "  mbcost check mobilenet_v2 --alpha 0.75 --max-latency 60 --device pixel1\n\n"
             "Exit codes: 0 all within budget, 1 any over budget, 2 bad input (file, size, flag) or a PARTIAL result "
             "without --allow-partial. "
             "With --output the report goes to FILE and the plain summary to stdout. "
             "When GITHUB_STEP_SUMMARY is set, a Markdown summary is appended to it. See docs/ci.md.")
@with_limits
@convention_options(*COUNTING, *MEMORY, profile=None,
                    flops_help="Count compute in FLOPs (2 × mult-adds): limit it with --max-flops; --max-madds "
                               "is then refused as ambiguous.")
def check(
    arch: Annotated[Optional[str], typer.Argument(
        metavar="[ARCH]", show_default=False,
        help="A built-in name (mobilenet_v2) or a path to an architecture YAML file.")] = None,
    budgets: Annotated[Optional[Path], typer.Option(
        "--budgets", "-b", metavar="FILE", dir_okay=False, show_default=False,
        help="A YAML file listing several architectures, each with its α, resolution, convention and limits.")] = None,
    alpha: Annotated[Optional[str], typer.Option("--alpha", "-a", help="Width multiplier α (any number > 0).",
                                                 show_default="1.0")] = None,
    resolution: Resolution = None,
    rho: Rho = None,
    baseline: Annotated[Optional[str], typer.Option(
        "--baseline", metavar="ARCH", show_default=False,
        help="The previous version of ARCH: an over-budget report then lists the layers that grew most.")] = None,
    fmt: output_format("check") = None,
    output: Annotated[Optional[Path], typer.Option(
        "--output", "-o", dir_okay=False, show_default=False,
        help="Write the --format report to FILE (atomically), even when over budget; "
             "the plain summary still goes to stdout.")] = None,
    device_name: Device = None,
    allow_partial: Annotated[bool, typer.Option(
        "--allow-partial",
        help="Judge a PARTIAL result (an imported model's ops not costed, kept by --allow-unknown) on what is "
             "costed; without it such a result is not checked and the exit code is 2.")] = False,
    counting: ConventionFlags = None,
    limits: dict | None = None,
) -> int:
    """Check ARCH (or every entry of a budgets file) against mult-add, FLOP, parameter and memory limits: exit 1 if any is over."""
    from ..analyses.budget import Budget, check as run_check, load_budgets, parse_limits
    from ..core.multipliers import parse_alpha

    fmt = choose_format("check", fmt, output)
    given_limits = {m: v for m, v in limits.items() if v is not None}
    if budgets is not None:
        given = [flag for flag, v in (("ARCH", arch), ("--alpha", alpha), ("--resolution", resolution),
                                      ("--rho", rho), ("--baseline", baseline), ("--device", device_name))
                 if v is not None] + counting.given()
        given[1:1] = [METRICS[m].flag for m in given_limits]
        if given:
            raise UsageError(f"the budgets file sets architecture, α, resolution, convention, limits and "
                             f"baseline per entry; drop {', '.join(given)}", field="--budgets")
        plan = load_budgets(budgets, allow_unknown=allow_unknown(), allow_partial=allow_partial)
        source = str(budgets)
    else:
        flags = " or ".join(m.flag for m in METRICS.values())
        if arch is None:
            raise UsageError(f"give an architecture (ARCH) with {flags}, or --budgets FILE")
        conv = counting.convention()
        parsed = parse_limits(given_limits, conv, field=lambda m: METRICS[m].flag)
        if not parsed:
            raise UsageError(f"nothing to check: give {flags}", field=arch)
        plan = [Budget(name=arch, arch=model(arch), limits=parsed,
                       alpha=parse_alpha(alpha) if alpha is not None else None, resolution=resolution, rho=rho,
                       convention=conv, baseline=model(baseline) if baseline is not None else None,
                       device=device(device_name), allow_partial=allow_partial)]
        source = None
    with io.progress(f"check {Path(source).name}" if source else "check") as step:  # a long budgets file
        run = run_check(plan, source, progress=step)

    if output is not None:
        emit(render("check", fmt, run), output)
    if output is not None or fmt == "table":
        plain = render("check", "table", run)
        for line in plain.splitlines():
            io.echo(_style(line) if styled() else line)
    else:
        emit(render("check", fmt, run), None)
    _append_step_summary(render("check", "md", run))
    if run.unjudged:  # the reports are written (JUnit shows the error); the verdict is unknown
        io.error_line(f"error: {_one_line(run.unjudged_line())}")
    return run.exit_code
