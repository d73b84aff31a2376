"""`mbcost fit`: the Pareto set within a budget, exact counts, published top-1 where TF-slim
released the checkpoint, and the interpolation between checkpoints."""
import csv
import io
import math
from fractions import Fraction

import pytest

import mbcost
from mbcost.analyses.accuracy import expected_top1, published, read_csv
from mbcost.analyses.budget import parse_size

from conftest import assert_one_line_error
from _derive import v2_by_hand

# TF-slim's MobileNetV2 README, 'Mobilenet V2 Imagenet Checkpoints' (tensorflow/models @ 60c28f91):
# (α, resolution, top-1) of checkpoints within 150M mult-adds
TFSLIM_V2_TOP1 = [("0.75", 160, 66.4), ("0.5", 224, 65.4), ("0.5", 192, 63.9), ("0.75", 128, 63.2),
                  ("0.35", 224, 60.3), ("0.35", 96, 45.5)]


def _fit(cli, *args):
    r = cli("fit", *args, "--format", "json")
    assert r.code == 0, r.err
    return r.json()


def _dominated(a, b, metrics):
    """b beats a: top-1 at least as high, every limited metric at most as high, one strictly."""
    return (b["expected_top1"] >= a["expected_top1"] and all(b[m] <= a[m] for m in metrics) and
            (b["expected_top1"] > a["expected_top1"] or any(b[m] < a[m] for m in metrics)))


@pytest.mark.parametrize("limits", [
    ["--max-madds", "150M"],
    ["--max-madds", "300M", "--max-params", "3M"],
    ["--max-params", "2.7M"],
])
def test_fit_lists_only_fitting_exact_undominated_configurations(cli, limits):
    out = _fit(cli, "mobilenet_v2", *limits)
    given = dict(zip(limits[::2], limits[1::2]))
    caps = {k[len("--max-"):]: v for k, v in given.items()}
    caps = {m: parse_size(v) for m, v in caps.items()}
    rows = out["rows"]
    assert rows, "something fits"
    for row in rows:
        report = mbcost.analyze("mobilenet_v2", alpha=row["alpha"], resolution=row["resolution"][0])
        assert (row["madds"], row["params"]) == (report.madds, report.params)  # exact, as the engine counts
        assert all(row[m] <= cap for m, cap in caps.items())
    for a in rows:
        assert not any(_dominated(a, b, list(caps)) for b in rows if b is not a)
    # the front is complete: every fitting candidate not listed is beaten by a listed one
    grid = mbcost.sweep_grid("mobilenet_v2", alphas="0.35,0.5,0.75,1.0,1.3,1.4", resolutions="96:224:32")
    listed = {(r["alpha"], r["resolution"][0]) for r in rows}
    fitting = [p for p in grid if all(getattr(p, m) <= cap for m, cap in caps.items())]
    assert out["fitting"] == len(fitting) and out["candidates"] == 6 * 5
    for p in fitting:
        if (float(p.alpha), p.resolution[0]) in listed:
            continue
        e = expected_top1("mobilenet_v2", p.alpha, p.resolution[0])
        me = {"expected_top1": e.top1, "madds": p.madds, "params": p.params}
        assert any(_dominated(me, b, list(caps)) for b in rows), (p.alpha, p.resolution)
    assert [r["expected_top1"] for r in rows] == sorted((r["expected_top1"] for r in rows), reverse=True)


def test_fit_150m_expects_the_published_top1_of_each_tfslim_checkpoint_it_lists(cli):
    rows = {(r["alpha"], r["resolution"][0]): r for r in _fit(cli, "mobilenet_v2", "--max-madds", "150M")["rows"]}
    for alpha, res, top1 in TFSLIM_V2_TOP1:
        if (float(alpha), res) in rows:
            row = rows[float(alpha), res]
            assert (row["expected_top1"], row["top1_method"]) == (top1, "published")
            assert row["checkpoint"] == f"mobilenet_v2_{alpha}_{res}"
    # the best under 150M is TF-slim's 0.75_160 (107,295,200 mult-adds, 66.4%), above 0.5_224 (65.4%)
    best, second = _fit(cli, "mobilenet_v2", "--max-madds", "150M")["rows"][:2]
    assert (best["alpha"], best["resolution"], best["expected_top1"]) == (0.75, [160, 160], 66.4)
    # 0.5_224 by hand: stem 16, bottleneck widths 8,16,16,32,48,80,160 (make_divisible(c·0.5, 8)), 1280
    assert (second["madds"], second["params"]) == v2_by_hand(16, (8, 16, 16, 32, 48, 80, 160), 1280)


@pytest.mark.parametrize("arch, n", [("mobilenet_v2", 22), ("mobilenet_v1", 16)])
def test_every_published_checkpoint_is_expected_at_its_published_top1(arch, n):
    rows = published(arch)
    assert len(rows) == n and all("tensorflow/models" in r.source for r in rows)
    for r in rows:
        e = expected_top1(arch, r.alpha, r.resolution)
        assert (e.top1, e.method, e.checkpoint) == (r.top1, "published", r.checkpoint)


@pytest.mark.parametrize("arch, alpha, res, corners, method", [
    # between 0.75/1.0 and 160/192: bilinear in (ln α, ln R) of the four published corners
    ("mobilenet_v2", "0.85", 176, [("0.75", 160), ("1.0", 160), ("0.75", 192), ("1.0", 192)], "bilinear"),
    ("mobilenet_v1", "0.6", 200, [("0.50", 192), ("0.75", 192), ("0.50", 224), ("0.75", 224)], "bilinear"),
    # beyond α = 1 only 224 is published: along ln α between 1.0 and 1.3
    ("mobilenet_v2", "1.2", 224, [("1.0", 224), ("1.3", 224)], "ln-alpha"),
])
def test_interpolation_between_checkpoints(arch, alpha, res, corners, method):
    table = {(Fraction(r["alpha"]), int(r["resolution"])): float(r["top1"])
             for r in read_csv(f"tfslim_{arch}.csv")}
    t = {c: table[Fraction(c[0]), c[1]] for c in corners}
    a = Fraction(alpha)
    (a0, r0), (a1, _) = (Fraction(corners[0][0]), corners[0][1]), (Fraction(corners[1][0]), corners[1][1])
    u = math.log(a / a0) / math.log(a1 / a0)
    if method == "bilinear":
        r1 = corners[2][1]
        v = math.log(res / r0) / math.log(r1 / r0)
        want = ((1 - u) * (1 - v) * t[corners[0]] + u * (1 - v) * t[corners[1]] +
                (1 - u) * v * t[corners[2]] + u * v * t[corners[3]])
    else:
        want = (1 - u) * t[corners[0]] + u * t[corners[1]]
    e = expected_top1(arch, a, res)
    assert e.method == method and not e.extrapolated
    assert e.top1 == pytest.approx(want, abs=1e-9)
    assert min(t.values()) <= e.top1 <= max(t.values())


def test_outside_the_grid_is_flagged_extrapolated(cli):
    out = _fit(cli, "mobilenet_v2", "--max-madds", "100M", "--alpha", "1.3", "--resolution", "96")
    (row,) = out["rows"]
    assert (row["top1_method"], row["extrapolated"]) == ("quadratic-ln-madds", True)
    # the quadratic's published-grid LOO RMSE is 0.7 points (docs/research/latency/RESULTS.md §3):
    # 1.3 at 96 lands between 1.0_96 (60.3) and 1.0_128 (65.3)
    assert 60.3 < row["expected_top1"] < 70.0


def test_without_published_accuracy_the_largest_cost_under_budget_wins(cli):
    out = _fit(cli, "mobilenet_v1_conv", "--max-madds", "500M", "--alpha", "0.25,0.5", "--resolution", "128:224:32")
    assert out["ranked_by"] == "madds"
    (row,) = out["rows"]  # one limit: the single largest count under it
    grid = mbcost.sweep_grid("mobilenet_v1_conv", alphas="0.25,0.5", resolutions="128:224:32")
    assert row["madds"] == max(p.madds for p in grid if p.madds <= 500_000_000)
    assert row["expected_top1"] is None


@pytest.mark.parametrize("fmt", ["table", "csv", "md"])
def test_fit_formats(cli, fmt):
    r = cli("fit", "mobilenet_v2", "--max-madds", "150M", "--format", fmt)
    assert r.code == 0, r.err
    if fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(r.out)))
        assert (rows[0]["alpha"], rows[0]["resolution"], rows[0]["madds"], rows[0]["expected_top1"]) == \
            ("0.75", "160x160", "107295200", "66.4")
    else:
        assert "107,295,200" in r.out and "66.4" in r.out and "mobilenet_v2_0.75_160" in r.out


def test_nothing_fits(cli):
    r = cli("fit", "mobilenet_v2", "--max-madds", "1M")
    assert r.code == 0 and "none of the 30 configurations" in r.out


@pytest.mark.parametrize("args, parts", [
    (["mobilenet_v2"], ["nothing to fit", "--max-madds"]),
    (["mobilenet_v2", "--max-madds", "lots"], ["--max-madds", "expected a size"]),
    (["mobilenet_v2", "--max-madds", "150M", "--alpha", "0:1:0"], ["--alpha"]),
    (["mobilenet_v2", "--max-madds", "150M", "--flops"], ["--max-madds", "FLOPs"]),
])
def test_fit_bad_input(cli, args, parts):
    assert_one_line_error(cli("fit", *args), *parts)
