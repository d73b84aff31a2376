"""Output formats as data: every command's --format/--output behave alike, and every saved
output says what was counted (schema_version, mbcost's version, α, H×W, the full convention)."""
import csv
import io
import json

import pytest

import mbcost
from mbcost.render.formats import FORMATS, RENDERERS, SCHEMA_VERSION

from _derive import FP32
from conftest import assert_one_line_error

# one invocation per command that succeeds (exit 0) on a built-in
RUNS = {
    "report": ["report", "mobilenet_v2"],
    "sweep": ["sweep", "mobilenet_v1", "-a", "1,0.5", "-r", "224,160"],
    "verify": ["verify", "mobilenet_v1"],
    "check": ["check", "mobilenet_v2", "--max-madds", "301M"],
    "diff": ["diff", "mobilenet_v1", "mobilenet_v1_shallow"],
    "reproduce": ["reproduce", "--source", "v1-paper"],
    "fit": ["fit", "mobilenet_v2", "--max-madds", "150M"],
    "latency": ["latency", "fit", "tests/data/measured_pixel1.csv"],  # 4 of TF-slim's Pixel-1 latencies
    "compare": ["compare", "mobilenet_v2"],
    "list": ["list"],
    "multiscale": ["report", "mobilenet_v2", "--scales", "0.5,1", "--flip"],  # report's multi-scale result
}
PAPER = {"profile": "paper", "modified": False, "bn": 0, "bias": False, "classes": 1000, "compute": "madds", **FP32}


def test_every_command_is_covered():
    assert set(RUNS) == set(RENDERERS)


@pytest.mark.parametrize("command", sorted(RENDERERS))
def test_json_says_what_was_counted(cli, command):
    r = cli(*RUNS[command], "--format", "json")
    assert r.code == 0, r.err
    d = r.json()
    assert (d["schema_version"], d["mbcost_version"], d["command"]) == (SCHEMA_VERSION, mbcost.__version__,
                                                                         RUNS[command][0])
    if command == "list":  # names, titles and sources: nothing is counted, so no convention
        assert "mobilenet_v2" in {b["name"] for b in d["builtins"]}
        return
    # the full convention wherever a count was made: top level, per budget, per side, per entry
    conventions = {"report": lambda: [d["convention"]], "sweep": lambda: [d["convention"]],
                   "verify": lambda: [d["convention"]], "diff": lambda: [d["convention"], d["a"]["convention"]],
                   "check": lambda: [b["convention"] for b in d["budgets"]],
                   "reproduce": lambda: [e["convention"] for e in d["entries"]],
                   "fit": lambda: [d["convention"]], "latency": lambda: [d["convention"]],
                   "compare": lambda: [d["convention"]], "multiscale": lambda: [d["convention"]]}[command]()
    assert conventions and all(set(c) == set(PAPER) for c in conventions)
    if command in ("report", "verify"):
        assert d["convention"] == PAPER and d["resolution"] == [224, 224] and d["alpha"] == 1.0


@pytest.mark.parametrize("command,fmt", [(c, f) for c in sorted(RENDERERS) for f in RENDERERS[c]])
def test_output_extension_picks_the_format(cli, tmp_path, command, fmt):
    out = tmp_path / f"result{FORMATS[fmt].extensions[0]}"  # each format's own (first) extension
    r = cli(*RUNS[command], "-o", out)
    assert r.code == 0, r.err
    text = out.read_text()
    assert text == cli(*RUNS[command], "--format", fmt, "-o", tmp_path / "again").out or \
        text == (tmp_path / "again").read_text()
    if fmt == "json":
        assert json.loads(text)["command"] == RUNS[command][0]
    elif fmt == "csv":
        assert len(list(csv.reader(io.StringIO(text)))) > 1
    elif fmt == "md":
        assert "\n|---" in text or "|---" in text
    elif fmt == "latex":
        assert "\\begin{tabular}" in text and "\\bottomrule" in text
    elif fmt == "junit":
        assert text.startswith("<?xml")


@pytest.mark.parametrize("command", sorted(RENDERERS))
def test_a_format_that_contradicts_the_extension_is_exit_2_and_writes_nothing(cli, tmp_path, command):
    out = tmp_path / "r.json"
    r = cli(*RUNS[command], "--format", "md", "-o", out)
    assert_one_line_error(r, "--format", "contradicts the output file 'r.json'")
    assert not out.exists()


def test_a_format_the_command_does_not_write_is_exit_2(cli, tmp_path):
    assert_one_line_error(cli("verify", "mobilenet_v1", "-o", tmp_path / "v.tex"), "verify does not write latex")
    assert_one_line_error(cli("report", "mobilenet_v1", "--format", "junit"), "expected one of table, json")
    assert not (tmp_path / "v.tex").exists()


def test_unknown_extension_writes_the_table(cli, tmp_path):
    out = tmp_path / "report.log"
    assert cli("report", "mobilenet_v1", "-o", out).code == 0
    assert out.read_text().startswith("mobilenet_v1  α = 1.0  224×224 input")


def test_report_csv_rows_carry_their_setting(cli):
    rows = list(csv.DictReader(io.StringIO(cli("report", "mobilenet_v2", "--alpha", "0.75", "--profile",
                                               "torchvision", "--bn", "0", "-f", "csv").out)))
    assert {(r["architecture"], r["alpha"], r["resolution"], r["convention"]) for r in rows} == \
        {("mobilenet_v2", "0.75", "224x224", "torchvision*;bn=0;bias=1;classes=1000;madds")}
    # the rows still add up to the engine's totals: 209,069,792 mult-adds at α = 0.75 (README)
    assert sum(int(r["madds"]) for r in rows) == 209_069_792


def test_check_text_format_keeps_its_old_name(cli):
    r = cli("check", "mobilenet_v2", "--max-madds", "301M", "--format", "text")
    assert r.code == 0 and r.out.startswith("ok")


def test_version(cli):
    r = cli("--version")
    assert r.code == 0 and r.out == f"mbcost {mbcost.__version__}\n"


def test_print_shows_the_table_and_repr_is_one_line():
    r = mbcost.analyze("mobilenet_v1", alpha="0.5")
    assert str(r).startswith("mobilenet_v1  α = 0.5  224×224 input  ·  paper (bn=0, no bias, 1000 classes)")
    # 149,497,088 mult-adds and 1,319,648 params at α = 0.5: the V1 paper's Table 6 (149M, 1.3M)
    assert repr(r) == ("<Report mobilenet_v1 α=0.5 224×224: 149,497,088 mult-adds, 1,319,648 params, "
                       "paper (bn=0, no bias, 1000 classes)>")
    g = mbcost.sweep_grid("mobilenet_v1", alphas=[1, 0.5], resolutions=[224])
    assert "569" in str(g) and "149" in str(g)
