"""Fuzzing the whole command line with mostly-invalid architectures and flags (issue 6).

Documents start from the built-in configs and are mutated — keys deleted, values replaced by
wrong types, NaN, ±inf, huge, zero or negative numbers, unknown kinds, random text and nested
junk, rows added and removed, the YAML text itself cut or corrupted — and run through every
command that reads an architecture, with random --alpha / --resolution / --rho / --format.
The contract: exit 0 (or 1, a failed check, for the commands that check), or exit 2 with
exactly one 'error: ' line on stderr; never a traceback, never a hang.

Bounded: a fixed number of examples, a deadline per example, and an alarm that turns a hang
into a failure instead of a stuck test run.
"""
from __future__ import annotations

import copy
import math
import os
import signal
from contextlib import contextmanager
from pathlib import Path

import pytest
import typer
import typer.testing
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from conftest import ROOT, all_commands
from mbcost.cli import app
from mbcost.core.kinds import KINDS as REGISTRY, writable
from mbcost.core.rows import COMMON

KINDS = writable()
ROW_KEYS = {name: COMMON + REGISTRY[name].keys for name in KINDS}  # each kind's keys, 'kind' first

COMMANDS = all_commands()
BUILTIN = "mobilenet_v1"
CONFIGS = {p.stem: yaml.safe_load(p.read_text()) for p in sorted((ROOT / "configs").glob("*.yaml"))}
CHECKING = {"verify", "check"}  # commands whose exit 1 means "a check failed", not a crash
# a hang guard, not a speed test: a large head built-in (Faster-RCNN 600 at a drawn resolution)
# takes seconds on an idle machine and many times that on a loaded one
HANG_SECONDS = 120


def _invocations() -> list[list[str]]:
    """Every command with an argument, the file in its first argument (as test_errors does)."""
    out = []
    for name, cmd in sorted(COMMANDS.items()):
        arguments = [p for p in cmd.params if p.param_type_name == "argument"]
        if arguments:
            extra = ["--max-madds", "1000000000000"] if name == "check" else []
            out.append([name, "{arch}"] + [BUILTIN] * (len(arguments) - 1) + extra)
    return out


INVOCATIONS = _invocations()


def _options(name: str) -> set[str]:
    return {o for p in COMMANDS[name].params for o in getattr(p, "opts", ())}


# --- values -------------------------------------------------------------------------------------

SPECIAL_NUMBERS = st.sampled_from([0, -1, -224, 1, 2, 3, 7, 1 << 20, (1 << 20) + 1, 10**20, 10**400, 10**99,
                                   math.nan, math.inf, -math.inf, 0.5, -0.0, 1e300, 2.0])
SCALARS = st.one_of(
    SPECIAL_NUMBERS,
    st.integers(min_value=-10, max_value=300),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
    st.text(max_size=12),
    st.sampled_from(list(KINDS) + ["conv2d", "transformer", "same", "valid", "relu6", "up", "input",
                                   "conv1", "block1.dw", "", " ", "2024-01-01", "=", "<<"]),
)
# values a row could plausibly hold, so that many documents get past validation to the graph
# (channels, groups, shapes along the layers) and the costing
PLAUSIBLE = st.one_of(
    st.integers(min_value=1, max_value=9),
    st.sampled_from([16, 24, 32, 96, 160, 1000, 1024, 1280, 4096]),
    st.sampled_from(["valid", "same", "relu", "linear", "up", "avg", "max", True, False]),
    st.sampled_from(["conv1", "block1.dw", "block1.pw", "block2.project", "block3.add", "input",
                     "pool1", "fc1", "stem"]),
    st.lists(st.integers(min_value=1, max_value=5), min_size=2, max_size=2),
)
NAMES = st.sampled_from(["conv1", "conv2", "block1.dw", "block1.pw", "block2.project", "block3.add",
                         "input", "pool1", "fc1", "stem", "dwconv1", "pwconv1"])
PAIR = st.lists(st.integers(min_value=1, max_value=5), min_size=2, max_size=2)
# well-typed values by key: documents that pass validation and fail (or not) in the graph —
# groups that do not divide, adds of different shapes, maps that shrink away
TYPED = {
    "c": st.integers(min_value=1, max_value=64) | st.sampled_from([96, 1000]),
    "k": st.integers(min_value=1, max_value=9) | PAIR,
    "s": st.integers(min_value=1, max_value=5) | PAIR,
    "n": st.integers(min_value=1, max_value=4),
    "t": st.integers(min_value=1, max_value=6),
    "groups": st.integers(min_value=1, max_value=8),
    "padding": st.sampled_from(["same", "valid", 0, 1, 2]),
    "act": st.sampled_from(["relu", "relu6", "linear", "hswish", "swish", "sigmoid"]),
    "bn": st.booleans(), "bias": st.booleans(), "global": st.booleans(),
    "scale": st.sampled_from([True, False, "up"]),
    "op": st.sampled_from(["avg", "max"]),
    "from": NAMES | st.lists(NAMES, min_size=1, max_size=3),
    "name": NAMES,
    "d": st.integers(min_value=1, max_value=3) | PAIR,
    "exp": st.integers(min_value=1, max_value=96),
    "multiplier": st.integers(min_value=1, max_value=3),
    "output_padding": st.integers(min_value=0, max_value=2),
    "ceil": st.booleans(),
    "sizes": st.lists(st.integers(min_value=1, max_value=32), min_size=1, max_size=3),
    "parts": st.lists(st.integers(min_value=1, max_value=4), min_size=1, max_size=3),
    "size": st.integers(min_value=1, max_value=64) | PAIR,
    "mode": st.sampled_from(["nearest", "bilinear"]),
    "se": st.sampled_from([0.25, 0.5, "1/4"]),
    "se_base": st.sampled_from(["exp", "in"]),
    "se_divisor": st.sampled_from([1, 8]),
    "se_act": st.sampled_from(["relu", "hswish"]),
    "se_gate": st.sampled_from(["sigmoid", "hsigmoid"]),
    "p": st.sampled_from([0.0, 0.2, 0.5]),
    "if": st.sampled_from([True, False, "1 == 1", "c > 3", "2 < 1 or not 1 == 2", "s =="]),
    "heads": st.integers(min_value=1, max_value=8),
    "key_dim": st.integers(min_value=1, max_value=32), "value_dim": st.integers(min_value=1, max_value=32),
    "multi_query": st.booleans(), "fused": st.booleans(), "qkv_bias": st.booleans(), "proj": st.booleans(),
    "proj_bias": st.booleans(), "offsets": st.integers(min_value=1, max_value=64),
    "kv_stride": st.integers(min_value=1, max_value=3), "kv_down": st.sampled_from(["dwconv", "conv", "pool"]),
    "kv_k": st.integers(min_value=1, max_value=5), "ratio": st.sampled_from([1, 2, 4, 2.5]),
    "hidden": st.integers(min_value=1, max_value=64), "affine": st.booleans(),
    "patch": st.integers(min_value=1, max_value=4) | PAIR, "like": NAMES, "weights": NAMES,
    "tokens": st.integers(min_value=1, max_value=3), "norm": st.booleans(),
    "head_dim": st.integers(min_value=1, max_value=32), "minus": NAMES,
    "resize": st.sampled_from(["bilinear", "nearest", "cubic"]),
}
# every key a kind takes has a strategy (a new key without one fails here, not in a fuzz run)
assert {k for keys in ROW_KEYS.values() for k in keys} - {"kind"} <= set(TYPED), \
    sorted({k for keys in ROW_KEYS.values() for k in keys} - {"kind"} - set(TYPED))
JUNK = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3)
                    | st.dictionaries(st.text(max_size=6), inner, max_size=3), max_leaves=8)
ROW_FIELDS = sorted({k for keys in ROW_KEYS.values() for k in keys} | {"kernel", "stride", "c_out"})
TOP_FIELDS = ["name", "title", "input", "classes", "width", "batch_norm", "activation", "layers",
              "inputs", "classes_"]


def _paths(doc, prefix=()):
    """Every (container, key) pair in the document, so a mutation can pick one."""
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield prefix + (k,)
            yield from _paths(v, prefix + (k,))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            yield prefix + (i,)
            yield from _paths(v, prefix + (i,))


def _parent(doc, path):
    for p in path[:-1]:
        doc = doc[p]
    return doc


@st.composite
def well_typed_documents(draw):
    doc = copy.deepcopy(CONFIGS[draw(st.sampled_from(sorted(CONFIGS)))])
    rows = doc["layers"]
    del rows[draw(st.integers(min_value=1, max_value=len(rows))):]
    doc["input"]["resolution"] = draw(st.integers(min_value=1, max_value=40) | PAIR)
    doc["input"]["channels"] = draw(st.integers(min_value=1, max_value=8))
    for _ in range(draw(st.integers(min_value=1, max_value=5))):
        if draw(st.booleans()):
            kind = draw(st.sampled_from(KINDS))
            row = {"kind": kind}
            for key in draw(st.lists(st.sampled_from(ROW_KEYS[kind][1:]), max_size=4)):
                row[key] = draw(TYPED[key])
            example = REGISTRY[kind].example  # the keys a row of the kind needs, from its own example
            for key in (example if isinstance(example, dict) else {}):
                row.setdefault(key, draw(TYPED[key]))
            rows.insert(draw(st.integers(min_value=0, max_value=len(rows))), row)
        else:
            # a row of a built-in kind (a file's own blocks, e.g. ResNet's res_basic, have their params)
            known = [r for r in rows if r["kind"] in ROW_KEYS]
            if known:
                row = known[draw(st.integers(min_value=0, max_value=len(known) - 1))]
                key = draw(st.sampled_from(ROW_KEYS[row["kind"]][1:]))
                row[key] = draw(TYPED[key])
    return yaml.safe_dump(doc, sort_keys=False).encode()


@st.composite
def documents(draw):
    if draw(st.booleans()):
        return draw(well_typed_documents())
    doc = copy.deepcopy(CONFIGS[draw(st.sampled_from(sorted(CONFIGS)))])
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        op = draw(st.sampled_from(["set_row_field", "set_row_field", "set_row_field", "set_top",
                                   "resolution", "delete", "replace", "add_row", "add_row", "drop_row",
                                   "shorten"]))
        rows = doc.get("layers") if isinstance(doc, dict) else None
        if op == "set_row_field" and isinstance(rows, list) and rows:
            row = rows[draw(st.integers(min_value=0, max_value=len(rows) - 1))]
            if isinstance(row, dict):
                keys = ROW_KEYS.get(row.get("kind"), ROW_FIELDS) if isinstance(row.get("kind"), str) else ROW_FIELDS
                key = draw(st.sampled_from(sorted(keys)) | st.sampled_from(ROW_FIELDS))
                row[key] = draw(PLAUSIBLE | PLAUSIBLE | SCALARS | JUNK)
        elif op == "set_top" and isinstance(doc, dict):
            doc[draw(st.sampled_from(TOP_FIELDS))] = draw(JUNK)
        elif op == "resolution" and isinstance(doc, dict) and isinstance(doc.get("input"), dict):
            doc["input"][draw(st.sampled_from(["resolution", "resolution", "channels", "scale"]))] = draw(
                st.integers(min_value=1, max_value=40) | st.integers(min_value=-2, max_value=12)
                | SPECIAL_NUMBERS | PLAUSIBLE | JUNK)
        elif op in ("delete", "replace"):
            paths = list(_paths(doc))
            if paths:
                path = draw(st.sampled_from(paths))
                parent = _parent(doc, path)
                if op == "delete":
                    del parent[path[-1]]
                else:
                    parent[path[-1]] = draw(JUNK)
        elif op == "add_row" and isinstance(rows, list):
            kind = draw(st.sampled_from(KINDS))
            row = {"kind": kind}
            for key in draw(st.lists(st.sampled_from(ROW_KEYS[kind]), max_size=4)):
                row[key] = draw(PLAUSIBLE | PLAUSIBLE | SCALARS)
            rows.insert(draw(st.integers(min_value=0, max_value=len(rows))), row)
        elif op == "drop_row" and isinstance(rows, list) and rows:
            rows.pop(draw(st.integers(min_value=0, max_value=len(rows) - 1)))
        elif op == "shorten" and isinstance(rows, list) and rows:
            del rows[draw(st.integers(min_value=1, max_value=len(rows))):]
    text = yaml.safe_dump(doc, sort_keys=False, allow_unicode=draw(st.booleans()))
    data = text.encode("utf-8")
    corruption = draw(st.sampled_from(["none", "none", "none", "cut", "insert"]))
    if corruption != "none" and data:
        i = draw(st.integers(min_value=0, max_value=len(data) - 1))
        if corruption == "cut":
            data = data[:i]
        else:
            data = data[:i] + draw(st.sampled_from([b"\xff", b"\x00", b"\t", b"{", b"- ", b"&a ", b"*a",
                                                    b"!!python/object:os.system ", b": :", b"\n  ",
                                                    # issue 17: tags on text, YAML 1.1 integers, huge numbers
                                                    b"!!bool maybe ", b"!!int ", b"!!float x ", b"!!null a ",
                                                    b"!!map ", b"0", b"0x", b"1:", b"+0", b"0b1",
                                                    b"9" * 150, b"0." + b"0" * 120])) + data[i:]
    return data


PLAUSIBLE_NUMBER = st.sampled_from(["0.25", "0.35", "0.5", "0.75", "1", "1.0", "1.3", "1.4", "2", "0.1",
                                    "0.714", "1", "2", "3", "7", "32", "96", "160", "224", "0.5,1", "1:2:0.5"])
NUMBER_TEXT = st.one_of(
    PLAUSIBLE_NUMBER, PLAUSIBLE_NUMBER,
    st.sampled_from(["0", "-1", "nan", "inf", "-inf", "abc", "", " ", "1e-400", "1e400", "1/0", "1/3",
                     "0.75", "1.4", "64", "65", "0.001", "1_0", "0x10", "1e-100000000", "--help",
                     # issue 17: thousands of digits, in a list and in a range
                     "0." + "0" * 4999 + "1", "1," + "0." + "0" * 3999 + "1", "0.5:1:0." + "0" * 3000 + "1",
                     "1/" + "7" * 4400, "9" * 5000]),
    st.floats().map(repr),
    st.integers(min_value=-10, max_value=10**6).map(str),
    st.fractions(min_value=-2, max_value=70, max_denominator=1000).map(str),
    st.text(max_size=8),
    st.builds(lambda a, b, c: f"{a}:{b}:{c}", st.sampled_from(["0", "0.25", "1", "-1", "nan"]),
              st.sampled_from(["1", "2", "64", "0"]), st.sampled_from(["0.25", "0", "-0.5", "1e-9"])),
)
FLAG_VALUES = {
    "--alpha": NUMBER_TEXT,
    "--rho": NUMBER_TEXT,
    "--resolution": NUMBER_TEXT,
    "--format": st.sampled_from(["table", "csv", "json", "md", "latex", "text", "junit", "xml", "", "JSON"])
    | st.text(max_size=5),
}


@st.composite
def flags(draw, name: str) -> list[str]:
    out = []
    for flag, values in FLAG_VALUES.items():
        if flag in _options(name) and draw(st.integers(min_value=0, max_value=2)) == 0:
            out += [flag, draw(values)]
    return out


# --- the contract -------------------------------------------------------------------------------


class Hang(BaseException):
    """Not an Exception, so neither the CLI's error path nor the runner can swallow it."""


@contextmanager
def alarm(seconds: int):
    def ring(signum, frame):
        raise Hang(f"no answer after {seconds} s")

    previous = signal.signal(signal.SIGALRM, ring)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz")


def run_cli(argv: list[str]):
    runner = typer.testing.CliRunner()
    with alarm(HANG_SECONDS):
        return runner.invoke(app, argv)


def assert_contract(name: str, argv: list[str], result, output: Path | None) -> None:
    err = result.stderr
    event(f"{name} exit {result.exit_code}")
    shown = f"mbcost {' '.join(map(repr, argv))}\nexit {result.exit_code}\nstderr: {err!r}"
    assert "Traceback" not in err + result.stdout, shown
    assert result.exit_code in ((0, 1, 2) if name in CHECKING else (0, 2)), shown
    if result.exit_code == 2:
        lines = err.splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), shown
        assert not lines[0].startswith("error: internal error"), shown
        if output is not None:
            assert not output.exists(), shown
    else:
        assert result.exception is None or isinstance(result.exception, SystemExit), shown


# 200 examples per test keep this file near 6 s on two cores; MBCOST_FUZZ_EXAMPLES=20000 for a
# longer hunt
SETTINGS = settings(max_examples=int(os.environ.get("MBCOST_FUZZ_EXAMPLES", 200)), deadline=None,
                    database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@SETTINGS
@given(data=st.data())
def test_random_documents_and_flags(workdir, data):
    argv_template = data.draw(st.sampled_from(INVOCATIONS), label="command")
    name = argv_template[0]
    arch = workdir / "net.yaml"
    arch.write_bytes(data.draw(documents(), label="document"))
    argv = [str(arch) if a == "{arch}" else a for a in argv_template] + data.draw(flags(name), label="flags")
    output = None
    if "--output" in _options(name) and data.draw(st.booleans(), label="--output"):
        output = workdir / "out" / "result"
        output.parent.mkdir(exist_ok=True)
        output.unlink(missing_ok=True)
        argv += ["--output", str(output)]
    assert_contract(name, argv, run_cli(argv), output)


@SETTINGS
@given(data=st.data())
def test_random_flags_on_the_builtins(data):
    argv_template = data.draw(st.sampled_from(INVOCATIONS), label="command")
    name = argv_template[0]
    arch = data.draw(st.sampled_from(sorted(CONFIGS)), label="architecture")
    argv = [arch if a == "{arch}" else a for a in argv_template] + data.draw(flags(name), label="flags")
    assert_contract(name, argv, run_cli(argv), None)

