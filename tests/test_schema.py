"""The output schema is pinned: every command's JSON keys and CSV header, per schema_version.

tests/data/schema_v<N>.json holds, for each invocation below, the JSON document's key paths
(``layers[].elements.macs``; keys that are data, such as an activation's name in a by-type
table, are ``*``) and the CSV header. Changing a key without bumping
``mbcost.render.formats.SCHEMA_VERSION`` fails here; after a deliberate change, bump the
version, list the change in CHANGELOG.md and write the new golden file with

    .venv/bin/python tests/test_schema.py --write
"""
from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path

import pytest

from mbcost.render.formats import SCHEMA_VERSION

DATA = Path(__file__).parent / "data"
GOLDEN = DATA / f"schema_v{SCHEMA_VERSION}.json"
MEASURED = DATA / "measured_pixel1.csv"

# one invocation per distinct document shape: (name, command line without --format)
INVOCATIONS = {
    "report": ["report", "mobilenet_v2"],
    "report --device": ["report", "mobilenet_v2", "--device", "pixel1"],
    "report --flops": ["report", "mobilenet_v1", "--flops"],
    "report --scales --flip": ["report", "mobilenet_v2", "--scales", "0.5,1", "--flip"],
    "sweep": ["sweep", "mobilenet_v1", "-a", "0.5,1", "-r", "160,224"],
    "sweep --rho --depth --device": ["sweep", "efficientnet_b0", "--rho", "1,0.5", "--depth", "1,2",
                                     "--device", "pixel1"],
    "diff": ["diff", "mobilenet_v1", "--alpha-b", "0.5"],
    "verify": ["verify", "mobilenet_v2"],
    "check": ["check", "mobilenet_v2", "--max-madds", "1G", "--baseline", "mobilenet_v1"],
    "compare": ["compare", "mobilenet_v2"],
    "reproduce": ["reproduce", "--source", "v1-paper"],
    "list": ["list"],
    "fit": ["fit", "mobilenet_v1", "--max-madds", "300M"],
    "latency fit": ["latency", "fit", str(MEASURED)],
}

# dicts whose keys are data (an activation, a pool type, a unit, a build, a constant), not schema
DATA_KEYED = ("_by_type", "components", "constants", "units", "builds", "fitted_shares")


def key_paths(value, prefix: str = "") -> set[str]:
    """Every key path of a JSON value; list items merged (``[]``), data-keyed dicts as ``*``."""
    out: set[str] = set()
    if isinstance(value, dict):
        data_keyed = prefix.rsplit(".", 1)[-1].endswith(DATA_KEYED)
        for k, v in value.items():
            p = f"{prefix}.{'*' if data_keyed else k}" if prefix else k
            out.add(p)
            out |= key_paths(v, p)
    elif isinstance(value, list):
        for v in value:
            out |= key_paths(v, prefix + "[]")
    return out


def shapes(cli) -> dict:
    """What the golden file records, computed now."""
    out = {}
    for name, args in INVOCATIONS.items():
        entry = {}
        run = cli(*args, "--format", "json")
        assert run.code in (0, 1), (name, run.err)
        doc = run.json()
        assert doc["schema_version"] == SCHEMA_VERSION
        entry["json"] = sorted(key_paths(doc))
        c = cli(*args, "--format", "csv")
        if c.code in (0, 1) and c.out:
            entry["csv"] = next(csv.reader(io.StringIO(c.out)))
        out[name] = entry
    return out


def test_every_command_writes_the_pinned_schema(cli):
    assert GOLDEN.is_file(), (f"schema_version {SCHEMA_VERSION} has no golden key list: write "
                              f"{GOLDEN.name} with `python tests/test_schema.py --write`")
    golden = json.loads(GOLDEN.read_text())
    now = shapes(cli)
    assert set(now) == set(golden)
    for name in now:
        for part in now[name]:
            added = sorted(set(now[name][part]) - set(golden[name][part]))
            gone = sorted(set(golden[name][part]) - set(now[name][part]))
            assert (added, gone) == ([], []), (
                f"{name} {part}: keys changed without a schema_version bump (added {added}, removed {gone})")
        assert now[name].get("csv") == golden[name].get("csv"), f"{name}: the CSV header (its order too)"


if __name__ == "__main__" and sys.argv[1:] == ["--write"]:
    from typer.testing import CliRunner

    from mbcost.cli import app

    def invoke(*args):
        r = CliRunner().invoke(app, [str(a) for a in args])
        r.json = lambda: json.loads(r.stdout)
        r.code, r.out, r.err = r.exit_code, r.stdout, r.stderr
        return r

    GOLDEN.write_text(json.dumps(shapes(invoke), indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {GOLDEN}")
elif __name__ == "__main__":
    pytest.main([__file__])
