"""--format html without a browser: what each page holds, that nothing in it is markup it should
not be, what it weighs, and that bad input leaves no page behind. The pages in a real browser:
tests/browser (make browser)."""
from __future__ import annotations

import base64
import hashlib
import html
import json
import re
import subprocess
import sys

import pytest

import mbcost
from conftest import ROOT, assert_one_line_error

from mbcost.render.formats import RENDERERS

HTML_COMMANDS = sorted(c for c, formats in RENDERERS.items() if "html" in formats)
RUNS = {  # one run per command that writes a page, exit 0 on a built-in (as test_formats.py's)
    "report": ["report", "mobilenet_v2"],
    "sweep": ["sweep", "mobilenet_v1", "-a", "1,0.5", "-r", "224,160"],
    "verify": ["verify", "mobilenet_v1"],
    "check": ["check", "mobilenet_v2", "--max-madds", "301M"],
    "diff": ["diff", "mobilenet_v1", "mobilenet_v1_shallow"],
    "reproduce": ["reproduce", "--source", "v1-paper"],
    "compare": ["compare", "mobilenet_v2"],
}
SCRIPT = re.compile(r"<script( type=\"application/json\" id=\"(\w+)\")?>(.*?)</script>", re.S)
MB = 1024 * 1024


def blocks(text: str) -> tuple[dict[str, object], list[str]]:
    """A page's JSON blocks by id, and its other (executable) scripts."""
    data, code = {}, []
    for m in SCRIPT.finditer(text):
        if m.group(1):
            data[m.group(2)] = json.loads(m.group(3))
        else:
            code.append(m.group(3))
    return data, code


def test_every_command_that_writes_a_document_writes_html():
    assert HTML_COMMANDS == ["check", "compare", "diff", "report", "reproduce", "sweep", "verify"]


@pytest.mark.parametrize("command", HTML_COMMANDS)
def test_the_page_carries_the_commands_json(cli, tmp_path, command):
    page = tmp_path / "page.htm"  # .htm is html too
    r = cli(*RUNS[command], "-o", page)
    assert r.code == 0, r.err
    text = page.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>\n") and text.rstrip().endswith("</html>")
    data, code = blocks(text)
    assert data["data"] == cli(*RUNS[command], "--format", "json").json()
    # every script is inline, and the policy runs those and nothing else, and fetches nothing
    csp = html.unescape(re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)">', text).group(1))
    assert csp.startswith("default-src 'none'; script-src 'sha256-")
    allowed = set(re.findall(r"'sha256-([^']+)'", csp))
    assert {base64.b64encode(hashlib.sha256(c.encode()).digest()).decode() for c in code} == allowed
    markup = SCRIPT.sub("", text)  # the libraries' code may name URLs; the policy stops any fetch
    assert not re.search(r"""(src|href)=["']?(https?:|//)""", markup)
    assert "<link" not in markup and "@import" not in markup and "url(" not in markup
    assert page.stat().st_size < 1.5 * MB


def test_a_report_page_holds_each_layer_once_and_its_memory_timeline(cli, tmp_path):
    page = tmp_path / "r.html"
    assert cli("report", "mobilenet_v2", "-o", page).code == 0
    text = page.read_text(encoding="utf-8")
    data, _ = blocks(text)
    doc, extra = data["data"], data["extra"]
    # one table row per layer, each carrying the exact mult-adds as its sort value
    rows = re.findall(r'<tr data-layer="([^"]+)" data-name="[^"]+" data-kind="(\w+)">', text)
    assert rows == [(x["name"], x["kind"]) for x in doc["layers"]]
    # the timeline: one step per layer (nothing is fused without --bottleneck-chunks), each the
    # layer's own live bytes; its largest is the peak, at the JSON's peak layer
    steps = extra["memory"]["file"]["steps"]
    assert [s["layers"] for s in steps] == [[x["name"]] for x in doc["layers"]]
    assert [s["bytes"] for s in steps] == [x["peak_activation_bytes"] for x in doc["layers"]]
    assert extra["memory"]["file"]["peak"] == doc["totals"]["peak_activation_bytes"] == 6_021_120
    assert steps[extra["memory"]["file"]["peak_step"]]["layers"] == [doc["memory"]["peak_layer"]]
    assert "best" not in extra["memory"]  # a chain with shortcuts: the file's order is the only one
    # block2.dw: the expanded 96 channels at 112² in and at 56² out, 4 B each (tests/test_memory.py)
    assert f'data-peak="{(96 * 112**2 + 96 * 56**2) * 4}"' in text


def test_the_best_order_is_drawn_when_it_is_better(cli, tmp_path):
    f = tmp_path / "branches.yaml"
    f.write_text("input: {resolution: 8, channels: 3}\nlayers:\n  - {kind: conv, c: 100, name: x}\n"
                 "  - {kind: conv, c: 40, name: b1, from: x}\n  - {kind: conv, c: 30, name: b2}\n"
                 "  - {kind: conv, c: 50, name: a1, from: x}\n  - {kind: conv, c: 10, name: a2}\n"
                 "  - {kind: concat, from: [a2, b2], name: cat}\n  - {kind: fc, c: 10}\n")
    page = tmp_path / "b.html"
    assert cli("report", f, "-o", page).code == 0
    data, _ = blocks(page.read_text(encoding="utf-8"))
    doc, memory = data["data"], data["extra"]["memory"]
    # per step in channels of 8²: file order x 103, b1 140, b2 170 (x waits for a1), a1 180, a2 90,
    # cat 80, fc; best order finishes a first: a1 150, a2 160, b1 150, b2 80
    assert [s["bytes"] // (64 * 4) for s in memory["file"]["steps"]][:6] == [103, 140, 170, 180, 90, 80]
    assert memory["file"]["peak"] == doc["totals"]["peak_activation_bytes"] == 180 * 64 * 4
    assert [s["layers"][0] for s in memory["best"]["steps"]] == doc["memory"]["best_order"]["order"]
    assert memory["best"]["peak"] == doc["memory"]["best_order"]["peak_activation_bytes"] == 160 * 64 * 4
    assert memory["tensors"]["a1"] == {"shape": [8, 8, 50], "bytes": 50 * 64 * 4}


# --- safety --------------------------------------------------------------------------------

HOSTILE = ["<script>alert(1)</script>", '"><img src=x onerror=alert(2)>', "</script><script>alert(3)</script>",
           "<!--", "a & b", "\u2028line"]


def test_the_latency_section_gives_the_interval_the_warnings_and_every_constant(cli, tmp_path):
    page = tmp_path / "b0.html"  # EfficientNet-B0 on pixel1: swish never fitted, SE beyond the fitted mix
    assert cli("report", "efficientnet_b0", "--device", "pixel1", "-o", page).code == 0
    text = page.read_text(encoding="utf-8")
    section = text[text.index('<section id="latency-section">'):]
    section = section[:section.index("</section>")]
    d = blocks(text)[0]["data"]["device"]
    assert f"±{d['interval_percent']}% on {d['interval_basis']}" in section and d["interval_percent"] > 0
    assert len(d["warnings"]) == 2  # the sigmoid class, and mul's share
    assert [html.unescape(w) for w in re.findall(r'<p class="warn">warning: (.*?)</p>', section)] == d["warnings"]
    rows = re.findall(r'<th scope="row">(\w+)</th><td class="num" data-v="([^"]+)">', section)
    assert [(n, float(v)) for n, v in rows] == [(n, c["ns_per_unit"]) for n, c in d["constants"].items()]
    assert len(rows) == 10 and f"{1 / d['constants']['conv']['ns_per_unit']:.3g} GMAC/s" in section  # 6.74


def test_names_paths_and_budget_names_are_text(cli, tmp_path):
    folder = tmp_path / '<i>x&amp;"'
    folder.mkdir()
    f = folder / "<b>net.yaml"
    rows = "".join(f"  - {{kind: separable, c: 8, name: {json.dumps(n)}}}\n" for n in HOSTILE)
    f.write_text(f"name: {json.dumps(HOSTILE[0])}\ninput: {{resolution: 16, channels: 3}}\nlayers:\n"
                 f"  - {{kind: conv, c: 8, k: 3}}\n{rows}  - {{kind: fc, c: 10}}\n", encoding="utf-8")
    budgets = tmp_path / "budgets.yaml"
    budgets.write_text(f"budgets:\n  - {{arch: {json.dumps(str(f))}, name: {json.dumps(HOSTILE[1])}, max_madds: 1}}\n")
    device = tmp_path / "device.yaml"  # pixel1's profile under a hostile name
    device.write_text((ROOT / "mbcost" / "analyses" / "devices" / "pixel1.yaml").read_text()
                      .replace("name: pixel1", f"name: {json.dumps(HOSTILE[2])}"))
    pages = {"report": ["report", f, "--device", device], "check": ["check", "--budgets", budgets],
             "diff": ["diff", f, "mobilenet_v1"],
             "verify": ["verify", f], "compare": ["compare", f], "sweep": ["sweep", f, "-a", "1,0.5"]}
    for name, argv in pages.items():
        page = tmp_path / f"{name}.html"
        r = cli(*argv, "-o", page)
        assert r.code == (1 if name == "check" else 0), r.err
        text = page.read_text(encoding="utf-8")
        for n in HOSTILE[:4] + [str(folder)]:
            assert n not in text, (name, n)  # never as written: escaped in markup, \u003c… in JSON
        assert "<img" not in text and "alert(" not in text.replace("alert(1)", "").replace("alert(2)", "").replace("alert(3)", "")
        assert len(SCRIPT.findall(text)) == text.count("<script")  # every script element is one of the page's own
        data, _ = blocks(text)
        assert HOSTILE[0] in json.dumps(data["data"], ensure_ascii=False)  # and read back exactly
    text = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;.dw" in text and "&#34;&gt;&lt;img src=x" in text
    assert "&lt;i&gt;x&amp;amp;&#34;/&lt;b&gt;net.yaml" in text
    assert "Latency on &lt;/script&gt;&lt;script&gt;alert(3)&lt;/script&gt;" in text


def test_bad_input_through_html_leaves_no_page(cli, tmp_path, monkeypatch):
    # every corpus file through report -o x.html: its one line, exit 2, no page made or replaced
    monkeypatch.chdir(ROOT)
    existing = tmp_path / "kept.html"
    for bad in sorted((ROOT / "tests" / "bad").glob("*.yaml")):
        expect = re.match(rb"# expect: (.*)", bad.read_bytes()).group(1).decode()
        rel = bad.relative_to(ROOT)
        assert_one_line_error(cli("report", rel, "-o", tmp_path / "new.html"), expect)
        existing.write_text("precious")
        assert_one_line_error(cli("report", rel, "-o", existing), expect)
        assert existing.read_text() == "precious"
        assert sorted(p.name for p in tmp_path.iterdir()) == ["kept.html"], bad.name
    # and one file of each early kind through every command that writes a page
    for bad in ("c_nan", "python_object_apply", "add_from_unknown"):
        rel = f"tests/bad/{bad}.yaml"
        for argv in (["sweep", rel], ["diff", rel, "mobilenet_v1"], ["compare", rel], ["verify", rel],
                     ["check", rel, "--max-madds", "1G"]):
            assert_one_line_error(cli(*argv, "-o", existing), rel)
            assert existing.read_text() == "precious"


def test_html_needs_jinja2_and_says_so(cli, tmp_path, monkeypatch):
    from mbcost.render.html import page

    page.environment.cache_clear()
    monkeypatch.setitem(sys.modules, "jinja2", None)  # import jinja2 now raises ImportError
    out = tmp_path / "r.html"
    assert_one_line_error(cli("report", "mobilenet_v1", "-o", out), "HTML output needs Jinja2: pip install 'mbcost[html]'")
    assert not out.exists()
    page.environment.cache_clear()


def test_a_page_too_large_to_open_is_refused(cli, tmp_path, monkeypatch):
    from mbcost.render.html import page

    monkeypatch.setattr(page, "MAX_ROWS", 11)
    out = tmp_path / "s.html"
    assert_one_line_error(cli("sweep", "mobilenet_v1", "-a", "1,0.75,0.5", "-r", "224,192,160,128", "-o", out),
                          "--format: an HTML page holds at most 11 configurations, this one would hold 12: "
                          "write --format json or csv for it")
    assert not out.exists()
    assert cli("sweep", "mobilenet_v1", "-a", "1,0.75,0.5", "-r", "224,192,160,128", "-f", "csv").code == 0


def test_report_start_up_does_not_import_jinja2():
    code = ("import sys\nfrom mbcost.cli import main\nmain(['report', 'mobilenet_v2', '-f', 'json'])\n"
            "main(['check', 'mobilenet_v2', '--max-madds', '301M'])\nprint('jinja2' in sys.modules, file=sys.stderr)\n")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert p.stderr.strip().splitlines()[-1] == "False", p.stderr


# --- size and what is inlined ----------------------------------------------------------------------

def test_a_thousand_layer_network_stays_under_five_megabytes(cli, tmp_path):
    rows = ["  - {kind: conv, c: 32, k: 3, s: 2}"] + ["  - {kind: bottleneck, t: 6, c: 32, n: 1, s: 1}"] * 249
    f = tmp_path / "deep.yaml"
    f.write_text("input: {resolution: 64, channels: 3}\nclasses: 10\nlayers:\n" + "\n".join(rows) +
                 "\n  - {kind: pool, op: avg, global: true}\n  - {kind: fc}\n")
    page = tmp_path / "deep.html"
    assert cli("report", f, "-o", page).code == 0
    data, _ = blocks(page.read_text(encoding="utf-8"))
    # a stem, 249 bottlenecks of expand, dw, project, add, the pool and the classifier
    assert len(data["data"]["layers"]) == 1 + 4 * 249 + 2 == 999
    assert page.stat().st_size < 5 * MB


def test_the_vendored_libraries_are_the_pinned_files_with_their_licences():
    vendor = ROOT / "mbcost" / "render" / "html" / "vendor"
    sums = dict(reversed(line.split()) for line in (vendor / "SHA256SUMS").read_text().splitlines())
    assert set(sums) == {"dagre.min.js", "chart.umd.min.js"}
    for name, digest in sums.items():
        assert hashlib.sha256((vendor / name).read_bytes()).hexdigest() == digest, name
    from mbcost.render.html.page import script

    assert script("dagre").startswith("/*! dagre 3.1.3") and "Permission is hereby granted" in script("dagre")
    assert script("chart").startswith("/*! Chart.js 4.6.1") and "Jukka Kurkela" in script("chart")
    assert "</script" not in script("dagre") + script("chart")


def test_the_json_blocks_cannot_end_their_element():
    from mbcost.render.html.page import json_block

    text = json_block({"name": "</script><!-- & \u2028"})
    assert "<" not in text and ">" not in text and "&" not in text and "\u2028" not in text
    assert json.loads(text) == {"name": "</script><!-- & \u2028"}
    with pytest.raises(ValueError):
        json_block(float("inf"))  # never 'Infinity', which is not JSON


def test_the_api_renders_a_page_too():
    from mbcost.render.formats import render

    text = render("report", "html", mbcost.analyze("mobilenet_v1", alpha="0.5"))
    data, _ = blocks(text)
    assert data["data"]["totals"]["madds"] == 149_497_088  # the V1 paper's Table 6 at α = 0.5
