"""`mbcost diff`: layer alignment, deltas, and the table / JSON / Markdown outputs.

MobileNetV1 has 13 separable blocks; Shallow MobileNet drops the five 14×14×512 ones
(V1's block7…block11), so its block7 and block8 are V1's block12 and block13. The cost of
the removed blocks, from the papers' formulas (depthwise D_K²·M·D_F², pointwise M·N·D_F²)
with D_K = 3, M = N = 512, D_F = 14:
    each dw: 3·3·512·14² = 903,168 mult-adds, 3·3·512 = 4,608 weights
    each pw: 512·512·14² = 51,380,224 mult-adds, 512·512 = 262,144 weights
    total:   5 × (903,168 + 51,380,224) = 261,416,960 mult-adds; 5 × (4,608 + 262,144) = 1,333,760 weights
"""
from pathlib import Path

import pytest

import mbcost
from mbcost.analyses.diff import diff_reports
from conftest import assert_one_line_error
from _derive import v1_by_hand

DW, PW = 3 * 3 * 512 * 14**2, 512 * 512 * 14**2  # 903,168 and 51,380,224
REMOVED_MADDS = 5 * (DW + PW)  # 261,416,960
REMOVED_PARAMS = 5 * (3 * 3 * 512 + 512 * 512)  # 1,333,760
REMOVED = [f"block{i}.{r}" for i in range(7, 12) for r in ("dw", "pw")]


def test_acceptance_table(cli):
    r = cli("diff", "mobilenet_v1", "mobilenet_v1_shallow")
    assert r.code == 0, r.err
    rows = [ln.split() for ln in r.out.splitlines() if ln.lstrip().startswith("removed")]
    assert [row[1] for row in rows] == REMOVED
    assert all(f"-{DW:,}" in row for row in rows[0::2]) and all(f"-{PW:,}" in row for row in rows[1::2])
    assert f"-{REMOVED_MADDS:,}" in r.out  # -261,416,960, derived above
    assert "10 removed (blocks block7, block8, block9, block10, block11), 0 added, 0 changed" in r.out


def test_acceptance_json(cli):
    d = cli("diff", "mobilenet_v1", "mobilenet_v1_shallow", "--format", "json").json()
    assert d["totals"]["madds"] == {"a": 568_740_352, "b": 568_740_352 - REMOVED_MADDS, "delta": -REMOVED_MADDS}
    assert d["totals"]["params"]["delta"] == -REMOVED_PARAMS
    assert d["summary"] == {"removed": 10, "added": 0, "changed": 0, "unchanged": 19}
    assert d["removed_blocks"] == ["block7", "block8", "block9", "block10", "block11"]
    removed = [x for x in d["layers"] if x["status"] == "removed"]
    assert [x["a"] for x in removed] == REMOVED and all(x["b"] is None for x in removed)
    assert sum(x["madds"]["delta"] for x in d["layers"]) == -REMOVED_MADDS
    # the 1024-channel blocks keep their cost under a new name: V1's block12 is Shallow's block7
    renamed = {x["a"]: x["b"] for x in d["layers"] if x["a"] != x["b"] and x["b"]}
    assert renamed == {"block12.dw": "block7.dw", "block12.pw": "block7.pw",
                       "block13.dw": "block8.dw", "block13.pw": "block8.pw"}
    assert all(x["status"] == "unchanged" and x["madds"]["delta"] == 0
               for x in d["layers"] if x["a"] in renamed)


def test_acceptance_markdown(cli):
    r = cli("diff", "mobilenet_v1", "mobilenet_v1_shallow", "--format", "md")
    assert r.code == 0
    rows = [[c.strip() for c in ln.strip("|").split("|")] for ln in r.out.splitlines() if ln.startswith("| ")]
    totals = {row[0]: row[1:] for row in rows if row[0].startswith("**")}
    assert totals["**mult-adds**"][:2] == ["568,740,352", f"{568_740_352 - REMOVED_MADDS:,}"]
    assert totals["**mult-adds**"][2].startswith(f"**-{REMOVED_MADDS:,}**")
    layers = [row for row in rows if row[0] == "removed"]
    assert [row[1].strip("`") for row in layers] == REMOVED
    assert "unchanged" not in [row[0] for row in rows]
    full = cli("diff", "mobilenet_v1", "mobilenet_v1_shallow", "--format", "md", "--all").out
    assert "| unchanged | `block12.dw → block7.dw` |" in full


def test_one_file_at_two_widths(cli):
    d = cli("diff", "mobilenet_v1", "--alpha-b", "0.5", "-f", "json").json()
    assert d["a"]["alpha"] == 1.0 and d["b"]["alpha"] == 0.5
    # same structure: every layer aligned with itself, none added or removed
    assert d["summary"]["removed"] == d["summary"]["added"] == 0
    assert all(x["a"] == x["b"] for x in d["layers"])
    assert d["totals"]["madds"]["b"] == v1_by_hand(0.5)[0]
    assert d["totals"]["params"]["b"] == v1_by_hand(0.5)[1]
    conv1 = d["layers"][0]
    # conv1: 3·3·3·(16 − 32)·112² = −5,419,008
    assert conv1["a"] == "conv1" and conv1["madds"]["delta"] == 3 * 3 * 3 * (16 - 32) * 112**2
    assert conv1["changes"] == ["out 112×112×32 → 112×112×16"]


def test_one_file_at_two_resolutions(cli):
    d = cli("diff", "mobilenet_v1", "--resolution", "224", "--resolution-b", "160", "-f", "json").json()
    assert d["b"]["resolution"] == [160, 160] and d["totals"]["params"]["delta"] == 0
    assert d["totals"]["madds"]["b"] == v1_by_hand(1.0, 160)[0]
    # ρ = 0.714: R = round(0.714 · 224) = round(159.9) = 160
    assert cli("diff", "mobilenet_v1", "--rho-b", "0.714", "-f", "json").json()["totals"] == d["totals"]


def test_alpha_applies_to_both_sides(cli):
    d = cli("diff", "mobilenet_v1", "mobilenet_v1_shallow", "--alpha", "0.5", "-f", "json").json()
    # at α = 0.5 the five pairs are 256 → 256: 5 × (3·3·256·14² + 256·256·14²)
    assert d["totals"]["madds"]["delta"] == -5 * (3 * 3 * 256 * 196 + 256 * 256 * 196)
    assert d["summary"]["removed"] == 10 and d["summary"]["changed"] == 0


def test_flops_columns(cli):
    d = cli("diff", "mobilenet_v1", "mobilenet_v1_shallow", "--flops", "-f", "json").json()
    assert d["totals"]["flops"]["delta"] == -2 * REMOVED_MADDS
    table = cli("diff", "mobilenet_v1", "mobilenet_v1_shallow", "--flops").out
    assert "FLOPs" in table and f"-{2 * REMOVED_MADDS:,}" in table


def _net(tmp_path: Path, name: str, rows: list[str]) -> Path:
    f = tmp_path / name
    f.write_text("input: {resolution: 32, channels: 3}\nclasses: 10\nlayers:\n"
                 + "".join(f"  - {r}\n" for r in rows))
    return f


BASE = ["{kind: conv, c: 16, k: 3, s: 2}", "{kind: separable, c: 32}", "{kind: separable, c: 32}",
        "{kind: separable, c: 64, s: 2}", "{kind: pool, global: true}", "{kind: fc}"]


def test_inserted_row_is_added_not_a_cascade_of_changes(tmp_path):
    # a new 32 → 48 separable block before the last one: that block renumbers block3 → block4
    a = _net(tmp_path, "a.yaml", BASE)
    b = _net(tmp_path, "b.yaml", BASE[:3] + ["{kind: separable, c: 48}"] + BASE[3:])
    d = diff_reports(mbcost.analyze(a), mbcost.analyze(b))
    moved = [(x.status, x.a and x.a.name, x.b and x.b.name) for x in d.layers if x.status != "unchanged"]
    assert moved == [("added", None, "block3.dw"), ("added", None, "block3.pw"),
                     ("changed", "block3.dw", "block4.dw"), ("changed", "block3.pw", "block4.pw")]
    assert d.whole_blocks("added") == ["block3"] and d.whole_blocks("removed") == []
    # at 16×16: added dw 3·3·32·16² = 73,728 and pw 32·48·16² = 393,216; the old block3, now
    # fed 48 channels instead of 32: dw 3·3·(48 − 32)·8² = 9,216, pw (48 − 32)·64·8² = 65,536
    assert d.delta("madds") == 3 * 3 * 32 * 16**2 + 32 * 48 * 16**2 + 3 * 3 * 16 * 8**2 + 16 * 64 * 8**2
    assert d.delta("madds") == d.b.madds - d.a.madds


def test_changed_stride_is_a_changed_layer(tmp_path):
    a = _net(tmp_path, "a.yaml", BASE)
    b = _net(tmp_path, "b.yaml", BASE[:2] + ["{kind: separable, c: 32, s: 2}"] + BASE[3:])
    d = diff_reports(mbcost.analyze(a), mbcost.analyze(b))
    dw = next(x for x in d.layers if x.name == "block2.dw")
    assert dw.status == "changed" and dw.a.name == "block2.dw" and "s 1 → 2" in dw.changes
    assert d.counts()["added"] == d.counts()["removed"] == 0
    # block2.dw at 16×16×32: stride 1 → 2 takes D_F from 16 to 8: 3·3·32·(8² − 16²)
    assert dw.delta("madds") == 3 * 3 * 32 * (8**2 - 16**2)


def test_widened_row_lines_up_with_its_old_self(tmp_path):
    a = _net(tmp_path, "a.yaml", BASE)
    b = _net(tmp_path, "b.yaml", BASE[:2] + ["{kind: separable, c: 48}"] + BASE[3:])
    d = diff_reports(mbcost.analyze(a), mbcost.analyze(b))
    assert d.counts()["added"] == d.counts()["removed"] == 0
    assert [x.name for x in d.layers if x.status == "changed"] == ["block2.pw", "block3.dw", "block3.pw"]
    # block2.pw 32 → 48 at 16×16: 32·(48 − 32)·16² = 131,072
    assert next(x for x in d.layers if x.name == "block2.pw").delta("madds") == 32 * 16 * 16**2
    assert d.grew_most("params", 1)[0].name == "block3.pw"  # 48·64 − 32·64 = 1,024 weights


@pytest.mark.parametrize("args, message", [
    (["mobilenet_v1"], "nothing to compare"),
    (["mobilenet_v1", "--resolution-b", "160", "--rho-b", "0.5"], "either --resolution-b or --rho-b"),
    (["mobilenet_v1", "--alpha-b", "0"], "--alpha-b"),
])
def test_bad_input_is_one_line_exit_2(cli, args, message):
    # unknown names (in A or B) and --format are checked through every command by test_errors
    assert_one_line_error(cli("diff", *args), message)


def test_output_file(cli, tmp_path):
    out = tmp_path / "diff.md"
    assert cli("diff", "mobilenet_v1", "mobilenet_v1_shallow", "-f", "md", "-o", out).code == 0
    assert f"-{REMOVED_MADDS:,}" in out.read_text()
    table = tmp_path / "diff.txt"
    assert cli("diff", "mobilenet_v1", "mobilenet_v1_shallow", "-o", table).code == 0
    assert "block11.pw" in table.read_text()
    assert cli("diff", "mobilenet_v1", "mobilenet_v9", "-o", tmp_path / "bad.txt").code == 2
    assert not (tmp_path / "bad.txt").exists()


# --- near-linear alignment (issue 17) -------------------------------------------------------------

import random


def _check_script(ka, kb, ops):
    """The opcodes walk both sequences in order, and each equal block really is equal."""
    i = j = 0
    for tag, i1, i2, j1, j2 in ops:
        assert (i1, j1) == (i, j) and tag in ("equal", "replace", "delete", "insert")
        if tag == "equal":
            assert ka[i1:i2] == kb[j1:j2]
        assert (tag != "delete" or j1 == j2) and (tag != "insert" or i1 == i2)
        i, j = i2, j2
    assert (i, j) == (len(ka), len(kb))


@pytest.mark.parametrize("cells", [4_000_000, 0])  # 0: every stretch goes the anchored way
def test_opcodes_are_a_valid_edit_script(monkeypatch, cells):
    from mbcost.analyses import diff

    monkeypatch.setattr(diff, "QUADRATIC_CELLS", cells)
    rng = random.Random(17)
    for _ in range(300):
        ka = [rng.choice("abcdefgh") for _ in range(rng.randint(0, 40))]
        kb = [rng.choice("abcdefgh") for _ in range(rng.randint(0, 40))] if rng.random() < 0.3 else \
            [c for c in ka if rng.random() < 0.8] + [rng.choice("xyz") for _ in range(rng.randint(0, 3))]
        ops = diff.opcodes(ka, kb)
        _check_script(ka, kb, ops)
        if ka == kb:
            assert ops == ([("equal", 0, len(ka), 0, len(kb))] if ka else [])


def test_anchored_alignment_finds_unique_layers_in_order(monkeypatch):
    from mbcost.analyses import diff

    monkeypatch.setattr(diff, "QUADRATIC_CELLS", 0)
    ka = list("xAyBzC")
    kb = list("qAwCrB")  # A and B/C are unique; A then C or A then B keep the order
    ops = diff.opcodes(ka, kb)
    _check_script(ka, kb, ops)
    equal = [(i1, j1) for t, i1, i2, j1, j2 in ops if t == "equal"]
    assert equal[0] == (1, 1) and len(equal) == 2


def _long_network(tmp_path, repeats: int = 1000) -> Path:
    rows = ["input: {resolution: 16, channels: 3}", "layers:", "  - {kind: conv, c: 16, k: 3, s: 2}"]
    rows += [f"  - {{kind: separable, c: {16 + 8 * (i % 4)}, n: {repeats}}}" for i in range(49)]
    rows.append(f"  - {{kind: separable, c: 32, n: {repeats - 1}}}")
    f = tmp_path / "long.yaml"
    f.write_text("\n".join(rows) + "\n")
    return f


def test_a_10k_layer_network_against_itself_at_another_alpha(tmp_path):
    """Its 9,999² cells are 25× QUADRATIC_CELLS, so this is the prefix pass, not SequenceMatcher,
    pairing every layer. That it stays linear up to the 100,000-row cap is a time, measured in
    benchmarks/bench.py (diff100k, as a ratio to one report), not asserted here."""
    from mbcost import analyze
    from mbcost.analyses.diff import QUADRATIC_CELLS, diff_reports

    f = _long_network(tmp_path, repeats=100)
    a, b = analyze(f), analyze(f, alpha=0.5)
    assert len(a.layers) == 9_999  # a stem and 4,999 separable pairs
    assert len(a.layers) ** 2 > 20 * QUADRATIC_CELLS
    d = diff_reports(a, b)
    assert len(d.layers) == 9_999 and d.counts()["removed"] == d.counts()["added"] == 0
    assert all(x.a.name == x.b.name for x in d.layers)
    assert d.delta("madds") == b.madds - a.madds < 0


def test_a_long_network_with_a_block_removed_in_the_middle(tmp_path):
    from mbcost import analyze
    from mbcost.analyses.diff import diff_reports

    a_file = _long_network(tmp_path, repeats=200)
    text = a_file.read_text().splitlines()
    b_file = tmp_path / "b.yaml"
    b_file.write_text("\n".join(text[:20] + text[21:]) + "\n")  # one row of 200 blocks fewer
    a, b = analyze(a_file), analyze(b_file)
    d = diff_reports(a, b)
    assert d.counts()["removed"] == 400 and d.counts()["added"] == 0
    assert d.delta("madds") == b.madds - a.madds
