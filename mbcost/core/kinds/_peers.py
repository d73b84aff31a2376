"""What the kinds' peer rules share: the counters' names, the files their rules cite, and the
rule shapes several kinds use (a weighted layer's, a view's, an element-wise op's).

A rule is a :class:`mbcost.core.kind.Charge`: the terms a counter charges for a layer, said in
words, with the counter's file and line. The line numbers are those of the installed files
(ptflops 0.7.5, fvcore 0.1.5.post20221221, thop 0.1.1.post2209072238, torchinfo 1.8.0, calflops
0.3.2, torch 2.14.1), which the cross-check tier runs; docs/research/peers (FINDINGS.md,
NEW_OPS.md) holds the measurements each was checked on.
"""
from __future__ import annotations

from ..kind import Charge, generic

COUNTERS = ("ptflops", "ptflops-aten", "fvcore", "thop", "torchinfo", "calflops", "flopcounter")

# Where each counter's cases are written
PT_OPS = "ptflops/pytorch_ops.py"
PT_ENGINE = "ptflops/pytorch_engine.py"
ATEN = "ptflops/aten_ops.py"
FV_OPS = "fvcore/nn/flop_count.py"
FV_JIT = "fvcore/nn/jit_handles.py"
FV_IGNORED = "fvcore/nn/jit_analysis.py:_IGNORED_OPS"
THOP = "thop/profile.py"
THOP_HOOKS = "thop/vision/basic_hooks.py"
THOP_CALC = "thop/vision/calc_func.py"
TI = "torchinfo/layer_info.py"
CF = "calflops/pytorch_ops.py"
FCM = "torch/utils/flop_counter.py"

# The layers an ``attention`` row emits, by role: nn.MultiheadAttention's and timm's Attention's
# ptflops hooks count them as one block (mbcost.core.peers.ATTENTION_CALLS says what else each
# implies)
ATTENTION_ROLES = ("qkv", "q", "k", "v", "scores", "softmax", "av", "proj")


def attention_hook(e, impl) -> str:
    """'mha' or 'timm' when the layer is inside an attention block that ptflops counts with a
    module hook of its own (pytorch_ops.py:180-266), else ''."""
    if e.role not in ATTENTION_ROLES:
        return ""
    how = impl.how("attention")
    return how if how in ("mha", "timm") else ""


# The profile's zero terms for a layer's own weights and bias: a rule that returns them replaces
# the generic W and bias (a counter that does not see the op at all)
NOTHING = [("weights", "W", 0, "macs"), ("bias", "bias", 0, "bias")]


def every(**charges: Charge) -> dict[str, Charge]:
    """The rules of every counter, keyed by profile name (ptflops_aten → ptflops-aten)."""
    out = {name.replace("_", "-"): c for name, c in charges.items()}
    assert set(out) == set(COUNTERS), sorted(set(COUNTERS) ^ set(out))
    return out


def view(what: str) -> dict[str, Charge]:
    """A kind no counter charges anything for (a view, a copy, a concatenation): no hook, no
    patched function, no aten formula reaches it."""
    return every(
        ptflops=generic(f"{PT_OPS}:271-336 MODULES_MAPPING, {PT_ENGINE}:348-456 (no hook or patch for {what})",
                        "nothing"),
        ptflops_aten=generic(f"{ATEN}:109-116 ATEN_OPS_MAPPING (mm, matmul, addmm, bmm, convolution)", "nothing"),
        fvcore=generic(f"{FV_OPS}:26-44 _DEFAULT_SUPPORTED_OPS, {FV_IGNORED} ({what}: no handle)", "nothing"),
        thop=generic(f"{THOP}:21-66 register_hooks (no module for {what})", "nothing"),
        torchinfo=generic(f"{TI}:226-245 calculate_macs (parameters only: it has none)", "nothing"),
        calflops=generic(f"{CF}:452-525 (no patched function for {what})", "nothing"),
        flopcounter=generic(f"{FCM}:159-403 flop_registry (no formula for {what})", "nothing"),
    )


def conv_like(what: str) -> dict[str, Charge]:
    """A convolution's rules (conv, dwconv): every counter charges its weight products, the bias
    as the profile prices it — but ptflops and thop look modules up by exact type, so a subclass
    of nn.Conv2d (timm's Conv2dSame: CALLS["conv"]) is invisible to them."""
    from ..kind import per_call

    return every(
        ptflops=per_call("conv", {"subclass": NOTHING}, f"W + bias ({what}); a subclass: 0",
                         f"{PT_OPS}:60-92 conv_flops_counter_hook (kernel·C_in/g·C_out per output position, "
                         f"+ C_out·H·W for a bias); {PT_ENGINE}:311-314 is_supported_instance (exact type)"),
        ptflops_aten=generic(f"{ATEN}:71-106 conv_flop (the bias at :93-94)", "W + bias"),
        fvcore=generic(f"{FV_JIT}:127-171 conv_flop_jit (no bias)", "W"),
        thop=per_call("conv", {"subclass": NOTHING}, "W (never the bias); a subclass: 0",
                      f"{THOP_HOOKS}:22-34 count_convNd → {THOP_CALC}:28-34 (out numel·C_in/g·k², no bias); "
                      f"{THOP}:180-188 (exact type)"),
        torchinfo=generic(f"{TI}:237-240 ('Conv' in the class name, Conv2dSame's too: weight and bias numel × "
                          f"output H·W)", "W + bias"),
        calflops=generic(f"{CF}:83-125 _conv_flops_compute (MACs; the bias in FLOPs only)", "W"),
        flopcounter=generic(f"{FCM}:215-261 conv_flop_count (2 per multiply-accumulate, no bias)", "2·W"),
    )


def elementwise(op: str, count: str, source: str) -> dict[str, Charge]:
    """An element-wise op on ``count`` elements that ptflops charges when the code calls it by name
    (``op``: add or mul, CALLS[op] 'call') and no other counter charges."""
    from ..kind import per_call

    return {**view(f"`{'+' if count == 'add' else '*'}`"),
            "ptflops": per_call(op, {"call": [("elementwise", count, 1, count)]},
                                f"1 per element when called by name (torch.{'add' if count == 'add' else 'mul'}, "
                                f"x.{'add' if count == 'add' else 'mul'}); nothing for the operator",
                                source)}
