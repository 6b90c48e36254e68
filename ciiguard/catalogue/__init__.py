"""The catalogue: the facts every stage shares (regions, data-bearing types, flow rules).

Enters: ``data/<cloud>.json`` (one file per cloud, a ``source`` note per entry), botocore's
partition data for AWS, and whatever plugins contribute through the ``ciiguard_catalogue`` hook
(registered for the built-in data by ``ciiguard.plugins.builtin``). Leaves: a ``Catalogue`` that
answers where a region is (mainland, outside, unknown), which types hold data and which arguments
name another place the data goes. Regions are matched per provider, never by a global prefix
rule: ``ap-southeast-1`` is Singapore at AWS and Hong Kong at Huawei.

How a flow rule (an entry of a cloud's ``replication`` list) says where data goes:

- ``type`` and ``path``: the resource type and the argument that names the other side, in the
  model's snake_case with ``[]`` for every block or list (``extended_s3_configuration[].bucket_arn``);
  ``name~json`` reads a JSON-encoded string argument (``redrive_policy~json.dead_letter_target_arn``,
  keys in snake_case). Pulumi inputs reach the same path through ``data/pulumi.json``.
- ``kind``: one of ``FLOW_KINDS`` (replication, backup, copy, stream, log-shipping, subscription,
  event-routing, migration, external-endpoint); ``mechanism`` is the finer name the reports may show
  (``read-replica``). A rule written before kinds were a closed list (``kind: "read-replica"``)
  still loads: that value becomes its mechanism and the flow counts as replication.
- ``destination``: how the value names the other side (``DESTINATION_KINDS``, see
  ``ReplicationRule``), with ``target_types`` (the resource types a destination given by reference
  or name resolves to) and ``pattern`` (a regex whose ``region`` and ``name`` groups pick the region
  or the resource's name out of a longer string).
- the source, whose data flows: the declaring resource itself unless ``source_path`` names another
  (resolved among ``source_types``, default ``target_types``; ``["*"]`` for any type),
  ``source_region_path`` names the region it comes from, ``source_same_region_types`` makes every
  resource of those types in the declarer's region a source (registry-wide settings) or
  ``source_referrers`` names the resources that attach the declarer (with ``source_path``, the
  resource a referrer names there is the source: the disk a policy attachment binds). Classification
  and approvals follow the source.
- ``when``: sibling arguments that must hold one of the listed values for the flow to exist
  (``{"endpoint_type": ["target"]}``; ``null`` stands for "not set"; a list holds when one of its
  members does, and an empty list sets nothing); a value not known before apply keeps the flow
  (fail closed). ``computed``: the provider fills the argument in when it is
  not set, so a plan's unknown value there declares nothing unless the configuration sets it.

A ``located_by`` entry (same fields as a flow rule, no kind or source) says that a resource stands
for storage it names (a DMS endpoint for its database, a DataSync location for its bucket or
server): the resource is located where that storage is, and is in scope when it is.

Where an endpoint (a URL, host or e-mail address) is, is a fact of the cloud whose host names it:
each cloud's ``endpoint_hosts`` (regex with a ``region`` group, or a fixed ``location``); other
endpoints are located only by the config file's ``[[endpoints]]`` declarations.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ciiguard.model import FLOW_KINDS, Location

BUILTIN_FILES = ("aws", "alicloud", "azure", "tencentcloud", "huaweicloud", "google")


# A host name is a run of letters, digits, dots and dashes no longer than a DNS name (RFC 1035).
_HOST_RUN = re.compile(r"[a-z0-9.-]+")
MAX_HOST_LENGTH = 253

DESTINATION_KINDS = frozenset(
    {
        "region",
        "location",
        "arn",
        "self",
        "resource",
        "pair",
        "group-member",
        "endpoint",
        "opaque",
        "selected-into",
    }
)


@dataclass(frozen=True)
class ReplicationRule:
    """Where a resource type names the other side of a flow (replication, copy, backup, stream,
    log shipping, subscription, event routing, migration, external endpoint).

    ``destination`` selects how the value at ``path`` names the other side:

    - ``region`` / ``location``: a region id of the resource's provider (``pattern`` may extract it
      from a longer string such as ``qcs::cos:ap-hongkong::bucket`` or ``oss-cn-hangzhou``);
    - ``arn``: an AWS ARN (partition and, when present, region);
    - ``self``: the declaring resource pulls data in (read replica, copy): it is the destination;
    - ``resource``: a resource of ``target_types`` in the configuration, by reference or by name;
    - ``pair``: the provider's paired region of the resource's own region, when the value is one
      of ``when_values`` (Azure geo-redundant storage);
    - ``group-member``: the resource joins a replication group (a global cluster) of
      ``group_types``; data flows in from every other member of that group;
    - ``endpoint``: whatever a delivery argument accepts: an ARN, a resource of ``target_types``, or
      a URL, host or e-mail address (located by the clouds' ``endpoint_hosts``, else by the config
      file's ``[[endpoints]]``, else unknown);
    - ``opaque``: the value only points at where the destination is written (a secret holding
      the connection details), so the destination is never known before apply.
    - ``selected-into``: the value names a *source*: a resource the declarer selects into a store
      it does not name itself (an AWS Backup selection's ``resources``, by reference or ARN, ``*``
      wildcards allowed). ``destination_resource_path`` names the resource that does (the backup
      plan, among ``via_types``), whose ``destination_via`` names the destinations among
      ``target_types`` (the plan's rules' vaults). ``selection_tag_path`` selects sources by tag
      (``key`` and ``value``). A wildcard, or a tag not known before apply, selects every
      data-bearing resource in the declarer's region (fail closed).
    """

    type: str
    path: str  # e.g. "replica[].region_name"
    kind: str
    destination: str
    source_path: str | None
    source: str
    pattern: str | None = None  # regex with a named group "region" (and optionally "name")
    target_types: tuple[str, ...] = ()  # types a destination or source given by name resolves to
    destination_resource_path: str | None = None  # sibling argument naming the destination resource
    source_region_path: str | None = None  # argument naming the region the data comes from
    source_same_region_types: tuple[str, ...] = ()  # registry-wide rules: sources in this region
    # (type, path, source path) of resources that attach this; the source path (or "") names the
    # source on the referrer, which is the source itself without one
    source_referrers: tuple[tuple[str, str, str], ...] = ()
    peers: bool = False  # every value is a member of one set; data moves between all of them
    when_values: tuple[str, ...] = ()  # for "pair": the values that replicate to the pair
    group_types: tuple[str, ...] = ()  # for "group-member": the group resource types
    group_name_attribute: str | None = None  # attribute naming the group, for literal identifiers
    group_source_path: str | None = None  # the group's own argument naming its first member
    mechanism: str = ""  # the finer name of the flow ("read-replica"); "" means the kind
    source_types: tuple[
        str, ...
    ] = ()  # types a source given by name resolves to (else target_types)
    when: tuple[tuple[str, tuple[str | None, ...]], ...] = ()  # (sibling path, allowed values)
    # The provider computes the argument when the configuration leaves it unset, so a plan shows
    # it unknown for every new resource: unknown and not configured is no flow.
    computed: bool = False
    # (sibling path, values): where a sibling holds one of them, the value names the declaring
    # resource's own region (Cosmos DB's failover_priority 0 is the write region), so it is a flow
    # only when it differs from that region.
    own_region_when: tuple[tuple[str, tuple[str | None, ...]], ...] = ()
    # What the provider reads when ``source_path`` is not set: an EventBridge target without
    # ``event_bus_name`` takes the account's bus named "default" (a plan shows "default").
    source_default: str | None = None
    # for "selected-into": the path, on the resource destination_resource_path names (of
    # via_types), that names the destinations; and the path of tag selectors on the declarer
    destination_via: str | None = None
    via_types: tuple[str, ...] = ()
    selection_tag_path: str | None = None
    # ARN service -> the type prefixes a wildcard ARN of that service selects (others: every type)
    wildcard_types: tuple[tuple[str, tuple[str, ...]], ...] = ()


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
    pairs: dict[str, str] = field(default_factory=dict)  # region -> paired region (normalised)
    pairs_closed: bool = False  # mainland regions pair only with mainland regions
    # provider name -> the provider block's argument that sets the region, where it is not
    # "region" (azapi: default_location)
    provider_region_arguments: dict[str, str] = field(default_factory=dict)

    # type -> where its tags are when not at ``tag_attribute`` (Cloud SQL: settings[].user_labels)
    tag_paths: dict[str, str] = field(default_factory=dict)

    def provider_region_argument(self, provider: str) -> str:
        return self.provider_region_arguments.get(provider, "region")

    def tags_of(self, rtype: str, attrs: Mapping[str, Any]) -> Any:
        """A resource's own tags: the map at its type's tag path (a block along it is a list of
        at most one in HCL and plans, an object in Pulumi), or whatever stands there instead (an
        unknown value); None when there is none.

        A path ``blocks:key:value`` names a list of blocks, one per tag, with the tag's key and
        value in two fields (Tencent Cloud's ``resource_tags { tag_key tag_value }``): their map.
        """
        path = self.tag_paths.get(rtype)
        if path is None:
            return attrs.get(self.tag_attribute)
        path, _, fields = path.partition(":")
        value = self._at_tag_path(attrs, path)
        if not fields or not isinstance(value, list):
            return value
        key_field, _, value_field = fields.partition(":")
        tags: dict[Any, Any] = {}
        for block in value:
            if not isinstance(block, Mapping):
                return block  # an unknown block: which tags it sets is not known
            key = block.get(key_field)
            if key is None:
                continue  # a block with no key sets no tag
            if not isinstance(key, str):
                return key  # an unknown key: which tag it sets is not known
            tags[key] = block.get(value_field)
        return tags

    @staticmethod
    def _at_tag_path(attrs: Mapping[str, Any], path: str) -> Any:
        value: Any = attrs
        for part in path.split("."):
            if isinstance(value, list):
                value = value[0] if value else None
            if not isinstance(value, Mapping):
                return None
            value = value.get(part.removesuffix("[]"))
            if value is not None and not isinstance(value, (Mapping, list)):
                return value  # an unknown value (or a misplaced one: classification decides)
        return value


def load_builtin() -> list[Mapping[str, Any]]:
    """The catalogue data shipped with ciiguard, one mapping per cloud."""
    return [json.loads(data_text(f"{name}.json")) for name in BUILTIN_FILES]


def data_text(name: str) -> str:
    """A file of ``catalogue/data``: read beside this module (importing ``importlib.resources``
    costs a scan's start more than reading all of them), through it when the package is not a
    directory on disk (a zip)."""
    here = Path(__file__).parent / "data" / name
    try:
        return here.read_text(encoding="utf-8")
    except (FileNotFoundError, NotADirectoryError):
        from importlib import resources

        return resources.files("ciiguard").joinpath(f"catalogue/data/{name}").read_text("utf-8")


def _rule(entry: Mapping[str, Any]) -> ReplicationRule:
    """One flow rule from its data entry; an unknown destination kind is malformed data."""
    destination = str(entry.get("destination", "region"))
    if destination not in DESTINATION_KINDS:
        raise ValueError(
            f"replication rule for {entry.get('type')!r}: unknown destination {destination!r}"
        )
    pattern = entry.get("pattern")
    if pattern is not None:
        re.compile(pattern)
    kind = str(entry.get("kind", "replication"))
    mechanism = str(entry.get("mechanism") or "")
    if kind not in FLOW_KINDS:  # a rule from before kinds were a closed list
        kind, mechanism = "replication", mechanism or kind
    when = entry.get("when") or {}
    if not isinstance(when, Mapping):
        raise ValueError(f"replication rule for {entry.get('type')!r}: when must be a mapping")
    return ReplicationRule(
        type=str(entry["type"]),
        path=str(entry["path"]),
        kind=kind,
        mechanism=mechanism,
        source_types=tuple(str(t) for t in entry.get("source_types", ())),
        computed=bool(entry.get("computed", False)),
        when=tuple(
            (str(k), tuple(None if v is None else str(v).lower() for v in values))
            for k, values in when.items()
        ),
        own_region_when=tuple(
            (str(k), tuple(None if v is None else str(v).lower() for v in values))
            for k, values in entry.get("own_region_when", {}).items()
        ),
        destination=destination,
        source_path=entry.get("source_path"),
        source=str(entry.get("source", "")),
        pattern=pattern,
        target_types=tuple(entry.get("target_types", ())),
        destination_resource_path=entry.get("destination_resource_path"),
        source_region_path=entry.get("source_region_path"),
        source_default=entry.get("source_default"),
        destination_via=entry.get("destination_via"),
        via_types=tuple(str(t) for t in entry.get("via_types", ())),
        selection_tag_path=entry.get("selection_tag_path"),
        wildcard_types=tuple(
            (str(k), tuple(str(t) for t in v)) for k, v in entry.get("wildcard_types", {}).items()
        ),
        source_same_region_types=tuple(entry.get("source_same_region_types", ())),
        source_referrers=tuple(
            (str(x["type"]), str(x["path"]), str(x.get("source_path", "")))
            for x in entry.get("source_referrers", ())
        ),
        peers=bool(entry.get("peers", False)),
        when_values=tuple(str(v).upper() for v in entry.get("when_values", ())),
        group_types=tuple(entry.get("group_types", ())),
        group_name_attribute=entry.get("group_name_attribute"),
        group_source_path=entry.get("group_source_path"),
    )


@functools.lru_cache(maxsize=1)
def _aws_partitions() -> list[dict[str, Any]]:
    """botocore's partition data (which regions belong to aws-cn). Read straight from botocore's
    data directory: importing ``botocore.loaders`` pulls in urllib3 and costs more than a small
    scan; the loader is the fallback for a layout this does not know."""
    import importlib.util

    spec = importlib.util.find_spec("botocore")
    for location in (spec.submodule_search_locations or []) if spec else []:
        path = Path(location) / "data" / "partitions.json"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(data, dict) and isinstance(data.get("partitions"), list):
            return list(data["partitions"])
    from botocore.loaders import create_loader

    data = create_loader().load_data("partitions")
    return list(data["partitions"])


@dataclass(frozen=True)
class EndpointHost:
    """Host names of a cloud's services that say where the endpoint is: by the region the host
    carries (group ``region``) or, for a whole cloud or partition, by a fixed ``location``."""

    provider: str
    pattern: re.Pattern[str]
    location: Location | None
    what: str  # e.g. "the AWS China partition (amazonaws.com.cn)"
    region_hint: re.Pattern[str] | None = (
        None  # picks the region out of a matched host, for display
    )


@dataclass(frozen=True)
class ArnFormat:
    """A cloud's resource-name syntax that carries a region (``acs:log:cn-hangzhou:...``)."""

    provider: str
    prefix: str
    region_field: int


def _aws_endpoint_hosts(provider: str, facts: ProviderFacts) -> list[EndpointHost]:
    """AWS service host names end in their partition's DNS suffix (botocore partition data:
    ``amazonaws.com`` for the global partition, ``amazonaws.com.cn`` for AWS China), and the
    partition alone decides: every region of aws-cn is in the mainland, no other one is."""
    out = []
    for part in _aws_partitions():
        suffix = (part.get("outputs") or {}).get("dnsSuffix")
        if not suffix:
            continue
        inside = part["id"] in facts.mainland_partitions
        out.append(
            EndpointHost(
                provider,
                re.compile(rf"(?:^|[/.@=:,;])(?:[a-z0-9-]+\.)*{re.escape(suffix)}(?![a-z0-9.-])"),
                Location.MAINLAND if inside else Location.OUTSIDE,
                f"a host of AWS partition {part['id']} (*.{suffix}, botocore partition data)",
                re.compile(r"(?:^|[./-])([a-z]{2}(?:-[a-z]+)+-\d+)(?=\.)"),
            )
        )
    return out


class Catalogue:
    """Merged catalogue contributions; answers the questions policies and parsers ask."""

    def __init__(self, contributions: Iterable[Mapping[str, Any]]) -> None:
        self.providers: dict[str, ProviderFacts] = {}
        self.aliases: dict[str, str] = {}
        self.data_bearing: dict[str, str] = {}  # type -> provider
        self.replication: dict[str, list[ReplicationRule]] = {}
        self.region_from: dict[str, str] = {}  # type -> argument naming the parent it lives in
        self.region_from_types: dict[str, tuple[str, ...]] = {}  # type -> parent types, by name
        # type -> (arguments naming the parent whose tags it takes, the parent's types): a
        # resource that cannot be tagged (an SLS logstore) is classified by its parent's tags
        self.tags_from: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {}
        self.endpoint_hosts: list[EndpointHost] = []
        self.arn_formats: list[ArnFormat] = []
        # type -> where the storage a resource stands for is named (first rule with a value wins)
        self.located_by: dict[str, list[ReplicationRule]] = {}
        # location() answers, by (provider, region): a scan asks about the same few regions for
        # every resource (cleared whenever a contribution is added)
        self._located: dict[tuple[str, str], tuple[Location, str]] = {}
        for c in contributions:
            self._add(c)

    def _add(self, c: Mapping[str, Any]) -> None:
        self._located.clear()
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
                tag_paths={
                    str(k): str(v) for k, v in c.get("tags", {}).get("type_paths", {}).items()
                },
                mainland_partitions=tuple(regions.get("mainland_partitions", ())),
                provider_region_arguments={
                    str(a["provider"]): str(a["name"])
                    for a in c.get("provider_region_arguments", [])
                },
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
        for entry in regions.get("pairs", []):
            a, b = self._norm(facts, entry["region"]), self._norm(facts, entry["pair"])
            facts.pairs[a] = b
        if regions.get("pairs_closed"):
            facts.pairs_closed = True
        for entry in c.get("region_from", []):
            self.region_from[str(entry["type"])] = str(entry["path"])
            if entry.get("target_types"):
                self.region_from_types[str(entry["type"])] = tuple(entry["target_types"])
        for entry in c.get("tags_from", []):
            paths = entry["path"] if isinstance(entry["path"], list) else [entry["path"]]
            self.tags_from[str(entry["type"])] = (
                tuple(str(x) for x in paths),
                tuple(str(t) for t in entry.get("target_types", ())),
            )
        for entry in c.get("replication", []):
            rule = _rule(entry)
            self.replication.setdefault(rule.type, []).append(rule)
        for entry in c.get("endpoint_hosts", []):
            fixed = entry.get("location")
            if fixed not in (None, Location.MAINLAND.value, Location.OUTSIDE.value):
                raise ValueError(f"endpoint host of {name}: location must be mainland or outside")
            pattern = re.compile(str(entry["pattern"]))
            if fixed is None and "region" not in pattern.groupindex:
                raise ValueError(f"endpoint host of {name}: needs a location or a region group")
            self.endpoint_hosts.append(
                EndpointHost(
                    name,
                    pattern,
                    Location(fixed) if fixed else None,
                    str(entry.get("what") or name),
                )
            )
        for entry in c.get("located_by", []):
            rule = _rule(entry)
            if rule.destination in ("self", "pair", "group-member", "selected-into"):
                raise ValueError(f"located_by for {rule.type!r}: destination {rule.destination!r}")
            self.located_by.setdefault(rule.type, []).append(rule)
        if facts.region_mode == "botocore-partitions" and not any(
            h.provider == name for h in self.endpoint_hosts
        ):
            self.endpoint_hosts.extend(_aws_endpoint_hosts(name, facts))
        for entry in c.get("arn_formats", []):
            self.arn_formats.append(
                ArnFormat(name, str(entry["prefix"]), int(entry["region_field"]))
            )

    @staticmethod
    def _norm(facts: ProviderFacts, region: str) -> str:
        if facts.normalise == "azure":
            return region.lower().replace(" ", "")
        return region

    # -- questions --------------------------------------------------------
    def same_region(self, provider: str, a: str, b: str) -> bool:
        """Whether two spellings name one region of ``provider`` (``China North 3`` is
        ``chinanorth3`` at Azure)."""
        facts = self.facts(provider)
        if facts is None:
            return a == b
        return self._norm(facts, a.strip().lower()) == self._norm(facts, b.strip().lower())

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

    def paired_region(self, provider: str, region: str) -> tuple[str | None, Location, str]:
        """The region a provider pairs with ``region`` for geo-redundancy, and where it lies."""
        facts = self.facts(provider)
        if facts is None:
            return None, Location.UNKNOWN, f"no region catalogue for provider {provider!r}"
        pair = facts.pairs.get(self._norm(facts, region.strip().lower()))
        if pair is not None:
            loc, why = self.location(provider, pair)
            return pair, loc, f"{region} is paired with {pair}: {why}"
        own, why = self.location(provider, region)
        if own is Location.OUTSIDE and facts.pairs_closed:
            return (
                None,
                Location.OUTSIDE,
                (
                    f"{region} is outside mainland China and {facts.name} pairs mainland regions only "
                    "with each other, so its pair is outside too"
                ),
            )
        return (
            None,
            Location.UNKNOWN,
            f"ciiguard knows no paired region for {region} at {facts.name}",
        )

    def location(self, provider: str, region: str) -> tuple[Location, str]:
        """Whether ``region`` at ``provider`` is in mainland China, and why."""
        key = (provider, region)
        found = self._located.get(key)
        if found is None:
            found = self._located[key] = self._location(provider, region)
        return found

    def unknown_region_location(self, provider: str, why: str) -> tuple[Location, str]:
        """Where a resource whose region is not known is: unknown, except at a cloud with no
        region in mainland China (Google Cloud), where every region is outside."""
        facts = self.facts(provider)
        if facts is not None and facts.region_mode == "none-mainland":
            return (
                Location.OUTSIDE,
                f"{facts.name} has no region in mainland China (which of its regions is not "
                f"known: {why})",
            )
        return Location.UNKNOWN, why

    def _location(self, provider: str, region: str) -> tuple[Location, str]:
        facts = self.facts(provider)
        if facts is None:
            return Location.UNKNOWN, f"no region catalogue for provider {provider!r}"
        if facts.region_mode == "botocore-partitions":
            return self._aws_location(facts, region)
        if facts.region_mode == "none-mainland":
            if region.strip().lower() in facts.outside:
                return (
                    Location.OUTSIDE,
                    f"{region} is a {facts.name} region, outside mainland China",
                )
            # Multi-regions (ASIA, EU), dual-regions and zones too: none of them is in the mainland.
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

    def is_arn(self, value: str) -> bool:
        """Whether ``value`` is a resource name of a cloud's ARN syntax (``arn:``, ``acs:``, ...)."""
        head = value.split(":", 1)[0]
        return head == "arn" or any(f.prefix == head for f in self.arn_formats)

    def arn_location(self, arn: str) -> tuple[Location, str, str | None]:
        """Location of an ARN from its partition (and region when it carries one); the region of
        another cloud's resource name (``acs:``, ``qcs:``) is matched at that cloud."""
        head = arn.split(":", 1)[0]
        for fmt in self.arn_formats:
            if fmt.prefix == head:
                fields = arn.split(":")
                region = fields[fmt.region_field] if len(fields) > fmt.region_field else ""
                if not region or region == "*":
                    return Location.UNKNOWN, f"{arn} names no region", None
                loc, why = self.location(fmt.provider, region)
                return loc, f"{arn}: {why}", region
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

    def endpoint_location(self, endpoint: str) -> tuple[Location, str, str | None] | None:
        """Where a URL, host, e-mail address or connection string points, when a cloud's host
        names say it (every host the text names must agree); None when no known host appears.

        The patterns are tried on each host-like run of the text alone, and only on runs no
        longer than a DNS name can be, so a hostile value costs linear time."""
        found: list[tuple[Location, str, str | None]] = []
        for run in _HOST_RUN.finditer(endpoint.lower()):
            if len(run.group(0)) <= MAX_HOST_LENGTH:
                found.extend(self._host_facts(run.group(0)))
        if not found:
            return None
        places = {loc for loc, _, _ in found}
        if len(places) == 1:
            return found[0]
        whys = "; ".join(sorted({why for _, why, _ in found}))
        return Location.UNKNOWN, f"{endpoint} names hosts in different places ({whys})", None

    def _host_facts(self, text: str) -> list[tuple[Location, str, str | None]]:
        found: list[tuple[Location, str, str | None]] = []
        for host in self.endpoint_hosts:
            for m in host.pattern.finditer(text):
                region = m.groupdict().get("region")
                if region is None and host.region_hint is not None:
                    hint = host.region_hint.search(m.group(0))
                    region = hint.group(1) if hint else None
                if host.location is not None:
                    where = (
                        "mainland China"
                        if host.location is Location.MAINLAND
                        else ("outside mainland China")
                    )
                    found.append(
                        (
                            host.location,
                            f"{m.group(0).strip('/.@=:,-')}: {host.what}, {where}",
                            region,
                        )
                    )
                elif region:
                    loc, why = self.location(host.provider, region)
                    found.append((loc, f"{m.group(0).strip('/.@=:,-')}: {why}", region))
        return found
