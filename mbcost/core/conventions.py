"""Counting conventions: what a "parameter" and a "mult-add" include for a given reader.

The papers count weights only (batch norm folded into the convolutions, no biases,
pooling / activations / residual adds free, 1000 classes). Frameworks report what
their parameter containers hold. One :class:`Convention` object carries all of it into
the engine, so no cost function grows an ``if`` per framework. docs/conventions.md says
which published source uses which.
"""
from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Convention:
    """How to count.

    bn:      numbers counted per batch-norm channel — 0 folded (papers), 2 trainable γ, β
             (torchvision, Keras "trainable"), 3 β + moving mean and variance (what reproduces
             TF-slim's README, see docs/conventions.md), 4 all of γ, β, mean, variance (Keras total).
    bias:    count the biases of layers that have one (by default only the classifier).
    classes: override the file's class count (1001 for TF-slim's background class).
    flops:   report FLOPs = 2 × mult-adds instead of mult-adds.
    """

    name: str = "paper"
    bn: int = 0
    bias: bool = False
    classes: int | None = None
    flops: bool = False

    def describe(self) -> str:
        parts = [f"bn={self.bn}", "bias" if self.bias else "no bias"]
        if self.classes is not None:
            parts.append(f"{self.classes} classes")
        if self.flops:
            parts.append("FLOPs = 2×MAdds")
        return f"{self.name} ({', '.join(parts)})"

    def with_(self, **changes) -> "Convention":
        """A copy with the given fields changed (None means keep); renamed 'custom' when
        the counting itself departs from this profile."""
        new = replace(self, **{k: v for k, v in changes.items() if v is not None})
        if (new.bn, new.bias, new.classes) != (self.bn, self.bias, self.classes):
            new = replace(new, name="custom")
        return new


PAPER = Convention()
PROFILES: dict[str, Convention] = {
    "paper": PAPER,
    "torchvision": Convention(name="torchvision", bn=2, bias=True),
    "keras": Convention(name="keras", bn=4, bias=True),
}
