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
