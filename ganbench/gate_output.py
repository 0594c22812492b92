"""Formats for check verdicts that CI systems understand: plain lines, JUnit XML, a Markdown summary."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from ganbench.gate import Verdict


def line(v: Verdict) -> str:
    return f"{'PASS' if v.passed else 'FAIL'}  {v.variant} on {v.dataset}  {v.rule}: {v.evidence}"


def junit_xml(verdicts: list[Verdict], suite: str) -> str:
    """One testcase per variant x dataset x rule; a failure carries the evidence as its message."""
    failures = sum(not v.passed for v in verdicts)
    root = ET.Element("testsuites", name="ganbench check", tests=str(len(verdicts)), failures=str(failures))
    ts = ET.SubElement(root, "testsuite", name=f"ganbench check: {suite}", tests=str(len(verdicts)),
                       failures=str(failures), errors="0", skipped="0")
    for v in verdicts:
        case = ET.SubElement(ts, "testcase", classname=f"ganbench.{v.variant}", name=f"{v.dataset}: {v.rule}")
        if v.passed:
            ET.SubElement(case, "system-out").text = v.evidence
        else:
            failure = ET.SubElement(case, "failure", message=f"{v.variant} on {v.dataset}: {v.rule}: {v.evidence}",
                                    type=v.rule.split(":")[0])
            failure.text = v.evidence
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def markdown(verdicts: list[Verdict], suite: str) -> str:
    failed = [v for v in verdicts if not v.passed]
    head = (f"### ganbench check `{suite}`: {'❌ ' + str(len(failed)) + ' failed' if failed else '✅ all passed'}"
            f" ({len(verdicts)} checks)\n")
    cell = lambda s: s.replace("|", "\\|").replace("\n", " ")  # noqa: E731
    rows = ["| | variant | dataset | rule | evidence |", "|---|---|---|---|---|"]
    for v in sorted(verdicts, key=lambda v: v.passed):  # failures first
        rows.append(f"| {'✅' if v.passed else '❌'} | {cell(v.variant)} | {cell(v.dataset)} | {v.rule} | "
                    f"{cell(v.evidence)} |")
    return head + "\n" + "\n".join(rows) + "\n"
