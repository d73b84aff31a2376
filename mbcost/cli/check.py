"""``mbcost check``: fail (exit 1) when an architecture is over its mult-add, FLOP or parameter budget."""
from __future__ import annotations

import enum
import os
from pathlib import Path
from typing import Annotated, Optional

import typer

from ..errors import UsageError
from . import io
from .app import app
from .options import BN, Bias, Classes, Profile, Resolution, Rho, check_output, convention, emit


class CheckFormat(str, enum.Enum):
    text = "text"
    json = "json"
    junit = "junit"
    md = "md"


_LIMITS = "Limits (inclusive; 300M, 3.5M, 1.2G, 750K, 300e6, 300_000_000)"
Size = Optional[str]


def _style(line: str) -> str:
    if line.startswith("FAIL"):
        return typer.style("FAIL", fg="red", bold=True) + line[4:]
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
        typer.echo(f"warning: cannot append to GITHUB_STEP_SUMMARY={path}: {exc.strerror or exc}", err=True)


@app.command(epilog="Examples:\n\n"
             "  mbcost check mobilenet_v2 --max-madds 301M --max-params 3.5M\n\n"
             "  mbcost check configs/my_net.yaml --alpha 0.5 --max-madds 140M --baseline old_net.yaml\n\n"
             "  mbcost check --budgets budgets.yaml --format junit --output mbcost-junit.xml\n\n"
             "Exit codes: 0 all within budget, 1 any over budget, 2 bad input (file, size, flag). "
             "With --output the report goes to FILE and the plain summary to stdout. "
             "When GITHUB_STEP_SUMMARY is set, a Markdown summary is appended to it. See docs/ci.md.")
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
    max_madds: Annotated[Size, typer.Option("--max-madds", metavar="SIZE", rich_help_panel=_LIMITS,
                                            help="Most mult-adds allowed.", show_default=False)] = None,
    max_params: Annotated[Size, typer.Option("--max-params", metavar="SIZE", rich_help_panel=_LIMITS,
                                             help="Most parameters allowed.", show_default=False)] = None,
    max_flops: Annotated[Size, typer.Option("--max-flops", metavar="SIZE", rich_help_panel=_LIMITS,
                                            help="Most FLOPs (= 2 × mult-adds) allowed.", show_default=False)] = None,
    baseline: Annotated[Optional[str], typer.Option(
        "--baseline", metavar="ARCH", show_default=False,
        help="The previous version of ARCH: an over-budget report then lists the layers that grew most.")] = None,
    fmt: Annotated[CheckFormat, typer.Option("--format", "-f", help="Report format.")] = CheckFormat.text,
    output: Annotated[Optional[Path], typer.Option(
        "--output", "-o", dir_okay=False, show_default=False,
        help="Write the --format report to FILE (atomically), even when over budget; "
             "the plain summary still goes to stdout.")] = None,
    profile: Profile = None,
    classes: Classes = None,
    bias: Bias = None,
    bn: BN = None,
    flops: Annotated[bool, typer.Option(
        "--flops", rich_help_panel="Counting convention",
        help="Count compute in FLOPs (2 × mult-adds): limit it with --max-flops; --max-madds is then refused "
             "as ambiguous.")] = False,
) -> int:
    """Check ARCH (or every entry of a budgets file) against mult-add, FLOP and parameter limits: exit 1 if any is over."""
    # imported here so that other commands' start-up does not pay for them
    from ..analyses.budget import Budget, Limit, check as run_check, load_budgets, parse_size
    from ..render.check import check_json, check_md, check_text
    from ..render.junit import check_junit
    from ..core.multipliers import parse_alpha

    if budgets is not None:
        given = [flag for flag, v in (("ARCH", arch), ("--alpha", alpha), ("--resolution", resolution),
                                      ("--rho", rho), ("--max-madds", max_madds), ("--max-params", max_params),
                                      ("--max-flops", max_flops), ("--baseline", baseline),
                                      ("--profile", profile), ("--classes", classes), ("--bias/--no-bias", bias),
                                      ("--bn", bn), ("--flops", flops or None)) if v is not None]
        if given:
            raise UsageError(f"the budgets file sets architecture, α, resolution, convention, limits and "
                             f"baseline per entry; drop {', '.join(given)}", field="--budgets")
        plan = load_budgets(budgets)
        source = str(budgets)
    else:
        if arch is None:
            raise UsageError("give an architecture (ARCH) with --max-madds, --max-params or --max-flops, "
                             "or --budgets FILE")
        limits = tuple(Limit(metric, parse_size(value, f"--max-{metric}"))
                       for metric, value in (("madds", max_madds), ("flops", max_flops), ("params", max_params))
                       if value is not None)
        if not limits:
            raise UsageError("nothing to check: give --max-madds, --max-params or --max-flops", field=arch)
        if flops and max_madds is not None:
            # a limit's unit is in its name; under --flops, "--max-madds 600M" is ambiguous
            raise UsageError("--flops counts FLOPs (2 × mult-adds): give the limit as --max-flops, "
                             "or drop --flops", field="--max-madds")
        conv = convention(profile or "paper", classes, bias, bn, flops)
        plan = [Budget(name=arch, arch=arch, limits=limits, alpha=parse_alpha(alpha or "1.0"),
                       resolution=resolution, rho=rho, convention=conv, baseline=baseline)]
        source = None
    check_output(output)
    run = run_check(plan, source)

    render = {CheckFormat.text: check_text, CheckFormat.json: check_json,
              CheckFormat.junit: check_junit, CheckFormat.md: check_md}[fmt]
    if output is not None:
        emit(render(run), output)
    if output is not None or fmt is CheckFormat.text:
        for line in check_text(run).splitlines():
            io.echo(_style(line))
    else:
        emit(render(run), None)
    _append_step_summary(check_md(run))
    return 0 if run.ok else 1

