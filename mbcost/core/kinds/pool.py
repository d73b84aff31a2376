"""``pool``: average or max pooling over a k×k window, or over the whole map (``global: true``);
over a sequence of tokens, ``global`` pooling averages the tokens (or takes their maximum), and
``op: token`` takes the first — ViT's class token — as the classifier's input.

Cost: no weights, so no mult-adds and no parameters in the papers' count. Its per-element work
— a sum or a max over each window — is what some FLOP counters charge, and how they charge it
depends on how the implementation calls the pool (an ``nn.AdaptiveAvgPool2d`` module or
``F.adaptive_avg_pool2d`` in ``forward``: :class:`mbcost.core.peers.Implementation`). The
rules below were read from each counter's source (docs/peers.md cites the lines) and checked
against measured totals. Takes no BN or bias. Timed as one add (or max) per element of
its windows (latency class ``pool``, which the add constant prices), plus the bytes it moves.

Row keys: op (avg | max | token), k (window), s (k), global, padding (same), ceil (PyTorch's
ceil_mode), n.
"""
from __future__ import annotations

from dataclasses import dataclass

from ...errors import GraphError
from ..graph import Layer, Pair, Scores, Shape, Tokens, layout
from ..kind import Counting, Factor, Kind, window
from ..spatial import spatial


@dataclass(frozen=True)
class PoolArgs:
    op: str = "avg"
    k: Pair = (1, 1)
    s: Pair = (1, 1)
    global_: bool = False
    padding: str | Pair = "same"
    ceil: bool = False


def read(f) -> PoolArgs:
    padding = f.padding()
    k = f.kernel()
    s = f.stride(k)
    args = PoolArgs(op=f.choice("op", ("avg", "max", "token"), "avg"), k=k, s=s,
                    global_=f.boolean("global", False), padding=padding, ceil=bool(f.boolean("ceil", False)))
    if not args.global_ and not f.has("k"):
        f.missing("a pool needs 'k' (window) or 'global: true'")
    if args.op == "token" and not args.global_:
        f.fail_key("op", "'op: token' takes the first token of a sequence: give 'global: true'")
    return args


def expand(ex, row) -> None:
    a: PoolArgs = row.args
    for name in ex.repeat_names(row, "pool"):
        ex.emit(name, "pool", ex.cur, k=a.k, s=a.s, op=a.op, global_=a.global_, padding=a.padding, ceil=a.ceil)


def shape(layer: Layer, inputs: list[Shape]) -> Shape:
    x = inputs[0]
    h, w, c = x
    if isinstance(x, Scores) or layer.op == "token" and not isinstance(x, Tokens):
        raise GraphError(f"a {layer.op} pool of {layout(x)}: 'op: token' takes the first of a sequence of "
                         "tokens; avg and max pool a map or a sequence", field=layer.name)
    return (1, 1, c) if layer.global_ else (*spatial(layer, x), c)


def factor(layer: Layer, m: list[int], conv) -> Factor:
    """Average or max pooling: no mult-adds and no parameters in the papers' count."""
    return Factor(0, 0)


def elements(r) -> dict:
    """The pool's type (avg, max, global_avg, global_max; tokens_avg, tokens_max over a sequence)
    and its input and output elements. Taking the class token is a view: no elements."""
    op = r.layer.op or "avg"
    if op == "token":
        return {}
    (hi, wi, ci), (ho, wo, co) = r.input_shape, r.output_shape
    kind = f"tokens_{op}" if isinstance(r.input_shape, Tokens) else f"global_{op}" if r.layer.global_ else op
    return {"pool": kind, "pool_in": hi * wi * ci, "pool_out": ho * wo * co}


POOLS = ("avg", "max", "global_avg", "global_max")


def charges(per: dict[tuple[str, str], tuple[int, int]]):
    """A counter's pool rule: (pool type, how it is called) → (per input element, per output
    element); a pair missing from ``per`` counts nothing."""
    def terms(e, impl):
        c_in, c_out = per.get((e.pool, impl.how("pool", e)), (0, 0))  # 'mean': no counter charges x.mean
        return [("pool", f"{e.pool} pool in", c_in, e.pool_in), ("pool", f"{e.pool} pool out", c_out, e.pool_out)]

    return terms


def _every(how: str, coefficients: tuple[int, int]) -> dict:
    return {(p, how): coefficients for p in POOLS}


PEERS = {
    # pool_flops_counter_hook (input numel) + the patched F.*pool* inside the module's forward
    # (ptflops/pytorch_ops.py): a module counts its input twice, a bare functional call once
    "ptflops": charges({**_every("module", (2, 0)), **_every("functional", (1, 0))}),
    "ptflops-aten": charges({}),  # ATEN_OPS_MAPPING has no pooling op
    "fvcore": charges({("global_avg", "module"): (1, 0), ("global_avg", "functional"): (1, 0)}),  # aten::adaptive_avg_pool2d
    # module hooks only: count_avgpool = output numel, count_adap_avgpool = (in/out + 1)·out, max
    # pools are zero_ops; a functional pool is invisible (thop/vision/basic_hooks.py)
    "thop": charges({("avg", "module"): (0, 1), ("global_avg", "module"): (1, 1)}),
    "torchinfo": charges({}),  # parameters only: a pool has none
    "calflops": charges({}),  # only conv, linear, matmul and addmm return MACs
    "flopcounter": charges({}),  # torch/utils/flop_counter.py registers no pooling op
}


def kernel(layer: Layer) -> str:
    return "global" if layer.global_ else window(layer)


KIND = Kind(
    "pool", "average or max pooling over a window, or global",
    keys=("n", "op", "k", "s", "global", "padding", "ceil"), read=read, expand=expand, example={"op": "max", "k": 2},
    shape=shape, factor=factor, elements=elements, counts=("pool", "pool_in", "pool_out"),
    label=lambda layer: "Pool", kernel=kernel, shows_act=False, latency="pool", peers=PEERS,
    counting=Counting(work="a sum or a max per window element (some counters charge per input element)"),
)
