"""Formats for check verdicts that CI systems understand: plain lines, JUnit XML, a Markdown summary."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from ganbench.evidence.gate import FAIL, INCONCLUSIVE, NOT_COMPARABLE, PASS, Verdict

ICONS = {PASS: "✅", FAIL: "❌", INCONCLUSIVE: "❔", NOT_COMPARABLE: "⚠️"}
ORDER = {FAIL: 0, NOT_COMPARABLE: 1, INCONCLUSIVE: 2, PASS: 3}  # what a reader needs first


def line(v: Verdict) -> str:
    return f"{v.status.upper()}  {v.variant} on {v.dataset}  {v.rule}: {v.evidence}"


def counts(verdicts: list[Verdict]) -> str:
    """``N passed, N failed`` and, where there are any, the inconclusive and not comparable counts."""
    n = {status: sum(v.status == status for v in verdicts) for status in ORDER}
    text = f"{n[PASS]} passed, {n[FAIL]} failed"
    return text + "".join(f", {n[s]} {s}" for s in (INCONCLUSIVE, NOT_COMPARABLE) if n[s])


def junit_xml(verdicts: list[Verdict], suite: str, strict: bool = False) -> str:
    """One testcase per variant x dataset x rule; a failure carries the evidence as its message, an
    inconclusive or not-comparable verdict is a skipped case (a failure under ``strict``)."""
    failures = sum(v.fails(strict) for v in verdicts)
    skipped = sum(v.status != PASS and not v.fails(strict) for v in verdicts)
    root = ET.Element("testsuites", name="ganbench check", tests=str(len(verdicts)), failures=str(failures))
    ts = ET.SubElement(root, "testsuite", name=f"ganbench check: {suite}", tests=str(len(verdicts)),
                       failures=str(failures), errors="0", skipped=str(skipped))
    for v in verdicts:
        case = ET.SubElement(ts, "testcase", classname=f"ganbench.{v.variant}", name=f"{v.dataset}: {v.rule}")
        message = f"{v.variant} on {v.dataset}: {v.rule}: {v.status}: {v.evidence}"
        if v.fails(strict):
            failure = ET.SubElement(case, "failure", message=message, type=v.rule.split(":")[0])
            failure.text = v.evidence
        elif v.status != PASS:
            ET.SubElement(case, "skipped", message=message)
        else:
            ET.SubElement(case, "system-out").text = v.evidence
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def markdown(verdicts: list[Verdict], suite: str, strict: bool = False) -> str:
    failed = sum(v.fails(strict) for v in verdicts)
    head = (f"### ganbench check `{suite}`: {'❌ ' + str(failed) + ' failed' if failed else '✅ no failure'}"
            f" ({counts(verdicts)})\n")
    cell = lambda s: s.replace("|", "\\|").replace("\n", " ")  # noqa: E731
    rows = ["| | verdict | variant | dataset | rule | evidence |", "|---|---|---|---|---|---|"]
    for v in sorted(verdicts, key=lambda v: ORDER[v.status]):
        rows.append(f"| {ICONS[v.status]} | {v.status} | {cell(v.variant)} | {cell(v.dataset)} | {v.rule} | "
                    f"{cell(v.evidence)} |")
    return head + "\n" + "\n".join(rows) + "\n"
