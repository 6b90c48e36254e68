"""The JSON report, schema ``ciiguard/report@1`` (documented in the README; change only additively)."""

from __future__ import annotations

import json
from typing import Any

from ciiguard.reporters.base import Report

SCHEMA = "ciiguard/report@1"


def report_dict(report: Report) -> dict[str, Any]:
    res = report.result
    return {
        "schema": SCHEMA,
        "tool": {"name": report.tool_name, "version": report.tool_version},
        "summary": {
            "resources": len(res.resources),
            "data_resources": sum(1 for r in res.resources if r.data_bearing),
            "violations": len(res.violations),
            "blocking": len(res.blocking),
            "errors": len(res.errors),
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
            }
            for v in res.violations
        ],
        "errors": [{"file": e.file, "line": e.line, "message": e.message} for e in res.errors],
    }


class JsonReporter:
    name = "json"
    description = "machine-readable report (schema ciiguard/report@1)"

    def render(self, report: Report) -> str:
        return json.dumps(report_dict(report), indent=2, sort_keys=False, ensure_ascii=False) + "\n"
