"""Every command's HTML page in a real browser: it loads offline and quietly, its numbers are
the JSON's numbers, and its graph, tables, filters, charts and tooltips work as a person uses them.

The pages are made once per session through the CLI (``-o page.html``), with the same command's
``--format json`` beside each to compare against."""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

if os.environ.get("CI") != "true":  # in CI a missing selenium fails the tier (conftest.py)
    pytest.importorskip("selenium", reason="no selenium: make browser installs it")
from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

from browsing import ROOT, WINDOW, embedded  # noqa: E402

MB = 1024 * 1024

BUDGETS = """\
budgets:
  - {arch: mobilenet_v2, name: v2 phone, max_madds: 301M, max_params: 3.5M}
  - {arch: mobilenet_v1, name: v1 watch, max_madds: 500M}
"""

# b (40 then 30 channels) written before a (50 then 10): the file's order holds the input while
# b runs, so finishing a first has the lower peak (tests/test_memory.py derives the same graph)
BRANCHES = """\
name: branches
input: {resolution: 8, channels: 3}
layers:
  - {kind: conv, c: 100, name: x}
  - {kind: conv, c: 40, name: b1, from: x}
  - {kind: conv, c: 30, name: b2}
  - {kind: conv, c: 50, name: a1, from: x}
  - {kind: conv, c: 10, name: a2}
  - {kind: concat, from: [a2, b2], name: cat}
  - {kind: fc, c: 10}
"""

HOSTILE = ['<script>window.__pwned = 1</script>', '"><img src=x onerror="window.__pwned=2">',
           "</script><script>window.__pwned=3</script>", "<!--", "{{ 7*7 }}", "a&amp;b <b>bold</b>"]


def hostile_net() -> str:
    """Every layer named by the hostile list, the architecture too: json.dumps is valid YAML."""
    rows = [f"  - {{kind: conv, c: 8, k: 3, name: {json.dumps(HOSTILE[0])}}}"]
    rows += [f"  - {{kind: separable, c: 8, name: {json.dumps(n)}}}" for n in HOSTILE[1:]]
    return (f"name: {json.dumps(HOSTILE[0] + ' net')}\ninput: {{resolution: 16, channels: 3}}\nlayers:\n"
            + "\n".join(rows) + "\n  - {kind: fc, c: 10}\n")


def deep_net() -> str:
    """A chain of 999 layers: a stem, 249 stride-1 bottlenecks of 4 layers each, pool and fc."""
    rows = ["  - {kind: conv, c: 32, k: 3, s: 2}"] + ["  - {kind: bottleneck, t: 6, c: 32, n: 1, s: 1}"] * 249
    rows += ["  - {kind: pool, op: avg, global: true}", "  - {kind: fc}"]
    return "name: deep\ninput: {resolution: 64, channels: 3}\nclasses: 10\nlayers:\n" + "\n".join(rows) + "\n"


PAGES = {  # name → the command line (its output file and --format json are added)
    "report": ["report", "mobilenet_v2"],
    "sweep": ["sweep", "mobilenet_v2", "--alpha", "0.35:1.4:0.05"],
    "diff": ["diff", "mobilenet_v1", "mobilenet_v1_shallow"],
    "compare": ["compare", "mobilenet_v2"],
    "verify": ["verify", "mobilenet_v2"],
    "check": ["check", "--budgets", "{dir}/budgets.yaml"],
    "reproduce": ["reproduce", "--source", "v1-paper"],
    "device": ["report", "mobilenet_v2", "--device", "pixel1"],
    "branches": ["report", "{dir}/branches.yaml"],
    "hostile": ["report", "{dir}/<i>hostile&amp;\"/<b>net.yaml"],
    "hostile_check": ["check", "--budgets", "{dir}/hostile_budgets.yaml"],
    "deep": ["report", "{dir}/deep.yaml"],
    "sweep2": ["sweep", "mobilenet_v1", "-a", "1,0.75,0.5", "-r", "224,192,160,128"],
}
CODES = {"check": 1, "hostile_check": 1}  # v1 watch is over budget; so is the hostile entry


@pytest.fixture(scope="session")
def pages(tmp_path_factory, mbcost_run):
    d = tmp_path_factory.mktemp("pages")
    (d / "budgets.yaml").write_text(BUDGETS)
    (d / "branches.yaml").write_text(BRANCHES)
    hostile = d / '<i>hostile&amp;"' / "<b>net.yaml"  # a path that is markup too
    hostile.parent.mkdir()
    hostile.write_text(hostile_net())
    (d / "hostile_budgets.yaml").write_text(
        f"budgets:\n  - {{arch: {json.dumps(str(hostile))}, name: {json.dumps(HOSTILE[0])}, max_madds: 1}}\n")
    (d / "deep.yaml").write_text(deep_net())
    out = {}
    for name, argv in PAGES.items():
        argv = [a.replace("{dir}", str(d)) for a in argv]
        page = d / f"{name}.html"
        code, _, err = mbcost_run(*argv, "-o", page)
        assert code == CODES.get(name, 0), err
        code, text, err = mbcost_run(*argv, "--format", "json")
        assert code == CODES.get(name, 0), err
        out[name] = (page, json.loads(text))
    return out


def opened(browser, pages, name):
    page, doc = pages[name]
    browser.open(page)
    return doc


def boxes(browser, graph: str, what: str = "layer") -> list[str]:
    return browser.js(f"return [...document.querySelectorAll('#graph-{graph} .node.{what}')]"
                      ".map(b => b.dataset.layer || b.dataset.block)")


def visible_rows(browser, table: str) -> list[dict]:
    return browser.js(f"return [...document.querySelectorAll('#{table} tbody tr')].filter(r => !r.hidden)"
                      ".map(r => Object.assign({}, r.dataset))")


def column(browser, table: str, header: str) -> list:
    """The visible cells of a column, in the order shown: data-v as a number where there is one."""
    return browser.js("""
        const t = document.getElementById(arguments[0]);
        const i = [...t.tHead.rows[0].cells].findIndex(th => th.textContent === arguments[1]);
        if (i < 0) throw new Error('no column ' + arguments[1]);
        return [...t.tBodies[0].rows].filter(r => !r.hidden).map(r => {
          const c = r.cells[i]; return c.dataset.v !== undefined ? Number(c.dataset.v) : c.textContent; });
    """, table, header)


def click_header(browser, table: str, header: str) -> None:
    th = browser.find_element(By.XPATH, f"//table[@id='{table}']/thead//th[text()='{header}']")
    th.click()


# --- every command's page --------------------------------------------------------------------

MAIN_TABLE = {"report": ("layers", "mult-adds"), "sweep": ("grid", "params"), "diff": ("changes", "Δ mult-adds"),
              "compare": ("profiles", "total"), "verify": ("pairs", "separable"), "check": ("entries", "checks"),
              "reproduce": ("entries", "ours (exact)")}


@pytest.mark.parametrize("name", sorted(MAIN_TABLE))
def test_each_commands_page_loads_offline_sorts_filters_and_carries_its_json(browser, pages, name, tmp_path):
    doc = opened(browser, pages, name)
    page = pages[name][0]
    assert page.stat().st_size < 1.5 * MB
    # the page's JSON is the command's --format json document, key for key
    assert embedded(page) == doc
    table, header = MAIN_TABLE[name]
    # sorting: ascending on the first click, descending on the second
    click_header(browser, table, header)
    up = column(browser, table, header)
    numbers = [v for v in up if isinstance(v, (int, float))]
    assert numbers == sorted(numbers) and len(numbers) >= 2
    click_header(browser, table, header)
    assert [v for v in column(browser, table, header) if isinstance(v, (int, float))] == sorted(numbers, reverse=True)
    # the text filter: a word from the first row's name keeps exactly the rows whose name holds it
    rows = visible_rows(browser, table)
    word = rows[-1]["name"].split()[0][:6]
    search = browser.find_element(By.CSS_SELECTOR, f".tools[data-for='{table}'] .filter-text")
    search.send_keys(word)
    kept = visible_rows(browser, table)
    assert kept and len(kept) == sum(word.lower() in r["name"].lower() for r in rows) < len(rows) + 1
    assert browser.find_element(By.CSS_SELECTOR, f".tools[data-for='{table}'] .count").text == \
        (f"{len(kept)} of {len(rows)} rows" if len(kept) < len(rows) else f"{len(rows)} rows")
    search.clear()
    search.send_keys(" ")  # clear() sends no input event: one more keystroke makes the page refilter
    assert len(visible_rows(browser, table)) == len(rows)
    width, height = browser.screenshot(tmp_path / f"{name}.png")
    assert (width, height) == WINDOW and (tmp_path / f"{name}.png").stat().st_size > 30_000  # not a blank page


def test_report_page_loads(browser, pages, tmp_path):
    doc = opened(browser, pages, "report")
    layers = doc["layers"]
    # one box per layer, in the file's order, and the network input
    assert boxes(browser, "report") == [x["name"] for x in layers]
    assert len(boxes(browser, "report", "io")) == 1
    assert browser.js("return document.querySelectorAll('#graph-report .edge').length") == \
        sum(len(x["inputs"]) for x in layers)
    # the header's totals are the JSON's
    totals = browser.js("return [...document.querySelectorAll('#totals .value')].map(v => Number(v.dataset.v))")
    assert totals == list(doc["totals"].values())
    assert browser.find_element(By.ID, "schema-version").text == str(doc["schema_version"])
    assert browser.find_element(By.ID, "mbcost-version").text == doc["mbcost_version"]
    shot = tmp_path / "report.png"
    assert browser.screenshot(shot) == WINDOW and shot.stat().st_size > 50_000
    if os.environ.get("MBCOST_SCREENSHOT"):  # make screenshot: the README's picture
        shutil.copyfile(shot, ROOT / os.environ["MBCOST_SCREENSHOT"])


def test_report_table_is_the_jsons_numbers(browser, pages):
    doc = opened(browser, pages, "report")
    layers = doc["layers"]
    assert [r["layer"] for r in visible_rows(browser, "layers")] == [x["name"] for x in layers]
    for header, field in (("mult-adds", "madds"), ("params", "params"), ("live act. B", "peak_activation_bytes"),
                          ("weights B", "weight_bytes"), ("output B", "output_bytes")):
        assert column(browser, "layers", header) == [x[field] for x in layers], header
    # what a cell shows is the exact integer, with separators
    shown = browser.js("const i = [...document.querySelectorAll('#layers thead th')].findIndex(h => h.textContent === 'mult-adds');"
                       "return [...document.querySelectorAll('#layers tbody tr')].map(r => r.cells[i].textContent)")
    assert shown == [f"{x['madds']:,}" for x in layers]
    # the by-type chart draws the JSON's shares
    chart = browser.js("return mbcost.charts.types.data.datasets.map(d => d.data)")
    assert chart[0] == pytest.approx([100 * k["madds_share"] for k in doc["by_kind"]])


def test_report_filters_by_kind_and_name_together(browser, pages):
    doc = opened(browser, pages, "report")
    kind = browser.find_element(By.CSS_SELECTOR, ".tools[data-for='layers'] .filter-attr[data-attr='kind']")
    kind.find_element(By.CSS_SELECTOR, "option[value='dwconv']").click()
    assert [r["layer"] for r in visible_rows(browser, "layers")] == [x["name"] for x in doc["layers"] if x["kind"] == "dwconv"]
    browser.find_element(By.CSS_SELECTOR, ".tools[data-for='layers'] .filter-text").send_keys("BLOCK1")
    # block1, block10 … block17: the filter is a case-blind substring of the name
    assert [r["layer"] for r in visible_rows(browser, "layers")] == \
        [x["name"] for x in doc["layers"] if x["kind"] == "dwconv" and "block1" in x["name"]]


def test_clicking_a_box_shows_its_row_and_a_row_its_box(browser, pages):
    opened(browser, pages, "report")
    browser.find_element(By.CSS_SELECTOR, "#graph-report .node.layer[data-layer='block12.dw']").click()
    row = browser.find_element(By.CSS_SELECTOR, "#layers tr[data-layer='block12.dw']")
    assert "selected" in row.get_attribute("class")
    assert browser.js("const r = arguments[0].getBoundingClientRect(), s = arguments[0].closest('.scroll')"
                      ".getBoundingClientRect(); return r.top >= s.top && r.bottom <= s.bottom", row)
    browser.find_element(By.CSS_SELECTOR, "#layers tr[data-layer='fc1']").click()
    box = browser.find_element(By.CSS_SELECTOR, "#graph-report .node.layer[data-layer='fc1']")
    assert "selected" in box.get_attribute("class")
    assert browser.js("return document.querySelectorAll('#graph-report .node.selected').length") == 1
    # the graph scrolled to the box: it is inside the graph's visible area
    assert browser.js("const b = arguments[0].getBoundingClientRect(), g = document.getElementById('graph-report')"
                      ".getBoundingClientRect(); return b.top >= g.top && b.bottom <= g.bottom", box)


def test_blocks_fold_and_unfold(browser, pages):
    doc = opened(browser, pages, "report")
    blocks = list(dict.fromkeys(x["block"] for x in doc["layers"] if x["block"]))
    browser.find_element(By.CSS_SELECTOR, ".graph-tools[data-graph='report'] .collapse-all").click()
    assert boxes(browser, "report") == [x["name"] for x in doc["layers"] if not x["block"]]
    assert boxes(browser, "report", "block") == blocks
    browser.find_element(By.CSS_SELECTOR, "#graph-report .node.block[data-block='block3']").click()
    assert boxes(browser, "report") == [x["name"] for x in doc["layers"] if x["block"] in (None, "block3")]
    # a folded block's title folds it again; a row of a folded block unfolds it to show the box
    browser.find_element(By.CSS_SELECTOR, "#graph-report .cluster[data-block='block3'] .cluster-label").click()
    assert "block3" in boxes(browser, "report", "block")
    browser.find_element(By.CSS_SELECTOR, "#layers tr[data-layer='block3.add']").click()
    assert "block3.add" in boxes(browser, "report")


def test_memory_timeline_peak_is_the_jsons(browser, pages):
    doc = opened(browser, pages, "report")
    peak = doc["totals"]["peak_activation_bytes"]
    assert int(browser.find_element(By.ID, "peak-file").get_attribute("data-peak")) == peak
    series = browser.js("return mbcost.charts.memory.data.datasets.map(d => d.data)")
    assert len(series) == 1 and max(series[0]) == peak  # no better order: one curve
    # the peak step lists the tensors the JSON says are alive there
    assert browser.js("return [...document.querySelectorAll('#peak-file .alive code')].map(c => c.textContent)") == \
        doc["memory"]["alive"]
    # hovering the peak's point shows its exact bytes
    i = series[0].index(peak)
    lines = hover(browser, "memory", 0, i)
    assert lines["bytes"] == str(peak)


def test_best_order_is_drawn_when_it_beats_the_file_order(browser, pages):
    doc = opened(browser, pages, "branches")
    best = doc["memory"]["best_order"]
    assert best["peak_activation_bytes"] < doc["totals"]["peak_activation_bytes"]
    assert int(browser.find_element(By.ID, "peak-file").get_attribute("data-peak")) == doc["totals"]["peak_activation_bytes"]
    assert int(browser.find_element(By.ID, "peak-best").get_attribute("data-peak")) == best["peak_activation_bytes"]
    series = browser.js("return mbcost.charts.memory.data.datasets.map(d => d.data)")
    assert [max(s) for s in series] == [doc["totals"]["peak_activation_bytes"], best["peak_activation_bytes"]]
    # the branch graph: the concat's box has two edges in
    assert sorted(boxes(browser, "report")) == sorted(x["name"] for x in doc["layers"])


def test_device_page_times_every_layer_with_its_bound(browser, pages):
    doc = opened(browser, pages, "device")
    chart = browser.js("const c = mbcost.charts.latency; return [c.data.labels, c.data.datasets.map(d => d.data)]")
    assert chart[0] == [x["name"] for x in doc["layers"]]
    for x, compute, memory in zip(doc["layers"], *chart[1]):
        assert (compute, memory) == ((x["latency_ms"], None) if x["bound"] == "compute" else (None, x["latency_ms"]))
    assert column(browser, "layers", "bound") == [x["bound"] for x in doc["layers"]]


# --- sweep -----------------------------------------------------------------------------------

def hover(browser, chart: str, dataset: int, index: int) -> dict[str, str]:
    """Move the mouse onto one point of a chart; the tooltip's lines as {field: exact value}."""
    canvas = browser.find_element(By.ID, f"{chart}-chart")
    x, y, w, h = browser.js(f"const c = mbcost.charts[{json.dumps(chart)}], p = c.getDatasetMeta(arguments[0]).data[arguments[1]],"
                            " r = c.canvas.getBoundingClientRect(); return [p.x, p.y, r.width, r.height]", dataset, index)
    ActionChains(browser.driver).move_to_element_with_offset(canvas, int(x - w / 2), int(y - h / 2)).perform()
    assert browser.js("return !document.getElementById('tooltip').hidden")
    return browser.js("return Object.fromEntries([...document.querySelectorAll('#tooltip [data-field]')]"
                      ".map(l => [l.dataset.field, l.dataset.v]))")


def test_hovering_a_sweep_point_shows_its_exact_counts(browser, pages):
    doc = opened(browser, pages, "sweep")
    rows = doc["rows"]
    # 22 α at one resolution: one curve along α, mult-adds against expected top-1
    assert browser.js("return mbcost.charts.sweep.data.datasets.map(d => d.label)") == ["224×224", "published (TF-slim)"]
    points = browser.js("return mbcost.charts.sweep.data.datasets[0].data.map(p => p.i)")
    assert sorted(points) == list(range(len(rows)))
    for j in (0, 7, len(points) - 1):
        shown = hover(browser, "sweep", 0, j)
        row = rows[points[j]]
        for field in ("madds", "flops", "params", "peak_activation_bytes", "weight_bytes"):
            assert shown[field] == str(row[field]), field
        assert browser.find_element(By.ID, "tooltip").text.startswith(f"α = {row['alpha']:g} · 224×224")
    # published checkpoints are circled: TF-slim's float MobileNetV2 at 224 for these α
    from mbcost.analyses.accuracy import published

    at224 = sorted(float(p.alpha) for p in published("mobilenet_v2") if p.resolution == 224
                   and any(abs(float(p.alpha) - r["alpha"]) < 1e-9 for r in rows))
    circled = browser.js("return mbcost.charts.sweep.data.datasets[1].data.map(p => p.i)")
    assert sorted(rows[i]["alpha"] for i in circled) == pytest.approx(at224) and len(at224) == 6
    # another pair of axes: the same hover gives the same exact counts
    browser.find_element(By.CSS_SELECTOR, "#sweep-y option[value='params']").click()
    shown = hover(browser, "sweep", 0, 3)
    assert shown["params"] == str(rows[browser.js("return mbcost.charts.sweep.data.datasets[0].data[3].i")]["params"])


def test_a_two_axis_sweep_draws_one_curve_per_alpha(browser, pages):
    doc = opened(browser, pages, "sweep2")
    labels = browser.js("return mbcost.charts.sweep.data.datasets.map(d => d.label)")
    assert labels[:3] == ["α = 1", "α = 0.75", "α = 0.5"] and labels[3] == "published (TF-slim)"
    browser.find_element(By.CSS_SELECTOR, "#sweep-by option[value='resolution']").click()
    assert browser.js("return mbcost.charts.sweep.data.datasets.length") == 4 + 1
    kind = browser.find_element(By.CSS_SELECTOR, ".tools[data-for='grid'] .filter-attr[data-attr='resolution']")
    kind.find_element(By.CSS_SELECTOR, "option[value='160×160']").click()
    assert column(browser, "grid", "mult-adds") == [r["madds"] for r in doc["rows"] if r["resolution"] == [160, 160]]


# --- diff, compare, verify, check, reproduce -------------------------------------------------------

def test_diff_draws_both_graphs_with_the_changes_marked(browser, pages):
    doc = opened(browser, pages, "diff")
    records = doc["layers"]
    for side in ("a", "b"):
        assert boxes(browser, side) == [r[side] for r in records if r[side]]
        marked = browser.js(f"return [...document.querySelectorAll('#graph-{side} .node.layer')]"
                            ".filter(b => !b.classList.contains('st-unchanged')).map(b => b.dataset.layer)")
        assert marked == [r[side] for r in records if r[side] and r["status"] != "unchanged"]
    # the waterfall runs from A's total to B's through every layer's change
    bars = browser.js("return mbcost.charts.waterfall.data.datasets[0].data")
    t = doc["totals"]["madds"]
    assert bars[0] == [0, t["a"]] and bars[-1] == [0, t["b"]] and bars[-2][1] == t["b"]
    steps = [r["madds"]["delta"] for r in records if r["madds"]["delta"]]
    assert len(bars) == min(len(steps), 40) + 2
    status = browser.find_element(By.CSS_SELECTOR, ".tools[data-for='changes'] .filter-attr[data-attr='status']")
    status.find_element(By.CSS_SELECTOR, "option[value='removed']").click()
    assert [r["a"] for r in visible_rows(browser, "changes")] == [r["a"] for r in records if r["status"] == "removed"]


def test_compare_shows_each_counters_total_and_what_it_includes(browser, pages):
    doc = opened(browser, pages, "compare")
    assert column(browser, "profiles", "total") == [p["total"] for p in doc["profiles"]]
    assert column(browser, "profiles", "includes") == [p["formula"] for p in doc["profiles"]]
    stacks = browser.js("const c = mbcost.charts.compare; return Object.fromEntries(c.data.datasets.map(d => [d.label, d.data]))")
    for i, p in enumerate(doc["profiles"]):
        assert {k: v[i] for k, v in stacks.items() if v[i]} == {k: v for k, v in p["components"].items() if v}


def test_verify_colours_each_layer_by_its_check(browser, pages, mbcost_run):
    doc = opened(browser, pages, "verify")
    _, text, _ = mbcost_run("report", "mobilenet_v2", "--format", "json")
    assert boxes(browser, "graph") == [x["name"] for x in json.loads(text)["layers"]]
    ok = set(browser.js("return [...document.querySelectorAll('#graph-graph .node.st-ok')].map(b => b.dataset.layer)"))
    checked = {n for p in doc["pairs"] for n in (p["depthwise"], p["pointwise"])} | \
        {n for b in doc["bottlenecks"] for n in b["layers"]}
    assert doc["ok"] and ok == checked
    assert set(browser.js("return [...document.querySelectorAll('#graph-graph .node.st-unchecked')].map(b => b.dataset.layer)")) \
        == set(doc["unchecked"])


def test_check_links_each_entry_to_its_section(browser, pages, mbcost_run):
    doc = opened(browser, pages, "check")
    assert [r["ok"] for r in visible_rows(browser, "entries")] == ["pass" if b["ok"] else "fail" for b in doc["budgets"]]
    assert browser.find_element(By.ID, "verdict").text.startswith("✗ 1 of 3 checks over budget")
    link = browser.find_element(By.LINK_TEXT, doc["budgets"][1]["label"])
    link.click()
    assert browser.js("return location.hash") == "#entry-2"
    section = browser.find_element(By.ID, "entry-2")
    assert browser.js("const r = arguments[0].getBoundingClientRect(); return r.top >= -1 && r.top < innerHeight", section)
    count = browser.js("return Number(document.querySelector('#entry-2 table.results tbody tr').cells[2].dataset.v)")
    assert count == doc["budgets"][1]["results"][0]["count"]
    # the entry's layers and graph, drawn when opened
    section.find_element(By.CSS_SELECTOR, "details.layers summary").click()
    _, text, _ = mbcost_run("report", "mobilenet_v1", "--format", "json")
    WebDriverWait(browser.driver, 10).until(lambda _: boxes(browser, "entry-1"))  # 'toggle' fires after the click
    assert boxes(browser, "entry-1") == [x["name"] for x in json.loads(text)["layers"]]


def test_reproduce_filters_by_status(browser, pages):
    doc = opened(browser, pages, "reproduce")
    status = browser.find_element(By.CSS_SELECTOR, ".tools[data-for='entries'] .filter-attr[data-attr='status']")
    for value in sorted({e["status"] for e in doc["entries"]}):
        status.find_element(By.CSS_SELECTOR, f"option[value='{value}']").click()
        assert len(visible_rows(browser, "entries")) == sum(e["status"] == value for e in doc["entries"])


# --- safety and scale --------------------------------------------------------------------------------

def test_names_are_text_never_markup(browser, pages):
    doc = opened(browser, pages, "hostile")
    assert browser.js("return window.__pwned") is None
    # only the page's own elements: its five scripts (data, extra, dagre, Chart.js, page.js), no image
    assert browser.js("return document.scripts.length") == 5 and browser.js("return document.images.length") == 0
    names = [x["name"] for x in doc["layers"]]
    assert names[0] == HOSTILE[0] and HOSTILE[1] + ".dw" in names
    assert [r["layer"] for r in visible_rows(browser, "layers")] == names
    assert column(browser, "layers", "layer") == names  # shown as written
    assert browser.find_element(By.CSS_SELECTOR, "dd.arch").text == HOSTILE[0] + " net"
    assert browser.find_element(By.TAG_NAME, "h1").text.startswith(HOSTILE[0] + " net")
    assert browser.find_element(By.CSS_SELECTOR, "dl.setting code").text.endswith('/<i>hostile&amp;"/<b>net.yaml')
    assert browser.js("return [...document.querySelectorAll('#graph-report .node.layer')].map(b => b.dataset.layer)") == names
    titles = browser.js("return [...document.querySelectorAll('#graph-report .node.layer title')].map(t => t.textContent)")
    assert all(t.startswith(n + "\n") for t, n in zip(titles, names))
    # the filter takes them as text too
    browser.find_element(By.CSS_SELECTOR, ".tools[data-for='layers'] .filter-text").send_keys("</script>")
    assert [r["layer"] for r in visible_rows(browser, "layers")] == [n for n in names if "</script>" in n]
    # a budget named like a script, on the check page
    check = opened(browser, pages, "hostile_check")
    assert browser.js("return window.__pwned") is None and browser.js("return document.images.length") == 0
    assert browser.find_element(By.CSS_SELECTOR, "#entries tbody tr td a").text == check["budgets"][0]["label"]


def test_the_quiet_check_sees_a_request_and_a_console_error(browser, tmp_path):
    # what every page is held to must be able to fail: a page that fetches and logs
    loud = tmp_path / "loud.html"
    loud.write_text('<!DOCTYPE html><body><img src="http://127.0.0.1:1/x.png">'
                    '<script>console.error("boom"); document.body.dataset.ready = "true"</script></body>')
    with pytest.raises(AssertionError, match="boom"):
        browser.open(loud)
    quiet_but_fetching = tmp_path / "fetch.html"
    quiet_but_fetching.write_text('<!DOCTYPE html><body><link rel="prefetch" href="http://127.0.0.1:1/x.css">'
                                  '<script>document.body.dataset.ready = "true"</script></body>')
    browser.driver.get("about:blank")
    browser.driver.get_log("performance"), browser.driver.get_log("browser")
    browser.driver.get(quiet_but_fetching.as_uri())
    import time

    time.sleep(0.5)
    assert "http://127.0.0.1:1/x.css" in browser.requests()


def test_a_thousand_layer_network(browser, pages):
    page, doc = pages["deep"]
    assert len(doc["layers"]) == 999 and page.stat().st_size < 5 * MB
    browser.open(page, timeout=120)
    assert len(boxes(browser, "report")) == 999
    assert int(browser.find_element(By.ID, "peak-file").get_attribute("data-peak")) == doc["totals"]["peak_activation_bytes"]
