"""A budget check as JUnit XML, the test-report format GitHub, GitLab and Jenkins all read.

One ``<testcase>`` per architecture × metric, so a report lists "mobilenet_v2 (α 1.0,
224×224): mult-adds" next to the project's unit tests; an over-budget metric carries a
``<failure>`` whose message says by how much. Built with xml.etree, so names with
``<``, ``&`` or quotes are escaped, control characters in a name are shown escaped
(``\\x1b``) as on every other output, and what XML 1.0 cannot hold at all (a lone
surrogate) is dropped, so every parser reads the file.
"""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from ..analyses.budget import METRIC_NAMES, CheckRun
from .check import growth_lines, partial_text, verdict
from .text import printable

CLASSNAME = "mbcost.check"

# What XML 1.0 cannot hold at all, even escaped (section 2.2): C0 controls other than tab,
# newline and carriage return, lone surrogates (a file name Python decoded with
# surrogateescape), U+FFFE and U+FFFF. xml.etree escapes <, & and quotes but writes these
# as they are, and every parser then rejects the file.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_text(text: str, lines: bool = False) -> str:
    """User text (a budget's name, a layer's, a path) as XML 1.0 can carry it: the characters
    it cannot hold dropped, the control characters it can (a CR, a tab, an ESC's neighbours)
    shown escaped as everywhere else (:func:`~mbcost.render.text.printable`); with ``lines``,
    the line breaks between lines of a failure's text are kept."""
    return _NOT_XML.sub("", printable(text, lines=lines))


def _element(parent, tag: str, **attrs) -> ET.Element:
    return ET.SubElement(parent, tag, {k: xml_text(v) for k, v in attrs.items()})


def check_junit(run: CheckRun) -> str:
    """A partial result not allowed (no verdict, exit 2) is an ``<error type="Partial">`` of each
    of its checks; an allowed one keeps its verdict and says PARTIAL in its name and output."""
    n = str(len(run.outcomes))
    unjudged = [(r, o) for r, o in run.outcomes if r.unjudged]
    bad = str(len([1 for r, o in run.failures if not r.unjudged]))
    errors = str(len(unjudged))
    root = ET.Element("testsuites", name="mbcost check", tests=n, failures=bad, errors=errors, time="0")
    title = "mbcost budgets" + (f" ({run.source})" if run.source else "")
    suite = _element(root, "testsuite", name=title, tests=n, failures=bad, errors=errors,
                     skipped="0", time="0")
    for r in run.results:
        for o in r.outcomes:
            case = _element(suite, "testcase", classname=CLASSNAME,
                            name=f"{r.label}: {METRIC_NAMES[o.metric]}", time="0")
            if r.unjudged:
                message = f"PARTIAL, not judged: not costed: {r.not_costed}"
                err = _element(case, "error", type="Partial", message=message)
                err.text = xml_text(f"{message}\n{verdict(o)} (of the costed part only)\n"
                                    "--allow-partial (allow_partial: true in a budgets entry) judges what is costed")
            elif o.ok:
                _element(case, "system-out").text = xml_text(verdict(o) + partial_text(r))
            else:
                detail = [verdict(o) + partial_text(r)] + (growth_lines(r, o.metric) if r.baseline is not None else [])
                fail = _element(case, "failure", type="OverBudget", message=verdict(o))
                fail.text = xml_text("\n".join(line.strip() for line in detail), lines=True)
    ET.indent(root)
    # Every character outside ASCII as a character reference (224&#215;224): the file is then
    # the same valid XML whatever encoding carries it — a UTF-8 file, or a latin-1 stdout.
    body = ET.tostring(root, encoding="us-ascii", xml_declaration=False).decode("ascii")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n"
