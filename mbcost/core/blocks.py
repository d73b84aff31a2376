"""User-defined composite kinds (``blocks:``): parameters and a template of rows, and their
instantiation — every block call replaced by its rows, names scoped to the instance."""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from fractions import Fraction

from ..errors import SpecError
from .fields import Fields, value_at
from .kinds import KINDS, writable
from .rows import RESERVED, BlockCall, Row, read_row
from .yamlio import Document, describe

MAX_ROWS = 100_000  # rows made, each counted n times (every repeat is at least one layer)
# template rows read while instantiating, those whose `if` is false included: 2,000 false rows
# in a block called 2,000 times made 4 million reads from a 94 KB file (minutes) while the
# rows made stayed under MAX_ROWS. A read costs ~20 µs, so this bounds the reading to ~0.5 s;
# the largest built-in reads 131 rows
MAX_READS = 25_000


@dataclass(frozen=True)
class BlockDef:
    """A user-defined composite kind: parameters and a template of rows (``blocks:``)."""

    name: str
    params: tuple[str, ...]
    rows: tuple[tuple, ...]  # document paths of the template rows
    doc: Document | None = field(default=None, compare=False, repr=False)  # the file that defines it
    defaults: object = None  # that file's settings (rows.Defaults), which its rows use


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
        out[name] = BlockDef(name, tuple(params), tuple(("blocks", name, "rows", j) for j in range(len(rows))), doc)
    _refuse_cycles(doc, out)
    return out


def _refuse_cycles(doc: Document, blocks: dict[str, BlockDef]) -> None:
    """A block may use other blocks, never itself through them: the first use that closes a
    cycle is refused, naming the cycle."""
    # only a name can call a block: any other value is refused where the row is read
    calls = {name: [(p, value_at(doc.data, p).get("kind")) for p in b.rows if isinstance(value_at(doc.data, p), dict)
                    and isinstance(value_at(doc.data, p).get("kind"), str)]
             for name, b in blocks.items()}

    def visit(name: str, stack: tuple) -> None:
        for path, kind in calls[name]:
            if kind in stack:
                raise SpecError(f"block {kind!r} uses itself: {' → '.join(stack[stack.index(kind):] + (kind,))}",
                                field=f"blocks.{name}.rows[{path[-1]}].kind", where=doc.where(path + ("kind",)))
            if kind in blocks:
                visit(kind, stack + (kind,))

    for name in blocks:
        visit(name, (name,))


def instantiate(spec, depth: Fraction = Fraction(1)) -> list[Row]:
    """The rows of an :class:`~mbcost.core.spec.ArchSpec` with every block call replaced by its
    template rows — blocks may call blocks — names scoped to the instance (``fire2.squeeze``,
    ``stage1.uib2.dw``), rows whose ``if:`` is false left out, and repeats scaled by the depth
    multiplier (⌈n·d⌉ for rows that state n, as EfficientNet's compound scaling does). The row
    cap holds as the rows are made, so no file can ask for more work than it."""
    out: list[Row] = []
    counters: dict[tuple, int] = {"reads": 0, "repeats": 0}
    for row in spec.rows:
        if isinstance(row, Row):
            out.append(replace(row, n=repeats(row, depth), index=len(out)))
            _cap(spec, row, out, counters)
        else:
            _call(spec, row, depth, out, counters, None, ())
    return out


def _cap(spec, row, out: list, counters: dict) -> None:
    """Refuse as soon as the rows made, repeats included, pass :data:`MAX_ROWS`: a row of
    n: 1000 in three nested calls of n: 1000 is refused at its 101st copy, not at 10¹² layers."""
    counters["repeats"] += out[-1].n
    if counters["repeats"] > MAX_ROWS:
        raise SpecError(f"blocks expand to more than {MAX_ROWS} rows (each repeat counted; n and --depth "
                        "multiply)", field=f"{row.label}.n",
                        where=row.doc.where(row.path + ("n",)))


def _call(spec, call: BlockCall, depth, out: list[Row], counters: dict, scope: str | None, stack: tuple) -> None:
    """The rows of each repeat of one block call, inside the instance ``scope`` (None: the top)."""
    if call.kind in stack:
        raise SpecError(f"block {call.kind!r} uses itself: {' → '.join(stack + (call.kind,))}",
                        field=f"{call.label}.kind", where=call.doc.where(call.path + ("kind",)))
    n = repeats(call, depth)
    alias = (f"{scope}.{call.name}" if scope else call.name) if call.name else None
    for j in range(n):
        if alias:
            inst = alias if n == 1 else f"{alias}.{j + 1}"
        else:
            counters[scope, call.kind] = counters.get((scope, call.kind), 0) + 1
            inst = f"{scope + '.' if scope else ''}{call.kind}{counters[scope, call.kind]}"
        source = call.inputs if j == 0 else None  # later repeats read the previous instance
        start = len(out)
        _instance(spec, call, inst, depth, out, counters, stack + (call.kind,))
        if call.times > 1:
            out[start:] = [replace(r, times=r.times * call.times) for r in out[start:]]
        if len(out) == start:
            raise SpecError(f"block {call.kind!r} has no row whose 'if' holds here", field=call.label,
                            where=call.doc.where(call.path))
        # the instance's first row binds its `in` (an enclosing instance's binding comes first)
        out[start] = replace(out[start], enter=((f"{inst}.in", source),) + out[start].enter)
        exits = (inst,) + ((alias,) if alias and j == n - 1 and n > 1 else ())
        out[-1] = replace(out[-1], exit=out[-1].exit + exits)


def _instance(spec, call: BlockCall, inst: str, depth, out: list[Row], counters: dict, stack: tuple) -> None:
    block = spec.blocks[call.kind]
    env = {**spec.params, **call.args}
    data = block.doc.data
    inner = {value_at(data, p).get("name") for p in block.rows if isinstance(value_at(data, p), dict)}

    def scoped(name: str) -> str:
        if name == "in":
            return f"{inst}.in"
        # an inner row's name, its split's part (sp.1), or a dotted inner name (conv.0.0)
        inner_name = name in inner or name.split(".")[0] in inner or any(
            i and name.startswith(f"{i}.") for i in inner)
        return f"{inst}.{name}" if inner_name else name

    for j, path in enumerate(block.rows):
        label = f"blocks.{block.name}.rows[{j}] (in {call.label})"
        counters["reads"] += 1
        if counters["reads"] > MAX_READS:  # the work, not only the rows made, is capped as it happens
            raise SpecError(f"blocks expand to more than {MAX_READS} template rows read (rows whose 'if' is "
                            "false count too)", field=f"{call.label}.n", where=call.doc.where(call.path))
        row = read_row(block.doc, path, label, len(out), env, spec.blocks)
        if row is None:  # its `if` is false for this instance
            continue
        inputs = tuple(scoped(x) for x in row.inputs) if row.inputs else None
        if isinstance(row, BlockCall):
            _call(spec, replace(row, inputs=inputs, label=label, part=call.part), depth, out, counters, inst, stack)
            continue
        refs = {f: scoped(getattr(row.args, f)) for f in KINDS[row.kind].refs if getattr(row.args, f) is not None}
        out.append(replace(row, name=f"{inst}.{row.name}" if row.name else None, inputs=inputs,
                           weights=scoped(row.weights) if row.weights else None,
                           args=replace(row.args, **refs) if refs else row.args,
                           n=repeats(row, depth), index=len(out), scope=inst, defaults=block.defaults,
                           part=call.part))
        _cap(spec, row, out, counters)


def repeats(row, depth: Fraction) -> int:
    return math.ceil(row.n * depth) if row.stage and depth != 1 else row.n
