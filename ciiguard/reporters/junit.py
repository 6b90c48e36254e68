"""JUnit XML, for CI systems that show test reports (GitLab, Jenkins, Azure DevOps, ...).

One test suite per enabled policy and one test case per policy and resource it checked (every
in-scope resource, every resource that declares a flow, and every resource with a finding).
Blocking violations are failures; suppressed, exempted and baselined findings are skipped with
their reason; approved transfers and advisory findings pass and say so in ``system-out``. Scan
errors are an error in the ``ciiguard.scan`` suite.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from ciiguard.escaping import xml_text
from ciiguard.model import Enforcement, Violation, ViolationStatus
from ciiguard.policies.base import Policy
from ciiguard.reporters.base import Report
from ciiguard.reporters.common import label, plugin_line, waiver_line, where

SKIPPED = (ViolationStatus.SUPPRESSED, ViolationStatus.EXEMPTED, ViolationStatus.BASELINED)


def _note(v: Violation) -> str:
    text = f"{v.policy} [{label(v)}] {v.resource} at {where(v)}: {v.message}"
    if v.status is ViolationStatus.APPROVED_TRANSFER:
        text += f"\n  approval: {v.approval_reference}, expires {v.approval_expires}"
        if v.approval_warning:
            text += f"\n  WARNING: {v.approval_warning}"
    elif v.approval_problem:
        text += f"\n  approval not valid: {v.approval_problem}"
    if v.suppression_reason:
        text += f"\n  reason: {v.suppression_reason} ({v.suppression_source})"
    if v.evidence:
        text += f"\n  why: {v.evidence}"
    if v.fix and v.status is ViolationStatus.VIOLATION:
        text += f"\n  fix: {v.fix}"
    return text


def junit_tree(report: Report) -> ET.Element:
    res = report.result
    root = ET.Element("testsuites", name=report.tool_name)
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}

    def suite(name: str) -> ET.Element:
        return ET.SubElement(root, "testsuite", name=name)

    def close(s: ET.Element, counts: dict[str, int]) -> None:
        for k, n in counts.items():
            s.set(k, str(n))
            totals[k] += n
        s.set("time", "0")

    checked = [r for r in res.resources if r.in_scope or r.flows]
    for policy in report.policies:
        level = report.level(policy)
        if level is Enforcement.DISABLED:
            continue
        # a policy the gate stage reports for (CII004) checks no resource: only its findings
        gate_made = (
            policy.validate is None
            and policy.validate_scan is None
            and type(policy).run is Policy.run
        )
        if gate_made and not any(v.policy == policy.id for v in res.violations):
            continue
        s = suite(f"{policy.id} {policy.name}")
        props = ET.SubElement(s, "properties")
        for k, value in (
            ("severity", policy.severity.value),
            ("enforcement", level.value),
            ("legal_basis", policy.legal_basis),
        ):
            ET.SubElement(props, "property", name=k, value=value)
        # a case per (root module, address, file): GitLab identifies a test case by suite,
        # classname and name, so the root is the classname and envs/prod and envs/staging, with
        # the same addresses in one shared module, stay two failures
        cases: dict[tuple[str, str, str | None], list[Violation]] = {}
        lines: dict[tuple[str, str, str | None], int | None] = {}
        for r in [] if gate_made else checked:
            cases.setdefault((r.root, r.address, r.file), [])
            lines.setdefault((r.root, r.address, r.file), r.line)
        for v in res.violations:
            if v.policy == policy.id:
                key = (v.root or "", v.resource, v.file)
                cases.setdefault(key, []).append(v)
                lines.setdefault(key, v.line)
        counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
        for (root_module, address, file), found in cases.items():
            counts["tests"] += 1
            classname = root_module or file or f"ciiguard.{policy.id}"
            case = ET.SubElement(s, "testcase", name=address, classname=classname)
            case.set("time", "0")
            if file:
                case.set("file", file)
                line = lines[(root_module, address, file)]
                if line:
                    case.set("line", str(line))
            blocking = [v for v in found if v.blocking]
            if blocking:
                counts["failures"] += 1
                first = blocking[0]
                fail = ET.SubElement(
                    case, "failure", message=first.message, type=f"{policy.id} blocking"
                )
                fail.text = "\n\n".join(_note(v) for v in blocking)
            elif found and all(v.status in SKIPPED for v in found):
                counts["skipped"] += 1
                first = found[0]
                reason = first.suppression_reason or f"in the baseline {report.baseline or ''}"
                ET.SubElement(case, "skipped", message=f"{first.status.value}: {reason}".strip())
            rest = [v for v in found if not v.blocking]
            if rest:
                ET.SubElement(case, "system-out").text = "\n\n".join(_note(v) for v in rest)
        close(s, counts)

    s = suite("ciiguard.scan")
    counts = {"tests": 1, "failures": 0, "errors": 0, "skipped": 0}
    case = ET.SubElement(s, "testcase", name="inputs read completely", classname="ciiguard.scan")
    case.set("time", "0")
    if res.errors:
        counts["errors"] = 1
        err = ET.SubElement(
            case,
            "error",
            message=f"{len(res.errors)} input(s) could not be read; nothing can be vouched for",
            type="scan-error",
        )
        err.text = "\n".join(e.render() for e in res.errors)
    # what ran and what the tree waives, so a reviewer reading only the test report sees them
    props = ET.SubElement(s, "properties")
    for p in report.plugins:
        ET.SubElement(props, "property", name=f"plugin {p.name}", value=plugin_line(p))
    notes = [f"warning: {w.render()}" for w in res.warnings]
    notes += [f"waiver: {waiver_line(w)}" for w in report.waivers]
    if notes:
        ET.SubElement(case, "system-out").text = "\n".join(notes)
    close(s, counts)
    for k, n in totals.items():
        root.set(k, str(n))
    root.set("time", "0")
    return root


def strict_xunit(tree: ET.Element) -> ET.Element:
    """The dialect Jenkins' xunit plugin's strict schema (junit-10.xsd) accepts: no ``file`` or
    ``line`` on test cases (the place goes first in ``system-out``) and no ``skipped`` on the
    ``testsuites`` root."""
    tree.attrib.pop("skipped", None)
    for case in tree.iter("testcase"):
        file, line = case.attrib.pop("file", None), case.attrib.pop("line", None)
        if file:
            where = f"at {file}:{line}" if line else f"at {file}"
            out = case.find("system-out")
            if out is None:
                out = ET.SubElement(case, "system-out")
            out.text = where + ("\n\n" + out.text if out.text else "")
    return tree


class JunitReporter:
    name = "junit"
    description = "JUnit XML: one test case per policy and resource (GitLab, Jenkins test reports)"
    strict = False

    def render(self, report: Report) -> str:
        tree = junit_tree(report)
        if self.strict:
            tree = strict_xunit(tree)
        for el in tree.iter():  # XML 1.0 cannot carry control characters, even escaped
            if el.text:
                el.text = xml_text(el.text)
            for k, value in el.attrib.items():
                el.set(k, xml_text(value))
        ET.indent(tree)
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            + ET.tostring(tree, encoding="unicode")
            + "\n"
        )


class JunitXunitReporter(JunitReporter):
    name = "junit-xunit"
    description = "JUnit XML in the strict dialect of Jenkins' xunit plugin schema (junit-10.xsd)"
    strict = True
