"""A partial result — an imported model whose ops mbcost does not cost, kept by --allow-unknown —
says PARTIAL in every format, and `check` gives it no verdict (exit 2) unless allowed
(issue 23). The CLI end to end, on a real ONNX file, is in tests/crosscheck/test_onnx_honest.py
(onnx is not a dependency of this suite); here the library and every renderer, on MobileNetV1
with two ops marked not costed, as the ONNX importer marks them (Graph.unknown)."""
from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from dataclasses import replace
from fractions import Fraction

import pytest

import mbcost
from mbcost.analyses.budget import Budget, Limit, check
from mbcost.core.expand import expand
from mbcost.core.spec import load_spec
from mbcost.render.formats import render

# MobileNetV1 at α 1, 224: 568,740,352 mult-adds and 4,209,088 weights (the paper's 569M, 4.2M)
MADDS, PARAMS = 568_740_352, 4_209_088


@pytest.fixture(scope="module")
def partial():
    spec = load_spec("mobilenet_v1")
    graph = replace(expand(spec, Fraction(1), (224, 224)), unknown=("Frobnicate", "Erf", "Frobnicate"))
    return replace(spec, name="net.onnx", prebuilt=lambda alpha, resolution, classes: graph)


def _run(spec, allow_partial=False, limit=PARAMS):
    return check([Budget(name="net.onnx", arch=spec, limits=(Limit("params", limit),), allow_partial=allow_partial)])


def test_a_partial_report_says_so_and_what_it_leaves_out(partial):
    r = mbcost.analyze(partial)
    assert (r.madds, r.params, r.partial, r.not_costed) == (MADDS, PARAMS, True, "Frobnicate ×2, Erf")
    text = render("report", "table", r)
    assert "PARTIAL, not costed: Frobnicate ×2, Erf" in text.splitlines()[0]
    total = [line for line in text.splitlines() if line.startswith("total  ")][-1]  # the totals line
    assert "PARTIAL, not costed: Frobnicate ×2, Erf" in total  # beside the totals too, not only the title
    assert "PARTIAL, not costed" in render("report", "md", r).splitlines()[0]
    d = json.loads("".join(render("report", "json", r)))
    assert (d["partial"], d["not_costed"]) == (True, ["Erf", "Frobnicate"])
    rows = list(csv.DictReader(io.StringIO(render("report", "csv", r))))
    assert {(row["partial"], row["not_costed"]) for row in rows} == {("PARTIAL", "Frobnicate ×2, Erf")}
    # a whole result has no such columns
    whole = render("report", "csv", mbcost.analyze("mobilenet_v1"))
    assert "partial" not in whole.splitlines()[0].split(",")


def test_check_gives_a_partial_result_no_verdict(partial):
    run = _run(partial)  # within the limit (4,209,088 ≤ 4,209,088), but the counts leave ops out
    assert (run.ok, run.exit_code, len(run.unjudged), len(run.failures)) == (False, 2, 1, 0)
    assert run.unjudged_line().startswith("PARTIAL, so not checked: net.onnx (not costed: Frobnicate ×2, Erf)")
    lines = render("check", "table", run).splitlines()
    assert lines[0].startswith("PART  net.onnx (α 1.0, 224×224, PARTIAL): parameters 4,209,088 ≤ limit 4,209,088")
    assert lines[0].endswith("[PARTIAL, not costed: Frobnicate ×2, Erf; not judged]")
    assert lines[-1].startswith("NOT CHECKED: net.onnx (not costed: Frobnicate ×2, Erf)")
    d = json.loads(render("check", "json", run))
    assert (d["ok"], d["failures"], d["budgets"][0]["partial"], d["budgets"][0]["not_costed"]) == \
        (False, 0, True, ["Erf", "Frobnicate"])
    md = render("check", "md", run)
    assert md.startswith("### mbcost budget check: ⚠️ 1 PARTIAL result not checked")
    suite = ET.fromstring(render("check", "junit", run)).find("testsuite")
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("1", "0", "1")
    case = suite.find("testcase")
    assert "PARTIAL" in case.get("name")
    assert (case.find("error").get("type"), case.find("error").get("message")) == \
        ("Partial", "PARTIAL, not judged: not costed: Frobnicate ×2, Erf")


@pytest.mark.parametrize("limit, code", [(PARAMS, 0), (PARAMS - 1, 1)])
def test_allow_partial_judges_what_is_costed_and_still_says_partial(partial, limit, code):
    run = _run(partial, allow_partial=True, limit=limit)
    assert (run.exit_code, run.unjudged) == (code, [])
    line = render("check", "table", run).splitlines()[0]
    assert line.startswith("ok    " if code == 0 else "FAIL  ") and "(α 1.0, 224×224, PARTIAL)" in line
    assert line.endswith("[PARTIAL, not costed: Frobnicate ×2, Erf]")
    suite = ET.fromstring(render("check", "junit", run)).find("testsuite")
    assert (suite.get("failures"), suite.get("errors")) == (str(code), "0")
    assert "PARTIAL, not costed: Frobnicate ×2, Erf" in "".join(suite.itertext())
    assert "PARTIAL" in render("check", "md", run).splitlines()[4]


def test_a_whole_result_is_judged_as_before():
    run = _run(load_spec("mobilenet_v1"), limit=PARAMS - 1)
    assert (run.exit_code, run.unjudged, run.results[0].label) == (1, [], "net.onnx (α 1.0, 224×224)")
