"""The built-in families of the transformer era against the modules they describe: timm's and
torchvision's, built with random weights, each exact to the integer — Σ numel and
FlopCounterMode/2 — under --profile torchvision at the model's own default resolution."""
from __future__ import annotations

import pytest

import mbcost
from _models import TORCHVISION, reference

# mbcost built-in name → (source, the source's model name, its default input H×W)
FAMILIES = {
    "vit_b_16": ("torchvision", "vit_b_16", (224, 224)),
    "deit_tiny_patch16_224": ("timm", "deit_tiny_patch16_224", (224, 224)),
}


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_each_family_is_exact_against_its_module(name):
    source, model, size = FAMILIES[name]
    madds, params = reference(source, model, size)
    r = mbcost.analyze(name, convention=TORCHVISION)
    assert r.resolution == size, "the config's default resolution is the model's own"
    assert (r.madds, r.params) == (madds, params)
