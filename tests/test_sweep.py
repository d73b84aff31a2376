"""`mbcost sweep` and `mbcost.sweep`: the V1 paper's width and resolution tables, ranges,
bad input, and the fast path checked against the engine configuration by configuration."""
import csv
import dataclasses
import functools
import io
import subprocess
import sys
from fractions import Fraction

import pytest

import mbcost
from mbcost.core.conventions import PROFILES, Convention
from mbcost.errors import GraphError, UsageError
from mbcost.analyses.sweep import MAX_CONFIGS, parse_list
from mbcost.core.metrics import METRICS
from mbcost.core.kinds import KINDS
from mbcost.core.locate import builtin_names
from mbcost import sweep_grid
from mbcost.core.spec import spec_from_document
from mbcost.core.yamlio import parse

from conftest import assert_one_line_error
from _derive import printed, v1_by_hand


# MobileNetV1 by hand (_derive.v1_by_hand, derived there from the paper's formulas: 568,740,352
# mult-adds and 4,209,088 weights at α = 1, 224×224; channels max(floor(c·α), 8) as TF-slim).


def read_csv(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


# --- acceptance: V1 paper Tables 6 and 7 through the CLI ---------------------------------------

def test_v1_width_and_resolution_tables_through_cli_csv(cli):
    r = cli("sweep", "mobilenet_v1", "--alpha", "1,0.75,0.5,0.25", "--resolution", "224,192,160,128",
            "--format", "csv")
    assert r.code == 0, r.err
    rows = read_csv(r.out)
    assert list(rows[0]) == ["architecture", "alpha", "resolution", "convention", "madds", "flops", "params",
                            "peak_activation_bytes", "weight_bytes"]
    assert [(x["alpha"], x["resolution"]) for x in rows[:5]] == [
        ("1.0", "224x224"), ("1.0", "192x192"), ("1.0", "160x160"), ("1.0", "128x128"), ("0.75", "224x224")]
    got = {(Fraction(x["alpha"]), int(x["resolution"].split("x")[0])): (int(x["madds"]), int(x["params"])) for x in rows}
    assert len(got) == 16
    for (a, res), counts in got.items():
        assert counts == v1_by_hand(a, res)
    # Table 6 (224×224): 569 / 325 / 149 / 41 million mult-adds, 4.2 / 2.6 / 1.3 / 0.5 million params.
    # 568,740,352 → 569 (rounded); 463,600 params → 0.5 (rounded, truncation gives 0.4).
    for a, madds, params in (("1", "569", "4.2"), ("0.75", "325", "2.6"), ("0.5", "149", "1.3"),
                             ("0.25", "41", "0.5")):
        m, p = got[Fraction(a), 224]
        assert printed(m, madds) and printed(p, params)
    # Table 7 (α = 1): 569 / 418 / 290 / 186; 290,675,200 → 290 is truncated.
    for res, madds in ((224, "569"), (192, "418"), (160, "290"), (128, "186")):
        assert printed(got[Fraction(1), res][0], madds)
    assert got[Fraction(1), 224] == (568_740_352, 4_209_088)
    assert got[Fraction(1), 160][0] == 290_675_200


def test_default_grid_is_alpha_one_at_the_files_resolution(cli):
    rows = read_csv(cli("sweep", "mobilenet_v2", "--format", "csv").out)
    assert rows == [{"architecture": "mobilenet_v2", "alpha": "1.0", "resolution": "224x224",
                     "convention": "paper;bn=0;bias=0;classes=1000;madds", "madds": "300774272",
                     "flops": str(2 * 300774272), "params": "3469760",
                     # block2.dw: 112²×96 in, 56²×96 out, 4 B each; 4 B per parameter
                     "peak_activation_bytes": str((112 * 112 * 96 + 56 * 56 * 96) * 4),
                     "weight_bytes": str(3469760 * 4)}]


def test_convention_flags_reach_the_sweep(cli):
    # Framework counts (issue 4): V2 torchvision 3,504,872, Keras 3,538,984; V1 --bn 2 --bias 4,231,976.
    for args, arch, params in ((["--profile", "torchvision"], "mobilenet_v2", 3_504_872),
                               (["--profile", "keras"], "mobilenet_v2", 3_538_984),
                               (["--bn", "2", "--bias"], "mobilenet_v1", 4_231_976),
                               (["--bn", "4", "--bias"], "mobilenet_v1", 4_253_864)):
        rows = read_csv(cli("sweep", arch, "--resolution", "224,160", "--format", "csv", *args).out)
        assert [int(x["params"]) for x in rows] == [params, params]
    # --classes 1001: the FC gains 1024 weights (and its bias is not counted by default)
    rows = read_csv(cli("sweep", "mobilenet_v1", "--classes", "1001", "--format", "csv").out)
    assert int(rows[0]["params"]) == 4_209_088 + 1024
    assert int(rows[0]["madds"]) == 568_740_352 + 1024


def test_flops_column_is_twice_the_mult_adds(cli):
    rows = read_csv(cli("sweep", "mobilenet_v1", "-a", "1,0.5", "--flops", "--format", "csv").out)
    assert list(rows[0]) == ["architecture", "alpha", "resolution", "convention", "madds", "flops", "params",
                            "peak_activation_bytes", "weight_bytes"]
    assert rows[0]["convention"].endswith(";flops")
    assert rows[0]["flops"] == str(2 * 568_740_352)
    assert all(int(x["flops"]) == 2 * int(x["madds"]) for x in rows)


def test_rho_gives_the_papers_resolutions(cli):
    # ρ · 224 rounded: 0.857 → 191.97 → 192, 0.714 → 159.94 → 160, 0.571 → 127.9 → 128
    r = cli("sweep", "mobilenet_v1", "--rho", "1,0.857,0.714,0.571", "--format", "csv")
    rows = read_csv(r.out)
    assert [x["rho"] for x in rows] == ["1.0", "0.857", "0.714", "0.571"]
    assert [x["resolution"] for x in rows] == ["224x224", "192x192", "160x160", "128x128"]
    assert [int(x["madds"]) for x in rows] == [v1_by_hand(Fraction(1), n)[0] for n in (224, 192, 160, 128)]


def test_json_rows_are_exact_integers(cli):
    d = cli("sweep", "mobilenet_v1", "-a", "0.75", "-r", "224,128", "--format", "json").json()
    assert d["architecture"] == "mobilenet_v1" and d["convention"]["profile"] == "paper"
    # the peak is at block1.pw both times: dw1's output (24 channels) and pw1's (48) at R/2, 4 B
    # each (conv1 at 128: (3·128² + 24·64²)·4 B is less); weights: 4 B per parameter
    assert d["rows"] == [
        {"alpha": 0.75, "resolution": [224, 224], "madds": v1_by_hand(Fraction(3, 4), 224)[0],
         "flops": 2 * v1_by_hand(Fraction(3, 4), 224)[0], "params": v1_by_hand(Fraction(3, 4), 224)[1],
         "peak_activation_bytes": (24 + 48) * 112 * 112 * 4, "weight_bytes": 4 * v1_by_hand(Fraction(3, 4), 224)[1]},
        {"alpha": 0.75, "resolution": [128, 128], "madds": v1_by_hand(Fraction(3, 4), 128)[0],
         "flops": 2 * v1_by_hand(Fraction(3, 4), 128)[0], "params": v1_by_hand(Fraction(3, 4), 128)[1],
         "peak_activation_bytes": (24 + 48) * 64 * 64 * 4, "weight_bytes": 4 * v1_by_hand(Fraction(3, 4), 128)[1]}]


# --- lists and ranges -------------------------------------------------------------------------------

def test_ranges_are_exact_and_include_the_stop():
    # (2.0 − 0.25) / 0.05 = 35 steps → 36 values; in floats 0.25 + 35·0.05 drifts, in fractions not
    alphas = parse_list("0.25:2.0:0.05", "--alpha")
    assert len(alphas) == 36 and alphas[0] == Fraction(1, 4) and alphas[-1] == 2
    assert alphas[7] == Fraction("0.6")
    assert len(parse_list("96:320:8", "--resolution")) == 29  # (320 − 96) / 8 + 1
    assert len(parse_list("0.25:2.0:0.01", "--alpha")) == 176  # 175 steps + 1
    assert parse_list("1:0.25:-0.25", "--alpha") == [1, Fraction(3, 4), Fraction(1, 2), Fraction(1, 4)]
    assert parse_list("0.5:1:0.3", "--alpha") == [Fraction(1, 2), Fraction(4, 5)]  # 1.1 is past the stop
    assert parse_list("1,0.5:1:0.25,0.5", "--alpha") == [1, Fraction(1, 2), Fraction(3, 4)]  # no repeats
    assert parse_list([0.35, "1.4", 1], "--alpha") == [Fraction(7, 20), Fraction(7, 5), 1]


def test_dense_grid_through_the_cli(cli):
    r = cli("sweep", "mobilenet_v2", "--alpha", "0.25:2.0:0.01", "--resolution", "96:320:8", "--format", "csv")
    rows = read_csv(r.out)
    assert r.code == 0 and len(rows) == 176 * 29 == 5104
    assert rows[0]["alpha"] == "0.25" and rows[-1]["alpha"] == "2.0" and rows[-1]["resolution"] == "320x320"
    one = next(x for x in rows if x["alpha"] == "1.0" and x["resolution"] == "224x224")
    assert (int(one["madds"]), int(one["params"])) == (300_774_272, 3_469_760)


# sweep's own wording for its lists and ranges; --bn is checked through every command by
# test_errors.FLAG_CASES
@pytest.mark.parametrize("args, message", [
    (["--alpha", "0:1:0.25"], "--alpha: expected a width multiplier α > 0"),
    (["--alpha", "-0.5"], "got -0.5"),
    (["--alpha", "1:0:0.1"], "is empty"),
    (["--alpha", "0.1:1:0"], "step of '0.1:1:0' is zero"),
    (["--alpha", "0.1:1"], "expected a range start:stop:step"),
    (["--alpha", "1,,0.5"], "expected comma-separated values"),
    (["--alpha", "abc"], "got 'abc'"),
    (["--alpha", "nan"], "got 'nan'"),
    (["--alpha", "1e999999999"], "sensible size"),
    (["--alpha", "0.00001:64:0.00001"], "has 6,400,000 values, more than 1,000,000"),
    # 29,991 α × 57 resolutions (96, 100, …, 320) = 1,709,487 configurations
    (["--alpha", "0.01:30:0.001", "--resolution", "96:320:4"], "1,709,487 configurations, more than 1,000,000"),
    (["--resolution", "96:320:7.5"], "--resolution: expected whole pixels, got 103.5"),
    (["--resolution", "0"], "--resolution: expected a resolution from 1"),
    (["--resolution", "224", "--rho", "1"], "either --resolution or --rho"),
    (["--rho", "0,1"], "--rho: expected a resolution multiplier ρ > 0"),
    (["--format", "xls"], "expected one of table, json, csv, md, latex, html, got 'xls'"),
    (["--pivot", "flops"], "'flops' is not one of"),
])
def test_bad_input_is_one_line_and_exit_2(cli, args, message):
    assert_one_line_error(cli("sweep", "mobilenet_v2", *args), message)


def test_a_map_that_shrinks_away_names_the_configuration(cli, tmp_path):
    f = tmp_path / "v.yaml"
    f.write_text("input: {resolution: 32, channels: 3}\nlayers:\n"
                 "  - {kind: conv, c: 8, k: 5, padding: valid}\n  - {kind: conv, c: 8, k: 5, padding: valid}\n")
    # 32 → 28 → 24 is fine; 8 → 4 → 0 is not
    assert cli("sweep", f, "-r", "32", "--format", "csv").code == 0
    assert_one_line_error(cli("sweep", f, "-r", "32,8", "--format", "csv"), "8×8 input", "shrinks below 1×1")


def test_bad_output_folder_writes_nothing(cli, tmp_path):
    target = tmp_path / "missing" / "grid.csv"
    assert_one_line_error(cli("sweep", "mobilenet_v1", "--format", "csv", "--output", target), "does not exist")
    assert not target.parent.exists()


def test_output_file_is_written_whole_and_a_failure_keeps_the_old_one(cli, tmp_path):
    target = tmp_path / "grid.csv"
    assert cli("sweep", "mobilenet_v1", "-a", "1,0.5", "--format", "csv", "-o", target).code == 0
    assert [x["alpha"] for x in read_csv(target.read_text())] == ["1.0", "0.5"]
    before = target.read_text()
    r = cli("sweep", "mobilenet_v1", "-a", "1,-1", "--format", "csv", "-o", target)
    assert r.code == 2 and target.read_text() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["grid.csv"]  # no temporary left behind


# --- the fast path equals the engine ------------------------------------------------------------

ODD = """\
name: odd_net
input: {resolution: [72, 56], channels: 3}
classes: 10
width: {rule: make_divisible, divisor: 8, min: 8}
batch_norm: true
layers:
  - {kind: conv, c: 24, k: [3, 5], s: [2, 1], padding: valid, bias: true}
  - {kind: pool, op: max, k: 3, s: 2, padding: valid}
  - {kind: dwconv, k: [1, 7], s: 2, padding: valid}
  - {kind: conv, c: 48, k: 3, groups: 4, name: g}
  - {kind: pwconv, c: 48, bn: false, bias: true}
  - {kind: add, from: g}
  - {kind: separable, c: 64, s: 2, padding: valid}
  - {kind: bottleneck, t: 3, c: 64, n: 2, s: 1}
  - {kind: pool, op: avg, k: [2, 1], s: [2, 1]}
  - {kind: fc, c: 100, bn: true}
  - {kind: fc}
"""

CONVENTIONS = [PROFILES["paper"], PROFILES["torchvision"], PROFILES["keras"],
               Convention(name="slim", bn=3, bias=True, classes=1001),
               # memory in other dtypes, and V2 §6.2's chunked bottlenecks (3 and 1,000 chunks)
               Convention(name="fp16-chunked", act_dtype="fp16", weight_dtype="int8", chunks=3),
               Convention(name="bf16-channelwise", act_dtype="bf16", chunks=1000)]
ALPHAS = ["0.05", "0.25", "0.35", "0.5", "0.75", "1", "1.3", "1.4", "2"]


RESOLUTIONS = {"alexnet": [67, 97, 128, 224, 225, 320],
               "lraspp_mobilenet_v3_large_cityscapes": [784, 785, 1024],
               "lraspp_mobilenet_v3_small_cityscapes": [784, 785, 1024]}


def engine(arch, point, convention):
    r = mbcost.analyze(arch, alpha=point.alpha, resolution=point.resolution[0], convention=convention) \
        if point.rho is None else mbcost.analyze(arch, alpha=point.alpha, rho=point.rho, convention=convention)
    return tuple(m.of(r) for m in METRICS.values())


def counts(point):
    return tuple(m.of(point) for m in METRICS.values())


@pytest.fixture
def odd(tmp_path):
    f = tmp_path / "odd.yaml"
    f.write_text(ODD)
    return str(f)


# Both ways the sweep computes rows: Python lists for a small grid, numpy arrays for a large one
# (from NUMPY_FROM configurations). Each is forced by setting NUMPY_FROM, so small grids test both.
BACKENDS = {"lists": 10**9, "numpy": 0}


@pytest.fixture(params=list(BACKENDS))
def backend(request, monkeypatch):
    import mbcost.analyses.sweep as fast

    monkeypatch.setattr(fast, "NUMPY_FROM", BACKENDS[request.param])
    return request.param


@functools.cache
def buildable(arch: str) -> tuple[str, ...]:
    """The α's of ALPHAS at which ``arch`` builds: a transformer's heads must divide its α-scaled
    width (ViT-B/16: 12 ∣ ⌊768·α⌋, so not at 0.05, 0.35, 1.3, 1.4), and a grouped conv's groups
    its widths (ShuffleNet V1), which the sweep refuses as analyze does — the refused α's are
    checked to be refused by both, with the same reason."""
    out = []
    for a in ALPHAS:
        try:
            mbcost.analyze(arch, alpha=a)
            out.append(a)
        except GraphError as exc:
            why = "heads do not divide" if "heads do not divide" in str(exc) else "does not divide the"
            assert why in str(exc), exc
            with pytest.raises(GraphError, match=why):
                sweep_grid(arch, [a], [224])
    return tuple(out)


def is_head(name: str) -> bool:
    """A detector or segmenter: a file built on a backbone (its backbone is a built-in here too)."""
    return "backbone" in mbcost.load(name).document.data


HEADS = [n for n in builtin_names() if is_head(n)]


def both_backends_equal_the_engine(arch, alphas, resolutions, convention, monkeypatch):
    """Sweep ``arch`` over the grid with each backend (lists, then numpy: ``BACKENDS``) and check
    every point against ``mbcost.analyze``. The engine's answer does not depend on the backend, so
    it is computed once for both — the grid of every built-in × convention is the suite's largest
    single cost, and analysing each point twice was half of it."""
    import mbcost.analyses.sweep as fast

    want = None
    for name, numpy_from in BACKENDS.items():
        monkeypatch.setattr(fast, "NUMPY_FROM", numpy_from)
        g = sweep_grid(arch, alphas, resolutions, convention=convention)
        assert len(g) == len(alphas) * len(resolutions)
        if want is None:
            want = [engine(arch, p, convention) for p in g]
        assert [counts(p) for p in g] == want, name


@pytest.mark.parametrize("arch", [n for n in builtin_names() if n not in HEADS])
@pytest.mark.parametrize("convention", CONVENTIONS, ids=lambda c: c.name)
def test_fast_path_equals_analyze_on_builtins(arch, convention, monkeypatch):
    # AlexNet's unpadded 11×11/4 conv and three 3×3/2 valid pools need R ≥ 67: 32 has no 1×1 left
    resolutions = RESOLUTIONS.get(arch, [32, 97, 128, 224, 225, 320])
    alphas = buildable(arch)
    assert len(alphas) >= 5
    if convention is not CONVENTIONS[0]:
        # The rounding of α·c and ρ·R is the same under every convention, and is checked on the
        # full grid under the first; what a convention changes is what each layer counts (BN,
        # biases, classes, dtypes, chunks), which the corners and the middle of the grid show.
        alphas, resolutions = (alphas[0], alphas[len(alphas) // 2], alphas[-1]), resolutions[1::2]
    both_backends_equal_the_engine(arch, alphas, resolutions, convention, monkeypatch)


@pytest.mark.parametrize("arch", HEADS)
@pytest.mark.parametrize("convention", CONVENTIONS[:2] + CONVENTIONS[4:5], ids=lambda c: c.name)
def test_fast_path_equals_analyze_on_the_heads(arch, convention, monkeypatch):
    # The heads' layers are the classifiers' kinds (checked above at every α); what is new is the
    # graph — several outputs held to the end, taps into the backbone, runs per proposal, dilation —
    # checked on a smaller grid, as the heads are 3-5× the layers. LR-ASPP's 49-wide pool (valid
    # padding) on the 1/16 map needs R ≥ 49·16 = 784.
    resolutions = RESOLUTIONS.get(arch, [97, 225, 320])[:3]
    alphas = [a for a in ("0.35", "0.75", "1", "1.4") if a in buildable(arch)]
    assert len(alphas) >= 3
    both_backends_equal_the_engine(arch, alphas, resolutions, convention, monkeypatch)


@pytest.mark.parametrize("convention", CONVENTIONS, ids=lambda c: c.name)
def test_fast_path_equals_analyze_with_valid_padding_pools_and_flattening_fc(odd, convention, backend):
    # non-square input and kernels, valid padding, a strided pool, grouped conv, a residual,
    # and an FC on a 2-D map (its weights grow with the resolution)
    g = sweep_grid(odd, ALPHAS, [70, 72, 97, 128], convention=convention)
    assert len({p.params for p in g if p.alpha == 1}) > 1  # the flattening FC is resolution-dependent
    for p in g:
        assert counts(p) == engine(odd, p, convention)
    for p in sweep_grid(odd, ALPHAS, rhos=["1", "0.5", "1.5"], convention=convention):
        assert counts(p) == engine(odd, p, convention)


def test_engine_and_sweep_read_one_op_definition(odd, monkeypatch):
    # Change the depthwise formula in the kind registry: the engine and the sweep's fast path
    # both follow, because neither has a copy of it. (×3 mult-adds, +7 params per depthwise layer.)
    before = sweep_grid(odd, ["0.5", "1"], [72, 97])
    real = KINDS["dwconv"]

    def tampered(layer, m, conv):
        f = real.factor(layer, m, conv)
        return dataclasses.replace(f, m=3 * f.m, p0=f.p0 + 7)

    monkeypatch.setitem(KINDS, "dwconv", dataclasses.replace(real, factor=tampered))
    after = sweep_grid(odd, ["0.5", "1"], [72, 97])
    for p, q in zip(before, after):
        assert counts(q) == engine(odd, q, mbcost.PAPER)
        assert q.madds > p.madds and q.params > p.params


def test_graphs_whose_structure_changes_with_alpha_are_grouped_correctly():
    # At α = 0.05 MobileNetV2's 64- and 96-channel rows both round up to the minimum 8,
    # so block 11 gains a residual add the α = 1 graph does not have.
    small = mbcost.analyze("mobilenet_v2", alpha="0.05")
    big = mbcost.analyze("mobilenet_v2", alpha="1")
    assert len(small.layers) != len(big.layers)
    for p in sweep_grid("mobilenet_v2", ["0.05", "1"], [128, 224]):
        assert counts(p) == engine("mobilenet_v2", p, mbcost.PAPER)


@pytest.mark.parametrize("arch", ["mobilenet_v2", "efficientnet_b0", "mobilenet_v3_large"])
def test_neighbouring_alphas_that_round_alike_are_expanded_once_and_still_exact(arch, backend, monkeypatch):
    # 0.700:0.760:0.002 is 31 α; with channels rounded to multiples of 8 (not V1, which floors) most
    # neighbours give every layer the same width, so the sweep expands only the distinct networks
    # and copies the counts — which must still equal the engine's at every α.
    import mbcost.analyses.sweep as fast

    expanded = []
    real = fast.expand_traced
    monkeypatch.setattr(fast, "expand_traced", lambda *a, **k: expanded.append(a[1]) or real(*a, **k))
    g = sweep_grid(arch, "0.700:0.760:0.002", [160, 224])
    assert len(g) == 31 * 2
    assert 1 < len(expanded) < 31
    for p in g:
        assert counts(p) == engine(arch, p, mbcost.PAPER)
    # and every α it skipped has the widths of the last one it expanded before it
    alphas = sorted({p.alpha for p in g})
    assert expanded[0] == alphas[0] and set(expanded) <= set(alphas)


def test_same_widths_sees_a_single_channel_that_rounds_differently(tmp_path):
    from mbcost.core.engine import load
    from mbcost.core.expand import expand_traced, same_widths

    f = tmp_path / "w.yaml"
    f.write_text("input: {resolution: 32, channels: 3}\nwidth: {rule: make_divisible, divisor: 8, min: 8}\n"
                 "layers:\n  - {kind: conv, c: 32, k: 3, s: 2}\n  - {kind: conv, c: 100, k: 1}\n")
    spec = load(str(f))
    _, widths = expand_traced(spec, Fraction("0.5"))
    # nearest multiple of 8: α·32 = 16, 15.68, 16.64, 17.6 all give 16, but α·100 = 50 and
    # 49 give 48 where 52 and 55 give 56 — one layer's width is enough to tell them apart
    assert same_widths(spec, widths, Fraction("0.49"))
    assert not same_widths(spec, widths, Fraction("0.52"))
    assert not same_widths(spec, widths, Fraction("0.55"))


@pytest.mark.parametrize("arch", ["mobilenet_v2", "mobilenet_v3_small", "resnet18", "odd"])
def test_sweep_latency_is_the_engines_to_the_last_bit(arch, odd, backend):
    # The sweep times each distinct network with the engine's own layer results, summed in
    # layer order as Report.latency_ms does, so the floats are equal, not merely close; also
    # across α that round alike (copied rows) and on odd's non-square input (ρ keeps its aspect).
    from mbcost.analyses.latency import load_device

    pixel1 = load_device("pixel1")
    arch = odd if arch == "odd" else arch
    g = sweep_grid(arch, "0.70:0.76:0.02", rhos=["1", "0.75"], device=pixel1)
    assert len(g) == 4 * 2
    for p in g:
        want = mbcost.analyze(arch, alpha=p.alpha, rho=p.rho, device=pixel1).latency_ms
        assert p.latency_ms == want and p.latency_ms > 0


# --- the Python API --------------------------------------------------------------------------------

def test_python_api_returns_a_dataframe_with_exact_integers():
    df = mbcost.sweep("mobilenet_v1", alphas=[1, 0.75, 0.5, 0.25], resolutions=[224, 192, 160, 128])
    assert list(df.columns) == ["alpha", "resolution", "madds", "flops", "params",
                            "peak_activation_bytes", "weight_bytes"]
    assert len(df) == 16 and str(df["madds"].dtype) == "int64"
    table = df.pivot(index="alpha", columns="resolution", values="madds")
    assert int(table.loc[1.0, 160]) == v1_by_hand(Fraction(1), 160)[0]
    assert int(table.loc[0.25, 224]) == v1_by_hand(Fraction(1, 4), 224)[0]


def test_python_api_takes_range_text_numpy_and_conventions():
    np = pytest.importorskip("numpy")
    df = mbcost.sweep("mobilenet_v2", alphas="0.5:1:0.25", rhos=np.array([1.0, 0.5]),
                      convention=PROFILES["keras"].with_(flops=True))
    assert list(df.columns) == ["alpha", "rho", "resolution", "madds", "flops", "params",
                            "peak_activation_bytes", "weight_bytes"]
    assert list(df["alpha"]) == [0.5, 0.5, 0.75, 0.75, 1.0, 1.0]
    assert list(df["resolution"]) == [224, 112] * 3
    assert int(df["params"].iloc[-1]) == 3_538_984  # Keras's total for MobileNetV2 1.0
    assert (df["flops"] == 2 * df["madds"]).all()


def test_sweep_grid_lookup_and_library_errors():
    g = sweep_grid("mobilenet_v1", "1,0.5", "224,128")
    assert g.at(0.5, 128).madds == v1_by_hand(Fraction(1, 2), 128)[0]
    assert g.resolutions == ((224, 224), (128, 128)) and g.alphas == (1, Fraction(1, 2))
    with pytest.raises(KeyError):
        g.at(0.75, 224)
    with pytest.raises(UsageError):
        sweep_grid("mobilenet_v1", alphas=[])
    # more than MAX_CONFIGS: test_a_million_configurations_are_allowed_and_one_more_is_not


def test_report_to_frame_is_the_per_layer_table():
    r = mbcost.analyze("mobilenet_v1", alpha=0.75)
    df = mbcost.to_frame(r)
    assert len(df) == len(r.layers) and list(df["name"][:2]) == ["conv1", "block1.dw"]
    assert int(df["madds"].sum()) == r.madds and int(df["params"].sum()) == r.params
    # conv1 at α = 0.75: floor(32·0.75) = 24 filters of 3×3×3 on 112²: 27·24·112² = 8,128,512
    assert int(df.loc[0, "madds"]) == 27 * 24 * 112 * 112 and int(df.loc[0, "out_c"]) == 24
    by_type = df.groupby("type")["madds"].sum()
    assert int(by_type["Conv 1×1"]) == next(k.madds for k in r.by_kind() if k.type == "Conv 1×1")


def test_pandas_stays_out_of_import_and_the_csv_sweep():
    code = ("import sys, mbcost, mbcost.cli\n"
            "from mbcost.cli import main\n"
            "main(['sweep', 'mobilenet_v1', '-a', '1,0.5', '--format', 'csv'])\n"
            "main(['sweep', 'mobilenet_v1', '--format', 'latex'])\n"
            "print('pandas' in sys.modules, file=sys.stderr)\n")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert p.stderr.strip() == "False" and "alpha,resolution" in p.stdout


# --- scale (issue 17): arrays, exact past int64, a streamed CSV ---------------------------------

def test_counts_past_int64_stay_exact(tmp_path, backend):
    """One conv with the largest channels and kernel a file may have, on the largest input:
    k²·M·N = 1024²·2²⁰·2²⁰ = 2⁶⁰ mult-adds per output pixel, times 64·64 = 2¹² pixels
    (stride 1024 on 65,536²) = 2⁷², far past int64's 2⁶³ − 1; the sweep must switch to
    Python integers, not wrap around."""
    f = tmp_path / "huge.yaml"
    f.write_text(f"input: {{resolution: 65536, channels: {2**20}}}\nlayers:\n"
                 f"  - {{kind: conv, c: {2**20}, k: 1024, s: 1024}}\n")
    g = sweep_grid(str(f), ["1"], [65536, 1024])
    assert [p.madds for p in g] == [2**60 * 64 * 64, 2**60 * 1 * 1]
    assert [p.params for p in g] == [2**60, 2**60]  # 1024²·2²⁰·2²⁰ weights
    assert [counts(p) for p in g] == [engine(str(f), p, mbcost.PAPER) for p in g]


def test_the_streamed_csv_is_the_points(cli, backend):
    """The CSV is written one α at a time from the count arrays; every row must be the point
    the API gives, α-major, with ρ columns in the order given (0.5 and 0.51 both give 112)."""
    g = sweep_grid("mobilenet_v2", "0.35:1.4:0.35", rhos="0.5,0.51,1")
    rows = read_csv(cli("sweep", "mobilenet_v2", "--alpha", "0.35:1.4:0.35", "--rho", "0.5,0.51,1",
                        "--format", "csv").out)
    assert len(rows) == len(g) == 4 * 3  # α 0.35, 0.7, 1.05, 1.4 × three ρ
    for row, p in zip(rows, g):
        assert (Fraction(row["alpha"]), Fraction(row["rho"]), row["resolution"]) == \
            (p.alpha, p.rho, f"{p.resolution[0]}x{p.resolution[1]}")
        assert (int(row["madds"]), int(row["flops"]), int(row["params"])) == (p.madds, 2 * p.madds, p.params)
        assert counts(p) == engine("mobilenet_v2", p, mbcost.PAPER)
    assert [r["resolution"] for r in rows[:3]] == ["112x112", "114x114", "224x224"]  # round(ρ·224)


def test_a_name_that_needs_quoting_in_the_csv(cli, tmp_path):
    f = tmp_path / "net.yaml"
    f.write_text('name: "a, \\"quoted\\" net"\ninput: {resolution: 32}\nlayers:\n  - {kind: conv, c: 8}\n')
    rows = read_csv(cli("sweep", f, "--alpha", "1,0.5", "--format", "csv").out)
    # k defaults to 1: 1·1·3·8 = 24 mult-adds per pixel, 32² pixels; α = 0.5 keeps the minimum 8
    assert [(r["architecture"], int(r["madds"])) for r in rows] == [('a, "quoted" net', 24 * 32 * 32)] * 2


def test_a_million_configurations_are_allowed_and_one_more_is_not():
    # issue 17's scale: 1,000 α × 1,000 resolutions of a one-conv network is exactly 10⁶ points
    # (a 3×3 'same' conv 3 → 8: 216·R² mult-adds at R×R); one α more is refused before any work
    tiny = spec_from_document(parse("input: {resolution: 8, channels: 3}\n"
                                    "layers:\n  - {kind: conv, c: 8, k: 3}\n", "tiny.yaml"))
    g = sweep_grid(tiny, alphas="0.001:1:0.001", resolutions="1:1000:1")
    assert len(g) == MAX_CONFIGS == 10**6
    assert g.at(1, 1000).madds == 216 * 1000**2
    with pytest.raises(mbcost.MbcostError, match="1,001 α × 1,000 resolutions is 1,001,000 configurations"):
        sweep_grid(tiny, alphas="0.001:1.001:0.001", resolutions="1:1000:1")
