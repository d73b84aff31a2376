"""What the kinds that only move or view data share: one output tensor named by the row, of
the input's channels."""
from __future__ import annotations


def passthrough(ex, row, **kw) -> None:
    """Emit the row's one layer on the current tensor, keeping its channels."""
    (name,) = ex.repeat_names(row, row.kind)
    ex.emit(name, row.kind, ex.cur, **kw)
