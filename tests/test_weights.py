"""Shared weights: a row may reuse an earlier layer's weights (``weights: NAME``). Its
mult-adds count at every call, its parameters once, at NAME; the shapes must agree.

The cross-check tier runs the same network as one torch nn.Linear called three times and checks
Σ numel, FlopCounterMode/2 and every counter (tests/crosscheck/test_peer_cases.py, case
``reuse_linear_3x``)."""
from __future__ import annotations

import yaml

import mbcost
from conftest import assert_one_line_error

# 12 tokens of 16 channels (a 3×4×16 map flattened), one Linear 16 → 16 with a bias, called three
# times: fc2 and fc3 reuse fc1's weights
THREE = {"input": {"resolution": [3, 4], "channels": 16}, "layers": [
    {"kind": "tokens"},
    {"kind": "linear", "name": "fc1", "c": 16},
    {"kind": "linear", "name": "fc2", "c": 16, "weights": "fc1", "act": "relu"},
    {"kind": "linear", "name": "fc3", "c": 16, "weights": "fc1"}]}


def write(tmp_path, doc, name="net.yaml"):
    f = tmp_path / name
    f.write_text(yaml.safe_dump(doc, sort_keys=False))
    return f


def test_a_linear_used_three_times_counts_its_mult_adds_three_times_and_its_parameters_once(tmp_path):
    f = write(tmp_path, THREE)
    r = mbcost.analyze(f, convention=mbcost.PROFILES["torchvision"])
    # each call: 12 positions · 16 · 16 = 3,072 mult-adds; three calls 9,216
    # parameters: 16·16 weights + 16 biases = 272, held once (fc1), none at fc2 and fc3
    assert r.madds == 3 * 12 * 16 * 16 == 9_216
    assert r.params == 16 * 16 + 16 == 272
    assert [x.params for x in r.layers if x.layer.kind == "linear"] == [272, 0, 0]
    assert r.layers[-1].layer.weights_of == "fc1" and r.layers[-1].layer.shared
    # under the papers' convention (no bias): 256 weights
    assert mbcost.analyze(f).params == 256
    # as three independent Linears the parameters triple
    unshared = {**THREE, "layers": [{k: v for k, v in row.items() if k != "weights"} for row in THREE["layers"]]}
    assert mbcost.analyze(write(tmp_path, unshared, "three.yaml"), convention=mbcost.PROFILES["torchvision"]).params == 816


def test_every_counter_charges_each_call(cli, tmp_path):
    # every counter's hook or formula fires at every call of the one module:
    #   ptflops  3 · (3,072 + 12·16 bias) + fc2's ReLU module 2 · 192 = 10,176
    #   ptflops-aten 3 · 3,072 + 2 · 192       = 9,600 (fc1 reads the tokens as flattened, a strided
    #                view: torch runs mm + add there, and only addmm carries the bias)
    #   torchinfo 3 · 272 parameters × batch 1 =   816 (a Linear over tokens: its parameters per call)
    #   fvcore, thop, calflops 3 · 3,072        = 9,216; FlopCounterMode 2 · 9,216 = 18,432
    d = cli("compare", write(tmp_path, THREE), "-f", "json").json()
    got = {p["profile"]: p["total"] for p in d["profiles"]}
    assert got == {"paper": 9_216, "ptflops": 10_176, "ptflops-aten": 9_600, "fvcore": 9_216, "thop": 9_216,
                   "torchinfo": 816, "calflops": 9_216, "flopcounter": 18_432}


def test_a_conv_block_applied_twice_with_one_conv(tmp_path):
    # torchinfo's RecursiveNet, at batch 1: one Conv2d(64, 64, 3, padding 1) applied six times on
    # 8×8: 6 · 9·64·64·64 mult-adds, 9·64·64 + 64 parameters once; inside a block the name is the
    # instance's (twice.a reuses the first instance's conv)
    doc = {"input": {"resolution": 8, "channels": 64}, "bias": True, "activation": "linear",
           "blocks": {"twice": {"params": [], "rows": [{"kind": "conv", "name": "a", "c": 64, "k": 3, "weights": "first"},
                                                       {"kind": "conv", "name": "b", "c": 64, "k": 3, "weights": "first"}]}},
           "layers": [{"kind": "conv", "name": "first", "c": 64, "k": 3},
                      {"kind": "conv", "name": "second", "c": 64, "k": 3, "weights": "first"},
                      {"kind": "twice", "n": 2}]}
    r = mbcost.analyze(write(tmp_path, doc), convention=mbcost.PROFILES["torchvision"])
    assert r.madds == 6 * 9 * 64 * 64 * 64 and r.params == 9 * 64 * 64 + 64


def test_weights_that_do_not_fit_are_refused_with_one_line(cli, tmp_path):
    wider = {**THREE, "layers": THREE["layers"][:2] + [{"kind": "linear", "c": 32, "weights": "fc1"}]}
    assert_one_line_error(cli("report", write(tmp_path, wider)), "layers[2].weights",
                          "'weights: fc1' reuses weights of 16×16, but this layer's are 32×16")
    conv = {**THREE, "layers": THREE["layers"][:2] + [{"kind": "conv", "c": 16, "weights": "fc1"}]}
    assert_one_line_error(cli("report", write(tmp_path, conv)), "layers[2].weights",
                          "'weights: fc1' names a linear layer; a conv row can reuse only a conv's weights")
    later = {**THREE, "layers": THREE["layers"][:2] + [{"kind": "linear", "c": 16, "weights": "fc9"}]}
    assert_one_line_error(cli("report", write(tmp_path, later)), "layers[2].weights",
                          "'weights: fc9' names no earlier layer")
    pooled = {**THREE, "layers": THREE["layers"][:2] + [{"kind": "pool", "global": True, "name": "p"},
                                                         {"kind": "fc", "name": "head", "c": 16, "weights": "p"}]}
    assert_one_line_error(cli("report", write(tmp_path, pooled)), "layers[3].weights", "names a pool layer")
