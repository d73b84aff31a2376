"""Hostile input and scale (issue 17): each defect class, with new instances of it.

Every class here broke the promise of docs/errors.md — exit 2, one line on stderr naming
file:line:col and the field, nothing on stdout, no output file — or returned a wrong number.
The architecture files of each class are in tests/bad/ too (run through every command by
test_errors.py); this file runs the classes through the other readers (budgets files, the
published-numbers file, the Python API) and covers what cannot be a file: flags, stdout
that is closed, piped into a reader that quits, or unable to encode α.
"""
from __future__ import annotations

import re
from fractions import Fraction
from pathlib import Path

import pytest

from conftest import ROOT, arch_invocations, assert_one_line_error, fill, has_option

import mbcost
from mbcost.errors import MbcostError, UsageError


def _write(tmp_path: Path, name: str, text: str) -> Path:
    f = tmp_path / name
    f.write_text(text, encoding="utf-8")
    return f


def _arch(value: str) -> str:
    return f"input: {{resolution: 224, channels: 3}}\nlayers:\n  - {{kind: conv, c: {value}}}\n"


# --- 1. explicit tags on text they cannot parse, and 13. YAML 1.1 integers -------------------------

# (the value as written in `c: …`, what the message must say); all are at line 3, column 21
SCALARS = [
    ("!!bool maybe", "expected true or false, got 'maybe'"),
    ("!!bool 2", "expected true or false, got '2'"),
    ("!!bool ''", "expected true or false, got ''"),
    ('!!int ""', "expected an integer, got ''"),
    ("!!int -", "expected an integer, got '-'"),
    ("!!int 0x", "expected an integer, got '0x'"),
    ("!!int 1.5", "expected an integer, got '1.5'"),
    ("!!float x", "expected a number, got 'x'"),
    ("!!float ''", "expected a number, got ''"),
    ("!!float nan", "expected a number, got 'nan'"),
    ("!!float 1e", "expected a number, got '1e'"),
    ("!!null zero", "expected null (~ or nothing) for the tag !!null, got 'zero'"),
    ("!!map 32", "the YAML tag !!map needs a mapping, got a single value"),
    ("!!seq 32", "the YAML tag !!seq needs a list, got a single value"),
    ("!!str [3, 2]", "the YAML tag !!str needs a single value, got a list"),
    ("!!int {a: 1}", "the YAML tag !!int needs a single value, got a mapping"),
    ("040", "got 040, which YAML 1.1 reads as octal (= 32)"),
    ("+040", "got +040, which YAML 1.1 reads as octal (= 32)"),
    ("0777", "got 0777, which YAML 1.1 reads as octal (= 511)"),
    ("0_40", "got 0_40, which YAML 1.1 reads as octal (= 32)"),
    ("0x20", "got 0x20, which YAML 1.1 reads as hexadecimal (= 32)"),
    ("-0x1_0", "got -0x1_0, which YAML 1.1 reads as hexadecimal (= -16)"),
    ("0b101", "got 0b101, which YAML 1.1 reads as binary (= 5)"),
    ("1:30", "got 1:30, which YAML 1.1 reads as base 60 (= 90)"),
    ("1:0:0", "got 1:0:0, which YAML 1.1 reads as base 60 (= 3600)"),
    ("2:30.5", "got 2:30.5, which YAML 1.1 reads as base 60 (= 150.5)"),
    ("1" * 101, "expected an integer, got a 101-character value"),
    ("1." + "0" * 200, "expected a number, got a 202-character value"),
]
SCALAR_IDS = [v[:12] for v, _ in SCALARS]


@pytest.mark.parametrize("value, says", SCALARS, ids=SCALAR_IDS)
def test_scalars_in_an_architecture(cli, tmp_path, value, says):
    f = _write(tmp_path, "net.yaml", _arch(value))
    run = cli("report", f, "--format", "json")
    assert_one_line_error(run, f"error: {f}:3:21: layers[0].c: ", says)
    assert run.out == ""


@pytest.mark.parametrize("value, says", SCALARS, ids=SCALAR_IDS)
def test_scalars_in_a_budgets_file(cli, tmp_path, value, says):
    f = _write(tmp_path, "budgets.yaml", f"budgets:\n  - {{arch: mobilenet_v1, max_madds: {value}}}\n")
    out = tmp_path / "junit.xml"
    run = cli("check", "--budgets", f, "--format", "junit", "--output", out)
    assert_one_line_error(run, f"error: {f}:2:37: budgets[0].max_madds: ", says)
    assert run.out == "" and not out.exists()


PUBLISHED = """\
sources:
  s: {{citation: a test source}}
tables:
  - source: s
    table: T
    architecture: mobilenet_v1
    rows:
      - {{label: one, madds: "569", alpha: {value}}}
"""


@pytest.mark.parametrize("value, says", SCALARS, ids=SCALAR_IDS)
def test_scalars_in_a_published_data_file(cli, tmp_path, value, says):
    f = _write(tmp_path, "published.yaml", PUBLISHED.format(value=value))
    run = cli("reproduce", "--data", f)
    line = assert_one_line_error(run, f"error: {f}:8:43: tables[0].rows[0].alpha: ", says)
    assert "internal error" not in line


def test_decimal_integers_still_read(cli, tmp_path):
    """What stays allowed: decimal digits, a sign, '_' between digits, a zero alone."""
    for value, c in (("32", 32), ("+32", 32), ("1_024", 1024), ("!!int 48", 48), ("!!float 16", 16)):
        f = _write(tmp_path, "net.yaml", _arch(value))
        run = cli("report", f, "--format", "json")
        assert run.code == 0, (value, run.err)
        assert run.json()["layers"][0]["output_shape"][2] == c
    f = _write(tmp_path, "net.yaml", _arch("0"))
    assert_one_line_error(cli("report", f), "layers[0].c: expected a positive integer, got 0")


def test_quoted_yaml11_forms_are_text(cli, tmp_path):
    """A name that looks like base 60 is fine once quoted; only the plain form is refused."""
    f = _write(tmp_path, "net.yaml", 'input: {resolution: 224}\nlayers:\n  - {kind: conv, c: 8, name: "1:30"}\n')
    run = cli("report", f, "--format", "json")
    assert run.code == 0 and run.json()["layers"][0]["name"] == "1:30"


# --- 6. a NUL byte in a path ---------------------------------------------------------------------

@pytest.mark.parametrize("key, ref", [
    ("arch", "nets/x\\0y.yaml"),
    ("arch", "\\0"),
    ("arch", "mobilenet\\0_v1"),
    ("baseline", "old\\0.yaml"),
    ("baseline", "../\\0/net.yaml"),
])
def test_nul_in_a_budgets_path(cli, tmp_path, key, ref):
    entry = f'{{arch: "{ref}", max_madds: 1G}}' if key == "arch" else \
        f'{{arch: mobilenet_v1, baseline: "{ref}", max_madds: 1G}}'
    f = _write(tmp_path, "budgets.yaml", f"budgets:\n  - {entry}\n")
    run = cli("check", "--budgets", f)
    line = assert_one_line_error(run, f"error: {f}:2:", f"budgets[0].{key}: ")
    assert "\0" not in line and ("NUL byte" in line or "unknown architecture" in line), line
    assert run.out == ""


@pytest.mark.parametrize("call", [
    lambda: mbcost.analyze("a\0b.yaml"),
    lambda: mbcost.analyze(Path("configs") / "x\0.yaml"),
    lambda: mbcost.sweep_grid("nets/\0", alphas=[1]),
    lambda: __import__("mbcost.analyses.budget", fromlist=["x"]).load_budgets("b\0.yaml"),
    lambda: __import__("mbcost.analyses.reproduce", fromlist=["x"]).load_published("p\0.yaml"),
], ids=["analyze-str", "analyze-path", "sweep_grid", "load_budgets", "load_published"])
def test_nul_in_a_path_through_the_api(call):
    with pytest.raises(MbcostError, match=r"the path contains a NUL byte") as info:
        call()
    assert "\0" not in str(info.value)


# --- 12. a budgets file never quotes a file that is not an architecture -------------------------

SECRET = "hunter2-s3cr3t"
SECRET_FILES = {
    "dotenv": f"API_KEY={SECRET}\n",
    "dotenv-lines": f"USER=ci\nTOKEN={SECRET}\nexport X=1\n",
    "mapping": f"password: {SECRET}\nuser: ci\n",
    "json": f'{{"type": "service_account", "{SECRET}": "x"}}\n',
    "list": f"- {SECRET}\n- two\n",
    "pem": f"-----BEGIN OPENSSH PRIVATE KEY-----\nb3Blbn{SECRET}NzaC1rZXk\n-----END OPENSSH PRIVATE KEY-----\n",
    "number": "4111111111111111\n",
    # strangers whose values used to fail while being read, before the file was known to be one:
    # each error quoted what it read (issue 17's follow-up)
    "duplicate-key": f"TOKEN: {SECRET}\nTOKEN: {SECRET}2\n",
    "tagged-value": f"TOKEN: !!int {SECRET}\n",
    "bool-tag": f"password: !!bool {SECRET}\n",
    "custom-tag": f"API_KEY: !vault {SECRET}\n",
    "tag-directive": f"%TAG !s! tag:{SECRET}:\n---\nUSER: !s!x 1\n",
    "verbatim-tag": f"USER: !<tag:{SECRET}> 1\n",
    "octal": "password: 0411111111\n",
    "list-key": f"? [{SECRET}]\n: 1\n",
}


@pytest.mark.parametrize("key", ["arch", "baseline"])
@pytest.mark.parametrize("kind", sorted(SECRET_FILES))
def test_budgets_pointing_at_a_secret(cli, tmp_path, kind, key):
    (tmp_path / "secret.env").write_text(SECRET_FILES[kind])
    ci = tmp_path / "ci"
    ci.mkdir()
    entry = "{arch: ../secret.env, max_madds: 1G}" if key == "arch" else \
        "{arch: mobilenet_v1, baseline: ../secret.env, max_madds: 1G}"
    f = _write(ci, "budgets.yaml", f"budgets:\n  - {entry}\n")
    run = cli("check", "--budgets", f, "--format", "json")
    line = assert_one_line_error(run, f"error: {f}:2:", f"budgets[0].{key}: ",
                                 "not an architecture: expected a YAML mapping with 'input' and 'layers'",
                                 "contents are not shown")
    for leak in (SECRET, "4111", "API_KEY", "password", "BEGIN", "USER"):
        assert leak not in line
    assert run.out == ""


@pytest.mark.parametrize("kind", sorted(SECRET_FILES))
def test_a_secret_passed_as_a_budgets_file_or_a_device_profile(cli, tmp_path, kind):
    s = _write(tmp_path, "secret.env", SECRET_FILES[kind])
    runs = [(cli("check", "--budgets", s), "not a budgets file: expected a YAML mapping with 'budgets'"),
            (cli("report", "mobilenet_v2", "--device", s), "not a device profile: expected a mapping with "
                                                         "'name' and 'constants'")]
    for run, expected in runs:
        line = assert_one_line_error(run, f"error: {s}: {expected}", "the file's contents are not shown")
        for leak in (SECRET, "4111", "API_KEY", "password", "BEGIN", "USER", "TOKEN", "vault"):
            assert leak not in line


def test_an_architecture_with_a_typo_still_gets_its_hint(cli, tmp_path):
    """A near miss of an architecture's keys is an architecture with a mistake, not a stranger."""
    _write(tmp_path, "net.yaml", "input: {resolution: 224}\nLayers:\n  - {kind: conv, c: 8}\n")
    f = _write(tmp_path, "budgets.yaml", "budgets:\n  - {arch: net.yaml, max_madds: 1G}\n")
    assert_one_line_error(cli("check", "--budgets", f), "unknown key 'Layers'; did you mean 'layers'?")


# --- scale: a budgets file costs each configuration once ---------------------------------------

def test_budgets_entries_share_their_analyses(cli, tmp_path, monkeypatch):
    """1,200 entries over 4 configurations (2 architecture files + a built-in, 2 α, a
    convention) are 5 analyses; each entry's numbers are its own configuration's."""
    import mbcost.analyses.budget as budget

    for name in ("a.yaml", "b.yaml"):
        (tmp_path / name).write_text((ROOT / "configs" / "mobilenet_v1.yaml").read_text())
    settings = ["arch: a.yaml", "arch: a.yaml, alpha: 0.5", "arch: b.yaml",
                "arch: mobilenet_v1, profile: keras", "arch: a.yaml, baseline: b.yaml, alpha: 0.5"]
    lines = [f"  - {{{settings[i % 5]}, name: e{i}, max_madds: 1G, max_params: 5M}}" for i in range(1200)]
    f = _write(tmp_path, "budgets.yaml", "budgets:\n" + "\n".join(lines) + "\n")
    calls = []
    real = budget.analyze
    monkeypatch.setattr(budget, "analyze", lambda *a, **k: calls.append(1) or real(*a, **k))
    run = cli("check", "--budgets", f, "--format", "json")
    assert run.code == 0, run.err
    assert len(calls) == 5  # a.yaml ×2 α, b.yaml, mobilenet_v1 keras, b.yaml at α 0.5 (the baseline)
    results = run.json()["budgets"]
    assert len(results) == 1200
    v1, half = mbcost.analyze("mobilenet_v1"), mbcost.analyze("mobilenet_v1", alpha=0.5)
    keras = mbcost.analyze("mobilenet_v1", convention=mbcost.PROFILES["keras"])
    assert keras.params == 4_253_864 and v1.params == 4_209_088  # as published (README)
    expected = [v1, half, v1, keras, half]
    for i, r in enumerate(results):
        got = {x["metric"]: x["count"] for x in r["results"]}
        want = expected[i % 5]
        assert (r["name"], got) == (f"e{i}", {"madds": want.madds, "params": want.params})


# --- 11. impossible conventions and values through the Python API ------------------------------

# (keyword arguments, the field the message names, what it says)
BAD_CONVENTIONS = [
    ({"classes": -5}, "classes", "expected a positive number of classes, got -5"),
    ({"classes": 0}, "classes", "expected a positive number of classes, got 0"),
    ({"classes": True}, "classes", "expected a positive number of classes, got true"),
    ({"classes": 10.0}, "classes", "got 10.0 (a float)"),
    ({"classes": "1000"}, "classes", "got '1000'"),
    ({"classes": 2**21}, "classes", "expected at most 1048576 classes, got 2097152"),
    ({"classes": 10**5000}, "classes", "got a 5001-digit number"),
    ({"bn": -3}, "bn", "expected 0, 1, 2, 3 or 4 numbers per batch-norm channel, got -3"),
    ({"bn": 7}, "bn", "got 7"),
    ({"bn": 5}, "bn", "got 5"),
    ({"bn": True}, "bn", "got true"),
    ({"bn": 2.0}, "bn", "got 2.0 (a float)"),
    ({"bn": None}, "bn", "got nothing (null)"),
    ({"bn": "2"}, "bn", "got '2'"),
    ({"bias": "no"}, "bias", "expected true or false, got 'no'"),
    ({"bias": 0}, "bias", "expected true or false, got 0"),
    ({"flops": 1}, "flops", "expected true or false, got 1"),
    ({"flops": None}, "flops", "got nothing (null)"),
    ({"name": ""}, "name", "expected a non-empty name, got ''"),
]


@pytest.mark.parametrize("kwargs, field, says", BAD_CONVENTIONS, ids=[f"{f}-{s[-14:]}" for _, f, s in BAD_CONVENTIONS])
def test_impossible_conventions_are_refused_everywhere(kwargs, field, says):
    for make in (lambda: mbcost.Convention(**kwargs),
                 lambda: mbcost.PROFILES["keras"].changed(**kwargs),
                 lambda: mbcost.PROFILES["torchvision"].with_(**kwargs) if None not in kwargs.values()
                 else mbcost.Convention(**kwargs)):
        with pytest.raises(UsageError) as info:
            make()
        assert info.value.field == field and says in info.value.message, str(info.value)
        assert str(info.value).startswith(f"{field}: ")


def test_numpy_integers_are_integers():
    np = pytest.importorskip("numpy")
    c = mbcost.Convention(bn=np.int64(2), classes=np.int32(10))
    assert (c.bn, c.classes) == (2, 10) and type(c.bn) is int
    assert mbcost.analyze("mobilenet_v1", convention=c).params == \
        mbcost.analyze("mobilenet_v1", convention=mbcost.Convention(bn=2, classes=10)).params


# the same values from a flag, a budgets file and a published-data file name their own field
@pytest.mark.parametrize("key, value, says", [
    ("bn", "-3", "expected 0, 1, 2, 3 or 4 numbers per batch-norm channel, got -3"),
    ("bn", "7", "got 7"),
    ("bn", "true", "got true"),
    ("bn", "2.5", "got 2.5 (a float)"),
    ("classes", "-5", "expected a positive number of classes, got -5"),
    ("classes", "true", "got true"),
    ("classes", "2000000", "expected at most 1048576 classes"),
    ("bias", "1", "expected true or false, got 1"),
    ("bias", "'yes'", "expected true or false, got 'yes'"),
])
def test_conventions_in_files_name_their_field(cli, tmp_path, key, value, says):
    f = _write(tmp_path, "budgets.yaml", f"budgets:\n  - arch: mobilenet_v1\n    {key}: {value}\n"
                                         "    max_madds: 1G\n")
    assert_one_line_error(cli("check", "--budgets", f), f"error: {f}:3:{7 + len(key)}: budgets[0].{key}: ", says)
    data = PUBLISHED.format(value=1).replace('"569", alpha: 1', f'"569", convention: {{profile: keras, {key}: {value}}}')
    g = _write(tmp_path, "published.yaml", data)
    assert_one_line_error(cli("reproduce", "--data", g), f"error: {g}:8:", f"tables[0].rows[0].convention.{key}: ",
                          says)


@pytest.mark.parametrize("flags, flag, says", [
    (["--bn", "-3"], "--bn", "got -3"),
    (["--bn", "5"], "--bn", "got 5"),
    (["--classes", "-5"], "--classes", "expected a positive number of classes, got -5"),
    (["--classes", "1048577"], "--classes", "expected at most 1048576 classes, got 1048577"),
])
def test_convention_flags_keep_their_names(cli, flags, flag, says):
    for command in (["report", "mobilenet_v1"], ["check", "mobilenet_v1", "--max-madds", "1G"],
                    ["sweep", "mobilenet_v1"], ["diff", "mobilenet_v1", "mobilenet_v2"]):
        assert_one_line_error(cli(*command, *flags), f"error: {flag}: ", says)


@pytest.mark.parametrize("alphas, says", [
    (b"12", "got bytes b'12'"),
    (bytearray(b"0.5"), "got bytearray b'0.5'"),
    (memoryview(b"1"), "got memoryview b'1'"),
    ({1: 2}, "got a dict"),
    ([object()], "got a value of type object"),
    ([[0.5, 1]], "got a value of type list"),
])
def test_sweep_refuses_what_is_not_a_list_of_numbers(alphas, says):
    with pytest.raises(UsageError, match=re_escape(says)) as info:
        mbcost.sweep_grid("mobilenet_v1", alphas=alphas)
    assert info.value.field == "--alpha"


def re_escape(text: str) -> str:
    import re

    return re.escape(text)


def test_a_valid_sweep_still_gives_the_papers_numbers():
    g = mbcost.sweep_grid("mobilenet_v1", alphas=[1, "0.75", Fraction(1, 2)], resolutions=(224,))
    assert [p.madds for p in g] == [568_740_352, 325_400_448, mbcost.analyze("mobilenet_v1", alpha=0.5).madds]
    assert 149_000_000 <= g.points[2].madds < 150_000_000  # the V1 paper's 149M


# --- 5. exact decimals with thousands of digits ---------------------------------------------------

TINY = "0." + "0" * 4999 + "1"  # 5,002 characters: past Python's 4,300-digit int/str limit
SHORTER = "0." + "0" * 3999 + "1"  # under the limit, so only a length cap stops it
LONG_INT = "1" * 5000

# (flags, the flag named, what the message says) — on every command that has the flag
HUGE_FLAGS = [
    (["--alpha", TINY], "--alpha", "got a 5002-character value"),
    (["--alpha", SHORTER], "--alpha", "got a 4002-character value"),
    (["--alpha", "1/" + LONG_INT], "--alpha", "got a 5002-character value"),
    (["--rho", TINY], "--rho", "got a 5002-character value"),
    (["--resolution", LONG_INT], "--resolution", "got a 5000-character value"),
    (["--resolution", "2" * 60], "--resolution", "got a 60-character value"),
]


def _huge_flag_runs():
    for flags, flag, says in HUGE_FLAGS:
        for name, recipe in arch_invocations():
            if has_option(name, flags[0]):
                yield pytest.param(fill(recipe, "mobilenet_v1"), flags, flag, says,
                                   id=f"{flag}-{len(flags[1])}-{name}")
    for flags, flag, says in [  # sweep's lists and ranges have the same cap (they did not)
        (["--alpha", f"1,{TINY}"], "--alpha", "got a 5002-character value"),
        (["--alpha", f"1,{SHORTER}"], "--alpha", "got a 4002-character value"),
        (["--alpha", f"0.5:1:{SHORTER}"], "--alpha", "got a 4002-character value"),
        (["--alpha", f"{SHORTER}:1:0.25"], "--alpha", "got a 4002-character value"),
        (["--resolution", f"224,{LONG_INT}"], "--resolution", "got a 5000-character value"),
        (["--rho", f"0.5:1:{SHORTER}"], "--rho", "got a 4002-character value"),
    ]:
        yield pytest.param(["sweep", "mobilenet_v1"], flags, flag, says, id=f"sweep-list-{flags[1][:8]}")


@pytest.mark.parametrize("argv, flags, flag, says", list(_huge_flag_runs()))
def test_thousands_of_digits_in_a_flag(cli, argv, flags, flag, says):
    run = cli(*argv, *flags)
    line = assert_one_line_error(run, f"error: {flag}: ", says)
    assert len(line) < 300 and run.out == ""


@pytest.mark.parametrize("value, says", [
    (f'"{TINY}"', "expected a number for α, got a 5002-character value"),
    (f'"{SHORTER}"', "expected a number for α, got a 4002-character value"),
    (TINY, "expected a number, got a 5002-character value"),  # a YAML float
    (LONG_INT, "expected an integer, got a 5000-character value"),
    (f'"1/{LONG_INT[:70]}"', "got a 72-character value"),
])
def test_thousands_of_digits_in_a_budgets_file(cli, tmp_path, value, says):
    f = _write(tmp_path, "budgets.yaml", f"budgets:\n  - arch: mobilenet_v1\n    alpha: {value}\n    max_madds: 1G\n")
    line = assert_one_line_error(cli("check", "--budgets", f), f"error: {f}:3:12: budgets[0].alpha: ", says)
    assert len(line) < 300


@pytest.mark.parametrize("call, says", [
    (lambda: mbcost.analyze("mobilenet_v1", alpha=Fraction(1, 10**5000)), "got a fraction of 1 over 5001 digits"),
    (lambda: mbcost.analyze("mobilenet_v1", alpha=10**5000), "got a 5001-digit number"),
    (lambda: mbcost.analyze("mobilenet_v1", alpha=Fraction(3, 10**61)), "of at most 60 digits"),
    (lambda: mbcost.analyze("mobilenet_v1", alpha=TINY), "got a 5002-character value"),
    (lambda: mbcost.analyze("mobilenet_v1", rho=Fraction(10**5000 + 1, 10**5000)), "got a fraction of 5001 over"),
    (lambda: mbcost.analyze("mobilenet_v1", resolution=10**5000), "got a 5001-digit number"),
    (lambda: mbcost.analyze("mobilenet_v1", resolution=LONG_INT), "got a 5000-character value"),
    (lambda: mbcost.sweep_grid("mobilenet_v1", alphas=[1, Fraction(1, 10**5000)]), "over 5001 digits"),
    (lambda: mbcost.sweep_grid("mobilenet_v1", alphas=[10**5000]), "got a 5001-digit number"),
    (lambda: mbcost.sweep_grid("mobilenet_v1", resolutions=[224, 10**5000]), "got a 5001-digit number"),
    (lambda: mbcost.sweep_grid("mobilenet_v1", alphas=TINY), "got a 5002-character value"),
    (lambda: __import__("mbcost.analyses.budget", fromlist=["x"]).parse_size(10**5000), "5001-digit number"),
], ids=lambda x: "" if callable(x) else x[:20])
def test_thousands_of_digits_through_the_api(call, says):
    with pytest.raises(MbcostError) as info:
        call()
    assert says in str(info.value) and len(str(info.value)) < 300, str(info.value)[:300]


def test_the_smallest_exact_alpha_still_works():
    """The caps are far from real values: 1e-50 and a 48-digit decimal are still exact α."""
    assert mbcost.analyze("mobilenet_v1", alpha="1e-50").alpha == Fraction(1, 10**50)
    assert mbcost.analyze("mobilenet_v1", alpha="0." + "3" * 48).alpha == Fraction(int("3" * 48), 10**48)


# --- 4, 8, 9. stdout closed, full, piped into a reader that has gone, or unable to encode α -----

import json
import os
import subprocess
import sys

# one invocation per command, and what its output must contain when it arrives
STDOUT_COMMANDS = [
    (["report", "mobilenet_v1"], 0, "568,740,352"),
    (["report", "mobilenet_v2", "--alpha", "0.75", "--format", "json"], 0, "209069792"),
    (["report", "mobilenet_v1", "--format", "csv"], 0, "conv1,conv"),
    (["verify", "mobilenet_v1"], 0, "mobilenet_v1"),
    (["verify", "mobilenet_v2", "--format", "json"], 0, '"bottlenecks"'),
    (["sweep", "mobilenet_v1", "--alpha", "1,0.5"], 0, "224"),
    (["diff", "mobilenet_v1", "mobilenet_v1_shallow"], 0, "261,416,960"),
    (["diff", "mobilenet_v1", "--alpha-b", "0.5", "--format", "md"], 0, "|"),
    (["check", "mobilenet_v1", "--max-madds", "1G"], 0, "within budget"),
    (["check", "mobilenet_v1", "--max-madds", "1M"], 1, "OVER BUDGET"),
    (["check", "mobilenet_v1", "--max-madds", "1M", "--format", "junit"], 1, "<testsuites"),
    (["reproduce", "--source", "keras"], 0, "4,253,864"),
]
STDOUT_IDS = [" ".join(a[:3]) for a, _, _ in STDOUT_COMMANDS]
# --help and --version go through the same stdout path, so every stdout test runs them too
HELP_RUNS = [(["--help"], 0, "Examples"), (["report", "--help"], 0, "Examples"),
             (["sweep", "--help"], 0, "--resolution"), (["check", "--help"], 0, "--max-madds"),
             (["--version"], 0, "mbcost ")]
HELP_IDS = [" ".join(a) for a, _, _ in HELP_RUNS]
STDOUT_RUNS, RUN_IDS = STDOUT_COMMANDS + HELP_RUNS, STDOUT_IDS + HELP_IDS


def _mbcost(args, env=None, **kw):
    full_env = {**os.environ, "NO_COLOR": "1", **(env or {})}
    full_env.pop("GITHUB_STEP_SUMMARY", None)
    return subprocess.run([sys.executable, "-m", "mbcost", *args], env=full_env, cwd=ROOT,
                          stderr=subprocess.PIPE, **kw)


def _one_error_line(r) -> str:
    err = r.stderr.decode("utf-8", "replace")
    assert "Traceback" not in err, err
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    return lines[0]


def closed(args, code, shows):
    """`>&-`: Python starts with no sys.stdout; the output cannot go anywhere, so exit 2."""
    r = _mbcost(args, preexec_fn=lambda: os.close(1))
    assert r.returncode == 2, r.stderr
    assert _one_error_line(r) == "error: stdout: closed, so the output cannot be written; " \
                                 "redirect it (> FILE or > /dev/null) or use --output"


def full(args, code, shows):
    """/dev/full: every write fails: exit 2, one line."""
    with open("/dev/full", "wb") as f:
        r = _mbcost(args, stdout=f)
    assert r.returncode == 2
    assert _one_error_line(r) == "error: stdout: cannot write: No space left on device"


def broken_pipe(args, code, shows):
    """The reader has gone before the first write: exit 141 (as a program killed by SIGPIPE),
    nothing on stderr — never 1 ('over budget') and never 0 (nobody read the output)."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        r = _mbcost(args, stdout=write_end)
    finally:
        os.close(write_end)
    assert r.returncode == 141, r.stderr
    assert r.stderr == b""


def unencodable(args, code, shows, encoding="ascii:strict"):
    """A stdout that cannot encode α (or ×, ·, —): replaced, never a crash; JSON stays JSON."""
    r = _mbcost(args, env={"PYTHONIOENCODING": encoding}, stdout=subprocess.PIPE)
    assert r.returncode == code, r.stderr
    assert r.stderr == b""
    text = r.stdout.decode(encoding.split(":")[0])  # every byte is in the encoding
    assert shows in text
    if "--format" in args and "json" in args:
        json.loads(text)  # replacing α keeps the JSON valid


# Every run goes through the one stdout path (cli/io.py), so each command gets one hostile
# stdout and each hostile stdout several commands; every encoding runs on the table and on the
# help (rich draws it on a console of its own): 27 processes, where 8 per run were 136.
HOSTILE = [closed, full, broken_pipe, unencodable]
HOSTILE_RUNS = [pytest.param(HOSTILE[i % len(HOSTILE)], *run, id=f"{HOSTILE[i % len(HOSTILE)].__name__}-{ident}")
                for i, (run, ident) in enumerate(zip(STDOUT_RUNS, RUN_IDS))]
assert {p.values[0] for p in HOSTILE_RUNS} == set(HOSTILE)


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize("case, args, code, shows", HOSTILE_RUNS)
def test_a_hostile_stdout(case, args, code, shows):
    case(args, code, shows)


def test_closed_stdout_is_fine_with_output(tmp_path):
    out = tmp_path / "r.json"
    r = _mbcost(["report", "mobilenet_v1", "--format", "json", "--output", str(out)],
                preexec_fn=lambda: os.close(1))
    assert r.returncode == 0 and r.stderr == b""
    assert json.loads(out.read_text())["totals"]["madds"] == 568_740_352


def test_broken_pipe_midway():
    """`| head -c1` on a long output (5,104 CSV rows, 137 KB). Whether the pipe breaks depends
    on how much the OS buffers (64 KiB on Linux, more in some sandboxes), so either the whole
    output went into the pipe (0) or the pipe broke (141); never a message or another code.
    test_a_hostile_stdout's broken pipes are the deterministic case."""
    p = subprocess.Popen([sys.executable, "-m", "mbcost", "sweep", "mobilenet_v2", "--alpha", "0.25:2.0:0.01",
                          "--resolution", "96:320:8", "--format", "csv"], cwd=ROOT,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    first = p.stdout.read(1)
    p.stdout.close()
    err = p.stderr.read()
    assert p.wait() in (0, 141) and first == b"a" and err == b""


@pytest.mark.parametrize("encoding", ["ascii", "latin-1", "latin-1:strict", "cp1252", "ascii:strict"])
@pytest.mark.parametrize("args, code, shows", [STDOUT_RUNS[0], HELP_RUNS[0]], ids=["report", "help"])
def test_stdout_that_cannot_encode_alpha(encoding, args, code, shows):
    unencodable(args, code, shows, encoding)


def test_alpha_becomes_a_question_mark_not_a_crash():
    r = _mbcost(["report", "mobilenet_v1", "--alpha", "0.5"], env={"PYTHONIOENCODING": "ascii:strict"},
                stdout=subprocess.PIPE)
    assert r.returncode == 0
    assert r.stdout.decode("ascii").splitlines()[0].startswith("mobilenet_v1  ? = 0.5")


def test_error_lines_survive_an_ascii_stderr():
    r = _mbcost(["report", "mobilenet_v1", "--alpha", "0"], env={"PYTHONIOENCODING": "ascii:strict"},
                stdout=subprocess.PIPE)
    assert r.returncode == 2 and r.stdout == b""
    assert _one_error_line(r).startswith("error: --alpha: expected a width multiplier ")


# --- 7. control characters in names, and JUnit XML that every parser reads ------------------------

import xml.etree.ElementTree as ET

# control characters are shown escaped, as on every output (issue 26); what XML cannot hold at
# all (U+FFFE) is dropped
NASTY_NAMES = [
    ("\\x01bell", "\\x01bell"),
    ("\\e[31mred\\e[0m", "\\x1b[31mred\\x1b[0m"),
    ("nul\\0byte", "nul\\x00byte"),
    ("form\\ffeed\\vtab", "form\\x0cfeed\\x0btab"),
    ("\\x1f\\x7fdel", "\\x1f\\x7fdel"),
    ("\\uFFFEnot a char", "not a char"),
    ("<tag> & \\\"quotes\\\" ]]>", '<tag> & "quotes" ]]>'),
    ("α×β \\t tab\\r\\n", "α×β \\t tab\\r\\n"),
]


@pytest.mark.parametrize("written, kept", NASTY_NAMES, ids=[k[:10] for _, k in NASTY_NAMES])
@pytest.mark.parametrize("to", ["stdout", "file"])
def test_junit_with_control_characters_in_a_budget_name(cli, tmp_path, written, kept, to):
    f = _write(tmp_path, "budgets.yaml",
               f'budgets:\n  - {{arch: mobilenet_v1, name: "{written}", max_madds: 1M, max_params: 5M}}\n')
    out = tmp_path / "junit.xml"
    run = cli("check", "--budgets", f, "--format", "junit", *(["--output", out] if to == "file" else []))
    assert run.code == 1, run.err  # 568M mult-adds > 1M
    root = ET.parse(out).getroot() if to == "file" else ET.fromstring(run.out.encode())
    cases = root.findall("./testsuite/testcase")
    assert [c.get("name") for c in cases] == [f"{kept} (α 1.0, 224×224): mult-adds",
                                              f"{kept} (α 1.0, 224×224): parameters"]
    failure = cases[0].find("failure")
    assert failure is not None and failure.get("type") == "OverBudget"
    assert "568,740,352" in failure.get("message") and cases[1].find("failure") is None
    assert root.get("tests") == "2" and root.get("failures") == "1"


def test_junit_with_control_characters_in_paths_and_layer_names(cli, tmp_path):
    """The budgets file's own name (in the suite's name) and layer names (in a baseline's
    growth lines) are user text too; a file name that is not UTF-8 arrives as surrogates."""
    import os as _os

    net = tmp_path / "net.yaml"
    net.write_text('input: {resolution: 224}\nlayers:\n  - {kind: conv, c: 64, name: "wide\\x02\\x1b"}\n')
    old = tmp_path / "old.yaml"
    old.write_text('input: {resolution: 224}\nlayers:\n  - {kind: conv, c: 8, name: "wide\\x02\\x1b"}\n')
    name = _os.fsdecode(b"bud\x01gets\xff.yaml")
    f = tmp_path / name
    f.write_text("budgets:\n  - {arch: net.yaml, baseline: old.yaml, max_madds: 1000}\n")
    out = tmp_path / "junit.xml"
    run = cli("check", "--budgets", f, "--format", "junit", "--output", out)
    assert run.code == 1, run.err
    root = ET.parse(out).getroot()
    suite = root.find("testsuite")
    assert suite.get("name") == f"mbcost budgets ({tmp_path}/bud\\x01gets.yaml)"  # \xff: a lone surrogate, dropped
    text = suite.find("testcase/failure").text
    assert "wide" in text and "\x02" not in text and "\x1b" not in text


def test_junit_is_ascii_with_character_references():
    from mbcost.analyses.budget import Budget, Limit, check
    from mbcost.render.junit import check_junit

    xml = check_junit(check([Budget("α-net", "mobilenet_v1", (Limit("madds", 1),))]))
    assert xml.isascii() and "&#945;-net" in xml and "224&#215;224" in xml
    assert ET.fromstring(xml.encode("latin-1")).find("./testsuite/testcase").get("name").startswith("α-net (α 1.0")


# --- 2. rich markup in user text: printed as written, never read as markup ----------------------

# Names that rich would read as markup: a closing tag with nothing to close (MarkupError,
# exit 3 before), tags that silently vanished with the text between them, a link, an escape,
# a style with spaces, an emoji code and doubled brackets.
MARKUP_NAMES = ["[/]", "[bold]x", "[/bold]", "[red]r[/red]", "[link=https://e.x]l[/link]", "a\\[b]",
                "[bold red on blue]z", ":smile:", "[[x]]", "[dim]"]


def _markup_net(tmp_path: Path, name: str, c: int = 16, file: str = "net.yaml") -> Path:
    """conv → a separable block named ``name`` (a dw → pw pair) → fc; the architecture's own
    name is ``name`` too. json.dumps is a valid YAML double-quoted scalar."""
    q = json.dumps(name)
    return _write(tmp_path, file, f"name: {q}\ninput: {{resolution: 32, channels: 3}}\nlayers:\n"
                  f"  - {{kind: conv, c: 8, k: 3, s: 2, name: {json.dumps(name + '.stem')}}}\n"
                  f"  - {{kind: separable, c: {c}, name: {q}}}\n  - {{kind: fc, c: 10}}\n")


@pytest.mark.parametrize("name", MARKUP_NAMES)
def test_markup_in_names_through_verify(cli, tmp_path, name):
    run = cli("verify", _markup_net(tmp_path, name))
    assert run.code == 0, run.err
    assert f"{name}  α = 1.0  32×32 input" in run.out  # the title: the architecture's name
    assert f"{name}: dw → pw" in run.out  # the pair's row: the block's name
    assert "✓ all exact: 1 pair" in run.out


@pytest.mark.parametrize("name", MARKUP_NAMES[:4])
def test_markup_in_a_name_with_nothing_to_verify(cli, tmp_path, name):
    f = _write(tmp_path, "net.yaml", f"name: {json.dumps(name)}\ninput: {{resolution: 32}}\n"
                                     "layers:\n  - {kind: conv, c: 8}\n")
    run = cli("verify", f)
    assert run.code == 0, run.err
    assert f"{name}  α = 1.0  32×32 input: no depthwise separable pairs" in run.out


@pytest.mark.parametrize("name", MARKUP_NAMES)
def test_markup_in_names_through_diff(cli, tmp_path, name):
    a = _markup_net(tmp_path, name, 16, "a.yaml")
    b = _markup_net(tmp_path, name, 32, "b.yaml")
    run = cli("diff", a, b, "--all")
    assert run.code == 0, run.err
    cells = [re.split(r"\s{2,}", line.strip()) for line in run.out.splitlines()]
    rows = {c[1]: c[0] for c in cells if c[0] in ("unchanged", "changed")}
    # the stem and the depthwise layer keep their shapes; pw (16 → 32 channels) and fc change
    assert rows == {f"{name}.stem": "unchanged", f"{name}.dw": "unchanged", f"{name}.pw": "changed",
                    "fc1": "changed"}, run.out


@pytest.mark.parametrize("names", [("[bold]a", "[/]b"), ("[red]x[/red]", "[link=y]z"), (":x:", "[[q]]")])
def test_markup_in_file_names_through_diff(cli, tmp_path, monkeypatch, names):
    monkeypatch.chdir(tmp_path)  # short relative paths: the title fits on one line
    a, b = (n.replace("/", "") + ".yaml" for n in names)
    _markup_net(tmp_path, "n", 16, a), _markup_net(tmp_path, "n", 32, b)
    run = cli("diff", a, b)
    assert run.code == 0, run.err
    assert run.out.splitlines()[0].startswith(f"{a} (α 1.0, 32×32)  →  {b} (α 1.0, 32×32)")


@pytest.mark.parametrize("name", MARKUP_NAMES)
def test_markup_through_reproduce(cli, tmp_path, name):
    """A published-numbers file's label, table, citation and note are user text too."""
    q = json.dumps(name)
    # 568,740,352 mult-adds is 568.74M: truncated to '568' it matches, and '569' matches rounded
    f = _write(tmp_path, "published.yaml",
               f"sources:\n  s: {{citation: {q}}}\ntables:\n  - source: s\n    table: {q}\n"
               f"    architecture: mobilenet_v1\n    note: {q}\n    rows:\n"
               f"      - {{label: {q}, madds: \"568\"}}\n")
    run = cli("reproduce", "--data", f)
    assert run.code == 0, run.err
    lines = run.out.splitlines()
    assert f"s: {name}" in lines and f"  {name}  ·  convention paper (bn=0, no bias)" in lines
    assert f"  {name}" in lines  # the table's note
    assert any(line.startswith(f"✓  {name} ") and line.rstrip().endswith("568M") for line in lines), run.out


@pytest.mark.parametrize("name", MARKUP_NAMES[:5])
def test_markup_in_budget_names_through_check(cli, tmp_path, name):
    f = _write(tmp_path, "budgets.yaml",
               f"budgets:\n  - {{arch: mobilenet_v1, name: {json.dumps(name)}, max_madds: 1M}}\n")
    run = cli("check", "--budgets", f)
    assert run.code == 1, run.err
    assert run.out.startswith(f"FAIL  {name} (α 1.0, 224×224): mult-adds 568,740,352 > limit 1,000,000")


# --- 12 (continued). ARCH, diff's sides and --baseline never quote a file that is not an architecture

@pytest.mark.parametrize("kind", sorted(SECRET_FILES))
@pytest.mark.parametrize("where", ["report", "verify", "diff-a", "diff-b", "baseline", "sweep"])
def test_a_secret_passed_as_an_architecture(cli, tmp_path, kind, where):
    s = _write(tmp_path, "secret.env", SECRET_FILES[kind])
    argv = {"report": ["report", s], "verify": ["verify", s], "diff-a": ["diff", s, "mobilenet_v1"],
            "diff-b": ["diff", "mobilenet_v1", s], "sweep": ["sweep", s, "--alpha", "1"],
            "baseline": ["check", "mobilenet_v1", "--max-madds", "1G", "--baseline", s]}[where]
    line = assert_one_line_error(cli(*argv), f"error: {s}: not an architecture: expected a YAML mapping "
                                             "with 'input' and 'layers'", "the file's contents are not shown")
    for leak in (SECRET, "4111", "API_KEY", "password", "BEGIN", "USER", "service_account"):
        assert leak not in line


def test_an_architecture_with_a_mistake_is_still_quoted(cli, tmp_path):
    """A file with an architecture's keys is one with a mistake: its messages stay precise."""
    f = _write(tmp_path, "net.yaml", "input: {resolution: 224}\nLayers:\n  - {kind: conv, c: 8}\n")
    assert_one_line_error(cli("report", f), f"error: {f}:2:1: Layers: unknown key 'Layers'; did you mean 'layers'?")


# --- 10. NO_COLOR and non-terminals, through one function (mbcost.cli.io.styled) ------------------

@pytest.mark.parametrize("value, tty, expected", [
    (None, True, True),     # a person at a terminal
    ("1", True, False),     # NO_COLOR set: never
    ("0", True, False),     # any non-empty value counts (no-color.org)
    ("", True, True),       # the empty string does not
    (None, False, False),   # a pipe or a file: never
])
def test_styled_is_one_function(monkeypatch, value, tty, expected):
    from mbcost.cli import io as mio
    from mbcost.cli import options

    if value is None:
        monkeypatch.delenv("NO_COLOR", raising=False)
    else:
        monkeypatch.setenv("NO_COLOR", value)
    monkeypatch.setattr(mio, "isatty", lambda: tty)
    assert mio.styled() is expected and options.styled() is expected


class _Tty:
    def isatty(self):
        return True


def test_styled_for_stderr(monkeypatch):
    from mbcost.cli import io as mio

    monkeypatch.delenv("NO_COLOR", raising=False)
    assert mio.styled(_Tty()) and not mio.styled(object())  # no isatty at all: not a terminal
    monkeypatch.setenv("NO_COLOR", "1")
    assert not mio.styled(_Tty())


def _in_a_terminal(args, env):
    """Run mbcost with stdout and stderr on a pseudo-terminal; all it printed, as bytes."""
    import pty

    pid, fd = pty.fork()
    if pid == 0:  # the child: exec mbcost with the terminal as its stdout
        os.chdir(ROOT)
        os.execve(sys.executable, [sys.executable, "-m", "mbcost", *args],
                  {**{k: v for k, v in os.environ.items() if k != "NO_COLOR"}, **env})
    out = b""
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # the child has exited and the terminal closed
            break
        if not chunk:
            break
        out += chunk
    os.waitpid(pid, 0)
    os.close(fd)
    return out


TTY_RUNS = [
    ["check", "mobilenet_v1", "--max-madds", "1M"],
    ["check", "mobilenet_v1", "--max-madds", "1G"],
    ["report", "mobilenet_v1"],
    ["verify", "mobilenet_v1"],
    ["diff", "mobilenet_v1", "--alpha-b", "0.5"],
    ["reproduce", "--source", "keras"],
    ["report", "--help"],
    ["--help"],
]


@pytest.mark.parametrize("args", TTY_RUNS, ids=[" ".join(a[:2]) for a in TTY_RUNS])
def test_no_color_at_a_terminal(args):
    """At a terminal each command styles its output; with NO_COLOR, none of them does."""
    assert b"\x1b[" in _in_a_terminal(args, {})
    plain = _in_a_terminal(args, {"NO_COLOR": "1"})
    assert b"\x1b[" not in plain and len(plain) > 100, plain[:200]


# --- no command: the help on stdout, and one error line ----------------------------------------------

def test_no_command_is_help_and_one_line(cli):
    r = _mbcost([], stdout=subprocess.PIPE)
    assert r.returncode == 2 and b"Examples" in r.stdout
    from mbcost.cli.app import COMMANDS

    assert _one_error_line(r) == f"error: give a command: {', '.join(COMMANDS)} (see 'mbcost --help')"


# --- 11 (continued). wrong types through the Python API: one error naming the parameter ---------

API_MISUSES = [
    (lambda: mbcost.analyze("mobilenet_v1", convention="keras"), "convention",
     "got 'keras'; for the 'keras' profile pass mbcost.PROFILES['keras']"),
    (lambda: mbcost.analyze("mobilenet_v1", convention="tf-slim"), "convention", "got 'tf-slim'; the profiles are"),
    (lambda: mbcost.analyze("mobilenet_v1", convention={"bn": 2}), "convention", "got a value of type dict"),
    (lambda: mbcost.analyze("mobilenet_v1", convention=None), "convention", "got None"),
    (lambda: mbcost.analyze("mobilenet_v1", convention=2), "convention", "got 2"),
    (lambda: mbcost.sweep_grid("mobilenet_v1", convention="paper"), "convention", "got 'paper'"),
    (lambda: mbcost.sweep("mobilenet_v1", convention=mbcost.PROFILES), "convention", "got a value of type dict"),
    (lambda: mbcost.analyze(123), "arch", "got a value of type int"),
    (lambda: mbcost.analyze(None), "arch", "got None"),
    (lambda: mbcost.analyze(b"mobilenet_v1"), "arch", "got a value of type bytes"),
    (lambda: mbcost.analyze(["mobilenet_v1"]), "arch", "got a value of type list"),
    (lambda: mbcost.sweep_grid(("mobilenet_v1",), alphas=[1]), "arch", "got a value of type tuple"),
    (lambda: mbcost.load(3.5), "arch", "got a value of type float"),
]


@pytest.mark.parametrize("call, field, says", API_MISUSES, ids=[f"{f}-{s[4:18]}" for _, f, s in API_MISUSES])
def test_wrong_types_through_the_api(call, field, says):
    with pytest.raises(MbcostError) as info:
        call()
    assert info.value.field == field and says in info.value.message, str(info.value)
    assert str(info.value).startswith(f"{field}: expected ")


def test_right_types_through_the_api_still_work():
    """A profile from PROFILES, and a path as any os.PathLike, give the papers' numbers."""
    import pathlib

    assert mbcost.analyze("mobilenet_v1", convention=mbcost.PROFILES["paper"]).madds == 568_740_352
    assert mbcost.analyze(pathlib.PurePath(ROOT / "configs" / "mobilenet_v1.yaml")).madds == 568_740_352


# --- scale: the sweep's progress bar is for a person at a terminal only ---------------------------

def test_a_long_sweep_shows_a_bar_at_a_terminal_only(cli, tmp_path):
    """0.25:1.0:0.0025 is (1 − 0.25)/0.0025 + 1 = 301 α, above the bar's 300."""
    out = tmp_path / "grid.csv"
    args = ["sweep", "mobilenet_v1", "--alpha", "0.25:1.0:0.0025", "-o", str(out)]
    shown = _in_a_terminal(args, {"NO_COLOR": "1"})
    assert b"sweep mobilenet_v1" in shown and b"301/301" in shown
    assert b"\x1b[3" not in shown  # no colour with NO_COLOR (the bar still moves the cursor)
    run = cli(*args)  # stderr captured, not a terminal: nothing at all
    assert run.code == 0 and run.err == "" and run.out == ""
    assert len(out.read_text().splitlines()) == 1 + 301
    small = _in_a_terminal(["sweep", "mobilenet_v1", "--alpha", "1,0.5", "-o", str(out)], {})
    assert small == b""  # two α: no bar, and nothing else either


def test_a_long_budgets_file_shows_a_bar_at_a_terminal_only(cli, tmp_path):
    """301 entries, above the bar's 300; the bar is erased, the verdicts stay."""
    entries = "".join(f"  - {{arch: mobilenet_v1, name: n{i}, max_madds: 600M}}\n" for i in range(301))
    f = _write(tmp_path, "budgets.yaml", "budgets:\n" + entries)
    shown = _in_a_terminal(["check", "--budgets", str(f)], {"NO_COLOR": "1"})
    assert b"check " in shown and b"301/301" in shown  # (a long path is cut to the terminal's width)
    assert shown.count("(α 1.0, 224×224)".encode()) == 301  # every verdict, after the bar
    run = cli("check", "--budgets", f)  # stderr captured, not a terminal: no bar
    assert run.code == 0 and run.err == "" and run.out.count("(α 1.0, 224×224)") == 301
    few = _write(tmp_path, "few.yaml", "budgets:\n" + entries.splitlines(keepends=True)[0])
    assert b"1/1" not in _in_a_terminal(["check", "--budgets", str(few)], {})
