"""``batchnorm``: a batch norm that follows no conv — on a join's output or a tensor read
elsewhere too (MobileNetV4's Mobile MQA normalises its block input before the attention;
LeViT's and RepViT's classifiers put a BatchNorm1d before the Linear) — over the C channels
of a map or of tokens, optionally followed by an activation.

Cost: no mult-adds, and the convention's batch-norm numbers per channel — bn·C, so 2·C
(γ, β) under torchvision's bn = 2 and none under the papers' bn = 0. At inference it is an
affine map per channel, which folds into the next linear layer's weights and bias exactly as
a BN after a conv folds into that conv (the papers count neither); its per-element work is the
generic ``bn`` count that every layer with a batch norm has.

Row keys: act (linear).
"""
from __future__ import annotations

from dataclasses import dataclass

from ._pending import PENDING_EXPORT, PENDING_TORCH
from ..kind import Counting, Factor, Kind, no_elements
from ._norms import shape


@dataclass(frozen=True)
class BatchNormArgs:
    act: str | None = None


def read(f) -> BatchNormArgs:
    return BatchNormArgs(act=f.act())


def expand(ex, row) -> None:
    (name,) = ex.repeat_names(row, row.kind)
    ex.emit(name, row.kind, ex.cur, bn=True, act=row.args.act or "linear")


def factor(layer, m: list[int], conv) -> Factor:
    """No mult-adds; bn·C parameters (the convention's numbers per batch-norm channel)."""
    return Factor(0, conv.bn * m[0])


KIND = Kind(
    "batchnorm", "a batch norm on its own (after a join, or before a projection)",
    keys=("act",), read=read, expand=expand, example={}, elementwise=True,
    shape=shape, factor=factor, elements=no_elements,
    label=lambda layer: "BatchNorm", latency="batchnorm",
    counting=Counting(bn="folds", work="the batch norm's scale and shift per element (the generic bn count)"),
    unsupported={"torch": PENDING_TORCH, "onnx_export": PENDING_EXPORT},
)
