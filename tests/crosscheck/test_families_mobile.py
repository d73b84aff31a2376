"""MobileNetV4, EfficientNetV2-B0, RepViT-M0.9 and MobileOne-S0 against timm's modules, built with
random weights, each exact to the integer — Σ numel and FlopCounterMode/2 (grad enabled, math
attention) — under --profile torchvision at the model's own default resolution (timm's
pretrained_cfg input_size). RepViT and MobileOne are compared in their deploy form, as
timm.utils.model.reparameterize_model fuses them."""
from __future__ import annotations

import pytest
import torch
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.utils.flop_counter import FlopCounterMode

import mbcost
from _models import TORCHVISION, reference

# mbcost built-in name → (timm model name, its pretrained_cfg input H×W, re-parameterized)
FAMILIES = {
    "mobilenetv4_conv_small": ("mobilenetv4_conv_small", (224, 224), False),
    "mobilenetv4_conv_medium": ("mobilenetv4_conv_medium", (256, 256), False),
    "mobilenetv4_conv_large": ("mobilenetv4_conv_large", (384, 384), False),
    "mobilenetv4_hybrid_medium": ("mobilenetv4_hybrid_medium", (256, 256), False),
    "mobilenetv4_hybrid_large": ("mobilenetv4_hybrid_large", (384, 384), False),
    "tf_efficientnetv2_b0": ("tf_efficientnetv2_b0", (192, 192), False),
    "repvit_m0_9": ("repvit_m0_9", (224, 224), True),
    "mobileone_s0": ("mobileone_s0", (224, 224), True),
}


def counts(net: torch.nn.Module, size) -> tuple[int, int]:
    """(FlopCounterMode/2, Σ numel) of a built module, measured as _models.reference does."""
    net.eval()
    with sdpa_kernel(SDPBackend.MATH), FlopCounterMode(display=False) as fc:
        net(torch.zeros(1, 3, *size))
    return fc.get_total_flops() // 2, sum(p.numel() for p in net.parameters())


def deployed(name: str, size) -> tuple[int, int]:
    """The counts of timm's model after reparameterize_model (branches merged, BNs folded)."""
    import timm
    from timm.utils.model import reparameterize_model

    return counts(reparameterize_model(timm.create_model(name, pretrained=False).eval()), size)


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_each_family_is_exact_against_its_module(name):
    import timm

    model, size, reparam = FAMILIES[name]
    assert tuple(timm.create_model(model, pretrained=False).pretrained_cfg["input_size"][1:]) == size
    madds, params = deployed(model, size) if reparam else reference("timm", model, size)
    r = mbcost.analyze(name, convention=TORCHVISION)
    assert r.resolution == size, "the config's default resolution is the model's own"
    assert (r.madds, r.params) == (madds, params)


@pytest.mark.parametrize("name", ["repvit_m0_9", "mobileone_s0"])
def test_the_deploy_form_is_not_the_train_form(name):
    # a no-op re-parameterisation would compare the config with the train-form module
    model, size, _ = FAMILIES[name]
    assert deployed(model, size) != reference("timm", model, size)


# α against timm's channel_multiplier: its own small widths, and _gen_mobilenet_v4 built directly
@pytest.mark.parametrize("model, alpha", [("mobilenetv4_conv_small_050", "0.5"), ("mobilenetv4_conv_small_035", "0.35")])
def test_mobilenetv4_width_multiplier_is_timms(model, alpha):
    madds, params = reference("timm", model, (224, 224))
    r = mbcost.analyze("mobilenetv4_conv_small", alpha=alpha, convention=TORCHVISION)
    assert (r.madds, r.params) == (madds, params)


@pytest.mark.parametrize("variant, alpha", [("hybrid_medium", "0.75"), ("hybrid_medium", "1.5"),
                                            ("conv_large", "0.75")])
def test_mobilenetv4_width_multiplier_keeps_heads_and_key_widths(variant, alpha):
    # the stem kept below α = 1, expansions of the rounded input, heads and key/value widths fixed
    from timm.models.mobilenetv3 import _gen_mobilenet_v4

    madds, params = counts(_gen_mobilenet_v4(f"mobilenetv4_{variant}", float(alpha)), (256, 256))
    r = mbcost.analyze(f"mobilenetv4_{variant}", alpha=alpha, resolution=256, convention=TORCHVISION)
    assert (r.madds, r.params) == (madds, params)
