"""CII001: in-scope data must be stored in mainland China (CSL art. 37, PIPL art. 40, DSL art. 31)."""

from __future__ import annotations

from collections.abc import Iterator

from ciiguard.model import Location, Resource, Severity
from ciiguard.policies.advice import mainland_examples, subject, where_set
from ciiguard.policies.base import Finding, Policy, PolicyContext


def _validate(r: Resource, ctx: PolicyContext) -> Iterator[Finding]:
    if not (r.data_bearing and r.in_scope):
        return
    what = r.classification or "in-scope"
    provider = ctx.catalogue.canonical_provider(r.provider)
    allowed = ctx.settings.allowed_regions_for(provider)
    if r.location is Location.OUTSIDE:
        target = (
            f"an allowed region: {', '.join(allowed)}"
            if allowed is not None
            else f"a mainland region: {mainland_examples(ctx.catalogue, r.provider)}"
        )
        place = r.region.region or "a place outside mainland China"  # e.g. an endpoint's host
        yield Finding(
            message=f"{subject(r)} holds {what} data in {place}: {r.location_note}",
            evidence=r.region.explain(),
            fix=f"set the region at {where_set(r.region)} to {target}",
            region=r.region.region,
        )
    elif (
        r.location is Location.MAINLAND
        and allowed is not None
        and r.region.region is not None
        and not ctx.settings.region_allowed(provider, r.region.region)
    ):
        yield Finding(
            message=f"{subject(r)} holds {what} data in {r.region.region}, which is in mainland "
            f"China but not in the allowed regions ({', '.join(allowed)})",
            evidence=r.region.explain(),
            fix=f"set the region at {where_set(r.region)} to an allowed region: {', '.join(allowed)}",
            region=r.region.region,
        )


POLICY = Policy(
    id="CII001",
    name="data-outside-mainland",
    description="A resource holding personal information or important data is located outside mainland China.",
    severity=Severity.CRITICAL,
    validate=_validate,
    legal_basis="Cybersecurity Law art. 37; PIPL art. 40; Data Security Law art. 31",
    fix="Deploy the resource in a mainland-China region of its cloud, or tag it out of scope "
    "(data-classification=public|internal) if it holds no personal or important data.",
    help="CII operators must store personal information and important data collected or generated in "
    "mainland China inside mainland China. Hong Kong, Macao and Taiwan are outside the mainland.",
)
