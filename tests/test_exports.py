"""Sweep exports parsed back: CSV and JSON by their modules, Markdown by a pipe-table parser,
LaTeX by its tabular structure (and by pdflatex when it is installed)."""
import csv
import io
import re
import shutil
import subprocess
from fractions import Fraction

import pytest

import mbcost
from mbcost.render.sweep import Scale, latex_escape, pivot, pivot_latex, pivot_markdown, pivot_text, scale_for
from mbcost import sweep_grid

V1_TABLE = ["sweep", "mobilenet_v1", "--alpha", "1,0.75,0.5,0.25", "--resolution", "224,192,160,128"]


def millions(n: int) -> str:
    """Exact round-half-up to whole millions, as the pivot prints mult-adds."""
    return str((n + 500_000) // 1_000_000)


# --- Markdown ---------------------------------------------------------------------------------------

def parse_markdown_table(text: str) -> tuple[list[str], list[str], list[list[str]]]:
    """A GitHub pipe table: header, alignment row, body; every row the header's width."""
    lines = [ln for ln in text.splitlines() if ln.startswith("|")]
    assert lines, "no table"
    block_start = text.splitlines().index(lines[0])
    assert text.splitlines()[block_start - 1] == "", "a table needs a blank line before it"

    def cells(line: str) -> list[str]:
        assert line.startswith("|") and line.endswith("|")
        return [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", line)[1:-1]]

    head, align, *body = (cells(ln) for ln in lines)
    assert all(re.fullmatch(r":?-{3,}:?", a) for a in align), align
    assert len(align) == len(head) and all(len(r) == len(head) for r in body)
    return head, align, body


def test_markdown_pivot_reproduces_tables_6_and_7(cli):
    r = cli(*V1_TABLE, "--format", "md")
    assert r.code == 0
    head, align, body = parse_markdown_table(r.out)
    assert head == ["α", "224 (M)", "192 (M)", "160 (M)", "128 (M)", "params (M)"]
    assert align == ["---:"] * 6  # numbers right-aligned
    assert [row[0] for row in body] == ["1.0", "0.75", "0.5", "0.25"]
    # Table 6 column (224): 568,740,352 / 325,400,448 / 149,497,088 / 41,030,272 → 569 325 149 41
    assert [row[1] for row in body] == ["569", "325", "149", "41"]
    # Table 7 row (α = 1): 568,740,352 / 418,121,728 / 290,675,200 / 186,400,768. The paper prints
    # 290 for 290.68 (truncated); the pivot rounds half up, so 291.
    assert body[0][1:5] == ["569", "418", "291", "186"]
    # params 4,209,088 / 2,568,144 / 1,319,648 / 463,600: two decimals so 0.46 keeps two digits
    assert [row[5] for row in body] == ["4.21", "2.57", "1.32", "0.46"]
    assert "`mobilenet_v1`" in r.out.splitlines()[0]


def test_markdown_cells_match_the_exact_csv(cli):
    rows = list(csv.DictReader(io.StringIO(cli(*V1_TABLE, "--format", "csv").out)))
    head, _, body = parse_markdown_table(cli(*V1_TABLE, "--format", "md").out)
    for row in body:
        for col, cell in zip(head[1:5], row[1:5]):
            exact = next(x for x in rows if x["alpha"] == row[0] and x["resolution"] == f"{col.split()[0]}x{col.split()[0]}")
            assert cell == millions(int(exact["madds"]))


def test_markdown_params_pivot_and_flops(cli):
    _, _, body = parse_markdown_table(cli(*V1_TABLE, "--pivot", "params", "--format", "md").out)
    assert [row[1:] for row in body][0] == ["4.21"] * 4  # no params column beside a params pivot
    head, _, body = parse_markdown_table(cli(*V1_TABLE, "--flops", "--format", "md").out)
    # FLOPs = 2 × 568,740,352 = 1,137,480,704 → 1137 (M)
    assert body[0][1] == "1137" and head[1] == "224 (M)"
    assert "FLOPs" in cli(*V1_TABLE, "--flops", "--format", "md").out.splitlines()[0]


# --- LaTeX --------------------------------------------------------------------------------------------

def split_row(line: str) -> list[str]:
    assert line.endswith("\\\\"), line
    return [c.strip() for c in re.split(r"(?<!\\)&", line[:-2])]


def check_latex(text: str) -> tuple[str, list[list[str]]]:
    """Balanced environments and braces, booktabs rules in order, every body row as wide as
    the column spec. Returns the spec and the body rows."""
    assert text.count("\\begin{table}") == text.count("\\end{table}") == 1
    assert text.count("\\begin{tabular}") == text.count("\\end{tabular}") == 1
    unescaped = re.sub(r"\\[{}]", "", text)
    depth = 0
    for ch in unescaped:
        depth += {"{": 1, "}": -1}.get(ch, 0)
        assert depth >= 0
    assert depth == 0
    assert "\\caption{" in text and re.search(r"\\label\{tab:[A-Za-z0-9_.:-]+\}", text)
    lines = [ln.strip() for ln in text.splitlines()]
    top, mid, bottom = (lines.index(f"\\{rule}rule") for rule in ("top", "mid", "bottom"))
    assert top < mid < bottom
    spec = re.search(r"\\begin\{tabular\}\{([lcr]+)\}", text).group(1)
    header = [ln for ln in lines[top + 1:mid] if not ln.startswith("\\cmidrule")]
    for ln in header:
        spans = [re.match(r"\\multicolumn\{(\d+)\}", c) for c in split_row(ln)]
        assert sum(int(m.group(1)) if m else 1 for m in spans) == len(spec), ln
    body = [split_row(ln) for ln in lines[mid + 1:bottom]]
    assert all(len(row) == len(spec) for row in body)
    return spec, body


def test_latex_is_a_booktabs_table_with_the_papers_numbers(cli):
    r = cli(*V1_TABLE, "--format", "latex")
    assert r.code == 0
    spec, body = check_latex(r.out)
    assert spec == "lrrrrr"
    assert body[0] == ["1.0", "569", "418", "291", "186", "4.21"]
    assert [row[1] for row in body] == ["569", "325", "149", "41"]
    assert "mobilenet\\_v1" in r.out and "\\label{tab:mobilenet_v1-madds}" in r.out
    assert "\\multicolumn{4}{c}{Mult-adds (M)}" in r.out and "Params (M)" in r.out


def test_latex_escapes_what_a_file_name_can_hold():
    assert latex_escape("a_b & 50% #1 {x} ~^\\") == \
        r"a\_b \& 50\% \#1 \{x\} \textasciitilde{}\textasciicircum{}\textbackslash{}"
    assert latex_escape("α × ρ") == r"$\alpha$ $\times$ $\rho$"
    # a blank line would end \caption: a newline is shown escaped, as every output shows it (issue 26)
    assert latex_escape("two\n\nparagraphs") == r"two\textbackslash{}n\textbackslash{}nparagraphs"


WEIRD = """\
name: "net_#1 & 50% {x}~^\\\\"
input: {resolution: [72, 56], channels: 3}
classes: 10
layers:
  - {kind: conv, c: 24, k: 3, s: 2}
  - {kind: pool, op: avg, k: 2}
  - {kind: fc}
"""


def test_latex_of_an_awkward_file_keeps_its_structure(tmp_path, cli):
    f = tmp_path / "weird.yaml"
    f.write_text(WEIRD)
    r = cli("sweep", f, "-a", "1,0.5", "--rho", "1,0.5", "--flops", "--format", "latex")
    assert r.code == 0, r.err
    spec, body = check_latex(r.out)
    # the FC reads a flattened 18×14 map at 72×56, 9×7 at 36×28: params depend on ρ → no params column
    assert spec == "lrr" and [row[0] for row in body] == ["1.0", "0.5"]
    assert "72$\\times$56" in r.out and "net\\_\\#1 \\& 50\\%" in r.out


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex not installed")
def test_latex_compiles_pasted_into_a_document(tmp_path, cli):
    f = tmp_path / "weird.yaml"
    f.write_text(WEIRD)
    tables = [cli(*V1_TABLE, "--format", "latex").out,
              cli(*V1_TABLE, "--pivot", "params", "--profile", "keras", "--format", "latex").out,
              cli("sweep", f, "-a", "1,0.5", "--rho", "1,0.5", "--flops", "--format", "latex").out]
    doc = tmp_path / "paper.tex"
    doc.write_text("\\documentclass{article}\n\\usepackage[T1]{fontenc}\n\\usepackage{booktabs}\n"
                   "\\begin{document}\nTable~\\ref{tab:mobilenet_v1-madds}.\n" + "\n".join(tables) +
                   "\\end{document}\n")
    p = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", doc.name],
                       cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stdout[-2000:]
    assert (tmp_path / "paper.pdf").stat().st_size > 0


# --- terminal table and number formatting --------------------------------------------------------

def test_terminal_table_shows_the_grid(cli):
    r = cli(*V1_TABLE)
    assert r.code == 0
    lines = r.out.splitlines()
    header = next(ln for ln in lines if ln.split()[:1] == ["α"])
    assert header.split() == ["α", "224", "(M)", "192", "(M)", "160", "(M)", "128", "(M)", "params", "(M)"]
    row = next(ln for ln in lines if ln.split()[:1] == ["0.25"])
    assert row.split() == ["0.25", "41", "30", "21", "14", "0.46"]


def test_a_wide_grid_is_cut_into_tables_that_fit():
    g = sweep_grid("mobilenet_v2", "1,0.5", "96:320:8")
    text = pivot_text(pivot(g), width=80)
    headers = [ln for ln in text.splitlines() if ln.startswith("  α") or ln.startswith("α")]
    assert len(headers) > 1 and all(len(ln) <= 80 for ln in text.splitlines()[1:])
    # every resolution appears once across the pieces: (320 − 96) / 8 + 1 = 29
    assert sum(ln.count("(M)") for ln in headers) == 29 + 1  # + the params column


def test_scale_rounds_exactly_half_up():
    m = Scale("M", 10**6, 0)
    assert (m(568_740_352), m(290_675_200), m(500_000), m(1_499_999), m(2_500_000)) == \
        ("569", "291", "1", "1", "3")
    assert Scale("M", 10**6, 2)(463_600) == "0.46" and Scale("M", 10**6, 2)(4_205_000) == "4.21"
    # units and decimals: two significant digits for the smallest value, at most three decimals
    assert scale_for([568_740_352, 41_030_272]) == Scale("M", 10**6, 0)
    assert scale_for([4_209_088, 463_600]) == Scale("M", 10**6, 2)
    assert scale_for([7_900_000, 600_000_000]) == Scale("M", 10**6, 1)
    assert scale_for([5_000, 900]) == Scale("K", 10**3, 2)  # 0.90 K
    assert scale_for([12, 7]) == Scale("", 1, 0) and scale_for([0, 0]) == Scale("", 1, 0)
    assert scale_for([2 * 10**9, 3 * 10**9]) == Scale("G", 10**9, 1)


def test_params_column_only_when_params_do_not_depend_on_resolution(tmp_path):
    pv = pivot(sweep_grid("mobilenet_v2", "1,0.5", "224,96"))
    assert pv.params == (3_469_760, pivot(sweep_grid("mobilenet_v2", "0.5")).params[0])
    f = tmp_path / "flat.yaml"
    f.write_text(WEIRD)
    assert pivot(sweep_grid(f, "1", "64,32")).params is None
    assert "params" not in pivot_markdown(pivot(sweep_grid(f, "1", "64,32")))
    assert "Params" not in pivot_latex(pivot(sweep_grid("mobilenet_v1", "1", "224"), "params"))


# --- CSV and JSON agree ---------------------------------------------------------------------------------

def test_csv_and_json_hold_the_same_rows(cli):
    args = ["sweep", "mobilenet_v2", "-a", "0.35:1.4:0.35", "--rho", "1,0.5", "--flops"]
    rows = list(csv.DictReader(io.StringIO(cli(*args, "--format", "csv").out)))
    data = cli(*args, "--format", "json").json()["rows"]
    assert len(rows) == len(data) == 8
    for c, j in zip(rows, data):
        assert Fraction(c["alpha"]) == Fraction(str(j["alpha"])) and Fraction(c["rho"]) == Fraction(str(j["rho"]))
        assert ([int(x) for x in c["resolution"].split("x")], int(c["madds"]), int(c["params"]),
                int(c["flops"])) == (j["resolution"], j["madds"], j["params"], j["flops"])
        assert c["convention"] == "paper;bn=0;bias=0;classes=1000;flops" and c["architecture"] == "mobilenet_v2"
    # the last row, α = 1.4 at ρ = 0.5 (112×112), is the engine's count
    r = mbcost.analyze("mobilenet_v2", alpha="1.4", rho="0.5")
    assert (data[-1]["madds"], data[-1]["params"]) == (r.madds, r.params)


def test_csv_of_a_non_square_input(tmp_path, cli):
    f = tmp_path / "weird.yaml"
    f.write_text(WEIRD)
    rows = list(csv.DictReader(io.StringIO(cli("sweep", f, "--format", "csv").out)))
    # conv 3×3 s2 'same' on 72×56×3 → 36×28×24: 27·24·36·28 = 653,184; pool /2 → 18×14;
    # FC on 18·14·24 = 6,048 inputs × 10 classes = 60,480
    madds = 27 * 24 * 36 * 28 + 6048 * 10
    assert [{k: r[k] for k in ("alpha", "resolution", "madds", "flops", "params")} for r in rows] == \
        [{"alpha": "1.0", "resolution": "72x56", "madds": str(madds), "flops": str(2 * madds),
          "params": str(27 * 24 + 6048 * 10)}]
