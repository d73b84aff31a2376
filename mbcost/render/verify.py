"""``mbcost verify`` as text: a table per identity for people, JSON and Markdown to keep.

The JSON contract is docs/verify.md; it starts with what was counted (α, input H×W, the full
convention) like every mbcost JSON output.
"""
from __future__ import annotations

import math
from fractions import Fraction

from ..analyses.verify import Verification, verification_dict
from ..core.multipliers import fmt_alpha
from .report import setting
from .text import human, md_table, printable, rich_text, styled_parts, text_table

PAIR_LEGEND = ("M input / N output channels · D_K kernel · D_F output size · "
               "separable D_K²·M·D_F² + M·N·D_F² · standard D_K²·M·N·D_F²")
BLOCK_LEGEND = ("h×w → h′×w′ map size · d′ → d″ channels · t expansion · k kernel · s stride · "
                "engine = Σ the block's layers",
                "paper h·w·d′·t·(d′ + k² + d″), stride 1 only · stride-s form h·w·d′·t·d′ + h′·w′·t·d′·(k² + d″)")


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


PAIR_HEADERS = ["depthwise → pointwise", "M", "N", "D_K", "D_F", "separable", "standard", "ratio",
                "1/N + 1/D_K²", "reduction", ""]
BLOCK_HEADERS = ["block", "h×w", "h′×w′", "d′", "t", "k", "d″", "s", "engine", "paper", "stride-s form", ""]


def _head(v: Verification) -> str:
    r = v.report
    return f"{printable(v.architecture)}  α = {fmt_alpha(r.alpha)}  {r.resolution[0]}×{r.resolution[1]} input"


def _block_rows(v: Verification) -> list[list[str]]:
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
    return rows


def render_table(v: Verification, con) -> None:
    head = _head(v)
    if not v.pairs and not v.bottlenecks:
        con.print(f"{head}: no depthwise separable pairs or bottlenecks — nothing to verify", highlight=False)
    if v.pairs:
        rows = [row[:5] + [human(p.separable_madds), human(p.standard_madds)] + row[7:]
                for p, row in zip(v.pairs, _pair_rows(v))]
        _print_table(con, f"{head}  ·  depthwise separable pairs (MobileNetV1 paper, eq. 5)",
                     PAIR_HEADERS, rows)
        con.print(PAIR_LEGEND, style="dim", markup=False, highlight=False)
    if v.bottlenecks:
        rows = _block_rows(v)
        if v.pairs:
            con.print()
        _print_table(con, f"{head}  ·  bottleneck blocks (MobileNetV2 paper, section 5.1)",
                     BLOCK_HEADERS, rows)
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
        con.print(styled_parts(("whole network", "bold"),
                               f"  {n.madds:,} mult-adds ({human(n.madds)}) as built · "
                               f"{n.standard_madds:,} ({human(n.standard_madds, 2)}) with standard "
                               f"convolutions: {times(1 / n.ratio)} fewer"))
        con.print(f"standard = total − Σ separable + Σ standard over the {_n(len(v.pairs), 'pair')} = "
                  f"{n.madds:,} − {n.pairs_separable_madds:,} + {n.pairs_standard_madds:,}", style="dim")
    failures = v.failures()
    if failures:
        con.print(f"✗ {_n(len(failures), 'check')} failed", style="bold red")
        for line in failures:
            con.print(f"  {printable(line)}", markup=False, highlight=False)
    else:
        what = [_n(len(v.pairs), "pair")] if v.pairs else []
        what += [_n(len(v.bottlenecks), "bottleneck")] if v.bottlenecks else []
        if what:
            con.print(styled_parts(("✓", "green"), f" all exact: {' and '.join(what)}"))
    if v.unchecked:
        con.print(unchecked_line(v), style="dim", markup=False, highlight=False)


def unchecked_line(v: Verification, shown: int = 8) -> str:
    """The layers with a cost that no closed form covers, named (the first few)."""
    names = printable(", ".join(v.unchecked[:shown])) + (f", … ({len(v.unchecked) - shown} more)"
                                               if len(v.unchecked) > shown else "")
    return f"no closed form to check for {_n(len(v.unchecked), 'layer')}: {names}"


def verify_text(v: Verification, styled: bool = False, width: int | None = None, **_) -> str:
    return rich_text(lambda con: render_table(v, con), styled=styled, width=width)


def verify_json(v: Verification, **_) -> str:
    from .formats import json_text

    return json_text("verify", {**verification_dict(v), **setting(v.report)})


def _pair_rows(v: Verification) -> list[list[str]]:
    return [[_pair_name(p), str(p.M), str(p.N), _size(p.D_K), _size(p.D_F), f"{p.separable_madds:,}",
             f"{p.standard_madds:,}", str(p.ratio), str(p.formula), f"{times(p.reduction)} fewer",
             _mark(p.ok)] for p in v.pairs]


def verify_md(v: Verification, **_) -> str:
    r = v.report
    out = [f"**{_head(v)}**", ""]
    if v.pairs:
        out += ["Depthwise separable pairs (MobileNetV1 paper, eq. 5)", ""]
        out += md_table(PAIR_HEADERS, _pair_rows(v), set(range(1, 10))) + ["", PAIR_LEGEND, ""]
    if v.bottlenecks:
        out += ["Bottleneck blocks (MobileNetV2 paper, section 5.1)", ""]
        out += md_table(BLOCK_HEADERS, _block_rows(v), set(range(1, 11))) + [""] + list(BLOCK_LEGEND) + [""]
    if not v.pairs and not v.bottlenecks:
        out += ["No depthwise separable pairs or bottlenecks: nothing to verify.", ""]
    failures = v.failures()
    out += [f"✗ {_n(len(failures), 'check')} failed: " + printable("; ".join(failures))] if failures else \
        [f"✓ all exact ({fmt_alpha(r.alpha)}, {r.resolution[0]}×{r.resolution[1]})"]
    if v.unchecked:
        out += ["", unchecked_line(v)]
    return "\n".join(out) + "\n"
