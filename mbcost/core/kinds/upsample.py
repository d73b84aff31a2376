"""``upsample``: a map enlarged by an integer ``scale``, to a ``size``, or to the size of an
earlier map (``like: NAME``: DeepLab's image pooling and logits, LR-ASPP's), nearest or bilinear.

Cost: no weights: nothing in the papers' count or FlopCounterMode's. Per-element work — a copy
(nearest) or a 4-tap interpolation (bilinear) per output element, the ``resize_out`` count — is
what ptflops, fvcore and thop charge, each differently and by how the code calls it
(``nn.Upsample``, ``nn.UpsamplingBilinear2d``, ``F.interpolate``: CALLS["upsample"]).

Row keys: scale (an integer factor), size (H or [H, W]) or like (a map), mode (nearest | bilinear).
"""
from __future__ import annotations

from dataclasses import dataclass

from ..fields import MAX_KERNEL, MAX_RESOLUTION
from ..graph import Layer, Pair, Shape
from ..kind import Charge, Counting, Kind, generic, weightless
from ..spatial import require_map
from ._peers import CF, FV_OPS, PT_ENGINE, PT_OPS, THOP, THOP_CALC, THOP_HOOKS, view
from ._moves import passthrough


@dataclass(frozen=True)
class UpsampleArgs:
    up: int | None = None
    size: Pair | None = None
    like: str | None = None
    mode: str = "nearest"


def read(f) -> UpsampleArgs:
    if sum(map(f.has, ("scale", "size", "like"))) != 1:
        f.missing("give an upsample one of 'scale' (an integer factor), 'size' (H or [H, W]) or 'like' "
                  "(an earlier map whose H×W it takes)")
    return UpsampleArgs(up=f.integer("scale", None, hi=MAX_KERNEL), size=f.pair("size", None, hi=MAX_RESOLUTION),
                        like=f.text("like"), mode=f.choice("mode", ("nearest", "bilinear"), "nearest"))


def expand(ex, row) -> None:
    a: UpsampleArgs = row.args
    (name,) = ex.repeat_names(row, "upsample")
    inputs = (ex.last,) + ((ex.resolve(a.like, "like"),) if a.like else ())
    ex.emit(name, "upsample", ex.cur, inputs=inputs, shape_only=len(inputs) - 1, up=a.up, size=a.size, mode=a.mode)


def shape(layer: Layer, inputs: list[Shape]) -> Shape:
    require_map(layer, inputs[0], "enlarges")
    h, w, c = inputs[0]
    if len(inputs) > 1:  # like: the other map's H×W
        return (inputs[1][0], inputs[1][1], c)
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
    resamples="up",
    keys=("scale", "size", "like", "mode"), refs=("like",), read=read, expand=expand, example={"scale": 2},
    shape=shape, factor=weightless, elements=elements, counts=("resize", "resize_out"),
    label=lambda layer: "Upsample", latency="copy", peers=PEERS,
    counting=Counting(work="a copy (nearest) or a 4-tap interpolation (bilinear) per output element"),
)
