"""Human-readable terminal output: one block per violation, then a summary line."""

from __future__ import annotations

from ciiguard.escaping import terminal
from ciiguard.model import ViolationStatus, named
from ciiguard.reporters.base import Report
from ciiguard.reporters.common import label, plugin_line, tally, verdict, waiver_line, where


class TextReporter:
    name = "text"
    description = "readable terminal output: why each resource is where it is and how to fix it"

    def render(self, report: Report) -> str:
        res = report.result
        lines: list[str] = []
        for e in res.errors:
            lines.append(f"error: {e.render()}")
        if res.errors:
            lines.append("")
        names = res.display_names()

        def shown_as(address: str) -> str:
            """Pulumi URNs read as their logical name and type (also a component's, which is no
            resource of the scan); Terraform addresses as they are."""
            return names.get(address) or named(address)

        waived = []
        for v in res.violations:
            if v.status in (ViolationStatus.SUPPRESSED, ViolationStatus.EXEMPTED):
                waived.append(
                    f"{v.policy} [{label(v)}] {shown_as(v.resource)} ({where(v)}): {v.suppression_reason}"
                    f" [{v.suppression_source}]"
                )
                continue
            if v.status is ViolationStatus.BASELINED:
                continue
            if report.quiet and not v.blocking:
                continue
            if report.compact:
                lines.append(
                    f"{v.policy} [{label(v)}] {shown_as(v.resource)} {where(v)}: {v.message}"
                )
                continue
            lines.append(f"{v.policy} [{label(v)}] {shown_as(v.resource)}")
            if shown_as(v.resource) != v.resource:
                lines.append(f"  urn:    {v.resource}")
            lines.append(f"  at:     {where(v)}")
            lines.append(f"  what:   {v.message}")
            if v.evidence:
                lines.append(f"  why:    {v.evidence}")
            if v.status is ViolationStatus.APPROVED_TRANSFER:
                lines.append(f"  approval: {v.approval_reference}, expires {v.approval_expires}")
            elif v.approval_problem:
                lines.append(f"  approval not valid: {v.approval_problem}")
            if v.fix and v.status is ViolationStatus.VIOLATION:
                lines.append(f"  fix:    {v.fix}")
            lines.append("")
        if report.compact and lines and lines[-1] != "":
            lines.append("")
        if report.quiet:
            waived = []
        lines.extend(waived)
        if waived:
            lines.append("")
        baselined = sum(1 for v in res.violations if v.status is ViolationStatus.BASELINED)
        if baselined:
            source = f" {report.baseline}" if report.baseline else ""
            lines.append(
                f"{baselined} finding{'' if baselined == 1 else 's'} already in the baseline{source} "
                "not shown (they are in --format json and sarif)"
            )
        if report.waivers and not report.quiet:
            lines.append(f"suppressions and approvals in the scanned tree ({len(report.waivers)}):")
            lines.extend(f"  {waiver_line(w)}" for w in report.waivers)
        for w in [] if report.quiet else res.warnings:
            lines.append(f"warning: {w.render()}")
        if report.plugins and not report.quiet:
            lines.append("plugins: " + "; ".join(plugin_line(p) for p in report.plugins))
        count, data, scoped = res.counts()
        shown = verdict(report)
        if res.errors:
            shown = "INCOMPLETE (errors above; nothing can be vouched for)"
        extra = tally(res)
        lines.append(
            f"ciiguard {shown}: {count} resources, {data} data-bearing, {scoped} in scope; "
            f"{len(res.violations)} violations ({len(res.blocking)} blocking)"
            + (f"; {extra}" if extra else "")
            + f"; {len(res.errors)} errors"
        )
        return "".join(terminal(line) + "\n" for line in lines)
