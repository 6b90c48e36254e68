"""What every input does the same way when a provider configuration leaves something out.

A provider that sets no region takes it from its environment variables, then from its documented
default; provider default tags sit under the resource's own tags. Terraform HCL, plan JSON and
Pulumi share these rules, so they live here once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ciiguard.catalogue import ProviderFacts
from ciiguard.model import Hop, RegionInfo, Unknown


def region_info(value: Any, hops: tuple[Hop, ...], what: str) -> RegionInfo:
    """A region from an evaluated value: a non-empty string, else unknown saying why."""
    if isinstance(value, Unknown):
        return RegionInfo(None, hops, f"{what}: {value.reason}")
    if isinstance(value, str) and value:
        return RegionInfo(value, hops)
    from ciiguard.parsers.terraform.lang.evaluator import render_value

    return RegionInfo(None, hops, f"{what}: not a region name ({render_value(value)})")


def provider_region(provider: Any) -> RegionInfo:
    """``region_info`` of a provider configuration's region (set, not None), made once and kept
    on it (``inherited``): every resource that takes its provider's region shares the object."""
    if provider.inherited is None:
        what = f"region of provider {provider.key} is unknown"
        provider.inherited = region_info(provider.region, provider.hops, what)
    found: RegionInfo = provider.inherited
    return found


def environment_or_default(
    facts: ProviderFacts, environment: Mapping[str, str], hops: tuple[Hop, ...]
) -> RegionInfo | None:
    """The region from the provider's environment variables, else its documented default."""
    for var in facts.environment:
        if environment.get(var):
            value = environment[var]
            return RegionInfo(value, (*hops, Hop(f"environment {var}", value=f'"{value}"')))
    if facts.default_region:
        default = Hop(f"{facts.name} provider default region", value=f'"{facts.default_region}"')
        return RegionInfo(facts.default_region, (*hops, default))
    return None


def unset_variables(facts: ProviderFacts) -> str:
    """How a 'sets no region' message goes on to name the environment variables that were not
    set (" and AWS_REGION/AWS_DEFAULT_REGION unset"); nothing for a provider that reads none."""
    return f" and {'/'.join(facts.environment)} unset" if facts.environment else ""


def merge_tags(default_tags: Any, tags: Any) -> Any:
    """Provider default tags under the resource's own tags (resource tags win, as in the AWS
    provider). Unknown default tags are kept under ``__unknown__`` so classification can tell."""
    if isinstance(tags, Unknown):
        return tags
    if isinstance(default_tags, Unknown):
        return (
            default_tags if not isinstance(tags, Mapping) else {**tags, "__unknown__": default_tags}
        )
    if type(tags) is dict and (default_tags is None or default_tags == {}):
        return tags  # nothing to merge: the resource's own (shared with its attributes)
    merged: dict[str, Any] = {}
    if isinstance(default_tags, Mapping):
        merged.update(default_tags)
    if isinstance(tags, Mapping):
        merged.update(tags)
    return merged
