"""What the normalisations share: their cost and element counts."""
from __future__ import annotations

from ...errors import GraphError
from ..graph import Layer, Scores, Shape
from ..kind import Factor


def shape(layer: Layer, inputs: list[Shape]) -> Shape:
    if isinstance(inputs[0], Scores):
        raise GraphError(f"a {layer.kind} normalises channels; its input is attention scores", field=layer.name)
    return inputs[0]


def factor(layer: Layer, m: list[int], conv) -> Factor:
    """No mult-adds (per-element work, as a batch norm's is) and 2·C parameters (γ, β) when affine,
    under every convention: unlike a BN it cannot fold into a conv, so ``bn`` does not apply."""
    return Factor(0, 2 * m[0] if layer.affine else 0)


def elements(r) -> dict:
    """Every element is normalised: its mean and variance taken, then scaled and shifted."""
    h, w, c = r.output_shape
    return {"norm": h * w * c, "norm_channels": c if r.layer.affine else 0}
