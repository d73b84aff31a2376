"""``upsample``: a map enlarged by an integer ``scale`` or to a ``size``, nearest or bilinear.

Cost: no weights: nothing in the papers' count or FlopCounterMode's. Per-element work — a copy
(nearest) or a 4-tap interpolation (bilinear) per output element, the ``resize_out`` count — is
what ptflops, fvcore and thop charge, each differently and by how the code calls it
(``nn.Upsample``, ``nn.UpsamplingBilinear2d``, ``F.interpolate``: CALLS["upsample"]).

Row keys: scale (an integer factor) or size (H or [H, W]), mode (nearest | bilinear).
"""
from __future__ import annotations

from dataclasses import dataclass

from ..fields import MAX_KERNEL, MAX_RESOLUTION
from ..graph import Layer, Pair, Shape
from ..kind import Charge, Counting, Kind, generic, weightless
from ._peers import CF, FV_OPS, PT_ENGINE, PT_OPS, THOP, THOP_CALC, THOP_HOOKS, view
from ._moves import passthrough


@dataclass(frozen=True)
class UpsampleArgs:
    up: int | None = None
    size: Pair | None = None
    mode: str = "nearest"


def read(f) -> UpsampleArgs:
    if f.has("scale") == f.has("size"):
        f.missing("give an upsample either 'scale' (an integer factor) or 'size' (H or [H, W])")
    return UpsampleArgs(up=f.integer("scale", None, hi=MAX_KERNEL), size=f.pair("size", None, hi=MAX_RESOLUTION),
                        mode=f.choice("mode", ("nearest", "bilinear"), "nearest"))


def expand(ex, row) -> None:
    a: UpsampleArgs = row.args
    passthrough(ex, row, up=a.up, size=a.size, mode=a.mode)


def shape(layer: Layer, inputs: list[Shape]) -> Shape:
    h, w, c = inputs[0]
    return (*layer.size, c) if layer.size else (h * layer.up, w * layer.up, c)


def elements(r) -> dict:
    """Its mode and output elements."""
    h, w, c = r.output_shape
    return {"resize": r.layer.mode or "nearest", "resize_out": h * w * c}


def _ptflops(e, impl):
    # nn.Upsample's hook counts output[0]'s elements (one sample: the output at batch 1) and its
    # forward calls the patched F.interpolate (size: prod(size)·N·C, scale: in·scale², the output
    # too); the Upsampling*2d subclasses are not hooked (exact type), so only F.interpolate counts
    return [("resize", f"{e.resize} out", 2 if impl.how("upsample", e) == "module" else 1, e.resize_out)]


def _thop(e, impl):
    if not e.resize or impl.how("upsample", e) == "functional":
        return []
    return [("resize", f"{e.resize} out", {"nearest": 1, "bilinear": 11}[e.resize], e.resize_out)]


def _fvcore(e, impl):
    if not e.resize:
        return []
    return [("resize", f"{e.resize} out", {"nearest": 1, "bilinear": 4}[e.resize], e.resize_out)]


# An upsample's rules, also those of the resizes of ``tokens`` and ``map`` (MobileViT's
# F.interpolate): NEW_OPS.md §10
PEERS = {**view("an interpolation"),
         "ptflops": Charge(_ptflops, "nn.Upsample: 2 per output element (its hook and F.interpolate); "
                           "UpsamplingNearest2d/Bilinear2d and F.interpolate: 1; any mode",
                           f"{PT_OPS}:21-27 upsample_flops_counter_hook, :308, :351-382 "
                           f"_interpolate_functional_flops_hook; {PT_ENGINE}:384-387"),
         "fvcore": Charge(_fvcore, "nearest: 1 per output element, bilinear: 4, however it is called",
                          f"{FV_OPS}:40-41 aten::upsample_nearest2d / upsample_bilinear2d → elementwise_flop_counter"),
         "thop": Charge(_thop, "a module (Upsample or its subclasses): nearest 1 per output element, bilinear "
                        "11; F.interpolate: invisible",
                        f"{THOP_HOOKS}:125-136 count_upsample → {THOP_CALC}:75-87 calculate_upsample; {THOP}:55-57"),
         "calflops": generic(f"{CF}:229-251 _upsample_flops_compute (FLOPs only)", "nothing")}


KIND = Kind(
    "upsample", "a map enlarged by an integer factor or to a size (nearest or bilinear)",
    keys=("scale", "size", "mode"), read=read, expand=expand, example={"scale": 2},
    shape=shape, factor=weightless, elements=elements, counts=("resize", "resize_out"),
    label=lambda layer: "Upsample", latency="copy", peers=PEERS,
    counting=Counting(work="a copy (nearest) or a 4-tap interpolation (bilinear) per output element"),
)
