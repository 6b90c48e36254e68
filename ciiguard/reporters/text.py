"""Human-readable terminal output: one block per violation, then a summary line."""

from __future__ import annotations

from ciiguard.reporters.base import Report


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
        for v in res.violations:
            flag = "BLOCKING" if v.blocking else v.enforcement.value
            where = f"{v.file}:{v.line}" if v.file and v.line else (v.file or "-")
            lines.append(f"{v.policy} [{flag}] {v.resource}")
            lines.append(f"  at:     {where}")
            lines.append(f"  what:   {v.message}")
            if v.evidence:
                lines.append(f"  why:    {v.evidence}")
            if v.fix:
                lines.append(f"  fix:    {v.fix}")
            lines.append("")
        for w in res.warnings:
            lines.append(f"warning: {w.render()}")
        data = sum(1 for r in res.resources if r.data_bearing)
        scoped = sum(1 for r in res.resources if r.in_scope)
        verdict = "FAILED" if res.exit_code else "passed"
        if res.errors:
            verdict = "INCOMPLETE (errors above; nothing can be vouched for)"
        lines.append(
            f"ciiguard {verdict}: {len(res.resources)} resources, {data} data-bearing, {scoped} in scope; "
            f"{len(res.violations)} violations ({len(res.blocking)} blocking); {len(res.errors)} errors"
        )
        return "\n".join(lines) + "\n"
