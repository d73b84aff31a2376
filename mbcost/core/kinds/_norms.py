"""What the normalisations share: their cost and element counts."""
from __future__ import annotations

from ...errors import GraphError
from ..graph import Layer, Scores, Shape, Tokens
from ..kind import Charge, Factor, generic
from ._peers import ATEN, CF, FCM, FV_JIT, FV_OPS, PT_ENGINE, PT_OPS, THOP, THOP_CALC, THOP_HOOKS, TI, every


def shape(layer: Layer, inputs: list[Shape]) -> Shape:
    if isinstance(inputs[0], Scores):
        raise GraphError(f"a {layer.kind} normalises channels; its input is attention scores", field=layer.name)
    return inputs[0]


def factor(layer: Layer, m: list[int], conv) -> Factor:
    """No mult-adds (per-element work, as a batch norm's is) and 2·C parameters (γ, β) when affine,
    under every convention: unlike a BN it cannot fold into a conv, so ``bn`` does not apply."""
    return Factor(0, 2 * m[0] if layer.affine else 0)


def elements(r) -> dict:
    """Every element is normalised: its mean and variance taken, then scaled and shifted; γ and β
    once per sequence (torchinfo's parameters × the batch dimension)."""
    h, w, c = r.output_shape
    seqs = r.output_shape[1] if isinstance(r.output_shape, Tokens) else 1
    return {"norm": h * w * c, "norm_channels": c if r.layer.affine else 0,
            "params_batch": 2 * c * seqs if r.layer.affine else 0}


def peers(op: str, module: str, ptflops_affine: bool, thop: bool) -> dict[str, Charge]:
    """A normalisation's rules (NEW_OPS.md §1-2). ptflops and thop hook the exact torch class
    (``module``): ptflops's BN hook doubles only when the module has ``affine`` (GroupNorm does,
    LayerNorm's is ``elementwise_affine``: ``ptflops_affine``), thop registers nn.LayerNorm only
    (``thop``); fvcore sees aten::layer_norm / aten::group_norm however it is called; torchinfo
    charges a leaf's γ and β once per batch row; no other counter charges a norm."""
    def ptflops(e, impl):
        if impl.how(op, e) != "module":
            return []
        return [("norm", "norm", 2 if ptflops_affine and e.norm_channels else 1, e.norm)]

    def fvcore(e, impl):
        return [("norm", "norm", 5 if e.norm_channels else 4, e.norm)]

    def thop_rule(e, impl):
        if not thop or impl.how(op, e) != "module":
            return []
        return [("norm", "norm", 4 if e.norm_channels else 2, e.norm)]

    def torchinfo(e, impl):
        return [] if impl.how(op, e) == "functional" else [("norm", "P", 1, e.params_batch)]

    affine = "2 per element with γ and β, 1 without" if ptflops_affine else "1 per element (affine or not)"
    return every(
        ptflops=Charge(ptflops, f"{module} itself: {affine}; a subclass or the function: 0",
                       f"{PT_OPS}:51-57 bn_flops_counter_hook (`module.affine`), :303-304; {PT_ENGINE}:311-314 "
                       f"is_supported_instance (exact type); F.{op.replace('norm', '_norm')} is not patched"),
        ptflops_aten=generic(f"{ATEN}:109-116 ATEN_OPS_MAPPING has no norm", "nothing"),
        fvcore=Charge(fvcore, "5 per element with γ, 4 without, however it is called",
                      f"{FV_OPS}:37-38 norm_flop_counter(2) → {FV_JIT}:230-248"),
        thop=Charge(thop_rule, (f"{module} itself: 4 per element affine, 2 not; a subclass or the function: 0"
                                if thop else f"0: {module} is not registered"),
                    f"{THOP_HOOKS}:60-69 count_normalization, {THOP_CALC}:43-45; {THOP}:21-66 "
                    + ("(nn.LayerNorm at :32, exact type :180-188)" if thop else "(no nn.GroupNorm)")),
        torchinfo=Charge(torchinfo, "a module or subclass: γ and β × the batch (2·C, once per sequence); "
                         "the function: 0", f"{TI}:226-245 (:241-242 output_size[0] × numel)"),
        calflops=generic(f"{CF}:192-211 _layer_norm/_group_norm_flops_compute (FLOPs only)", "nothing"),
        flopcounter=generic(f"{FCM}:159-403 (no norm formula)", "nothing"),
    )
