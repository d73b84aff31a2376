"""``softmax``: the softmax over each row of attention scores (or over a tensor's channels).

Cost: no weights, nothing in the papers' count or FlopCounterMode's; its per-element work — an
exponential and a share of a sum per element — is the ``softmax`` count. Timed by the bytes it
moves.

Row keys: none.
"""
from __future__ import annotations

from ..graph import Scores
from ..kind import Charge, Counting, Kind, generic, same_shape, weightless
from ._peers import CF, FV_OPS, PT_ENGINE, PT_OPS, THOP, THOP_CALC, THOP_HOOKS, attention_hook, view
from ._moves import passthrough


def read(f) -> None:
    return None


def elements(r) -> dict:
    """Every element is exponentiated and divided by its row's sum; the rows are its elements over
    the last axis's length (the scores' N_kv, a map's or tokens' channels)."""
    n = r.output_shape[0] * r.output_shape[1] * r.output_shape[2]
    last = r.output_shape[1] if isinstance(r.output_shape, Scores) else r.output_shape[2]
    return {"softmax": n, "softmax_rows": n // last}


def _ptflops(e, impl):
    # the attention hooks count N_q·N_kv per head, one per score; otherwise F.softmax, which the
    # nn.Softmax module calls, is patched, and x.softmax is not
    if attention_hook(e, impl) or impl.how("softmax", e) in ("module", "functional"):
        return [("softmax", "softmax", 1, e.softmax)]
    return []


def _thop(e, impl):
    if impl.how("softmax", e) != "module":
        return []
    # calculate_softmax(rows, N) = rows·(N + (N − 1) + N) = 3·elements − rows
    return [("softmax", "softmax", 3, e.softmax), ("softmax", "softmax rows", -1, e.softmax_rows)]


PEERS = {**view("a softmax"),
         "ptflops": Charge(_ptflops, "nn.Softmax and F.softmax: 1 per element (F.softmax is patched); "
                           "x.softmax, torch.softmax, inside F.scaled_dot_product_attention: 0; inside an "
                           "attention ptflops hooks: the hook's 1 per score",
                           f"{PT_ENGINE}:381-382 patch_functional, {PT_OPS}:347-348 _numel_functional_flops_hook, "
                           f":231-235 and :256-261 (the attention hooks' softmax)"),
         "thop": Charge(_thop, "nn.Softmax: rows·(3·N − 1), N its row's length; otherwise invisible",
                        f"{THOP_HOOKS}:98-103 count_softmax → {THOP_CALC}:57-62; {THOP}:37"),
         "fvcore": generic(f"{FV_OPS}:26-44 (aten::softmax has no handle)", "nothing"),
         "calflops": generic(f"{CF}:254-255 _softmax_flops_compute (FLOPs only)", "nothing")}


KIND = Kind(
    "softmax", "softmax over the last axis (attention scores' rows)",
    read=read, expand=passthrough, example={}, elementwise=True,
    shape=same_shape, factor=weightless, elements=elements, counts=("softmax", "softmax_rows"), peers=PEERS,
    label=lambda layer: "Softmax", latency="softmax",
    counting=Counting(work="an exponential and a normalisation per element"),
)
