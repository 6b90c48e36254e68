"""Catalogue facts (regions, data-bearing types, replication arguments), read from data files.

Each cloud's facts live in ``ciiguard/data/<cloud>.json`` with a ``source`` note per entry; plugins
contribute more through the ``ciiguard_catalogue`` hook. Regions are matched per provider, never by
a global prefix rule: ``ap-southeast-1`` is Singapore at AWS and Hong Kong at Huawei.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

from ciiguard.model import Location

BUILTIN_FILES = ("aws", "alicloud", "azure", "tencentcloud", "huaweicloud", "google")


@dataclass(frozen=True)
class ReplicationRule:
    """Where a resource type names the other side of a replication, copy or backup."""

    type: str
    path: str  # e.g. "replica[].region_name"
    kind: str
    destination: str  # "region" | "arn" | "self" | "location"
    source_path: str | None
    source: str


@dataclass
class ProviderFacts:
    name: str
    region_mode: str
    mainland: dict[str, str]  # region id -> source
    outside: dict[str, str]
    normalise: str | None
    region_arguments: tuple[str, ...]
    environment: tuple[str, ...]
    default_region: str | None
    tag_attribute: str
    default_tags_path: tuple[str, ...]
    mainland_partitions: tuple[str, ...]


def load_builtin() -> list[Mapping[str, Any]]:
    """The catalogue data shipped with ciiguard, one mapping per cloud."""
    out = []
    for name in BUILTIN_FILES:
        text = resources.files("ciiguard").joinpath(f"data/{name}.json").read_text(encoding="utf-8")
        out.append(json.loads(text))
    return out


@functools.lru_cache(maxsize=1)
def _aws_partitions() -> list[dict[str, Any]]:
    from botocore.loaders import create_loader

    data = create_loader().load_data("partitions")
    return list(data["partitions"])


class Catalogue:
    """Merged catalogue contributions; answers the questions policies and parsers ask."""

    def __init__(self, contributions: Iterable[Mapping[str, Any]]) -> None:
        self.providers: dict[str, ProviderFacts] = {}
        self.aliases: dict[str, str] = {}
        self.data_bearing: dict[str, str] = {}  # type -> provider
        self.replication: dict[str, list[ReplicationRule]] = {}
        for c in contributions:
            self._add(c)

    def _add(self, c: Mapping[str, Any]) -> None:
        name = str(c["provider"])
        facts = self.providers.get(name)
        if facts is None:
            regions = c.get("regions", {})
            facts = ProviderFacts(
                name=name,
                region_mode=str(regions.get("mode", "list")),
                mainland={},
                outside={},
                normalise=regions.get("normalise"),
                region_arguments=tuple(a["name"] for a in c.get("region_arguments", [])),
                environment=tuple(e["name"] for e in c.get("environment", [])),
                default_region=(c.get("default_region") or {}).get("id"),
                tag_attribute=str(c.get("tags", {}).get("attribute", "tags")),
                default_tags_path=tuple(c.get("tags", {}).get("provider_default_tags", ())),
                mainland_partitions=tuple(regions.get("mainland_partitions", ())),
            )
            self.providers[name] = facts
        regions = c.get("regions", {})
        for entry in regions.get("mainland", []):
            facts.mainland[self._norm(facts, entry["id"])] = entry.get("source", "")
        for entry in regions.get("outside", []):
            facts.outside[self._norm(facts, entry["id"])] = entry.get("source", "")
        for alias in c.get("aliases", []):
            self.aliases[alias] = name
        for entry in c.get("data_bearing", []):
            self.data_bearing[entry["type"]] = name
        for entry in c.get("replication", []):
            rule = ReplicationRule(
                entry["type"],
                entry["path"],
                entry.get("kind", "replication"),
                entry.get("destination", "region"),
                entry.get("source_path"),
                entry.get("source", ""),
            )
            self.replication.setdefault(rule.type, []).append(rule)

    @staticmethod
    def _norm(facts: ProviderFacts, region: str) -> str:
        if facts.normalise == "azure":
            return region.lower().replace(" ", "")
        return region

    # -- questions --------------------------------------------------------
    def canonical_provider(self, name: str) -> str:
        return self.aliases.get(name, name)

    def facts(self, provider: str) -> ProviderFacts | None:
        return self.providers.get(self.canonical_provider(provider))

    def provider_of_type(self, resource_type: str) -> str:
        return resource_type.split("_", 1)[0]

    def is_data_bearing(self, resource_type: str) -> bool:
        return resource_type in self.data_bearing

    def rules_for(self, resource_type: str) -> list[ReplicationRule]:
        return self.replication.get(resource_type, [])

    def location(self, provider: str, region: str) -> tuple[Location, str]:
        """Whether ``region`` at ``provider`` is in mainland China, and why."""
        facts = self.facts(provider)
        if facts is None:
            return Location.UNKNOWN, f"no region catalogue for provider {provider!r}"
        if facts.region_mode == "botocore-partitions":
            return self._aws_location(facts, region)
        if facts.region_mode == "none-mainland":
            return Location.OUTSIDE, f"{facts.name} has no region in mainland China"
        exact = self._norm(facts, region)
        loose = self._norm(facts, region.strip().lower())
        if exact in facts.mainland:
            return Location.MAINLAND, f"{region} is a mainland-China region of {facts.name}"
        if exact in facts.outside or loose in facts.outside:
            return Location.OUTSIDE, f"{region} is outside mainland China at {facts.name}"
        if loose in facts.mainland:
            return Location.UNKNOWN, f"{region!r} is not a valid {facts.name} region id as written"
        return Location.UNKNOWN, f"{region!r} is not a region ciiguard knows at {facts.name}"

    def _aws_location(self, facts: ProviderFacts, region: str) -> tuple[Location, str]:
        loose = region.strip().lower()
        for part in _aws_partitions():
            if region in part.get("regions", {}) and not region.endswith("-global"):
                inside = part["id"] in facts.mainland_partitions
                where = "mainland China" if inside else "outside mainland China"
                return (
                    Location.MAINLAND if inside else Location.OUTSIDE,
                    f"{region} is in AWS partition {part['id']}, {where} (botocore partition data)",
                )
        for part in _aws_partitions():
            listed = loose in part.get("regions", {})
            pattern = part.get("regionRegex")
            matched = listed or bool(pattern and re.match(pattern, loose))
            if matched and part["id"] not in facts.mainland_partitions:
                return Location.OUTSIDE, (
                    f"{region!r} belongs to AWS partition {part['id']}, "
                    "outside mainland China (botocore partition data)"
                )
        return Location.UNKNOWN, f"{region!r} is not an AWS region in botocore's partition data"

    def arn_location(self, arn: str) -> tuple[Location, str, str | None]:
        """Location of an ARN from its partition (and region when it carries one)."""
        parts = arn.split(":", 5)
        if len(parts) < 6 or parts[0] != "arn":
            return Location.UNKNOWN, f"{arn!r} is not an ARN", None
        partition, region = parts[1], parts[3]
        facts = self.facts("aws")
        mainland_parts = facts.mainland_partitions if facts else ("aws-cn",)
        known = {p["id"] for p in _aws_partitions()}
        if partition not in known:
            return Location.UNKNOWN, f"unknown AWS partition {partition!r} in {arn}", None
        if region:
            loc, why = self.location("aws", region)
            if loc is not Location.UNKNOWN and (loc is Location.MAINLAND) != (
                partition in mainland_parts
            ):
                return (
                    Location.UNKNOWN,
                    f"ARN partition {partition} contradicts region {region}",
                    region,
                )
            if loc is not Location.UNKNOWN:
                return loc, f"ARN {arn}: {why}", region
        if partition in mainland_parts:
            return Location.MAINLAND, f"ARN partition {partition} is AWS China", region or None
        return (
            Location.OUTSIDE,
            f"ARN partition {partition} is outside mainland China",
            region or None,
        )
