"""The residency map's graph, built from a :class:`~ciiguard.model.ScanResult` and nothing else.

Nodes are the data-bearing resources (plus anything a flow starts or ends at), grouped by side of
the border (mainland China, outside, unknown), then cloud, then region. Edges are the replication,
copy and backup flows the scan resolved. A flow to a region where the configuration declares no
resource (a DynamoDB replica, a cross-region backup) gets a *replica* node in that region, so the
map shows every place the data ends up. Violations are linked to the nodes and edges they are about.
"""

from __future__ import annotations

import enum
import functools
import os
import posixpath
from collections.abc import Iterable
from dataclasses import dataclass

from ciiguard.model import Flow, Location, Resource, ScanIssue, ScanResult, Violation
from ciiguard.residency_map.names import cloud_of, region_name

SIDE_ORDER = (Location.MAINLAND, Location.OUTSIDE, Location.UNKNOWN)
SIDE_TITLES = {
    Location.MAINLAND: "Mainland China",
    Location.OUTSIDE: "Outside mainland China",
    Location.UNKNOWN: "Location unknown",
}
SIDE_NOTES = {
    Location.MAINLAND: "stays inside the mainland",
    Location.OUTSIDE: "Hong Kong, Macao and Taiwan count as outside",
    Location.UNKNOWN: "ciiguard cannot tell where this data lives (fail-closed)",
}


def flow_kind(flow: Flow) -> str:
    """The kind an arrow is labelled and aggregated by: the one place a flow's kind is read.

    That is the flow's kind (``FLOW_KINDS``: replication, backup, copy, stream, log-shipping,
    subscription, event-routing, migration, external-endpoint); the rule's finer name is its
    ``mechanism``.
    """
    return flow.kind


class NodeKind(str, enum.Enum):
    RESOURCE = "resource"  # a resource of the scanned configuration
    REPLICA = "replica"  # a place a flow sends data to, with no resource of its own in the config
    EXTERNAL = "external"  # a flow's source that lies outside the scanned configuration


class EdgeStatus(str, enum.Enum):
    """How a flow relates to the border. Only ``cross-border`` leaves mainland China."""

    CROSS_BORDER = "cross-border"  # mainland (or unknown origin) -> outside
    MAINLAND = "within-mainland"  # mainland -> mainland
    OUTSIDE = "outside"  # outside -> outside (the data is already abroad)
    INBOUND = "inbound"  # outside -> mainland
    UNKNOWN = "unknown"  # either end's location is unknown


@dataclass(frozen=True)
class MapViolation:
    """A scan violation with the map elements it is drawn on (none: listed apart from the map)."""

    id: str
    violation: Violation
    nodes: tuple[str, ...] = ()
    edges: tuple[str, ...] = ()

    @property
    def placed(self) -> bool:
        return bool(self.nodes or self.edges)


@dataclass(frozen=True)
class MapNode:
    id: str
    kind: NodeKind
    address: str
    label: str
    subtitle: str
    type: str
    cloud: str
    cloud_name: str
    region: str | None
    region_name: str | None
    location: Location
    location_note: str
    classification: str | None
    in_scope: bool
    data_bearing: bool
    file: str | None
    line: int | None
    input: str
    provenance: str
    scope_reason: str = ""
    violations: tuple[str, ...] = ()  # MapViolation ids: about this node or a flow it sends
    root: str = ""  # the root module directory (Terraform, Pulumi project) or input file
    name: str = ""  # what names it in its root: the address, or a Pulumi logical name
    type_label: str = ""  # its type as the user wrote it: a Terraform type or a Pulumi token

    @property
    def scope_label(self) -> str | None:
        """What the map calls its data: the classification, ``in scope`` when a workload-level
        switch (``--cii-workload``) put it in scope without one, None when not in scope."""
        if not self.in_scope:
            return None
        return self.classification or "in scope"

    @property
    def where(self) -> str | None:
        """``file:line`` of the source that declares the node, when known."""
        if not self.file:
            return None
        return f"{self.file}:{self.line}" if self.line else self.file

    @property
    def where_in_root(self) -> str | None:
        """``file:line`` relative to the root module when the file is inside it, else as ``where``.

        A root that is itself a file (a plan, a stack export, a ``Pulumi.yaml``) counts from its
        directory."""
        if not self.file:
            return None
        file, root = self.file, self.root
        if root and root != "." and root != file and not file.startswith(root + "/"):
            parent = posixpath.dirname(root)
            if "." in posixpath.basename(root) and file.startswith(parent + "/"):
                root = parent
        if root == file:
            file = posixpath.basename(file)
        elif root and root != "." and file.startswith(root + "/"):
            file = file[len(root) + 1 :]
        return f"{file}:{self.line}" if self.line else file

    @property
    def placement(self) -> str:
        """What places the node in the estate: its root module and ``file:line`` there."""
        where = self.where_in_root or ""
        if not self.root or self.root == self.file:
            return where
        return f"{self.root} · {where}" if where else self.root


@dataclass(frozen=True)
class MapEdge:
    id: str
    source: str
    target: str
    kind: str
    argument: str
    declared_by: str
    file: str | None
    line: int | None
    status: EdgeStatus
    destination: str | None
    destination_explain: str
    classified: bool  # the data that flows is in scope
    violations: tuple[str, ...] = ()

    @property
    def cross_border(self) -> bool:
        return self.status is EdgeStatus.CROSS_BORDER

    @property
    def where(self) -> str | None:
        if not self.file:
            return None
        return f"{self.file}:{self.line}" if self.line else self.file


@dataclass(frozen=True)
class RegionGroup:
    region: str | None
    name: str | None
    nodes: tuple[str, ...]

    @property
    def title(self) -> str:
        return self.region or "region not resolved"


@dataclass(frozen=True)
class CloudGroup:
    key: str
    name: str
    regions: tuple[RegionGroup, ...]


@dataclass(frozen=True)
class SideGroup:
    location: Location
    title: str
    note: str
    clouds: tuple[CloudGroup, ...]

    @property
    def nodes(self) -> tuple[str, ...]:
        return tuple(n for c in self.clouds for r in c.regions for n in r.nodes)


@dataclass
class _MapIndex:
    nodes: dict[str, MapNode]
    edges: dict[str, MapEdge]
    violations: dict[str, MapViolation]
    outgoing: dict[str, list[MapEdge]]
    incoming: dict[str, list[MapEdge]]


@dataclass(frozen=True)
class ResidencyMap:
    title: str
    sides: tuple[SideGroup, ...]
    nodes: tuple[MapNode, ...]
    edges: tuple[MapEdge, ...]
    violations: tuple[MapViolation, ...]
    errors: tuple[ScanIssue, ...] = ()
    warnings: tuple[ScanIssue, ...] = ()
    files: tuple[str, ...] = ()

    @functools.cached_property
    def _index(self) -> _MapIndex:
        """Lookups the renderers make per node and edge, built once (maps can be large)."""
        index = _MapIndex(
            nodes={n.id: n for n in self.nodes},
            edges={e.id: e for e in self.edges},
            violations={v.id: v for v in self.violations},
            outgoing={n.id: [] for n in self.nodes},
            incoming={n.id: [] for n in self.nodes},
        )
        for e in self.edges:
            index.outgoing[e.source].append(e)
            index.incoming[e.target].append(e)
        return index

    def node(self, node_id: str) -> MapNode:
        return self._index.nodes[node_id]

    def edge(self, edge_id: str) -> MapEdge:
        return self._index.edges[edge_id]

    def violation(self, violation_id: str) -> MapViolation:
        return self._index.violations[violation_id]

    def outgoing(self, node_id: str) -> list[MapEdge]:
        return self._index.outgoing[node_id]

    def incoming(self, node_id: str) -> list[MapEdge]:
        return self._index.incoming[node_id]

    def policies_of(self, node_id: str) -> tuple[str, ...]:
        """Policies violated by the node itself or by a flow into or out of it (for filtering)."""
        ids = set(self.node(node_id).violations)
        for e in self.outgoing(node_id) + self.incoming(node_id):
            ids.update(e.violations)
        return tuple(sorted({self.violation(i).violation.policy for i in ids}))

    def edge_policies(self, edge: MapEdge) -> tuple[str, ...]:
        return tuple(sorted({self.violation(i).violation.policy for i in edge.violations}))

    @property
    def complete(self) -> bool:
        """False when the scan had errors: the map may be missing resources."""
        return not self.errors

    @property
    def classifications(self) -> tuple[str, ...]:
        return tuple(sorted({n.classification for n in self.nodes if n.classification}))

    @property
    def policies(self) -> tuple[str, ...]:
        return tuple(sorted({v.violation.policy for v in self.violations}))

    @property
    def unplaced(self) -> tuple[MapViolation, ...]:
        return tuple(v for v in self.violations if not v.placed)

    def summary(self) -> str:
        resources = [n for n in self.nodes if n.kind is NodeKind.RESOURCE]
        classified = sum(1 for n in resources if n.in_scope)
        crossing = sum(1 for e in self.edges if e.cross_border)
        blocking = sum(1 for v in self.violations if v.violation.blocking)
        text = (
            f"{_count(len(resources), 'resource')} ({classified} classified), "
            f"{_count(len(self.edges), 'flow')} ({crossing} cross-border), "
            f"{_count(len(self.violations), 'violation')} ({blocking} blocking)"
        )
        if self.errors:
            text += f"; INCOMPLETE: {_count(len(self.errors), 'scan error')}"
        return text


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


# -- building -----------------------------------------------------------------------------------

_Key = tuple[str, ...]


@dataclass
class _Draft:
    """A node before ids are assigned (ids follow the final, sorted order)."""

    key: _Key
    kind: NodeKind
    address: str
    label: str
    subtitle: str
    type: str
    provider: str
    region: str | None
    location: Location
    location_note: str
    classification: str | None
    in_scope: bool
    data_bearing: bool
    file: str | None
    line: int | None
    input: str
    provenance: str
    scope_reason: str = ""
    root: str = ""
    name: str = ""
    type_label: str = ""


@dataclass
class _DraftEdge:
    source: _Key
    target: _Key
    flow: Flow
    declarer: _Key
    classified: bool


def _rkey(r: Resource) -> _Key:
    return ("resource", r.root, r.address, r.file or "")


def _shared_dirs(a: str | None, b: str | None) -> int:
    if not a or not b:
        return 0
    n = 0
    for x, y in zip(os.path.dirname(a).split("/"), os.path.dirname(b).split("/"), strict=False):
        if x != y:
            break
        n += 1
    return n


class _Index:
    """Addresses are unique only within one root: look up in the referrer's root, then nearest file."""

    def __init__(self, resources: Iterable[Resource]) -> None:
        self.by_address: dict[str, list[Resource]] = {}
        self.by_root: dict[tuple[str, str], list[Resource]] = {}
        for r in resources:
            self.by_address.setdefault(r.address, []).append(r)
            self.by_root.setdefault((r.address, r.root), []).append(r)

    def pick(self, address: str | None, root: str | None, near: str | None) -> Resource | None:
        if not address:
            return None
        cands = self.by_address.get(address, [])
        if root is not None and len(cands) > 1:
            cands = self.by_root.get((address, root)) or cands
        exact = [c for c in cands if near is not None and c.file == near]
        if exact:
            return exact[0]
        best = cands[0] if cands else None
        for c in cands[1:]:
            if _shared_dirs(c.file, near) > _shared_dirs(best.file if best else None, near):
                best = c
        return best


def _resource_draft(r: Resource) -> _Draft:
    pulumi_name = r.meta.get("pulumi_name") if r.meta else None
    pulumi_type = r.meta.get("pulumi_type") if r.meta else None
    return _Draft(
        key=_rkey(r),
        kind=NodeKind.RESOURCE,
        address=r.address,
        label=r.label,
        subtitle=r.type,
        type=r.type,
        provider=r.provider,
        region=r.region.region,
        location=r.location,
        location_note=r.location_note,
        classification=r.classification if r.in_scope else None,
        in_scope=r.in_scope,
        data_bearing=r.data_bearing,
        file=r.file,
        line=r.line,
        input=r.input,
        provenance=r.region.explain(),
        scope_reason=r.scope_reason or "",
        root=r.root,
        name=pulumi_name if isinstance(pulumi_name, str) and pulumi_name else r.address,
        type_label=pulumi_type if isinstance(pulumi_type, str) and pulumi_type else r.type,
    )


def _replica_draft(source: _Draft, declarer: Resource, flow: Flow) -> _Draft:
    region = flow.destination
    if region and (region.startswith("arn:") or "://" in region or region == flow.destination_name):
        region = None  # an ARN, URL, host or address that names no region: the group says so
    kind = flow_kind(flow)
    what = "destination not known" if flow.destination_location is Location.UNKNOWN else kind
    return _Draft(
        key=("replica", *source.key, flow.destination or "", flow.provider),
        kind=NodeKind.REPLICA,
        address=f"{source.address} ({kind} in {flow.destination or 'unknown region'})",
        label=source.label,
        subtitle=f"{what} via {declarer.address}.{flow.argument}"
        if declarer.address != source.address
        else f"{what} via {flow.argument}",
        type=source.type,
        provider=flow.provider or source.provider,
        region=region,
        location=flow.destination_location,
        location_note=flow.destination_explain,
        classification=source.classification,
        in_scope=source.in_scope,
        data_bearing=True,
        file=flow.file,
        line=flow.line,
        input=declarer.input,
        provenance=flow.destination_explain,
        scope_reason=f"a replica holds what {source.address} holds" if source.in_scope else "",
        root=declarer.root,
        name=source.name,
        type_label=source.type_label,
    )


def _origin_draft(declarer: Resource, flow: Flow) -> _Draft:
    """Where a flow's data comes from when no resource of the configuration holds it there."""
    where = flow.source_region or "an unknown region"
    return _Draft(
        key=("origin", *_rkey(declarer), flow.argument, flow.source_region or ""),
        kind=NodeKind.EXTERNAL,
        address=f"source of {declarer.address}.{flow.argument}",
        label="data from outside this configuration",
        subtitle=f"source of {declarer.address}.{flow.argument}",
        type="",
        provider=flow.provider or declarer.provider,
        region=flow.source_region,
        location=flow.source_location,
        location_note=f"the flow names its origin only by region ({where})"
        if flow.source_region
        else "the origin is not a resource of the scanned configuration",
        classification=declarer.classification if declarer.in_scope else None,
        in_scope=declarer.in_scope,
        data_bearing=True,
        file=flow.file,
        line=flow.line,
        input=declarer.input,
        provenance="",
        root=declarer.root,
        name=f"source of {declarer.address}.{flow.argument}",
    )


def _status(src: Location, dst: Location) -> EdgeStatus:
    # As the gate judges it (CII002): data not already abroad that lands outside leaves the
    # mainland; an origin ciiguard cannot place counts as inside (fail-closed).
    if dst is Location.OUTSIDE and src is not Location.OUTSIDE:
        return EdgeStatus.CROSS_BORDER
    if Location.UNKNOWN in (src, dst):
        return EdgeStatus.UNKNOWN
    if src is dst:
        return EdgeStatus.MAINLAND if src is Location.MAINLAND else EdgeStatus.OUTSIDE
    return EdgeStatus.INBOUND


def _sort_key(d: _Draft) -> tuple[int, str, int, str, str, str, str]:
    cloud = cloud_of(d.provider)
    return (
        SIDE_ORDER.index(d.location),
        cloud.name.lower(),
        0 if d.region else 1,
        d.region or "",
        d.label,
        d.subtitle,
        "\0".join(d.key),
    )


def build_map(result: ScanResult, title: str = "Residency map") -> ResidencyMap:
    """The residency map of a finished scan (any input format: the scan already normalised it)."""
    index = _Index(result.resources)
    drafts: dict[_Key, _Draft] = {}
    draft_edges: list[_DraftEdge] = []
    for r in result.resources:
        if r.data_bearing:
            drafts[_rkey(r)] = _resource_draft(r)
    for declarer in result.resources:
        for flow in declarer.flows:
            src = index.pick(flow.source, declarer.root, declarer.file)
            dst = index.pick(flow.destination_resource, declarer.root, declarer.file)
            if src is not None and src is dst:
                continue  # a resource "replicating" into itself draws nothing
            if src is not None and flow.source_region not in (None, src.region.region):
                src = None  # the declarer names the origin by region (e.g. a sync job's endpoint)
            if src is not None:
                src_draft = drafts.get(_rkey(src)) or drafts.setdefault(
                    _rkey(src), _resource_draft(src)
                )
            else:
                ext = _origin_draft(declarer, flow)
                src_draft = drafts.setdefault(ext.key, ext)
            if dst is not None:
                dst_draft = drafts.get(_rkey(dst)) or drafts.setdefault(
                    _rkey(dst), _resource_draft(dst)
                )
            else:
                rep = _replica_draft(src_draft, declarer, flow)
                dst_draft = drafts.setdefault(rep.key, rep)
            draft_edges.append(
                _DraftEdge(src_draft.key, dst_draft.key, flow, _rkey(declarer), src_draft.in_scope)
            )

    ordered = sorted(drafts.values(), key=_sort_key)
    ids = {d.key: f"n{i}" for i, d in enumerate(ordered, 1)}
    order = {d.key: i for i, d in enumerate(ordered)}
    by_key = {d.key: d for d in ordered}

    seen: set[tuple[_Key, _Key, str, _Key, str]] = set()
    unique: list[_DraftEdge] = []
    for de in sorted(
        draft_edges,
        key=lambda e: (
            order[e.source],
            order[e.target],
            flow_kind(e.flow),
            e.flow.argument,
            e.declarer,
        ),
    ):
        ident = (de.source, de.target, flow_kind(de.flow), de.declarer, de.flow.argument)
        if ident not in seen:
            seen.add(ident)
            unique.append(de)
    edge_ids = [f"e{i}" for i in range(1, len(unique) + 1)]

    placed = _place_violations(result.violations, index, ids, unique, edge_ids)

    node_violations: dict[str, list[str]] = {}
    edge_violations: dict[str, list[str]] = {}
    for mv in placed:
        for n in mv.nodes:
            node_violations.setdefault(n, []).append(mv.id)
        for e in mv.edges:
            edge_violations.setdefault(e, []).append(mv.id)

    nodes = tuple(
        _finish(d, ids[d.key], tuple(node_violations.get(ids[d.key], ()))) for d in ordered
    )
    edges = tuple(
        MapEdge(
            id=eid,
            source=ids[de.source],
            target=ids[de.target],
            kind=flow_kind(de.flow),
            argument=de.flow.argument,
            declared_by=de.flow.declared_by,
            file=de.flow.file,
            line=de.flow.line,
            status=_status(by_key[de.source].location, by_key[de.target].location),
            destination=de.flow.destination,
            destination_explain=de.flow.destination_explain,
            classified=de.classified,
            violations=tuple(edge_violations.get(eid, ())),
        )
        for eid, de in zip(edge_ids, unique, strict=True)
    )
    return ResidencyMap(
        title=title,
        sides=_group(nodes),
        nodes=nodes,
        edges=edges,
        violations=placed,
        errors=tuple(result.errors),
        warnings=tuple(result.warnings),
        files=tuple(result.files),
    )


def _finish(d: _Draft, node_id: str, violations: tuple[str, ...]) -> MapNode:
    cloud = cloud_of(d.provider)
    return MapNode(
        id=node_id,
        kind=d.kind,
        address=d.address,
        label=d.label,
        subtitle=d.subtitle,
        type=d.type,
        cloud=cloud.key,
        cloud_name=cloud.name,
        region=d.region,
        region_name=region_name(cloud.key, d.region),
        location=d.location,
        location_note=d.location_note,
        classification=d.classification,
        in_scope=d.in_scope,
        data_bearing=d.data_bearing,
        file=d.file,
        line=d.line,
        input=d.input,
        provenance=d.provenance,
        scope_reason=d.scope_reason,
        violations=violations,
        root=d.root,
        name=d.name or d.address,
        type_label=d.type_label or d.type,
    )


def _place_violations(
    violations: Iterable[Violation],
    index: _Index,
    ids: dict[_Key, str],
    edges: list[_DraftEdge],
    edge_ids: list[str],
) -> tuple[MapViolation, ...]:
    """Link each violation to the node it is about, or to the flows its resource declares.

    A finding on the resource itself (its own line and region) goes on its node. A finding on a
    flow (the flow's line, and its destination when the finding names one) goes on that edge and on
    the node whose data flows. A finding on a resource that is not drawn (say a replication
    configuration) goes on the flows that resource declares; anything else is listed apart.
    """
    by_declarer: dict[_Key, list[tuple[str, _DraftEdge]]] = {}
    for eid, de in zip(edge_ids, edges, strict=True):
        by_declarer.setdefault(de.declarer, []).append((eid, de))
    out: list[MapViolation] = []
    for i, v in enumerate(violations, 1):
        res = index.pick(v.resource, None, v.file)
        node = ids.get(_rkey(res)) if res is not None else None
        declared = by_declarer.get(_rkey(res), []) if res is not None else []
        about_node = (
            res is not None
            and node is not None
            and (v.line, v.region) == (res.line, res.region.region)
        )
        matched: list[tuple[str, _DraftEdge]] = []
        if not about_node:
            matched = [
                (eid, de)
                for eid, de in declared
                if de.flow.line == v.line
                and (de.flow.destination is None or de.flow.destination == v.region)
            ]
            if not matched and node is None:
                matched = declared
        nodes = [node] if node is not None and (about_node or not matched) else []
        for _, de in matched:
            if ids[de.source] not in nodes:
                nodes.append(ids[de.source])
        out.append(
            MapViolation(
                id=f"v{i}",
                violation=v,
                nodes=tuple(nodes),
                edges=tuple(eid for eid, _ in matched),
            )
        )
    return tuple(out)


def _group(nodes: tuple[MapNode, ...]) -> tuple[SideGroup, ...]:
    sides: list[SideGroup] = []
    for loc in SIDE_ORDER:
        on_side = [n for n in nodes if n.location is loc]
        if loc is Location.UNKNOWN and not on_side:
            continue
        clouds: list[CloudGroup] = []
        for key in dict.fromkeys(n.cloud for n in on_side):
            in_cloud = [n for n in on_side if n.cloud == key]
            regions: list[RegionGroup] = []
            for region in dict.fromkeys(n.region for n in in_cloud):
                members = tuple(n.id for n in in_cloud if n.region == region)
                name = next(n.region_name for n in in_cloud if n.region == region)
                regions.append(RegionGroup(region, name, members))
            clouds.append(CloudGroup(key, in_cloud[0].cloud_name, tuple(regions)))
        sides.append(SideGroup(loc, SIDE_TITLES[loc], SIDE_NOTES[loc], tuple(clouds)))
    return tuple(sides)
