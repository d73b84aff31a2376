"""``mbcost list`` as text: one row per built-in name — its title, and the source its file cites."""
from __future__ import annotations

import io

from ..analyses.catalog import Builtin
from ..core.multipliers import fmt_alpha
from .text import csv_writer, md_table, shape_text, text_table

HEADERS = ["name", "variant of", "α", "d", "input", "title", "source"]


def _cells(b: Builtin, short: bool = False) -> list[str]:
    return [b.name, b.file if b.variant is not None else "", fmt_alpha(b.alpha), fmt_alpha(b.depth),
            shape_text(b.resolution), b.title, cited(b.source) if short else b.source]


def cited(source: str, width: int = 48) -> str:
    """The authors and year a file's header cites ('Krizhevsky, Sutskever & Hinton, 2012'), for
    a table a terminal can hold; JSON, CSV and Markdown keep the whole paragraph."""
    text = source.split(" — ", 1)[-1].split(', "', 1)[0].split(" (", 1)[0]
    return text if len(text) <= width else text[:width - 1].rstrip() + "…"


def list_text(items: list[Builtin], styled: bool = False, **_) -> str:
    lines = text_table(HEADERS, [_cells(b, short=True) for b in items], set())
    if styled:
        lines[0] = f"\x1b[1m{lines[0]}\x1b[0m"
    return "\n".join(lines + ["", f"{len(items)} built-in names ({sum(b.variant is None for b in items)} files); "
                              "mbcost report NAME, or FILE@VARIANT"]) + "\n"


def list_md(items: list[Builtin], **_) -> str:
    return "\n".join(md_table(HEADERS, [_cells(b) for b in items])) + "\n"


def list_csv(items: list[Builtin], **_) -> str:
    buf = io.StringIO()
    w = csv_writer(buf)
    w.writerow(["name", "file", "variant", "alpha", "depth", "resolution", "title", "source"])
    for b in items:
        w.writerow([b.name, b.file, b.variant or "", fmt_alpha(b.alpha), fmt_alpha(b.depth),
                    f"{b.resolution[0]}x{b.resolution[1]}", b.title, b.source])
    return buf.getvalue()


def list_json(items: list[Builtin], **_) -> str:
    from .formats import json_text

    return json_text("list", {"builtins": [
        {"name": b.name, "file": b.file, "variant": b.variant, "alpha": fmt_alpha(b.alpha),
         "depth": fmt_alpha(b.depth), "resolution": list(b.resolution), "title": b.title,
         "source": b.source} for b in items]})
