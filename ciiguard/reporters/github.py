"""GitHub Actions workflow commands: findings show inline on the pull request's changed files.

Blocking violations and scan errors are ``::error``, non-blocking findings and warnings (an
approval about to expire, a suppression without a reason) ``::warning``, approved transfers
``::notice``. Suppressed, exempted and baselined findings are left out: they are accepted.
Paths are as ciiguard shows them (relative to the working directory): run from the repository root.

GitHub shows 10 annotations of each kind per step (and 50 per job): scan errors and blocking
findings come first, at most 10 of each kind are written, and one notice says how many more there
are and where to read them, so a big estate never loses its findings silently.
"""

from __future__ import annotations

from ciiguard.escaping import workflow_data, workflow_property
from ciiguard.model import ScanIssue, Violation, ViolationStatus
from ciiguard.reporters.base import Report
from ciiguard.reporters.common import plugin_line, tally, verdict, waiver_line


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


PER_KIND = 10  # annotations of one kind GitHub shows per step (actions/toolkit problem-matchers.md)


def _capped(commands: list[str]) -> tuple[list[str], list[str], dict[str, int]]:
    """At most PER_KIND commands of each kind (one notice left for the summary of the rest); the
    rest as plain log lines (indented, so no runner reads them as commands)."""
    shown: list[str] = []
    rest: list[str] = []
    kept: dict[str, int] = {}
    left: dict[str, int] = {}
    for c in commands:
        kind = c[2 : c.index(" ")]
        cap = PER_KIND - 1 if kind == "notice" else PER_KIND
        if kept.get(kind, 0) < cap:
            kept[kind] = kept.get(kind, 0) + 1
            shown.append(c)
        else:
            left[kind] = left.get(kind, 0) + 1
            rest.append("  - " + c[2:])
    return shown, rest, left


class GithubReporter:
    name = "github"
    description = (
        "GitHub Actions workflow commands (::error file=...,line=...::) for PR annotations"
    )

    def render(self, report: Report) -> str:
        res = report.result
        names = {p.id: p.name for p in report.policies}
        annotations = [_issue("error", e, "ciiguard: input not read") for e in res.errors]
        ordered = sorted(res.violations, key=lambda v: not v.blocking)  # blocking ones first
        for v in ordered:
            line = _violation(v, names)
            if line is not None:
                annotations.append(line)
        annotations.extend(_issue("warning", w, "ciiguard warning") for w in res.warnings)
        lines, rest, left = _capped(annotations)
        if left:
            counts = ", ".join(
                f"{n} {kind}{'s' if n != 1 else ''}" for kind, n in sorted(left.items())
            )
            lines.append(
                command(
                    "notice",
                    f"{counts} more than GitHub shows per step ({PER_KIND} of each kind): every "
                    "finding is in the SARIF, JSON and Markdown reports (--format sarif:FILE, "
                    "json:FILE, markdown:FILE) and in the log below",
                    None,
                    None,
                    "ciiguard: more findings",
                )
            )
            lines.extend(rest)
        # plugins that ran and waivers in the tree, in the log (not annotations: those are capped)
        lines.extend(f"  plugin: {workflow_data(plugin_line(p))}" for p in report.plugins)
        lines.extend(f"  waiver: {workflow_data(waiver_line(w))}" for w in report.waivers)
        extra = tally(res)
        lines.append(
            f"ciiguard {verdict(report)}: {len(res.violations)} violations "
            f"({len(res.blocking)} blocking)"
            + (f"; {extra}" if extra else "")
            + f"; {len(res.errors)} errors"
        )
        return "\n".join(lines) + "\n"
