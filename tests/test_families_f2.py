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
