"""ConvNeXt, MobileViT and EfficientFormer against the timm and torchvision modules they describe,
each built with random weights and counted live: Σ numel and FlopCounterMode/2 (grad enabled,
math attention backend) at the model's own default resolution must equal mbcost's report under
--profile torchvision, to the integer."""
from __future__ import annotations

import pytest

import mbcost
from _models import TORCHVISION, reference

# mbcost built-in name → (source, the source's model name, its default input H×W: timm's
# pretrained_cfg input_size, torchvision's weights' crop)
FAMILIES = {
    "convnext_atto": ("timm", "convnext_atto", (224, 224)),
    "convnext_tiny": ("torchvision", "convnext_tiny", (224, 224)),
    "mobilevit_xxs": ("timm", "mobilevit_xxs", (256, 256)),
    "mobilevit_xs": ("timm", "mobilevit_xs", (256, 256)),
    "mobilevit_s": ("timm", "mobilevit_s", (256, 256)),
    "efficientformer_l1": ("timm", "efficientformer_l1", (224, 224)),
}

# one network, two builders: timm's convnext_tiny (Linear MLP on channels-last tokens, as
# torchvision's CNBlock) is the same network with the same counts, so one name covers both
SAME = {"convnext_tiny": ("timm", "convnext_tiny", (224, 224))}


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_each_family_is_exact_against_its_module(name):
    source, model, size = FAMILIES[name]
    madds, params = reference(source, model, size)
    r = mbcost.analyze(name, convention=TORCHVISION)
    assert r.resolution == size, "the config's default resolution is the model's own"
    assert (r.madds, r.params) == (madds, params)


@pytest.mark.parametrize("name", sorted(SAME))
def test_the_other_builder_of_one_network_counts_the_same(name):
    assert reference(*SAME[name]) == reference(*FAMILIES[name])


@pytest.mark.parametrize("name", sorted(n for n, (src, _, _) in FAMILIES.items() if src == "timm"))
def test_the_default_resolution_is_timms_own(name):
    import timm

    _, model, size = FAMILIES[name]
    assert tuple(timm.create_model(model, pretrained=False).pretrained_cfg["input_size"][1:]) == size


# away from the default resolution: MobileViT's maps stop being multiples of its 2×2 patches
# (at 224 the last block's 7×7 map; at 97 every block's), which timm resizes up to the next
# multiples before unfolding — the configs' `resize` — and ConvNeXt's 4×4/4 stem floors
AWAY = [("mobilevit_xxs", 224), ("mobilevit_s", 97), ("convnext_atto", 160)]


@pytest.mark.parametrize("name, resolution", AWAY)
def test_away_from_the_default_resolution_too(name, resolution):
    source, model, _ = FAMILIES[name]
    madds, params = reference(source, model, (resolution, resolution))
    r = mbcost.analyze(name, convention=TORCHVISION, resolution=resolution)
    assert (r.madds, r.params) == (madds, params)
