"""GitHub Actions workflow commands: findings show inline on the pull request's changed files.

Blocking violations and scan errors are ``::error``, non-blocking findings and warnings (an
approval about to expire, a suppression without a reason) ``::warning``, approved transfers
``::notice``. Suppressed, exempted and baselined findings are left out: they are accepted.
Paths are as ciiguard shows them (relative to the working directory): run from the repository root.
"""

from __future__ import annotations

from ciiguard.escaping import workflow_data, workflow_property
from ciiguard.model import ScanIssue, Violation, ViolationStatus
from ciiguard.reporters.base import Report
from ciiguard.reporters.common import tally, verdict


def command(kind: str, message: str, file: str | None, line: int | None, title: str) -> str:
    props = []
    if file:
        props.append(f"file={workflow_property(file)}")
        if line:
            props.append(f"line={line}")
    props.append(f"title={workflow_property(title)}")
    return f"::{kind} {','.join(props)}::{workflow_data(message)}"


def _violation(v: Violation, names: dict[str, str]) -> str | None:
    title = f"{v.policy} {names.get(v.policy, '')}".strip()
    if v.status is ViolationStatus.APPROVED_TRANSFER:
        text = (
            f"Approved cross-border transfer {v.approval_reference} (expires "
            f"{v.approval_expires}): {v.message}"
        )
        return command("notice", text, v.file, v.line, f"{title} (approved)")
    if v.status is not ViolationStatus.VIOLATION:
        return None
    text = f"{v.resource}: {v.message}"
    if v.approval_problem:
        text += f"\nThe recorded approval does not count: {v.approval_problem}"
    if v.fix:
        text += f"\nFix: {v.fix}"
    kind = "error" if v.blocking else "warning"
    return command(
        kind, text, v.file, v.line, title if v.blocking else f"{title} ({v.enforcement.value})"
    )


def _issue(kind: str, issue: ScanIssue, title: str) -> str:
    return command(kind, issue.message, issue.file, issue.line, title)


class GithubReporter:
    name = "github"
    description = (
        "GitHub Actions workflow commands (::error file=...,line=...::) for PR annotations"
    )

    def render(self, report: Report) -> str:
        res = report.result
        names = {p.id: p.name for p in report.policies}
        lines = [_issue("error", e, "ciiguard: input not read") for e in res.errors]
        for v in res.violations:
            line = _violation(v, names)
            if line is not None:
                lines.append(line)
        lines.extend(_issue("warning", w, "ciiguard warning") for w in res.warnings)
        extra = tally(res)
        lines.append(
            f"ciiguard {verdict(report)}: {len(res.violations)} violations "
            f"({len(res.blocking)} blocking)"
            + (f"; {extra}" if extra else "")
            + f"; {len(res.errors)} errors"
        )
        return "\n".join(lines) + "\n"
