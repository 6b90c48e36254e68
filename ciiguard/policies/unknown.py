"""CII003: where in-scope data will live, or where it flows, cannot be determined (fail-closed)."""

from __future__ import annotations

from collections.abc import Iterator

from ciiguard.model import Location, Resource, Severity
from ciiguard.policies.advice import subject
from ciiguard.policies.base import Finding, Policy, PolicyContext
from ciiguard.policies.crossborder import describe, flow_scope

_UNKNOWN_REGION_FIX = (
    "give the region a value ciiguard can resolve before deployment: a literal or a variable "
    "with a default/tfvars value in the provider block, --var, or the plan JSON"
)
_UNKNOWN_REGION_FIX_PULUMI = (
    "give the region a value ciiguard can resolve before deployment: a literal in the program, "
    "or the provider's region in the stack config (pulumi config set aws:region ..., "
    "azure-native:location ...); or scan "
    "the stack's 'pulumi preview --json'"
)


def _validate(r: Resource, ctx: PolicyContext) -> Iterator[Finding]:
    package = r.meta.get("unknown_package") if type(r.meta) is dict else None
    if package is not None and r.in_scope and not r.data_bearing:
        yield Finding(
            message=f"cannot tell whether or where {subject(r)} stores its data: package "
            f"{package} is not in ciiguard's catalogue, so none of its resources were checked",
            evidence=r.scope_reason or "tagged as holding classified data",
            fix="use a package ciiguard checks for the store (aws rather than aws-native); a "
            "component's children are checked in the stack's 'pulumi preview --json'",
        )
    if r.data_bearing and r.in_scope and r.location is Location.UNKNOWN:
        reason = r.region.unknown_reason or r.location_note
        yield Finding(
            message=f"cannot tell where {subject(r)} will store its data: {reason}",
            evidence=r.region.explain() or reason,
            fix=_UNKNOWN_REGION_FIX_PULUMI if r.input.startswith("pulumi") else _UNKNOWN_REGION_FIX,
        )
    for flow in r.flows:
        if (
            flow.destination_location is not Location.UNKNOWN
            or flow.destination_resource == r.address
        ):
            continue
        scope = flow_scope(flow, r, ctx)
        if scope is None:
            continue
        why, classification = scope
        yield Finding(
            message=f"cannot tell where {r.argument_ref(flow.argument)} sends in-scope data: "
            f"{flow.destination_explain}",
            evidence=f"{why}; {describe(flow, r, classification)}",
            fix="name the destination with a literal region or ARN, or a resource in this "
            "configuration; declare an external endpoint's location in the config file "
            "([[endpoints]] match, location, reason)",
            line=flow.line,
            flow_kind=flow.kind,
        )
    for flow in r.flows:
        # whose data flows is not known before apply: unless it stays in the mainland, a gate
        # cannot vouch for it (the source could be classified)
        if flow.source_unknown is None or flow.destination_location is Location.MAINLAND:
            continue
        if flow.source_location is Location.OUTSIDE or flow_scope(flow, r, ctx) is not None:
            continue  # already reported (CII002/CII003 above) or not an export
        yield Finding(
            message=f"cannot tell whose data {r.address} {flow.verb} to "
            f"{flow.shown_destination}: {flow.source_unknown}",
            evidence=f"destination: {flow.destination_explain}",
            fix="name the source with a literal or a resource in this configuration, so its "
            "classification can be checked",
            line=flow.line,
            region=flow.destination,
            flow_kind=flow.kind,
        )


def _validate_scan(ctx: PolicyContext) -> Iterator[Finding]:
    for gap in ctx.gaps:
        yield Finding(
            message=gap.message,
            fix=gap.fix,
            evidence=gap.why,
            file=gap.file,
            line=gap.line,
            resource=gap.address,
        )


POLICY = Policy(
    id="CII003",
    name="location-unknown",
    description="The location of in-scope data, or of its replica, cannot be determined before deployment.",
    severity=Severity.HIGH,
    validate=_validate,
    validate_scan=_validate_scan,
    legal_basis="Fail-closed principle: a gate that cannot tell where data lives cannot vouch for it",
    fix="Make the region resolvable before deployment (literal, variable value, --var) or scan the plan JSON.",
    help="Unknown provider, unknown region id, unresolved variable, value known only after apply, or "
    "configuration ciiguard could not read (remote modules).",
)
