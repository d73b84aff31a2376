"""Text helpers every renderer shares; of mbcost's types they know only a tensor's layout.

Exact integers are printed with thousands separators (300,774,272); only tables for people
abbreviate (300.8M). Markdown and LaTeX cells are escaped here, once.
"""
from __future__ import annotations

from fractions import Fraction

from ..core.graph import Tokens

Pair = tuple[int, int]


def human(n: int | float, digits: int = 1) -> str:
    """568740352 → '568.7M', 4209088 with digits=2 → '4.21M', 864 → '864'."""
    for div, unit in ((10**9, "G"), (10**6, "M"), (10**3, "K")):
        if abs(n) >= div:
            return f"{n / div:.{digits}f}{unit}"
    return f"{n:,}" if isinstance(n, int) else f"{n:.{digits}f}"


def shape_text(shape, sep: str = "×") -> str:
    """112×112×32 for a map; 197×768 for a sequence of tokens (4·64×96: 4 sequences of 64);
    the attention scores N_q×N_kv×heads."""
    if isinstance(shape, Tokens):
        n, s, c = shape
        return sep.join(map(str, (n, c))) if s == 1 else f"{s}·{n}{sep}{c}"
    return sep.join(map(str, shape))


def res_text(res: Pair, sep: str = "x") -> str:
    """224 for a square input, 224x160 otherwise."""
    return str(res[0]) if res[0] == res[1] else f"{res[0]}{sep}{res[1]}"


def square(pair: Pair) -> int | list[int]:
    """The JSON contract: an integer for square kernels/strides, [h, w] otherwise."""
    return pair[0] if pair[0] == pair[1] else list(pair)


def signed(n: int) -> str:
    return f"{n:+,}" if n else "0"


def percent(ratio: Fraction | None, *, sign: bool = True) -> str:
    if ratio is None:
        return "n/a"
    if not ratio:
        return "0.00%"
    return f"{float(100 * ratio):{'+' if sign else ''}.2f}%"


def text_table(headers: list[str], rows: list[list[str]], right: set[int]) -> list[str]:
    """Fixed-width columns, two spaces apart. Rich's Table measures every cell and costs
    more than the whole analysis on a 60-layer network; this keeps ``report`` instant."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]

    def line(cells):
        return "  ".join(c.rjust(w) if i in right else c.ljust(w)
                         for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

    return [line(headers), "  ".join("─" * w for w in widths)] + [line(r) for r in rows]


def md_cell(text: str) -> str:
    """A Markdown table cell: pipes and backslashes escaped, line breaks folded."""
    return " ".join(str(text).split()).replace("\\", "\\\\").replace("|", "\\|")


def md_table(headers: list[str], rows: list[list[str]], right: set[int] = frozenset()) -> list[str]:
    lines = ["| " + " | ".join(md_cell(h) for h in headers) + " |",
             "|" + "|".join("---:" if i in right else "---" for i in range(len(headers))) + "|"]
    return lines + ["| " + " | ".join(md_cell(c) for c in row) + " |" for row in rows]


_LATEX_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#",
                  "_": r"\_", "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}",
                  "^": r"\textasciicircum{}", "α": r"$\alpha$", "ρ": r"$\rho$", "×": r"$\times$",
                  "<": r"\textless{}", ">": r"\textgreater{}", "→": r"$\rightarrow$",
                  "−": r"$-$", "✓": r"\checkmark{}", "✗": r"$\times$", "·": r"$\cdot$",
                  "′": r"$'$", "″": r"$''$", "²": r"$^2$", "Δ": r"$\Delta$"}


def latex_escape(text: str) -> str:
    """Text safe in a LaTeX paragraph: specials escaped, line breaks (a blank line would end
    the caption) folded into spaces."""
    return "".join(_LATEX_SPECIAL.get(ch, ch) for ch in " ".join(str(text).split()))


def latex_label(text: str) -> str:
    kept = "".join(ch if ch.isascii() and (ch.isalnum() or ch in "_.:") else "-" for ch in text)
    return "-".join(part for part in kept.split("-") if part) or "table"


def latex_table(headers: list[str], rows: list[list[str]], *, caption: str, label: str,
                right: set[int] = frozenset(), note: str = "") -> str:
    """A booktabs table with caption and label, ready for a document that loads booktabs."""
    spec = "".join("r" if i in right else "l" for i in range(len(headers)))
    lines = [f"% {note or 'mbcost'}: needs \\usepackage{{booktabs}}",
             "\\begin{table}[htbp]", "  \\centering",
             f"  \\caption{{{latex_escape(caption)}}}", f"  \\label{{tab:{latex_label(label)}}}",
             f"  \\begin{{tabular}}{{{spec}}}", "    \\toprule",
             "    " + " & ".join(latex_escape(h) for h in headers) + " \\\\", "    \\midrule"]
    lines += ["    " + " & ".join(latex_escape(c) for c in row) + " \\\\" for row in rows]
    lines += ["    \\bottomrule", "  \\end{tabular}", "\\end{table}"]
    return "\n".join(lines) + "\n"


def rich_text(draw, *, styled: bool, width: int | None) -> str:
    """What a rich-drawing function prints, as text: ANSI styles only when ``styled``.

    The one path by which text reaches rich, and it never reads markup: layer, file, budget
    and source names are the user's, and a name such as ``[/]`` crashed rich (MarkupError)
    while ``[bold]x`` silently lost its brackets. Strings — table titles and cells included —
    print exactly as given; styles come only from ``style=`` and :func:`styled_parts`."""
    import io

    from rich.console import Console

    buf = io.StringIO()
    draw(Console(file=buf, width=width or 120, force_terminal=styled, no_color=not styled,
                 markup=False, emoji=False, highlight=False))
    return buf.getvalue()


def styled_parts(*parts):
    """A line with styled pieces, for a console of :func:`rich_text`: each part is a plain
    string or a (string, style) pair — ``styled_parts(("✓", "green"), " all exact")``."""
    from rich.text import Text

    return Text.assemble(*parts)
