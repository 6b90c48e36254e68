"""CrossGuard: ciiguard's registered policies as a native Pulumi policy pack.

``policy_pack()`` builds a ``pulumi_policy.PolicyPack`` from the same policies ``ciiguard scan``
runs (built-in and third-party plugins alike), so ``pulumi preview --policy-pack DIR`` enforces
them inside Pulumi. Each ciiguard policy becomes a stack validation policy (flows need the whole
stack: a replica's region is another resource's), mandatory -> MANDATORY, advisory -> ADVISORY.

The stack's resources go through the same model as every other input (``pulumi_common``), so
regions, classification, flows and approvals are decided exactly as in a scan. One difference
from plain CrossGuard: a value Pulumi does not know during preview is ``Unknown`` and leads to
CII003 where it decides a verdict; CrossGuard itself would skip the policy ("fails open").

A pack directory needs only::

    # __main__.py
    from ciiguard.pulumi import policy_pack
    policy_pack("ciiguard-residency")
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ciiguard.model import Enforcement, Resource, ScanResult, Severity, Unknown, ViolationStatus
from ciiguard.parsers.pulumi.common import (
    PROVIDER_PREFIX,
    UNKNOWN_SENTINELS,
    ProviderInfo,
    build_resource,
    default_provider,
    provider_from_inputs,
    pulumi_catalogue,
    urn_parts,
)
from ciiguard.settings import Settings

if TYPE_CHECKING:
    import pulumi_policy

    from ciiguard.plugins.manager import PluginHost
    from ciiguard.policies.base import Policy
    from ciiguard.scan import Plugins

PACK_NAME = "ciiguard-residency"
CONFIG_SCHEMA = {
    "ciiWorkload": {
        "type": "boolean",
        "default": False,
        "description": "Treat every data-bearing resource as in scope unless tagged "
        "data-classification=public|internal (ciiguard scan --cii-workload).",
    }
}


def _unwrap(value: Any, refs: frozenset[str], what: str) -> Any:
    """CrossGuard's property proxies -> plain values; unknowns become ``Unknown`` (never raised)."""
    from pulumi_policy import Secret
    from pulumi_policy.proxy import UnknownValueError

    if isinstance(value, Secret):
        return _unwrap(value.value, refs, what)
    if isinstance(value, str):
        if value in UNKNOWN_SENTINELS:
            return Unknown(f"{what} is known only after deployment", refs)
        return value
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key in value:
            try:
                item = value[key]
            except UnknownValueError:
                out[str(key)] = Unknown(f"{what}.{key} is known only after deployment", refs)
                continue
            out[str(key)] = _unwrap(item, refs, f"{what}.{key}")
        return out
    if isinstance(value, Sequence):
        items: list[Any] = []
        for i in range(len(value)):
            try:
                item = value[i]
            except UnknownValueError:
                items.append(Unknown(f"{what}[{i}] is known only after deployment", refs))
                continue
            items.append(_unwrap(item, refs, f"{what}[{i}]"))
        return items
    if value is None or isinstance(value, (int, float, bool)):
        return value
    return Unknown(f"{what} is an asset or archive", refs)


def _props(props: Mapping[str, Any], deps: Mapping[str, Any], name: str) -> dict[str, Any]:
    from pulumi_policy.proxy import UnknownValueError

    out: dict[str, Any] = {}
    for key in props:
        refs = frozenset(
            getattr(r, "urn", "") for r in (deps.get(key) or []) if getattr(r, "urn", "")
        )
        try:
            value = props[key]
        except UnknownValueError:
            out[str(key)] = Unknown(f"{name}.{key} is known only after deployment", refs)
            continue
        out[str(key)] = _unwrap(value, refs, f"{name}.{key}")
    return out


def _provider(provider: Any, package: str) -> ProviderInfo:
    if provider is None:
        return default_provider(package, None)
    name = str(getattr(provider, "name", "") or urn_parts(str(provider.urn))[1])
    inputs = _props(getattr(provider, "props", {}) or {}, {}, name)
    return provider_from_inputs(
        package,
        name,
        str(getattr(provider, "urn", "")) or None,
        inputs,
        None,
        None,
        explicit=not name.startswith("default"),
    )


def resources_from_stack(
    stack_resources: Iterable[Any], catalogue: Any, settings: Settings
) -> list[Resource]:
    """``pulumi_policy.PolicyResource`` objects -> ciiguard resources (region, tags, attributes)."""
    pc = pulumi_catalogue()
    out: list[Resource] = []
    for pr in stack_resources:
        token = str(pr.resource_type)
        if token.startswith(("pulumi:", PROVIDER_PREFIX)):
            continue
        urn = str(pr.urn)
        name = str(pr.name or urn_parts(urn)[1])
        package = pc.package_of(token)
        props = _props(pr.props or {}, getattr(pr, "property_dependencies", None) or {}, name)
        stack = urn.split("::", 1)[0].removeprefix("urn:pulumi:")
        out.append(
            build_resource(
                catalogue=catalogue,
                urn=urn,
                token=token,
                name=name,
                props=props,
                provider=_provider(getattr(pr, "provider", None), package),
                environment=settings.environment,
                input="pulumi-crossguard",
                file=None,
                line=None,
                extra_meta={"pulumi_stack": stack},
                root=f"pulumi stack {stack}",
            )
        )
    return out


def _message(v: Any) -> str:
    parts = [f"{v.policy}: {v.message}"]
    if v.evidence:
        parts.append(f"why: {v.evidence}")
    if v.fix:
        parts.append(f"fix: {v.fix}")
    return "\n".join(parts)


def check_stack(
    policy: Policy,
    stack_resources: Iterable[Any],
    config: Mapping[str, Any],
    host: PluginHost,
    plugins: Plugins,
    report: Callable[[str, str | None], None],
    today: dt.date | None = None,
) -> None:
    """Run one ciiguard policy over a stack, reporting each violation the gate leaves standing."""
    from ciiguard.gate.stage import GateOptions, apply
    from ciiguard.policies.base import PolicyContext
    from ciiguard.policies.run import run_policies
    from ciiguard.resolve.locate import resolve
    from ciiguard.scan import classifier

    settings = Settings(
        cii_workload=bool(config.get("ciiWorkload", False)), environment=dict(os.environ)
    )
    before = len(host.failures)
    resources = resolve(
        resources_from_stack(stack_resources, plugins.catalogue, settings),
        settings,
        plugins.catalogue,
        classifier(host, settings),
    )
    ctx = PolicyContext(resources=resources, settings=settings, catalogue=plugins.catalogue)
    violations = run_policies([policy], ctx, host.fail)
    failures = host.failures[before:]
    if failures:
        # A policy that could not run must not pass the stack: fail the preview, loudly.
        raise RuntimeError("; ".join(f.render() for f in failures))
    result = ScanResult(
        resources=resources, violations=violations, errors=[], warnings=[], files=[]
    )
    options = GateOptions(
        today=today or dt.date.today(), policy_ids=frozenset(p.id for p in plugins.policies)
    )
    for v in apply(result, settings, options).violations:
        if v.status is ViolationStatus.VIOLATION:
            report(_message(v), v.resource if v.resource.startswith("urn:pulumi:") else None)


def _levels() -> dict[Enforcement, pulumi_policy.EnforcementLevel]:
    import pulumi_policy

    return {
        Enforcement.MANDATORY: pulumi_policy.EnforcementLevel.MANDATORY,
        Enforcement.ADVISORY: pulumi_policy.EnforcementLevel.ADVISORY,
        Enforcement.DISABLED: pulumi_policy.EnforcementLevel.DISABLED,
    }


def _severity(severity: Severity) -> Any:
    import pulumi_policy

    levels = getattr(pulumi_policy, "Severity", None)  # pulumi-policy >= 1.16
    return getattr(levels, severity.name, None) if levels is not None else None


def policies(
    plugin_modules: Sequence[str] = (),
    disabled: Sequence[str] = (),
    autoload: bool = True,
) -> list[pulumi_policy.StackValidationPolicy]:
    """Every registered ciiguard policy (built-in, entry points, ``plugin_modules``) for CrossGuard.

    A plugin that fails to load fails the pack here, as it fails a scan (exit 2): the gate must
    never pass because a policy went missing.
    """
    import pulumi_policy

    from ciiguard.plugins.manager import build
    from ciiguard.policies.base import Policy
    from ciiguard.scan import gather

    host = build(plugin_modules, disabled, autoload)
    plugins = gather(host)
    if host.failures:
        raise RuntimeError("; ".join(f.render() for f in host.failures))
    levels = _levels()
    out: list[pulumi_policy.StackValidationPolicy] = []
    for pol in plugins.policies:
        if pol.validate is None and pol.validate_scan is None and type(pol).run is Policy.run:
            continue  # reported by the gate stage (CII004): nothing for CrossGuard to run

        def validate(
            args: pulumi_policy.StackValidationArgs,
            report_violation: pulumi_policy.ReportViolation,
            pol: Policy = pol,
        ) -> None:
            check_stack(
                pol,
                args.resources,
                args.get_config(),
                host,
                plugins,
                lambda message, urn: report_violation(message, urn),
            )

        extra: dict[str, Any] = {}
        severity = _severity(pol.severity)
        if severity is not None:
            extra["severity"] = severity
        if pol.fix:
            extra["remediation_steps"] = pol.fix
        out.append(
            pulumi_policy.StackValidationPolicy(
                name=pol.id,
                description=f"{pol.description} ({pol.name}; {pol.legal_basis or pol.plugin})",
                validate=validate,
                enforcement_level=levels[pol.enforcement],
                config_schema=pulumi_policy.PolicyConfigSchema(properties=dict(CONFIG_SCHEMA)),
                **extra,
            )
        )
    return out


def policy_pack(
    name: str = PACK_NAME,
    plugin_modules: Sequence[str] = (),
    disabled: Sequence[str] = (),
    autoload: bool = True,
) -> pulumi_policy.PolicyPack:
    """Build the pack and serve it to the Pulumi engine (``pulumi preview --policy-pack DIR``).

    Like every ``pulumi_policy.PolicyPack``, this serves until the engine stops it; call it from
    the pack's ``__main__.py``.
    """
    import pulumi_policy

    return pulumi_policy.PolicyPack(
        name=name,
        policies=list(policies(plugin_modules, disabled, autoload)),
        enforcement_level=pulumi_policy.EnforcementLevel.MANDATORY,
        description="ciiguard: personal information and important data of China CII stay in "
        "mainland China (CSL art. 37, PIPL art. 40, DSL art. 31)",
    )


__all__ = ["check_stack", "policies", "policy_pack", "resources_from_stack"]
