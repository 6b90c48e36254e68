"""SARIF 2.1.0, for GitHub code scanning and other SARIF viewers.

One rule per policy (help text and legal basis), one result per violation with its physical
location. Suppressed, exempted and approved results carry ``suppressions`` (so viewers show them
as dismissed, not open); with ``--baseline`` every result has a ``baselineState``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

from ciiguard.model import Enforcement, PluginRun, ScanIssue, Severity, Violation, ViolationStatus
from ciiguard.policies.base import Policy
from ciiguard.reporters.base import Report

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
SRCROOT = "SRCROOT"
FINGERPRINT_KEY = "ciiguard/v1"
# GitHub code scanning ranks security alerts by this number (0.1-10)
SECURITY_SEVERITY = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "3.0",
}


def _level(enforcement: Enforcement) -> str:
    return {
        Enforcement.MANDATORY: "error",
        Enforcement.ADVISORY: "warning",
        Enforcement.DISABLED: "none",
    }[enforcement]


class _Bases:
    """The ROOTn base ids and their directories, with a table from directory to base id.

    Trying ``Path.relative_to`` against every base for every result was N results x N roots
    when many roots outside the working directory were scanned. A file is under a base exactly
    when the base's directory is the file's path or one of its parents (both compare parts), so
    the candidates are looked up for those few paths; the earliest base in ``bases`` order among
    them is the one the loop over ``bases`` returned (nested roots included).
    """

    def __init__(self, bases: dict[str, Path]) -> None:
        self.bases = bases
        self.first: dict[Path, tuple[int, str]] = {}  # directory -> its earliest base id
        for i, (base, root) in enumerate(bases.items()):
            self.first.setdefault(root, (i, base))

    def of(self, path: Path) -> tuple[str, Path] | None:
        """The first base (in order) whose directory ``path`` is relative to, and that directory."""
        first = self.first
        hits = [first[p] for p in (path, *path.parents) if p in first]
        if not hits:
            return None
        base = min(hits)[1]
        return base, self.bases[base]


def _uri(file: str, bases: _Bases) -> tuple[str, str | None]:
    """``(uri, uriBaseId)``: relative paths resolve against the scan's working directory, a file
    under a scanned root outside it against that root's base id (``bases``: GitHub rejects results
    located by an absolute file:// URI)."""
    path = Path(file)
    if path.is_absolute():
        found = bases.of(path)
        if found is not None:
            base, root = found
            return quote(path.relative_to(root).as_posix()), base
        return path.as_uri(), None
    return quote(path.as_posix()), SRCROOT


def _outside_roots(report: Report) -> dict[str, Path]:
    """ROOT1, ROOT2, ...: the absolute root modules (outside the working directory) findings and
    notifications name, longest first so a file maps to its nearest root."""
    roots = {
        Path(r)
        for r in [
            *(v.root for v in report.result.violations),
            *(x.root for x in report.result.resources),
        ]
        if r and Path(r).is_absolute()
    }
    # ties by path: a set's order changes with the interpreter's hash seed, and so did the ids
    dirs = sorted(
        {p if p.suffix == "" else p.parent for p in roots}, key=lambda p: (-len(p.parts), p)
    )
    return {f"ROOT{i + 1}": d for i, d in enumerate(dirs)}


def _directory_uri(path: Path) -> str:
    uri = path.resolve().as_uri()
    return uri if uri.endswith("/") else uri + "/"


def _rule(policy: Policy, level: Enforcement) -> dict[str, Any]:
    help_text = "\n\n".join(
        part
        for part in (
            policy.help or policy.description,
            f"Legal basis: {policy.legal_basis}" if policy.legal_basis else "",
            f"How to fix: {policy.fix}" if policy.fix else "",
            f"Run `ciiguard explain {policy.id}` for details, approvals and suppressions.",
        )
        if part
    )
    help_md = "\n\n".join(
        part
        for part in (
            policy.help or policy.description,
            f"**Legal basis:** {policy.legal_basis}" if policy.legal_basis else "",
            f"**How to fix:** {policy.fix}" if policy.fix else "",
            f"Run `ciiguard explain {policy.id}` for details, approvals and suppressions.",
        )
        if part
    )
    return {
        "id": policy.id,
        "name": "".join(w.capitalize() for w in policy.name.replace("_", "-").split("-")),
        "shortDescription": {"text": policy.description},
        "fullDescription": {"text": policy.help or policy.description},
        "help": {"text": help_text, "markdown": help_md},
        "defaultConfiguration": {
            "enabled": level is not Enforcement.DISABLED,
            "level": _level(level),
        },
        "properties": {
            "tags": ["security", "data-residency", "china-cii"],
            "precision": "high",
            "security-severity": SECURITY_SEVERITY[policy.severity],
            "severity": policy.severity.value,
            "enforcement": level.value,
            "legalBasis": policy.legal_basis,
            "plugin": policy.plugin,
        },
    }


def _suppressions(v: Violation) -> list[dict[str, Any]]:
    if v.status is ViolationStatus.APPROVED_TRANSFER:
        return [
            {
                "kind": "external",
                "status": "accepted",
                "justification": f"approved cross-border transfer {v.approval_reference}, "
                f"expires {v.approval_expires}",
            }
        ]
    if v.status is ViolationStatus.SUPPRESSED:
        return [
            {
                "kind": "inSource",
                "status": "accepted",
                "justification": f"{v.suppression_reason} ({v.suppression_source})",
            }
        ]
    if v.status is ViolationStatus.EXEMPTED:
        return [
            {
                "kind": "external",
                "status": "accepted",
                "justification": f"{v.suppression_reason} ({v.suppression_source})",
            }
        ]
    if v.status is ViolationStatus.BASELINED:  # accepted already: code scanning shows it closed
        return [
            {
                "kind": "external",
                "status": "accepted",
                "justification": "in the baseline: a finding the estate already had",
            }
        ]
    return []


def _result(
    v: Violation, rule_index: dict[str, int], with_baseline: bool, bases: _Bases
) -> dict[str, Any]:
    if v.status is ViolationStatus.APPROVED_TRANSFER:
        level = "warning" if v.approval_warning else "note"
    elif v.status is ViolationStatus.VIOLATION:
        level = "error" if v.blocking else _level(v.enforcement)
    else:
        level = _level(v.enforcement)
    text = v.message
    if v.status is ViolationStatus.APPROVED_TRANSFER:
        text += f" (approved transfer {v.approval_reference}, expires {v.approval_expires})"
        if v.approval_warning:
            text += f". Warning: {v.approval_warning}"
    elif v.approval_problem:
        text += f". The recorded approval does not count: {v.approval_problem}"
    if v.fix and v.status is ViolationStatus.VIOLATION:
        text += f". Fix: {v.fix}"
    out: dict[str, Any] = {
        "ruleId": v.policy,
        "level": level,
        "message": {"text": text},
        "locations": [_location(v, bases)],
        "partialFingerprints": {FINGERPRINT_KEY: v.fingerprint} if v.fingerprint else {},
        "properties": {
            "status": v.status.value,
            "blocking": v.blocking,
            "enforcement": v.enforcement.value,
            "severity": v.severity.value,
            "resource": v.resource,
            "region": v.region,
            "evidence": v.evidence,
        },
    }
    if v.policy in rule_index:
        out["ruleIndex"] = rule_index[v.policy]
    if not out["partialFingerprints"]:
        del out["partialFingerprints"]
    suppressions = _suppressions(v)
    if suppressions:
        out["suppressions"] = suppressions
    if v.approval_reference:
        out["properties"]["approvalReference"] = v.approval_reference
        out["properties"]["approvalExpires"] = v.approval_expires
    if v.approval_problem:
        out["properties"]["approvalProblem"] = v.approval_problem
    if v.flow_kind:
        out["properties"]["flowKind"] = v.flow_kind
    if with_baseline:
        out["baselineState"] = "unchanged" if v.baselined else "new"
    return out


def _physical(file: str, line: int | None, bases: _Bases) -> dict[str, Any]:
    uri, base = _uri(file, bases)
    artifact: dict[str, Any] = {"uri": uri}
    if base:
        artifact["uriBaseId"] = base
    physical: dict[str, Any] = {"artifactLocation": artifact}
    if line:
        physical["region"] = {"startLine": line}
    return physical


def _location(v: Violation, bases: _Bases) -> dict[str, Any]:
    loc: dict[str, Any] = {
        "logicalLocations": [{"fullyQualifiedName": v.resource, "kind": "resource"}]
    }
    if v.file:
        loc["physicalLocation"] = _physical(v.file, v.line, bases)
    return loc


def _notification(issue: ScanIssue, level: str, bases: _Bases) -> dict[str, Any]:
    note: dict[str, Any] = {"level": level, "message": {"text": issue.message}}
    if issue.file:
        note["locations"] = [{"physicalLocation": _physical(issue.file, issue.line, bases)}]
    return note


def _extension(p: PluginRun) -> dict[str, Any]:
    """A plugin that ran, as a SARIF ``toolComponent``: version and where its code came from."""
    out: dict[str, Any] = {"name": p.name, "version": p.version}
    if p.location and Path(p.location).is_absolute():
        out["locations"] = [{"uri": _directory_uri(Path(p.location)) if Path(p.location).is_dir()
                             else Path(p.location).as_uri()}]  # fmt: skip
    out["properties"] = {"source": p.source, "location": p.location}
    if p.distribution:
        out["properties"]["distribution"] = p.distribution
    return out


# Azure Pipelines' predefined variables that GitHub Advanced Security for Azure DevOps needs in
# automationDetails (its ingestion rules GHAzDO1019/1020, as the SARIF Multitool checks them)
_AZURE = {
    "buildDefinitionId": "SYSTEM_DEFINITIONID",
    "buildDefinitionName": "BUILD_DEFINITIONNAME",
    "phaseId": "SYSTEM_PHASEID",
    "phaseName": "SYSTEM_PHASENAME",
}


def _automation(report: Report) -> dict[str, Any]:
    """``ciiguard/`` (one analysis category for code scanning); in Azure Pipelines, the pipeline
    build's identity GitHub Advanced Security for Azure DevOps requires."""
    env = report.settings.environment
    if env.get("TF_BUILD", "").lower() != "true" or not all(env.get(v) for v in _AZURE.values()):
        return {"id": f"{report.tool_name}/"}
    org = env.get("SYSTEM_COLLECTIONURI", "").rstrip("/").rsplit("/", 1)[-1]
    parts = [
        org,
        env.get("SYSTEM_TEAMPROJECT", ""),
        env["SYSTEM_DEFINITIONID"],
        env["SYSTEM_PHASEID"],
        env.get("BUILD_SOURCEBRANCH", ""),
        env.get("BUILD_BUILDID", ""),
    ]
    return {
        "id": "azuredevops/pipeline/build/" + "/".join(parts),
        "properties": {f"azuredevops/pipeline/build/{k}": env[v] for k, v in _AZURE.items()},
    }


def sarif_dict(report: Report) -> dict[str, Any]:
    res = report.result
    rules = [_rule(p, report.level(p)) for p in report.policies]
    index = {p.id: i for i, p in enumerate(report.policies)}
    with_baseline = report.baseline is not None
    roots = _outside_roots(report)
    bases: dict[str, Any] = {SRCROOT: {"uri": _directory_uri(Path.cwd())}}
    bases.update({k: {"uri": _directory_uri(d)} for k, d in roots.items()})
    under = _Bases(roots)
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": report.tool_name,
                "fullName": f"{report.tool_name} {report.tool_version}: data-residency gate for "
                "China CII workloads",
                "version": report.tool_version,
                "semanticVersion": report.tool_version,
                "rules": rules,
            },
            "extensions": [_extension(p) for p in report.plugins],
        },
        "originalUriBaseIds": bases,
        # one analysis per tool: code scanning keeps ciiguard's alerts apart from other tools'
        "automationDetails": _automation(report),
        "invocations": [
            {
                "executionSuccessful": not res.errors,
                "toolExecutionNotifications": [_notification(e, "error", under) for e in res.errors]
                + [_notification(w, "warning", under) for w in res.warnings],
            }
        ],
        "results": [_result(v, index, with_baseline, under) for v in res.violations],
        "columnKind": "unicodeCodePoints",
    }
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}


class SarifReporter:
    name = "sarif"
    description = "SARIF 2.1.0 for GitHub code scanning and other SARIF viewers"

    def render(self, report: Report) -> str:
        return json.dumps(sarif_dict(report), indent=2, ensure_ascii=False) + "\n"
