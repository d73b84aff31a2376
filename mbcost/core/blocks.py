"""User-defined composite kinds (``blocks:``): parameters and a template of rows, and their
instantiation — every block call replaced by its rows, names scoped to the instance."""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from fractions import Fraction

from ..errors import SpecError
from .fields import Fields, value_at
from .kinds import writable
from .rows import RESERVED, BlockCall, Row, read_row
from .yamlio import Document, describe

MAX_ROWS = 100_000


@dataclass(frozen=True)
class BlockDef:
    """A user-defined composite kind: parameters and a template of rows (``blocks:``)."""

    name: str
    params: tuple[str, ...]
    rows: tuple[tuple, ...]  # document paths of the template rows


def read_blocks(doc: Document) -> dict[str, BlockDef]:
    raw = doc.data.get("blocks")
    if raw is None:
        return {}
    if not isinstance(raw, dict) or not raw:
        raise SpecError(f"expected a mapping of block names to {{params, rows}}, got {describe(raw)}",
                        field="blocks", where=doc.where(("blocks",)))
    out = {}
    for name in raw:
        f = Fields(doc, ("blocks", name), f"blocks.{name}", ("params", "rows"))
        if name in writable() or name in RESERVED:
            f.fail(("blocks", name), f"a block cannot be named {name!r}, a built-in kind", key=True)
        params = f.data.get("params", [])
        if not isinstance(params, list) or not all(isinstance(p, str) and p.isidentifier() for p in params):
            f.fail(("blocks", name, "params"), f"expected a list of parameter names, got {describe(params)}")
        rows = f.data.get("rows")
        if not isinstance(rows, list) or not rows:
            f.fail(("blocks", name), "expected 'rows', a non-empty list of layer rows")
        out[name] = BlockDef(name, tuple(params), tuple(("blocks", name, "rows", j) for j in range(len(rows))))
    return out


def instantiate(spec, depth: Fraction = Fraction(1)) -> list[Row]:
    """The rows of an :class:`~mbcost.core.spec.ArchSpec` with every block call replaced by its
    template rows, names scoped to the instance (``fire2.squeeze``) and repeats scaled by the
    depth multiplier (⌈n·d⌉ for rows that state n, as EfficientNet's compound scaling does)."""
    out: list[Row] = []
    counters: dict[str, int] = {}
    for row in spec.rows:
        if isinstance(row, Row):
            out.append(replace(row, n=repeats(row, depth), index=len(out)))
            continue
        n = repeats(row, depth)
        for j in range(n):
            if row.name:
                inst = row.name if n == 1 else f"{row.name}.{j + 1}"
            else:
                counters[row.kind] = counters.get(row.kind, 0) + 1
                inst = f"{row.kind}{counters[row.kind]}"
            source = row.inputs if j == 0 else None  # later repeats read the previous instance
            _instance(spec, row, inst, source, depth, out)
            exits = (inst,) + ((row.name,) if row.name and j == n - 1 and n > 1 else ())
            out[-1] = replace(out[-1], exit=out[-1].exit + exits)
        if len(out) > MAX_ROWS:
            raise SpecError(f"blocks expand to more than {MAX_ROWS} rows", field=f"{row.label}.n",
                            where=spec.document.where(row.path + ("n",)))
    return out


def _instance(spec, call: BlockCall, inst: str, source, depth, out: list[Row]) -> None:
    block = spec.blocks[call.kind]
    env = {**spec.params, **call.args}
    data = spec.document.data
    inner = {value_at(data, p).get("name") for p in block.rows if isinstance(value_at(data, p), dict)}
    for j, path in enumerate(block.rows):
        label = f"blocks.{block.name}.rows[{j}] (in {call.label})"
        row = read_row(spec.document, path, label, len(out), env, {})
        if isinstance(row, BlockCall):  # read_row was given no blocks, so this cannot happen
            raise AssertionError(row)

        def scoped(name: str) -> str:
            if name == "in":
                return f"{inst}.in"
            base = name.split(".")[0]
            return f"{inst}.{name}" if base in inner else name

        row = replace(row, name=f"{inst}.{row.name}" if row.name else None,
                      inputs=tuple(scoped(x) for x in row.inputs) if row.inputs else None,
                      n=repeats(row, depth), index=len(out), scope=inst,
                      enter=(f"{inst}.in", source) if j == 0 else None)
        out.append(row)


def repeats(row, depth: Fraction) -> int:
    return math.ceil(row.n * depth) if row.stage and depth != 1 else row.n
