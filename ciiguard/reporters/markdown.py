"""A pull-request comment in GitHub-flavoured Markdown: verdict, summary, violations, what to do.

The first line is a hidden marker (``<!-- ciiguard-report -->``) so a CI job can find and update
its previous comment instead of adding a new one.
"""

from __future__ import annotations

from ciiguard.escaping import markdown_code, markdown_text
from ciiguard.model import Violation, ViolationStatus
from ciiguard.reporters.base import Report
from ciiguard.reporters.common import active, by_status, label, tally, verdict, where

MARKER = "<!-- ciiguard-report -->"


def _cell(text: object) -> str:
    """Plain text on one line: nothing in it renders as a link, image, HTML, code or mention."""
    return markdown_text(text)


def _code(text: object) -> str:
    return markdown_code(text)


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out.extend("| " + " | ".join(row) + " |" for row in rows)
    return out


def _violation_row(v: Violation) -> list[str]:
    problem = v.message
    if v.approval_problem:
        problem += f" (approval not valid: {v.approval_problem})"
    return [
        f"**{label(v)}**" if v.blocking else label(v),
        _cell(v.policy),
        _code(v.resource),
        _code(where(v)),
        _cell(v.region or ""),
        _cell(problem),
    ]


class MarkdownReporter:
    name = "markdown"
    description = "a pull-request comment: summary, table of violations, what to do"

    def render(self, report: Report) -> str:
        res = report.result
        shown = verdict(report)
        head = {
            "passed": "ciiguard passed",
            "INCOMPLETE": "ciiguard could not complete the scan",
        }.get(shown, f"ciiguard {shown}")
        data = sum(1 for r in res.resources if r.data_bearing)
        scoped = sum(1 for r in res.resources if r.in_scope)
        lines = [MARKER, f"## {head}", ""]
        summary = (
            f"{len(res.resources)} resources scanned, {data} hold data, {scoped} in scope. "
            f"**{len(res.blocking)} blocking** of {len(res.violations)} violations"
        )
        extra = tally(res)
        summary += f" ({extra})" if extra else ""
        summary += f"; {len(res.errors)} errors."
        lines += [summary, ""]
        if res.errors:
            lines += [
                "### Errors",
                "",
                "The scan is incomplete, so nothing can be vouched for:",
                "",
            ]
            lines += [f"- {markdown_code(e.render(), in_table=False)}" for e in res.errors]
            lines.append("")
        open_ = active(res)
        if open_:
            lines += ["### Violations", ""]
            lines += _table(
                ["", "Policy", "Resource", "Where", "Region", "Problem"],
                [_violation_row(v) for v in open_],
            )
            lines.append("")
        approved = by_status(res, ViolationStatus.APPROVED_TRANSFER)
        if approved:
            lines += ["### Approved cross-border transfers", ""]
            lines += _table(
                ["Resource", "Where", "To", "Approval", "Expires"],
                [
                    [
                        _code(v.resource),
                        _code(where(v)),
                        _cell(v.region or ""),
                        _code(v.approval_reference),
                        _cell(v.approval_expires)
                        + (" (**expires soon**)" if v.approval_warning else ""),
                    ]
                    for v in approved
                ],
            )
            lines.append("")
        if res.warnings:
            lines += ["### Warnings", ""]
            lines += [f"- {_cell(w.render())}" for w in res.warnings]
            lines.append("")
        waived = [
            v
            for v in res.violations
            if v.status in (ViolationStatus.SUPPRESSED, ViolationStatus.EXEMPTED)
        ]
        if waived:
            lines += [
                f"<details><summary>Suppressed and exempted findings ({len(waived)})</summary>",
                "",
            ]
            lines += _table(
                ["Status", "Policy", "Resource", "Reason", "Where it is written"],
                [
                    [
                        label(v),
                        _cell(v.policy),
                        _code(v.resource),
                        _cell(v.suppression_reason),
                        _code(v.suppression_source),
                    ]
                    for v in waived
                ],
            )
            lines += ["", "</details>", ""]
        if report.waivers:
            lines += [
                f"### Suppressions and approvals in the scanned tree ({len(report.waivers)})",
                "",
            ]
            lines += [
                "Each one waives a finding in the code; check its reason, reference and expiry.",
                "",
            ]
            lines += _table(
                [
                    "Kind",
                    "Resource",
                    "Where it is written",
                    "Policies",
                    "Reason or reference",
                    "Expires",
                    "Status",
                ],
                [
                    [
                        w.kind,
                        _code(w.resource),
                        _code(w.source),
                        _cell(",".join(w.policies)),
                        _cell(w.reason),
                        _cell(w.expires or ""),
                        _cell(w.status),
                    ]
                    for w in report.waivers
                ],
            )
            lines.append("")
        baselined = by_status(res, ViolationStatus.BASELINED)
        if baselined:
            lines += [
                f"{len(baselined)} finding{'' if len(baselined) == 1 else 's'} already in the "
                f"baseline {markdown_code(report.baseline, in_table=False)} (not new in this change).",
                "",
            ]
        lines += self._what_to_do(report, open_)
        if report.plugins:
            lines += [f"<details><summary>Plugins that ran ({len(report.plugins)})</summary>", ""]
            lines += _table(
                ["Plugin", "Version", "Loaded as", "From"],
                [
                    [
                        _cell(p.name),
                        _cell(p.version),
                        _cell(f"{p.source} of {p.distribution}" if p.distribution else p.source),
                        _code(p.location),
                    ]
                    for p in report.plugins
                ],
            )
            lines += ["", "</details>", ""]
        return "\n".join(lines).rstrip("\n") + "\n"

    @staticmethod
    def _what_to_do(report: Report, open_: list[Violation]) -> list[str]:
        from ciiguard.gate.stage import APPROVABLE, how_to_approve, how_to_suppress

        if not open_ and not report.result.errors:
            return []
        lines = ["### What to do", ""]
        if report.result.errors:
            lines.append("- Fix the errors above: an input ciiguard cannot read fails the gate.")
        policies = {p.id: p for p in report.policies}
        for pid in sorted({v.policy for v in open_}):
            policy = policies.get(pid)
            fix = policy.fix if policy and policy.fix else "see the fix of each finding"
            basis = f" ({policy.legal_basis})" if policy and policy.legal_basis else ""
            lines.append(f"- **{pid}**{basis}: {fix} Run `ciiguard explain {pid}` for more.")
            if pid in APPROVABLE:
                lines.append(f"  {how_to_approve(report.settings)}")
        if open_:
            lines.append(f"- If a finding is acceptable: {how_to_suppress('<policy>')}")
        lines.append("")
        return lines
