"""A budget check as JUnit XML, the test-report format GitHub, GitLab and Jenkins all read.

One ``<testcase>`` per architecture × metric, so a report lists "mobilenet_v2 (α 1.0,
224×224): mult-adds" next to the project's unit tests; an over-budget metric carries a
``<failure>`` whose message says by how much. Built with xml.etree, so names with
``<``, ``&`` or quotes are escaped.
"""
from __future__ import annotations

import xml.etree.ElementTree as ET

from ..analyses.budget import METRIC_NAMES, CheckRun
from .check import growth_lines, verdict

CLASSNAME = "mbcost.check"


def check_junit(run: CheckRun) -> str:
    n, bad = str(len(run.outcomes)), str(len(run.failures))
    root = ET.Element("testsuites", name="mbcost check", tests=n, failures=bad, errors="0", time="0")
    title = "mbcost budgets" + (f" ({run.source})" if run.source else "")
    suite = ET.SubElement(root, "testsuite", name=title, tests=n, failures=bad, errors="0",
                          skipped="0", time="0")
    for r in run.results:
        for o in r.outcomes:
            case = ET.SubElement(suite, "testcase", classname=CLASSNAME,
                                 name=f"{r.label}: {METRIC_NAMES[o.metric]}", time="0")
            if o.ok:
                ET.SubElement(case, "system-out").text = verdict(o)
            else:
                detail = [verdict(o)] + (growth_lines(r, o.metric) if r.baseline is not None else [])
                fail = ET.SubElement(case, "failure", type="OverBudget", message=verdict(o))
                fail.text = "\n".join(line.strip() for line in detail)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
