"""Counting conventions through the CLI: which flags reproduce which framework's total.

Every expected integer is derived in a comment from the architecture, not taken from the
tool. Shared building blocks:

MobileNetV1 weights (paper convention): 4,209,088; batch-norm channels (BN follows every
conv, depthwise included, never the classifier): 10,944. MobileNetV2 weights: 3,469,760; BN
channels: 17,056. tests/_derive.py derives all four from the architectures.
"""
from conftest import assert_one_line_error
from _derive import FP32, V1_BN_CHANNELS, v1_by_hand, v2_by_hand, v2_bn_channels

V1_WEIGHTS = v1_by_hand()[1]  # 4,209,088
V2_WEIGHTS = v2_by_hand()[1]  # 3,469,760


def totals(cli, *args):
    r = cli("report", *args, "--format", "json")
    assert r.code == 0, r.err
    return r.json()


def test_torchvision_mobilenet_v2(cli):
    # torchvision: 3,469,760 weights + 1,000 classifier bias + 2 (γ, β) × 17,056 BN channels
    #            = 3,469,760 + 1,000 + 34,112 = 3,504,872 (torchvision's num_params)
    d = totals(cli, "mobilenet_v2", "--profile", "torchvision")
    assert d["totals"]["params"] == V2_WEIGHTS + 1000 + 2 * v2_bn_channels() == 3_504_872
    assert d["convention"] == {"profile": "torchvision", "modified": False, "bn": 2, "bias": True,
                               "classes": 1000, "compute": "madds", **FP32}
    assert d["totals"]["madds"] == 300_774_272  # counting convention never changes mult-adds


def test_keras_mobilenet_v2(cli):
    # Keras total: + 4 (γ, β, moving mean, moving variance) × 17,056 = 3,469,760 + 1,000 + 68,224
    d = totals(cli, "mobilenet_v2", "--profile", "keras")
    assert d["totals"]["params"] == V2_WEIGHTS + 1000 + 4 * v2_bn_channels() == 3_538_984


def test_keras_mobilenet_v1_trainable_and_total(cli):
    # Keras "Trainable params" (and timm's mobilenetv1_100): 4,209,088 + 1,000 + 2·10,944 = 4,231,976
    assert totals(cli, "mobilenet_v1", "--bn", "2", "--bias")["totals"]["params"] == \
        V1_WEIGHTS + 1000 + 2 * V1_BN_CHANNELS == 4_231_976
    # Keras "Total params": 4,209,088 + 1,000 + 4·10,944 = 4,253,864
    assert totals(cli, "mobilenet_v1", "--bn", "4", "--bias")["totals"]["params"] == \
        V1_WEIGHTS + 1000 + 4 * V1_BN_CHANNELS == 4_253_864
    assert totals(cli, "mobilenet_v1", "--profile", "keras")["totals"]["params"] == 4_253_864


def test_tf_slim_v1_convention(cli):
    # 1001 classes: weights 4,209,088 + 1,024 (one more classifier row); bias 1,001; 3·10,944
    #   = 4,210,112 + 1,001 + 32,832 = 4,243,945 → the README's 4.24
    d = totals(cli, "mobilenet_v1", "--bn", "3", "--bias", "--classes", "1001")
    assert d["totals"]["params"] == 4_243_945
    assert d["convention"] == {"profile": "paper", "modified": True, "bn": 3, "bias": True,
                               "classes": 1001, "compute": "madds", **FP32}


def test_classes_override(cli):
    # The classifier is 1024 × classes: 1001 classes add 1,024 weights and 1,024 mult-adds.
    d = totals(cli, "mobilenet_v1", "--classes", "1001")
    assert (d["totals"]["madds"], d["totals"]["params"]) == (568_740_352 + 1024, V1_WEIGHTS + 1024)
    fc = d["layers"][-1]
    assert fc["kind"] == "fc" and fc["output_shape"] == [1, 1, 1001]
    # 10 classes: 1024·10 = 10,240 instead of 1,024,000
    d = totals(cli, "mobilenet_v1", "--classes", "10")
    assert d["totals"]["params"] == V1_WEIGHTS - 1_024_000 + 10_240


def test_flops_doubles_mult_adds(cli):
    # FLOPs = 2 × mult-adds = 2 × 568,740,352 = 1,137,480,704; params and madds are unchanged
    d = totals(cli, "mobilenet_v1", "--flops")
    # memory does not depend on --flops: V1's peak is at block1.pw, dw1's 112²×32 in and its
    # 112²×64 out, (32 + 64)·112²·4 B (fp32); weights are the parameters × 4 B
    assert d["totals"] == {"madds": 568_740_352, "params": V1_WEIGHTS, "flops": 1_137_480_704,
                           "peak_activation_bytes": (32 + 64) * 112 * 112 * 4,
                           "weight_bytes": V1_WEIGHTS * 4}
    assert d["convention"]["compute"] == "flops"
    assert totals(cli, "mobilenet_v1")["convention"]["compute"] == "madds"
    table = cli("report", "mobilenet_v1", "--flops")
    assert table.code == 0 and "1,137,480,704" in table.out


def test_no_bias_overrides_a_profile(cli):
    # torchvision without biases: 3,504,872 − 1,000 classifier biases = 3,503,872
    d = totals(cli, "mobilenet_v2", "--profile", "torchvision", "--no-bias")
    assert d["totals"]["params"] == 3_503_872
    assert d["convention"]["profile"] == "torchvision" and d["convention"]["modified"]  # no longer what torchvision counts
    assert d["convention"]["bias"] is False
    # and --bn overrides too: keras with BN folded is weights + bias = 3,470,760
    assert totals(cli, "mobilenet_v2", "--profile", "keras", "--bn", "0")["totals"]["params"] == 3_470_760


def test_bias_only_where_a_layer_has_one(cli):
    # The built-in configs give only the classifier a bias: --bias adds exactly 1,000.
    assert totals(cli, "mobilenet_v1", "--bias")["totals"]["params"] == V1_WEIGHTS + 1000


def test_batch_norm_sits_on_every_conv_not_the_classifier(cli):
    layers = {x["name"]: x for x in totals(cli, "mobilenet_v1", "--bn", "2", "--bias")["layers"]}
    assert layers["conv1"]["params"] == 3 * 3 * 3 * 32 + 2 * 32        # 864 + 64 = 928
    assert layers["block1.dw"]["params"] == 3 * 3 * 32 + 2 * 32         # depthwise too: 288 + 64 = 352
    assert layers["block1.pw"]["params"] == 32 * 64 + 2 * 64            # 2,048 + 128 = 2,176
    assert layers["fc1"]["params"] == 1024 * 1000 + 1000                # bias, no batch norm: 1,025,000
    assert layers["pool1"]["params"] == 0


def test_paper_profile_is_the_default(cli):
    assert totals(cli, "mobilenet_v2")["totals"] == totals(cli, "mobilenet_v2", "--profile", "paper")["totals"]
    assert totals(cli, "mobilenet_v2")["totals"]["params"] == V2_WEIGHTS


def test_bn_stops_at_four(cli):
    # 4 (γ, β, mean, variance) is the most a batch-norm channel holds; test_errors.FLAG_CASES
    # checks --bn 7, --profile and --classes through every command
    assert_one_line_error(cli("report", "mobilenet_v1", "--bn", "5"), "error: --bn: ", "got 5")
