"""Activation memory: tensor sizes, liveness in an execution order, the peak, the best order.

Definitions (docs/memory.md):

- a tensor is the network input or one layer's output, H·W·C elements; its bytes are
  elements × the activation dtype's size (fp32 4, fp16 and bf16 2, int8 1);
- **live memory at a step** (a step runs one layer, or one fused bottleneck in the chunked
  mode below): its inputs, its outputs, and every tensor produced earlier (the network input
  included) that a later step still reads, or that is one of the network's outputs (a
  detector's or segmenter's heads stay alive to the end). Nothing is computed in place, so a residual
  shortcut or a concat branch keeps its tensor alive until the join;
- **peak activation memory**: the largest live memory over the steps of the order.

Chunked bottlenecks (MobileNetV2 §6.2): a bottleneck expand (1×1) → depthwise → project
(1×1) can run in N chunks of ⌈n/N⌉ of its n expanded channels, accumulating the projection,
so the expanded tensor and the depthwise output are never whole. The three layers are then
one step whose live memory is

    |x| + |y| + ⌈n/N⌉·(H_in·W_in + H_out·W_out) + what stays alive across it

with x the block's input and y the projection's output. A bottleneck without an expansion
(V2's first block, t = 1) uses its depthwise input's producer as the expansion when that is
a conv read by nothing else (the paper's remark on V2's first layer).

Everything here works on names and channel counts only (core, no pandas): :func:`plan` fixes
the steps and which tensors each keeps alive from the graph's structure, which is the same at
every α and resolution, and :func:`evaluate` adds up sizes. The sweep uses the same plan.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

from .graph import NETWORK_INPUT, Graph

#: bytes per element of each dtype mbcost knows
DTYPES: dict[str, int] = {"fp32": 4, "fp16": 2, "bf16": 2, "int8": 1}


def dtype_bytes(name: str) -> int:
    return DTYPES[name]


@dataclass(frozen=True, slots=True)
class Step:
    """One step of an execution order: the layers it runs (one, or a fused bottleneck), the
    tensors alive while it runs, and which of those exist only as a chunk."""

    layers: tuple[str, ...]
    alive: tuple[str, ...]  # in first-produced order; the network input is 'input'
    chunked: tuple[str, ...] = ()


@dataclass(frozen=True)
class Plan:
    """The steps of one order over a graph, fixed by its structure alone."""

    steps: tuple[Step, ...]
    chunks: int = 0  # 0: every tensor whole; N ≥ 1: fused bottlenecks in N chunks

    def step_of(self) -> dict[str, int]:
        """Each layer's step index."""
        return {name: i for i, s in enumerate(self.steps) for name in s.layers}


# --- which layers fuse --------------------------------------------------------------------------

def fused_blocks(graph: Graph) -> list[tuple[str, ...]]:
    """The chunkable bottlenecks: (expansion, depthwise, projection) layer names, in order.

    A projection is a layer with role 'project' reading a depthwise conv; the expansion is the
    depthwise conv's producer when it is a conv read only by that depthwise conv and not
    already part of another fused block."""
    by_name = {L.name: L for L in graph.layers}
    readers = graph.consumers()
    taken: set[str] = set()
    out = []
    for L in graph.layers:
        if L.role != "project" or len(L.inputs) != 1:
            continue
        dw = by_name.get(L.inputs[0])
        if dw is None or dw.kind != "dwconv" or len(readers.get(dw.name, [])) != 1:
            continue
        ex = by_name.get(dw.inputs[0])
        if (ex is None or ex.kind != "conv" or len(readers.get(ex.name, [])) != 1
                or ex.name in taken or (ex.block is not None and ex.block != dw.block)):
            continue
        out.append((ex.name, dw.name, L.name))
        taken.update((ex.name, dw.name, L.name))
    return out


# --- liveness -----------------------------------------------------------------------------------

def _units(graph: Graph, chunks: int) -> list[tuple[str, ...]]:
    """The graph's layers grouped into the steps that run together, in file order."""
    groups = {names[0]: names for names in fused_blocks(graph)} if chunks else {}
    inside = {n for names in groups.values() for n in names}
    units = []
    for L in graph.layers:
        if L.name in groups:
            units.append(groups[L.name])
        elif L.name not in inside:
            units.append((L.name,))
    return units


def plan(graph: Graph, chunks: int = 0, order: Sequence[str] | None = None) -> Plan:
    """The steps of the file's execution order (or of ``order``, a list of layer names with
    each fused bottleneck named by its first layer) and the tensors alive at each."""
    units = _units(graph, chunks)
    if order is not None:
        by_first = {u[0]: u for u in units}
        units = [by_first[n] for n in order]
    # a split's parts are views of its output: reading sp.1 keeps the tensor sp alive
    owner = {t: L.name for L in graph.layers for t, _ in L.outputs()}
    inputs = {L.name: tuple(owner.get(s, s) for s in L.data_inputs) for L in graph.layers}
    produced_at = {NETWORK_INPUT: -1}
    for i, u in enumerate(units):
        for n in u:
            produced_at[n] = i
    last_read: dict[str, int] = {}
    for i, u in enumerate(units):
        for n in u:
            for src in inputs[n]:
                last_read[src] = i
    # the network's outputs are its results: a detector's first head, made early, is still held
    # when the last one is made (each is read by whatever decodes the boxes, after the network)
    for t in graph.outputs:
        last_read[owner.get(t, t)] = len(units) - 1
    chunked_names = {n for u in units if len(u) == 3 for n in u[:2]}
    # alive at step i: written by it, or written before and read at or after it — an interval
    # [produced, max(produced, last read)] per tensor, swept once (a 100k-layer file is linear)
    ends: dict[int, list[str]] = {}
    starts: dict[int, list[str]] = {}
    for t, p in produced_at.items():
        starts.setdefault(p, []).append(t)
        ends.setdefault(max(p, last_read.get(t, p)), []).append(t)
    active: dict[str, None] = dict.fromkeys(starts.get(-1, ()))  # production order, as before
    for t in ends.get(-1, ()):
        active.pop(t, None)
    steps = []
    for i, u in enumerate(units):
        active.update(dict.fromkeys(starts.get(i, ())))
        alive = tuple(active)
        steps.append(Step(u, alive, tuple(t for t in alive if t in chunked_names and produced_at[t] == i)
                          if chunked_names else ()))
        for t in ends.get(i, ()):
            active.pop(t, None)
    return Plan(tuple(steps), chunks)


def effective(channels: dict[str, int], plan_: Plan) -> dict[str, int]:
    """Channels each tensor occupies while alive: ⌈C/N⌉ for a chunked tensor, else C."""
    out = dict(channels)
    if plan_.chunks:
        for s in plan_.steps:
            for t in s.chunked:
                out[t] = -(-channels[t] // plan_.chunks)
    return out


@dataclass(frozen=True)
class Peak:
    """The peak of one order: its live memory in elements, the step, and what is alive."""

    elements: int
    step: int
    layers: tuple[str, ...]
    alive: tuple[str, ...]
    live: tuple[int, ...]  # live elements at every step


def evaluate(plan_: Plan, elements: dict[str, int]) -> Peak:
    """Live elements at every step and the first step where the largest occurs.
    ``elements``: each tensor's size as it is alive (chunked tensors already reduced)."""
    live = tuple(sum(elements[t] for t in s.alive) for s in plan_.steps)
    i = max(range(len(live)), key=live.__getitem__) if live else 0
    s = plan_.steps[i] if live else Step((), ())
    return Peak(live[i] if live else elements.get(NETWORK_INPUT, 0), i, s.layers, s.alive, live)


def timeline(graph: Graph, elements: dict[str, int], chunks: int = 0, order: Sequence[str] | None = None,
             times: int = 1) -> list[tuple[Step, int]]:
    """Every step of an order (the file's, or ``order`` as :func:`plan` takes it, e.g. a
    :class:`BestOrder`'s) with its live memory: elements × ``times`` (the activation dtype's
    bytes, for bytes). What a memory timeline draws: its largest value is the order's peak,
    and each step's ``alive`` the tensors that make it up."""
    p = plan(graph, chunks, order)
    return [(s, n * times) for s, n in zip(p.steps, evaluate(p, elements).live)]


# --- the best order -----------------------------------------------------------------------------

MAX_STATES = 200_000


@dataclass(frozen=True)
class BestOrder:
    """The order with the least peak found, and whether it is provably the least."""

    order: tuple[str, ...]  # each step's first layer
    peak: int  # elements
    exact: bool  # True: the minimum over every topological order (the search finished)
    states: int  # how many sets of finished steps the search visited


MAX_SEARCH_STEPS = 2000  # beyond this the search's per-state work dominates: file order instead


def _forced(units, inputs, idx) -> bool:
    """True when the file's order is the only one: every step reads the step before it."""
    return all(any(src != NETWORK_INPUT and idx[src] == i - 1 for n in u for src in inputs[n])
               for i, u in enumerate(units) if i)


def best_order(graph: Graph, elements: dict[str, int], chunks: int = 0,
               max_states: int = MAX_STATES) -> BestOrder:
    """The execution order of least peak activation memory.

    Exact search over the *downsets* of the step DAG (sets of finished steps closed under
    "runs before"): from a downset S, running a ready step u costs live(S) + its outputs, where
    live(S) is every tensor produced in S (or the input) that a step outside S still reads;
    the order's peak is the largest such cost, and each downset keeps the least peak of any way
    to reach it (a bottleneck shortest path, processed by |S|). A chain has n + 1 downsets, a
    series-parallel graph the product of its parallel branches' lengths, so the search is exact
    and fast for the graphs of today; past ``max_states`` it falls back to a greedy order (run
    the ready step of least cost) and says ``exact=False``.
    """
    units = _units(graph, chunks)
    idx = {n: i for i, u in enumerate(units) for n in u}
    owner = {t: L.name for L in graph.layers for t, _ in L.outputs()}
    inputs = {L.name: tuple(owner.get(s, s) for s in L.data_inputs) for L in graph.layers}
    if _forced(units, inputs, idx) or len(units) > MAX_SEARCH_STEPS:
        # one order is possible (each step reads the one before), or the graph is too large to
        # search: the file's order, exact only in the first case
        p = evaluate(plan(graph, chunks), elements)
        return BestOrder(tuple(u[0] for u in units), p.elements, len(units) <= MAX_SEARCH_STEPS, 1)
    preds = [0] * len(units)
    for i, u in enumerate(units):
        for n in u:
            for src in inputs[n]:
                if src != NETWORK_INPUT and idx[src] != i:
                    preds[i] |= 1 << idx[src]
    readers: dict[str, int] = {}  # tensor → bitmask of the steps that read it
    for i, u in enumerate(units):
        for n in u:
            for src in inputs[n]:
                if src == NETWORK_INPUT or idx[src] != i:
                    readers[src] = readers.get(src, 0) | 1 << i
    for t in graph.outputs:  # an output is read after the last step: held to the end, as plan() holds it
        src = owner.get(t, t)
        readers[src] = readers.get(src, 0) | 1 << len(units)
    # the search tracks layers: a split's parts are alive as one (they are its input's memory)
    elements = {NETWORK_INPUT: elements[NETWORK_INPUT],
                **{L.name: sum(elements[t] for t, _ in L.outputs()) for L in graph.layers}}
    outs = [sum(elements[n] for n in u) for u in units]
    tensors = [NETWORK_INPUT] + [n for u in units for n in u]
    producer = {NETWORK_INPUT: -1, **idx}
    full = (1 << len(units)) - 1

    def live(done: int) -> int:
        return sum(elements[t] for t in tensors
                   if (producer[t] < 0 or done >> producer[t] & 1) and readers.get(t, 0) & ~done)

    # Each downset's live memory and ready steps follow from its parent's in the work of the step
    # just run (what it makes that is read later, what it was the last reader of, whom it frees):
    # the search costs the graph's width per state, not its length — a detector's 250,000 states
    # took seconds when both were recounted over every step.
    freed = [tuple(dict.fromkeys(src for n in u for src in inputs[n] if producer[src] != i))
             for i, u in enumerate(units)]
    succs: list[list[int]] = [[] for _ in units]
    for j, mask in enumerate(preds):
        for i in _bits(mask):
            succs[i].append(j)

    def child(done: int, base: int, ready: int, i: int) -> tuple[int, int]:
        key = done | 1 << i
        base += sum(elements[n] for n in units[i] if readers.get(n, 0) & ~key)
        base -= sum(elements[t] for t in freed[i] if not readers[t] & ~key)
        ready &= ~(1 << i)
        for j in succs[i]:
            if not preds[j] & ~key:
                ready |= 1 << j
        return base, ready

    start = sum(1 << i for i in range(len(units)) if not preds[i])
    frontier = {0: (0, live(0), start)}  # downset → (least peak reaching it, its live, its ready steps)
    back: dict[int, tuple[int, int]] = {}  # downset → (the downset before it, the step run)
    visited = 1
    for _ in range(len(units)):
        nxt: dict[int, tuple[int, int, int]] = {}
        for done, (peak, base, ready) in frontier.items():
            for i in _bits(ready):
                cost = max(peak, base + outs[i])
                key = done | 1 << i
                seen = nxt.get(key)
                if seen is None:
                    nxt[key] = (cost, *child(done, base, ready, i))
                elif cost < seen[0]:
                    nxt[key] = (cost, seen[1], seen[2])
                else:
                    continue
                back[key] = (done, i)
        visited += len(nxt)
        if visited > max_states:
            return _greedy(units, preds, outs, live, visited)
        frontier = nxt
    if full not in frontier:
        return BestOrder((), 0, True, visited)
    order, key = [], full
    while key:
        key, i = back[key]
        order.append(i)
    return BestOrder(tuple(units[i][0] for i in reversed(order)), frontier[full][0], True, visited)


def _bits(mask: int):
    """The set bits of ``mask``, lowest first (the steps in file order)."""
    while mask:
        low = mask & -mask
        yield low.bit_length() - 1
        mask ^= low


def _greedy(units, preds, outs, live, visited) -> BestOrder:
    done, peak, order = 0, 0, []
    for _ in range(len(units)):
        base = live(done)
        ready = [i for i in range(len(units)) if not done >> i & 1 and not preds[i] & ~done]
        i = min(ready, key=lambda j: (base + outs[j], j))
        peak = max(peak, base + outs[i])
        done |= 1 << i
        order.append(i)
    return BestOrder(tuple(units[i][0] for i in order), peak, False, visited)


# --- many configurations at once (the sweep) -----------------------------------------------------

@dataclass(frozen=True)
class AreaClasses:
    """The tensors of a plan grouped by their map areas across a grid of resolutions: tensors
    whose H·W agree at every resolution form one class k, with ``areas[k][j]`` its area at
    resolution j. Fixed by the structure and the resolutions, so a sweep builds it once and
    evaluates every α against it."""

    of: dict[str, int]  # tensor name → its class
    areas: tuple[tuple[int, ...], ...]  # class → area at each resolution
    matrix: object = None  # numpy int64, resolutions × classes (the large-grid path), else None


def area_classes(plan_: Plan, areas: Sequence[dict[str, int]], vectorised: bool = False) -> AreaClasses:
    """:class:`AreaClasses` of ``plan_``'s tensors at ``areas`` (one {tensor: H·W} per resolution).
    ``vectorised``: also hold them as a numpy matrix (H·W ≤ 65,536² < 2³³ fits int64)."""
    tensors = list(dict.fromkeys(t for s in plan_.steps for t in s.alive))
    columns = [tuple(a[t] for a in areas) for t in tensors] if areas else [() for _ in tensors]
    classes: dict[tuple, int] = {}
    of = {t: classes.setdefault(col, len(classes)) for t, col in zip(tensors, columns)}
    table = tuple(classes)
    matrix = None
    if vectorised and table:
        import numpy as np

        matrix = np.array(table, dtype=np.int64).reshape(len(table), len(areas)).T.copy()
    return AreaClasses(of, table, matrix)


_INT64 = 2**63 - 1


def peak_grid(plan_: Plan, classes: AreaClasses, channels: dict[str, int], times: int = 1):
    """Peak live elements × ``times`` (the activation dtype's bytes, for the peak in bytes) at
    one α (``channels``: each tensor's channel count) at every resolution of ``classes``,
    exactly what :func:`evaluate` gives for each, without visiting every step at every
    resolution: a list of ints, or a numpy array when ``classes`` holds a matrix (int64, or
    exact Python integers when a value could pass 2⁶³ − 1).

    A step's live elements are Σ_k c_k·A_k with c_k its alive channels in area class k (α
    only) and A_k the class's area (resolution only). A step whose coefficients another step's
    match or exceed in every class can never be the larger one, so only the undominated steps
    are evaluated (a few per stride stage, not every layer)."""
    eff = effective(channels, plan_)
    of = classes.of
    by_support: dict[tuple, list[tuple]] = {}
    for s in plan_.steps:
        coef: dict[int, int] = {}
        for t in s.alive:
            k = of[t]
            coef[k] = coef.get(k, 0) + eff[t]
        support = tuple(sorted(coef))
        by_support.setdefault(support, []).append(tuple(coef[k] for k in support))
    # × times before the max: max(times·x) = times·max(x), and the bound below then covers it
    vectors = [(support, tuple(times * c for c in v)) for support, vs in by_support.items()
               for v in _undominated(vs)]
    if classes.matrix is not None:
        import numpy as np

        weights = np.zeros((len(classes.areas), len(vectors)), dtype=object)
        for j, (support, v) in enumerate(vectors):
            weights[list(support), j] = v
        A = classes.matrix
        # the largest live sum bounds every entry: int64 when it fits, exact integers if not
        bound = int(A.max(initial=0)) * max((sum(v) for _, v in vectors), default=0)
        if bound <= _INT64:
            return (A @ weights.astype(np.int64)).max(axis=1)
        return (A.astype(object) @ weights).max(axis=1)
    columns = [[sum(c * a for c, a in zip(v, col)) for col in zip(*(classes.areas[k] for k in support))]
               for support, v in vectors]
    return list(map(max, *columns)) if len(columns) > 1 else columns[0]


def _undominated(vectors: list[tuple]) -> list[tuple]:
    if len(vectors[0]) == 1:
        return [max(vectors)]
    keep: list[tuple] = []
    for v in sorted(set(vectors), key=sum, reverse=True):
        if not any(all(x <= y for x, y in zip(v, w)) for w in keep):
            keep.append(v)
    return keep


def sizes(shapes: Iterable[tuple[str, tuple[int, int, int]]]) -> dict[str, int]:
    """Tensor name → H·W·C."""
    return {n: h * w * c for n, (h, w, c) in shapes}
