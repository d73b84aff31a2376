"""``mbcost reproduce``: every published MobileNet number, recomputed and compared."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from ..analyses.reproduce import load_published, reproduce, select, summarize
from ..errors import UsageError
from .app import app
from .options import Output, choose_format, output_format, write

@app.command("reproduce", epilog="Examples:\n\n"
             "  mbcost reproduce\n\n"
             "  mbcost reproduce --source slim\n\n"
             "  mbcost reproduce --format json | jq '.entries[] | select(.status != \"ok\")'\n\n"
             "  mbcost reproduce --data my_numbers.yaml\n\n"
             "A value matches when our exact count, truncated or rounded to the printed digits, "
             "equals them. ✓ match · ✗ a documented mismatch (the reason is printed). "
             "Exit codes: 0 every value matches or is explained, 1 an unexplained mismatch or "
             "an explanation that no longer applies, 2 bad input.")
def reproduce_cmd(
    fmt: output_format("reproduce") = None,
    output: Output = None,
    source: Annotated[Optional[str], typer.Option(
        "--source", "-s", help="Only sources whose key or citation contains this text (e.g. v1-paper, slim, keras).",
        show_default=False)] = None,
    data: Annotated[Optional[Path], typer.Option(
        "--data", help="A published-numbers file in the format of the packaged one.",
        dir_okay=False, show_default="the packaged mbcost/published.yaml")] = None,
) -> int:
    """Recompute every published MobileNet mult-add and parameter count (V1 and V2 papers, TF-slim, Keras, torchvision, timm) under the source's counting convention, and compare with the printed digits."""
    fmt = choose_format("reproduce", fmt, output)
    entries = load_published(data)
    chosen = select(entries, source)
    if not chosen:
        keys = sorted({e.source.key for e in entries})
        raise UsageError(f"no published source matches {source!r}; sources: {', '.join(keys)}",
                         field="--source")
    outcomes = reproduce(chosen)
    summary = summarize(outcomes)
    write("reproduce", fmt, outcomes, output)
    return 0 if summary.ok else 1


