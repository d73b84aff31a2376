"""ConvNeXt, MobileViT and EfficientFormer (issue 22): integers derived by hand from the papers'
formulas, the format pieces they needed (a `map`'s `like:` inside a block, `sub`), and their
errors. The counts against the timm and torchvision modules themselves are in the cross-check
tier (tests/crosscheck/test_families_f2.py)."""
import pytest
import yaml

import mbcost
from conftest import assert_one_line_error
from mbcost.core.elements import elements
from mbcost.core.spec import spec_from_document
from mbcost.core.yamlio import parse

TV = mbcost.PROFILES["torchvision"]


def costs(doc: dict, **kw) -> mbcost.Report:
    return mbcost.analyze(spec_from_document(parse(yaml.safe_dump(doc, sort_keys=False), "net.yaml")), **kw)


# --- a map's `like:` inside a block names the instance's own layer ------------------------------

FOLD = {
    "input": {"resolution": 16, "channels": 8},
    "blocks": {"fold": {"params": ["d"], "rows": [
        {"kind": "conv", "name": "proj", "c": "d", "k": 1},
        {"kind": "tokens", "name": "unfold", "patch": 2},
        {"kind": "map", "name": "fold", "like": "proj"}]}},
    "layers": [{"kind": "fold", "name": "a", "d": 8}, {"kind": "pool", "k": 2},
               {"kind": "fold", "name": "b", "d": 16}],
}


def test_a_maps_like_inside_a_block_is_the_instances_own_layer():
    # each instance folds back to the H×W of its own `proj`: 16×16 in a, 8×8 in b (after the pool)
    r = costs(FOLD)
    assert r["a.fold"].layer.inputs == ("a.unfold", "a.proj") and r["a.fold"].output_shape == (16, 16, 8)
    assert r["b.fold"].layer.inputs == ("b.unfold", "b.proj") and r["b.fold"].output_shape == (8, 8, 16)


def test_a_like_that_names_no_layer_says_like(cli, tmp_path):
    f = tmp_path / "bad.yaml"
    f.write_text(yaml.safe_dump({"input": {"resolution": 8, "channels": 8}, "layers": [
        {"kind": "conv", "name": "proj", "c": 8}, {"kind": "tokens"}, {"kind": "map", "like": "porj"}]}))
    assert_one_line_error(cli("report", f), "'like: porj' names no earlier layer; did you mean 'proj'?")


# --- sub: EfficientFormer's pooling token mixer, pool(x) − x -----------------------------------

POOLING = {
    "input": {"resolution": 8, "channels": 16},
    "layers": [{"kind": "pool", "name": "pool", "op": "avg", "k": 3, "s": 1, "padding": 1},
               {"kind": "sub", "name": "mixer", "from": ["pool", "input"]},
               {"kind": "layerscale", "name": "ls"}, {"kind": "add", "from": ["ls", "input"]}],
}


def test_pool_minus_x_is_free_and_one_subtraction_per_element():
    r = costs(POOLING, convention=TV)
    assert (r.madds, r.params) == (0, 16)  # only the layer scale's γ
    mixer = r["mixer"]
    assert mixer.output_shape == (8, 8, 16) and mixer.layer.inputs == ("pool", "input")
    assert elements(mixer).add == 8 * 8 * 16 and elements(mixer).macs == 0


@pytest.mark.parametrize("rows, message", [
    ([{"kind": "conv", "name": "a", "c": 8}, {"kind": "sub", "from": ["a", "input"]}],
     "cannot subtract input (16 channels) from a (8 channels)"),
    ([{"kind": "pool", "name": "a", "k": 2}, {"kind": "sub", "from": ["a", "input"]}],
     "cannot subtract input (8×8×16) from a (4×4×16): the shapes differ"),
    ([{"kind": "sub", "from": ["input"]}], "layers[0].from: expected [a, b] (a − b), got 1 name"),
])
def test_a_sub_that_does_not_fit_is_one_line(cli, tmp_path, rows, message):
    f = tmp_path / "bad.yaml"
    f.write_text(yaml.safe_dump({"input": {"resolution": 8, "channels": 16}, "layers": rows}))
    assert_one_line_error(cli("report", f), message)


# --- the families by hand ------------------------------------------------------------------------

def block(r: mbcost.Report, prefix: str) -> tuple[int, int]:
    """(mult-adds, params) of the layers whose names start with ``prefix``."""
    layers = [x for x in r.layers if x.name.startswith(prefix)]
    assert layers, prefix
    return sum(x.madds for x in layers), sum(x.params for x in layers)


def test_convnext_atto_by_hand():
    # A ConvNeXt block at C channels on an H×W map (P = H·W positions): 7×7 depthwise 49·C·P,
    # 1×1 C → 4C and 4C → C 8·C²·P mult-adds; weights 49C + 8C², plus under torchvision's
    # convention the biases C + 4C + C, the LayerNorm's 2C and γ's C: 8C² + 58C.
    #   res4 (C = 160, 14×14): (49·160 + 8·160²)·196 = 41,677,440; 8·160² + 58·160 = 214,080
    r = mbcost.analyze("convnext_atto", convention=TV)
    assert block(r, "res4.blocks.1.") == (41_677_440, 214_080)
    # whole network: stem 4·4·3·40 at 56² = 6,021,120; blocks Σ B·(49C + 8C²)·P over (C, P, B) =
    # (40, 3136, 2), (80, 784, 2), (160, 196, 6), (320, 49, 2): 92,574,720 + 86,428,160 +
    # 250,064,640 + 81,818,240; downsamples 2·2·C_in·C_out·P_out = 10,035,200 each (×3); fc 320,000
    assert r.madds == 6_021_120 + 92_574_720 + 86_428_160 + 250_064_640 + 81_818_240 + 3 * 10_035_200 + 320_000
    assert r.madds == 547_332_480
    # params: stem 1,960 + norm 80; blocks Σ B·(8C² + 58C) = 30,240 + 111,680 + 1,284,480 + 1,675,520;
    # downsamples 2·C_in + 4·C_in·C_out + C_out = 12,960 + 51,520 + 205,440; head norm 640, fc 321,000
    assert r.params == 2_040 + 30_240 + 111_680 + 1_284_480 + 1_675_520 + 12_960 + 51_520 + 205_440 + 640 + 321_000
    assert r.params == 3_695_520
    # the 1,840 the approximation missed are the layer scales: 2·40 + 2·80 + 6·160 + 2·320
    assert sum(x.params for x in r.layers if x.layer.kind == "layerscale") == 1_840
    # without biases (the papers' convention; LayerNorm and γ stay): 40 + Σ B·6C + 80 + 160 + 320 + 1,000
    assert mbcost.analyze("convnext_atto").params == 3_695_520 - (40 + 6 * 1_840 + 560 + 1_000) == 3_682_880


def test_convnext_tiny_is_the_same_block_written_with_linear_layers():
    # conv_mlp = 0: the MLP is an `mlp` row (linear layers on the map's pixels), costed as the
    # atto's 1×1 convs: res4 (C = 384, 14×14) = (49·384 + 8·384²)·196 = 234,898,944 mult-adds,
    # 8·384² + 58·384 = 1,201,920 params; the same sums as above over (96, 3136, 3), (192, 784, 3),
    # (384, 196, 9), (768, 49, 3) give 4,455,531,264 and 28,589,128
    r = mbcost.analyze("convnext_tiny", convention=TV)
    assert [x.layer.kind for x in r.layers if x.name.startswith("res4.blocks.1.mlp")] == ["linear", "linear"]
    assert block(r, "res4.blocks.1.") == (234_898_944, 1_201_920)
    assert (r.madds, r.params) == (4_455_531_264, 28_589_128)
    assert (r.madds, r.params) == (mbcost.analyze("convnext", convention=TV).madds,
                                   mbcost.analyze("convnext", convention=TV).params)


def test_a_mobilevit_block_by_hand():
    # MobileViT-XXS's first MobileViT block (docs/format.md's worked example): a 32×32×48 map
    # (P = 1024 positions), d = 64, L = 2 transformer layers, 4 heads, 2×2 patches: 4 sequences
    # of N = 256 tokens.
    #   local: 3×3 conv 9·48·48·P = 21,233,664; 1×1 48 → 64: 3,145,728
    #   per layer: qkv 64·192·P = 12,582,912; Q·Kᵀ 4·256²·64 = 16,777,216 and A·V the same
    #              (attention over all 1024 tokens would be 4× that); proj 64²·P = 4,194,304;
    #              MLP 2·64·128·P = 16,777,216 → 67,108,864
    #   fusion: 1×1 64 → 48: 3,145,728; concat; 3×3 conv 96 → 48: 9·96·48·P = 42,467,328
    #   P·(27C² + 2Cd + 8Ld²) + L·2·P²·d/4 = 137,101,312 + 67,108,864 = 204,210,176
    r = mbcost.analyze("mobilevit_xxs", convention=TV)
    assert r["mvit3.transformer.1.attn.scores"].madds == 4 * 256 ** 2 * 64 == 16_777_216
    assert r["mvit3.transformer.1.attn.scores"].output_shape == (1024, 256, 4)
    assert r["mvit3.fold"].output_shape == (32, 32, 64)
    # params, papers' convention: 27C² + 2Cd + L·(8d² + 4d) (q, k, v, proj, MLP weights; two
    # LayerNorms) + 2d (the last LayerNorm) = 134,528; torchvision's adds three BNs' 2C and each
    # layer's biases 3d + d + 2d + d: + 288 + 896 = 135,712 (timm's Σ numel of stages.2.1)
    assert block(r, "mvit3.") == (204_210_176, 135_712)
    assert block(mbcost.analyze("mobilevit_xxs"), "mvit3.")[1] == 134_528
    # the network: stem 27·16·128², the inverted residuals in·t·in·P_in + 9·t·in·P + t·in·c·P, the
    # three MobileViT blocks as above, the 1×1 head conv and fc (timm measures the same)
    assert (r.madds, r.params) == (407_364_096, 1_272_024)
    s = mbcost.analyze("mobilevit_s", convention=TV)
    assert (s.madds, s.params) == (2_000_831_488, 5_578_632)


def test_efficientformer_l1_by_hand():
    # MB3D on 7×7 = 49 tokens of C = 448: 8 heads, key_dim 32, value_dim 128
    #   qkv 49·448·8·(32 + 32 + 128) = 33,718,272; Q·Kᵀ 8·49²·32 = 614,656; A·V 8·49²·128 = 2,458,624;
    #   proj 49·1024·448 = 22,478,848 — the three products timm's Attention call owns: 3,073,280
    #   bias table: 8 heads × 49 offsets = 392 params
    r = mbcost.analyze("efficientformer_l1", convention=TV)
    a = "stage4_vit.token_mixer"
    assert [r[f"{a}.{x}"].madds for x in ("qkv", "scores", "av", "proj")] == [33_718_272, 614_656, 2_458_624,
                                                                            22_478_848]
    assert r[f"{a}.bias"].params == 392
    # MB4D at (C, P): 1×1 C → 4C and back, 8·C²·P; params with BNs, biases and two γ: 8C² + 17C
    assert block(r, "stage3.1.") == (8 * 224 ** 2 * 196, 8 * 224 ** 2 + 17 * 224) == (78_675_968, 405_216)
    # the network: stem 9·3·24·112² + 9·24·48·56² = 40,642,560; MB4D Σ B·8C²·P over (48, 3136, 3),
    # (96, 784, 2), (224, 196, 6), (448, 49, 3) = 997,097,472; downsamples 9·C_in·C_out·P_out =
    # 114,702,336; MB3D 59,270,400 + MLP 2·49·448·1792 = 78,675,968; head and head_dist 2·448,000
    assert r.madds == 40_642_560 + 997_097_472 + 114_702_336 + 59_270_400 + 78_675_968 + 896_000 == 1_291_284_736
    assert r.params == 12_289_928
    assert r["head"].madds == r["head_dist"].madds == 448_000  # both classifiers run at inference


# --- MobileViT at any resolution: resize up to the patch's multiples, as timm does -------------

def test_a_map_the_patch_does_not_tile_is_resized_up_and_back():
    # 7×7×16 in 2×2 patches: resized to 8×8 (timm's F.interpolate), 4 sequences of 16 tokens;
    # Q·Kᵀ 4·16²·16 = 16,384 mult-adds (2 heads of 8), the same for A·V; qkv 64·16·48 = 49,152 at
    # the resized map's 64 positions; folded back to 8×8 and resized down to 7×7
    doc = {"input": {"resolution": 7, "channels": 16},
           "layers": [{"kind": "tokens", "name": "t", "patch": 2, "resize": "bilinear"},
                      {"kind": "attention", "name": "a", "heads": 2},
                      {"kind": "map", "name": "m", "like": "input", "patch": 2, "resize": "bilinear"}]}
    r = costs(doc)
    assert r["t"].output_shape == (16, 4, 16)
    assert r["a.scores"].madds == r["a.av"].madds == 4 * 16 ** 2 * 16 == 16_384
    assert r["a.qkv"].madds == 64 * 16 * 48
    assert r["m"].output_shape == (7, 7, 16)
    # the same rows on an 8×8 map resize nothing
    doc["input"]["resolution"] = 8
    assert costs(doc)["a.scores"].madds == 16_384 and costs(doc)["m"].output_shape == (8, 8, 16)


@pytest.mark.parametrize("rows, message", [
    ([{"kind": "tokens", "patch": 2}], "2×2 patches do not tile the 7×7 map (resize: bilinear resizes it up"),
    ([{"kind": "tokens", "resize": "bilinear"}],
     "resize: a resize makes the map a multiple of the patch: it needs 'patch'"),
    ([{"kind": "tokens", "name": "t", "patch": 2, "resize": "bilinear"},
      {"kind": "map", "like": "input", "patch": 2}],
     "a 7×7 map needs 49 positions; t has 16 tokens in 4 sequences"),
    ([{"kind": "tokens", "name": "t", "patch": 2, "resize": "bilinear"},
      {"kind": "map", "like": "input", "patch": 4}],
     "4×4 patches fold 16 sequences; t has 16 tokens in 4 sequences"),
    ([{"kind": "tokens", "name": "t", "patch": 2, "resize": "bilinear"},
      {"kind": "map", "like": "input", "patch": [1, 4], "resize": "bilinear"}],
     "a 7×7 map (resized to 7×8) needs 56 positions; t has 16 tokens in 4 sequences"),
])
def test_a_resize_that_does_not_fit_is_one_line(cli, tmp_path, rows, message):
    f = tmp_path / "bad.yaml"
    f.write_text(yaml.safe_dump({"input": {"resolution": 7, "channels": 16}, "layers": rows}))
    assert_one_line_error(cli("report", f), message)
