"""Detection and segmentation heads on the built-in backbones (issue 24): the papers' counts derived
by hand, widths over the class count, heads' outputs kept alive, output stride, multi-scale
inference, and the commands on the new built-ins through the CLI runner. The torchvision heads are
checked against their live modules in tests/crosscheck/test_heads.py."""
from __future__ import annotations

import math
from dataclasses import replace
from fractions import Fraction

import pytest
import yaml

import mbcost
from conftest import assert_one_line_error
from mbcost.analyses.multiscale import scale_dimension
from mbcost.analyses.reproduce import check, load_published, printed_match
from mbcost.core.spec import spec_from_document
from mbcost.core.yamlio import parse

COCO80 = mbcost.Convention(classes=81)  # 80 classes + background: the V2 paper's Tables 5 and 6
PREDICTION = ("extra", "head")  # SSD's prediction layers: the extra feature layers and the predictors


def net(doc: dict, **kw) -> mbcost.Report:
    return mbcost.analyze(spec_from_document(parse(yaml.safe_dump(doc, sort_keys=False), "net.yaml")), **kw)


def prediction_layers(r) -> tuple[int, int]:
    layers = [x for x in r.layers if x.name.startswith(PREDICTION)]
    return sum(x.madds for x in layers), sum(x.params for x in layers)


# --- V2 Table 5: the SSDLite prediction layers, by hand ----------------------------------------------

def test_v2_table5_ssdlite_prediction_layers_by_hand():
    # SSDLite on MobileNetV2 at 320×320 (Sandler et al., 2018, §6.2, Table 5: "2.1M | 0.35B"), 81
    # class slots (80 classes + background), weights only. Its feature maps: the expansion of
    # layer_15, 20×20×576, and layer_19, 10×10×1280.
    #
    # Extra layers, each 1×1 to d/2 → 3×3 depthwise stride 2 → 1×1 to d, on 10², 5², 3², 2² maps:
    #   extra1 (d 512): 1280·256·10² + 9·256·5² + 256·512·5² = 32,768,000 + 57,600 + 3,276,800 = 36,102,400
    #   extra2 (d 256):  512·128·5² + 9·128·3² + 128·256·3² =  1,638,400 + 10,368 +   294,912 =  1,943,680
    #   extra3 (d 256):  256·128·3² + 9·128·2² + 128·256·2² =    294,912 +  4,608 +   131,072 =    430,592
    #   extra4 (d 128):   256·64·2² +  9·64·1² +  64·128·1² =     65,536 +    576 +     8,192 =     74,304
    #   Σ 38,550,976 mult-adds; weights 461,056 + 99,456 + 66,688 + 25,152 = 652,352
    # Predictors: on a C-channel map of area A with a anchors, a 3×3 depthwise conv and a 1×1 to 4a
    # (boxes), again a 3×3 depthwise conv and a 1×1 to 81a (classes): C·A·(2·9 + 85a) mult-adds,
    # C·(18 + 85a) weights; a = 3 on the first map (273), 6 on the others (528):
    #   576·400·273 = 62,899,200   1280·100·528 = 67,584,000   512·25·528 = 6,758,400
    #   256·9·528 = 1,216,512      256·4·528 = 540,672         128·1·528 = 67,584
    #   Σ 139,066,368 mult-adds; weights 157,248 + 675,840 + 270,336 + 2·135,168 + 67,584 = 1,441,344
    # Prediction layers: 177,617,344 mult-adds, 2,093,696 weights.
    extras = 36_102_400 + 1_943_680 + 430_592 + 74_304
    predictors = 576 * 400 * 273 + 1280 * 100 * 528 + 528 * (512 * 25 + 256 * 9 + 256 * 4 + 128)
    assert (extras, predictors) == (38_550_976, 139_066_368)
    r = mbcost.analyze("ssdlite_mobilenet_v2", convention=COCO80)
    assert prediction_layers(r) == (extras + predictors, 652_352 + 1_441_344) == (177_617_344, 2_093_696)
    # The weights print the table's 2.1M. The mult-adds print 0.18B, not 0.35B: twice them,
    # 355,234,688, truncates to 0.35 — the cell reads as FLOPs (2 per mult-add), while the SSD row
    # of the same table matches as mult-adds (next test). published.yaml explains the cell so.
    assert printed_match(Fraction(2_093_696, 10**6), "2.1") == "rounded"
    assert printed_match(Fraction(177_617_344, 10**9), "0.35") is None
    assert printed_match(Fraction(2 * 177_617_344, 10**9), "0.35") == "truncated"
    # reproduce sums exactly those layers: its row names the block instances extra1-4, head1-6
    (e,) = [e for e in load_published() if (e.source.key, e.label, e.quantity) ==
            ("v2-paper-applications", "SSDLite", "madds")]
    assert e.layers == ("extra1", "extra2", "extra3", "extra4") + tuple(f"head{i}" for i in range(1, 7))
    o = check(e)
    assert (o.value, o.status) == (177_617_344, "explained")


def test_v2_table5_ssd_prediction_layers_match_as_mult_adds():
    # SSD: the same maps with 3×3 regular convs — extras 1×1 to d/2 then a 3×3 stride-2 conv, and a
    # 3×3 conv each for boxes and classes: 9·C·85a·A per map.
    r = mbcost.analyze("ssd320_mobilenet_v2", convention=COCO80)
    extras = (1280 * 256 * 100 + 9 * 256 * 512 * 25 + 512 * 128 * 25 + 9 * 128 * 256 * 9
              + 256 * 128 * 9 + 9 * 128 * 256 * 4 + 256 * 64 * 4 + 9 * 64 * 128)
    predictors = 9 * 85 * (576 * 400 * 3 + 6 * (1280 * 100 + 512 * 25 + 256 * 9 + 256 * 4 + 128))
    assert prediction_layers(r)[0] == extras + predictors == 1_259_068_672
    assert prediction_layers(r)[1] == 14_770_368
    assert printed_match(Fraction(1_259_068_672, 10**9), "1.25") == "truncated"


def test_the_class_slots_decide_v2_table6():
    # 90 + 1 slots (the TF configs') print 5.2M and 4.5M; 80 + 1 (the tables' caption) the printed
    # 5.1M and 4.3M. One file serves both: the class head is c: "anchors*classes".
    for arch, slots91, slots81 in (("ssdlite_mobilenet_v1", 5_206_528, 5_060_608),
                                   ("ssdlite_mobilenet_v2", 4_446_656, 4_283_456)):
        assert mbcost.analyze(arch).params == slots91
        assert mbcost.analyze(arch, convention=COCO80).params == slots81
    r = mbcost.analyze("ssdlite_mobilenet_v2", convention=COCO80)
    assert (r["head1.cls"].output_shape, r["head2.cls"].output_shape) == ((20, 20, 3 * 81), (10, 10, 6 * 81))


# --- widths over the class count ---------------------------------------------------------------------

HEAD = {"input": {"resolution": 8, "channels": 4}, "classes": 11, "params": {"anchors": 3},
        "layers": [{"kind": "conv", "name": "feat", "c": 8},
                   {"kind": "conv", "name": "cls", "c": "anchors*classes", "bias": True},
                   {"kind": "pool", "global": True, "from": "feat"},
                   {"kind": "fc", "name": "box", "c": "4*(classes-1)"}],
        "outputs": ["cls", "box"]}


def test_a_width_over_the_classes_follows_the_convention():
    # cls: 1×1, 8 → 3·11 = 33 at 8×8: 8·33·64 = 16,896; box: fc 8 → 4·10 = 40: 320
    r = net(HEAD)
    assert (r["cls"].layer.c, r["box"].layer.c) == (33, 40)
    assert (r["cls"].madds, r["box"].madds) == (16_896, 320)
    r = net(HEAD, convention=mbcost.Convention(classes=81))  # --classes 81
    assert (r["cls"].layer.c, r["box"].layer.c) == (243, 320)
    r = net(HEAD, alpha="0.5")  # α never scales a class count
    assert (r["feat"].layer.c, r["cls"].layer.c) == (8, 33)  # (8 is the floor rule's minimum)


def test_a_width_over_the_classes_must_be_a_whole_number(cli, tmp_path):
    doc = dict(HEAD, layers=[dict(HEAD["layers"][0]), {"kind": "conv", "name": "cls", "c": "classes/2"},
                             *HEAD["layers"][2:]])
    path = tmp_path / "half.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    assert_one_line_error(cli("report", path), "layers[1].c", "'c: classes/2' is 11/2 with 11 classes",
                          "expected a positive integer")
    assert cli("report", path, "--classes", "12").code == 0


# --- liveness: every head's output stays alive (tests/test_memory.py derives a two-head graph) --

def test_a_detectors_first_head_is_alive_at_its_last():
    r = mbcost.analyze("ssdlite_mobilenet_v2")
    last = r.layers[-1]
    assert last.name == "head6.cls"
    assert {f"head{i}.{p}" for i in range(1, 7) for p in ("box", "cls")} <= set(last.alive)


# --- output stride: the backbone's strides become dilation, the head stays as written -------------------

def test_a_heads_rates_are_as_written_and_only_the_backbone_is_dilated():
    # torchvision's DeepLabHead: ASPP rates 12, 24, 36 and a 3×3 conv of rate 1 on the dilated backbone
    r = mbcost.analyze("deeplabv3_mobilenet_v3_large")
    assert [r[n].layer.d for n in ("aspp.b1", "aspp.b2", "aspp.b3", "head")] == [(12, 12), (24, 24), (36, 36), (1, 1)]
    assert (r["block13.dw"].layer.s, r["block13.dw"].layer.d) == ((1, 1), (2, 2))
    # a file without a backbone is all backbone: --output-stride dilates every row
    r = mbcost.analyze(mbcost.load("mobilenet_v2", output_stride=16))
    assert (r["block14.dw"].layer.s, r["block17.dw"].layer.d, r["conv2"].output_shape) == ((1, 1), (2, 2), (14, 14, 1280))


def test_output_stride_8_on_deeplab_v2_keeps_its_33_and_65_maps():
    # 513 → 257 → 129 → 65 (OS 8) → 33 (OS 16): the head runs where the backbone stops striding
    assert mbcost.analyze("deeplabv3_mobilenet_v2")["aspp0"].output_shape == (33, 33, 256)
    r = mbcost.analyze(mbcost.load("deeplabv3_mobilenet_v2", output_stride=8))
    assert r["aspp0"].output_shape == (65, 65, 256) and r["output"].output_shape == (513, 513, 21)
    assert r.params == mbcost.analyze("deeplabv3_mobilenet_v2").params  # dilation adds no weights


def test_a_variant_may_set_the_output_stride():
    # lraspp_mobilenet_v3_large_cityscapes_os32: no atrous convolution, the 1/32 map of 1024×2048
    r = mbcost.analyze("lraspp_mobilenet_v3_large_cityscapes_os32")
    assert r["conv2"].output_shape == (32, 64, 480) and r["block13.dw"].layer.s == (2, 2)
    assert mbcost.analyze("lraspp_mobilenet_v3_large_cityscapes")["conv2"].output_shape == (64, 128, 480)


def test_tf_deeplab_seg_backbones_halve_the_last_block():
    # mobilenet_v3_large_seg (RF2): block 13 expands 112 → 3·112 = 336 and projects to 80, blocks 14-15
    # expand 80 → 480, the last conv makes 480; the file's default is unchanged (216,589,760)
    r = mbcost.analyze("mobilenet_v3_large_seg")
    assert [r[n].layer.c for n in ("block13.expand", "block13.project", "block14.expand", "conv2")] == [336, 80, 480, 480]
    assert mbcost.analyze("mobilenet_v3_large").madds == 216_589_760
    r = mbcost.analyze("mobilenet_v3_small_seg")
    assert [r[n].layer.c for n in ("block9.expand", "block9.project", "block10.expand", "conv2")] == [144, 48, 288, 288]


# --- V2 Table 7's ASPP rows: the space-to-batch count that reproduces them -------------------------

def space_to_batch_excess(r, rates: dict | None = None) -> int:
    """The positions TF's atrous convolution computes beyond H·W: a k×k conv of rate r runs, after
    space-to-batch, on r·⌈H/r⌉ × r·⌈W/r⌉ positions (rates: a layer's rate as TF's flags set it)."""
    extra = 0
    for x in r.layers:
        L = x.layer
        d = (rates[L.name],) * 2 if rates and L.name in rates else L.d
        if L.kind not in ("conv", "dwconv") or max(L.k) == 1 or d == (1, 1):
            continue
        h, w, _ = x.output_shape
        per_position = L.k[0] * L.k[1] * (x.input_shape[2] // L.groups) * L.c
        extra += per_position * (d[0] * math.ceil(h / d[0]) * d[1] * math.ceil(w / d[1]) - h * w)
    return extra


def test_space_to_batch_reproduces_v2_table7s_aspp_rows_and_not_the_others():
    # OS 16, 513²: the 33×33 map at rates 6, 12, 18 runs as 36×36 — 3 · 9·320·256 · (1296 − 1089)
    # = 457,850,880 more in the ASPP, 2,083,968 in the dilated depthwise convs: 5,823,443,776 → "5.8"
    r = mbcost.analyze("deeplabv3_mobilenet_v2_aspp")
    assert r.madds == 5_363_508_928 and space_to_batch_excess(r) == 457_850_880 + 2_083_968
    assert printed_match(Fraction(r.madds + space_to_batch_excess(r), 10**9), "5.8")
    assert printed_match(Fraction(r.madds, 10**9), "5.8") is None
    # OS 8 with MF: six scales and their flips, the ASPP at DeepLab's OS 8 rates 12, 24, 36
    spec = mbcost.load("deeplabv3_mobilenet_v2_aspp", output_stride=8)
    total = 0
    for s in ("0.5", "0.75", "1", "1.25", "1.5", "1.75"):
        n = scale_dimension(513, Fraction(s))
        rs = mbcost.analyze(replace(spec, resolution=(n, n)))
        total += 2 * (rs.madds + space_to_batch_excess(rs, {"aspp1": 12, "aspp2": 24, "aspp3": 36}))
    assert total == 387_499_266_048 and printed_match(Fraction(total, 10**9), "387")
    # the V1 row is not reproduced by it: 14,226,936,000 prints 14.23, not 14.25
    r = mbcost.analyze("deeplabv3_mobilenet_v1_aspp")
    assert r.madds + space_to_batch_excess(r) == 14_226_936_000
    assert printed_match(Fraction(14_226_936_000, 10**9), "14.25") is None


# --- Faster-RCNN: the second stage once per proposal -------------------------------------------------

def test_faster_rcnn_counts_300_proposals_and_one_set_of_weights():
    # per proposal, on a 14×14×512 crop: Conv2d_12 (dw 3×3 /2: 9·512·7², pw 512·1024·7²), Conv2d_13
    # (9·1024·7², 1024²·7²), the box classifier 1024·91 + 1024·360:
    # 225,792 + 25,690,112 + 451,584 + 51,380,224 + 93,184 + 368,640 = 78,209,536 per proposal
    per = 9 * 512 * 49 + 512 * 1024 * 49 + 9 * 1024 * 49 + 1024 * 1024 * 49 + 1024 * 91 + 1024 * 360
    assert per == 78_209_536
    r = mbcost.analyze("faster_rcnn_mobilenet_v1")
    second = [x for x in r.layers if x.name.startswith("second_stage.")]
    assert sum(x.madds for x in second) == 300 * per and {x.layer.times for x in second} == {300}
    # the first stage (conv1 … Conv2d_11 and the RPN on its 19×19 map) 1,761,551,296, and the whole
    # 25,224,412,096 ("25.2B")
    assert r.madds - 300 * per == 1_761_551_296 and r.madds == 25_224_412_096 and r["second_stage.crop"].output_shape == (14, 14, 512)
    one = mbcost.analyze("faster_rcnn_mobilenet_v1_600")
    assert one.params == r.params and one.madds - r.madds == 30_493_700_224 - 25_224_412_096


# --- the commands on the new built-ins ---------------------------------------------------------------

def test_the_acceptance_command_prints_each_scale_and_the_total(cli):
    run = cli("report", "deeplabv3_mobilenet_v2", "--output-stride", "8",
              "--scales", "0.5,0.75,1,1.25,1.5,1.75", "--flip")
    assert run.code == 0, run.err
    rows = {line.split()[0]: line.split() for line in run.out.splitlines() if line[:1].isdigit()}
    assert [rows[s][1] for s in ("0.5", "0.75", "1.0", "1.25", "1.5", "1.75")] == \
        ["257×257", "385×385", "513×513", "641×641", "769×769", "897×897"]
    assert "total  152,334,636,288 mult-adds (152.3G) over 12 runs" in run.out
    doc = cli("report", "deeplabv3_mobilenet_v2", "--output-stride", "8", "--scales", "0.5,1", "--flip",
              "--format", "json").json()
    single = mbcost.analyze(mbcost.load("deeplabv3_mobilenet_v2", output_stride=8)).madds
    half = mbcost.analyze(replace(mbcost.load("deeplabv3_mobilenet_v2", output_stride=8), resolution=(257, 257)))
    assert [s["resolution"] for s in doc["scales"]] == [[257, 257], [513, 513]]
    assert doc["totals"]["madds"] == 2 * (single + half.madds) and doc["runs_per_scale"] == 2
    # reproduce's row for V2 Table 7's "MF" (output_stride 8, six scales, flipped) is the same sum
    (e,) = [e for e in load_published() if (e.source.key, e.label, e.quantity) ==
            ("v2-paper-applications", "MNet V2*, OS 8, MF", "madds")]
    assert (e.output_stride, len(e.scales), e.flip) == (8, 6, True)
    assert check(e).value == 152_334_636_288


def test_a_scale_given_twice_is_refused(cli):
    assert_one_line_error(cli("report", "deeplabv3_mobilenet_v2", "--scales", "0.5,0.75,0.5"),
                          "--scales", "a scale is given twice")
    assert_one_line_error(cli("report", "deeplabv3_mobilenet_v2", "--scales", "0.5:1:0.25,0.75"),
                          "a scale is given twice")  # 0.75 is in the range too
    run = cli("report", "deeplabv3_mobilenet_v2", "--scales", "1")
    assert run.code == 0 and "1 scale  ·" in run.out and "over 1 run  ·" in run.out


def test_verify_checks_the_heads_separable_pairs_and_the_proposals(cli):
    run = cli("verify", "ssdlite_mobilenet_v2", "--strict")
    assert run.code == 0 and "✓ all exact: 33 pairs and 17 bottlenecks" in run.out
    run = cli("verify", "faster_rcnn_mobilenet_v1", "--format", "json")
    assert run.code == 0
    pairs = {p["depthwise"]: p for p in run.json()["pairs"]}
    # the per-proposal pairs are checked 300 times over: 300 · (9·512·7² + 512·1024·7²) for Conv2d_12
    p = pairs["second_stage.conv12.dw"]
    assert p["ok"] and p["separable_madds"] == 300 * (9 * 512 * 49 + 512 * 1024 * 49)
    assert p["standard_madds"] == 300 * 9 * 512 * 1024 * 49


def test_sweep_gives_the_engines_counts_on_a_detector(cli):
    doc = cli("sweep", "ssdlite_mobilenet_v2", "-a", "0.5,1", "-r", "300,320", "--format", "json").json()
    got = {(p["alpha"], p["resolution"][0]): (p["madds"], p["params"], p["peak_activation_bytes"])
           for p in doc["rows"]}
    assert len(got) == 4
    for (a, res), counts in got.items():
        r = mbcost.analyze("ssdlite_mobilenet_v2", alpha=str(a), resolution=res)
        assert counts == (r.madds, r.params, r.peak_activation_bytes)
    assert got[(1.0, 320)][:2] == (804_397_504, 4_446_656)


def test_diff_from_ssd_to_ssdlite(cli):
    doc = cli("diff", "ssd_mobilenet_v1", "ssdlite_mobilenet_v1", "--format", "json").json()
    assert (doc["totals"]["madds"]["a"], doc["totals"]["madds"]["b"]) == (1_237_129_408, 1_322_426_304)
    added = {x["b"] for x in doc["layers"] if x["status"] == "added"}
    assert {f"head{i}.{p}_dw" for i in range(1, 7) for p in ("box", "cls")} <= added


def test_plot_draws_a_segmenters_layers(cli, tmp_path):
    pytest.importorskip("matplotlib")
    out = tmp_path / "lraspp.svg"
    run = cli("plot", "layers", "lraspp_mobilenet_v3_large_cityscapes", "-o", out)
    assert run.code == 0, run.err
    assert out.read_text().lstrip().startswith(("<?xml", "<svg"))
