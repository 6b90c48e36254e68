"""A pull-request comment in GitHub-flavoured Markdown: verdict, summary, violations, what to do.

The first line is a hidden marker (``<!-- ciiguard-report -->``) so a CI job can find and update
its previous comment instead of adding a new one. GitHub rejects a comment over 65,536 characters,
so tables and lists stop within a budget and say how many rows are in the SARIF/JSON report only.
"""

from __future__ import annotations

from ciiguard.escaping import markdown_code, markdown_text
from ciiguard.model import Violation, ViolationStatus
from ciiguard.reporters.base import Report
from ciiguard.reporters.common import active, by_status, label, tally, verdict, where

MARKER = "<!-- ciiguard-report -->"
LIMIT = 65_000  # GitHub's comment body limit is 65,536 characters; some room for the job's edits
TAIL = 6_000  # kept for what follows the tables (what to do, plugins)


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
    _left = 0  # characters the tables may still take in this rendering

    def _rows(self, header: list[str], rows: list[list[str]], what: str) -> list[str]:
        """A table with as many rows as the comment's budget holds, then a line for the rest."""
        return self._bounded(_table(header, []), _table(header, rows)[2:], what)

    def _bounded(self, head: list[str], items: list[str], what: str) -> list[str]:
        out = list(head)
        self._left -= sum(len(line) + 1 for line in head)
        for i, line in enumerate(items):
            if len(line) + 1 > self._left:
                out += [
                    "",
                    f"_{len(items) - i} more {what} not shown: a pull-request comment holds "
                    "65,536 characters. Every one is in the SARIF and JSON reports._",
                ]
                self._left -= 200
                break
            out.append(line)
            self._left -= len(line) + 1
        return out

    def render(self, report: Report) -> str:
        self._left = LIMIT - TAIL
        res = report.result
        shown = verdict(report)
        head = {
            "passed": "ciiguard passed",
            "INCOMPLETE": "ciiguard could not complete the scan",
        }.get(shown, f"ciiguard {shown}")
        count, data, scoped = res.counts()
        lines = [MARKER, f"## {head}", ""]
        summary = (
            f"{count} resources scanned, {data} hold data, {scoped} in scope. "
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
            lines += self._bounded(
                [], [f"- {markdown_code(e.render(), in_table=False)}" for e in res.errors], "errors"
            )
            lines.append("")
        open_ = active(res)
        if open_:
            lines += ["### Violations", ""]
            lines += self._rows(
                ["", "Policy", "Resource", "Where", "Region", "Problem"],
                [_violation_row(v) for v in open_],
                "violations",
            )
            lines.append("")
        approved = by_status(res, ViolationStatus.APPROVED_TRANSFER)
        if approved:
            lines += ["### Approved cross-border transfers", ""]
            lines += self._rows(
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
                "approved transfers",
            )
            lines.append("")
        if res.warnings:
            lines += ["### Warnings", ""]
            lines += self._bounded([], [f"- {_cell(w.render())}" for w in res.warnings], "warnings")
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
            lines += self._rows(
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
                "suppressed or exempted findings",
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
            lines += self._rows(
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
                "suppressions and approvals",
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
        text = "\n".join(lines).rstrip("\n") + "\n"
        if len(text) > LIMIT:  # the tail outgrew its room: cut at a line, and say so
            cut = text.rfind("\n", 0, LIMIT - 300)
            text = text[:cut] + "\n\n_The rest of this report is in the SARIF and JSON reports._\n"
        return text

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
