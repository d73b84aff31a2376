"""`mbcost report` through the CLI, as a user (or a script reading its output) sees it."""
import csv
import io
import subprocess
import sys
from pathlib import Path

from conftest import ROOT


def test_table_shows_every_layer_totals_and_breakdown(cli):
    r = cli("report", "mobilenet_v1")
    assert r.code == 0
    lines = r.out.splitlines()
    # conv1 + 13 × (dw, pw) + pool + fc = 29 layer rows, each named at the start of a line
    names = [ln.split()[0] for ln in lines if ln.startswith(("conv", "block", "pool", "fc"))]
    assert len(names) == 29 and names[:3] == ["conv1", "block1.dw", "block1.pw"]
    assert "568.7M" in r.out and "4.21M" in r.out
    total = next(ln for ln in lines if "mult-adds (" in ln)
    assert "568,740,352 mult-adds" in total and "4,209,088 parameters" in total
    row = next(ln for ln in lines if ln.startswith("Conv 1×1"))
    assert "94.86%" in row and "74.59%" in row


def test_csv_has_exact_integers_that_sum_to_the_total(cli):
    r = cli("report", "mobilenet_v2", "--alpha", "0.75", "--format", "csv")
    assert r.code == 0
    rows = list(csv.DictReader(io.StringIO(r.out)))
    assert rows[0]["name"] == "conv1" and rows[0]["kernel"] == "3x3" and rows[0]["stride"] == "2x2"
    # conv1 at α = 0.75: make_divisible(24) = 24 channels: 3·3·3·24·112² = 8,128,512
    assert int(rows[0]["madds"]) == 3 * 3 * 3 * 24 * 112 * 112
    assert sum(int(x["madds"]) for x in rows) == cli("report", "mobilenet_v2", "--alpha", "0.75",
                                                    "--format", "json").json()["totals"]["madds"]


def test_json_contract(cli):
    d = cli("report", "mobilenet_v2", "--format", "json").json()
    assert set(d) >= {"architecture", "alpha", "resolution", "totals", "layers", "by_kind"}
    assert d["architecture"] == "mobilenet_v2" and d["alpha"] == 1.0 and d["resolution"] == [224, 224]
    # peak at block2.dw: its 112²×96 input and 56²×96 output, fp32; weights 4 B per parameter
    assert d["totals"] == {"madds": 300_774_272, "flops": 2 * 300_774_272, "params": 3_469_760,
                           "peak_activation_bytes": (112 * 112 * 96 + 56 * 56 * 96) * 4,
                           "weight_bytes": 3_469_760 * 4}
    kinds = {layer["kind"] for layer in d["layers"]}
    assert kinds == {"conv", "dwconv", "fc", "pool", "add"}
    for layer in d["layers"]:
        assert set(layer) >= {"name", "kind", "kernel", "stride", "groups", "input_shape",
                              "output_shape", "madds", "params"}
        assert isinstance(layer["madds"], int) and isinstance(layer["params"], int)
    expand = next(x for x in d["layers"] if x["name"] == "block3.expand")
    # 56×56×24 → 1×1 conv to 6·24 = 144: 24·144·56² = 10,838,016
    assert expand == {**expand, "kind": "conv", "kernel": 1, "stride": 1, "groups": 1,
                      "input_shape": [56, 56, 24], "output_shape": [56, 56, 144],
                      "madds": 24 * 144 * 56 * 56, "params": 24 * 144}
    add = next(x for x in d["layers"] if x["name"] == "block3.add")
    assert add["inputs"] == ["block3.project", "block2.project"] and add["madds"] == 0
    assert sum(k["madds"] for k in d["by_kind"]) == d["totals"]["madds"]


def test_non_square_kernel_is_a_pair_in_json(cli, tmp_path):
    f = tmp_path / "ns.yaml"
    f.write_text("input: {resolution: [32, 16], channels: 8}\n"
                 "layers:\n  - {kind: conv, c: 4, k: [1, 7], s: [1, 2]}\n")
    d = cli("report", f, "--format", "json").json()
    layer = d["layers"][0]
    assert layer["kernel"] == [1, 7] and layer["stride"] == [1, 2]
    # D_F = 32 × ⌈16/2⌉ = 32×8; 1·7·8·4·32·8 = 57,344
    assert layer["output_shape"] == [32, 8, 4] and layer["madds"] == 1 * 7 * 8 * 4 * 32 * 8
    assert d["resolution"] == [32, 16]


def test_rho_gives_a_rounded_resolution(cli):
    # round(0.714 · 224) = round(159.94) = 160; --rho with --resolution is in test_errors.FLAG_CASES
    assert cli("report", "mobilenet_v1", "--rho", "0.714", "-f", "json").json()["resolution"] == [160, 160]


def test_output_file_is_written_only_on_success(cli, tmp_path):
    out = tmp_path / "v1.json"
    assert cli("report", "mobilenet_v1", "-f", "json", "-o", out).code == 0
    assert '"madds": 568740352' in out.read_text()
    before = out.read_bytes()
    r = cli("report", "mobilenet_v1", "--alpha", "-1", "-f", "json", "-o", out)
    assert r.code == 2 and out.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["v1.json"]  # no temporary left behind


def test_python_dash_m_and_console_script_agree():
    """The installed console script and ``python -m mbcost`` are the same program: same stdout,
    stderr and exit code, on success and on bad input."""
    script = Path(sys.executable).with_name("mbcost")  # installed next to the interpreter
    assert script.is_file(), f"no console script at {script}: is mbcost installed in this environment?"

    def run(*argv):
        p = subprocess.run([*argv], capture_output=True, text=True, cwd=ROOT)
        return p.returncode, p.stdout, p.stderr

    results = {}
    for args in (["report", "mobilenet_v1", "--format", "json"], ["report", "mobilenet_v3"]):
        results[args[1]] = run(script, *args)
        assert results[args[1]] == run(sys.executable, "-m", "mbcost", *args), args
    code, out, err = results["mobilenet_v1"]
    assert (code, err) == (0, "") and '"madds": 568740352' in out
    code, out, err = results["mobilenet_v3"]
    assert (code, out) == (2, "") and err.startswith("error: unknown architecture 'mobilenet_v3'")
