import json
from pathlib import Path

import pytest
import typer
import typer.testing
from typer.testing import CliRunner

from mbcost.cli import app

ROOT = Path(__file__).resolve().parent.parent
BUILTIN = "mobilenet_v1"


class Run:
    """One CLI invocation through the runner: exit code, stdout and stderr kept apart."""

    def __init__(self, result):
        self.code = result.exit_code
        self.out = result.stdout
        self.err = result.stderr
        self.exception = result.exception

    def json(self):
        return json.loads(self.out)


def kind_network(kind: str) -> str:
    """A 16×16×8 input, the kind's example (one row of it, named x, or its rows), a global pool
    (not after a vector: an fc's or a flatten's) and a classifier: the network every kind is
    checked in (tests/test_kinds.py and, through PyTorch and ONNX, tests/crosscheck)."""
    import yaml

    from mbcost.core.kinds import KINDS

    example = KINDS[kind].example
    rows = [dict(r) for r in example] if isinstance(example, list) else [{"kind": kind, "name": "x", **example}]
    assert kind in {r["kind"] for r in rows}
    # a split's parts are all read (a part nothing reads is an unused branch)
    join = [{"kind": "concat", "name": "join", "from": ["x.1", "x.0"]}] if kind == "split" else []
    pool = [] if rows[-1]["kind"] in ("fc", "flatten") else [{"kind": "pool", "global": True,
                                                               "from": "join" if kind == "split" else "x"}]
    tail = join + pool + [{"kind": "fc", "c": 10}]
    return yaml.safe_dump({"input": {"resolution": 16, "channels": 8}, "layers": rows + tail}, sort_keys=False)


def assert_one_line_error(run, *parts: str) -> str:
    """Bad input: exit 2, nothing on stdout, exactly one line on stderr starting 'error: ' and
    containing every part, never a traceback. The one bad-input check every test uses."""
    assert "Traceback" not in run.err + run.out, run.err
    assert run.exception is None or isinstance(run.exception, SystemExit), repr(run.exception)
    assert run.code == 2, (run.code, run.err)
    assert run.out == "", "nothing on stdout when the input is bad"
    lines = run.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), run.err
    for part in parts:
        assert part in lines[0], (part, lines[0])
    return lines[0]


# typer's runner rebuilds the click command from the annotations on every invoke (~14 ms);
# the suite makes thousands of invocations, so they share one build.
COMMAND = typer.main.get_command(app)


def all_commands() -> dict:
    """Every subcommand, loaded (the app imports a command's module only when it runs)."""
    return {name: COMMAND.get_command(None, name) for name in COMMAND.list_commands(None)}


@pytest.fixture(autouse=True)
def _build_the_command_once(monkeypatch):
    monkeypatch.setattr(typer.testing, "_get_command", lambda _app: COMMAND, raising=False)


@pytest.fixture
def cli():
    runner = CliRunner()

    def invoke(*args, input=None, env=None):
        return Run(runner.invoke(app, [str(a) for a in args], input=input, env=env))

    return invoke


# How a command that reads an architecture is given one ("{arch}" is the file under test).
# A command not listed gets the file in each of its arguments in turn, a built-in in the others.
RECIPES = {
    "check": [["check", "{arch}", "--max-madds", "1000000000000"],
              ["check", BUILTIN, "--max-madds", "1000000000000", "--baseline", "{arch}"]],
    "diff": [["diff", "{arch}", BUILTIN], ["diff", BUILTIN, "{arch}"]],
    "fit": [["fit", "{arch}", "--max-madds", "1000000000000", "--alpha", "1"]],
    "plot": [["plot", "layers", "{arch}", "-o", "never-written.png"],
             ["plot", "diff", BUILTIN, "{arch}", "-o", "never-written.png"]],
    "latency": [],  # reads a CSV of measurements, not an architecture (tests/test_latency.py)
}


def has_option(name: str, flag: str) -> bool:
    """Whether command ``name`` takes ``flag``."""
    return any(flag in getattr(p, "opts", ()) for p in all_commands()[name].params)


def arch_invocations() -> list[tuple[str, list[str]]]:
    """(command, recipe) for every way a command is given an architecture, found on the app."""
    out = []
    for name, cmd in sorted(all_commands().items()):
        arguments = [p for p in cmd.params if p.param_type_name == "argument"]
        if not arguments:
            continue
        recipes = RECIPES[name] if name in RECIPES else [
            [name] + ["{arch}" if j == i else BUILTIN for j in range(len(arguments))]
            for i in range(len(arguments))
        ]
        out += [(name, recipe) for recipe in recipes]
    return out


def fill(recipe: list[str], arch: str) -> list[str]:
    """A recipe with the architecture under test in its ``{arch}`` place."""
    return [arch if a == "{arch}" else a for a in recipe]
