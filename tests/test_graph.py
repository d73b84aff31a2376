"""The expanded layer graph: stable names, edges, shapes, and mismatches named by layer.

The mismatches (channels or sizes that cannot be added, groups that do not divide) are
corpus files, tests/bad/add_*_mismatch.yaml and groups_not_dividing_*.yaml, which
test_errors runs through every command and checks raise GraphError."""
from fractions import Fraction

import pytest

import mbcost
from mbcost.errors import SpecError
from mbcost.core.expand import expand
from mbcost.core.spec import load_spec
from mbcost.core.width import WidthRule


def arch(tmp_path, body, head="input: {resolution: 16, channels: 8}\nbatch_norm: true\n"):
    f = tmp_path / "a.yaml"
    f.write_text(head + "layers:\n" + body)
    return f


def test_v2_names_and_residual_edges():
    g = expand(load_spec("mobilenet_v2"))
    names = [layer.name for layer in g.layers]
    # 17 blocks; block1 (t = 1) has no expansion layer
    assert "block1.expand" not in names and names[1:3] == ["block1.dw", "block1.project"]
    assert names[-4:] == ["block17.project", "conv2", "pool1", "fc1"]
    adds = [n for n in names if n.endswith(".add")]
    # a shortcut on every repeat after the first of a row: (2-1)+(3-1)+(4-1)+(3-1)+(3-1) = 10
    assert len(adds) == 10
    edges = set(g.edges())
    assert ("block2.project", "block3.add") in edges and ("block3.project", "block3.add") in edges
    assert ("block3.add", "block4.expand") in edges


def test_v2_stride_only_on_first_repeat_and_linear_projection():
    r = mbcost.analyze("mobilenet_v2")
    assert r["block4.dw"].layer.s == (2, 2) and r["block5.dw"].layer.s == (1, 1)
    assert r["block4.dw"].output_shape == (28, 28, 144)
    assert r["block5.project"].layer.act == "linear" and r["block5.expand"].layer.act == "relu6"


def test_shapes_same_padding_ceil(tmp_path):
    # 15 / 2 → ⌈7.5⌉ = 8 under 'same'; ⌊(15 − 3)/2⌋ + 1 = 7 under 'valid'
    f = arch(tmp_path, "  - {kind: conv, c: 8, k: 3, s: 2}\n  - {kind: conv, c: 8, k: 3, s: 2, padding: valid}\n")
    r = mbcost.analyze(f, resolution=15)
    assert r["conv1"].output_shape == (8, 8, 8) and r["conv2"].output_shape == (3, 3, 8)


def test_grouped_conv_and_pools(tmp_path):
    f = arch(tmp_path, "  - {kind: conv, c: 16, k: 3, groups: 4}\n"
                       "  - {kind: pool, op: max, k: 2}\n  - {kind: fc, c: 10}\n")
    r = mbcost.analyze(f)
    # 3·3·(8/4)·16·16² = 73,728 mult-adds; 288 weights
    assert (r["conv1"].madds, r["conv1"].params) == (3 * 3 * 2 * 16 * 16 * 16, 3 * 3 * 2 * 16)
    assert r["pool1"].output_shape == (8, 8, 16) and r["pool1"].madds == 0
    # FC flattens 8·8·16 = 1024 inputs: 10,240 mult-adds and weights (bias not counted by default)
    assert (r["fc1"].madds, r["fc1"].params) == (8 * 8 * 16 * 10, 8 * 8 * 16 * 10)


def test_add_row_joins_named_layer(tmp_path):
    f = arch(tmp_path, "  - {kind: conv, c: 8, k: 3, name: stem}\n  - {kind: conv, c: 8, k: 3}\n"
                       "  - {kind: add, from: stem}\n")
    g = expand(load_spec(f))
    assert g.layers[-1].inputs == ("conv1", "stem")


def test_width_rule_floor_minimum():
    g = expand(load_spec("mobilenet_v1"), Fraction(1, 10))
    # ⌊32·0.1⌋ = 3 → minimum 8; ⌊1024·0.1⌋ = 102
    assert g.layers[0].c == 8 and g.layers[-3].c == 102


@pytest.mark.parametrize("rule, c, alpha, expected", [
    # floor: max(⌊c·α⌋, min)
    (WidthRule("floor", 8), 1024, "0.25", 256),
    (WidthRule("floor", 8), 1024, "0.2501", 256),  # 256.1024 → 256
    (WidthRule("floor", 8), 1024, "0.2509", 256),  # 256.9216 → 256
    (WidthRule("floor", 8), 1024, "0.251", 257),  # 257.024 → 257
    (WidthRule("floor", 8), 32, "0.2", 8),  # ⌊6.4⌋ = 6 → the minimum 8
    # make_divisible by 8: ⌊c·α + 4⌋ down to a multiple of 8, at least 8, + 8 if below 0.9·c·α
    (WidthRule("make_divisible", 8, 8), 96, "0.7083", 64),  # 67.9968: ⌊71.9968⌋ = 71 → 64
    (WidthRule("make_divisible", 8, 8), 96, "0.7084", 72),  # 68.0064: ⌊72.0064⌋ = 72
    (WidthRule("make_divisible", 8, 8), 32, "0.35", 16),  # 11.2 → 8, but 8 < 10.08, so 16
    (WidthRule("make_divisible", 8, 8), 40, "0.225", 16),  # 9 → 8, and 8 < 8.1: + 8
    (WidthRule("make_divisible", 8, 8), 40, "0.2", 8),  # 8 → 8, not below 7.2
    (WidthRule("make_divisible", 8, 8), 1280, "1.4", 1792),  # exactly 1792
    (WidthRule("make_divisible", 16, 4), 100, "0.3", 32),  # 30: ⌊38⌋ = 38 → 32, not below 27
    (WidthRule("make_divisible", 8, 8), 100, "1", 100),  # α = 1: the file's own count
])
def test_width_rule_at_its_boundaries(rule, c, alpha, expected):
    # the rule works in integers (α = p/q); these are the boundaries where an off-by-one shows
    assert rule.apply(c, Fraction(alpha)) == expected


def test_unknown_key_is_refused_with_suggestion(tmp_path):
    f = arch(tmp_path, "  - {kind: conv, c: 8, kernel: 3}\n")
    with pytest.raises(SpecError) as e:
        mbcost.analyze(f)
    assert "a.yaml:4" in str(e.value) and "did you mean 'k'" in str(e.value)
