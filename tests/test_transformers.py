"""The transformer era's kinds: tokens, norms, attention and the blocks built of them, derived by
hand and against an independent recount of random blocks (issue 22)."""
import math

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mbcost
from conftest import assert_one_line_error
from mbcost.core.elements import elements
from mbcost.core.spec import spec_from_document
from mbcost.core.yamlio import parse


def costs(doc: dict, **kw):
    r = mbcost.analyze(spec_from_document(parse(yaml.safe_dump(doc, sort_keys=False), "net.yaml")), **kw)
    return r


VIT = {
    "input": {"resolution": 32, "channels": 3}, "classes": 10,
    "blocks": {"encoder": {"params": ["heads"], "rows": [
        {"kind": "layernorm", "name": "norm1"},
        {"kind": "attention", "name": "attn", "heads": "heads"},
        {"kind": "add", "name": "res1", "from": ["attn.proj", "in"]},
        {"kind": "layernorm", "name": "norm2"},
        {"kind": "mlp", "name": "mlp", "ratio": 4},
        {"kind": "add", "name": "res2", "from": ["mlp.fc2", "res1"]}]}},
    "layers": [{"kind": "patch_embed", "name": "patch", "c": 64, "patch": 8}, {"kind": "cls_token"},
               {"kind": "pos_embed"}, {"kind": "encoder", "heads": 4, "n": 2}, {"kind": "layernorm"},
               {"kind": "pool", "global": True, "op": "token"}, {"kind": "fc"}],
}


def test_a_small_vit_by_hand():
    # 32×32×3 in 8×8 patches: 16 tokens + the class token, N = 17, C = 64, 4 heads of 16.
    #   patch conv 8·8·3·64 = 12,288 weights at 4·4: 196,608 mult-adds
    #   per encoder: qkv 17·64·192 = 208,896; Q·Kᵀ 17·17·64 = 18,496; A·V 18,496;
    #                proj 17·64·64 = 69,632; mlp 2 · 17·64·256 = 557,056        → 872,576
    #   classifier 64·10 = 640
    r = costs(VIT)
    assert r.madds == 196_608 + 2 * 872_576 + 640 == 1_942_400
    # weights: patch 12,288; class token 64; position embedding 17·64 = 1,088;
    #   per encoder: two norms 2·128, qkv 64·192 = 12,288, proj 4,096, mlp 2·16,384 → 49,408
    #   final norm 128, classifier 640 (the papers' convention counts no bias)
    assert r.params == 12_288 + 64 + 1_088 + 2 * 49_408 + 128 + 640 == 113_024
    assert [x.output_shape for x in r.layers if x.name.endswith("scores")] == [(17 * 1, 17, 4)] * 2
    # torchvision's convention adds every bias: patch 64; per encoder qkv 192, proj 64, mlp 256 + 64;
    # classifier 10
    tv = costs(VIT, convention=mbcost.PROFILES["torchvision"])
    assert tv.params - r.params == 64 + 2 * (192 + 64 + 256 + 64) + 10
    assert tv.madds == r.madds  # biases are not mult-adds


def test_the_vit_costs_quadratically_in_its_tokens_and_the_sweep_agrees():
    # at 64×64: 64 tokens + 1 = 65; attention's two products grow as N², the rest as N
    g = mbcost.sweep_grid(spec_from_document(parse(yaml.safe_dump(VIT), "vit.yaml")), alphas=[1],
                          resolutions=[32, 64])
    n = 65
    linear = n * 64 * 192 + n * 64 * 64 + 2 * n * 64 * 256
    assert g.at(1, 64).madds == 64 * 12_288 + 2 * (linear + 2 * n * n * 64) + 640
    assert g.at(1, 64).params == 113_024 + (65 - 17) * 64  # the position embedding, one vector a token
    assert g.at(1, 64).madds == costs(VIT, resolution=64).madds


MQA = {
    "input": {"resolution": 14, "channels": 64}, "batch_norm": True,
    "layers": [{"kind": "attention", "name": "mqa", "heads": 4, "key_dim": 16, "value_dim": 16,
                "multi_query": True, "kv_stride": 2, "qkv_bias": False, "proj_bias": False}],
}


def test_mobile_mqa_with_kv_downsampling_by_hand():
    # MobileNetV4's Mobile MQA on a 14×14×64 map: 4 query heads of 16, one shared K/V head of 16,
    # keys and values from a 3×3 depthwise conv of stride 2 each (7×7 = 49 positions), with BN
    #   q 196·64·64 = 802,816; k_down and v_down 9·64·49 = 28,224 each; k, v 49·64·16 = 50,176 each
    #   Q·Kᵀ 196·49·64 = 614,656 (4 heads × 196·49·16); A·V the same; proj 196·64·64 = 802,816
    r = costs(MQA)
    assert r.madds == 802_816 + 2 * 28_224 + 2 * 50_176 + 2 * 614_656 + 802_816 == 2_991_744
    assert r["mqa.scores"].output_shape == (196, 49, 4)
    assert r["mqa.av"].output_shape == (14, 14, 64)  # a map stays a map
    # weights: q 4,096; two 3×3 depthwise 576 each; k, v 1,024 each; proj 4,096 (BN folded: bn=0)
    assert r.params == 4_096 + 2 * 576 + 2 * 1_024 + 4_096
    assert costs(MQA, convention=mbcost.PROFILES["torchvision"]).params == r.params + 2 * 2 * 64  # two BNs


def test_an_attention_bias_table_and_an_act_before_the_projection():
    # LeViT-style: 49 tokens of 64, 4 heads, a 49-offset bias table per head, hardswish on A·V
    doc = {"input": {"resolution": 7, "channels": 64},
           "layers": [{"kind": "tokens"}, {"kind": "attention", "name": "a", "heads": 4, "offsets": 49,
                                            "act": "hswish"}]}
    r = costs(doc)
    assert r["a.bias"].params == 4 * 49
    assert r["a.act"].layer.act == "hswish" and r["a.act"].input_shape == (49, 1, 64)
    assert r.params == 64 * 192 + 4 * 49 + 64 * 64


def test_mobilevit_unfolded_patches_attend_within_their_sequence():
    # MobileViT: an 8×8×16 map in 2×2 patches is 4 sequences of 16 tokens; each sequence attends
    # to itself only: Q·Kᵀ is 4 · 16·16 · 16 = 16,384 mult-adds, where one sequence of all 64
    # tokens would cost 64·64·16 = 65,536
    doc = {"input": {"resolution": 8, "channels": 16},
           "layers": [{"kind": "tokens", "name": "t", "patch": 2}, {"kind": "attention", "name": "a", "heads": 2},
                      {"kind": "map", "like": "input"}]}
    r = costs(doc)
    assert r["t"].output_shape == (16, 4, 16)
    assert r["a.scores"].madds == 4 * 16 * 16 * 16 and r["a.av"].madds == 16_384
    assert r["a.scores"].output_shape == (64, 16, 2)
    assert r.layers[-1].output_shape == (8, 8, 16)


UIB = {
    "input": {"resolution": 32, "channels": 16}, "batch_norm": True,
    "blocks": {
        "uib": {"params": ["start", "mid", "e", "c", "s"], "rows": [
            {"kind": "dwconv", "name": "dw_start", "k": "start", "s": "s", "act": "linear", "if": "start > 0"},
            {"kind": "pwconv", "name": "expand", "c": "e"},
            {"kind": "dwconv", "name": "dw_mid", "k": "mid", "s": "s", "if": "mid > 0 and start == 0"},
            {"kind": "dwconv", "name": "dw_mid", "k": "mid", "if": "mid > 0 and start > 0"},
            {"kind": "pwconv", "name": "proj", "c": "c", "act": "linear"}]},
        "stage": {"params": ["c"], "rows": [
            {"kind": "uib", "name": "u1", "start": 3, "mid": 3, "e": "4*c", "c": "c", "s": 2},
            {"kind": "uib", "name": "u2", "start": 0, "mid": 0, "e": "2*c", "c": "c", "s": 1},
            {"kind": "add", "from": ["u2", "u1"]}]}},
    "layers": [{"kind": "stage", "c": 32}, {"kind": "pool", "global": True}, {"kind": "fc", "c": 10}],
}


def test_a_block_of_blocks_with_conditions_is_mobilenet_v4s_uib_written_once():
    r = costs(UIB)
    names = [x.name for x in r.layers]
    # u1 has both depthwise convs (start 3, mid 3), u2 neither: a ConvNeXt-like … no, an FFN-like UIB
    assert names == ["stage1.u1.dw_start", "stage1.u1.expand", "stage1.u1.dw_mid", "stage1.u1.proj",
                     "stage1.u2.expand", "stage1.u2.proj", "stage1.add1", "pool1", "fc1"]
    # 32×32×16 → dw 3×3/2 (16·16): 9·16·256 = 36,864; expand 16→128: 524,288; dw 3×3: 9·128·256
    # = 294,912; proj 128→32: 1,048,576; u2 expand 32→64, proj 64→32: 2 · 524,288; fc 320
    assert r.madds == 36_864 + 524_288 + 294_912 + 1_048_576 + 2 * 524_288 + 320


def test_block_and_token_errors_are_one_line(cli, tmp_path):
    f = tmp_path / "bad.yaml"
    f.write_text(yaml.safe_dump({"input": {"resolution": 8, "channels": 16}, "layers": [
        {"kind": "tokens"}, {"kind": "cls_token"}, {"kind": "map", "size": 8}]}))
    assert_one_line_error(cli("report", f), "a 8×8 map needs 64 positions; cls_token1 has 65 tokens")


def test_a_concat_of_tokens_is_tokens_and_an_upsample_or_deconv_of_tokens_is_refused(cli, tmp_path):
    # two 64×16 sequences side by side are one 64×32 sequence, which a map row folds back to 8×8×32
    r = costs({"input": {"resolution": 8, "channels": 16}, "layers": [
        {"kind": "tokens", "name": "t"}, {"kind": "linear", "c": 16, "name": "a"},
        {"kind": "concat", "from": ["t", "a"], "name": "cat"}, {"kind": "map", "like": "input"}]})
    assert r["cat"].output_shape == (64, 1, 32) and type(r["cat"].output_shape).__name__ == "Tokens"
    assert r.layers[-1].output_shape == (8, 8, 32)
    for row in ({"kind": "upsample", "scale": 2}, {"kind": "deconv", "c": 8, "k": 2, "s": 2}):
        f = tmp_path / "bad.yaml"
        f.write_text(yaml.safe_dump({"input": {"resolution": 8, "channels": 16}, "layers": [{"kind": "tokens"}, row]}))
        assert_one_line_error(cli("report", f), f"{row['kind']}1: a", "a map, but its input is tokens (64×16)")


# --- property: random transformer-era blocks against an independent recount -------------------

@st.composite
def blocks(draw):
    """A map, then random attention (with or without K/V downsampling, multi-query), MLP, norm,
    layer scale and residual rows, possibly on tokens; mult-adds and params counted here, from
    the formulas in the attention and matmul docstrings, with no mbcost code."""
    size = draw(st.sampled_from([4, 6, 8]))
    c = draw(st.sampled_from([8, 12, 16]))
    rows = [{"kind": "conv", "name": "stem", "c": c, "k": 1}]
    madds, params = 3 * c * size * size, 3 * c
    tokens = draw(st.booleans())
    last = "stem"
    if tokens:
        rows.append({"kind": "tokens", "name": "tok"})
        last = "tok"
    n = size * size
    for i in range(draw(st.integers(min_value=1, max_value=4))):
        op = draw(st.sampled_from(["attention", "mlp", "layernorm", "layerscale"]))
        name = f"b{i}"
        if op == "attention":
            h = draw(st.sampled_from([h for h in (1, 2, 4) if c % h == 0]))
            mq = draw(st.booleans()) and h > 1
            stride = 1 if tokens else draw(st.sampled_from([1, 2]))
            down = draw(st.sampled_from(["dwconv", "conv", "pool"]))
            offsets = draw(st.sampled_from([None, 9]))
            row = {"kind": "attention", "name": name, "heads": h, "multi_query": mq, "kv_stride": stride,
                   "kv_down": down}
            if offsets:
                row["offsets"] = offsets
            rows.append(row)
            d = c // h
            h_kv = 1 if mq else h
            if stride > 1:
                if down == "conv":  # a 2×2 conv of stride 2, valid, shared by K and V
                    m = (size - 2) // 2 + 1
                    nkv = m * m
                    madds += 4 * c * c * nkv
                    params += 4 * c * c
                else:  # 3×3 'same' of stride 2: ⌈size/2⌉² positions
                    m = -(-size // 2)
                    nkv = m * m
                    if down == "dwconv":  # one each for K and V
                        madds += 2 * 9 * c * nkv
                        params += 2 * 9 * c
            else:
                nkv = n
            madds += n * c * h * d + 2 * nkv * c * h_kv * d  # q, k, v
            params += c * h * d + 2 * c * h_kv * d
            madds += 2 * n * nkv * c  # Q·Kᵀ and A·V
            params += h * offsets if offsets else 0
            madds += n * c * c  # proj
            params += c * c
        elif op == "mlp":
            ratio = draw(st.sampled_from([1, 2, 4]))
            rows.append({"kind": "mlp", "name": name, "ratio": ratio})
            madds += 2 * n * c * ratio * c
            params += 2 * c * ratio * c
        elif op == "layernorm":
            rows.append({"kind": "layernorm", "name": name})
            params += 2 * c
        else:
            rows.append({"kind": "layerscale", "name": name})
            params += c
        if draw(st.booleans()):  # a residual around it
            rows.append({"kind": "add", "name": f"{name}r", "from": [rows[-1]["name"] if op != "attention"
                                                                      else f"{name}.proj", last]})
            name = f"{name}r"
        last = name
    if tokens and draw(st.booleans()):
        rows.append({"kind": "map", "like": "stem"})
    return {"input": {"resolution": size, "channels": 3}, "layers": rows}, madds, params


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(blocks())
def test_random_transformer_blocks_match_an_independent_recount(case):
    doc, madds, params = case
    r = costs(doc)
    assert (r.madds, r.params) == (madds, params), yaml.safe_dump(doc)
    assert sum(elements(x).macs for x in r.layers) == madds
    g = mbcost.sweep_grid(spec_from_document(parse(yaml.safe_dump(doc), "b.yaml")), alphas=[1], resolutions=None)
    assert (g.points[0].madds, g.points[0].params) == (madds, params)
    assert math.isfinite(r.peak_activation_bytes)


@pytest.mark.parametrize("alpha", ["0.5", "2"])
def test_alpha_scales_the_head_width_and_keeps_the_heads(alpha):
    r = costs(VIT, alpha=alpha)
    scores = r["encoder1.attn.scores"]
    assert scores.output_shape[2] == 4  # 4 heads at every width
    c = r["encoder1.attn.qkv"].input_shape[2]
    assert c == int(64 * float(alpha)) and r["encoder1.attn.qkv"].output_shape[2] == 3 * c


def test_a_block_run_once_per_proposal_counts_its_work_times_and_its_weights_once():
    # Faster-RCNN's second stage: a 3×3 conv 8 → 16 on a 7×7 crop, run for each of 300 proposals:
    # 9·8·16·49 = 56,448 mult-adds a run, 300 runs; 1,152 weights, once
    doc = {"input": {"resolution": 14, "channels": 8},
           "blocks": {"second": {"rows": [{"kind": "upsample", "size": 7, "mode": "bilinear"},
                                          {"kind": "conv", "name": "conv", "c": 16, "k": 3}]}},
           "layers": [{"kind": "second", "name": "box", "times": 300}]}
    r = costs(doc)
    assert (r.madds, r.params) == (300 * 56_448, 1_152)
    assert elements(r["box.conv"]).macs == 300 * 56_448
    g = mbcost.sweep_grid(spec_from_document(parse(yaml.safe_dump(doc), "f.yaml")), alphas=[1], resolutions=None)
    assert g.points[0].madds == r.madds
