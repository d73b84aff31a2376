"""torchvision:NAME and timm:NAME (mbcost/interop/torch_import.py): the module as its framework
builds it, exported by PyTorch and read by mbcost's ONNX importer, gives exactly the module's
Σ p.numel() and FlopCounterMode's total / 2 under --profile torchvision, at the model's own input
size (torchvision's weights' crop size, timm's pretrained_cfg). Where mbcost cannot cost a model
yet, the one line that says why. docs/interop.md lists both.

Measured with grad enabled and the math attention backend (FlopCounterMode counts neither the
fused attention kernels nor MultiheadAttention's no-grad fast path).
"""
from __future__ import annotations

import json

import pytest
import torch
import torchvision

import mbcost

from _models import FULL, TORCHVISION, assert_one_line_error, torch_counts

# Every classifier torchvision 0.29.1 has (torchvision.models.list_models(module=torchvision.models)),
# but those below that mbcost refuses with a reason
TORCHVISION_EXACT = [
    "alexnet", "convnext_base", "convnext_large", "convnext_small", "convnext_tiny", "densenet121", "densenet161",
    "densenet169", "densenet201", "efficientnet_b0", "efficientnet_b1", "efficientnet_b2", "efficientnet_b3",
    "efficientnet_b4", "efficientnet_b5", "efficientnet_b6", "efficientnet_b7", "efficientnet_v2_l",
    "efficientnet_v2_m", "efficientnet_v2_s", "googlenet", "inception_v3", "mnasnet0_5", "mnasnet0_75", "mnasnet1_0",
    "mnasnet1_3", "mobilenet_v2", "mobilenet_v3_large", "mobilenet_v3_small", "regnet_x_16gf", "regnet_x_1_6gf",
    "regnet_x_32gf", "regnet_x_3_2gf", "regnet_x_400mf", "regnet_x_800mf", "regnet_x_8gf", "regnet_y_16gf",
    "regnet_y_1_6gf", "regnet_y_32gf", "regnet_y_3_2gf", "regnet_y_400mf", "regnet_y_800mf", "regnet_y_8gf",
    "resnet101", "resnet152", "resnet18", "resnet34", "resnet50", "resnext101_32x8d", "resnext101_64x4d",
    "resnext50_32x4d", "shufflenet_v2_x0_5", "shufflenet_v2_x1_0", "shufflenet_v2_x1_5", "shufflenet_v2_x2_0",
    "squeezenet1_0", "squeezenet1_1", "vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn", "vgg19",
    "vgg19_bn", "vit_b_16", "vit_b_32", "vit_l_16", "vit_l_32", "wide_resnet101_2", "wide_resnet50_2",
]
# (model, what the one line says): Swin's shifted windows add a fixed mask to the scores, Swin V2
# normalises Q and K (ReduceL2, Clip) and MaxViT's relative attention is an Einsum; neither is a
# kind yet. vit_h_14 and regnet_y_128gf (2.5 GB of weights) are past protobuf's 2 GB limit on one
# ONNX model: the message is docs/interop.md's, not run here (each needs minutes and ~10 GB)
TORCHVISION_REFUSED = [
    ("swin_t", ("Add ×", "a fixed mask to the scores")),
    ("swin_v2_t", ("ReduceL2 ×24 (first node /features/features.1/features.1.0/attn/ReduceL2: unknown op)",)),
    ("maxvit_t", ("Einsum ×",)),
]
# timm 1.0.31, across the families: ResNets, the EfficientNet builder's (MobileNetV3, LCNet, MnasNet,
# FBNet, MixNet, HardCoReNAS, MobileNetV4), GhostNet, RegNet, ReXNet, DenseNet, DLA, VoVNet, HRNet,
# ConvNeXt, ViT and DeiT, MobileViT, EfficientFormer, TinyViT, RepViT (train forms: timm's own)
# refused as their smallest sibling above is (Swin S and B, Swin V2 S and B), or past 2 GB: not run
# here, for the tier's time and memory (measured once: the same lines)
REFUSED_NOT_RUN = ("swin_s", "swin_b", "swin_v2_s", "swin_v2_b", "vit_h_14", "regnet_y_128gf")
TIMM_EXACT = [
    "resnet18", "resnet50d", "mobilenetv3_large_100", "mobilenetv3_small_100", "lcnet_100", "efficientnet_b0",
    "tf_efficientnet_b0", "mnasnet_100", "spnasnet_100", "fbnetc_100", "mixnet_s", "ghostnet_100", "regnetx_002",
    "regnety_002", "rexnet_100", "convnext_atto", "deit_tiny_patch16_224", "vit_tiny_patch16_224", "mobilevit_xxs",
    "efficientformer_l1", "tiny_vit_5m_224", "repvit_m0_9", "hardcorenas_a", "semnasnet_100", "densenet121",
    "resnet10t", "dla34", "mobilenetv4_conv_small", "ese_vovnet19b_dw", "hrnet_w18_small",
]
# MobileOne's and FastViT's train forms add a constant (their identity branches' folded form is a
# built-in: mobileone_s0); LeViT subsamples queries with a strided Slice; EdgeNeXt normalises Q and K
# (ReduceL2); EfficientViT's cascaded heads run convs on channel slices laid out as windows
TIMM_REFUSED = [
    ("mobileone_s0", ("Add ×29 (first node /stem/Add_1: a constant Add",)),
    ("fastvit_t8", ("Add ×7",)),
    ("levit_128s", ("Slice ×4 (first node /stages/stages.1/downsample/attn_downsample/q/down/Slice: a Slice with step 2)",)),
    ("edgenext_xx_small", ("ReduceL2 ×6 (first node /stages/stages.1/blocks/blocks.1/xca/ReduceL2: unknown op)",)),
    ("efficientvit_m0", ("Conv ×9",)),
]


def _module(source: str, name: str) -> torch.nn.Module:
    if source == "timm":
        import timm

        return timm.create_model(name, pretrained=False)
    extra = {"aux_logits": False} if name in ("googlenet", "inception_v3") else {}
    return torchvision.models.get_model(name, weights=None, **extra)


def test_every_torchvision_classifier_is_listed():
    listed = set(TORCHVISION_EXACT) | {n for n, _ in TORCHVISION_REFUSED} | set(REFUSED_NOT_RUN)
    assert listed == set(torchvision.models.list_models(module=torchvision.models))


# one per family and block type (the default run; _models.FULL runs all of TORCHVISION_EXACT):
# EfficientNet-B3 for an input size of its weights' own (300), VGG-11 with BN for VGG
ONE_PER_FAMILY = ("alexnet", "convnext_tiny", "densenet121", "efficientnet_b0", "efficientnet_b3",
                  "efficientnet_v2_s", "googlenet", "inception_v3", "mnasnet0_5", "mobilenet_v2",
                  "mobilenet_v3_large", "mobilenet_v3_small", "regnet_x_400mf", "regnet_y_400mf", "resnet18",
                  "resnet50", "resnext50_32x4d", "shufflenet_v2_x0_5", "squeezenet1_0", "squeezenet1_1",
                  "vgg11_bn", "vit_b_16")
assert set(ONE_PER_FAMILY) <= set(TORCHVISION_EXACT)


@pytest.mark.parametrize("source, name", [("torchvision", n) for n in TORCHVISION_EXACT
                                          if FULL or n in ONE_PER_FAMILY] +
                         [("timm", n) for n in TIMM_EXACT])
def test_a_framework_model_is_its_modules_numel_and_flop_counter(source, name):
    r = mbcost.analyze(f"{source}:{name}", convention=TORCHVISION)
    madds, params, _ = torch_counts(_module(source, name), (1, 3, *r.resolution))
    assert (r.madds, r.params) == (madds, params)


@pytest.mark.parametrize("source, name, parts", [("torchvision", n, p) for n, p in TORCHVISION_REFUSED] +
                         [("timm", n, p) for n, p in TIMM_REFUSED])
def test_a_model_mbcost_cannot_cost_yet_is_one_line(cli, source, name, parts):
    line = assert_one_line_error(cli("report", f"{source}:{name}"), f"{source}:{name}", "mbcost cannot cost", *parts)
    assert len(line) < 2500  # each op type once (at most 200 characters of reason each), not every node


def test_the_cli_reads_a_framework_model_and_its_resolution(cli):
    # resnet18 at 224 (the docs' example) and again at 160: exported again at that input
    run = cli("report", "torchvision:resnet18", "--profile", "torchvision", "--format", "json")
    totals = json.loads(run.out)["totals"]
    assert (totals["madds"], totals["params"]) == (1_814_073_344, 11_689_512)
    run = cli("report", "torchvision:resnet18", "--resolution", "160", "--profile", "torchvision", "--format", "json")
    madds, params, _ = torch_counts(_module("torchvision", "resnet18"), (1, 3, 160, 160))
    assert (json.loads(run.out)["totals"]["madds"], json.loads(run.out)["totals"]["params"]) == (madds, params)
    assert_one_line_error(cli("report", "torchvision:resnet18", "--alpha", "0.5"), "α must be 1", "mbcost convert")


# ptflops 0.7.5 and thop 0.1.1 on timm 1.0.31's modules, measured in /work/venvs/peers (torch
# 2.13): get_model_complexity_info(m, (3, 224, 224), as_strings=False, print_per_layer_stat=False)[0]
# and profile(m, inputs=(torch.zeros(1, 3, 224, 224),))[0]. timm's MobileNetV3 and EfficientNet
# code normalises with BatchNormAct2d, pools its SEs with x.mean and (MobileNetV3) classifies with
# timm.layers.Linear, which both counters, hooking exact types, never see
MEASURED = {"lcnet_100": (154_473_280, 154_446_080), "mobilenetv3_large_100": (220_040_984, 215_357_760),
            "mobilenetv3_small_100": (56_488_744, 55_515_200), "efficientnet_b0": (392_108_448, 385_878_752),
            "mnasnet_100": (324_138_472, 314_479_872)}


@pytest.mark.parametrize("name", sorted(MEASURED))
def test_compare_counts_timms_code_as_the_counters_do(cli, name):
    run = cli("compare", f"timm:{name}", "--format", "json")
    assert run.code == 0, run.err
    totals = {row["profile"]: row["total"] for row in json.loads(run.out)["profiles"]}
    assert (totals["ptflops"], totals["thop"]) == MEASURED[name]
    from mbcost.analyses.compare import compare

    impl = compare(f"timm:{name}").implementation
    assert impl.name in ("timm.mobilenetv3", "timm.efficientnet") and impl.calls["bn"] == "norm_act"


def test_a_converted_model_compares_as_the_code_it_came_from(cli, tmp_path):
    out = tmp_path / "lcnet.yaml"
    assert cli("convert", "timm:lcnet_100", "-o", out).code == 0
    assert "implementation: timm.mobilenetv3" in out.read_text()
    run = cli("compare", out, "--format", "json")
    totals = {row["profile"]: row["total"] for row in json.loads(run.out)["profiles"]}
    assert (totals["ptflops"], totals["thop"]) == MEASURED["lcnet_100"]
