"""General layer graphs: each network of the issue written in YAML and costed exactly, with the
integers derived here from the formulas (conv D_K²·(M/g)·N·D_F², dwconv D_K²·M·D_F², deconv
D_K²·(M/g)·N·H_in·W_in, free joins), and a property test against an independent recount."""
from __future__ import annotations

import textwrap

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mbcost
from mbcost.core.elements import elements
from conftest import assert_one_line_error
from mbcost.core.spec import spec_from_document
from mbcost.core.yamlio import parse


def arch(text: str):
    return spec_from_document(parse(textwrap.dedent(text), "net.yaml"))


def costs(text: str, **kw):
    r = mbcost.analyze(arch(text), **kw)
    return r.madds, r.params, r


# --- the six networks of the issue ------------------------------------------------------------------

RESNET50 = """
    name: resnet50
    input: {resolution: 224, channels: 3}
    classes: 1000
    batch_norm: true
    activation: relu
    blocks:
      proj:                           # first block of a stage: 1×1 projection shortcut
        params: [w, s]
        rows:
          - {kind: conv, name: a, c: w, k: 1, from: in}
          - {kind: conv, name: b, c: w, k: 3, s: s, padding: 1}
          - {kind: conv, name: c, c: "4*w", k: 1, act: linear}
          - {kind: conv, name: down, c: "4*w", k: 1, s: s, act: linear, from: in}
          - {kind: add, from: [c, down], act: relu}
      ident:
        params: [w]
        rows:
          - {kind: conv, name: a, c: w, k: 1, from: in}
          - {kind: conv, name: b, c: w, k: 3, padding: 1}
          - {kind: conv, name: c, c: "4*w", k: 1, act: linear}
          - {kind: add, from: [c, in], act: relu}
    layers:
      - {kind: conv, c: 64, k: 7, s: 2, padding: 3}
      - {kind: pool, op: max, k: 3, s: 2, padding: 1}
      - {kind: proj, w: 64, s: 1}
      - {kind: ident, w: 64, n: 2}
      - {kind: proj, w: 128, s: 2}
      - {kind: ident, w: 128, n: 3}
      - {kind: proj, w: 256, s: 2}
      - {kind: ident, w: 256, n: 5}
      - {kind: proj, w: 512, s: 2}
      - {kind: ident, w: 512, n: 2}
      - {kind: pool, op: avg, global: true}
      - {kind: fc}
"""


def resnet50_by_hand() -> tuple[int, int]:
    """torchvision's ResNet-50 (v1.5: the stride on the 3×3), layer by layer from the formulas:
    mult-adds, and params under torchvision's convention (weights + 2 per BN channel + fc bias)."""
    madds = params = 0

    def conv(m, n, k, hw):
        nonlocal madds, params
        madds += k * k * m * n * hw * hw
        params += k * k * m * n + 2 * n  # BN: γ and β per output channel

    conv(3, 64, 7, 112)  # 224 → 112; max pool → 56
    m, hw = 64, 56
    for w, blocks, stride in ((64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)):
        for j in range(blocks):
            out = hw // stride if j == 0 else hw
            conv(m, w, 1, hw)
            conv(w, w, 3, out)
            conv(w, 4 * w, 1, out)
            if j == 0:
                conv(m, 4 * w, 1, out)  # the projection shortcut
            m, hw = 4 * w, out
    madds += 2048 * 1000
    params += 2048 * 1000 + 1000
    return madds, params


def test_resnet50_with_projection_shortcuts():
    madds, params = resnet50_by_hand()
    assert (madds, params) == (4_089_184_256, 25_557_032)  # torchvision's resnet50: 4.09 GFLOPS, num_params
    r = mbcost.analyze(arch(RESNET50), convention=mbcost.PROFILES["torchvision"])
    assert (r.madds, r.params) == (madds, params)
    assert r["proj1.down"].layer.inputs == ("pool1",)  # the shortcut reads the block's input
    assert r["ident1.add1"].layer.inputs == ("ident1.c", "proj1.add1")  # instances: proj1, ident1, ident2…


def test_mobilenet_v3_sequence_with_se_and_hswish():
    m, p, r = costs("""
        input: {resolution: 56, channels: 24}
        batch_norm: true
        width: {rule: make_divisible, divisor: 8}
        layers:
          - {kind: mbconv, exp: 72, c: 40, k: 5, s: 2, se: 0.25, act: relu}
          - {kind: mbconv, exp: 120, c: 40, k: 5, s: 1, se: 0.25, act: relu}
          - {kind: conv, c: 80, k: 1, act: hswish}
    """)
    # block 1 (56² → 28²): expand 56²·24·72 = 5,419,008; dw 5×5/2 25·72·28² = 1,411,200;
    #   SE squeeze = make_divisible(72 // 4 = 18, 8) = 16 < 0.9·18, so 24: reduce 72·24 = 1,728 and
    #   expand 24·72 = 1,728 on the 1×1 pooled map; project 28²·72·40 = 2,257,920 (on the gated
    #   28×28 map, not the pooled one)
    # block 2: expand 28²·40·120 = 3,763,200; dw 25·120·28² = 2,352,000; squeeze
    #   make_divisible(30, 8) = 32: 120·32 + 32·120 = 7,680; project 28²·120·40 = 3,763,200; residual
    # conv 28²·40·80 = 2,508,800
    assert m == (5_419_008 + 1_411_200 + 1_728 + 1_728 + 2_257_920 + 3_763_200 + 2_352_000 + 7_680 +
                 3_763_200 + 2_508_800)
    assert p == (24 * 72 + 25 * 72 + 2 * 72 * 24 + 72 * 40 + 40 * 120 + 25 * 120 + 2 * 120 * 32 + 120 * 40
                 + 40 * 80)
    assert r["block1.project"].madds == 2_257_920 and r["block1.project"].input_shape == (28, 28, 72)
    assert r["block1.se.mul"].layer.inputs == ("block1.dw", "block1.se.expand")
    assert r["block1.se.expand"].layer.act == "hsigmoid" and r["conv1"].layer.act == "hswish"
    assert r["block2.add"].layer.inputs == ("block2.project", "block1.project")


def test_shufflenet_v2_unit():
    m, p, r = costs("""
        input: {resolution: 28, channels: 116}
        batch_norm: true
        layers:
          - {kind: split, name: sp, sizes: [58, 58]}
          - {kind: conv, name: pw1, c: 58, from: sp.1}
          - {kind: dwconv, name: dw, k: 3, padding: 1, act: linear}
          - {kind: conv, name: pw2, c: 58}
          - {kind: concat, name: cat, from: [sp.0, pw2]}
          - {kind: shuffle, groups: 2}
    """)
    # 28²·58·58 + 9·58·28² + 28²·58·58; split, concat and shuffle are free
    assert m == 784 * 58 * 58 * 2 + 9 * 58 * 784
    assert p == 58 * 58 * 2 + 9 * 58
    assert r["cat"].output_shape == (28, 28, 116) and r["shuffle1"].output_shape == (28, 28, 116)
    assert r["pw1"].input_shape == (28, 28, 58)


def test_inception_module():
    m, p, r = costs("""
        input: {resolution: 28, channels: 192}
        activation: relu
        layers:                                   # GoogLeNet's inception (3a), the paper's 5×5
          - {kind: conv, name: b1, c: 64, from: input}
          - {kind: conv, name: b2r, c: 96, from: input}
          - {kind: conv, name: b2, c: 128, k: 3, padding: 1}
          - {kind: conv, name: b3r, c: 16, from: input}
          - {kind: conv, name: b3, c: 32, k: 5, padding: 2}
          - {kind: pool, name: b4p, op: max, k: 3, s: 1, padding: 1, from: input}
          - {kind: conv, name: b4, c: 32}
          - {kind: concat, from: [b1, b2, b3, b4]}
    """)
    # all on 28² = 784: 192·64 + 192·96 + 9·96·128 + 192·16 + 25·16·32 + 192·32 (the pool is free)
    weights = 192 * 64 + 192 * 96 + 9 * 96 * 128 + 192 * 16 + 25 * 16 * 32 + 192 * 32
    assert (m, p) == (784 * weights, weights)
    assert r["concat1"].output_shape == (28, 28, 64 + 128 + 32 + 32)


def test_fire_module_as_a_user_block():
    m, p, r = costs("""
        input: {resolution: 55, channels: 96}
        activation: relu
        bias: true
        blocks:
          fire:
            params: [s1, e1, e3]
            rows:
              - {kind: conv, name: squeeze, c: s1}
              - {kind: conv, name: e1, c: e1, from: squeeze}
              - {kind: conv, name: e3, c: e3, k: 3, padding: 1, from: squeeze}
              - {kind: concat, from: [e1, e3]}
        layers:
          - {kind: fire, s1: 16, e1: 64, e3: 64}
          - {kind: fire, s1: 16, e1: 64, e3: 64}
    """, convention=mbcost.PROFILES["torchvision"])
    # fire2 on 55² = 3,025: squeeze 96·16, expand 16·64 (1×1) and 9·16·64 (3×3); fire3 reads 128
    one = lambda m_in: (3025 * (m_in * 16 + 16 * 64 + 9 * 16 * 64),  # noqa: E731
                        m_in * 16 + 16 + 16 * 64 + 64 + 9 * 16 * 64 + 64)  # weights + biases
    (m2, p2), (m3, p3) = one(96), one(128)
    assert (m, p) == (m2 + m3, p2 + p3)
    assert r["fire2.e3"].layer.inputs == ("fire2.squeeze",) and r["fire2.concat1"].output_shape == (55, 55, 128)


def test_encoder_decoder_with_upsample_deconv_and_a_skip():
    m, p, r = costs("""
        input: {resolution: 64, channels: 3}
        layers:
          - {kind: conv, name: enc1, c: 16, k: 3, s: 2, padding: 1}
          - {kind: conv, name: enc2, c: 32, k: 3, s: 2, padding: 1}
          - {kind: deconv, name: up, c: 16, k: 2, s: 2}
          - {kind: concat, name: skip, from: [up, enc1]}
          - {kind: conv, name: dec, c: 8, k: 3, padding: 1}
          - {kind: upsample, scale: 2, mode: bilinear}
          - {kind: conv, name: head, c: 2}
    """)
    # enc1 32²·27·16; enc2 16²·9·16·32; deconv (16 − 1)·2 + 2 = 32 wide, 2²·32·16 per input
    # position × 16²; dec 32²·9·32·8; upsample free; head 64²·8·2
    assert m == 1024 * 27 * 16 + 256 * 9 * 16 * 32 + 256 * 4 * 32 * 16 + 1024 * 9 * 32 * 8 + 4096 * 8 * 2
    assert p == 27 * 16 + 9 * 16 * 32 + 4 * 32 * 16 + 9 * 32 * 8 + 8 * 2
    assert r["up"].output_shape == (32, 32, 16) and r["upsample1"].output_shape == (64, 64, 8)


def test_dilation_and_integer_padding_follow_pytorch():
    m, p, r = costs("""
        input: {resolution: 33, channels: 8}
        layers:
          - {kind: conv, c: 8, k: 3, d: 2, padding: 2}
          - {kind: conv, c: 8, k: 3, d: 3, padding: 0, groups: 2}
          - {kind: dwconv, k: 3, multiplier: 2, padding: [1, 0]}
    """)
    # (33 + 4 − 5) / 1 + 1 = 33; (33 − 7) + 1 = 27 with groups 2: 9·4·8; the multiplier doubles N:
    # 27 + 2 − 3 + 1 = 27 high, 27 − 3 + 1 = 25 wide, 9·8·2 weights
    assert [x.output_shape for x in r.layers] == [(33, 33, 8), (27, 27, 8), (27, 25, 16)]
    assert m == 33 * 33 * 9 * 8 * 8 + 27 * 27 * 9 * 4 * 8 + 27 * 25 * 9 * 8 * 2
    assert p == 9 * 8 * 8 + 9 * 4 * 8 + 9 * 8 * 2


def test_several_outputs_and_depth_scaling():
    m, p, r = costs("""
        input: {resolution: 8, channels: 4}
        outputs: [head_a, head_b]
        layers:
          - {kind: conv, name: trunk, c: 8, n: 2}
          - {kind: conv, name: head_a, c: 2, from: trunk}
          - {kind: conv, name: head_b, c: 3, from: trunk}
    """, depth="1.5")
    # ⌈2 · 1.5⌉ = 3 trunk convs: 64·(4·8 + 8·8 + 8·8); heads 64·8·2 and 64·8·3
    assert [x.name for x in r.layers] == ["trunk.1", "trunk.2", "trunk.3", "head_a", "head_b"]
    assert m == 64 * (4 * 8 + 8 * 8 + 8 * 8 + 8 * 2 + 8 * 3)
    assert r.graph.outputs == ("head_a", "head_b")


# --- what used to be a trap -----------------------------------------------------------------------

def test_squeeze_excite_written_as_rows_with_from_costs_the_gated_map():
    # the workaround the issue describes, written out with `from:` and `mul`: the conv after the
    # gate reads the 28×28×72 map (28²·72·40 = 2,257,920), not the pooled 1×1 one (72·40 = 2,880)
    _, _, r = costs("""
        input: {resolution: 28, channels: 72}
        layers:
          - {kind: act, name: x, act: relu}
          - {kind: pool, op: avg, global: true}
          - {kind: conv, c: 24, bias: true}
          - {kind: conv, name: gate, c: 72, bias: true, act: hsigmoid}
          - {kind: mul, from: [x, gate]}
          - {kind: conv, name: project, c: 40, act: linear}
    """)
    assert r["project"].madds == 2_257_920


# --- errors ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("rows,message", [
    ("- {kind: conv, c: 8, from: later}\n  - {kind: conv, name: later, c: 8}", "'from: later' names no earlier layer"),
    ("- {kind: conv, name: a, c: 8, s: 2}\n  - {kind: conv, name: b, c: 8, from: input}\n"
     "  - {kind: concat, from: [a, b]}", "cannot concatenate b (16×16×8) with a (8×8×8)"),
    ("- {kind: conv, name: a, c: 8}\n  - {kind: conv, name: b, c: 4, from: input}\n  - {kind: add, from: [a, b]}",
     "cannot add b (4 channels) to a (8 channels)"),
    ("- {kind: conv, name: a, c: 8}\n  - {kind: conv, name: g, c: 3, from: input}\n  - {kind: mul, from: [a, g]}",
     "cannot multiply a (8 channels) by g (3 channels)"),
    ("- {kind: conv, name: a, c: 8}\n  - {kind: conv, name: b, c: 8, from: input}", "the output of a is never used"),
    ("- {kind: split, sizes: [3, 4]}", "split sizes [3, 4] add up to 7, not the 6 input channels"),
    ("- {kind: conv, c: \"4*w\"}", "'w' is not a parameter"),
])
def test_wiring_errors_are_one_line_with_the_row(cli, tmp_path, rows, message):
    f = tmp_path / "net.yaml"
    f.write_text(f"input: {{resolution: 16, channels: 6}}\nlayers:\n  {rows}\n")
    assert_one_line_error(cli("report", f), "net.yaml:", message)


# --- property: random DAGs against an independent recount ------------------------------------------

@st.composite
def dags(draw):
    """A random valid graph as rows, with its mult-adds and params counted here, independently:
    shapes by PyTorch's rules, costs by the formulas, no mbcost code."""
    c0 = draw(st.sampled_from([3, 4, 8]))
    size = draw(st.integers(min_value=9, max_value=24))
    tensors = {"input": (size, size, c0)}
    order = ["input"]
    rows, madds, params, read = [], 0, 0, set()

    def pick(pred=lambda s: True):
        names = [n for n in order if pred(tensors[n])]
        return draw(st.sampled_from(names)) if names else None

    for i in range(draw(st.integers(min_value=1, max_value=7))):
        name = f"n{i}"
        op = draw(st.sampled_from(["conv", "conv", "dwconv", "concat", "add", "se", "mul"]))
        src = pick()
        h, w, c = tensors[src]
        if op == "conv":
            k = draw(st.sampled_from([1, 3]))
            d = draw(st.sampled_from([1, 2])) if k == 3 else 1
            pad = draw(st.integers(min_value=0, max_value=2))
            s = draw(st.sampled_from([1, 2]))
            groups = draw(st.sampled_from([g for g in (1, 2, c) if c % g == 0]))
            n_out = groups * draw(st.integers(min_value=1, max_value=4))
            span = d * (k - 1) + 1
            ho, wo = (h + 2 * pad - span) // s + 1, (w + 2 * pad - span) // s + 1
            if min(ho, wo) < 1:
                continue
            rows.append({"kind": "conv", "name": name, "from": src, "c": n_out, "k": k, "d": d, "s": s,
                         "padding": pad, "groups": groups})
            madds += k * k * (c // groups) * n_out * ho * wo
            params += k * k * (c // groups) * n_out
            tensors[name] = (ho, wo, n_out)
        elif op == "dwconv":
            rows.append({"kind": "dwconv", "name": name, "from": src, "k": 3, "padding": 1})
            madds += 9 * c * h * w
            params += 9 * c
            tensors[name] = (h, w, c)
        elif op in ("concat", "add"):
            other = pick(lambda t: t[:2] == (h, w) and (op == "concat" or t[2] == c))
            ins = [src, other] + ([other] if op == "add" and draw(st.booleans()) else [])
            rows.append({"kind": op, "name": name, "from": ins})
            tensors[name] = (h, w, c + tensors[other][2] if op == "concat" else c)
            read.update(ins)
        elif op == "se":  # the composite: pool, reduce (bias), expand (bias), mul
            squeeze = max(1, c // 4)
            rows.append({"kind": "se", "name": name, "from": src, "se": 0.25, "se_divisor": 1})
            madds += c * squeeze * 2
            params += c * squeeze * 2  # biases are not counted in the papers' convention
            tensors[name] = (h, w, c)
        else:  # a mul gate written out: a 1×1×C gate from a global pool and a conv
            rows.append({"kind": "pool", "name": f"{name}p", "from": src, "op": "avg", "global": True})
            rows.append({"kind": "conv", "name": f"{name}g", "c": c, "act": "sigmoid"})
            rows.append({"kind": "mul", "name": name, "from": [src, f"{name}g"]})
            madds += c * c
            params += c * c
            tensors[f"{name}p"], tensors[f"{name}g"] = (1, 1, c), (1, 1, c)
            read.update({f"{name}p", f"{name}g"})
            tensors[name] = (h, w, c)
        read.add(src)
        order.append(name)
    outputs = [n for n in order[1:] if n not in read] or None
    if not rows:
        return None
    doc = {"input": {"resolution": size, "channels": c0}, "activation": "linear", "layers": rows}
    if outputs:
        doc["outputs"] = outputs
    return yaml.safe_dump(doc, sort_keys=False), madds, params


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(dags())
def test_random_dags_match_an_independent_recount(case):
    if case is None:
        return
    text, madds, params = case
    r = mbcost.analyze(spec_from_document(parse(text, "dag.yaml")))
    assert (r.madds, r.params) == (madds, params), text
    # every layer's element counts carry its own mult-adds (one formula per kind, never restated)
    assert sum(elements(x).macs for x in r.layers) == madds
    assert all(elements(x).macs == x.madds for x in r.layers)
    # the sweep's fast path reads the same op registry: equal at another resolution and width
    g = mbcost.sweep_grid(spec_from_document(parse(text, "dag.yaml")), alphas=[1], resolutions=None)
    assert (g.points[0].madds, g.points[0].params) == (madds, params)


# --- verify on the new blocks, --strict, and the sweep's depth axis --------------------------------

MBCONV_NET = """
    input: {resolution: 32, channels: 16}
    width: {rule: make_divisible, divisor: 8}
    layers:
      - {kind: mbconv, t: 4, c: 24, k: 3, s: 2, se: 0.25, se_base: in, se_divisor: 1, act: swish}
      - {kind: mbconv, exp: 96, c: 24, k: 5, act: hswish}
      - {kind: fc, c: 10}
"""


def test_verify_checks_pairs_through_a_squeeze_excite_gate(cli, tmp_path):
    f = tmp_path / "mb.yaml"
    f.write_text(textwrap.dedent(MBCONV_NET))
    d = cli("verify", f, "--format", "json").json()
    # block1: dw 3×3/2 on 64 = 4·16 channels, 16×16 out, then SE, then project to 24:
    #   separable 9·64·256 + 64·24·256 against standard 9·64·24·256: ratio 1/24 + 1/9 = 11/72
    (p1, p2) = d["pairs"]
    assert (p1["depthwise"], p1["pointwise"], p1["M"], p1["N"]) == ("block1.dw", "block1.project", 64, 24)
    assert (p1["separable_madds"], p1["standard_madds"]) == (9 * 64 * 256 + 64 * 24 * 256, 9 * 64 * 24 * 256)
    assert p1["ratio"] == p1["formula"] == "11/72"
    # block2 has no SE: a plain V2-style bottleneck (expand 24 → 96, 5×5 dw, project, residual)
    assert (p2["depthwise"], p2["M"], p2["N"]) == ("block2.dw", 96, 24) and p2["formula"] == "49/600"
    assert [b["block"] for b in d["bottlenecks"]] == ["block2"]
    # the layers no closed form covers are named: the SE convs, block1's expansion, the fc
    assert d["unchecked"] == ["block1.expand", "block1.se.reduce", "block1.se.expand", "fc1"]
    assert d["checked"] is True and d["ok"] is True


def test_verify_strict_fails_when_nothing_is_checked(cli, tmp_path):
    f = tmp_path / "plain.yaml"
    f.write_text("input: {resolution: 16, channels: 3}\nlayers:\n  - {kind: conv, c: 8, k: 3}\n")
    assert cli("verify", f).code == 0
    r = cli("verify", f, "--strict")
    assert r.code == 1 and "nothing was checked" in r.err
    assert cli("verify", "mobilenet_v1", "--strict").code == 0


def test_sweep_depth_axis_equals_the_engine(cli, tmp_path):
    f = tmp_path / "stages.yaml"
    f.write_text(textwrap.dedent("""
        input: {resolution: 16, channels: 8}
        layers:
          - {kind: conv, c: 8, k: 3}
          - {kind: conv, c: 8, k: 3, n: 2}
    """))
    rows = [line.split(",") for line in cli("sweep", f, "-d", "1,1.5,2", "-r", "16,8", "-f", "csv").out.splitlines()]
    assert rows[0][:5] == ["architecture", "alpha", "resolution", "depth", "convention"]
    got = {(r[2], r[3]): int(r[5]) for r in rows[1:]}
    # the stated stage repeats ⌈2·d⌉ = 2, 3, 4 times; the unstated row once: (1 + ⌈2d⌉)·9·8·8·D_F²
    for d, reps in (("1.0", 2), ("1.5", 3), ("2.0", 4)):
        assert got["16x16", d] == (1 + reps) * 9 * 64 * 256 == mbcost.analyze(f, depth=d).madds
        assert got["8x8", d] == (1 + reps) * 9 * 64 * 64


def test_the_readme_architecture_example_runs_and_verifies(cli, tmp_path):
    from conftest import ROOT

    readme = (ROOT / "README.md").read_text()
    text = readme.split("## Your own architecture", 1)[1].split("```yaml\n", 1)[1].split("```", 1)[0]
    f = tmp_path / "readme_net.yaml"
    f.write_text(text)
    d = cli("report", f, "--format", "json").json()
    # stem 3×3/2 on 224: 112²·27·16; the bneck's SE squeeze is make_divisible(72 // 4, 8) = 24
    assert d["layers"][0]["madds"] == 112 * 112 * 27 * 16
    assert d["layers"][[x["name"] for x in d["layers"]].index("block1.se.reduce")]["output_shape"] == [1, 1, 24]
    assert cli("verify", f, "--strict").code == 0


def test_the_best_order_search_runs_through_a_split():
    # split's parts count as one tensor (its input's memory): the input 8·8·8 = 512 and the
    # split's 512 are alive at the split; both branch convs read a part (4·8·8 = 256 each), the
    # concat 512: every order peaks at 2·512 (sp: 512 + 512; b: sp 512 + a 256 + 256; cat 1024)
    _, _, r = costs("""
        input: {resolution: 8, channels: 8}
        layers:
          - {kind: split, name: sp, sizes: [4, 4]}
          - {kind: conv, name: a, c: 4, from: sp.0}
          - {kind: conv, name: b, c: 4, from: sp.1}
          - {kind: concat, from: [a, b]}
    """)
    best = r.best_order()
    assert (best.peak, best.exact) == (2 * 8 * 8 * 8, True)
