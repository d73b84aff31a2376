"""Other counters' totals (ptflops, fvcore, thop, torchinfo, calflops, FlopCounterMode) as
formulas over per-layer element counts, checked against what those counters printed.

tests/data/peer_counts_torchvision_mobilenet_v2.csv holds the measured totals (its header says
how and with which versions); tests/_derive.py recounts the elements from torchvision's code.
"""
import csv
from pathlib import Path

import pytest
import yaml

import mbcost
from _derive import tv_mobilenet_v2_elements
from conftest import assert_one_line_error
from mbcost.analyses.compare import compare
from mbcost.core import elements as el
from mbcost.core.engine import LayerResult
from mbcost.core.graph import Layer
from mbcost.core.peers import PEERS, TORCHVISION, Implementation, count

DATA = Path(__file__).parent / "data"

# the CSV's column for each profile
COLUMN = {"ptflops": "ptflops", "ptflops-aten": "ptflops_aten", "fvcore": "fvcore", "thop": "thop",
          "torchinfo": "torchinfo", "calflops": "calflops", "flopcounter": "torch_fcm"}


def measured(name: str) -> list[dict]:
    with open(DATA / name) as f:
        return list(csv.DictReader(line for line in f if not line.startswith("#")))


V2 = measured("peer_counts_torchvision_mobilenet_v2.csv")


def test_the_data_is_the_30_configurations_and_every_profile_has_a_column():
    assert sorted((float(r["alpha"]), int(r["res"])) for r in V2) == sorted(
        (a, r) for a in (1.4, 1.3, 1.0, 0.75, 0.5, 0.35) for r in (224, 192, 160, 128, 96))
    assert set(COLUMN) == set(PEERS) and set(COLUMN.values()) | {"alpha", "res", "params"} == set(V2[0])


@pytest.mark.parametrize("row", V2, ids=lambda r: f"{r['alpha']}-{r['res']}")
def test_every_profile_equals_the_measured_count(row):
    c = compare("mobilenet_v2", alpha=row["alpha"], resolution=row["res"])
    assert {p: c[p].total for p in PEERS} == {p: int(row[col]) for p, col in COLUMN.items()}
    assert c.report.params == int(row["params"])  # every counter's params: torchvision's convention


@pytest.mark.parametrize("alpha,res", [("1.0", 224), ("0.35", 96)])
def test_compare_through_the_cli(cli, alpha, res):
    row = next(r for r in V2 if (r["alpha"], int(r["res"])) == (alpha, res))
    r = cli("compare", "mobilenet_v2", "--alpha", alpha, "--resolution", res, "--format", "json")
    assert r.code == 0, r.err
    d = r.json()
    totals = {p["profile"]: p["total"] for p in d["profiles"]}
    assert totals == {"paper": int(row["calflops"]), **{p: int(row[col]) for p, col in COLUMN.items()}}
    for p in d["profiles"]:
        assert p["delta"] == p["total"] - p["paper"] and sum(p["components"].values()) == p["total"]
    assert d["implementation"]["name"] == "torchvision.mobilenetv2" and d["alpha"] == float(alpha)
    assert d["implementation"]["calls"] == {"pool.global_avg": "functional"}


@pytest.mark.parametrize("row", V2[::7], ids=lambda r: f"{r['alpha']}-{r['res']}")
def test_element_counts_equal_an_independent_recount(row):
    r = mbcost.analyze("mobilenet_v2", alpha=row["alpha"], resolution=row["res"])
    t = el.total(r)
    hand = tv_mobilenet_v2_elements(float(row["alpha"]), int(row["res"]))
    assert {k: t.counts[k] for k in ("macs", "bias", "bn", "bn_channels", "add")} == \
        {k: hand[k] for k in ("macs", "bias", "bn", "bn_channels", "add")}
    assert t.act_elements == {"relu6": hand["relu6"]}
    assert (t.pool_in, t.pool_out) == ({"global_avg": hand["pool_in"]}, {"global_avg": hand["pool_out"]})


def test_the_terms_at_1_0_224():
    # from FINDINGS: Σconv_w 299,494,272 + fc 1280·1000 = 300,774,272; BN elements 6,678,112 over
    # 17,056 channels; 35 ReLU6 6,105,792; pool 1280·7·7 = 62,720 → 1,280; adds 216,384; fc bias 1,000
    t = el.total(mbcost.analyze("mobilenet_v2"))
    assert t.counts == {"macs": 299_494_272 + 1280 * 1000, "bias": 1000, "bn": 6_678_112, "bn_channels": 17_056,
                        "act_elements": 6_105_792, "pool_in": 1280 * 7 * 7, "pool_out": 1280, "add": 216_384,
                        "mul": 0, "norm": 0, "norm_channels": 0, "softmax": 0, "macs_out": 0, "macs_per_group": 0,
                        "fc_in": 0, "params_batch": 0, "softmax_rows": 0, "query": 0, "resize_out": 0}
    # so ptflops = W + bias + 2·BN + ReLU6 + pool in = 300,774,272 + 1,000 + 13,356,224 + 6,105,792 + 62,720
    assert count(PEERS["ptflops"], mbcost.analyze("mobilenet_v2")).total == 320_300_008


def _result(kind, n_inputs=1, **kw):
    layer = Layer(name="x", kind=kind, c=8, inputs=("input",) * n_inputs, **kw)
    return LayerResult(layer, ((4, 4, 8),) * n_inputs, (4, 4, 8), 0, 0)


def test_an_unknown_kind_fails_loudly():
    with pytest.raises(el.UnknownKind, match="'warp' is not a registered primitive layer kind"):
        el.elements(_result("warp"))


@pytest.mark.parametrize("kind,kw,expected", [
    # a residual add: one addition per output element, 4·4·8; three inputs: 4·4·8 · (3 − 1)
    ("add", {"n_inputs": 2}, {"add": 4 * 4 * 8}),
    ("add", {"n_inputs": 3}, {"add": 4 * 4 * 8 * 2}),
    # a conv with bias, BN and ReLU: one bias per output element, BN and ReLU over the output
    ("conv", {"bias": True, "bn": True, "act": "relu"},
     {"bias": 128, "bn": 128, "bn_channels": 8, "act": "relu", "act_elements": 128}),
    # an fc with bias: one per output unit; it reads a 4×4×8 map: 128 input elements
    ("fc", {"bias": True}, {"bias": 8, "fc_in": 128}),
    ("pool", {"op": "max"}, {"pool": "max", "pool_in": 128, "pool_out": 128}),
])
def test_element_rules(kind, kw, expected):
    assert el.elements(_result(kind, **kw)) == el.Elements(kind=kind, name="x", **expected)


# A module pool and a ReLU module, on one layer of elements (input 8·14·14 = 1,568 → output
# 8·1·1): what probe_modules measured for AdaptiveAvgPool2d (module) and F.adaptive_avg_pool2d,
# and for nn.ReLU: ptflops 2·1568 (module) / 1568 (functional); fvcore 1568 either way; thop
# 1568 + 8 = 1,576 (module) / 0 (functional); ReLU: ptflops 2·1568, everyone else 0.
@pytest.mark.parametrize("profile,module,functional,relu", [
    ("ptflops", 3136, 1568, 3136), ("fvcore", 1568, 1568, 0), ("thop", 1576, 0, 0),
    ("ptflops-aten", 0, 0, 0), ("torchinfo", 0, 0, 0), ("calflops", 0, 0, 0), ("flopcounter", 0, 0, 0)])
def test_pool_rules_depend_on_how_the_pool_is_called(profile, module, functional, relu):
    from mbcost.core.peers import count_elements

    pool = [el.Elements(kind="pool", pool="global_avg", pool_in=1568, pool_out=8)]
    p = PEERS[profile]
    assert count_elements(p, pool, TORCHVISION).total == module
    assert count_elements(p, pool, Implementation("f", {"pool": "functional"})).total == functional
    assert count_elements(p, pool, Implementation("m", {"pool": "mean"})).total == 0  # x.mean: nobody
    assert count_elements(p, [el.Elements(kind="act", act="relu", act_elements=1568)], TORCHVISION).total == relu


def test_an_activation_a_profile_does_not_know_is_an_error():
    from mbcost.errors import UsageError

    with pytest.raises(UsageError, match="what ptflops counts for a prelu activation is not known"):
        count(PEERS["ptflops"], type("R", (), {"layers": [_result("conv", act="prelu")]})(), TORCHVISION)


def test_pool_flag_overrides_the_implementation(cli):
    # thop with a module pool adds pool in + out: 327,486,720 + 62,720 + 1,280
    d = cli("compare", "mobilenet_v2", "--pool", "module", "-f", "json").json()
    assert next(p["total"] for p in d["profiles"] if p["profile"] == "thop") == 327_486_720 + 62_720 + 1_280
    assert d["implementation"]["calls"] == {"pool": "module"}
    assert_one_line_error(cli("compare", "mobilenet_v2", "--pool", "inline"), "--pool",
                          "expected one of module, functional, mean, got 'inline'")


def test_report_lists_every_layers_elements(cli):
    d = cli("report", "mobilenet_v2", "-f", "json").json()
    pool = next(x for x in d["layers"] if x["kind"] == "pool")
    assert pool["elements"]["pool_in"] == 1280 * 7 * 7 and pool["elements"]["pool"] == "global_avg"
    assert sum(x["elements"]["bn"] for x in d["layers"]) == 6_678_112
    rows = list(csv.DictReader(cli("report", "mobilenet_v2", "-f", "csv").out.splitlines()))
    assert sum(int(x["elements_act"]) for x in rows) == 6_105_792
    assert sum(int(x["elements_add"]) for x in rows) == 216_384


@pytest.mark.parametrize("command", ["report", "sweep"])
def test_a_counter_is_not_a_parameter_convention(cli, command):
    # --profile picks what a parameter includes; a counter's total is compare's (docs/conventions.md)
    assert_one_line_error(cli(command, "mobilenet_v2", "--profile", "thop"), "--profile",
                          "got 'thop'", "'mbcost compare' shows what it counts")


OTHERS = measured("peer_counts_torchvision_other_models.csv")


def _tv_layers(model: str) -> list[dict]:
    from _derive import tv_mobilenet_v3_large_layers, tv_resnet_layers

    return {"resnet18": lambda: tv_resnet_layers((2, 2, 2, 2), False),
            "resnet50": lambda: tv_resnet_layers((3, 4, 6, 3), True),
            "mobilenet_v3_large": tv_mobilenet_v3_large_layers}[model]()


@pytest.mark.parametrize("row", [r for r in OTHERS if r["model"] != "mobilenet_v2"], ids=lambda r: r["model"])
def test_the_same_rules_give_every_counter_on_resnet_and_mobilenet_v3(row):
    # The profiles' coefficients on torchvision's ResNet-18/50 and MobileNetV3-Large, whose
    # element counts are walked by hand in _derive (mbcost has no configs for them yet: the
    # families issue adds them, and then compare on those configs must give these same totals).
    # These networks use module pools (ptflops counts 2·input, thop input + output), ReLU modules
    # (ptflops 2 per element), SE convs with biases (counted by ptflops, ptflops-aten, torchinfo)
    # and Hardswish / Hardsigmoid (0 everywhere): rules the MobileNetV2 data cannot reach.
    from mbcost.core.peers import count_elements

    layers = [el.Elements(**d) for d in _tv_layers(row["model"])]
    got = {p: count_elements(PEERS[p], layers, TORCHVISION).total for p in PEERS}
    assert got == {p: int(row[col]) for p, col in COLUMN.items()}


# the built-in configs the families issue added for the same networks
CONFIG = {"resnet18": "resnet18", "resnet50": "resnet50_torchvision", "mobilenet_v3_large": "mobilenet_v3_large",
          "mobilenet_v2": "mobilenet_v2"}


@pytest.mark.parametrize("row", OTHERS, ids=lambda r: r["model"])
def test_compare_on_the_built_in_configs_gives_every_measured_counter(cli, row):
    # the engine's own element counts of the YAML networks, through the CLI, against the counters
    # measured on torchvision's modules: ptflops, fvcore, thop, torchinfo… to the integer
    d = cli("compare", CONFIG[row["model"]], "--format", "json").json()
    got = {p["profile"]: p["total"] for p in d["profiles"]}
    assert {p: got[p] for p in COLUMN} == {p: int(row[col]) for p, col in COLUMN.items()}


def test_the_mobilenet_v2_control_row_is_the_shared_reference():
    control = next(r for r in OTHERS if r["model"] == "mobilenet_v2")
    reference = next(r for r in V2 if (r["alpha"], r["res"]) == ("1.0", "224"))
    assert {k: control[k] for k in reference if k not in ("alpha",)} == \
        {k: reference[k] for k in reference if k != "alpha"}


def test_the_docs_are_the_tools_output(cli):
    # docs/peers.md's tables are tools/peers_doc.py's output: `mbcost compare mobilenet_v2 --format
    # md` verbatim, each counter's generic prices, every kind's rule with its source line, the
    # implementations and the ported cases
    import importlib.util

    spec = importlib.util.spec_from_file_location("peers_doc", Path(__file__).parents[1] / "tools" / "peers_doc.py")
    doc = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(doc)
    text = doc.DOC.read_text()
    assert doc.render(text) == text, "docs/peers.md is stale: run tools/peers_doc.py"
    block = text.split("<!-- generated: compare -->\n", 1)[1].split("<!-- end compare -->", 1)[0]
    assert block == cli("compare", "mobilenet_v2", "--format", "md").out
    # and the issue's numbers are in it
    for n in ("300,774,272", "300,775,272", "300,809,384", "314,193,216", "320,300,008", "327,486,720"):
        assert f"| {n} |" in block
    # the new rules are in the kinds' tables, each with the counter's file and line
    kinds = text.split("<!-- generated: kinds -->", 1)[1].split("<!-- end kinds -->", 1)[0]
    for kind in ("deconv", "upsample", "layernorm", "groupnorm", "softmax", "matmul", "linear"):
        assert f"### `{kind}`" in kinds
    assert "| thop | its weights × the output positions (as a conv), no bias | thop/vision/basic_hooks.py:22-34" in kinds
    assert "calflops/flops_counter.py:121" in text


def test_compare_csv_has_one_row_per_profile_with_its_setting(cli):
    rows = list(csv.DictReader(cli("compare", "mobilenet_v2", "-a", "0.35", "-r", "96", "-f", "csv").out.splitlines()))
    row = next(r for r in V2 if (r["alpha"], r["res"]) == ("0.35", "96"))
    assert [r["profile"] for r in rows] == ["paper", *PEERS]
    assert {r["profile"]: int(r["total"]) for r in rows if r["profile"] != "paper"} == \
        {p: int(row[col]) for p, col in COLUMN.items()}
    assert {(r["alpha"], r["resolution"], r["implementation"], r["convention"]) for r in rows} == \
        {("0.35", "96x96", "torchvision.mobilenetv2", "torchvision;bn=2;bias=1;classes=1000;madds")}


def test_compare_takes_a_variants_own_alpha_and_resolution(cli):
    # efficientnet_b2 is α = 1.1 at 260 (was compared at α = 1.0: the CLI's default overrode it);
    # FlopCounterMode's FLOPs are 2 × report's mult-adds at the same setting
    d = cli("compare", "efficientnet_b2", "-f", "json").json()
    r = cli("report", "efficientnet_b2", "-f", "json").json()
    assert (d["alpha"], d["resolution"]) == (r["alpha"], r["resolution"]) == (1.1, [260, 260])
    assert next(p["total"] for p in d["profiles"] if p["profile"] == "flopcounter") == 2 * r["totals"]["madds"]


def test_an_implementation_is_a_preset_or_a_family_with_none_yet(cli, tmp_path):
    # what `mbcost convert` writes of an imported model: its family, FRAMEWORK.MODULE; a family
    # with no preset takes its framework's usual code and says so; `unknown`: torchvision's
    from mbcost.core.peers import PRESETS, Origin, implementation_for, implementation_named

    assert implementation_named("timm.convnext") is PRESETS["timm.convnext"]
    assert implementation_for(Origin("timm", "timm.models.convnext", "convnext_atto")) is PRESETS["timm.convnext"]
    ghost = implementation_named("timm.ghostnet")
    assert (ghost.name, dict(ghost.calls)) == ("timm.ghostnet", dict(PRESETS["timm"].calls))
    assert ghost.source.startswith("no preset for timm.ghostnet yet: assumed timm's usual code")
    assert implementation_for(Origin("onnx")).name == implementation_named("unknown").name == "unknown"
    # on a BN-and-ReLU network: timm's BatchNormAct2d is invisible to thop (0), torchvision's BN 4 per element
    f = tmp_path / "net.yaml"
    for name, thop in (("timm.ghostnet", 9 * 3 * 8 * 64), ("unknown", 9 * 3 * 8 * 64 + 4 * 8 * 64)):
        f.write_text(f"implementation: {name}\ninput: {{resolution: 8, channels: 3}}\nbatch_norm: true\n"
                     "layers:\n  - {kind: conv, c: 8, k: 3}\n")
        d = cli("compare", f, "-f", "json").json()
        assert d["implementation"]["name"] == name
        assert next(p["total"] for p in d["profiles"] if p["profile"] == "thop") == thop


@pytest.mark.parametrize("rows, resolution, aten", [
    # tokens straight from x.flatten(2).transpose(1, 2) are a strided view: torch's linear runs
    # mm + add, and ptflops' aten backend maps mm but not add: 12·16·16 = 3,072, no bias
    ([{"kind": "tokens"}, {"kind": "linear", "c": 16}], [3, 4], 3_072),
    # a 1×1 map's tokens are contiguous (a transpose of size-1 dims): addmm, 256 + 16
    ([{"kind": "tokens"}, {"kind": "linear", "c": 16}], 1, 272),
    # a layer norm between makes them contiguous again: 3,072 + 12·16 bias
    ([{"kind": "tokens"}, {"kind": "layernorm"}, {"kind": "linear", "c": 16}], [3, 4], 3_264),
])
def test_a_linear_on_freshly_flattened_tokens_reads_a_view(cli, tmp_path, rows, resolution, aten):
    # measured: ptflops 0.7.5, backend aten, nn.Linear(16, 16) on x.flatten(2).transpose(1, 2) of
    # (1, 16, 3, 4): 3,072; of (1, 16, 1, 1): 272 (docs/research/peers; the case shared_linear_3x)
    f = tmp_path / "net.yaml"
    f.write_text(yaml.safe_dump({"input": {"resolution": resolution, "channels": 16}, "layers": rows}))
    d = cli("compare", f, "-f", "json").json()
    assert next(p["total"] for p in d["profiles"] if p["profile"] == "ptflops-aten") == aten


# The same network as timm's MobileNetV3 code builds it (`implementation: timm.mobilenetv3`):
#   conv 3×3 s2, 3 → 16 on 8×8 → 4×4×16, BN + hswish: W = 4·4·16·27 = 6,912, BN 256 elements
#   se 0.25: pool 4·4·16 = 256 in, 16 out; 1×1 convs 16 → 4 → 16 with biases: W 64 + 64, bias 4 + 16;
#            its ReLU on 4 elements, hsigmoid gate, x · gate: 256 multiplications
#   global pool: 256 in, 16 out;  fc 16 → 10: W 160, bias 10
# timm normalises with BatchNormAct2d and classifies with timm.layers.Linear, subclasses that
# ptflops and thop (hooks by exact type) never see, and pools the SE with x.mean (no counter)
TIMM_NET = """input: {resolution: 8, channels: 3}
classes: 10
batch_norm: true
activation: hswish
%s
layers:
  - {kind: conv, c: 16, k: 3, s: 2}
  - {kind: se, se: 0.25}
  - {kind: pool, global: true}
  - {kind: fc}
"""


def test_timms_mobilenetv3_code_is_counted_as_ptflops_and_thop_see_it(tmp_path):
    f = tmp_path / "tv.yaml"
    f.write_text(TIMM_NET % "")
    g = tmp_path / "timm.yaml"
    g.write_text(TIMM_NET % "implementation: timm.mobilenetv3")
    tv, timm = mbcost.analyze(str(f)), mbcost.analyze(str(g))
    assert timm.graph.implementation.name == "timm.mobilenetv3"
    W = 6_912 + 64 + 64 + 160
    # torchvision's: W + bias 30 + 2·BN 256 + 2·relu 4 + 2·(SE pool 256 + global pool 256)
    assert count(PEERS["ptflops"], tv).total == W + 30 + 2 * 256 + 2 * 4 + 2 * 512
    # timm's: no fc (W 160, bias 10), no BN, no SE pool: W − 160 + bias 20 + 2·relu 4 + 2·global pool 256
    assert count(PEERS["ptflops"], timm).total == W - 160 + 20 + 2 * 4 + 2 * 256
    # thop: W + 4·BN + (pool in + out) for each pool; timm's: W − 160 + the global pool's 256 + 16
    assert count(PEERS["thop"], tv).total == W + 4 * 256 + 2 * (256 + 16)
    assert count(PEERS["thop"], timm).total == W - 160 + 256 + 16
    # counters that see aten ops or parameters are not fooled by a subclass: fvcore still counts BN
    assert count(PEERS["fvcore"], timm).total == W + 2 * 256 + 256
    assert count(PEERS["calflops"], timm).total == count(PEERS["calflops"], tv).total == W


def test_a_files_implementation_must_be_known_how(cli, tmp_path):
    f = tmp_path / "bad.yaml"
    f.write_text(TIMM_NET % "implementation: 7")
    assert_one_line_error(cli("compare", f), "implementation")
