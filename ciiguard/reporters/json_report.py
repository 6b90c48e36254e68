"""The JSON report, schema ``ciiguard/report@1`` (documented in docs/report.md; change only additively)."""

from __future__ import annotations

import json
from typing import Any

from ciiguard.model import ViolationStatus
from ciiguard.reporters.base import Report
from ciiguard.reporters.common import status_counts

SCHEMA = "ciiguard/report@1"


def schema_text() -> str:
    """The JSON Schema of ``ciiguard/report@1`` shipped with the package (``ciiguard schema``)."""
    from importlib import resources

    return (
        resources.files("ciiguard").joinpath("reporters/data/report-schema.json").read_text("utf-8")
    )


def report_dict(report: Report) -> dict[str, Any]:
    res = report.result
    counts = status_counts(res)
    return {
        "schema": SCHEMA,
        "tool": {"name": report.tool_name, "version": report.tool_version},
        "summary": {
            "resources": len(res.resources),
            "data_resources": sum(1 for r in res.resources if r.data_bearing),
            "violations": len(res.violations),
            "blocking": len(res.blocking),
            "errors": len(res.errors),
            "warnings": len(res.warnings),
            "approved_transfers": counts[ViolationStatus.APPROVED_TRANSFER],
            "suppressed": counts[ViolationStatus.SUPPRESSED],
            "exempted": counts[ViolationStatus.EXEMPTED],
            "baselined": counts[ViolationStatus.BASELINED],
        },
        "resources": [
            {
                "address": r.address,
                "type": r.type,
                "provider": r.provider,
                "region": r.region.region,
                "location": r.location.value,
                "classification": r.classification if r.in_scope else None,
                "file": r.file,
                "line": r.line,
                "input": r.input,
                "root": r.root,
                "data_bearing": r.data_bearing,
                "in_scope": r.in_scope,
                "provenance": r.region.explain(),
                "flows": [
                    {
                        "kind": f.kind,
                        "argument": f.argument,
                        "source": f.source,
                        "destination": f.destination,
                        "destination_resource": f.destination_resource,
                        "location": f.destination_location.value,
                        "line": f.line,
                        # added within report@1 with the flow kinds
                        "mechanism": f.mechanism or f.kind,
                        "destination_name": f.destination_name,
                        "destination_summary": f.destination_summary,
                    }
                    for f in r.flows
                ],
            }
            for r in res.resources
        ],
        "violations": [
            {
                "policy": v.policy,
                "resource": v.resource,
                "severity": v.severity.value,
                "enforcement": v.enforcement.value,
                "blocking": v.blocking,
                "message": v.message,
                "file": v.file,
                "line": v.line,
                "region": v.region,
                "evidence": v.evidence,
                "fix": v.fix,
                # added within report@1 by the gate stage (suppressions, approvals, baselines)
                "status": v.status.value,
                "suppressed": v.suppressed,
                "suppression_reason": v.suppression_reason,
                "suppression_source": v.suppression_source,
                "approval_reference": v.approval_reference,
                "approval_expires": v.approval_expires,
                "approval_problem": v.approval_problem,
                "approval_warning": v.approval_warning,
                "baselined": v.baselined,
                "fingerprint": v.fingerprint,
                "related": list(v.related),
                "flow_kind": v.flow_kind,
                "root": v.root,  # added within report@1: findings of roots sharing a module
            }
            for v in res.violations
        ],
        "errors": [{"file": e.file, "line": e.line, "message": e.message} for e in res.errors],
        "warnings": [{"file": w.file, "line": w.line, "message": w.message} for w in res.warnings],
        "gate": {
            "fail_on": report.fail_on,
            "soft_fail": report.soft_fail,
            "baseline": report.baseline,
            "config": report.config,
            # added within report@1 by the trust boundary (--policy-config)
            "policy_config": report.policy_config,
            "repository_configs": list(report.repository_configs),
        },
        # added within report@1: what ran, and what the tree waives
        "plugins": [
            {
                "name": p.name,
                "version": p.version,
                "source": p.source,
                "location": p.location,
                "distribution": p.distribution or None,
            }
            for p in report.plugins
        ],
        "waivers": [
            {
                "kind": w.kind,
                "resource": w.resource,
                "file": w.file,
                "line": w.line,
                "source": w.source,
                "policies": list(w.policies),
                "reason": w.reason,
                "expires": w.expires,
                "status": w.status,
            }
            for w in report.waivers
        ],
    }


class JsonReporter:
    name = "json"
    description = "machine-readable report (schema ciiguard/report@1)"

    def render(self, report: Report) -> str:
        return render_json(report_dict(report))


def render_json(doc: dict[str, Any]) -> str:
    """Top-level keys on their own lines and one array element per line: readable, diff-friendly,
    and encoded by the C encoder (``indent=`` would force the slow pure-Python one)."""
    dump = json.JSONEncoder(ensure_ascii=False, separators=(", ", ": ")).encode
    lines = ["{"]
    keys = list(doc)
    for n, key in enumerate(keys):
        value = doc[key]
        comma = "," if n < len(keys) - 1 else ""
        if isinstance(value, list) and value:
            lines.append(f"  {dump(key)}: [")
            lines.extend(f"    {dump(item)}," for item in value[:-1])
            lines.append(f"    {dump(value[-1])}")
            lines.append(f"  ]{comma}")
        else:
            lines.append(f"  {dump(key)}: {dump(value)}{comma}")
    lines.append("}")
    return "\n".join(lines) + "\n"
