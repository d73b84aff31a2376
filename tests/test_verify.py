"""`mbcost verify`: the depthwise separable reduction 1/N + 1/D_K² and the bottleneck formula.

Every exact integer below is derived in a comment from the papers' formulas — depthwise
D_K²·M·D_F², pointwise M·N·D_F², standard D_K²·M·N·D_F², bottleneck h·w·d′·t·(d′ + k² + d″)
— never copied from the tool's output.
"""
import dataclasses
import math
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mbcost
from mbcost.core.spec import spec_from_document
from mbcost.analyses.verify import verification_dict, verify, verify_report
from mbcost.core.yamlio import parse

from conftest import assert_one_line_error
from _derive import V1_PAIRS  # MobileNetV1's 13 separable pairs (M, N, D_F), from the paper's Table 1

ROOT = Path(__file__).resolve().parent.parent
TABLE3 = ROOT / "examples" / "mobilenet_v1_table3.yaml"
TABLE3_CONV = ROOT / "examples" / "mobilenet_v1_table3_conv.yaml"

PAIR_KEYS = {"depthwise", "pointwise", "M", "N", "K", "D_F", "separable_madds", "standard_madds",
             "ratio", "formula", "ok"}


def spec(text: str):
    return spec_from_document(parse(text, "<test>"))


def tamper(report, name, delta):
    """The same engine result with one layer's mult-adds off by ``delta``."""
    layers = tuple(dataclasses.replace(r, madds=r.madds + delta) if r.name == name else r
                   for r in report.layers)
    return dataclasses.replace(report, layers=layers)


# --- MobileNetV1 ------------------------------------------------------------------------------


@pytest.mark.parametrize("alpha", [1, 0.5])
def test_v1_thirteen_exact_pairs(alpha):
    v = verify("mobilenet_v1", alpha=alpha)
    assert v.ok and len(v.pairs) == 13 and v.bottlenecks == ()
    f = lambda c: max(math.floor(c * alpha), 8)  # noqa: E731  TF-slim floor, min 8
    for i, (p, (m, n, d)) in enumerate(zip(v.pairs, V1_PAIRS), start=1):
        m, n = f(m), f(n)
        assert (p.depthwise, p.pointwise) == (f"block{i}.dw", f"block{i}.pw")
        assert (p.M, p.N, p.D_K, p.D_F) == (m, n, (3, 3), (d, d))
        assert p.separable_madds == 9 * m * d * d + m * n * d * d
        assert p.standard_madds == 9 * m * n * d * d
        assert p.ratio == p.formula == Fraction(1, n) + Fraction(1, 9)
        assert p.ok


def test_v1_block4_reduction():
    # M = 128, N = 256, D_F = 28: 9·128·784 + 128·256·784 = 903,168 + 25,690,112 = 26,593,280
    # against 9·128·256·784 = 231,211,008; ratio 1/256 + 1/9 = 265/2304, i.e. 2304/265 ≈ 8.69× fewer
    p = verify("mobilenet_v1").pairs[3]
    assert (p.separable_madds, p.standard_madds) == (26_593_280, 231_211_008)
    assert p.ratio == Fraction(265, 2304)


@pytest.mark.parametrize("alpha, resolution", [(1, None), (0.75, None), (0.5, 160), (0.25, 128)])
def test_whole_network_is_conv_mobilenet(alpha, resolution):
    """Replacing each pair by its standard conv gives mobilenet_v1_conv, at any α and size."""
    v = verify("mobilenet_v1", alpha=alpha, resolution=resolution)
    conv = mbcost.analyze("mobilenet_v1_conv", alpha=alpha, resolution=resolution)
    assert v.network.standard_madds == v.network.madds - v.network.pairs_separable_madds \
        + v.network.pairs_standard_madds == conv.madds


def test_whole_network_exact_v1():
    # conv1 3·3·3·32·112² = 10,838,016; FC 1024·1000 = 1,024,000; the pairs' standard convs
    # 9·M·N·D_F²: five at 231,211,008 (each halving D_F doubles M) and eight at 462,422,016
    # (M = N): 1,156,055,040 + 3,699,376,128 = 4,855,431,168. Total 4,867,293,184.
    n = verify("mobilenet_v1").network
    assert n.pairs_standard_madds == 4_855_431_168
    assert n.standard_madds == 4_867_293_184
    assert n.ratio == Fraction(568_740_352, 4_867_293_184)


def test_no_pairs_in_conv_mobilenet():
    v = verify("mobilenet_v1_conv")
    assert v.ok and v.pairs == () and v.network.standard_madds == v.network.madds


# --- MobileNetV2 ------------------------------------------------------------------------------


def test_v2_seventeen_pairs_and_bottlenecks():
    v = verify("mobilenet_v2")
    assert v.ok and len(v.pairs) == 17 and len(v.bottlenecks) == 17
    assert all(p.pointwise.endswith(".project") for p in v.pairs)
    # rows (t, c, n, s) = (1,16,1,1) (6,24,2,2) (6,32,3,2) (6,64,4,2) (6,96,3,1) (6,160,3,2) (6,320,1,1):
    # the strided blocks are the first of each s = 2 row
    strided = [b.block for b in v.bottlenecks if b.stride == (2, 2)]
    assert strided == ["block2", "block4", "block7", "block14"]
    assert all(b.paper_madds is None and "stride 2" in b.note for b in v.bottlenecks if b.stride == (2, 2))


def test_v2_bottleneck_exact():
    b = {b.block: b for b in verify("mobilenet_v2").bottlenecks}
    # block3: 56×56×24, t = 6, k = 3, d″ = 24, stride 1: 56²·24·6·(24 + 9 + 24) = 3136·144·57 = 25,740,288
    assert b["block3"].madds == b["block3"].paper_madds == 25_740_288
    # block2: 112×112×16 → 56×56×24, t = 6, stride 2. Expansion at the input size 112²·16·96 = 19,267,584;
    # depthwise and projection at the output size 56²·96·(9 + 24) = 9,934,848; total 29,202,432
    assert b["block2"].madds == b["block2"].general_madds == 29_202_432
    # block1: t = 1, no expansion layer: 112²·32·(9 + 16) = 10,035,200 — the formula as printed,
    # 112²·32·(32 + 9 + 16) = 22,880,256, would count an expansion conv that is not there
    b1 = b["block1"]
    assert (b1.t, b1.has_expand, b1.layers) == (1, False, ("block1.dw", "block1.project"))
    assert b1.madds == b1.paper_madds == b1.general_madds == 10_035_200
    assert "22,880,256" in b1.note


def test_v2_pair_uses_expanded_width():
    # block3's depthwise runs on t·d′ = 6·24 = 144 channels at 56×56, projecting to 24:
    # 9·144·3136 + 144·24·3136 = 4,064,256 + 10,838,016 = 14,902,272; ratio 1/24 + 1/9 = 11/72
    p = verify("mobilenet_v2").pairs[2]
    assert (p.M, p.N, p.separable_madds, p.ratio) == (144, 24, 14_902_272, Fraction(11, 72))


# --- MobileNetV1 paper, Table 3 ---------------------------------------------------------------


@pytest.mark.parametrize("path, alpha, rho, madds, params, published", [
    # full 3×3 conv: 3·3·512·512·14² = 2,359,296·196 = 462,422,016; weights 2,359,296
    (TABLE3_CONV, 1, None, 462_422_016, 2_359_296, (462, 2.36)),
    # separable: 9·512·196 + 512·512·196 = 903,168 + 51,380,224 = 52,283,392; 4,608 + 262,144 = 266,752
    (TABLE3, 1, None, 52_283_392, 266_752, (52.3, 0.27)),
    # α = 0.75: M = N = 384; 9·384·196 + 384²·196 = 677,376 + 28,901,376 = 29,578,752; 3,456 + 147,456 = 150,912
    (TABLE3, 0.75, None, 29_578_752, 150_912, (29.6, 0.15)),
    # ρ = 0.714: round(0.714·14) = round(9.996) = 10; 9·384·100 + 384²·100 = 345,600 + 14,745,600 = 15,091,200
    (TABLE3, 0.75, 0.714, 15_091_200, 150_912, (15.1, 0.15)),
])
def test_table3(path, alpha, rho, madds, params, published, cli):
    r = mbcost.analyze(path, alpha=alpha, rho=rho)
    assert (r.madds, r.params) == (madds, params)
    # the engine's counts print as the paper's digits (rounded)
    assert (round(r.madds / 1e6, 1 if published[0] < 100 else 0), round(r.params / 1e6, 2)) == published
    args = ["report", path, "--alpha", alpha, "--format", "json"] + (["--rho", rho] if rho else [])
    run = cli(*args)
    totals = run.json()["totals"]
    assert run.code == 0 and {k: totals[k] for k in ("madds", "flops", "params")} == \
        {"madds": madds, "flops": 2 * madds, "params": params}


def test_table3_pair_replaces_the_full_conv(cli):
    # the separable layer's standard equivalent is exactly the Table 3 full conv: 462,422,016
    run = cli("verify", TABLE3, "--format", "json")
    assert run.code == 0
    (p,) = run.json()["pairs"]
    assert p["standard_madds"] == mbcost.analyze(TABLE3_CONV).madds == 462_422_016
    # 52,283,392 / 462,422,016 = 1/512 + 1/9 = 521/4608
    assert (p["separable_madds"], p["ratio"], p["formula"]) == (52_283_392, "521/4608", "521/4608")


def test_table3_alpha_rho_cli(cli):
    run = cli("verify", TABLE3, "--alpha", "0.75", "--rho", "0.714", "--format", "json")
    assert run.code == 0
    (p,) = run.json()["pairs"]
    # M = N = 384 on 10×10: standard 9·384·384·100 = 132,710,400; ratio 1/384 + 1/9 = 131/1152
    assert (p["M"], p["N"], p["D_F"], p["separable_madds"], p["standard_madds"], p["ratio"]) == \
        (384, 384, 10, 15_091_200, 132_710_400, "131/1152")


def test_bottleneck_shrinking_at_stride_1_is_not_the_paper_case():
    """A hand-built graph whose stride-1 depthwise uses 'valid' padding: the paper's formula
    (which assumes h′×w′ = h×w) is not applied, the stride-s form still is."""
    from mbcost.core.engine import run_graph

    r = mbcost.analyze(spec("input: {resolution: 9, channels: 8}\n"
                            "layers:\n  - {kind: bottleneck, t: 2, c: 4, k: 3, s: 1}\n"))
    layers = tuple(dataclasses.replace(L, padding="valid") if L.role == "dw" else L for L in r.graph.layers)
    r = dataclasses.replace(r, layers=run_graph(dataclasses.replace(r.graph, layers=layers)))
    (b,) = verify_report(r).bottlenecks
    # 9×9×8 → expand 81·8·16 = 10,368; 'valid' 3×3 → 7×7: dw 49·16·9 = 7,056, project 49·16·4 = 3,136
    assert (b.output_size, b.paper_madds, b.madds, b.general_madds) == ((7, 7), None, 20_560, 20_560)
    assert "shrinks from 9×9 to 7×7" in b.note and b.ok


# --- the check can fail -----------------------------------------------------------------------


def test_tampered_pointwise_is_named():
    v = verify_report(tamper(mbcost.analyze("mobilenet_v1"), "block5.pw", 1))
    assert not v.ok
    assert [p.ok for p in v.pairs] == [i != 4 for i in range(13)]
    (line,) = v.failures()
    assert line.startswith("block5.pw:")
    # block5: M = N = 256, D_F = 28: M·N·D_F² = 256·256·784 = 51,380,224
    assert "51,380,224" in line and "51,380,225" in line


def test_compensating_errors_are_caught():
    """dw one short and pw one over keeps the pair total — and the ratio — right."""
    r = tamper(tamper(mbcost.analyze("mobilenet_v1"), "block2.dw", -7), "block2.pw", 7)
    v = verify_report(r)
    assert v.pairs[1].ratio == v.pairs[1].formula and not v.pairs[1].ok and not v.ok
    assert [f.split(":")[0] for f in v.failures()] == ["block2.dw", "block2.pw"]


def test_tampered_expansion_is_named():
    # block3.expand is in no pair: only its bottleneck can notice
    v = verify_report(tamper(mbcost.analyze("mobilenet_v2"), "block3.expand", -1))
    assert all(p.ok for p in v.pairs)
    assert [b.block for b in v.bottlenecks if not b.ok] == ["block3"]
    assert [f.split(":")[0] for f in v.failures()] == ["block3.expand"]


def test_tampered_add_is_named():
    v = verify_report(tamper(mbcost.analyze("mobilenet_v2"), "block5.add", 3))
    assert [f.split(":")[0] for f in v.failures()] == ["block5.add"]


@pytest.fixture
def tampered_cli(cli, monkeypatch):
    """The real CLI, fed an engine result with block7.dw's count off by one."""
    import mbcost.cli.verify as command

    real = command.analyze
    monkeypatch.setattr(command, "analyze", lambda *a, **kw: tamper(real(*a, **kw), "block7.dw", 1))
    return cli


def test_cli_exit_1_names_layer(tampered_cli):
    run = tampered_cli("verify", "mobilenet_v1")
    assert run.code == 1
    assert "block7.dw: engine counts" in run.out and "1 check failed" in run.out


def test_cli_json_exit_1(tampered_cli):
    run = tampered_cli("verify", "mobilenet_v1", "--format", "json")
    assert run.code == 1
    d = run.json()
    assert d["ok"] is False and [p["ok"] for p in d["pairs"]].count(False) == 1
    bad = next(p for p in d["pairs"] if not p["ok"])
    # block7: M = N = 512, D_F = 14, D_K = 3: 9·512·196 + 1 tampered + 512·512·196 = 52,283,393
    assert (bad["depthwise"], bad["separable_madds"]) == ("block7.dw", 52_283_393)
    assert bad["ratio"] != bad["formula"] == "521/4608"
    assert "block7.dw" in run.err


# --- the CLI ----------------------------------------------------------------------------------


def test_cli_v1_table(cli):
    run = cli("verify", "mobilenet_v1")
    assert run.code == 0 and run.err == ""
    # a reader of the paper finds its symbols, the legend and the reduction factors
    for text in ("M", "N", "D_K", "D_F", "1/N + 1/D_K²", "separable", "standard",
                 "M input / N output channels", "8.69× fewer", "block13: dw → pw",
                 "all exact: 13 pairs", "4,867,293,184"):
        assert text in run.out
    assert run.out.count("✓") == 14  # 13 rows and the summary


def test_cli_v1_json_contract(cli):
    run = cli("verify", "mobilenet_v1", "--alpha", "0.5", "--format", "json")
    assert run.code == 0
    d = run.json()
    assert d["ok"] is True and len(d["pairs"]) == 13 and d["bottlenecks"] == []
    assert all(set(p) == PAIR_KEYS and p["ok"] for p in d["pairs"])
    p = d["pairs"][0]
    # α = 0.5: conv1 16 channels, block1 16 → 32 on 112×112: 9·16·12544 + 16·32·12544 = 8,228,864;
    # standard 9·16·32·12544 = 57,802,752; ratio 1/32 + 1/9 = 41/288
    assert p == {"depthwise": "block1.dw", "pointwise": "block1.pw", "M": 16, "N": 32, "K": 3, "D_F": 112,
                 "separable_madds": 8_228_864, "standard_madds": 57_802_752, "ratio": "41/288",
                 "formula": "41/288", "ok": True}
    n = d["network"]
    assert n["standard_madds"] == mbcost.analyze("mobilenet_v1_conv", alpha=0.5).madds
    assert n["standard_madds"] == n["madds"] - n["pairs_separable_madds"] + n["pairs_standard_madds"]


def test_cli_v2(cli):
    run = cli("verify", "mobilenet_v2")
    assert run.code == 0
    assert "all exact: 17 pairs and 17 bottlenecks" in run.out
    assert "n/a (s = 2)" in run.out and "t = 1: no expansion layer" in run.out
    d = cli("verify", "mobilenet_v2", "-f", "json").json()
    assert d["ok"] and len(d["pairs"]) == 17 and len(d["bottlenecks"]) == 17
    b3 = d["bottlenecks"][2]
    assert (b3["block"], b3["t"], b3["d_in"], b3["d_out"], b3["K"], b3["stride"]) == ("block3", 6, 24, 24, 3, 1)
    assert b3["layers"] == ["block3.expand", "block3.dw", "block3.project", "block3.add"]
    assert b3["madds"] == b3["paper_madds"] == b3["general_madds"] == 25_740_288  # derived above
    assert b3["paper_formula"] == "h·w·d′·t·(d′ + k² + d″)"
    assert d["bottlenecks"][1]["paper_madds"] is None  # block2 is strided


def test_cli_convention_flags(cli):
    # the identities are about mult-adds; conventions only change parameter counts
    for flags in (["--profile", "torchvision"], ["--profile", "keras"], ["--bn", "3", "--bias"],
                  ["--classes", "1001", "--no-bias"]):
        run = cli("verify", "mobilenet_v2", "--format", "json", *flags)
        assert run.code == 0 and run.json()["ok"], flags


def test_cli_nothing_to_verify(cli):
    run = cli("verify", "mobilenet_v1_conv")
    assert run.code == 0 and "nothing to verify" in run.out


# --alpha, --profile, --bn and unknown names close to a built-in are checked through every
# command by test_errors
@pytest.mark.parametrize("args, message", [
    (["nope"], "unknown architecture 'nope'"),  # nothing close enough to suggest
    (["mobilenet_v1", "--rho", "0.5", "--resolution", "128"], "not both"),
    (["mobilenet_v1", "--format", "csv"], "--format"),  # a format other commands have
])
def test_cli_bad_input(cli, args, message):
    assert_one_line_error(cli("verify", *args), message)


def test_cli_bad_file(cli, tmp_path):
    f = tmp_path / "bad.yaml"
    f.write_text("input: {resolution: 14, channels: 8}\nlayers:\n  - {kind: separable, c: -4}\n")
    assert_one_line_error(cli("verify", f), f"error: {f}:3:", "layers[0].c")


# --- properties -------------------------------------------------------------------------------


@settings(max_examples=100, deadline=None)
@given(M=st.integers(1, 96), N=st.integers(1, 96), kh=st.integers(1, 7), kw=st.integers(1, 7),
       sh=st.integers(1, 3), sw=st.integers(1, 3), H=st.integers(1, 40), W=st.integers(1, 40),
       padding=st.sampled_from(["same", "valid"]))
def test_separable_identity_property(M, N, kh, kw, sh, sw, H, W, padding):
    if padding == "valid":
        H, W = H + kh - 1, W + kw - 1  # a 'valid' map must fit the kernel
    arch = spec(f"input: {{resolution: [{H}, {W}], channels: {M}}}\n"
                f"layers:\n  - {{kind: separable, c: {N}, k: [{kh}, {kw}], s: [{sh}, {sw}], padding: {padding}}}\n")
    v = verify_report(mbcost.analyze(arch))
    # 'same': D_F = ceil(H / s); 'valid': floor((H − k) / s) + 1
    hf, wf = ((-(-H // sh), -(-W // sw)) if padding == "same"
              else ((H - kh) // sh + 1, (W - kw) // sw + 1))
    (p,) = v.pairs
    assert (p.M, p.N, p.D_K, p.D_F) == (M, N, (kh, kw), (hf, wf))
    assert p.separable_madds == kh * kw * M * hf * wf + M * N * hf * wf
    assert p.standard_madds == kh * kw * M * N * hf * wf
    assert p.ratio == Fraction(1, N) + Fraction(1, kh * kw) == p.formula
    assert v.ok


@settings(max_examples=100, deadline=None)
@given(d_in=st.integers(1, 48), d_out=st.integers(1, 48), t=st.integers(1, 6), k=st.integers(1, 7),
       s=st.integers(1, 2), H=st.integers(1, 32))
def test_bottleneck_formula_property(d_in, d_out, t, k, s, H):
    arch = spec(f"input: {{resolution: {H}, channels: {d_in}}}\n"
                f"layers:\n  - {{kind: bottleneck, t: {t}, c: {d_out}, k: {k}, s: {s}}}\n")
    v = verify_report(mbcost.analyze(arch))
    (b,) = v.bottlenecks
    (p,) = v.pairs
    h2 = -(-H // s)  # output size: ceil(H / s)
    expansion = H * H * d_in * t * d_in if t > 1 else 0  # no expansion layer at t = 1
    general = expansion + h2 * h2 * t * d_in * (k * k + d_out)
    assert b.madds == b.general_madds == general
    if s == 1:
        paper = H * H * d_in * t * (d_in + k * k + d_out) if t > 1 else H * H * d_in * (k * k + d_out)
        assert b.paper_madds == paper == b.madds
    else:
        assert b.paper_madds is None
    assert p.ratio == Fraction(1, d_out) + Fraction(1, k * k)
    assert v.ok


@settings(max_examples=60, deadline=None)
@given(M=st.integers(1, 64), N=st.integers(1, 64), k=st.integers(1, 5), H=st.integers(1, 20),
       which=st.sampled_from(["block1.dw", "block1.pw"]),
       delta=st.integers(-1000, 1000).filter(bool))
def test_any_single_error_is_caught(M, N, k, H, which, delta):
    arch = spec(f"input: {{resolution: {H}, channels: {M}}}\n"
                f"layers:\n  - {{kind: separable, c: {N}, k: {k}}}\n")
    v = verify_report(tamper(mbcost.analyze(arch), which, delta))
    assert not v.ok and [f.split(":")[0] for f in v.failures()] == [which]
    assert verification_dict(v)["pairs"][0]["ok"] is False
