"""The efficient-network families as built-ins (docs/families.md): torchvision's exact parameter
counts and GFLOPS under --profile torchvision, three of them derived here from the papers'
tables, and every built-in name through report, verify and list."""

import pytest

import mbcost
from mbcost.analyses.reproduce import printed_match
from mbcost.core.conventions import PROFILES
from mbcost.core.locate import builtin_variants
from fractions import Fraction

TV = PROFILES["torchvision"]


def resnet50_by_hand():
    """ResNet-50 V1.5 (torchvision: stride on the 3×3), Table 1's 50-layer column, at 224."""
    p = 7 * 7 * 3 * 64 + 2 * 64                       # conv1 + BN γβ
    m = 7 * 7 * 3 * 64 * 112 ** 2
    c_in, d = 64, 56                                   # after the 3×3/2 max pool: 56²×64
    for w, n, s in ((64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)):
        for i in range(n):
            stride = s if i == 0 else 1
            d_out = d // stride
            p += c_in * w + 9 * w * w + w * 4 * w + 2 * (w + w + 4 * w)
            m += c_in * w * d ** 2 + 9 * w * w * d_out ** 2 + w * 4 * w * d_out ** 2
            if i == 0:                                  # projection shortcut, 1×1 stride s + BN
                p += c_in * 4 * w + 2 * 4 * w
                m += c_in * 4 * w * d_out ** 2
            c_in, d = 4 * w, d_out
    p += 2048 * 1000 + 1000                             # fc with bias
    m += 2048 * 1000
    return p, m


def vgg16_by_hand():
    """VGG-16, configuration D: 3×3 convs with bias, five 2×2 pools, three fc layers, at 224."""
    p = m = 0
    c_in = 3
    for d, widths in ((224, [64, 64]), (112, [128, 128]), (56, [256] * 3), (28, [512] * 3), (14, [512] * 3)):
        for c in widths:
            p += 9 * c_in * c + c
            m += 9 * c_in * c * d * d
            c_in = c
    for a, b in ((7 * 7 * 512, 4096), (4096, 4096), (4096, 1000)):
        p += a * b + b
        m += a * b
    return p, m


def efficientnet_b0_by_hand():
    """EfficientNet-B0, Table 1 (t, k, s, c, n), at 224: MBConv = 1×1 expand (t ≠ 1) → k×k
    depthwise → SE (squeeze max(1, in // 4), biases) → 1×1 project; BN γβ after each conv."""
    p = 27 * 32 + 2 * 32                                # stem 3×3×3×32 s2 + BN
    m = 27 * 32 * 112 ** 2
    c_in, d = 32, 112
    for t, k, s, c, n in ((1, 3, 1, 16, 1), (6, 3, 2, 24, 2), (6, 5, 2, 40, 2), (6, 3, 2, 80, 3),
                          (6, 5, 1, 112, 3), (6, 5, 2, 192, 4), (6, 3, 1, 320, 1)):
        for i in range(n):
            stride = s if i == 0 else 1
            d_out, exp, sq = -(-d // stride), t * c_in, max(1, c_in // 4)
            if t != 1:
                p += c_in * exp + 2 * exp
                m += c_in * exp * d * d
            p += k * k * exp + 2 * exp                  # depthwise + BN
            m += k * k * exp * d_out ** 2
            p += exp * sq + sq + sq * exp + exp         # SE reduce and expand, with biases
            m += exp * sq + sq * exp
            p += exp * c + 2 * c                        # linear projection + BN
            m += exp * c * d_out ** 2
            c_in, d = c, d_out
    p += 320 * 1280 + 2 * 1280 + 1280 * 1000 + 1000     # head 1×1 conv + BN, classifier
    m += 320 * 1280 * 49 + 1280 * 1000
    return p, m


@pytest.mark.parametrize("name, derive, params, madds", [
    ("resnet50_torchvision", resnet50_by_hand, 25_557_032, 4_089_184_256),
    ("vgg16", vgg16_by_hand, 138_357_544, 15_470_264_320),
    ("efficientnet_b0", efficientnet_b0_by_hand, 5_288_548, 385_814_752),
])
def test_derived_from_the_tables(name, derive, params, madds):
    r = mbcost.analyze(name, convention=TV)
    assert derive() == (params, madds) == (r.params, r.madds)


# torchvision 0.29.1: weights meta num_params and _ops (GFLOPS = mult-adds, at the weight's crop)
TORCHVISION = [
    ("mobilenet_v3_large", 5_483_032, "0.217"), ("mobilenet_v3_small", 2_542_856, "0.057"),
    ("efficientnet_b0", 5_288_548, "0.386"), ("efficientnet_b1", 7_794_184, "0.687"),
    ("efficientnet_b2_torchvision", 9_109_994, "1.088"), ("efficientnet_b3", 12_233_232, "1.827"),
    ("efficientnet_b4", 19_341_616, "4.394"), ("efficientnet_b5", 30_389_784, "10.266"),
    ("efficientnet_b6", 43_040_704, "19.068"), ("efficientnet_b7", 66_347_960, "37.746"),
    ("mnasnet0_5", 2_218_512, "0.104"), ("mnasnet0_75", 3_170_208, "0.215"),
    ("mnasnet1_0", 4_383_312, "0.314"), ("mnasnet1_3", 6_282_256, "0.526"),
    ("shufflenet_v2_x0_5", 1_366_792, "0.04"), ("shufflenet_v2_x1_0", 2_278_604, "0.145"),
    ("shufflenet_v2_x1_5", 3_503_624, "0.296"), ("shufflenet_v2_x2_0", 7_393_996, "0.583"),
    ("resnet18", 11_689_512, "1.814"), ("resnet50_torchvision", 25_557_032, "4.089"),
    ("vgg16", 138_357_544, "15.47"), ("vgg16_bn", 138_357_544 + 2 * (2 * 64 + 2 * 128 + 3 * 256 + 6 * 512), "15.47"),
    ("googlenet_torchvision", 6_624_904, "1.498"), ("squeezenet1_0", 1_248_424, "0.819"),
    ("squeezenet1_1", 1_235_496, "0.349"), ("alexnet_torchvision", 61_100_840, "0.714"),
]


@pytest.mark.parametrize("name, params, gflops", TORCHVISION)
def test_torchvision_params_and_gflops(cli, name, params, gflops):
    r = cli("report", name, "--profile", "torchvision", "--format", "json")
    assert r.code == 0
    totals = r.json()["totals"]
    assert totals["params"] == params
    assert printed_match(Fraction(totals["madds"], 10 ** 9), gflops) is not None


@pytest.mark.parametrize("paper, framework, same_params", [
    ("resnet50", "resnet50_torchvision", True),       # V1 vs V1.5: only the stride moves
    ("googlenet", "googlenet_torchvision", False),     # 5×5 vs 3×3, biases vs BN
    ("alexnet", "alexnet_torchvision", False),         # two-GPU vs one-GPU
    ("efficientnet_b2", "efficientnet_b2_torchvision", True),  # 260 vs torchvision's 288 crop
])
def test_paper_network_under_the_name_framework_as_variant(paper, framework, same_params):
    a, b = mbcost.analyze(paper, convention=TV), mbcost.analyze(framework, convention=TV)
    assert a.madds != b.madds and (a.params == b.params) == same_params


def test_resnet50_paper_places_the_stride_on_the_1x1():
    # V1 moves stride 2 from each stage's first 3×3 to its first 1×1: the 3×3 then runs on the
    # small map in both, the 1×1 reduce on the small map only in V1. Difference per stage
    # (w, input side d): the 1×1 c_in·w on d² vs (d/2)², the 3×3 9w² on (d/2)² in both.
    diff = sum(c_in * w * (d * d - (d // 2) ** 2) for c_in, w, d in ((256, 128, 56), (512, 256, 28), (1024, 512, 14)))
    assert mbcost.analyze("resnet50_torchvision").madds - mbcost.analyze("resnet50").madds == diff == 231_211_008


def test_mobilenet_v3_075_paper_rule_vs_torchvision_rule():
    # TF-slim/paper: expansion = make_divisible(ef × scaled input), head 1280 kept → 155M / 4.0M
    # torchvision: exp scaled itself, head scaled → 140.0M (GROUND_TRUTH.csv: 140,033,816)
    assert mbcost.analyze("mobilenet_v3_large", alpha=0.75).madds == 154_560_624
    assert mbcost.analyze("mobilenet_v3_large_torchvision", alpha=0.75, convention=TV).madds == 140_033_816
    assert mbcost.analyze("mobilenet_v3_large_torchvision", alpha=0.75, convention=TV).params == 3_377_576


@pytest.mark.parametrize("name", builtin_variants())
def test_verify_runs_on_every_builtin(cli, name):
    assert cli("verify", name).code == 0


def test_list_shows_every_builtin_with_title_and_source(cli):
    r = cli("list", "--format", "json")
    assert r.code == 0
    rows = {b["name"]: b for b in r.json()["builtins"]}
    assert list(rows) == builtin_variants()
    assert rows["efficientnet_b3"]["variant"] == "b3" and rows["efficientnet_b3"]["resolution"] == [300, 300]
    assert rows["efficientnet_b3"]["alpha"] == "1.2" and rows["efficientnet_b3"]["depth"] == "1.4"
    assert rows["googlenet_torchvision"]["title"].startswith("GoogLeNet as torchvision builds it")
    assert "Szegedy et al., 2015" in rows["googlenet"]["source"]
    assert all(b["title"] and b["source"] for b in rows.values())
    table = cli("list")
    assert table.code == 0 and "mnasnet1_0" in table.out and f"{len(rows)} built-in names" in table.out
    md = cli("list", "--format", "md").out.splitlines()
    assert md[0].startswith("| name |") and len(md) == 2 + len(rows)


def test_list_rejects_a_format_it_does_not_write(cli):
    from conftest import assert_one_line_error
    assert_one_line_error(cli("list", "--format", "latex"), "--format")


def test_peak_memory_through_shufflenet_splits(cli):
    # a split's parts (sp.0, sp.1) are one tensor to the liveness plan; the peak is at conv1:
    # the 224²×3 input and conv1's 112²×24 output alive together, fp32: (150,528 + 301,056)·4
    r = cli("report", "shufflenet_v2_x0_5", "--format", "json")
    assert r.code == 0
    assert r.json()["totals"]["peak_activation_bytes"] == (224 * 224 * 3 + 112 * 112 * 24) * 4 == 1_806_336


# networks without a depthwise → pointwise pair: verify has no closed form to check, so --strict
# (nothing checked) fails them by design; every other built-in is checked pair by pair
NO_SEPARABLE_PAIRS = {"alexnet", "alexnet_torchvision", "googlenet", "googlenet_torchvision", "mobilenet_v1_conv",
                      "resnet18", "resnet50", "resnet50_torchvision", "squeezenet1_0", "squeezenet1_0_caffe227",
                      "squeezenet1_1", "squeezenet1_1_caffe227", "vgg16", "vgg16_bn"}
# the transformer era (issue 22): ViT and DeiT have no depthwise conv; ConvNeXt's 7×7 depthwise
# conv is followed by a LayerNorm, not a pointwise conv; EfficientFormer has none
NO_SEPARABLE_PAIRS |= {"vit_b_16", "deit_tiny_patch16_224", "convnext", "convnext_atto", "convnext_tiny",
                       "efficientformer_l1"}
# ShuffleNet V1: its pointwise convs are grouped (g > 1), so no separable pair
NO_SEPARABLE_PAIRS |= {"shufflenet_v1", "shufflenet_v1_g2", "shufflenet_v1_g3", "shufflenet_v1_g4",
                       "shufflenet_v1_g8"}


@pytest.mark.parametrize("name", builtin_variants())
def test_verify_strict_wherever_there_are_separable_pairs(cli, name):
    assert cli("verify", name, "--strict").code == (1 if name in NO_SEPARABLE_PAIRS else 0)
