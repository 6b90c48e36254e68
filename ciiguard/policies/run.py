"""Running policies: each enabled policy over the resolved model, at its effective enforcement.

Enters: the policies (built-in and plugins'), a ``PolicyContext`` with the resolved resources.
Leaves: ``Violation``s; a policy that raises or yields something else is reported, not fatal.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ciiguard.errors import PLUGIN_ERRORS, summarize
from ciiguard.model import Enforcement, Resource, Violation
from ciiguard.policies.base import Finding, Policy, PolicyContext

ENFORCEMENTS = {e.value: e for e in Enforcement}
# how a failure is reported: (plugin, hook, message, exception)
Fail = Callable[..., None]


@dataclass
class PerRoot:
    """Per-resource findings worked out root by root (the per-root cache, ``cache.roots``).

    ``policies`` are the ids whose ``validate`` judges one resource from its own root module
    (the built-in ones: they look up other resources only within the resource's root).
    ``known`` holds, for roots whose resolved resources came from the cache, the violations
    those policies found there before: those resources are not validated again. ``found``
    receives, root by root, the violations those policies find now, for the cache."""

    policies: frozenset[str]
    known: Mapping[str, Sequence[Violation]]
    found: dict[str, list[Violation]] = field(default_factory=dict)


def run_policies(
    policies: Iterable[Policy], ctx: PolicyContext, fail: Fail, per_root: PerRoot | None = None
) -> list[Violation]:
    """Every enabled policy over the resolved model; a policy that crashes is reported through
    ``fail`` (plugin, hook, message, exception) and the others still run."""
    out: list[Violation] = []
    for policy in policies:
        level = ENFORCEMENTS.get(ctx.settings.enforcement.get(policy.id, ""), policy.enforcement)
        if level is Enforcement.DISABLED:
            continue
        rooted = (
            per_root
            if per_root is not None
            and policy.id in per_root.policies
            and type(policy).run is Policy.run
            else None
        )
        skip = frozenset(rooted.known) if rooted is not None else frozenset()
        for resource, f in _findings(policy, ctx, fail, skip):
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
            if rooted is not None and resource is not None:
                rooted.found.setdefault(resource.root, []).append(out[-1])
        if rooted is not None:
            out.extend(v for root in skip for v in rooted.known[root] if v.policy == policy.id)
    return out


def _findings(
    policy: Policy, ctx: PolicyContext, fail: Fail, skip: frozenset[str] = frozenset()
) -> list[tuple[Resource | None, Finding]]:
    """A policy's findings, each resource validated on its own: a policy that crashes on one
    resource is reported (plugin, policy, exception) and still checks the others."""
    owner = policy.plugin or policy.id
    out: list[tuple[Resource | None, Finding]] = []

    def call(what: str, resource: Resource | None, found: Any) -> None:
        """``found()``'s findings into ``out``; its failure, or anything not a Finding, to
        ``fail`` (most calls find nothing: the hook's name is only made for a report)."""
        try:
            found = found()
            if not found:
                return
            found = list(found)
        except PLUGIN_ERRORS as exc:  # isolate a crashing policy, fail the run
            on = f" on {resource.address}" if resource is not None else ""
            fail(owner, f"policy {policy.id} {what}", f"{summarize(exc)}{on}", exc)
            return
        for f in found:
            if isinstance(f, Finding):
                out.append((resource, f))
            else:
                fail(
                    owner,
                    f"policy {policy.id} {what}",
                    f"yielded {type(f).__name__}, not ciiguard.Finding",
                )

    if type(policy).run is not Policy.run:  # a subclass with its own run(): one call
        call("run", None, lambda: (f for _, f in policy.run(ctx.resources, ctx)))
        return out
    validate = policy.validate
    if validate is not None:
        for r in ctx.resources:
            if r.root not in skip:  # else their findings are known (PerRoot)
                call("validate", r, functools.partial(validate, r, ctx))
    if policy.validate_scan is not None:
        call("validate_scan", None, functools.partial(policy.validate_scan, ctx))
    return out
