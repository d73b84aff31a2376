"""``matmul``: a product of two activations, per attention head — the two products of
self-attention (Vaswani et al., §3.2):

- Q·Kᵀ, from ``[q, k]``: q has N_q positions of C = h·d channels, k has N_kv positions of C
  (h heads) or d (one K/V head shared by all: multi-query attention, MobileNetV4's Mobile MQA).
  The output is the attention scores, one N_q × N_kv matrix per head: N_q·N_kv·C mult-adds.
- A·V, from ``[scores, v]``: v has N_kv positions of C_v = h·d_v channels (or d_v, shared).
  The output has the query's positions and layout with h·d_v channels: N_q·N_kv·h·d_v
  mult-adds.

Which product a row is follows from its first input: attention scores (a Q·Kᵀ, or an
element-wise op on one — a softmax, an attention bias) make it A·V. Sequences (MobileViT's
unfolded patches) multiply independently. No weights; the mult-adds are what FlopCounterMode
counts for the two batched matmuls (``bmm``), not a softmax or a scale. Timed at the matmul rate.

Row keys: from ([q, k] or [scores, v]), heads (1).
"""
from __future__ import annotations

from dataclasses import dataclass

from ...errors import GraphError
from ..graph import Layer, Scores, Shape, Tokens, fmt_positions, with_channels
from ..kind import Charge, Counting, Factor, Kind, fmt_shape, generic
from ._peers import ATEN, CF, FCM, FV_JIT, FV_OPS, PT_ENGINE, PT_OPS, THOP, TI, attention_hook, every
from .add import joined


@dataclass(frozen=True)
class MatmulArgs:
    heads: int = 1


def read(f) -> MatmulArgs:
    heads = f.integer("heads", 1)
    f.joined_inputs(exactly=2)
    return MatmulArgs(heads)


def expand(ex, row) -> None:
    a, b = joined(ex, row)
    h = row.args.heads
    ca, cb = ex.channels[a], ex.channels[b]
    (name,) = ex.repeat_names(row, "matmul")
    if a in ex.scores:  # A·V: the scores' heads with v's channels per head
        if ca != h:
            ex.fail(f"{a} holds the scores of {ca} heads, not {h}: give heads: {ca}", "heads")
        shared = ex.scores[a]  # its Q·Kᵀ read one K/V head for all: v is one head too
        c = h * cb if shared else cb
        if not shared and cb % h:
            ex.fail(f"{h} heads do not divide the {cb} channels of {b}", "heads")
        ex.emit(name, "matmul", c, inputs=(a, b), heads=h, op="av")
        return
    if ca % h:
        ex.fail(f"{h} heads do not divide the {ca} channels of {a}", "heads")
    if cb not in (ca, ca // h):
        ex.fail(f"the inner dimensions disagree: {a} has {ca} channels ({h} heads of {ca // h}) and {b} has "
                f"{cb}; Q·Kᵀ needs {ca}, or {ca // h} for one shared K/V head", "from")
    ex.emit(name, "matmul", h, inputs=(a, b), heads=h, op="qk")
    ex.scores[name] = h > 1 and cb == ca // h  # one K/V head shared by every query head


def shape(layer: Layer, inputs: list[Shape]) -> Shape:
    a, b = inputs
    if layer.op == "av":
        if not isinstance(a, Scores):
            raise GraphError(f"A·V needs attention scores first, got {fmt_shape(a)}", field=layer.name)
        rows, nkv, _ = a
        seqs = b[1] if isinstance(b, Tokens) else 1
        if _per_seq(b) != nkv:
            raise GraphError(f"the scores attend over {nkv} positions but {layer.inputs[1]} has "
                             f"{fmt_positions(b)}", field=layer.name)
        if rows != _per_seq(a.query) * seqs:
            raise GraphError(f"the scores' {rows} rows are not {layer.inputs[1]}'s sequences", field=layer.name)
        return with_channels(a.query, layer.c)
    for name, x in zip(layer.inputs, inputs):
        if isinstance(x, Scores):
            raise GraphError(f"Q·Kᵀ multiplies two tensors of positions; {name} is attention scores "
                             "(a softmax of them is A, for A·V)", field=layer.name)
    sa, sb = (x[1] if isinstance(x, Tokens) else 1 for x in (a, b))
    if sa != sb:
        raise GraphError(f"{layer.inputs[0]} is {sa} sequences and {layer.inputs[1]} {sb}", field=layer.name)
    return Scores(_per_seq(a) * sa, _per_seq(b), layer.heads, a)


def _per_seq(x: Shape) -> int:
    """Positions per sequence: N of tokens, H·W of a map."""
    return x[0] if isinstance(x, Tokens) else x[0] * x[1]


def factor(layer: Layer, m: list[int], conv) -> Factor:
    """Q·Kᵀ: N_q·N_kv·C mult-adds (C = h·d, q's channels), A = the scores' N_q·N_kv; A·V:
    N_q·N_kv·h·d_v (h·d_v = its output channels), A = the scores it reads. No weights."""
    if layer.op == "av":
        return Factor(layer.c, 0, area="in")
    return Factor(m[0], 0)


def label(layer: Layer) -> str:
    return "MatMul A·V" if layer.op == "av" else "MatMul Q·Kᵀ"


def elements(r) -> dict:
    """A Q·Kᵀ's query elements N_q·h·d_k (what ptflops's attention hooks charge for scaling q)."""
    if r.layer.op == "av":
        return {}
    q = r.input_shapes[0]
    return {"query": q[0] * q[1] * q[2]}


def _only(*hows: str):
    """The weight products when the code calls the product one of ``hows``, else nothing."""
    def terms(e, impl):
        return [] if impl.how("matmul", e) in hows else [("weights", "W", 0, e.macs)]
    return terms


def _ptflops(e, impl):
    if attention_hook(e, impl):  # the hook's N·N·d per head for each product, + N·C scaling q
        return [("attention", "q", 1, e.query)]
    return _only("matmul", "bmm")(e, impl)


PEERS = every(
    ptflops=Charge(_ptflops, "torch.matmul, x.matmul, torch.bmm: W; `@`, einsum, inside "
                   "F.scaled_dot_product_attention: 0; inside an attention ptflops hooks: W, + 1 per query "
                   "element for Q·Kᵀ (scaling q)",
                   f"{PT_OPS}:385-387 _matmul_tensor_flops_hook, :453-469; {PT_ENGINE}:434-443 patch_tensor_ops "
                   "(not Tensor.__matmul__, torch.einsum, F.scaled_dot_product_attention); the hooks :214-237, :252-261"),
    ptflops_aten=Charge(_only("operator", "matmul", "bmm", "einsum"),
                        "W, however it is written; inside F.scaled_dot_product_attention: 0 (the CPU kernel "
                        "_scaled_dot_product_flash_attention_for_cpu is not mapped)",
                        f"{ATEN}:57-68 bmm_flop, :23-33 matmul_flop, :109-116 ATEN_OPS_MAPPING"),
    fvcore=Charge(_only("operator", "matmul", "bmm", "einsum"),
                  "W (aten::matmul, bmm, einsum); inside F.scaled_dot_product_attention: 0 (one unsupported node)",
                  f"{FV_JIT}:113-124 bmm_flop_jit, :174-227 einsum_flop_jit, matmul_flop_jit; {FV_OPS}:26-44"),
    thop=Charge(_only(), "0: a product of two activations is no module", f"{THOP}:21-66 register_hooks"),
    torchinfo=Charge(_only(), "0: no parameters", f"{TI}:226-245 calculate_macs"),
    calflops=Charge(_only("matmul"), "torch.matmul, x.matmul: W; `@`, torch.bmm (its patch is commented out), "
                    "einsum (FLOPs only), inside F.scaled_dot_product_attention: 0",
                    f"{CF}:274-279 _matmul_flops_compute, :290-308 _einsum_flops_compute, :507-512"),
    flopcounter=generic(f"{FCM}:159-196 mm_flop, bmm_flop (F.scaled_dot_product_attention decomposes into "
                        "them on the math backend, which the profile's reading selects)", "2·W"),
)


KIND = Kind(
    "matmul", "a product of two activations per head: attention's Q·Kᵀ and A·V",
    keys=("heads",), read=read, expand=expand, joins=True, example=[{"kind": "matmul", "name": "s", "from": ["input", "input"], "heads": 2},
                                                  {"kind": "matmul", "name": "x", "from": ["s", "input"], "heads": 2}],
    shape=shape, factor=factor, elements=elements, counts=("query",),
    label=label, latency="matmul", peers=PEERS,
    counting=Counting(work="the multiply-accumulates are its mult-adds; no other work"),
)
