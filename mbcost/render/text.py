"""Text helpers every renderer shares; of mbcost's types they know only a tensor's layout.

Exact integers are printed with thousands separators (300,774,272); only tables for people
abbreviate (300.8M). Markdown and LaTeX cells are escaped here, once.

**User text never drives the terminal.** Layer, block, node, device, budget and file names are
the user's (or an ONNX file's from a pull request), and an ESC, an OSC sequence (``\\x1b]0;…\\x07``
sets a terminal's title, OSC 52 writes its clipboard), a BEL, a CR or a newline in one reached
stdout raw. :func:`printable` is the one sanitiser: it shows each control character as its
escape (``\\x1b``, ``\\n``), and every text path uses it — the table, Markdown, CSV and LaTeX
helpers here on each cell, :func:`mbcost.render.formats.render` on each text output as a whole
(so no title or summary line can be forgotten), the HTML templates on everything they print,
and the CLI's one-line errors. JSON escapes control characters by definition; what it leaves
raw (DEL, C1, the line separators, bidirectional overrides) :func:`json_safe` escapes.
"""
from __future__ import annotations

import re
from fractions import Fraction

from ..core.graph import Tokens

Pair = tuple[int, int]


# C0 controls, DEL and C1 (ESC, BEL, CR, LF, and the 8-bit CSI 0x9b among them), the line and
# paragraph separators, and the bidirectional marks, embeddings, overrides and isolates, which
# reorder what a reader sees ("Trojan Source", CVE-2021-42574)
_FORMATTING = (0x061C, 0x200E, 0x200F, 0x2028, 0x2029, *range(0x202A, 0x202F), *range(0x2066, 0x206A))
_ESCAPES = {**{c: f"\\x{c:02x}" for c in (*range(0x20), *range(0x7F, 0xA0))},
            0x09: "\\t", 0x0A: "\\n", 0x0D: "\\r", **{c: f"\\u{c:04x}" for c in _FORMATTING}}
_UNPRINTABLE = re.compile("[" + "".join(re.escape(chr(c)) for c in _ESCAPES) + "]")
_UNPRINTABLE_IN_LINES = re.compile("[" + "".join(re.escape(chr(c)) for c in _ESCAPES if c != 0x0A) + "]")
_SGR = re.compile(r"(\x1b\[[0-9;]*m)")  # a style (bold, a colour): what a styled table is made of


def printable(text, *, lines: bool = False, styles: bool = False) -> str:
    """``text`` with every control character shown as its escape: ESC as ``\\x1b``, a newline
    as ``\\n``, U+202E as ``\\u202e``. With ``lines``, newlines are kept (a whole output's line
    breaks); with ``styles``, so are ANSI styles (``\\x1b[1m``), which a styled table for a
    terminal is made of — any other escape sequence, an OSC or a cursor move, is shown escaped.

    >>> printable("conv\\x1b]0;pwned\\x07")
    'conv\\\\x1b]0;pwned\\\\x07'
    >>> printable("a\\nb"), printable("a\\nb", lines=True)
    ('a\\\\nb', 'a\\nb')
    """
    text = str(text)
    pattern = _UNPRINTABLE_IN_LINES if lines else _UNPRINTABLE
    if pattern.search(text) is None:  # the usual case, one scan at C speed
        return text
    table = {c: e for c, e in _ESCAPES.items() if not (lines and c == 0x0A)}
    if not styles:
        return text.translate(table)
    parts = _SGR.split(text)  # styles at the odd indices
    return "".join(p if i % 2 else p.translate(table) for i, p in enumerate(parts))


_JSON_RAW = re.compile("[\x7f-\x9f" + "".join(chr(c) for c in _FORMATTING) + "]")


def json_safe(text: str) -> str:
    """JSON text with what ``json.dumps`` leaves raw in strings — DEL, the C1 controls, the
    line separators and the bidirectional overrides — written as ``\\u`` escapes, which JSON
    readers turn back into the same characters (it escapes C0 itself). They occur only inside
    strings, so replacing them keeps the document valid."""
    if _JSON_RAW.search(text) is None:
        return text
    return _JSON_RAW.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


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
    """'+0.26%'; past a million percent, in powers of ten ('+9.80e+12%'), never a hundred digits."""
    if ratio is None:
        return "n/a"
    if not ratio:
        return "0.00%"
    plus = "+" if sign else ""
    if abs(ratio) < 10**4:
        return f"{float(100 * ratio):{plus}.2f}%"
    from decimal import Decimal

    return f"{Decimal(100 * ratio.numerator) / Decimal(ratio.denominator):{plus}.2e}%"


def text_table(headers: list[str], rows: list[list[str]], right: set[int]) -> list[str]:
    """Fixed-width columns, two spaces apart. Rich's Table measures every cell and costs
    more than the whole analysis on a 60-layer network; this keeps ``report`` instant."""
    headers = [printable(h) for h in headers]
    rows = [[printable(c) for c in r] for r in rows]
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]

    def line(cells):
        return "  ".join(c.rjust(w) if i in right else c.ljust(w)
                         for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

    return [line(headers), "  ".join("─" * w for w in widths)] + [line(r) for r in rows]


def md_cell(text: str) -> str:
    """A Markdown table cell: control characters shown escaped (a newline as ``\\n``), runs of
    spaces folded, pipes and backslashes escaped."""
    return " ".join(printable(text).split()).replace("\\", "\\\\").replace("|", "\\|")


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
    return "".join(_LATEX_SPECIAL.get(ch, ch) for ch in " ".join(printable(text).split()))


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


def csv_writer(buf):
    """A ``csv.writer`` on ``buf`` whose text cells pass through :func:`printable`: a field with
    a newline would be valid CSV, quoted, but a terminal showing the file breaks the row, and an
    ESC in it drives the terminal all the same."""
    import csv

    writer = csv.writer(buf, lineterminator="\n")

    class Writer:
        @staticmethod
        def writerow(cells):
            return writer.writerow([printable(c) if isinstance(c, str) else c for c in cells])

    return Writer()


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
