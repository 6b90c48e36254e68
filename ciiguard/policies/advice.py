"""How to fix a location problem: the mainland regions to use and the hop where the value is set."""

from __future__ import annotations

from ciiguard.catalogue import Catalogue
from ciiguard.model import RegionInfo, Resource


def subject(r: Resource) -> str:
    """How a message names a resource: its address, with the type when the address lacks it."""
    if r.type in r.label or r.meta.get("pulumi_type"):  # Pulumi: its own type token is shown
        return r.label
    return f"{r.label} ({r.type})"


def mainland_examples(catalogue: Catalogue, provider: str) -> str:
    facts = catalogue.facts(provider)
    if facts is None:
        return "a mainland-China region"
    if facts.region_mode == "botocore-partitions":
        from ciiguard.catalogue import _aws_partitions

        regions = [
            r
            for p in _aws_partitions()
            if p["id"] in facts.mainland_partitions
            for r in p.get("regions", {})
            if not r.endswith("-global")
        ]
        return ", ".join(sorted(regions)) + " (AWS China)"
    if facts.region_mode == "none-mainland":
        return f"none: {facts.name} has no mainland-China region; move the data to a cloud operating in mainland China"
    return ", ".join(list(facts.mainland)[:4]) + (" ..." if len(facts.mainland) > 4 else "")


def where_set(region: RegionInfo) -> str:
    """The last hop of the chain: where the value actually comes from."""
    for hop in reversed(region.provenance):
        if hop.file:
            return f"{hop.what} ({hop.file}:{hop.line})" if hop.line else f"{hop.what} ({hop.file})"
    return region.provenance[-1].what if region.provenance else "the provider configuration"
