"""Every way data leaves a resource (replication, copies, backups, streams, log shipping,
subscriptions, event routing, migrations, external endpoints), read from normalised attributes by
catalogue rules.

Input-agnostic: HCL, plan JSON and Pulumi resources all arrive with snake_case attributes where
blocks are lists of dicts, so one walker serves them all. A destination given as a reference to
another resource in the configuration resolves to that resource and its region. How a rule's value
names the other side is the rule's ``destination`` field (see ``ReplicationRule``), never the type.
An external endpoint is located by the clouds' host names, else by the config file's declarations.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from ciiguard.catalogue import Catalogue, ReplicationRule
from ciiguard.model import CHOSEN, Flow, Hop, Location, RegionInfo, Resource, Unknown, evolve
from ciiguard.settings import DeclaredEndpoint

# Attributes under which resources carry the name other resources use to point at them.
NAME_ATTRIBUTES = (
    "bucket",
    "name",
    "identifier",
    "cluster_identifier",
    "replication_group_id",
    "vault_name",
    "logstore_name",
    "dataset_id",
    "bucket_id",
    "project_name",  # Alibaba Simple Log Service projects
    "topic_name",  # Alibaba MNS and Tencent CMQ topics
    "function_name",  # AWS Lambda functions (event invoke configs name theirs)
    "event_bus_name",  # Alibaba EventBridge buses (rules and event sources name theirs)
    "domain_name",  # OpenSearch domains (cross-cluster connections name theirs)
)


@dataclass
class ResourceIndex:
    """Lookups flows need: by address (with or without instance key) and by bucket-like name."""

    by_address: dict[str, Resource]
    by_base: dict[str, list[Resource]]
    by_type: dict[str, list[Resource]] = field(default_factory=dict)

    @classmethod
    def build(cls, resources: list[Resource]) -> ResourceIndex:
        by_address = {r.address: r for r in resources}
        by_base: dict[str, list[Resource]] = {}
        by_type: dict[str, list[Resource]] = {}
        for r in resources:
            by_base.setdefault(_base(r.address), []).append(r)
            by_type.setdefault(r.type, []).append(r)
        return cls(by_address, by_base, by_type)

    def resolve(self, refs: frozenset[str], types: tuple[str, ...] = ()) -> list[Resource]:
        out: list[Resource] = []
        for ref in sorted(refs):
            found = [self.by_address[ref]] if ref in self.by_address else self.by_base.get(ref, [])
            out.extend(r for r in found if not types or r.type in types)
        return out

    # Per tuple of types, built on first use (the index is not changed once built): name ->
    # resources of those types with that name, in the order a pass over them finds them. One pass
    # per lookup made N name-valued references x N resources.
    _names: dict[tuple[str, ...], dict[str, list[Resource]]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def by_name(self, name: str, types: tuple[str, ...]) -> list[Resource]:
        """The resources of ``types`` (in that order) with ``name`` under one of
        ``NAME_ATTRIBUTES``."""
        table = self._names.get(types)
        if table is None:
            table = self._names[types] = {}
            for t in types:
                for r in self.by_type.get(t, []):
                    seen: set[str] = set()  # a resource is found once, whatever names it
                    for a in NAME_ATTRIBUTES:
                        v = r.attributes.get(a)
                        # only a string equals the (string) name a lookup gives
                        if isinstance(v, str) and v not in seen:
                            seen.add(v)
                            table.setdefault(v, []).append(r)
        return list(table.get(name, ()))

    def of_types(self, types: tuple[str, ...]) -> list[Resource]:
        return [r for t in types for r in self.by_type.get(t, [])]


def _base(address: str) -> str:
    return address.split("[", 1)[0] if address.endswith("]") else address


def _names_the_resource(value: Unknown, rule: ReplicationRule) -> bool:
    """Whether an unknown destination stands for the resource it refers to: its ``.region`` or
    ``.location`` for a region-valued argument, an attribute of its own (``.arn``, ``.id``) for
    the others. Readers that do not track the attribute path (``path`` None) are trusted; a value
    chosen by something unknown (``CHOSEN``) never stands for what it names."""
    if value.path is None:
        return True
    if value.path[: len(CHOSEN)] == CHOSEN:
        return False
    if rule.destination in ("region", "location"):
        return value.path in (("region",), ("location",))
    if rule.destination == "endpoint" and len(value.path) == 2:
        # one of the resource's own addresses (``private_ips[0]``): where it is reached
        attribute, element = value.path
        return element == "[]" and attribute in _ADDRESS_LISTS
    return len(value.path) <= 1


# Attributes that list a resource's own network addresses: an element of one, given to an
# argument that takes an address (an endpoint), names that resource.
_ADDRESS_LISTS = frozenset(
    {"private_ips", "public_ips", "ip_addresses", "private_ip_addresses", "public_ip_addresses",
     "addresses", "endpoints"}
)  # fmt: skip


def refs_in(value: Any) -> frozenset[str]:
    """Every resource a value was derived from (lists and maps of references included)."""
    if isinstance(value, Unknown):
        return value.refs
    if isinstance(value, list):
        return frozenset().union(*(refs_in(v) for v in value)) if value else frozenset()
    if isinstance(value, dict):
        return frozenset().union(*(refs_in(v) for v in value.values())) if value else frozenset()
    return frozenset()


_HUMP = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def _snake_keys(value: Any) -> Any:
    """A decoded JSON document with the model's snake_case keys (``deadLetterTargetArn``)."""
    if isinstance(value, dict):
        return {_HUMP.sub("_", str(k)).lower(): _snake_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_snake_keys(v) for v in value]
    return value


def _decode_json(value: Any, where: str) -> Any:
    """A JSON-encoded argument (``redrive_policy = jsonencode({...})``) as a document."""
    if not isinstance(value, str):
        return _snake_keys(value) if isinstance(value, (dict, list)) else value
    try:
        return _snake_keys(json.loads(value))
    except (ValueError, RecursionError):  # RecursionError: nested deeper than can be read
        return Unknown(f"{where} is not valid JSON, so where it points cannot be read")


def walk_path(value: Any, path: str, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Yield (concrete argument path, value) for a rule path like ``rule[].destination[].bucket``;
    ``name~json`` reads a JSON-encoded string argument."""
    if not path:
        yield prefix.rstrip("."), value
        return
    head, _, rest = path.partition(".")
    if isinstance(value, Unknown):
        yield prefix.rstrip("."), value
        return
    if not isinstance(value, dict):
        return
    is_list = head.endswith("[]")
    head = head[:-2] if is_list else head
    encoded = head.endswith("~json")
    key = head.removesuffix("~json")
    if key not in value or value[key] is None:
        return
    child = value[key]
    if encoded:
        child = _decode_json(child, f"{prefix}{key}")
    if is_list:
        if isinstance(child, Unknown):
            yield f"{prefix}{key}", child
            return
        items = child if isinstance(child, list) else [child]
        for i, item in enumerate(items):
            yield from walk_path(item, rest, f"{prefix}{key}[{i}].")
    else:
        yield from walk_path(child, rest, f"{prefix}{key}.")


def _nearest(candidates: list[tuple[str, Any]], arg: str) -> Any:
    """The candidate whose argument path shares the longest prefix with ``arg`` (its sibling)."""
    best: tuple[int, Any] | None = None
    for path, value in candidates:
        n = 0
        for a, b in zip(path, arg, strict=False):
            if a != b:
                break
            n += 1
        if best is None or n > best[0]:
            best = (n, value)
    return best[1] if best else None


def _arn_name(arn: str) -> str:
    """The resource name at the end of an ARN (``...:db:orders`` / ``...:::bucket``)."""
    return re.split(r"[:/]", arn)[-1]


def _name_in(value: str, catalogue: Catalogue) -> str:
    """The name a value gives a resource: the end of an ARN or of a resource id or path
    (``/subscriptions/.../storageAccounts/logs``, ``projects/p/topics/t``), else the value."""
    if catalogue.is_arn(value):
        return _arn_name(value)
    if "/" in value and "://" not in value:
        return value.rstrip("/").rsplit("/", 1)[-1]
    return value


# Longer values are not matched against patterns at all (unknown, fail closed): matching stays
# cheap whatever a hostile configuration writes.
MAX_ENDPOINT_LENGTH = 4096
_URL = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.:-]*://)(?P<rest>.*)$", re.DOTALL)
_SECRET_KEYS = re.compile(r"key|password|pwd|secret|token|sig|credential", re.IGNORECASE)


def endpoint_shown(value: str) -> str:
    """An endpoint as reports show it and declarations match it: a URL without user
    information, query or fragment; a connection string without its keys and passwords."""
    text = value.strip()
    m = _URL.match(text)
    if m is not None:
        rest = re.split(r"[?#]", m.group("rest"), maxsplit=1)[0]
        authority, slash, path = rest.partition("/")
        return f"{m.group('scheme')}{authority.rsplit('@', 1)[-1]}{slash}{path}"
    if ";" in text and "=" in text:
        pairs = [p.strip() for p in text.split(";") if p.strip()]
        kept = [p for p in pairs if "=" in p and not _SECRET_KEYS.search(p.split("=", 1)[0])]
        return ";".join(kept)
    return text


_HOST_KEYS = frozenset(
    {"server", "data source", "host", "hostname", "address", "addr", "accountendpoint", "endpoint"}
)


def hosts_in(shown: str) -> list[str]:
    """The hosts an endpoint names: a URL's host, a connection string's server, a ``host:port``;
    declarations may name the host alone (``*.example.cn``)."""
    found: list[str] = []
    m = _URL.match(shown)
    if m is not None:
        authority = re.split(r"[/?#]", m.group("rest"), maxsplit=1)[0].rsplit("@", 1)[-1]
        found.append(authority.rsplit(":", 1)[0] if re.search(r":\d+$", authority) else authority)
    elif "=" in shown:
        for pair in shown.split(";"):
            key, _, value = pair.partition("=")
            if key.strip().lower() in _HOST_KEYS and value.strip():
                value = value.strip().removeprefix("tcp:").split(",", 1)[0]
                found.extend(hosts_in(value) if "://" in value else [value.rsplit(":", 1)[0]])
    elif re.fullmatch(r"[A-Za-z0-9.-]+:\d+", shown):
        found.append(shown.rsplit(":", 1)[0])
    return [h for h in found if h and h != shown]


def _where(loc: Location) -> str:
    return {
        Location.MAINLAND: "mainland China",
        Location.OUTSIDE: "outside mainland China",
    }.get(loc, "location unknown")


def _partition_label(arn: str) -> str:
    partition = arn.split(":", 2)[1] if arn.count(":") >= 2 else ""
    return {"aws": "global", "aws-cn": "China"}.get(partition, partition or "unknown")


def _applies(r: Resource, rule: ReplicationRule, arg: str) -> bool:
    """Whether the rule's ``when`` conditions hold for the value at ``arg``: each sibling argument
    holds one of the allowed values (None: not set). A value not known before apply may hold any,
    so the flow stays (fail closed)."""
    return _siblings_hold(r, rule.when, arg, unknown_holds=True)


def _own_region(
    catalogue: Catalogue, r: Resource, rule: ReplicationRule, arg: str, value: Any
) -> bool:
    """Whether the value at ``arg`` is the resource's own region by the rule's
    ``own_region_when`` (Cosmos DB's write region): the same region as the resource's, or unknown
    where the resource's region is unknown too (its own CII003 already stands for it)."""
    if not rule.own_region_when or not _siblings_hold(
        r, rule.own_region_when, arg, unknown_holds=False
    ):
        return False
    own = r.region.region
    if isinstance(value, Unknown):
        return own is None
    return (
        isinstance(value, str) and own is not None and catalogue.same_region(r.provider, value, own)
    )


def _siblings_hold(
    r: Resource,
    conditions: tuple[tuple[str, tuple[str | None, ...]], ...],
    arg: str,
    unknown_holds: bool,
) -> bool:
    for path, allowed in conditions:
        candidates = list(walk_path(r.attributes, path))
        value = _nearest(candidates, arg) if candidates else None
        if isinstance(value, list):  # a list holds when one of its members does
            members = [m for m in value if not (isinstance(m, str) and not m.strip())]
            unknown = next((m for m in members if isinstance(m, Unknown)), None)
            if unknown is None and members:
                if not any(m is not None and str(m).strip().lower() in allowed for m in members):
                    return False
                continue
            value = unknown  # one that may be anything, or None: an empty list sets nothing
        if isinstance(value, Unknown):
            if unknown_holds:
                continue
            return False
        if value is None or (isinstance(value, str) and not value.strip()):
            if None not in allowed:
                return False
            continue
        if str(value).strip().lower() not in allowed:
            return False
    return True


def _line_for(resource: Resource, arg: str) -> int | None:
    lines = resource.meta.get("block_lines") if isinstance(resource.meta, dict) else None
    if not lines:
        return resource.line
    # The longest block path that is ``arg`` or ends where one of its "." does: only ``arg``'s
    # own prefixes can be, so they are looked up, longest first (at most one has each length). A
    # pass over every block path per flow made N blocks x N flows.
    if arg in lines:
        return lines[arg]  # type: ignore[no-any-return]
    end = arg.rfind(".")
    while end >= 0:
        p = arg[:end]
        if p in lines:
            return lines[p]  # type: ignore[no-any-return]
        end = arg.rfind(".", 0, end)
    return resource.line


@dataclass(frozen=True)
class _Origin:
    """Where a flow's data comes from: a resource in the configuration and/or a region."""

    address: str | None
    region: str | None = None
    location: Location = Location.UNKNOWN
    unknown: str | None = None  # why the source cannot be told (see Flow.source_unknown)

    @classmethod
    def of(cls, src: Resource) -> _Origin:
        """A resource of the configuration as the source: where it is."""
        return cls(src.address, src.region.region, src.location)


class FlowBuilder:
    def __init__(
        self,
        catalogue: Catalogue,
        index: ResourceIndex,
        endpoints: Sequence[DeclaredEndpoint] = (),
    ) -> None:
        self.catalogue = catalogue
        self.index = index
        self.endpoints = tuple(endpoints)
        self._groups: dict[tuple[str, ...], dict[str, list[Resource]]] = {}
        self._group_tables: dict[tuple[tuple[str, ...], str], dict[str, Resource]] = {}
        self._same_region_tables: dict[tuple[str, ...], dict[str, Resource]] = {}
        self._referrer_tables: dict[tuple[str, str], dict[str, list[tuple[int, Resource]]]] = {}
        self._selectable_tables: dict[tuple[str, str | None, tuple[str, ...]], list[Resource]] = {}

    def flows_of(self, r: Resource) -> tuple[Flow, ...]:
        flows: list[Flow] = []
        for rule in self.catalogue.rules_for(r.type):
            if rule.destination == "group-member":
                flows.extend(self._group_flows(r, rule))
                continue
            values = [(a, v) for a, v in walk_path(r.attributes, rule.path) if _applies(r, rule, a)]
            if rule.peers:
                flows.extend(self._peer_flows(r, rule, values))
                continue
            if rule.destination == "selected-into":
                flows.extend(self._selected_flows(r, rule, values))
                continue
            for arg, value in values:
                if _own_region(self.catalogue, r, rule, arg, value):
                    continue
                flow = self._flow(r, rule, arg, value)
                if flow is not None:
                    flows.append(flow)
        return tuple(flows)

    def located(self, r: Resource) -> Resource | None:
        """``r`` located where the storage it stands for is (catalogue ``located_by``), and in
        scope when that storage is; None when the catalogue says nothing or no argument is set."""
        for rule in self.catalogue.located_by.get(r.type, []):
            values = [(a, v) for a, v in walk_path(r.attributes, rule.path) if _applies(r, rule, a)]
            found = next(((a, v) for a, v in values if v is not None and v != ""), None)
            if found is None:
                continue
            arg, value = found
            flow = self._flow(r, rule, arg, value)
            if flow is None:
                continue
            target = self.index.by_address.get(flow.destination_resource or "")
            what = target.address if target is not None else flow.shown_destination
            placed = rule.destination in ("region", "location") and target is None
            verb = "is placed in" if placed else "stands for"
            hop = Hop(f"{arg} of {r.address}: it {verb} {what}", r.file, flow.line)
            if target is not None and target.address != r.address:
                region = RegionInfo(
                    target.region.region,
                    (hop, *target.region.provenance),
                    target.region.unknown_reason,
                )
            elif flow.destination and flow.destination != flow.destination_name:
                region = RegionInfo(flow.destination, (hop,))  # a region, or an ARN's region
            else:
                region = RegionInfo(None, (hop,), flow.destination_explain)
            changes: dict[str, Any] = {
                "region": region,
                "location": flow.destination_location,
                "location_note": f"{r.address} {verb} {what}: {flow.destination_explain}",
            }
            if target is not None and target.in_scope and not r.in_scope:
                changes.update(
                    in_scope=True,
                    classification=target.classification,
                    scope_reason=f"stands for {target.address}, which is in scope "
                    f"({target.scope_reason})",
                )
            return evolve(r, **changes)
        return None

    # -- building blocks ------------------------------------------------------
    def _make(
        self,
        r: Resource,
        rule: ReplicationRule,
        arg: str,
        origin: _Origin,
        dest: str | None,
        dest_res: str | None,
        loc: Location,
        explain: str,
        summary: str | None = None,
        name: str | None = None,
    ) -> Flow:
        if summary is None:
            named = dest is not None and not re.search(r"[:/@ ]", dest)
            summary = f"{dest}, {_where(loc)}" if named else _where(loc)
        return Flow(
            kind=rule.kind,
            declared_by=r.address,
            argument=arg,
            source=origin.address,
            destination=dest,
            destination_resource=dest_res,
            destination_location=loc,
            destination_explain=explain,
            provider=r.provider,
            file=r.file,
            line=_line_for(r, arg),
            source_region=origin.region,
            source_location=origin.location,
            source_unknown=origin.unknown,
            mechanism=rule.mechanism,
            destination_summary=summary,
            destination_name=name,
        )

    def _to_resource(
        self,
        r: Resource,
        rule: ReplicationRule,
        arg: str,
        origin: _Origin,
        target: Resource,
        name: str | None = None,
    ) -> Flow:
        """A flow to a resource of the configuration: where it is, and why."""
        explain = f"{target.address}: {target.location_note or target.region.explain()}"
        return self._make(
            r,
            rule,
            arg,
            origin,
            target.region.region,
            target.address,
            target.location,
            explain,
            name=name,
        )

    def _arn_flow(
        self,
        r: Resource,
        rule: ReplicationRule,
        arg: str,
        value: str,
        origin: _Origin,
        dest_res: str | None,
    ) -> Flow:
        """A destination named by an ARN: its partition and region decide (S3 ARNs carry only the
        partition); the resource of the configuration it names, when there is one, is recorded."""
        loc, why, region = self.catalogue.arn_location(value)
        if dest_res is None and rule.target_types:
            # a resource of that name is the one the ARN names only where the ARN says it is
            found = [
                x
                for x in self.index.by_name(_arn_name(value), rule.target_types)
                if (x.region.region == region if region else x.location is loc)
            ]
            dest_res = found[0].address if found else None
        if region:
            summary = f"{region}, {_where(loc)}"
        elif value.startswith("arn:") and loc is not Location.UNKNOWN:
            summary = f"{_partition_label(value)} partition, {_where(loc)}"
        else:
            summary = _where(loc)
        return self._make(r, rule, arg, origin, region or value, dest_res, loc, why, summary, value)

    def _origin_of(
        self, src: Resource | None, r: Resource, rule: ReplicationRule, arg: str
    ) -> _Origin:
        if src is not None:
            return _Origin.of(src)
        if rule.source_region_path:
            value = _nearest(list(walk_path(r.attributes, rule.source_region_path)), arg)
            if isinstance(value, str) and value:
                loc, _ = self.catalogue.location(r.provider, value)
                return _Origin(None, value, loc)
        return _Origin(None)

    def _lookup(self, value: Any, types: tuple[str, ...]) -> Resource | None:
        """The resource a value points at: by reference, or by name (or ARN, or resource id) among
        ``types``."""
        if isinstance(value, Unknown):
            found = self.index.resolve(value.refs, types)
            return found[0] if found else None
        if isinstance(value, str) and value and types:
            found = self.index.by_name(value, types)
            name = _name_in(value, self.catalogue)
            if not found and name != value:
                found = self.index.by_name(name, types)
            return found[0] if found else None
        return None

    def _source(self, r: Resource, rule: ReplicationRule, arg: str) -> _Origin:
        if rule.source_path is not None:
            value = _nearest(list(walk_path(r.attributes, rule.source_path)), arg)
            unset = value is None and rule.source_default is not None
            if unset:
                value = rule.source_default
            types = rule.source_types or rule.target_types or (r.type,)
            src = self._lookup(value, () if types == ("*",) else types)
            if src is None:
                found = sorted(
                    self.index.resolve(refs_in(value)), key=lambda x: (not x.in_scope, x.address)
                )
                src = found[0] if found else None
            outside = (  # whose data it is cannot be told: not a resource of this configuration
                (
                    f"{rule.source_path} is not set, so it is {value!r}, which is not in this "
                    "configuration"
                    if unset
                    else f"{rule.source_path} names {value!r}, which is not in this configuration"
                )
                if src is None and isinstance(value, str) and value
                else None
            )
            if src is None and isinstance(value, str) and self.catalogue.is_arn(value):
                loc, _, region = self.catalogue.arn_location(value)
                return _Origin(None, region, loc, outside)
            if outside is not None and value == rule.source_default:
                # the provider's default (the account's default bus) is in the declarer's region
                return _Origin(None, r.region.region, r.location, outside)
            if outside is not None:
                origin = self._origin_of(None, r, rule, arg)
                return _Origin(origin.address, origin.region, origin.location, outside)
            if src is None and isinstance(value, Unknown):
                origin = self._origin_of(None, r, rule, arg)
                why = f"{rule.source_path} is not known before apply ({value.reason})"
                return _Origin(origin.address, origin.region, origin.location, why)
            return self._origin_of(src, r, rule, arg)
        if rule.source_same_region_types:
            region = r.region.region
            types = rule.source_same_region_types
            src = self._same_region(types).get(region) if region is not None else None
            return self._origin_of(src, r, rule, arg)
        if rule.source_referrers:
            # every referrer counts, in scope first: a policy attached to a public disk first
            # and a personal disk second copies the personal disk's snapshots too
            sources: list[Resource] = []
            for rtype, path, via in rule.source_referrers:
                for x in self._referrers(rtype, path, r.address):
                    if not via:
                        sources.append(x)
                        continue
                    # the resource the referrer names (the disk it binds)
                    named = _nearest(list(walk_path(x.attributes, via)), via)
                    found = self.index.resolve(refs_in(named))
                    if not found and rule.source_types:  # by name (a known name keeps no refs)
                        by_name = self._lookup(named, rule.source_types)
                        found = [by_name] if by_name is not None else []
                    sources.extend(found)
            best = min(sources, key=lambda y: (not y.in_scope, y.address), default=None)
            return self._origin_of(best, r, rule, arg)
        if rule.source_region_path:  # the declarer links two endpoints it names by region
            declared = self._origin_of(None, r, rule, arg)
            return _Origin(r.address, declared.region, declared.location)
        return _Origin(r.address, r.region.region, r.location)

    def _same_region(self, types: tuple[str, ...]) -> dict[str, Resource]:
        """Region -> the resource of ``types`` there that sorts first by (not in scope, address),
        built once: filtering and sorting them all per flow made N flows x N resources."""
        table = self._same_region_tables.get(types)
        if table is None:
            table = self._same_region_tables[types] = {}
            for x in self.index.of_types(types):
                region = x.region.region
                if region is None:
                    continue
                held = table.get(region)
                # strictly less: on a tie the earlier one stays, as a stable sort keeps it first
                if held is None or (not x.in_scope, x.address) < (not held.in_scope, held.address):
                    table[region] = x
        return table

    def _referrers(self, rtype: str, path: str, address: str) -> list[Resource]:
        """The resources of ``rtype`` (in index order) whose ``path`` refers to ``address`` (or
        to its base address). Each (type, path)'s references are read once, in one pass, into a
        table: a pass per flow made N flows x N referrers."""
        table = self._referrer_tables.get((rtype, path))
        if table is None:
            table = self._referrer_tables[(rtype, path)] = {}
            for i, x in enumerate(self.index.of_types((rtype,))):
                refs: frozenset[str] = frozenset()
                for _, v in walk_path(x.attributes, path):
                    refs |= refs_in(v)
                for ref in refs:
                    table.setdefault(ref, []).append((i, x))
        hits = dict(table.get(address, ()))
        hits.update(table.get(_base(address), ()))
        return [hits[i] for i in sorted(hits)]

    def _places(self, value: Unknown, rule: ReplicationRule, r: Resource) -> list[str]:
        """The distinct places the resources an unknown value may name are in, as
        ``address (region)``; more than one means the destination depends on apply."""
        found = self.index.resolve(value.refs, rule.target_types) if rule.target_types else []
        if not found:
            found = [x for x in self.index.resolve(value.refs) if x.provider == r.provider]
        places: dict[tuple[Location, str | None], str] = {}
        for x in found:
            places.setdefault(
                (x.location, x.region.region),
                f"{x.address} ({x.region.region or 'unknown region'})",
            )
        return sorted(places.values())

    # -- one value, one flow ------------------------------------------------------
    def _flow(self, r: Resource, rule: ReplicationRule, arg: str, value: Any) -> Flow | None:
        if rule.destination == "self":
            return self._into_self(r, rule, arg, value)
        if value is None or (isinstance(value, str) and not value):
            return None
        origin = self._source(r, rule, arg)
        if rule.destination == "pair":
            return self._pair(r, rule, arg, value, origin)
        if rule.destination == "opaque":
            shown = endpoint_shown(value) if isinstance(value, str) else None
            held = shown or (
                f"a value not known before apply ({value.reason})"
                if isinstance(value, Unknown)
                else "settings only the service's plugin reads"  # a connector's configuration map
            )
            why = (
                f"{arg} keeps the destination's connection details in {held}; where they point "
                "cannot be known before apply"
            )
            return self._make(r, rule, arg, origin, None, None, Location.UNKNOWN, why, name=shown)
        if rule.destination == "resource" or isinstance(value, Unknown):
            target = self._lookup(value, rule.target_types) if rule.target_types else None
            if target is None and isinstance(value, Unknown):
                found = self.index.resolve(value.refs)
                target = found[0] if found else None
            if isinstance(value, Unknown) and not _names_the_resource(value, rule):
                target = None  # e.g. aws_s3_bucket.b.tags["dr"]: a value stored in b, not b
            if target is not None and isinstance(value, Unknown):
                places = self._places(value, rule, r)
                if len(places) > 1:  # e.g. var.dr ? aws_s3_bucket.hk.arn : aws_s3_bucket.bj.arn
                    return self._make(
                        r,
                        rule,
                        arg,
                        origin,
                        None,
                        None,
                        Location.UNKNOWN,
                        f"{arg} is one of {', '.join(places)} depending on values known only "
                        f"after apply ({value.reason})",
                    )
            if target is not None:
                return self._to_resource(r, rule, arg, origin, target)
            why = (
                f"{arg} is not known before apply ({value.reason})"
                if isinstance(value, Unknown)
                else f"{value!r} is not a resource in this configuration, so its region is unknown"
            )
            if rule.destination == "resource" or not isinstance(value, str):
                return self._make(r, rule, arg, origin, None, None, Location.UNKNOWN, why)
        if not isinstance(value, str):
            return None
        dest_res = self._sibling_resource(r, rule, arg)
        if rule.destination == "endpoint":
            if self.catalogue.is_arn(value):
                return self._arn_flow(r, rule, arg, value, origin, dest_res)
            return self._endpoint(r, rule, arg, value, origin)
        if rule.destination == "arn" or value.startswith("arn:"):
            return self._arn_flow(r, rule, arg, value, origin, dest_res)
        region = value
        if rule.pattern:
            m = re.match(rule.pattern, value)
            if m is None or not m.groupdict().get("region"):
                return self._make(
                    r,
                    rule,
                    arg,
                    origin,
                    value,
                    dest_res,
                    Location.UNKNOWN,
                    f"{value!r} does not have the documented form of {arg}",
                )
            region = m.group("region")
            name = m.groupdict().get("name")
            if dest_res is None and name and rule.target_types:
                found = self.index.by_name(name, rule.target_types)
                dest_res = found[0].address if found else None
        loc, why = self.catalogue.location(r.provider, region)
        return self._make(r, rule, arg, origin, region, dest_res, loc, why)

    def _endpoint(
        self, r: Resource, rule: ReplicationRule, arg: str, value: str, origin: _Origin
    ) -> Flow:
        """A URL, host, e-mail address or connection string: a resource of the configuration when
        it names one, else where the clouds' host names say, else where the config file declares
        it, else unknown (no configuration can say where an external endpoint is)."""
        shown = endpoint_shown(value)
        if len(shown) > MAX_ENDPOINT_LENGTH:
            why = f"{arg} is {len(shown)} characters long: no endpoint ciiguard can place"
            return self._make(r, rule, arg, origin, None, None, Location.UNKNOWN, why)
        name = None
        if rule.pattern:
            m = re.search(rule.pattern, value)
            name = m.groupdict().get("name") if m else None
        if rule.target_types:
            target = self._lookup(name or value, rule.target_types)
            if target is not None:
                return self._to_resource(r, rule, arg, origin, target, shown)
        hit = self.catalogue.endpoint_location(shown)
        if hit is not None:
            loc, why, region = hit
            summary = f"{region}, {_where(loc)}" if region else _where(loc)
            return self._make(r, rule, arg, origin, shown, None, loc, why, summary, shown)
        candidates = [shown, *hosts_in(shown)]
        for declared in self.endpoints:
            if any(declared.matches(c) for c in candidates):
                loc = Location(declared.location)
                where = _where(loc)
                return self._make(
                    r,
                    rule,
                    arg,
                    origin,
                    shown,
                    None,
                    loc,
                    f"{shown} is declared {where} by {declared.source} "
                    f"(match {declared.match!r}): {declared.reason}",
                    f"external endpoint, declared {where} in {declared.source}",
                    shown,
                )
        return self._make(
            r,
            rule,
            arg,
            origin,
            shown,
            None,
            Location.UNKNOWN,
            f"{shown} is an external endpoint: no configuration can say where it is; declare "
            "its location in the config file ([[endpoints]] match, location, reason)",
            "external endpoint, location not declared",
            shown,
        )

    def _sibling_resource(self, r: Resource, rule: ReplicationRule, arg: str) -> str | None:
        if not rule.destination_resource_path:
            return None
        value = _nearest(list(walk_path(r.attributes, rule.destination_resource_path)), arg)
        target = self._lookup(value, rule.target_types)
        return target.address if target else None

    def _into_self(self, r: Resource, rule: ReplicationRule, arg: str, value: Any) -> Flow | None:
        """A resource that pulls data in (read replica, copy, backup replication): the destination."""
        if value is None or (isinstance(value, str) and not value):
            return None
        if not isinstance(value, (str, Unknown)):
            return None
        src = self._lookup(value, rule.target_types or (r.type,))
        if src is None and isinstance(value, Unknown):
            found = self.index.resolve(value.refs)
            src = found[0] if found else None
        origin = self._origin_of(src, r, rule, arg)
        if src is None and isinstance(value, str) and self.catalogue.is_arn(value):
            loc, _, region = self.catalogue.arn_location(value)
            if origin.region is None:
                origin = _Origin(None, region, loc)
        return self._make(
            r,
            rule,
            arg,
            origin,
            r.region.region,
            r.address,
            r.location,
            r.location_note or r.region.explain(),
        )

    # -- selections: the declarer puts resources it names into a store another resource names ----
    def _selected_flows(
        self, r: Resource, rule: ReplicationRule, values: list[tuple[str, Any]]
    ) -> list[Flow]:
        """Each resource a selection selects (an AWS Backup selection's ``resources`` and tag
        selectors) flows into each store of the resource it belongs to (its plan's vaults)."""
        picked: list[tuple[str, _Origin]] = []
        for arg, value in values:
            picked.extend((arg, o) for o in self._selected_sources(r, rule, value, arg))
        if rule.selection_tag_path:
            for arg, sel in walk_path(r.attributes, rule.selection_tag_path):
                key = sel.get("key") if isinstance(sel, dict) else sel
                val = sel.get("value") if isinstance(sel, dict) else None
                if key is None or (isinstance(key, str) and not key):
                    continue
                found = [
                    x
                    for x in self._selectable(r)
                    if not (isinstance(key, str) and isinstance(val, str))  # not known: all
                    or (isinstance(x.tags, dict) and x.tags.get(key) == val)
                ]
                picked.extend((arg, _Origin.of(x)) for x in found)
        if not picked:
            return []
        stores, why = self._selected_stores(r, rule)
        flows = []
        for arg, origin in picked:
            if not stores:
                region = r.region.region
                flows.append(self._make(r, rule, arg, origin, region, None, r.location, why))
            for store in stores:
                flows.append(self._to_resource(r, rule, arg, origin, store))
        return flows

    def _selectable(self, r: Resource, prefixes: tuple[str, ...] = ()) -> list[Resource]:
        """What a wildcard selects: the in-scope data-bearing resources of the declarer's cloud
        in its region (or whose region is not known), of ``prefixes`` when given."""
        region = r.region.region
        key = (r.provider, region, prefixes)
        found = self._selectable_tables.get(key)
        if found is None:  # once per (cloud, region, prefixes): not a pass per selector
            found = self._selectable_tables[key] = [
                x
                for x in self.index.by_address.values()
                if x.data_bearing
                and x.in_scope
                and x.provider == r.provider
                and (region is None or x.region.region in (None, region))
                and (not prefixes or x.type.startswith(prefixes))
            ]
        return found

    def _selected_sources(
        self, r: Resource, rule: ReplicationRule, value: Any, arg: str
    ) -> list[_Origin]:
        if isinstance(value, str) and "*" in value:
            parts = value.split(":")
            service = parts[2] if len(parts) > 2 and value.startswith("arn:") else "*"
            prefixes = dict(rule.wildcard_types).get(service, ())
            found = self._selectable(r, prefixes)
            return [_Origin.of(x) for x in found]
        if isinstance(value, Unknown):
            found = [x for x in self.index.resolve(value.refs) if x.data_bearing]
            if found:
                return [_Origin.of(x) for x in found]
            return [_Origin(None, unknown=f"{arg} is not known before apply ({value.reason})")]
        if not isinstance(value, str) or not value:
            return []
        found = self.index.by_name(_name_in(value, self.catalogue), tuple(self.index.by_type))
        found = [x for x in found if x.data_bearing]
        if found:
            return [_Origin.of(x) for x in found[:1]]
        outside = f"{arg} names {value!r}, which is not in this configuration"
        if self.catalogue.is_arn(value):
            loc, _, region = self.catalogue.arn_location(value)
            return [_Origin(None, region, loc, outside)]
        return [_Origin(None, unknown=outside)]

    def _selected_stores(self, r: Resource, rule: ReplicationRule) -> tuple[list[Resource], str]:
        """The stores the selection's owner (a backup plan) names, and, when none is in this
        configuration, why the store is taken to be in the declarer's region."""
        path = rule.destination_resource_path or ""
        held = _nearest(list(walk_path(r.attributes, path)), path)
        owner = self._lookup(held, rule.via_types)
        same = f"a store of {r.address}'s own region"
        if owner is None:
            shown = (
                f"a value not known before apply ({held.reason})"
                if isinstance(held, Unknown)
                else repr(held)
            )
            return [], f"{path} names {shown}, not in this configuration: {same}"
        stores: list[Resource] = []
        named: list[str] = []
        for _, v in walk_path(owner.attributes, rule.destination_via or ""):
            store = self._lookup(v, rule.target_types)
            if store is not None and store not in stores:
                stores.append(store)
            elif store is None and v is not None:
                named.append(repr(v) if isinstance(v, str) else "a value not known before apply")
        via = f"{owner.address}.{rule.destination_via}"
        return (
            stores,
            f"{via} names {', '.join(named) or 'nothing'}, not in this configuration: {same}",
        )

    def _pair(
        self, r: Resource, rule: ReplicationRule, arg: str, value: Any, origin: _Origin
    ) -> Flow | None:
        """Geo-redundancy to the provider's paired region of the resource's own region."""
        if isinstance(value, Unknown):
            return self._make(
                r,
                rule,
                arg,
                origin,
                None,
                None,
                Location.UNKNOWN,
                f"{arg} is not known before apply ({value.reason})",
            )
        if isinstance(value, bool):  # geo_redundant_backup_enabled = true
            value = str(value).lower()
        if not isinstance(value, str) or value.upper() not in rule.when_values:
            return None
        if r.region.region is None:
            return self._make(
                r,
                rule,
                arg,
                origin,
                None,
                None,
                Location.UNKNOWN,
                f"{value} copies to the pair of {r.address}'s region, which is unknown",
            )
        pair, loc, why = self.catalogue.paired_region(r.provider, r.region.region)
        return self._make(r, rule, arg, origin, pair, None, loc, f"{value}: {why}")

    # -- sets of members ---------------------------------------------------------
    def _peer_flows(
        self, r: Resource, rule: ReplicationRule, values: list[tuple[str, Any]]
    ) -> list[Flow]:
        """Every member of one set (a multi-region access point's buckets) can receive the others' data."""
        members = [(arg, v, self._lookup(v, rule.target_types)) for arg, v in values]
        known = [m for _, _, m in members if m is not None]
        flows = []
        for arg, value, target in members:
            others = sorted(
                (m for m in known if target is None or m.address != target.address),
                key=lambda m: (not m.in_scope, m.address),
            )
            if not others:
                continue
            origin = self._origin_of(others[0], r, rule, arg)
            if target is None:
                flows.append(
                    self._make(
                        r,
                        rule,
                        arg,
                        origin,
                        None,
                        None,
                        Location.UNKNOWN,
                        f"{value!r} is not a resource in this configuration, so its region is unknown",
                    )
                )
                continue
            flows.append(self._to_resource(r, rule, arg, origin, target))
        return flows

    def _group_key(self, rule: ReplicationRule, value: Any) -> tuple[str | None, str | None]:
        """(key shared by the group's members, address of the group resource when in the config)."""
        if isinstance(value, Unknown):
            found = self.index.resolve(value.refs, rule.group_types)
            return (f"res:{found[0].address}", found[0].address) if found else (None, None)
        if isinstance(value, str) and value:
            if rule.group_name_attribute:
                g = self._group_names(rule.group_types, rule.group_name_attribute).get(value)
                if g is not None:
                    return f"res:{g.address}", g.address
            return f"name:{value}", None
        return None, None

    def _group_names(self, types: tuple[str, ...], attribute: str) -> dict[str, Resource]:
        """Name -> the first group resource of ``types`` with that name under ``attribute``, built
        once: a pass over every group per member made N members x N groups."""
        key = (types, attribute)
        table = self._group_tables.get(key)
        if table is None:
            table = self._group_tables[key] = {}
            for g in self.index.of_types(types):
                name = g.attributes.get(attribute)
                if isinstance(name, str):  # only a string equals the (string) name looked up
                    table.setdefault(name, g)  # the first wins, as in a pass
        return table

    def _members(self, rule: ReplicationRule) -> dict[str, list[Resource]]:
        cached = self._groups.get(rule.group_types)
        if cached is not None:
            return cached
        groups: dict[str, list[Resource]] = {}
        for rules in self.catalogue.replication.values():
            for other in rules:
                if other.destination != "group-member" or other.group_types != rule.group_types:
                    continue
                for x in self.index.of_types((other.type,)):
                    key, _ = self._group_key(other, x.attributes.get(other.path))
                    if key is not None:
                        groups.setdefault(key, []).append(x)
        member_types = tuple(
            t
            for t, rules in self.catalogue.replication.items()
            if any(
                o.destination == "group-member" and o.group_types == rule.group_types for o in rules
            )
        )
        if rule.group_source_path:
            for g in self.index.of_types(rule.group_types):
                primary = self._lookup(g.attributes.get(rule.group_source_path), member_types)
                members = groups.setdefault(f"res:{g.address}", [])
                if primary is not None and primary not in members:
                    members.append(primary)
        self._groups[rule.group_types] = groups
        return groups

    def _group_flows(self, r: Resource, rule: ReplicationRule) -> list[Flow]:
        """A member of a replication group receives the data of every other member."""
        arg = rule.path
        value = r.attributes.get(rule.path)
        if value is None or (isinstance(value, str) and not value):
            return []
        key, group = self._group_key(rule, value)
        others = [m for m in self._members(rule).get(key or "", []) if m.address != r.address]
        explain = r.location_note or r.region.explain()
        if not others:
            origin = _Origin(group)
            return [
                self._make(r, rule, arg, origin, r.region.region, r.address, r.location, explain)
            ]
        return [
            self._make(
                r,
                rule,
                arg,
                self._origin_of(m, r, rule, arg),
                r.region.region,
                r.address,
                r.location,
                explain,
            )
            for m in sorted(others, key=lambda m: m.address)
        ]
