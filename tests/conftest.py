import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mbcost.cli import app

ROOT = Path(__file__).resolve().parent.parent


class Run:
    """One CLI invocation through the runner: exit code, stdout and stderr kept apart."""

    def __init__(self, result):
        self.code = result.exit_code
        self.out = result.stdout
        self.err = result.stderr
        self.exception = result.exception

    def json(self):
        return json.loads(self.out)


@pytest.fixture
def cli():
    runner = CliRunner()

    def invoke(*args, input=None, env=None):
        return Run(runner.invoke(app, [str(a) for a in args], input=input, env=env))

    return invoke
