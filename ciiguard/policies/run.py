"""Running policies: each enabled policy over the resolved model, at its effective enforcement.

Enters: the policies (built-in and plugins'), a ``PolicyContext`` with the resolved resources.
Leaves: ``Violation``s; a policy that raises or yields something else is reported, not fatal.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable

from ciiguard.errors import PLUGIN_ERRORS, summarize
from ciiguard.model import Enforcement, Resource, Violation
from ciiguard.policies.base import Finding, Policy, PolicyContext

ENFORCEMENTS = {e.value: e for e in Enforcement}
# how a failure is reported: (plugin, hook, message, exception)
Fail = Callable[..., None]


def run_policies(policies: Iterable[Policy], ctx: PolicyContext, fail: Fail) -> list[Violation]:
    """Every enabled policy over the resolved model; a policy that crashes is reported through
    ``fail`` (plugin, hook, message, exception) and the others still run."""
    out: list[Violation] = []
    for policy in policies:
        level = ENFORCEMENTS.get(ctx.settings.enforcement.get(policy.id, ""), policy.enforcement)
        if level is Enforcement.DISABLED:
            continue
        for resource, f in _findings(policy, ctx, fail):
            address = f.resource or (resource.address if resource else "")
            file = f.file if f.file is not None else (resource.file if resource else None)
            line = f.line if f.line is not None else (resource.line if resource else None)
            region = (
                f.region if f.region is not None else (resource.region.region if resource else None)
            )
            out.append(
                Violation(
                    policy=policy.id,
                    resource=address,
                    message=f.message,
                    severity=policy.severity,
                    enforcement=level,
                    blocking=level is Enforcement.MANDATORY,
                    file=file,
                    line=line,
                    region=region,
                    evidence=f.evidence,
                    fix=f.fix or policy.fix,
                    resource_type=resource.type if resource else None,
                    related=f.related,
                    identity=f.identity,
                    flow_kind=f.flow_kind,
                    root=resource.root if resource else None,
                )
            )
    return out


def _findings(
    policy: Policy, ctx: PolicyContext, fail: Fail
) -> list[tuple[Resource | None, Finding]]:
    """A policy's findings, each resource validated on its own: a policy that crashes on one
    resource is reported (plugin, policy, exception) and still checks the others."""
    owner = policy.plugin or policy.id
    calls: list[tuple[str, Resource | None, Callable[[], Iterable[Finding]]]] = []
    if type(policy).run is not Policy.run:  # a subclass with its own run(): one call
        calls.append(("run", None, lambda: (f for _, f in policy.run(ctx.resources, ctx))))
    else:
        if policy.validate is not None:
            validate = policy.validate
            calls.extend(
                ("validate", r, functools.partial(validate, r, ctx)) for r in ctx.resources
            )
        if policy.validate_scan is not None:
            calls.append(("validate_scan", None, functools.partial(policy.validate_scan, ctx)))
    out: list[tuple[Resource | None, Finding]] = []
    for what, resource, call in calls:
        hook = f"policy {policy.id} {what}"
        try:
            found = list(call() or ())
        except PLUGIN_ERRORS as exc:  # isolate a crashing policy, fail the run
            on = f" on {resource.address}" if resource is not None else ""
            fail(owner, hook, f"{summarize(exc)}{on}", exc)
            continue
        for f in found:
            if isinstance(f, Finding):
                out.append((resource, f))
            else:
                fail(owner, hook, f"yielded {type(f).__name__}, not ciiguard.Finding")
    return out
