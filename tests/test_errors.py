"""Bad input gets one clear line, exit code 2, never a traceback, and nothing is lost (issue 6).

Every file in tests/bad/ is a bad architecture. Its first line says what the message must
contain (``# expect: …``); optional ``# field: …`` and ``# at: line:col`` lines say which field
and which position it must name. docs/errors.md describes the format and lists the checks.

Every file runs through ``report``. The files the library refuses while building or costing
the graph (the expand and costs stages), plus one file of each earlier stage (yamlio, spec),
run through every command that reads an architecture, found on the Typer app, so a command
added later is checked without touching this file. The earlier stages run before any
command-specific code, so one file each proves a command reads its file through them; which
stage a file fails in is measured (``failing_stage``), not listed, and that is itself tested.
"""
from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from conftest import BUILTIN, ROOT, arch_invocations, assert_one_line_error, fill, has_option
from mbcost.errors import GraphError, SpecError

BAD = ROOT / "tests" / "bad"
PWNED = Path("/tmp/mbcost-pwned")  # what the python-tag files in tests/bad/ try to create

INVOCATIONS = arch_invocations()
INVOCATION_IDS = [" ".join(r).replace("{arch}", "FILE") for _, r in INVOCATIONS]


# --- the corpus ---------------------------------------------------------------------------------


def corpus() -> list[Path]:
    return sorted(BAD.glob("*.yaml"))


def expectations(path: Path) -> dict[str, str]:
    """The '# expect:', '# field:' and '# at:' lines at the top of a corpus file."""
    head = path.read_bytes().split(b"\n")[:3]
    out = {}
    for line in head:
        m = re.match(rb"# (expect|field|at): (.*)$", line)
        if m:
            out[m.group(1).decode()] = m.group(2).decode("utf-8")
    return out


def test_corpus_is_well_formed():
    files = corpus()
    assert len(files) >= 100
    for f in files:
        assert f.read_bytes().startswith(b"# expect: "), f"{f.name}: first line must be '# expect: …'"
        at = expectations(f).get("at")
        assert at is None or re.fullmatch(r"\d+:\d+", at), f.name


@pytest.fixture
def in_root(monkeypatch):
    """Run from the repository root, so files are given as relative paths, as people type them."""
    monkeypatch.chdir(ROOT)


def _check_corpus_message(run, rel: str, expect: dict[str, str]) -> None:
    line = assert_one_line_error(run, expect["expect"])
    assert line.startswith(f"error: {rel}:"), line
    if "at" in expect:
        assert line.startswith(f"error: {rel}:{expect['at']}: "), line
    if "field" in expect:
        assert f": {expect['field']}: " in line, line


# --- which stage refuses a file -------------------------------------------------------------------

# The stage that raises, as the pipeline runs it: reading the YAML, checking the document,
# expanding the rows into a graph, costing the layers — named by the innermost of these
# functions on the stack (a kind's module holds its row reader, its expansion and its shape
# rule, so the module alone cannot tell). Each stage raises its own error class.
STAGES = {("mbcost.core.yamlio", "read_text"): "yamlio", ("mbcost.core.yamlio", "parse"): "yamlio",
          ("mbcost.core.spec", "spec_from_document"): "spec",
          ("mbcost.core.rows", "read_row"): "spec", ("mbcost.core.expand", "expand_traced"): "expand",
          ("mbcost.core.cost", "layer_cost"): "costs"}
STAGE_ERROR = {"yamlio": SpecError, "spec": SpecError, "expand": GraphError, "costs": GraphError}
# Stages that run before any command-specific code: one file each goes through every command
# (a python-tag file, so "a tag never runs" is checked through every command too).
EARLY = {"yamlio": "python_object_apply", "spec": "c_nan"}


def failing_stage(path: Path) -> tuple[str, Exception | None]:
    """(stage, error) for the first error ``load_spec`` then ``analyze`` raise on ``path``: the
    stage is the innermost pipeline step of :data:`STAGES` the raising frame was in, whatever
    catches or rewrites it on the way out. ("accepted", None) if nothing is raised."""
    from mbcost import analyze
    from mbcost.core.spec import load_spec
    from mbcost.errors import MbcostError

    try:
        analyze(load_spec(path))
    except MbcostError as exc:
        tb, stage = exc.__traceback__, None
        while tb is not None:
            frame = tb.tb_frame
            stage = STAGES.get((frame.f_globals["__name__"], frame.f_code.co_name), stage)
            tb = tb.tb_next
        return stage, exc
    return "accepted", None


STAGE = {f.stem: failing_stage(f)[0] for f in corpus()}


def test_failing_stage_classifies_the_corpus():
    """The classification that picks the corpus runs below is itself checked."""
    seen = set()
    for f in corpus():
        stage, exc = failing_stage(f)
        assert stage in STAGE_ERROR, f"{f.name}: refused by {stage}, not a known stage"
        assert type(exc) is STAGE_ERROR[stage], (f.name, stage, type(exc))
        assert expectations(f)["expect"] in str(exc), (f.name, str(exc))  # what the CLI shows
        assert STAGE[f.stem] == stage
        seen.add(stage)
    assert seen == set(STAGE_ERROR), "every stage has a file in the corpus"
    # anchors: a YAML syntax error, a bad value, a dangling reference, a shape that shrinks away
    assert [STAGE[n] for n in ("syntax_unclosed_flow", "c_nan", "add_from_unknown", "shrink_in_repeat")] \
        == ["yamlio", "spec", "expand", "costs"]
    assert all(STAGE[name] == stage for stage, name in EARLY.items())


def test_failing_stage_sees_through_a_rewritten_error(tmp_path):
    """run_graph re-raises a costing GraphError with the row and position filled in: still 'costs'."""
    f = tmp_path / "shrink.yaml"
    f.write_text("input: {resolution: 2, channels: 3}\nlayers:\n  - {kind: conv, c: 8, k: 3, padding: valid}\n")
    stage, exc = failing_stage(f)
    assert stage == "costs" and exc.field == "layers[0]"
    assert failing_stage(ROOT / "configs" / "mobilenet_v1.yaml") == ("accepted", None)


def _corpus_runs():
    """Every file through report; the expand and costs files, and EARLY's, through every command."""
    for bad in corpus():
        everywhere = STAGE[bad.stem] not in EARLY or EARLY[STAGE[bad.stem]] == bad.stem
        for invocation, ident in zip(INVOCATIONS, INVOCATION_IDS):
            if everywhere or invocation[1] == ["report", "{arch}"]:
                yield pytest.param(bad, invocation, id=f"{bad.stem}-{ident}")


def test_every_corpus_file_runs_through_report_and_every_command_gets_each_stage():
    runs = [p.values for p in _corpus_runs()]
    assert {bad for bad, (name, recipe) in runs if recipe == ["report", "{arch}"]} == set(corpus())
    for recipe in (r for _, r in INVOCATIONS):
        stages = {STAGE[bad.stem] for bad, (_, r) in runs if r == recipe}
        assert stages == set(STAGE_ERROR), (recipe, stages)


@pytest.mark.parametrize("bad, invocation", list(_corpus_runs()))
def test_corpus(cli, in_root, tmp_path, bad, invocation):
    name, recipe = invocation
    rel = str(bad.relative_to(ROOT))
    expect = expectations(bad)
    PWNED.unlink(missing_ok=True)

    run = cli(*fill(recipe, rel))
    _check_corpus_message(run, rel, expect)
    assert run.out == "", "nothing on stdout when the input is bad"

    if has_option(name, "--output"):
        absent = tmp_path / "out" / "result.txt"
        absent.parent.mkdir()
        run = cli(*fill(recipe, rel), "--output", absent)
        _check_corpus_message(run, rel, expect)
        assert list(absent.parent.iterdir()) == [], "no output file (or temporary) appears"

        existing = tmp_path / "existing.txt"
        existing.write_bytes(b"precious \x00 bytes\n")
        before = existing.stat()
        run = cli(*fill(recipe, rel), "--output", existing)
        _check_corpus_message(run, rel, expect)
        assert existing.read_bytes() == b"precious \x00 bytes\n"
        assert existing.stat().st_mtime_ns == before.st_mtime_ns
        assert sorted(p.name for p in tmp_path.iterdir()) == ["existing.txt", "out"]
    assert not PWNED.exists(), "a YAML tag ran a command"


# --- files that cannot be in the corpus --------------------------------------------------------


@pytest.mark.parametrize("invocation", INVOCATIONS, ids=INVOCATION_IDS)
def test_empty_file(cli, tmp_path, invocation):
    f = tmp_path / "empty.yaml"
    f.write_bytes(b"")
    assert_one_line_error(cli(*fill(invocation[1], str(f))),
                          f"error: {f}:1:1: file is empty, expected a YAML mapping")


def test_file_over_one_mebibyte(cli, tmp_path):
    f = tmp_path / "huge.yaml"
    f.write_bytes(b"# padding\n" * (2**20 // 10 + 1))  # 1,048,580 bytes: 4 over the limit
    assert_one_line_error(cli("report", f), f"error: {f}: file is larger than 1048576 bytes")


@pytest.mark.parametrize("invocation", INVOCATIONS, ids=INVOCATION_IDS)
def test_directory(cli, tmp_path, invocation):
    assert_one_line_error(cli(*fill(invocation[1], str(tmp_path))),
                          f"error: {tmp_path}: is a directory, expected a YAML file")


@pytest.mark.parametrize("invocation", INVOCATIONS, ids=INVOCATION_IDS)
def test_missing_path(cli, tmp_path, invocation):
    f = tmp_path / "nets" / "my_net.yaml"
    assert_one_line_error(cli(*fill(invocation[1], str(f))), f"error: {f}: no such file")


@pytest.mark.parametrize("invocation", INVOCATIONS, ids=INVOCATION_IDS)
def test_unknown_name_suggests_a_builtin(cli, invocation):
    assert_one_line_error(cli(*fill(invocation[1], "mobilenet_v3")),
                          "unknown architecture 'mobilenet_v3'", "did you mean 'mobilenet_v2'?")


@pytest.mark.parametrize("invocation", INVOCATIONS, ids=INVOCATION_IDS)
def test_unreadable_path_simulated(cli, tmp_path, monkeypatch, invocation):
    """A file we may not read (simulated: root, as in most CI containers, reads any mode)."""
    f = tmp_path / "secret.yaml"
    f.write_text((ROOT / "configs" / "mobilenet_v1.yaml").read_text())
    real_open = Path.open

    def denied(self, *args, **kwargs):
        if self == f:
            raise PermissionError(13, "Permission denied", str(self))
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", denied)
    assert_one_line_error(cli(*fill(invocation[1], str(f))), f"error: {f}: permission denied")


def test_python_tags_never_run(cli, in_root):
    for name in ("python_object_apply", "python_object_new", "python_name"):
        PWNED.unlink(missing_ok=True)
        rel = f"tests/bad/{name}.yaml"
        assert_one_line_error(cli("report", rel), "is not allowed")
        assert not PWNED.exists()


_PEAK_GROWTH = """
import resource, sys
from mbcost.core.spec import load_spec
from mbcost.errors import SpecError
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    load_spec(sys.argv[1])
except SpecError as exc:
    print(exc)
print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) * 1024)  # KiB on Linux
"""


def test_billion_laughs_is_refused_with_bounded_memory():
    """9 levels of 9 aliases would expand to 9⁹ ≈ 387 million strings; we stop at 100,000 values.
    The peak is the child's own (its resident peak after the load less before it): tracemalloc
    in-process measured the same bound (21.6 MB) but made the load 12× slower."""
    out = subprocess.run([sys.executable, "-c", _PEAK_GROWTH, str(BAD / "billion_laughs.yaml")],
                         capture_output=True, text=True, check=True).stdout.splitlines()
    assert out[0].endswith("document expands to more than 100000 values (an alias bomb?)"), out
    assert int(out[1]) < 100 * 2**20, f"peak grew by {out[1]} bytes"


# --- flags --------------------------------------------------------------------------------------

# (flags, the flag the message must name, what report's message says)
FLAG_CASES = [
    (["--alpha", "0"], "--alpha", "expected a width multiplier α > 0 and ≤ 64, got 0"),
    (["--alpha", "-1"], "--alpha", "expected a width multiplier α > 0 and ≤ 64, got -1"),
    (["--alpha", "nan"], "--alpha", "expected a finite number for α, got 'nan'"),
    (["--alpha", "inf"], "--alpha", "expected a finite number for α, got 'inf'"),
    (["--alpha", "abc"], "--alpha", "expected a number for α, got 'abc'"),
    (["--alpha", "1e-100000000"], "--alpha", "expected a number for α between 1e-50 and 64"),
    (["--resolution", "-1"], "--resolution", "expected a resolution from 1 to 65536, got -1"),
    (["--resolution", "0"], "--resolution", "expected a resolution from 1 to 65536, got 0"),
    (["--resolution", "big"], "--resolution", "expected a positive integer resolution, got 'big'"),
    (["--rho", "0"], "--rho", "expected a resolution multiplier ρ > 0 and ≤ 64, got 0"),
    (["--rho", "0.001"], "--rho", "ρ = 0.001 gives an input of 0×0"),  # round(0.001 · 224) = 0
    (["--resolution", "160", "--rho", "0.5"], "--rho", "give either --resolution or --rho, not both"),
    (["--format", "xml"], "--format", "expected one of"),
    (["--bn", "7"], "--bn", "expected 0, 1, 2, 3 or 4 numbers per batch-norm channel, got 7"),
    (["--classes", "0"], "--classes", "expected a positive number of classes, got 0"),
    (["--profile", "pytorch"], "--profile", "expected one of paper, torchvision, keras, got 'pytorch'"),
]


def _flag_runs():
    """Each case through every command that has the flags; report's exact wording is checked,
    every command's message must name the flag and repeat the value given."""
    for flags, flag, report_says in FLAG_CASES:
        shown = flags[1] if len(flags) == 2 else ""
        for name, recipe in INVOCATIONS:
            if all(has_option(name, f) for f in flags[::2]):
                yield pytest.param(name, fill(recipe, BUILTIN), flags, flag, shown,
                                   report_says if name == "report" else "",
                                   id=f"{' '.join(flags)}-{' '.join(recipe[:1])}")


@pytest.mark.parametrize("name, argv, flags, flag, shown, says", list(_flag_runs()))
def test_flag_errors(cli, tmp_path, name, argv, flags, flag, shown, says):
    run = cli(*argv, *flags)
    assert_one_line_error(run, f"error: {flag}: ", shown, says)
    assert run.out == ""
    if has_option(name, "--output"):
        out = tmp_path / "out.json"
        assert_one_line_error(cli(*argv, *flags, "--output", out), f"error: {flag}: ")
        assert not out.exists()


def _output_commands():
    return [pytest.param(r, id=" ".join(r)) for name, r in INVOCATIONS if has_option(name, "--output")]


@pytest.mark.parametrize("recipe", _output_commands())
def test_output_in_a_missing_folder(cli, tmp_path, recipe):
    out = tmp_path / "no" / "such" / "folder" / "x.json"
    assert_one_line_error(cli(*fill(recipe, BUILTIN), "--output", out),
                          f"error: --output: folder {out.parent} does not exist")
    assert not (tmp_path / "no").exists()


@pytest.mark.parametrize("recipe", _output_commands())
def test_output_is_a_directory(cli, tmp_path, recipe):
    assert_one_line_error(cli(*fill(recipe, BUILTIN), "--output", tmp_path),
                          "error: --output: ", "is a directory")
    assert list(tmp_path.iterdir()) == []


def test_output_replaces_an_existing_file_only_on_success(cli, tmp_path):
    out = tmp_path / "costs.json"
    out.write_text("old\n")
    out.chmod(0o640)
    bad = cli("report", BAD / "c_nan.yaml", "--format", "json", "--output", out)
    assert_one_line_error(bad, "layers[0].c: expected a positive integer, got nan")
    assert out.read_text() == "old\n"
    ok = cli("report", BUILTIN, "--format", "json", "--output", out)
    assert ok.code == 0 and ok.out == "" and ok.err == ""
    import json

    assert json.loads(out.read_text())["totals"]["madds"] == 568_740_352
    assert stat.S_IMODE(out.stat().st_mode) == 0o640, "the file keeps its mode"
    assert [p.name for p in tmp_path.iterdir()] == ["costs.json"], "no temporary left behind"


def test_output_through_a_symlink_replaces_the_target_and_keeps_the_link(cli, tmp_path):
    target = tmp_path / "real.csv"
    target.write_text("old\n")
    link = tmp_path / "link.csv"
    link.symlink_to(target)
    assert cli("report", BUILTIN, "--format", "csv", "--output", link).code == 0
    assert link.is_symlink() and target.read_text().startswith("architecture,alpha,resolution,convention,name,kind,")


def test_output_to_a_fifo_writes_into_it_and_keeps_it_a_fifo(cli, tmp_path):
    """Renaming a temporary over a FIFO (or /dev/null) would replace the special file itself."""
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()), daemon=True)
    reader.start()
    run = cli("report", BUILTIN, "--format", "csv", "--output", fifo)
    reader.join(timeout=30)
    assert run.code == 0 and stat.S_ISFIFO(fifo.stat().st_mode)
    assert got and got[0].startswith(b"architecture,alpha,resolution,convention,name,kind,")


# --- the error path itself ----------------------------------------------------------------------


def test_graph_errors_name_file_position_row_and_layer(in_root):
    """A GraphError raised while costing (field = the layer name) is rewritten like a spec error."""
    from mbcost import analyze

    with pytest.raises(GraphError) as info:
        analyze("tests/bad/shrink_in_repeat.yaml")
    exc = info.value
    # the row '  - {kind: conv, c: 8, k: 3, padding: valid, n: 3, name: squeeze}' is line 8, its
    # mapping starts at column 5
    assert (exc.where.file, exc.where.line, exc.where.column) == ("tests/bad/shrink_in_repeat.yaml", 8, 5)
    assert exc.field == "layers[1]" and exc.message.startswith("layer squeeze.2: ")
    assert str(exc).startswith("tests/bad/shrink_in_repeat.yaml:8:5: layers[1]: layer squeeze.2: ")


def test_debug_shows_the_exception(cli, in_root):
    run = cli("--debug", "report", "tests/bad/c_nan.yaml")
    assert isinstance(run.exception, SpecError) and run.exception.field == "layers[0].c"


def test_a_bug_is_one_line_with_exit_3_and_debug_shows_it(cli, monkeypatch):
    import mbcost.cli.report as report_cli

    def broken(*args, **kwargs):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(report_cli, "analyze", broken)
    run = cli("report", BUILTIN)
    assert run.code == 3 and "Traceback" not in run.err
    assert run.err.splitlines() == [
        "error: internal error (a bug in mbcost, please report it): ZeroDivisionError: division by "
        "zero; rerun with --debug for the traceback"]
    assert isinstance(cli("report", BUILTIN, "--debug").exception, ZeroDivisionError)


def test_messages_are_one_line_even_when_the_input_has_newlines(cli, tmp_path):
    f = tmp_path / "nl.yaml"
    f.write_text('input: {resolution: 224}\nname: "two\\nlines"\nlayers:\n  - {kind: add, from: "a\\nb"}\n')
    assert_one_line_error(cli("report", f), f"error: {f}:4:23: layers[0].from: ")
