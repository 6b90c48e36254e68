"""CII002: in-scope data leaving mainland China by any path: replication, copy, backup, stream, log
shipping, subscription, event routing, migration or an external endpoint (a transfer is a transfer).
"""

from __future__ import annotations

from collections.abc import Iterator

from ciiguard.model import Flow, Location, Resource, Severity, named
from ciiguard.policies.base import Finding, Policy, PolicyContext


def flow_scope(flow: Flow, declarer: Resource, ctx: PolicyContext) -> tuple[str, str] | None:
    """Why a flow carries in-scope data (its source is classified, or the declarer is tagged) and
    the classification it carries; None when it carries none."""
    if flow.source:
        src = ctx.resource(flow.source, declarer.root)
        if src is not None and src.in_scope and src.address != flow.destination_resource:
            return f"source {src.address} is in scope ({src.scope_reason})", _cls(
                src.classification
            )
        if src is not None and src.address == declarer.address and declarer.in_scope:
            return f"{declarer.address} is in scope ({declarer.scope_reason})", _cls(
                declarer.classification
            )
        # a source that holds no data of its own but handles it (a function whose failed
        # events go to a dead-letter queue) is in scope by its classification tag
        tagged = _tagged(src, ctx) if src is not None and src is not declarer else None
        if tagged is not None:
            return f"source {tagged[0]}", tagged[1]
    if declarer.in_scope and declarer.classification:
        return f"{declarer.address} is tagged {declarer.classification}", declarer.classification
    tagged = _tagged(declarer, ctx)
    if tagged is not None:
        return tagged
    if declarer.in_scope and flow.destination_resource == declarer.address:
        return f"{declarer.address} is in scope ({declarer.scope_reason})", _cls(
            declarer.classification
        )
    return None


def _tagged(r: Resource, ctx: PolicyContext) -> tuple[str, str] | None:
    """Why ``r``'s classification tag puts it in scope, and the classification; None without."""
    tags = r.tags if isinstance(r.tags, dict) else {}
    key = ctx.settings.classification_key.lower()
    for k, v in tags.items():
        value = str(v).strip().lower()
        if isinstance(k, str) and k.lower() == key and value in ctx.settings.in_scope_values:
            return f"{r.address} is tagged {v}", value
    return None


def flow_in_scope(flow: Flow, declarer: Resource, ctx: PolicyContext) -> str | None:
    """Why a flow carries in-scope data (its source is classified, or the declarer is tagged)."""
    found = flow_scope(flow, declarer, ctx)
    return found[0] if found else None


def _cls(classification: str | None) -> str:
    return classification or "in-scope"


def describe(flow: Flow, declarer: Resource, classification: str) -> str:
    """The flow in words: "streams personal data from aws_kinesis_firehose_delivery_stream.f to
    arn:aws:s3:::analytics-us (global partition, outside mainland China) via <argument>"."""
    src = named(flow.source) if flow.source else "data outside this configuration"
    shown = named(flow.shown_destination)
    summary = flow.destination_summary.removeprefix(f"{shown}, ")  # "ap-east-1 (ap-east-1, ...)"
    where = f" ({summary})" if summary else ""
    return (
        f"{flow.verb} {classification} data from {src} to {shown}{where} "
        f"via {declarer.argument_ref(flow.argument)}"
    )


def _validate(r: Resource, ctx: PolicyContext) -> Iterator[Finding]:
    for flow in r.flows:
        if flow.destination_location is not Location.OUTSIDE:
            continue
        if flow.source_location is Location.OUTSIDE:
            continue  # already outside: not an export from the mainland (CII001 covers the origin)
        scope = flow_scope(flow, r, ctx)
        if scope is None:
            continue
        why, classification = scope
        src = flow.source or "data outside this configuration"
        yield Finding(
            message=describe(flow, r, classification),
            evidence=f"{why}; destination: {flow.destination_explain}",
            fix="keep the destination in mainland China, or record a passed CAC security "
            "assessment with tags cross-border-approval and cross-border-approval-expires",
            region=flow.destination,
            line=flow.line,
            related=(flow.source,) if flow.source and flow.source != r.address else (),
            flow_kind=flow.kind,
            # the wording of the first release, so baselines taken then still match
            identity=f"{flow.mechanism or flow.kind} of {src} to "
            f"{flow.destination or 'an unknown place'} via {r.address}.{flow.argument} crosses "
            "the border of mainland China",
        )


POLICY = Policy(
    id="CII002",
    name="cross-border-replication",
    description="Personal information or important data leaves mainland China: replicated, copied, "
    "backed up, streamed, shipped as logs, delivered to a subscriber, routed as events, migrated or "
    "sent to an external endpoint outside the mainland.",
    severity=Severity.CRITICAL,
    validate=_validate,
    legal_basis="CSL art. 37; PIPL arts. 38-40; DSL art. 31; CAC Provisions on Promoting and "
    "Regulating Cross-Border Data Flows (22 March 2024)",
    fix="Keep every destination of the data (replicas, copies, backups, stream and log "
    "destinations, subscribers, event targets, migration targets, external endpoints) in mainland "
    "China, or record a passed CAC security assessment on the resource that sends the data or on "
    "its source (tags cross-border-approval and cross-border-approval-expires).",
    help="Sending personal information or important data abroad needs a passed security assessment, "
    "whatever the mechanism. Transfers to Hong Kong, Macao and Taiwan count as cross-border.",
)
