"""`mbcost check`: sizes, budgets files, exit codes and the CI report formats.

MobileNetV2 at α = 1, 224×224 costs 300,774,272 mult-adds and has 3,469,760 parameters
under the papers' convention (both derived from the formulas in tests/_derive.py); every
expected overshoot below is computed from those two numbers and the limit in the test.
"""
import json
import shlex
import xml.etree.ElementTree as ET
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from conftest import ROOT, assert_one_line_error
from _derive import v1_by_hand
from mbcost.analyses.budget import Budget, Limit, check, load_budgets, parse_size
from mbcost.errors import MbcostError

V2_MADDS, V2_PARAMS = 300_774_272, 3_469_760


# --- sizes ------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, value", [
    ("300M", 300_000_000), ("3.5M", 3_500_000), ("1.2G", 1_200_000_000), ("750K", 750_000),
    ("750k", 750_000), ("300e6", 300_000_000), ("300_000_000", 300_000_000), ("3469760", 3_469_760),
    ("300,774,272", 300_774_272), ("0", 0), ("2.5e3K", 2_500_000), ("1T", 10**12),
    # binary floats would get these wrong: 1.1 × 10⁶ = 1100000.0000000002, 0.3 × 10⁹ = 299999999.99999994
    ("1.1M", 1_100_000), ("0.3G", 300_000_000), ("4.35M", 4_350_000),
    (3_469_760, 3_469_760), (3.5e8, 350_000_000),
])
def test_sizes_are_exact_integers(text, value):
    assert parse_size(text) == value and isinstance(parse_size(text), int)


@pytest.mark.parametrize("text, value", [
    # SI prefixes are powers of 1000, IEC's powers of 1024; a bare number or SI letter is bytes too
    ("400KB", 400 * 1000), ("400kB", 400 * 1000), ("5MB", 5 * 1000**2), ("2MiB", 2 * 1024**2),
    ("1.5KiB", 1536), ("0.5GiB", 1024**3 // 2), ("3GB", 3 * 1000**3), ("1TiB", 1024**4),
    ("6000000", 6_000_000), ("6M", 6_000_000), ("12B", 12), ("1.1MB", 1_100_000),
])
def test_byte_sizes_are_exact_integers(text, value):
    assert parse_size(text, unit="B") == value


@pytest.mark.parametrize("text, why", [
    ("2iB", "expected a size like 5MB, 2MiB"), ("1.3KiB", "= 1,331.2"), ("5Mb", "expected a size like 5MB"),
    ("5 MiBs", "expected a size like 5MB"),
])
def test_bad_byte_sizes(text, why):
    with pytest.raises(MbcostError, match=why):
        parse_size(text, field="--max-peak-memory", unit="B")


@pytest.mark.parametrize("limit, code", [
    # MobileNetV2's peak is at block2.dw: (112²·96 + 56²·96)·4 B = 6,021,120 B (fp32)
    ("5MB", 1), ("6021119", 1), ("6021120", 0), ("6MiB", 0),  # 6 MiB = 6,291,456 B
])
def test_check_max_peak_memory_exit_codes(cli, limit, code):
    r = cli("check", "mobilenet_v2", "--max-peak-memory", limit)
    assert r.code == code, r.out + r.err
    assert ("6,021,120" in r.out) and (("FAIL" in r.out) == bool(code))


def test_check_max_peak_memory_in_fp16_and_weights_in_int8(cli):
    # fp16 halves the peak: (112²·96 + 56²·96)·2 = 3,010,560 B ≤ 5 MB; int8 weights are one byte
    # per parameter: 3,469,760 B > 3 MiB = 3,145,728 B
    assert cli("check", "mobilenet_v2", "--max-peak-memory", "5MB", "--dtype", "fp16").code == 0
    r = cli("check", "mobilenet_v2", "--max-weights", "3MiB", "--weight-dtype", "int8", "--format", "json")
    assert r.code == 1
    result = r.json()["budgets"][0]["results"][0]
    assert (result["metric"], result["count"], result["limit"]) == ("weights", 3_469_760, 3 * 1024**2)


def test_count_limits_refuse_bytes(cli):
    assert_one_line_error(cli("check", "mobilenet_v2", "--max-params", "3MB"),
                          "--max-params: expected a size like 300M")


@pytest.mark.parametrize("text, why", [
    ("lots", "expected a size like"), ("", "expected a size like"), ("3.5MB", "expected a size like"),
    ("1__0", "expected a size like"), ("_1", "expected a size like"), ("1,23", "expected a size like"),
    ("1.5", "whole number"), ("1.2345K", "= 1,234.5"), ("-5", "≥ 0"), ("1e400", "too large"),
    ("1e-100000000", "whole number"), ("NaN", "expected a size like"), ("inf", "expected a size like"),
    (True, "got true"), (None, "got nothing"), ("9" * 100, "100-character"),
])
def test_bad_sizes_say_what_was_expected(text, why):
    # (a count refuses bytes: "3.5MB" is only a size for a memory limit)
    with pytest.raises(MbcostError, match=why) as e:
        parse_size(text, field="--max-madds")
    assert e.value.field == "--max-madds" and e.value.exit_code == 2


@given(n=st.integers(min_value=0, max_value=10**20))
def test_any_integer_round_trips_in_every_spelling(n):
    assert parse_size(str(n)) == parse_size(f"{n:_}") == parse_size(f"{n:,}") == parse_size(n) == n


@given(n=st.integers(min_value=0, max_value=10**12), suffix=st.sampled_from(["K", "M", "G"]))
def test_suffix_scales_a_decimal_exactly(n, suffix):
    mult = {"K": 10**3, "M": 10**6, "G": 10**9}[suffix]
    # n / 1000 written as a decimal, then the suffix: whole exactly when 1000·n/1000·mult is
    text = str(Decimal(n) / 1000) + suffix
    if n * mult % 1000 == 0:
        assert parse_size(text) == n * mult // 1000
    else:
        with pytest.raises(MbcostError, match="whole number"):
            parse_size(text)


# --- the acceptance checks --------------------------------------------------------------------

def test_v2_within_301M_mult_adds(cli):
    r = cli("check", "mobilenet_v2", "--max-madds", "301M")
    assert r.code == 0, r.err
    # 301,000,000 − 300,774,272 = 225,728 to spare
    assert "mult-adds 300,774,272 ≤ limit 301,000,000" in r.out and "225,728" in r.out


def test_v2_over_300M_mult_adds_says_by_how_much(cli):
    r = cli("check", "mobilenet_v2", "--max-madds", "300M")
    assert r.code == 1
    # 300,774,272 − 300,000,000 = 774,272 over; 774,272 / 300,000,000 = 0.258…% → 0.26%
    line = next(ln for ln in r.out.splitlines() if ln.startswith("FAIL"))
    assert "mobilenet_v2" in line and "mult-adds" in line
    assert "300,774,272" in line and "300,000,000" in line and "774,272" in line and "0.26%" in line


def test_params_limit_is_inclusive(cli):
    assert cli("check", "mobilenet_v2", "--max-params", V2_PARAMS).code == 0
    r = cli("check", "mobilenet_v2", "--max-params", V2_PARAMS - 1)
    assert r.code == 1 and "over by 1 " in r.out


def test_bad_size_is_one_line_exit_2(cli):
    assert_one_line_error(cli("check", "mobilenet_v2", "--max-madds", "lots"), "error: --max-madds: ", "'lots'")


def test_several_limits_each_reported(cli):
    r = cli("check", "mobilenet_v2", "--max-madds", "301M", "--max-params", "3.4M", "--max-flops", "602M")
    assert r.code == 1
    fails = [ln for ln in r.out.splitlines() if ln.startswith("FAIL")]
    # only params: 3,469,760 − 3,400,000 = 69,760 over (2.05%); FLOPs 2 × 300,774,272 = 601,548,544 ≤ 602M
    assert len(fails) == 1 and "parameters" in fails[0] and "69,760" in fails[0] and "2.05%" in fails[0]
    assert "FLOPs 601,548,544 ≤ limit 602,000,000" in r.out


def test_flops_flag_refuses_an_ambiguous_madds_limit(cli):
    assert_one_line_error(cli("check", "mobilenet_v2", "--flops", "--max-madds", "600M"), "--max-flops")
    # FLOPs = 2 × 300,774,272 = 601,548,544 > 600M by 1,548,544
    r = cli("check", "mobilenet_v2", "--flops", "--max-flops", "600M")
    assert r.code == 1 and "over by 1,548,544" in r.out


def test_convention_flags(cli):
    # torchvision's published MobileNetV2 parameter count: 3,504,872
    assert cli("check", "mobilenet_v2", "--profile", "torchvision", "--max-params", "3504872").code == 0
    assert cli("check", "mobilenet_v2", "--profile", "torchvision", "--max-params", "3504871").code == 1
    # V1 with γ, β per BN channel and the classifier bias: BN channels = 32 (conv1) + Σ (M + N) over
    # the 13 pairs = 32 + 96 + 192 + 256 + 384 + 512 + 768 + 5·1024 + 1536 + 2048 = 10,944;
    # 4,209,088 + 2·10,944 + 1,000 = 4,231,976
    assert cli("check", "mobilenet_v1", "--bn", "2", "--bias", "--max-params", "4231976").code == 0
    assert cli("check", "mobilenet_v1", "--bn", "2", "--bias", "--max-params", "4231975").code == 1


def test_nothing_to_check_and_no_arch_are_usage_errors(cli):
    assert cli("check", "mobilenet_v2").code == 2
    assert cli("check").code == 2
    assert_one_line_error(cli("check", "mobilenet_v9", "--max-madds", "1M"), "did you mean 'mobilenet_v2'")


# --- machine formats --------------------------------------------------------------------------

def test_json_parses_back(cli):
    r = cli("check", "mobilenet_v2", "--max-madds", "300M", "--max-params", "3.5M", "--format", "json")
    assert r.code == 1
    d = r.json()
    assert d["ok"] is False and d["checks"] == 2 and d["failures"] == 1
    (b,) = d["budgets"]
    assert b["architecture"] == "mobilenet_v2" and b["alpha"] == 1.0 and b["resolution"] == [224, 224]
    madds, params = b["results"]
    assert madds == {"metric": "madds", "count": V2_MADDS, "limit": 300_000_000, "ok": False,
                     "over": V2_MADDS - 300_000_000, "over_percent": madds["over_percent"]}
    assert madds["over_percent"] == pytest.approx(100 * 774_272 / 300_000_000)
    # 3,469,760 − 3,500,000 = −30,240: headroom
    assert params["ok"] is True and params["over"] == -30_240


def test_markdown_table_parses_back(cli):
    r = cli("check", "mobilenet_v2", "--max-madds", "300M", "--max-params", "3.5M", "--format", "md")
    assert r.code == 1
    rows = [ln for ln in r.out.splitlines() if ln.startswith("| ")]
    header, body = rows[0], rows[1:]
    assert "metric" in header and len(body) == 2
    cells = [[c.strip() for c in row.strip("|").split("|")] for row in body]
    assert cells[0][0] == "❌" and cells[0][2] == "mult-adds" and cells[0][3] == "300,774,272"
    assert cells[0][5] == "+774,272 (+0.26%)"
    assert cells[1][0] == "✅" and cells[1][5] == "-30,240 (-0.86%)"
    assert "1 of 2 checks over budget" in r.out


# --- budgets files ----------------------------------------------------------------------------

def _budgets(tmp_path: Path, text: str, name: str = "budgets.yaml") -> Path:
    f = tmp_path / name
    f.parent.mkdir(parents=True, exist_ok=True)
    f.write_text(text)
    return f


TWO = """\
budgets:
  - arch: mobilenet_v2
    alpha: 1.0
    resolution: 224
    max_madds: 301M
    max_params: 3.5M
  - arch: mobilenet_v1
    name: v1 at half width
    alpha: 0.5
    max_madds: 140M
"""
# MobileNetV1 at α = 0.5, summed from the paper's formulas by _derive.v1_by_hand (149,497,088;
# Table 6 prints 149M): over a 140M limit by 9,497,088
V1_HALF = v1_by_hand(0.5)[0]
V1_HALF_OVER = f"{V1_HALF - 140_000_000:,}"


def test_budgets_file_one_pass_one_fail(cli, tmp_path):
    f = _budgets(tmp_path, TWO)
    r = cli("check", "--budgets", f)
    assert r.code == 1
    fails = [ln for ln in r.out.splitlines() if ln.startswith("FAIL")]
    assert len(fails) == 1 and "v1 at half width (α 0.5, 224×224)" in fails[0]
    assert V1_HALF_OVER in fails[0]
    assert "OVER BUDGET" in r.out and "v1 at half width" in r.out.splitlines()[-1]


def test_budgets_junit_has_one_failure(cli, tmp_path):
    f = _budgets(tmp_path, TWO)
    r = cli("check", "--budgets", f, "--format", "junit")
    assert r.code == 1
    root = ET.fromstring(r.out)
    cases = root.findall(".//testcase")
    # one testcase per architecture × metric: v2 madds, v2 params, v1 madds
    assert len(cases) == 3 and root.get("tests") == "3" and root.get("failures") == "1"
    failures = root.findall(".//testcase/failure")
    assert len(failures) == 1
    failed = next(c for c in cases if c.find("failure") is not None)
    assert failed.get("name") == "v1 at half width (α 0.5, 224×224): mult-adds"
    assert V1_HALF_OVER in failures[0].get("message") and "140,000,000" in failures[0].get("message")


def test_junit_escapes_names(cli, tmp_path):
    f = _budgets(tmp_path, 'budgets:\n  - {arch: mobilenet_v2, name: "a<b & \\"c\\"", max_params: 1}\n')
    r = cli("check", "--budgets", f, "--format", "junit")
    case = ET.fromstring(r.out).find(".//testcase")
    assert case.get("name").startswith('a<b & "c"')


def test_budgets_arch_is_relative_to_the_budgets_file(cli, tmp_path):
    nets = tmp_path / "nets"
    nets.mkdir()
    (nets / "tiny.yaml").write_text("input: {resolution: 8, channels: 3}\n"
                                    "layers:\n  - {kind: conv, c: 4, k: 3, s: 1}\n")
    # 3·3·3·4·8² = 6,912 mult-adds; 3·3·3·4 = 108 weights
    f = _budgets(tmp_path, "budgets:\n  - {arch: ../nets/tiny.yaml, max_madds: 6912, max_params: 108}\n",
                 "ci/budgets.yaml")
    assert cli("check", "--budgets", f).code == 0
    f.write_text("budgets:\n  - {arch: ../nets/tiny.yaml, max_madds: 6911}\n")
    assert cli("check", "--budgets", f).code == 1


def test_budgets_convention_keys(cli, tmp_path):
    f = _budgets(tmp_path, "budgets:\n"
                 "  - {arch: mobilenet_v2, profile: torchvision, max_params: 3504872}\n"
                 "  - {arch: mobilenet_v1, bn: 2, bias: true, max_params: 4231976}\n")
    r = cli("check", "--budgets", f, "--format", "json")
    assert r.code == 0, r.out
    assert [(b["convention"]["profile"], b["convention"]["modified"]) for b in r.json()["budgets"]] == \
        [("torchvision", False), ("paper", True)]


@pytest.mark.parametrize("text, where, message", [
    ("budgets:\n  - arch: mobilenet_v2\n    max_mads: 1M\n", "3:5: budgets[0].max_mads",
     "did you mean 'max_madds'?"),
    ("budgets:\n  - arch: mobilenet_v2\n    max_madds: lots\n", "3:16: budgets[0].max_madds",
     "expected a size like"),
    ("budgets:\n  - arch: mobilenet_v3\n    max_madds: 1M\n", "2:11: budgets[0].arch",
     "did you mean 'mobilenet_v2'?"),
    ("budgets:\n  - arch: nets/missing.yaml\n    max_madds: 1M\n", "2:11: budgets[0].arch", "no such file"),
    ("budgets:\n  - arch: mobilenet_v2\n    alpha: 0\n    max_madds: 1M\n", "3:12: budgets[0].alpha",
     "α > 0"),
    ("budgets:\n  - arch: mobilenet_v2\n    profile: tv\n    max_madds: 1M\n", "3:14: budgets[0].profile",
     "expected one of paper, torchvision, keras"),
    ("budgets:\n  - arch: mobilenet_v2\n    bn: 5\n    max_madds: 1M\n", "3:9: budgets[0].bn",
     "expected 0, 1, 2, 3 or 4 numbers per batch-norm channel, got 5"),
    ("budgets:\n  - arch: mobilenet_v2\n    resolution: 224\n    rho: 0.5\n    max_madds: 1M\n",
     "4:10: budgets[0].rho", "not both"),
    ("budgets:\n  - arch: mobilenet_v2\n", "2:5: budgets[0]", "no limit"),
    ("budgets:\n  - max_madds: 1M\n", "2:5: budgets[0]", "missing 'arch'"),
    ("budgets: []\n", "1:10: budgets", "non-empty list"),
    ("budget:\n  - arch: mobilenet_v2\n", "1:1: budget", "did you mean 'budgets'?"),
    ("budgets: [\n", "", "invalid YAML"),
])
def test_budgets_file_errors_name_file_line_column_and_field(cli, tmp_path, text, where, message):
    f = _budgets(tmp_path, text)
    out = tmp_path / "report.xml"
    line = assert_one_line_error(cli("check", "--budgets", f, "--format", "junit", "--output", out), message)
    assert line.startswith(f"error: {f}:{where}") and not out.exists()


def test_budgets_file_unreadable(cli, tmp_path):
    assert_one_line_error(cli("check", "--budgets", tmp_path / "nope.yaml"), "no such file")


def test_budgets_excludes_single_arch_flags(cli, tmp_path):
    f = _budgets(tmp_path, TWO)
    assert_one_line_error(cli("check", "--budgets", f, "--alpha", "0.5", "--max-madds", "1M"),
                          "drop --alpha, --max-madds")
    # every convention and memory flag typed is named, as typed, in the order of --help
    run = cli("check", "--budgets", f, "--device", "pixel1", "--bottleneck-chunks", "4", "--no-bias",
              "--profile", "keras", "--flops", "--dtype", "fp16")
    assert_one_line_error(run, "drop --device, --profile, --bias/--no-bias, --flops, --dtype, --bottleneck-chunks")
    assert_one_line_error(cli("check", "--budgets", f, "--classes", "10", "--bn", "0", "--act-dtype", "int8",
                              "--weight-dtype", "fp16"),
                          "drop --classes, --bn, --act-dtype, --weight-dtype")


def test_library_check_returns_dataclasses(tmp_path):
    f = _budgets(tmp_path, TWO)
    budgets = load_budgets(f)
    assert [b.name for b in budgets] == ["mobilenet_v2", "v1 at half width"]
    assert budgets[0].limits == (Limit("madds", 301_000_000), Limit("params", 3_500_000))
    run = check(budgets)
    assert not run.ok and len(run.failures) == 1
    result, outcome = run.failures[0]
    assert result.budget.name == "v1 at half width"
    assert (outcome.count, outcome.limit, outcome.over) == (V1_HALF, 140_000_000, V1_HALF - 140_000_000)
    single = check([Budget("v2", "mobilenet_v2", (Limit("params", V2_PARAMS),))])
    assert single.ok and single.results[0].outcomes[0].over == 0


# --- --output, GITHUB_STEP_SUMMARY ------------------------------------------------------------

def test_output_written_even_when_over_budget(cli, tmp_path):
    out = tmp_path / "junit.xml"
    r = cli("check", "mobilenet_v2", "--max-madds", "300M", "-f", "junit", "-o", out)
    assert r.code == 1
    assert len(ET.parse(out).getroot().findall(".//failure")) == 1
    # stdout still has the plain summary for the CI log
    assert r.out.startswith("FAIL") and "774,272" in r.out


def test_output_never_written_or_clobbered_on_bad_input(cli, tmp_path):
    out = tmp_path / "report.json"
    assert cli("check", "mobilenet_v2", "--max-madds", "lots", "-f", "json", "-o", out).code == 2
    assert not out.exists()
    out.write_text("previous")
    assert cli("check", "mobilenet_v2", "--max-madds", "1M", "--alpha", "0", "-f", "json", "-o", out).code == 2
    assert out.read_text() == "previous"
    assert cli("check", "mobilenet_v2", "--max-madds", "1M", "-o", tmp_path / "no" / "x.json").code == 2


def test_step_summary_is_appended(cli, tmp_path, monkeypatch):
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    r = cli("check", "mobilenet_v2", "--max-madds", "300M", "--max-params", "3.5M")
    assert r.code == 1
    text = summary.read_text()
    assert text.startswith("earlier step\n")
    assert "### mbcost budget check: ❌ 1 of 2 checks over budget" in text
    assert "| ❌ | mobilenet_v2 (α 1.0, 224×224) | mult-adds | 300,774,272 | 300,000,000 |" in text
    assert cli("check", "mobilenet_v2", "--max-madds", "301M").code == 0
    assert summary.read_text().count("### mbcost budget check") == 2


def test_step_summary_not_written_on_bad_input(cli, tmp_path, monkeypatch):
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    assert cli("check", "mobilenet_v2", "--max-madds", "lots").code == 2
    assert not summary.exists()


def test_unwritable_step_summary_warns_but_keeps_the_verdict(cli, tmp_path, monkeypatch):
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "missing-dir" / "summary.md"))
    r = cli("check", "mobilenet_v2", "--max-madds", "301M")
    assert r.code == 0 and "warning: cannot append to GITHUB_STEP_SUMMARY" in r.err


# --- baseline ---------------------------------------------------------------------------------

def _wider_v1(tmp_path: Path) -> Path:
    """MobileNetV1 with the five 14×14 separable rows widened from 512 to 640 channels."""
    text = (ROOT / "configs" / "mobilenet_v1.yaml").read_text()
    assert "c: 512,  s: 1, n: 5" in text
    f = tmp_path / "wide.yaml"
    f.write_text(text.replace("c: 512,  s: 1, n: 5", "c: 640,  s: 1, n: 5"))
    return f


# Growth at 14×14 (D_F² = 196): block8–11.pw 640·640 − 512·512 = 147,456 weights → 28,901,376 madds each;
# block7.pw 512·(640 − 512) = 65,536 → 12,845,056; block8–11.dw 9·128·196 = 225,792 each;
# block12 at 7×7: dw 9·128·49 = 56,448, pw 128·1024·49 = 6,422,528.
# Total: 4·28,901,376 + 12,845,056 + 4·225,792 + 56,448 + 6,422,528 = 135,832,704.
GROWTH_TOTAL = 4 * 28_901_376 + 12_845_056 + 4 * 225_792 + 56_448 + 6_422_528


def test_baseline_lists_the_layers_that_grew_most(cli, tmp_path):
    wide = _wider_v1(tmp_path)
    # limit = V1's own 568,740,352, so the overshoot is exactly the growth
    r = cli("check", wide, "--max-madds", "568740352", "--baseline", "mobilenet_v1")
    assert r.code == 1
    assert f"over by {GROWTH_TOTAL:,}" in r.out and f"+{GROWTH_TOTAL:,} mult-adds in total" in r.out
    grown = [ln.split() for ln in r.out.splitlines() if ln.startswith("        ")]
    assert [g[0] for g in grown] == ["block8.pw", "block9.pw", "block10.pw", "block11.pw", "block7.pw"]
    assert [g[1] for g in grown] == ["+28,901,376"] * 4 + ["+12,845,056"]


def test_baseline_in_json_and_budgets_file(cli, tmp_path):
    _wider_v1(tmp_path)
    f = _budgets(tmp_path, "budgets:\n  - {arch: wide.yaml, baseline: mobilenet_v1, max_madds: 600M}\n")
    r = cli("check", "--budgets", f, "--format", "json")
    assert r.code == 1
    (b,) = r.json()["budgets"]
    assert b["baseline"]["delta"]["madds"] == GROWTH_TOTAL
    assert b["results"][0]["grew_most"][0] == {"layer": "block8.pw", "was": "block8.pw",
                                               "status": "changed", "delta": 28_901_376}
    md = cli("check", "--budgets", f, "--format", "md").out
    assert "layers that grew most since `mobilenet_v1`" in md and "| `block8.pw` | changed | +28,901,376 |" in md


# --- integrations -----------------------------------------------------------------------------

def test_pre_commit_hook_runs_the_budget_check(cli, tmp_path, monkeypatch):
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    (hook,) = [h for h in hooks if h["id"] == "mbcost-check"]
    assert hook["language"] == "python" and hook["pass_filenames"] is False
    argv = shlex.split(hook["entry"]) + hook["args"]
    assert argv[0] == "mbcost"
    # run it as pre-commit would, from a repository root holding the default budgets file
    monkeypatch.chdir(tmp_path)
    Path(hook["args"][-1]).write_text(TWO.replace("140M", "150M"))
    assert cli(*argv[1:]).code == 0
    Path(hook["args"][-1]).write_text(TWO)
    assert cli(*argv[1:]).code == 1


def test_every_package_is_installed_by_a_regular_install():
    # pre-commit and the CI workflow install mbcost with plain pip (not editable): a package
    # missing from pyproject's list (mbcost.cli once was) installs a console script that cannot start
    import tomllib

    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "mbcost").rglob("__init__.py")}
    assert found <= listed


def _readme_workflow() -> dict:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Budgets in CI", 1)[1].split("\n## ", 1)[0]
    blocks = [b.split("```", 1)[0] for b in section.split("```yaml\n")[1:]]
    (workflow,) = [yaml.safe_load(b) for b in blocks if "jobs:" in b]
    return workflow


def test_readme_workflow_runs_the_check_and_publishes_junit(cli, tmp_path, monkeypatch):
    wf = _readme_workflow()
    (job,) = wf["jobs"].values()
    steps = job["steps"]
    run = next(s for s in steps if "mbcost check" in s.get("run", ""))
    argv = shlex.split(run["run"])
    assert argv[:3] == ["mbcost", "check", "--budgets"] and "junit" in argv
    report = argv[argv.index("--output") + 1]
    publish = steps[steps.index(run) + 1:]
    assert any(report in json.dumps(s.get("with", {})) and "always()" in s.get("if", "") for s in publish)
    # the command itself works on a budgets file
    monkeypatch.chdir(tmp_path)
    Path(argv[3]).write_text(TWO)
    r = cli(*argv[1:])
    assert r.code == 1 and len(ET.parse(report).getroot().findall(".//failure")) == 1


def test_docs_budgets_example_is_valid(cli, tmp_path, monkeypatch):
    doc = (ROOT / "docs" / "ci.md").read_text()
    example = doc.split("<!-- budgets-example -->", 1)[1].split("```yaml\n", 1)[1].split("```", 1)[0]
    monkeypatch.chdir(tmp_path)
    (tmp_path / "configs").mkdir()
    _wider_v1(tmp_path).rename(tmp_path / "configs" / "my_net.yaml")
    Path("budgets.yaml").write_text(example)
    assert [b.name for b in load_budgets("budgets.yaml")] == ["mobilenet_v2", "my_net (phone)", "mobilenet_v1"]
    r = cli("check", "--budgets", "budgets.yaml", "--format", "json")
    # the widened V1 at α = 0.5 costs about a quarter of its 704,573,056 (V1 + 135,832,704): > 140M
    assert r.code == 1, r.err
    assert [(b["name"], b["ok"]) for b in r.json()["budgets"]] == [
        ("mobilenet_v2", True), ("my_net (phone)", False), ("mobilenet_v1", True)]
