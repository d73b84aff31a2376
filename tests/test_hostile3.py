"""Hostile input, round 3 (issue 26): each class broken by the third round of probes, fixed at
its root, with generated instances of the class and not only the probes' examples.

The ONNX importer's classes (silent subgraph counts, its exits 3, its resource bounds and
external data) are tested with the importer (tests/test_onnx*.py). Resource tests here run
under a memory cap (RLIMIT_AS, in a child process) and a time cap (an alarm) set in the test
itself, so a regression fails the test instead of swapping or hanging the suite.
"""
from __future__ import annotations

import json
from fractions import Fraction
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import ROOT, assert_one_line_error

import mbcost
from mbcost.errors import MbcostError

# --- 7. names that drive the terminal -----------------------------------------------------------

# ESC and two OSC sequences (the terminal's title; OSC 52 writes the clipboard), BEL, a colour,
# the 8-bit CSI, a right-to-left override, CR, tab, and a newline that would start a line "TAIL"
NASTY = "n\x1b]0;T\x07\x1b]52;c;eA==\x07\x1b[31m\x9b\u202e\r\tX\nTAIL"
# what may never reach a text output raw: every control character but the line breaks, the
# line separators and the bidirectional controls
RAW = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _net(name: str, c: int) -> str:
    """An architecture whose own name, layer names and block name (so its instances' scope) hold
    ``name``: a conv, a separable pair named ``name``, a block call, the classifier."""
    q, blk = json.dumps(name), json.dumps("blk" + name)
    return (f"name: {q}\ninput: {{resolution: 32, channels: 3}}\nblocks:\n  {blk}:\n    rows:\n"
            f"      - {{kind: conv, c: {c}, k: 1, name: {json.dumps('in' + name)}}}\nlayers:\n"
            f"  - {{kind: conv, c: 8, k: 3, s: 2, name: {json.dumps('stem' + name)}}}\n"
            f"  - {{kind: separable, c: {c}, name: {q}}}\n  - {{kind: {blk}}}\n  - {{kind: fc, c: 10}}\n")


@pytest.fixture
def nasty(tmp_path, monkeypatch):
    """Two versions of the hostile network (a and b differ in width), a budgets file, a
    published-numbers file and a device profile whose names hold NASTY; run from their folder."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.yaml").write_text(_net(NASTY, 16))
    (tmp_path / "b.yaml").write_text(_net(NASTY, 32))
    q = json.dumps(NASTY)
    (tmp_path / "budgets.yaml").write_text(
        f"budgets:\n  - {{arch: b.yaml, baseline: a.yaml, name: {q}, max_madds: 1000}}\n")
    (tmp_path / "published.yaml").write_text(
        f"sources:\n  s: {{citation: {q}}}\ntables:\n  - source: s\n    table: {q}\n    architecture: a.yaml\n"
        f"    note: {q}\n    rows:\n      - {{label: {q}, madds: \"1\", explained: {{madds: {q}}}}}\n"
        f"      - {{label: {q}, madds: \"2\", note: {q}}}\n")
    pixel1 = (ROOT / "mbcost" / "analyses" / "devices" / "pixel1.yaml").read_text()
    (tmp_path / "device.yaml").write_text(pixel1.replace("name: pixel1", f"name: {q}")
                                          .replace("build: tflite-2019", f"build: {q}"))
    return tmp_path


# every command that prints user text, in every format it writes (export writes ONNX, list only
# the built-ins)
HOSTILE_RUNS = {
    "report": (["report", "a.yaml"], "table md csv latex json html"),
    "report-device": (["report", "a.yaml", "--device", "device.yaml"], "table md csv json"),
    "verify": (["verify", "a.yaml"], "table md json html"),
    "sweep": (["sweep", "a.yaml", "--alpha", "1,0.5"], "table md csv latex json html"),
    "diff": (["diff", "a.yaml", "b.yaml", "--all"], "table md latex json html"),
    "check": (["check", "b.yaml", "--max-madds", "1000", "--baseline", "a.yaml"], "table md json junit html"),
    "check-budgets": (["check", "--budgets", "budgets.yaml"], "table md json junit html"),
    "fit": (["fit", "a.yaml", "--max-madds", "1G"], "table md csv json"),
    "compare": (["compare", "a.yaml"], "table md csv latex json html"),
    "reproduce": (["reproduce", "--data", "published.yaml"], "table md csv latex json html"),
}


def _hostile_params():
    for key, (argv, formats) in HOSTILE_RUNS.items():
        for fmt in formats.split():
            yield pytest.param(argv, fmt, id=f"{key}-{fmt}")


@pytest.mark.parametrize("argv, fmt", list(_hostile_params()))
def test_names_never_reach_an_output_raw(cli, nasty, argv, fmt):
    run = cli(*argv, "--format", fmt)
    assert run.code in (0, 1), run.err  # check fails its budget (1)
    out = run.out
    # the vendored scripts of a page are ours (dagre uses \x01 as a separator); the data is not
    text = re.sub(r"(?s)<script>.*?</script>", "", out) if fmt == "html" else out
    raw = RAW.search(text)
    assert raw is None, f"raw {raw.group()!r} in {text[max(0, raw.start() - 60):raw.start() + 20]!r}"
    assert "\nTAIL" not in out and not out.startswith("TAIL"), "a newline in a name split a line"
    if fmt == "json":  # JSON keeps the names exact: escaped by the format, read back as written
        folded = " ".join(NASTY.split())  # published-numbers text is folded into one line when read
        assert any(NASTY in t or folded in t for t in _strings(json.loads(out)))
    elif fmt == "latex":  # a person sees where each control character was
        assert r"n\textbackslash{}x1b]0;T\textbackslash{}x07" in out
    elif fmt != "html":
        assert r"n\x1b]0;T\x07\x1b]52;c;eA==\x07\x1b[31m\x9b\u202e" in out.replace("\\\\", "\\")


def _strings(doc):
    if isinstance(doc, str):
        yield doc
    elif isinstance(doc, dict):
        for v in doc.values():
            yield from _strings(v)
    elif isinstance(doc, list):
        for v in doc:
            yield from _strings(v)


# the renderers themselves, styled for a terminal, before the output-wide pass: only styles
@pytest.mark.parametrize("command, make", [
    ("report", lambda: mbcost.analyze("a.yaml")),
    ("verify", lambda: __import__("mbcost.analyses.verify", fromlist=["x"]).verify("a.yaml")),
    ("diff", lambda: __import__("mbcost.analyses.diff", fromlist=["x"]).diff_reports(
        mbcost.analyze("a.yaml"), mbcost.analyze("b.yaml"))),
    ("compare", lambda: __import__("mbcost.analyses.compare", fromlist=["x"]).compare("a.yaml")),
    ("sweep", lambda: mbcost.sweep_grid("a.yaml", alphas=[1, 0.5])),
], ids=["report", "verify", "diff", "compare", "sweep"])
def test_styled_tables_hold_only_styles(nasty, command, make):
    from mbcost.render.formats import renderer

    out = renderer(command, "table")(make(), styled=True, width=200)
    without_styles = re.sub(r"\x1b\[[0-9;]*m", "", out)
    raw = RAW.search(without_styles)
    assert raw is None, f"raw {raw.group()!r} in {without_styles[max(0, raw.start() - 60):raw.start() + 20]!r}"
    assert "\nTAIL" not in without_styles


def test_a_figure_holds_no_control_character(cli, nasty):
    pytest.importorskip("matplotlib")
    run = cli("plot", "diff", "a.yaml", "b.yaml", "-o", "d.svg")
    assert run.code == 0 and run.err == "", run.err
    svg = (nasty / "d.svg").read_text()
    assert RAW.search(svg) is None and r"\x1b]0;T\x07" in svg


def test_error_lines_use_the_same_sanitiser(cli, tmp_path):
    from mbcost.render.text import printable

    bad = tmp_path / "n\x1b]0;T\x07\u202e.yaml"
    run = cli("report", bad)
    line = assert_one_line_error(run, "no such file")
    assert printable(str(bad)) in line and RAW.search(line) is None


# generated names: any mix of control characters and text, through the three text formats
CONTROLS = [chr(c) for c in (*range(0x20), *range(0x7F, 0xA0), 0x2028, 0x2029, *range(0x202A, 0x202F),
                             *range(0x2066, 0x206A))]
NAMES = st.text(st.sampled_from(CONTROLS) | st.sampled_from("ab.|_\\`$[]<>&é"), min_size=1, max_size=12) \
    .filter(lambda s: s.strip() and s.strip(".") and not s.startswith("."))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=NAMES)
def test_generated_names_are_escaped_in_text_md_and_csv(tmp_path_factory, name):
    from mbcost.render.formats import render
    from mbcost.render.text import printable

    f = tmp_path_factory.mktemp("names") / "net.yaml"
    f.write_text(_net(name, 16), encoding="utf-8")
    try:
        report = mbcost.analyze(f)
    except MbcostError:
        return  # a name the reader refuses (a NUL in YAML): refused, as it should be
    for fmt in ("table", "md", "csv"):
        out = "".join(render("report", fmt, report))
        assert RAW.search(out) is None, (fmt, name, out[:300])
        if fmt == "csv":  # no row was split by a newline in a name: a header and one line per layer
            assert len(out.split("\n")) == 1 + len(report.layers) + 1, (name, out)
    assert printable(report.layers[0].name) in "".join(render("report", "table", report))


# --- 6. plot -o through the one atomic writer ---------------------------------------------------

SMALL = "input: {resolution: 16, channels: 3}\nlayers:\n  - {kind: conv, c: 8, k: 3, s: 2}\n  - {kind: fc, c: 10}\n"


@pytest.fixture
def small(tmp_path):
    f = tmp_path / "small.yaml"
    f.write_text(SMALL)
    return f


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_plot_into_a_full_device_is_one_line_and_keeps_the_link(cli, tmp_path, small):
    pytest.importorskip("matplotlib")
    link = tmp_path / "full.png"
    link.symlink_to("/dev/full")
    assert_one_line_error(cli("plot", "layers", small, "-o", link), f"error: --output: cannot write {link}",
                          "No space left on device")
    assert link.is_symlink() and str(link.readlink()) == "/dev/full"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["full.png", "small.yaml"]  # no temporary left


def test_plot_through_a_symlink_replaces_the_target_and_keeps_the_link(cli, tmp_path, small):
    pytest.importorskip("matplotlib")
    target, link = tmp_path / "real.svg", tmp_path / "link.svg"
    target.write_text("old")
    link.symlink_to(target)
    assert cli("plot", "layers", small, "-o", link).code == 0
    assert link.is_symlink() and target.read_text().startswith("<?xml")


def test_plot_into_a_fifo_writes_into_it_and_keeps_it_a_fifo(cli, tmp_path, small):
    import os
    import stat
    import threading

    pytest.importorskip("matplotlib")
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()), daemon=True)
    reader.start()
    run = cli("plot", "layers", small, "-o", fifo)
    reader.join(timeout=30)
    assert run.code == 0 and stat.S_ISFIFO(fifo.stat().st_mode)
    assert got and got[0].startswith(b"\x89PNG\r\n\x1a\n")


def test_plot_has_no_writer_of_its_own():
    """One writer for every output file: no module but cli/io.py renames over a path."""
    for module in (ROOT / "mbcost").rglob("*.py"):
        text = module.read_text()
        if module.name != "io.py":
            assert "os.replace" not in text and "mkstemp" not in text, module


# --- 8. plot labels are plain text, never mathtext ----------------------------------------------

def _svg_text(svg: str) -> str:
    import html

    return html.unescape(svg)


@pytest.mark.parametrize("name", ["$\\sqrt{$", "$x^2$", "a_b^c", "$", "\\", "$\\frac{1}{0}$ and $"])
def test_names_with_dollars_are_printed_as_written(cli, tmp_path, name):
    pytest.importorskip("matplotlib")
    f = tmp_path / "net.yaml"
    f.write_text(f"name: {json.dumps(name)}\n" + SMALL)
    out = tmp_path / "fig.svg"
    run = cli("plot", "layers", f, "-o", out)
    assert run.code == 0 and run.err == "", run.err
    assert f"per layer: {name}, α = 1.0" in _svg_text(out.read_text())


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(name=st.text(st.sampled_from("$\\{}^_ax%#&~"), min_size=1, max_size=10).filter(str.strip))
def test_generated_mathtext_names_never_crash_a_figure(cli, tmp_path, name):
    pytest.importorskip("matplotlib")
    f = tmp_path / "net.yaml"
    f.write_text(f"name: {json.dumps(name)}\n" + SMALL)
    out = tmp_path / "fig.svg"
    run = cli("plot", "layers", f, "-o", out)
    assert run.code == 0 and run.err == "", (name, run.err)
    assert f"per layer: {name}, α" in _svg_text(out.read_text())


# --- 10. the API's arguments, type-checked like the CLI's flags ---------------------------------

def test_device_by_name_or_path_is_the_profile_the_cli_reads(cli):
    """device='pixel1' loads the built-in profile, as --device pixel1 does: the same latency."""
    by_name = mbcost.analyze("mobilenet_v2", device="pixel1").latency_ms
    by_cli = cli("report", "mobilenet_v2", "--device", "pixel1", "-f", "json").json()["totals"]["latency_ms"]
    path = ROOT / "mbcost" / "analyses" / "devices" / "pixel1.yaml"
    assert by_name == by_cli == mbcost.analyze("mobilenet_v2", device=path).latency_ms
    assert by_name == mbcost.analyze("mobilenet_v2", device=mbcost.load_device("pixel1")).latency_ms
    assert mbcost.sweep_grid("mobilenet_v2", alphas=[1], device="pixel1").points[0].latency_ms == pytest.approx(by_name)


@pytest.mark.parametrize("device, says", [
    (3, "got 3"), (b"pixel1", "got a value of type bytes"), (["pixel1"], "got a value of type list"),
    (object(), "got a value of type object"), ("pixel9", "unknown device 'pixel9'"),
])
def test_a_device_that_is_not_one_is_one_clear_error(device, says):
    for call in (lambda: mbcost.analyze("mobilenet_v1", device=device),
                 lambda: mbcost.sweep_grid("mobilenet_v1", device=device)):
        with pytest.raises(MbcostError) as info:
            call()
        assert info.value.field == "device" and says in info.value.message, str(info.value)


# any Python value in any argument of the front door: a result or one MbcostError, never another
# exception (an AttributeError deep in the engine was how device='pixel1' failed)
ANY_VALUE = st.one_of(st.none(), st.booleans(), st.integers(-5, 10**6), st.floats(), st.text(max_size=6),
                      st.binary(max_size=4), st.lists(st.integers(0, 300), max_size=3), st.fractions(),
                      st.sampled_from([object(), {}, {"bn": 2}, (224, 224), 1j, "pixel1", "paper", "0.5:1:0.25"]))


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(which=st.sampled_from(["alpha", "resolution", "rho", "convention", "depth", "device"]), value=ANY_VALUE)
def test_any_value_in_any_argument_is_a_result_or_one_error(which, value):
    try:
        mbcost.analyze("mobilenet_v1_shallow", **{which: value})
    except MbcostError as exc:
        assert str(exc).count("\n") == 0
    sweep_arg = {"alpha": "alphas", "resolution": "resolutions", "rho": "rhos", "depth": "depths"}.get(which, which)
    try:
        mbcost.sweep_grid("mobilenet_v1_shallow", **{sweep_arg: value})
    except MbcostError as exc:
        assert str(exc).count("\n") == 0


def test_sweep_refuses_what_is_not_a_list_and_a_progress_that_is_not_a_function():
    with pytest.raises(MbcostError, match=r"--depth: expected numbers .* got a value of type object"):
        mbcost.sweep_grid("mobilenet_v1", depths=object())
    with pytest.raises(MbcostError, match=r"progress: expected a function"):
        mbcost.sweep_grid("mobilenet_v1", progress=3)


# --- 4. numbers in architecture files: finite, at most 10¹², at most 12 digits after the point --

def _row_file(tmp_path, row: str, top: str = "") -> Path:
    f = tmp_path / "net.yaml"
    f.write_text(f"input: {{resolution: 32}}\n{top}layers:\n  - {{kind: conv, c: 8}}\n  - {row}\n")
    return f


@pytest.mark.parametrize("row, top, says", [
    ('{kind: conv, c: "1e999"}', "", "too large to be finite"),
    ('{kind: conv, c: "w*1e-300*1e-300*1e300*1e300"}', "params: {w: 16}\n", "more than 12 digits after the point"),
    ("{kind: mbconv, c: 8, t: 1.0e-300}", "", "layers[1].t: expected a positive number, got 1e-300"),
    ("{kind: mbconv, c: 8, t: 0.0000000000001}", "", "more than 12 digits after the point"),
    ("{kind: conv, c: 8}", "params: {w: 1.0e-300}\n", "params.w: expected a positive number, got 1e-300"),
    ("{kind: conv, c: 8}", "params: {w: 1.0e300}\n", "params.w: expected a positive number, got '1.0e300'"),
    ("{kind: mlp, ratio: 1.0e-300}", "", "more than 12 digits after the point"),
])
def test_numbers_past_the_bounds_are_one_line(cli, tmp_path, row, top, says):
    f = _row_file(tmp_path, row, top)
    assert_one_line_error(cli("report", f), f"error: {f}:", says)


def test_a_variants_settings_have_the_same_bounds(cli, tmp_path):
    f, g = tmp_path / "v.yaml", tmp_path / "w.yaml"
    f.write_text("input: {resolution: 32}\nvariants:\n  v: {alpha: 1.0e-300, depth: 0.5}\n"
                 "layers:\n  - {kind: conv, c: 8}\n")
    g.write_text("input: {resolution: 32}\nvariants:\n  w: {params: {c: 1.0e-300}}\nparams: {c: 8}\n"
                 "layers:\n  - {kind: conv, c: c}\n")
    assert_one_line_error(cli("report", f"{f}@v"), "variants.v.alpha: ", "more than 12 digits after the point")
    assert_one_line_error(cli("report", g), "variants.w.params.c: ", "more than 12 digits after the point")


TINY_OR_HUGE = st.sampled_from(["1e-300", "1e300", "1e999", "1e-999", "0.000001", "1000000", "7", "3",
                                "0.5", "w", "(w+1)", "1e12", "1e-12", "1e13"])
EXPRESSIONS = st.lists(TINY_OR_HUGE, min_size=1, max_size=30).flatmap(
    lambda xs: st.lists(st.sampled_from(["*", "/", "+", "-", "//", "%"]), min_size=len(xs) - 1,
                        max_size=len(xs) - 1).map(lambda ops: xs[0] + "".join(o + x for o, x in zip(ops, xs[1:]))))
PLAIN_FLOATS = st.floats(allow_nan=False, allow_infinity=False, min_value=1e-308, max_value=1e308)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(expr=EXPRESSIONS, t=PLAIN_FLOATS, where=st.sampled_from(["c", "t", "param", "block"]))
def test_generated_numbers_are_a_result_or_one_error(tmp_path, expr, t, where):
    """Products of tiny and huge numbers, in every place a file gives a number: costed, or
    refused with one SpecError — never a crash, never a number of thousands of digits."""
    q = json.dumps(expr)
    doc = {"c": f"params: {{w: 16}}\ninput: {{resolution: 16}}\nlayers:\n  - {{kind: conv, c: {q}}}\n",
           "t": f"input: {{resolution: 16}}\nlayers:\n  - {{kind: conv, c: 8}}\n  - {{kind: mbconv, c: 8, t: {t!r}}}\n",
           "param": f"params: {{w: {t!r}}}\ninput: {{resolution: 16}}\nlayers:\n  - {{kind: conv, c: \"8 + 0*w\"}}\n",
           "block": f"input: {{resolution: 16}}\nblocks:\n  b:\n    params: [w]\n    rows:\n"
                    f"      - {{kind: conv, c: {q}}}\nlayers:\n  - {{kind: b, w: 3}}\n"}[where]
    f = tmp_path / "net.yaml"
    f.write_text(doc)
    try:
        r = mbcost.analyze(f)
    except MbcostError as exc:
        assert "\n" not in str(exc) and len(str(exc)) < 400, str(exc)
        return
    assert 0 < r.madds < 10**30  # costed: every channel count came out a bounded integer


# --- 5. device profiles at their extremes: JSON never holds Infinity, check never exits 3 -------

def _strict_json(text: str):
    def refuse(name):
        raise AssertionError(f"{name} is not JSON")

    return json.loads(text, parse_constant=refuse)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(conv=st.floats(allow_nan=True, allow_infinity=True) | st.sampled_from([1e-308, 1e308, 5e-324, 1e-9, 1e9]),
       limit=st.sampled_from(["1e-320", "5e-324", "1e-6", "0.000001", "1e308", "30", "1e-7", "999999999"]))
def test_extreme_device_constants_and_limits(cli, tmp_path, conv, limit):
    pixel1 = (ROOT / "mbcost" / "analyses" / "devices" / "pixel1.yaml").read_text()
    dev = tmp_path / "dev.yaml"
    dev.write_text(pixel1.replace("value: 0.148402", f"value: {conv!r}".replace("inf", ".inf").replace("nan", ".nan"), 1))
    run = cli("report", "mobilenet_v1", "--device", dev, "-f", "json")
    assert run.code in (0, 2), run.err
    if run.code == 0:
        doc = _strict_json(run.out)
        assert doc["totals"]["latency_ms"] > 0 and all(v.get("rate") is None or v["rate"] < 1e10
                                                       for v in doc["device"]["constants"].values())
    for fmt in ("table", "json", "junit"):
        run = cli("check", "mobilenet_v1", "--device", dev, "--max-latency", limit, "-f", fmt)
        assert run.code in (0, 1, 2), run.err
        if run.code == 2:
            assert len(run.err.splitlines()) == 1 and "internal error" not in run.err
        elif fmt == "json":
            _strict_json(run.out)


def test_a_limit_below_a_nanosecond_is_refused_and_a_huge_overshoot_is_short(cli):
    assert_one_line_error(cli("check", "mobilenet_v1", "--device", "pixel1", "--max-latency", "1e-320"),
                          "error: --max-latency: ", "from 1e-06 to 1e+09")
    run = cli("check", "mobilenet_v1", "--device", "pixel1", "--max-latency", "1e-6")
    assert run.code == 1
    # 98.04 ms over 1e-6 ms: 9.8e9 %, in powers of ten rather than 300 digits
    assert re.search(r"over by 98\.04 ms \(9\.80e\+9%\)", run.out), run.out


# --- 2. tiny inputs that take minutes or gigabytes: bounds before work -------------------------

def _capped(*argv: str, seconds: float = 10, memory: int = 1 << 30, cwd=None):
    """Run ``mbcost argv`` in a child under an address-space cap and a wall-clock cap, as the
    acceptance states them: no input under 100 KB may take more than 1 GB or 10 s."""
    import resource
    import subprocess
    import sys

    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))

    return subprocess.run([sys.executable, "-m", "mbcost", *map(str, argv)], capture_output=True, text=True,
                          timeout=seconds, preexec_fn=limit, cwd=cwd)


def _nested(levels: int, n: int, false_rows: int = 0, inner: int | None = None) -> str:
    """``levels`` blocks, each calling the one below ``n`` times; the innermost holds
    ``false_rows`` rows whose ``if`` is false and one conv of ``inner`` (else n) repeats."""
    false = "".join(f"      - {{kind: conv, c: 4, k: 1, if: \"1 == 0\"}}\n" for _ in range(false_rows))
    blocks = f"  b0:\n    rows:\n{false}      - {{kind: conv, c: 4, k: 1, n: {inner or n}}}\n"
    blocks += "".join(f"  b{i}:\n    rows:\n      - {{kind: b{i - 1}, n: {n}}}\n" for i in range(1, levels))
    return (f"input: {{resolution: 8, channels: 3}}\nblocks:\n{blocks}layers:\n"
            f"  - {{kind: b{levels - 1}, n: {n}}}\n")


def test_a_nested_block_bomb_is_refused_at_once_under_the_caps(tmp_path):
    """Four levels of n: 1000 are 10¹² layers: refused as the 100,001st repeat is made, where the
    expansion ran 30 s to 2.2 GB first. At --depth 64 each n becomes 64,000."""
    f = tmp_path / "bomb.yaml"
    f.write_text(_nested(4, 1000))
    assert f.stat().st_size < 2000
    for depth in ("1", "64"):
        run = _capped("report", f, "--depth", depth)
        assert (run.returncode, run.stdout) == (2, ""), run.stderr
        assert run.stderr == (f"error: {f}:5:37: blocks.b0.rows[0] (in blocks.b1.rows[0] (in blocks.b2.rows[0] "
                              "(in blocks.b3.rows[0] (in layers[0])))).n: blocks expand to more than 100000 rows "
                              "(each repeat counted; n and --depth multiply)\n")


@pytest.mark.parametrize("argv", [["sweep", "{f}", "-d", "1,64"], ["fit", "{f}", "--max-madds", "1G", "--alpha", "1,0.5"],
                                  ["diff", "{f}", "mobilenet_v1"], ["check", "{f}", "--max-madds", "1G"],
                                  ["verify", "{f}"]])
def test_the_bomb_through_every_kind_of_command_is_refused_under_the_caps(tmp_path, argv):
    f = tmp_path / "bomb.yaml"
    f.write_text(_nested(3, 1000, false_rows=2))
    run = _capped(*[a.format(f=f) for a in argv])
    assert (run.returncode, run.stdout) == (2, ""), run.stderr
    assert run.stderr.startswith(f"error: {f}:") and "blocks expand to more than" in run.stderr
    assert len(run.stderr.splitlines()) == 1


def test_rows_whose_if_is_false_count_as_work(cli, tmp_path):
    """1,000 × 1,000 instances of a block of four false rows and one true one: 100,000 rows made
    would take 5 million reads; the reads are capped at 25,000 as they happen."""
    f = tmp_path / "false.yaml"
    f.write_text(_nested(2, 1000, false_rows=4, inner=1))
    assert_one_line_error(cli("report", f), f"error: {f}:", "(in layers[0]).n: blocks expand to more than 25000 "
                          "template rows read (rows whose 'if' is false count too)")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(levels=st.integers(1, 5), n=st.integers(1, 1000), false_rows=st.integers(0, 30),
       depth=st.sampled_from(["1", "0.5", "3", "64"]))
def test_generated_block_bombs_answer_within_seconds(levels, n, false_rows, depth):
    """Any nesting of block calls, repeats, false rows and depth: a result or one error, and the
    instantiation (what the caps bound) takes well under a second (a time cap set here)."""
    import signal
    from fractions import Fraction
    from mbcost.core.blocks import MAX_ROWS, instantiate
    from mbcost.core.spec import spec_from_document
    from mbcost.core.yamlio import parse

    def too_slow(*_):
        raise TimeoutError("instantiation took over 3 s")

    old = signal.signal(signal.SIGALRM, too_slow)
    signal.setitimer(signal.ITIMER_REAL, 3)
    try:
        spec = spec_from_document(parse(_nested(levels, n, false_rows), "g.yaml"))
        try:
            rows = instantiate(spec, Fraction(depth))
        except MbcostError as exc:
            assert "blocks expand to more than" in str(exc)
        else:
            assert sum(r.n for r in rows) <= MAX_ROWS
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def _pareto_by_pairs(cands, metrics, by_top1):
    """The definition, comparing every pair (what fit did, minutes on the 842k grid)."""
    def dominates(a, b):
        if by_top1:
            return (a.top1 >= b.top1 and all(a.values[m] <= b.values[m] for m in metrics)
                    and (a.top1 > b.top1 or any(a.values[m] < b.values[m] for m in metrics)))
        return all(a.values[m] >= b.values[m] for m in metrics) and any(a.values[m] > b.values[m] for m in metrics)
    return [c for c in cands if not any(dominates(o, c) for o in cands if o is not c)]


@settings(max_examples=200, deadline=None)
@given(points=st.lists(st.tuples(st.integers(0, 6), st.integers(0, 6), st.integers(0, 6), st.integers(0, 4)),
                       max_size=40),
       k=st.integers(1, 4), by_top1=st.booleans())
def test_the_fast_pareto_front_is_the_definitions(points, k, by_top1):
    """Up to four goals, ties and duplicates included: the sort-and-sweep front (running maximum,
    Fenwick tree, or the kept front past three goals) is the pairwise definition's, in order."""
    from mbcost.analyses.fit import Candidate, pareto
    from mbcost.analyses.accuracy import Expected

    metrics = ("madds", "params", "peak_memory", "weights")[:k]
    cands = [Candidate(Fraction(i + 1), (1, 1), dict(zip(metrics, p)),
                       Expected(float(p[-1]), "published") if by_top1 else None) for i, p in enumerate(points)]
    if by_top1:  # top-1 is the fourth number: up to three limits and top-1
        metrics = metrics[:3]
    assert pareto(cands, metrics, by_top1) == _pareto_by_pairs(cands, metrics, by_top1)


def test_fit_builds_only_the_points_within_the_exact_limits(monkeypatch):
    """fit over 2 α × 3 resolutions with 3 inside the limit: 3 points built, not 6."""
    from mbcost.analyses import sweep
    from mbcost.analyses.budget import Limit
    from mbcost.analyses.fit import fit

    built = []
    point = sweep.Sweep._point
    monkeypatch.setattr(sweep.Sweep, "_point", lambda self, *a: built.append(a) or point(self, *a))
    all6 = sweep.grid("resnet18", "0.5,1", "96,128,160")  # no published top-1: nothing else built
    limit = sorted(p.madds for p in all6.points)[2]
    built.clear()
    r = fit("resnet18", (Limit("madds", limit),), "0.5,1", "96,128,160")
    assert (r.candidates, r.fitting, len(built)) == (6, 3, 3)
    assert all(c.values["madds"] <= limit for c in r.pareto)


# --- 1. silent wrong counts, the YAML side: a split part nothing reads, a deconv's output_padding --

@pytest.mark.parametrize("read, unread", [("sp.0", "sp.1"), ("sp.1", "sp.0")])
def test_a_split_part_nothing_reads_is_an_unused_branch(cli, tmp_path, read, unread):
    f = tmp_path / "sp.yaml"
    f.write_text(f"input: {{resolution: 8, channels: 8}}\nlayers:\n  - {{kind: split, name: sp, sizes: [4, 4]}}\n"
                 f"  - {{kind: conv, c: 4, k: 1, from: {read}}}\n")
    assert_one_line_error(cli("report", f), f"error: {f}:3:5: layers[0]: the output of part {unread} of sp is never "
                          "used: read it with 'from', or list it in 'outputs:'")
    f.write_text(f.read_text() + f"outputs: [conv1, {unread}]\n")  # listed as an output, it is used
    assert cli("report", f).code == 0


@pytest.mark.parametrize("s, d, op, ok", [(2, 1, 1, True), (2, 1, 2, False), (2, 1, 5, False), (1, 1, 1, False),
                                          (1, 3, 2, True), ("[2, 3]", 1, "[1, 3]", False), ("[2, 3]", 1, "[1, 2]", True)])
def test_a_deconvs_output_padding_is_smaller_than_its_stride_or_dilation(cli, tmp_path, s, d, op, ok):
    """PyTorch's ConvTranspose2d rule (and ONNX's): output_padding 5 at s: 2 was costed."""
    f = tmp_path / "dc.yaml"
    f.write_text(f"input: {{resolution: 8, channels: 8}}\nlayers:\n"
                 f"  - {{kind: deconv, c: 4, k: 3, s: {s}, d: {d}, padding: 1, output_padding: {op}}}\n")
    run = cli("report", f, "-f", "json")
    if ok:
        assert run.code == 0, run.err
    else:
        assert_one_line_error(run, f"error: {f}:3:", "layers[0].output_padding: expected an output_padding smaller "
                              "than the stride")


def test_a_depth_axis_is_bounded_by_the_layers_it_expands(cli, monkeypatch):
    """-d 0.001:64:0.001 made 64,000 networks, up to 64× deep (minutes, 1.5 GB): the layers a
    sweep expands are capped (400,000 by default, ~4 s; here 1,000 to keep the test cheap)."""
    from mbcost.analyses import sweep

    one = len(mbcost.analyze("mobilenet_v1").layers)  # 28 at d = 1 (no stage row states n: d changes nothing)
    monkeypatch.setattr(sweep, "MAX_EXPANDED", 30 * one)
    assert cli("sweep", "mobilenet_v2", "-d", "1:1.5:0.5", "-f", "csv").code == 0
    line = assert_one_line_error(cli("sweep", "mobilenet_v2", "-d", "1:64:1", "-f", "csv"),
                                 f"error: --depth: this sweep expands to more than {30 * one:,} layers in all, at 64 "
                                 "(α, depth) rows", "give fewer --depth or --alpha values")
    assert re.search(r"d = \d+ has [\d,]+ layers", line), line
    assert_one_line_error(cli("sweep", "mobilenet_v2", "--alpha", "0.25:2.0:0.01", "-f", "csv"),
                          "error: --alpha: this sweep expands to more than")


def test_export_refuses_a_model_no_onnx_file_can_hold_before_allocating(cli, tmp_path):
    """--alpha 64 asked for ~33 GiB of fp32 weights, allocated before protobuf refused them; the
    size is checked first (before onnx is even imported), and no file is made or clobbered."""
    out = tmp_path / "big.onnx"
    assert_one_line_error(cli("export", "mobilenet_v2", "--alpha", "64", "-o", out),
                          "error: --alpha: the model's weights would be about 32.8 GiB in fp32, past the 1.98 GiB an "
                          "ONNX file holds (protobuf's limit)")
    assert not out.exists()
    out.write_bytes(b"kept")
    assert cli("export", "mobilenet_v2", "--alpha", "64", "-o", out).code == 2 and out.read_bytes() == b"kept"
