"""Regenerate docs/peers.md's tables from the profiles themselves (issue 28).

    .venv/bin/python tools/peers_doc.py            # rewrites the generated blocks of docs/peers.md
    .venv/bin/python tools/peers_doc.py --check    # exit 1 if docs/peers.md is not what it would write

Each block sits between ``<!-- generated: NAME -->`` and ``<!-- end NAME -->``; the prose around
them is written by hand. The blocks: ``compare`` (``mbcost compare mobilenet_v2 --format md``),
``generic`` (what each counter prices on every layer: bias, batch norm, activations, from
mbcost.core.peers.PEERS), ``kinds`` (each kind's rule per counter, with the counter's file and
line: the kinds' ``peers`` facets), ``calls`` and ``presets`` (how an implementation may call each
op, and torchvision's and timm's presets: mbcost.core.peers.CALLS, PRESETS) and ``cases`` (the
counters' own unit-test cases, tests/data/peer_cases.yaml). tests/test_peers.py checks the file
is this script's output.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "peers.md"
CASES = ROOT / "tests" / "data" / "peer_cases.yaml"
BLOCK = re.compile(r"(<!-- generated: (\w+) -->\n)(.*?)(<!-- end \2 -->)", re.S)


def cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def table(head: list[str], rows: list[list]) -> str:
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    out += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return "\n".join(out) + "\n"


def compare_block() -> str:
    from typer.testing import CliRunner

    from mbcost.cli import app

    return CliRunner().invoke(app, ["compare", "mobilenet_v2", "--format", "md"]).stdout


def _by_how(coefficient) -> str:
    if isinstance(coefficient, int):
        return str(coefficient) if coefficient else "0"
    return "; ".join(f"{how}: {k}" for how, k in coefficient.items())


def _acts(table_: dict[str, int] | None) -> str:
    if not table_:
        return "0"
    by_k: dict[int, list[str]] = {}
    for act, k in table_.items():
        by_k.setdefault(k, []).append(act)
    return "; ".join(f"{k}: {', '.join(acts)}" for k, acts in sorted(by_k.items(), reverse=True))


def generic_block() -> str:
    from mbcost.core.peers import PEERS

    rows = []
    for p in PEERS.values():
        act = p.act or {}
        rows.append([f"**{p.name}**", p.tool, f"`{p.reads}`", "2 per multiply-accumulate (FLOPs)" if p.macs == 2 else "1",
                     p.bias, _by_how(p.bn), _by_how(p.bn_channels), _acts(act.get("module")),
                     _acts(act.get("functional")), p.needs_parameters or "—", p.source])
    return table(["counter", "tool", "total read as", "weights W", "bias (per addition)", "BN per element (by how "
                  "the BN is called)", "BN per channel", "activation module, per element", "activation called "
                  "functionally", "crashes", "source"], rows)


def kinds_block() -> str:
    from mbcost.core.kinds import KINDS
    from mbcost.core.kinds._peers import COUNTERS

    out, silent = [], []
    for name, k in KINDS.items():
        if k.peers is None or name == "opaque":  # opaque: an op mbcost does not cost (said below)
            continue
        if all(c.says == "nothing" for c in k.peers.values()):
            silent.append(f"`{name}`")
            continue
        out.append(f"### `{name}`\n\n" + table(["counter", "charges", "where the counter says so"],
                                                [[c, k.peers[c].says, k.peers[c].source] for c in COUNTERS]))
    composite = [f"`{n}`" for n, k in KINDS.items() if k.peers is None]
    return ("\n".join(out) + f"\nNo counter charges anything for {', '.join(silent)} (no hook, no patched function, no "
            f"aten formula reaches them). The composite kinds ({', '.join(composite)}) are costed as the layers "
            "they expand into; an `opaque` layer (an op mbcost does not cost) leaves every counter's total partial.\n")


def calls_block() -> str:
    from mbcost.core.peers import CALLS

    rows = [[f"`{op}`", f"`{how}`" + (" (default)" if i == 0 else ""), means]
            for op, hows in CALLS.items() for i, (how, means) in enumerate(hows.items())]
    return table(["op", "how", "what the code does"], rows)


def presets_block() -> str:
    from mbcost.core.peers import PRESETS

    rows = [[f"`{p.name}`", ", ".join(f"{k}: {v}" for k, v in p.calls.items()) or "(the defaults)", p.source]
            for p in PRESETS.values()]
    return table(["preset", "calls (differing from the defaults)", "what says so"], rows)


def cases_block() -> str:
    from mbcost.core.kinds._peers import COUNTERS

    cases = yaml.safe_load(CASES.read_text())
    rows = [[f"`{i}`", c["from"], *(c["counters"][k] for k in COUNTERS)] for i, c in cases.items()]
    return table(["case", "from the counter's test", *COUNTERS], rows)


BLOCKS = {"compare": compare_block, "generic": generic_block, "kinds": kinds_block, "calls": calls_block,
          "presets": presets_block, "cases": cases_block}


def render(text: str) -> str:
    """``text`` with every generated block rewritten."""
    found = {m.group(2) for m in BLOCK.finditer(text)}
    missing = set(BLOCKS) - found
    if missing:
        raise SystemExit(f"docs/peers.md has no block for {', '.join(sorted(missing))}")
    return BLOCK.sub(lambda m: m.group(1) + BLOCKS[m.group(2)]() + m.group(4), text)


def main(argv: list[str]) -> int:
    old = DOC.read_text()
    new = render(old)
    if "--check" in argv:
        if new != old:
            print("docs/peers.md differs from tools/peers_doc.py's output (run it)", file=sys.stderr)
            return 1
        return 0
    DOC.write_text(new)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
