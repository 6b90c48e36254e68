"""CII002: replication, copy or backup of in-scope data to a location outside mainland China."""

from __future__ import annotations

from collections.abc import Iterator

from ciiguard.model import Flow, Location, Resource, Severity
from ciiguard.policies.base import Finding, Policy, PolicyContext


def flow_in_scope(flow: Flow, declarer: Resource, ctx: PolicyContext) -> str | None:
    """Why a flow carries in-scope data (its source is classified, or the declarer is tagged)."""
    if flow.source:
        src = ctx.resource(flow.source, declarer.root)
        if src is not None and src.in_scope and src.address != flow.destination_resource:
            return f"source {src.address} is in scope ({src.scope_reason})"
        if src is not None and src.address == declarer.address and declarer.in_scope:
            return f"{declarer.address} is in scope ({declarer.scope_reason})"
    if declarer.in_scope and declarer.classification:
        return f"{declarer.address} is tagged {declarer.classification}"
    tags = declarer.tags if isinstance(declarer.tags, dict) else {}
    key = ctx.settings.classification_key.lower()
    for k, v in tags.items():
        if (
            isinstance(k, str)
            and k.lower() == key
            and str(v).strip().lower() in ctx.settings.in_scope_values
        ):
            return f"{declarer.address} is tagged {v}"
    if declarer.in_scope and flow.destination_resource == declarer.address:
        return f"{declarer.address} is in scope ({declarer.scope_reason})"
    return None


def _validate(r: Resource, ctx: PolicyContext) -> Iterator[Finding]:
    for flow in r.flows:
        if flow.destination_location is not Location.OUTSIDE:
            continue
        if flow.source_location is Location.OUTSIDE:
            continue  # already outside: not an export from the mainland (CII001 covers the origin)
        why = flow_in_scope(flow, r, ctx)
        if why is None:
            continue
        src = flow.source or "data outside this configuration"
        yield Finding(
            message=f"{flow.kind} of {src} to {flow.destination or 'an unknown place'} via "
            f"{r.address}.{flow.argument} crosses the border of mainland China",
            evidence=f"{why}; destination: {flow.destination_explain}",
            fix="replicate only to mainland-China regions, or record a passed CAC security assessment "
            "with tags cross-border-approval and cross-border-approval-expires",
            region=flow.destination,
            line=flow.line,
            related=(flow.source,) if flow.source and flow.source != r.address else (),
        )


POLICY = Policy(
    id="CII002",
    name="cross-border-replication",
    description="Personal information or important data is replicated, copied or backed up outside mainland China.",
    severity=Severity.CRITICAL,
    validate=_validate,
    legal_basis="CSL art. 37; PIPL arts. 38-40; CAC Provisions on Promoting and Regulating "
    "Cross-Border Data Flows (22 March 2024)",
    fix="Keep replicas, copies and backups in mainland-China regions, or record a passed CAC security "
    "assessment on the replicating resource (tags cross-border-approval and "
    "cross-border-approval-expires).",
    help="Sending personal information or important data abroad needs a passed security assessment. "
    "Transfers to Hong Kong, Macao and Taiwan count as cross-border.",
)
