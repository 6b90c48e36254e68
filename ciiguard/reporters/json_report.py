"""The JSON report, schema ``ciiguard/report@1`` (documented in docs/report.md; change only additively)."""

from __future__ import annotations

import io
import json
from typing import Any, TextIO

from ciiguard.model import RegionInfo, ViolationStatus
from ciiguard.reporters.base import Report
from ciiguard.reporters.common import status_counts

SCHEMA = "ciiguard/report@1"


def schema_text() -> str:
    """The JSON Schema of ``ciiguard/report@1`` shipped with the package (``ciiguard schema``)."""
    from importlib import resources

    return (
        resources.files("ciiguard").joinpath("reporters/data/report-schema.json").read_text("utf-8")
    )


class _Items:
    """A report array built one element at a time while it is written (``write``)."""

    def __init__(self, items: Any, make: Any) -> None:
        self.items, self.make = items, make

    def __iter__(self) -> Any:
        return map(self.make, self.items)

    def __len__(self) -> int:
        return len(self.items)


def _report_doc(report: Report) -> dict[str, Any]:
    res = report.result
    counts = status_counts(res)
    # Resources share their provider's RegionInfo (a module instance's, a plan's provider
    # configuration's): its provenance is rendered once per object, which the memo holds (so
    # its id stays its own while the report is written).
    explained: dict[int, tuple[RegionInfo, str]] = {}

    def provenance(info: RegionInfo) -> str:
        found = explained.get(id(info))
        if found is None:
            found = explained[id(info)] = (info, info.explain())
        return found[1]

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
        "resources": _Items(
            res.resources,
            lambda r: {
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
                "provenance": provenance(r.region),
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
            },
        ),
        "violations": _Items(
            res.violations,
            lambda v: {
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
            },
        ),
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
        out = io.StringIO()
        self.write(report, out)
        return out.getvalue()

    def write(self, report: Report, stream: TextIO) -> None:
        """The report, written to ``stream`` one line at a time: a report of 100,000 resources
        is never held whole in memory, as dictionaries or as text."""
        write_json(_report_doc(report), stream)


def write_json(doc: dict[str, Any], stream: TextIO) -> None:
    """Top-level keys on their own lines and one array element per line: readable, diff-friendly,
    and encoded by the C encoder (``indent=`` would force the slow pure-Python one)."""
    dump = _encoder()
    write = stream.write
    write("{\n")
    keys = list(doc)
    for n, key in enumerate(keys):
        value = doc[key]
        comma = "," if n < len(keys) - 1 else ""
        if isinstance(value, (list, _Items)) and len(value):
            write(f"  {dump(key)}: [\n")
            lines = []
            for i, item in enumerate(value):
                lines.append(f"    {dump(item)}" if i == 0 else f",\n    {dump(item)}")
                if len(lines) >= 512:
                    write("".join(lines))
                    lines.clear()
            write("".join(lines))
            write(f"\n  ]{comma}\n")
        else:
            write(f"  {dump(key)}: {dump([] if isinstance(value, _Items) else value)}{comma}\n")
    write("}\n")


def _encoder() -> Any:
    """``JSONEncoder(ensure_ascii=False, separators=(", ", ": ")).encode``, with the C encoder
    made once rather than once per call (a report encodes one call per resource): the same C
    function ``encode`` makes and uses. The plain ``encode`` where the interpreter has none."""
    from json import encoder as std

    base = json.JSONEncoder(ensure_ascii=False, separators=(", ", ": "))
    make, text = getattr(std, "c_make_encoder", None), getattr(std, "c_encode_basestring", None)
    if make is None or text is None:  # pragma: no cover - CPython has both
        return base.encode
    # as JSONEncoder.iterencode makes it (markers: the cycle check, empty after each value; no
    # indent: ``base.indent`` is None, which typeshed types as int | str)
    chunks = make({}, base.default, text, None, base.key_separator, base.item_separator,
                  base.sort_keys, base.skipkeys, base.allow_nan)  # fmt: skip

    def encode(value: Any) -> str:
        if isinstance(value, str):
            return base.encode(value)
        return "".join(chunks(value, 0))

    return encode
