"""Formats for check verdicts that CI systems understand: plain lines, GitHub annotations, JUnit XML, a Markdown
summary. What fails or warns is the rules' to say (``Rules.fails`` / ``Rules.warns``)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from ganbench.evidence.gate import FAIL, INCONCLUSIVE, NOT_COMPARABLE, PASS, SEEN, Rules, Verdict

ICONS = {PASS: "✅", FAIL: "❌", SEEN: "⚠️", INCONCLUSIVE: "❔", NOT_COMPARABLE: "⚠️"}
ORDER = {FAIL: 0, SEEN: 1, NOT_COMPARABLE: 2, INCONCLUSIVE: 3, PASS: 4}  # what a reader needs first


def line(v: Verdict) -> str:
    return f"{v.status.upper()}  {v.variant} on {v.dataset}  {v.rule}: {v.evidence}"


def counts(verdicts: list[Verdict]) -> str:
    """``N passed, N failed`` and, where there are any, the undecided and not comparable counts."""
    n = {status: sum(v.status == status for v in verdicts) for status in ORDER}
    text = f"{n[PASS]} passed, {n[FAIL]} failed"
    return text + "".join(f", {n[s]} {s}" for s in (SEEN, INCONCLUSIVE, NOT_COMPARABLE) if n[s])


def policy(rules: Rules) -> str:
    """What undecided verdicts do under these rules, in words."""
    if rules.strict:
        return "strict: undecided and not comparable verdicts fail"
    return {"pass": "undecided verdicts pass", "warn": "undecided verdicts warn, the build passes",
            "fail": "undecided verdicts fail"}[rules.inconclusive]


def annotations(verdicts: list[Verdict], rules: Rules) -> list[str]:
    """GitHub Actions workflow commands: an error per failing verdict, a warning per warning one (seen but not
    significant, not comparable), a notice per inconclusive one that warns."""
    out = []
    for v in sorted(verdicts, key=lambda v: ORDER[v.status]):
        if rules.fails(v):
            level = "error"
        elif rules.warns(v):
            level = "notice" if v.status == INCONCLUSIVE else "warning"
        else:
            continue
        title = f"ganbench check: {v.variant} on {v.dataset}: {v.rule}: {v.status}"
        out.append(f"::{level} title={_escape(title, True)}::{_escape(f'{v.status}: {v.evidence}')}")
    return out


def _escape(text: str, property_value: bool = False) -> str:
    """GitHub's escaping for workflow command data (and, further, for property values)."""
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return text.replace(":", "%3A").replace(",", "%2C") if property_value else text


def junit_xml(verdicts: list[Verdict], suite: str, rules: Rules) -> str:
    """One testcase per variant x dataset x rule. A failing verdict is a failure carrying the evidence; a
    verdict that warns is a skipped case whose type names it (``seen, not significant``, ``inconclusive``,
    ``not comparable``); where the rate tested against came from is a property of the case."""
    failures = sum(rules.fails(v) for v in verdicts)
    skipped = sum(rules.warns(v) for v in verdicts)
    root = ET.Element("testsuites", name="ganbench check", tests=str(len(verdicts)), failures=str(failures))
    ts = ET.SubElement(root, "testsuite", name=f"ganbench check: {suite}", tests=str(len(verdicts)),
                       failures=str(failures), errors="0", skipped=str(skipped))
    for v in verdicts:
        case = ET.SubElement(ts, "testcase", classname=f"ganbench.{v.variant}", name=f"{v.dataset}: {v.rule}")
        if v.null_rate:
            properties = ET.SubElement(case, "properties")
            ET.SubElement(properties, "property", name="null_rate_source", value=v.null_rate)
        message = f"{v.variant} on {v.dataset}: {v.rule}: {v.status}: {v.evidence}"
        if rules.fails(v):
            failure = ET.SubElement(case, "failure", message=message, type=v.status)
            failure.text = v.evidence
        elif rules.warns(v):
            ET.SubElement(case, "skipped", message=message, type=v.status)
        else:
            ET.SubElement(case, "system-out").text = f"{v.status}: {v.evidence}"
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def markdown(verdicts: list[Verdict], suite: str, rules: Rules, reach: list[str] = ()) -> str:
    """The summary: the outcome, what this build could decide (``reach``), then every verdict, failures first."""
    failed = sum(rules.fails(v) for v in verdicts)
    warned = sum(rules.warns(v) for v in verdicts)
    outcome = f"❌ {failed} failed" if failed else f"⚠️ no failure, {warned} warning(s)" if warned else "✅ no failure"
    head = f"### ganbench check `{suite}`: {outcome} ({counts(verdicts)}; {policy(rules)})\n"
    cell = lambda s: s.replace("|", "\\|").replace("\n", " ")  # noqa: E731
    power = ["", "What this build can decide:", "", *(f"- {cell(text)}" for text in reach)] if reach else []
    rows = ["", "| | verdict | variant | dataset | rule | evidence | null rate from |", "|---|---|---|---|---|---|---|"]
    for v in sorted(verdicts, key=lambda v: ORDER[v.status]):
        rows.append(f"| {ICONS[v.status]} | {v.status} | {cell(v.variant)} | {cell(v.dataset)} | {v.rule} | "
                    f"{cell(v.evidence)} | {cell(v.null_rate) or '—'} |")
    return head + "\n".join(power + rows) + "\n"
