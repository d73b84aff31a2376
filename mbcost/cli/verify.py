"""``mbcost verify``: the papers' closed forms, checked layer by layer against the engine."""
from __future__ import annotations

import enum
import math
from fractions import Fraction
from typing import Annotated

import typer

from ..core.engine import Report, analyze
from ..core.multipliers import fmt_alpha
from ..render.report import human, text_table
from ..analyses.verify import Verification, verification_dict, verify_report
from . import io
from .app import app
from .options import BN, Alpha, Arch, Bias, Classes, Profile, Resolution, Rho, console, convention

PAIR_LEGEND = ("M input / N output channels · D_K kernel · D_F output size · "
               "separable D_K²·M·D_F² + M·N·D_F² · standard D_K²·M·N·D_F²")
BLOCK_LEGEND = ("h×w → h′×w′ map size · d′ → d″ channels · t expansion · k kernel · s stride · "
                "engine = Σ the block's layers",
                "paper h·w·d′·t·(d′ + k² + d″), stride 1 only · stride-s form h·w·d′·t·d′ + h′·w′·t·d′·(k² + d″)")


class VerifyFormat(str, enum.Enum):
    table = "table"
    json = "json"


@app.command(epilog="Examples:\n\n"
             "  mbcost verify mobilenet_v1\n\n"
             "  mbcost verify mobilenet_v2 --alpha 0.75 --format json | jq .network\n\n"
             "  mbcost verify examples/mobilenet_v1_table3.yaml --alpha 0.75 --rho 0.714\n\n"
             "Exit codes: 0 every identity holds, 1 one fails (the layer is named), 2 bad input.")
def verify(
    arch: Arch,
    alpha: Alpha = "1.0",
    resolution: Resolution = None,
    rho: Rho = None,
    fmt: Annotated[VerifyFormat, typer.Option("--format", "-f", help="Output format.")] = VerifyFormat.table,
    profile: Profile = "paper",
    classes: Classes = None,
    bias: Bias = None,
    bn: BN = None,
) -> int:
    """Check that every depthwise separable pair costs exactly 1/N + 1/D_K² of the standard convolution it replaces, and every MobileNetV2 bottleneck h·w·d′·t·(d′ + k² + d″), using the engine's own per-layer counts."""
    conv = convention(profile, classes, bias, bn)
    return run(analyze(arch, alpha=alpha, resolution=resolution, rho=rho, convention=conv), fmt)


def run(report: Report, fmt: VerifyFormat = VerifyFormat.table) -> int:
    """Verify an engine result and print it; the exit code (0 all hold, 1 any fails)."""
    v = verify_report(report)
    if fmt is VerifyFormat.json:
        import json  # the table path never pays for it

        io.echo(json.dumps(verification_dict(v), indent=2, ensure_ascii=False))
        for line in v.failures():  # stdout stays pure JSON; people still see what broke
            typer.echo(f"verify: {line}", err=True)
    else:
        render_table(v, console())
    return 0 if v.ok else 1


def times(x: Fraction) -> str:
    """A reduction factor to two decimals, rounded half up from the exact fraction."""
    n = math.floor(x * 100 + Fraction(1, 2))
    return f"{n // 100}.{n % 100:02d}×"


def _size(pair) -> str:
    return str(pair[0]) if pair[0] == pair[1] else f"{pair[0]}×{pair[1]}"


def _pair_name(p) -> str:
    """'block3: dw → pw' when both layers are one block's, else both full names."""
    block, _, dw = p.depthwise.rpartition(".")
    other, _, pw = p.pointwise.rpartition(".")
    return f"{block}: {dw} → {pw}" if block and block == other else f"{p.depthwise} → {p.pointwise}"


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _mark(ok: bool) -> str:
    return "✓" if ok else "✗ FAILS"


def _print_table(con, title: str, headers: list[str], rows: list[list[str]]) -> None:
    lines = text_table(headers, rows, right=set(range(1, len(headers) - 1)))
    con.print(title, style="bold", markup=False, highlight=False)
    con.print(lines[0], style="bold", markup=False, highlight=False)
    con.print("\n".join(lines[1:]), markup=False, highlight=False, soft_wrap=True)


def render_table(v: Verification, con) -> None:
    r = v.report
    head = f"{v.architecture}  α = {fmt_alpha(r.alpha)}  {r.resolution[0]}×{r.resolution[1]} input"
    if not v.pairs and not v.bottlenecks:
        con.print(f"{head}: no depthwise separable pairs or bottlenecks — nothing to verify", highlight=False)
    if v.pairs:
        rows = [[_pair_name(p), str(p.M), str(p.N), _size(p.D_K), _size(p.D_F), human(p.separable_madds),
                 human(p.standard_madds), str(p.ratio), str(p.formula), f"{times(p.reduction)} fewer",
                 _mark(p.ok)] for p in v.pairs]
        _print_table(con, f"{head}  ·  depthwise separable pairs (MobileNetV1 paper, eq. 5)",
                     ["depthwise → pointwise", "M", "N", "D_K", "D_F", "separable", "standard", "ratio",
                      "1/N + 1/D_K²", "reduction", ""], rows)
        con.print(PAIR_LEGEND, style="dim", markup=False, highlight=False)
    if v.bottlenecks:
        rows = []
        for b in v.bottlenecks:
            if b.paper_madds is None:
                paper = f"n/a (s = {_size(b.stride)})" if b.stride != (1, 1) else "n/a"
            else:
                paper = f"{b.paper_madds:,}" + ("*" if not b.has_expand else "")
            rows.append([b.block, f"{b.input_size[0]}×{b.input_size[1]}",
                         f"{b.output_size[0]}×{b.output_size[1]}", str(b.d_in), str(b.t), _size(b.k),
                         str(b.d_out), _size(b.stride), f"{b.madds:,}", paper, f"{b.general_madds:,}",
                         _mark(b.ok)])
        if v.pairs:
            con.print()
        _print_table(con, f"{head}  ·  bottleneck blocks (MobileNetV2 paper, section 5.1)",
                     ["block", "h×w", "h′×w′", "d′", "t", "k", "d″", "s", "engine", "paper",
                      "stride-s form", ""], rows)
        notes = list(BLOCK_LEGEND)
        if any(not b.has_expand for b in v.bottlenecks):
            notes.append("* t = 1: no expansion layer (as in the reference implementations), so the "
                         "paper's d′ term drops: h·w·d′·(k² + d″)")
        if any(b.paper_madds is None for b in v.bottlenecks):
            notes.append("n/a: the paper's formula is for stride 1; strided blocks are checked against "
                         "the stride-s form only")
        con.print("\n".join(notes), style="dim", markup=False, highlight=False)
    con.print()
    n = v.network
    if v.pairs:
        con.print(f"[bold]whole network[/bold]  {n.madds:,} mult-adds ({human(n.madds)}) as built · "
                  f"{n.standard_madds:,} ({human(n.standard_madds, 2)}) with standard convolutions: "
                  f"{times(1 / n.ratio)} fewer", highlight=False)
        con.print(f"[dim]standard = total − Σ separable + Σ standard over the {_n(len(v.pairs), 'pair')} = "
                  f"{n.madds:,} − {n.pairs_separable_madds:,} + {n.pairs_standard_madds:,}[/dim]", highlight=False)
    failures = v.failures()
    if failures:
        con.print(f"[bold red]✗ {_n(len(failures), 'check')} failed[/bold red]")
        for line in failures:
            con.print(f"  {line}", markup=False, highlight=False)
    else:
        what = [_n(len(v.pairs), "pair")] if v.pairs else []
        what += [_n(len(v.bottlenecks), "bottleneck")] if v.bottlenecks else []
        if what:
            con.print(f"[green]✓[/green] all exact: {' and '.join(what)}", highlight=False)
