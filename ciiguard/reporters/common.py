"""What several report formats say the same way: verdicts, status labels, counts, locations."""

from __future__ import annotations

from collections import Counter

from ciiguard.model import PluginRun, ScanResult, Violation, ViolationStatus, Waiver
from ciiguard.reporters.base import Report

WAIVED = (ViolationStatus.SUPPRESSED, ViolationStatus.EXEMPTED, ViolationStatus.BASELINED)


def verdict(report: Report) -> str:
    res = report.result
    if res.errors:
        return "INCOMPLETE"
    if res.blocking:
        return "FAILED (soft-fail: exit 0)" if report.soft_fail else "FAILED"
    return "passed"


def label(v: Violation) -> str:
    """One word or two for a violation's standing: BLOCKING, advisory, approved transfer, ..."""
    if v.status is ViolationStatus.VIOLATION:
        return "BLOCKING" if v.blocking else v.enforcement.value
    return str(v.status.value).replace("-", " ")


def where(v: Violation) -> str:
    if v.file and v.line:
        return f"{v.file}:{v.line}"
    return v.file or "-"


def active(res: ScanResult) -> list[Violation]:
    return [v for v in res.violations if v.status is ViolationStatus.VIOLATION]


def by_status(res: ScanResult, status: ViolationStatus) -> list[Violation]:
    return [v for v in res.violations if v.status is status]


def status_counts(res: ScanResult) -> Counter[ViolationStatus]:
    return Counter(v.status for v in res.violations)


def tally(res: ScanResult) -> str:
    """``1 approved transfer, 2 suppressed`` for the statuses present (empty when none)."""
    c = status_counts(res)
    parts = []
    n = c[ViolationStatus.APPROVED_TRANSFER]
    if n:
        parts.append(f"{n} approved transfer{'' if n == 1 else 's'}")
    for status in WAIVED:
        if c[status]:
            parts.append(f"{c[status]} {status.value}")
    return ", ".join(parts)


def plugin_line(p: PluginRun) -> str:
    """``acme 1.2.3 (entry point of acme-ciiguard: /site-packages/acme/plugin.py)``."""
    origin = f"{p.source} of {p.distribution}" if p.distribution else p.source
    return f"{p.name} {p.version} ({origin}: {p.location or '-'})"


def waiver_line(w: Waiver) -> str:
    """One suppression or approval found in the tree, with its reason or expiry and status."""
    if w.kind == "approval":
        expiry = f"expires {w.expires}" if w.expires else "no expiry date"
        return f"approval {w.reason or '(no reference)'} on {w.resource} ({w.source}), {expiry}: {w.status}"
    policies = ",".join(w.policies) or "?"
    return f"suppression of {policies} on {w.resource} at {w.source}: {w.reason!r}: {w.status}"
