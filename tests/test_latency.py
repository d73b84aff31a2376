"""The roofline latency model: the Pixel-1 profile against TF-slim's 22 published MobileNetV2
latencies (leave-one-out), per-layer times by hand, --device on report/sweep/check/fit, and
`mbcost latency fit` on a user's CSV."""
import csv
import io
from fractions import Fraction

import pytest

import mbcost
from mbcost.analyses.accuracy import read_csv
from mbcost.analyses.latency import Measured, fit_profile, load_device

from conftest import assert_one_line_error

PIXEL1 = load_device("pixel1")
TFSLIM = read_csv("tfslim_mobilenet_v2.csv")  # tensorflow/models slim/nets/mobilenet/README.md @ 60c28f91


def test_pixel1_profile_leave_one_out_mape_on_the_22_published_latencies():
    measured = [Measured("mobilenet_v2", Fraction(r["alpha"]), int(r["resolution"]), float(r["pixel1_cpu_ms"]))
                for r in TFSLIM]
    assert len(measured) == 22
    fit = fit_profile(measured, "roofline", name="pixel1")
    assert fit.loo_mape <= 10.0  # acceptance; the notes measured 5.92%
    # the shipped profile is this fit (tools/fit_pixel1.py writes it, rounded to 4 decimals)
    d = fit.device
    assert (round(d.rate_conv, 4), round(d.bandwidth, 4), d.overhead) == \
        (PIXEL1.rate_conv, PIXEL1.bandwidth, PIXEL1.overhead)
    assert PIXEL1.quality["loo_mape_percent"] == round(fit.loo_mape, 2)


@pytest.mark.parametrize("arch, alpha, published_ms", [
    # V2 paper Table 4 (Pixel 1, TF-Lite): MobileNetV2 75 ms, MobileNetV2 (1.4) 143 ms — held out
    ("mobilenet_v2", "1.0", 75), ("mobilenet_v2", "1.4", 143),
])
def test_v2_table4_held_out_within_10_percent(arch, alpha, published_ms):
    r = mbcost.analyze(arch, alpha=alpha, device=PIXEL1)
    assert abs(r.latency_ms / published_ms - 1) <= 0.10


def test_layer_time_is_the_roofline_by_hand(cli):
    d = cli("report", "mobilenet_v2", "--device", "pixel1", "--format", "json").json()
    layers = {L["name"]: L for L in d["layers"]}
    rc, bw = PIXEL1.rate_conv * 1e6, PIXEL1.bandwidth * 1e6  # MAC/ms, B/ms
    # block1.dw: 3×3 depthwise on 112×112×32 → 112×112×32: 9·32·112² = 3,612,672 mult-adds, 288 weights;
    # bytes 4·(2·112·112·32 + 288) = 3,212,416 → memory 3,212,416/bw > compute 3,612,672/rc
    dw = layers["block1.dw"]
    assert dw["madds"] == 9 * 32 * 112 * 112
    assert dw["latency_ms"] == pytest.approx(max(9 * 32 * 112 * 112 / rc, 4 * (2 * 112 * 112 * 32 + 288) / bw))
    assert dw["bound"] == "memory"
    # block2.expand: 1×1 16 → 96 at 112²: 16·96·112² = 19,267,584 mult-adds; bytes 4·(112²·(16+96) + 1536)
    ex = layers["block2.expand"]
    assert ex["latency_ms"] == pytest.approx(max(16 * 96 * 112 * 112 / rc, 4 * (112 * 112 * 112 + 1536) / bw))
    assert ex["bound"] == "compute"
    # block3.add reads two 56×56×24 maps and writes one: no mult-adds, memory-bound
    add = layers["block3.add"]
    assert add["latency_ms"] == pytest.approx(4 * 3 * 56 * 56 * 24 / bw) and add["bound"] == "memory"
    assert d["totals"]["latency_ms"] == pytest.approx(sum(L["latency_ms"] for L in d["layers"]))
    assert d["device"]["name"] == "pixel1"


def test_without_device_no_latency(cli):
    d = cli("report", "mobilenet_v2", "--format", "json").json()
    assert "latency_ms" not in d["totals"] and "bound" not in d["layers"][0]


def test_report_table_says_which_layers_are_memory_bound(cli):
    r = cli("report", "mobilenet_v2", "--device", "pixel1")
    assert r.code == 0, r.err
    rows = [line.split() for line in r.out.splitlines() if line.startswith("block1.dw") or line.startswith("conv1 ")]
    assert rows[0][-1] == "compute" and rows[1][-1] == "memory"  # conv1 (3×3 stem), block1.dw
    assert "memory-bound" in r.out


def test_sweep_device_latency_equals_the_report(cli):
    rows = list(csv.DictReader(io.StringIO(cli("sweep", "mobilenet_v2", "-a", "1,0.5", "-r", "224,96",
                                               "--device", "pixel1", "-f", "csv").out)))
    for row in rows:
        want = mbcost.analyze("mobilenet_v2", alpha=row["alpha"], resolution=int(row["resolution"].split("x")[0]),
                              device=PIXEL1).latency_ms
        assert float(row["latency_ms"]) == pytest.approx(want)


def test_check_max_latency(cli):
    ms = mbcost.analyze("mobilenet_v2", alpha="0.75", device=PIXEL1).latency_ms
    ok = cli("check", "mobilenet_v2", "-a", "0.75", "--device", "pixel1", "--max-latency", f"{ms + 0.01:.2f}")
    over = cli("check", "mobilenet_v2", "-a", "0.75", "--device", "pixel1", "--max-latency", f"{ms - 0.01:.2f}ms")
    assert (ok.code, over.code) == (0, 1), (ok.err, over.err)
    assert over.out.startswith("FAIL") and "latency" in over.out
    assert_one_line_error(cli("check", "mobilenet_v2", "--max-latency", "30"), "--max-latency", "--device")
    assert_one_line_error(cli("check", "mobilenet_v2", "--max-latency", "fast", "--device", "pixel1"),
                          "--max-latency", "milliseconds")
    assert_one_line_error(cli("check", "mobilenet_v2", "--max-latency", "30", "--device", "pixel9"),
                          "--device", "pixel1")


def test_budgets_file_device(cli, tmp_path):
    f = tmp_path / "budgets.yaml"
    f.write_text("budgets:\n  - arch: mobilenet_v2\n    alpha: 0.5\n    device: pixel1\n    max_latency: 30\n")
    assert cli("check", "--budgets", f).code == 0  # 0.5_224: 27.9 ms predicted (28.7 published)


def test_fit_max_latency(cli):
    rows = cli("fit", "mobilenet_v2", "--max-latency", "30", "--device", "pixel1", "-f", "json").json()["rows"]
    assert rows and all(r["latency"] <= 30 for r in rows)
    for r in rows:
        assert r["latency"] == pytest.approx(mbcost.analyze("mobilenet_v2", alpha=r["alpha"], resolution=r["resolution"][0],
                                                            device=PIXEL1).latency_ms)
    assert_one_line_error(cli("fit", "mobilenet_v2", "--max-latency", "30"), "--device")


def _measured_csv(path, rows):
    path.write_text("arch,alpha,resolution,ms\n" + "".join(f"{a},{al},{r},{ms}\n" for a, al, r, ms in rows))


def test_latency_fit_cli_reports_loo_and_saves_a_usable_profile(cli, tmp_path):
    m = tmp_path / "measured.csv"
    _measured_csv(m, [("mobilenet_v2", r["alpha"], r["resolution"], r["pixel1_cpu_ms"]) for r in TFSLIM[::2]])
    prof = tmp_path / "mine.yaml"
    r = cli("latency", "fit", m, "--name", "mine", "--save", prof, "-f", "json")
    assert r.code == 0, r.err
    d = r.json()
    assert len(d["points"]) == 11 and d["loo_mape_percent"] <= 10.0
    for p in d["points"]:  # each LOO prediction differs from the full fit's (the point was left out)
        assert p["loo_ms"] != p["predicted_ms"]
    rep = cli("report", "mobilenet_v2", "--device", prof, "-f", "json").json()
    assert rep["device"]["name"] == "mine"
    assert rep["device"]["bandwidth_gbs"] == pytest.approx(d["constants"]["bandwidth_gbs"], rel=1e-4)


@pytest.mark.parametrize("content, parts", [
    ("arch,alpha,ms\nmobilenet_v2,1,70\n", ["measured.csv:1", "resolution"]),
    ("arch,alpha,resolution,ms\nmobilenet_v2,1,224,70\nmobilenet_v2,1,192,-3\nmobilenet_v2,1,160,40\n",
     ["measured.csv:3", "ms", "milliseconds > 0"]),
    ("arch,alpha,resolution,ms\nmobilenet_v2,zero,224,70\nmobilenet_v2,1,192,55\nmobilenet_v2,1,160,40\n",
     ["measured.csv:2", "alpha"]),
    ("arch,alpha,resolution,ms\nmobilenet_v2,1,224,70\n", ["at least 3"]),
])
def test_latency_fit_bad_csv(cli, tmp_path, content, parts):
    m = tmp_path / "measured.csv"
    m.write_text(content)
    assert_one_line_error(cli("latency", "fit", m), *parts)
