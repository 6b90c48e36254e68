"""The map at a level of detail: the summary, root modules, or every resource.

A real estate has thousands of resources in a handful of regions, so the map summarises first:
one unit per (cloud, region) with counts by classification and by verdict, and the flows between
two units folded into one weighted arrow (how many, of which kinds, the worst verdict). Opening a
region shows its root modules, and a root module its resources. Every renderer draws a
:class:`View`; the HTML page carries all three levels and expands on demand.
"""

from __future__ import annotations

import enum
import functools
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from ciiguard.model import Location
from ciiguard.residency_map.model import EdgeStatus, MapNode, NodeKind, ResidencyMap
from ciiguard.residency_map.style import flag_rank, location_word, violation_flag


class Detail(str, enum.Enum):
    """How far the static formats open the map (``ciiguard map --detail``)."""

    SUMMARY = "summary"  # one unit per (cloud, region)
    ROOTS = "roots"  # regions opened: one unit per root module
    RESOURCES = "resources"  # root modules opened: one unit per resource


# What a level that does not fit falls back to, most detailed first.
COARSER = {Detail.RESOURCES: Detail.ROOTS, Detail.ROOTS: Detail.SUMMARY}

PASS = "pass"  # the verdict of a node no violation is about
NOT_IN_SCOPE = "not in scope"

# The worst of several statuses, for an arrow that folds flows together (they normally agree:
# both ends of every folded flow sit on the same two sides of the border).
_STATUS_RANK = {
    EdgeStatus.CROSS_BORDER: 0,
    EdgeStatus.UNKNOWN: 1,
    EdgeStatus.INBOUND: 2,
    EdgeStatus.OUTSIDE: 3,
    EdgeStatus.MAINLAND: 4,
}
_CLASSIFICATION_ORDER = ("core", "important", "sensitive-personal", "personal")


def verdict_rank(verdict: str) -> int:
    """Most serious first; ``pass`` after every flag."""
    return 9 if verdict == PASS else flag_rank(verdict)


def worst_verdict(verdicts: Iterable[str]) -> str:
    return min(verdicts, key=lambda v: (verdict_rank(v), v), default=PASS)


@dataclass(frozen=True)
class Tally:
    """What a unit holds, counted: resources, replicas and outside origins, root modules."""

    resources: int
    replicas: int  # places a flow sends data to, with no resource of their own in the config
    origins: int  # sources of flows outside the scanned configuration
    roots: int
    classifications: tuple[tuple[str, int], ...]  # most sensitive first; "not in scope" last
    verdicts: tuple[tuple[str, int], ...]  # most serious first; "pass" last

    @property
    def places(self) -> int:
        return self.replicas + self.origins

    @property
    def verdict(self) -> str:
        return self.verdicts[0][0] if self.verdicts else PASS

    def describe(self) -> str:
        """One line: ``12 resources, 1 replica · 3 root modules``."""
        parts = [_count(self.resources, "resource")]
        if self.replicas:
            parts.append(_count(self.replicas, "replica"))
        if self.origins:
            parts.append(_count(self.origins, "outside source"))
        text = ", ".join(parts)
        return text + (f" · {self.roots:,} root modules" if self.roots > 1 else "")


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


@dataclass(frozen=True)
class Unit:
    """One box of the drawn level: a region (summary), a root module (roots) or a node."""

    id: str  # SVG/Mermaid/DOT id, never user text
    key: str  # the deep link: "mainland/aws/cn-north-1", that plus "|" and the root, a node id
    level: Detail
    location: Location
    cloud: str
    cloud_name: str
    region: str | None
    region_name: str | None
    root: str | None  # roots and resources levels
    nodes: tuple[str, ...]  # the map nodes inside
    tally: Tally

    @property
    def region_title(self) -> str:
        return self.region or "region not resolved"


@dataclass(frozen=True)
class Arrow:
    """The flows between two units, folded into one: how many, of which kinds, how bad."""

    id: str
    source: str  # unit ids
    target: str
    edges: tuple[str, ...]  # map edge ids
    kinds: tuple[str, ...]
    status: EdgeStatus
    verdict: str
    classified: bool
    policies: tuple[str, ...]

    @property
    def count(self) -> int:
        return len(self.edges)

    @property
    def cross_border(self) -> bool:
        return self.status is EdgeStatus.CROSS_BORDER

    def label(self, max_kinds: int = 2) -> str:
        """``3 flows: replication, replica`` (kinds past ``max_kinds`` as ``+n``)."""
        kinds = ", ".join(self.kinds[:max_kinds])
        if len(self.kinds) > max_kinds:
            kinds += f" +{len(self.kinds) - max_kinds}"
        return f"{self.count:,} {'flow' if self.count == 1 else 'flows'}: {kinds}"


@dataclass(frozen=True)
class RootView:
    unit: Unit  # the root module as a unit (roots level)
    nodes: tuple[Unit, ...]  # its nodes as units (resources level only)


@dataclass(frozen=True)
class RegionView:
    unit: Unit  # the region as a unit (summary level)
    roots: tuple[RootView, ...]  # opened at the roots and resources levels only


@dataclass(frozen=True)
class CloudView:
    key: str
    name: str
    regions: tuple[RegionView, ...]


@dataclass(frozen=True)
class SideView:
    location: Location
    title: str
    note: str
    clouds: tuple[CloudView, ...]


@dataclass(frozen=True)
class View:
    """The map at one level: the nesting (side, cloud, region, root) and the arrows between units."""

    map: ResidencyMap
    detail: Detail
    sides: tuple[SideView, ...]
    units: tuple[Unit, ...]  # the drawn units, in drawing order
    arrows: tuple[Arrow, ...]
    inner_flows: dict[str, int]  # unit id -> flows with both ends inside it (not drawn as arrows)
    fallback: str = ""  # why this is coarser than asked for, shown on the map

    def unit(self, unit_id: str) -> Unit:
        return self._units[unit_id]

    @functools.cached_property
    def _units(self) -> dict[str, Unit]:
        return {u.id: u for u in self.units}


def node_verdicts(m: ResidencyMap) -> dict[str, str]:
    """Each node's verdict: the worst flag of the violations about it, the flows it sends, and
    the flows that reach it (a replica abroad is as bad as the transfer that put it there)."""
    out: dict[str, str] = {}
    flags = {v.id: violation_flag(v.violation) for v in m.violations}
    for node in m.nodes:
        ids = set(node.violations)
        for e in m.incoming(node.id):
            ids.update(e.violations)
        out[node.id] = worst_verdict(flags[i] for i in ids)
    return out


def edge_verdict(m: ResidencyMap, edge_violations: Iterable[str]) -> str:
    return worst_verdict(violation_flag(m.violation(i).violation) for i in edge_violations)


def tally(nodes: Iterable[MapNode], verdicts: dict[str, str]) -> Tally:
    resources = replicas = origins = 0
    classes: Counter[str] = Counter()
    flags: Counter[str] = Counter()
    roots: set[str] = set()
    for n in nodes:
        if n.kind is NodeKind.RESOURCE:
            resources += 1
        elif n.kind is NodeKind.REPLICA:
            replicas += 1
        else:
            origins += 1
        roots.add(n.root)
        classes[n.scope_label or NOT_IN_SCOPE] += 1
        flags[verdicts[n.id]] += 1
    order = {c: i for i, c in enumerate(_CLASSIFICATION_ORDER)}
    return Tally(
        resources=resources,
        replicas=replicas,
        origins=origins,
        roots=len(roots),
        classifications=tuple(
            sorted(
                classes.items(),
                key=lambda kv: (kv[0] == NOT_IN_SCOPE, order.get(kv[0], -1), kv[0]),
            )
        ),
        verdicts=tuple(sorted(flags.items(), key=lambda kv: (verdict_rank(kv[0]), kv[0]))),
    )


def region_key(location: Location, cloud: str, region: str | None) -> str:
    return f"{location.value}/{cloud}/{region or ''}"


def build_view(m: ResidencyMap, detail: Detail = Detail.SUMMARY) -> View:
    """The map at ``detail``: units nested side > cloud > region > root, and folded arrows."""
    verdicts = node_verdicts(m)
    sides: list[SideView] = []
    owner: dict[str, str] = {}  # node id -> the id of the unit drawn for it
    drawn: list[Unit] = []
    ri = 0
    for side in m.sides:
        clouds: list[CloudView] = []
        for cloud in side.clouds:
            regions: list[RegionView] = []
            for region in cloud.regions:
                ri += 1
                members = [m.node(n) for n in region.nodes]
                rkey = region_key(side.location, cloud.key, region.region)

                def unit(
                    uid: str, key: str, level: Detail, root: str | None, nodes: list[MapNode]
                ) -> Unit:
                    return Unit(
                        id=uid,
                        key=key,
                        level=level,
                        location=side.location,  # noqa: B023 - called within this iteration
                        cloud=cloud.key,  # noqa: B023
                        cloud_name=cloud.name,  # noqa: B023
                        region=region.region,  # noqa: B023
                        region_name=region.name,  # noqa: B023
                        root=root,
                        nodes=tuple(n.id for n in nodes),
                        tally=tally(nodes, verdicts),
                    )

                runit = unit(f"u{ri}", rkey, Detail.SUMMARY, None, members)
                by_root: dict[str, list[MapNode]] = {}
                if detail is not Detail.SUMMARY:  # opened regions only: a unit costs
                    for n in members:
                        by_root.setdefault(n.root, []).append(n)
                roots: list[RootView] = []
                for rj, root in enumerate(sorted(by_root), 1):
                    in_root = by_root[root]
                    root_unit = unit(f"u{ri}-{rj}", f"{rkey}|{root}", Detail.ROOTS, root, in_root)
                    node_units = (
                        tuple(unit(n.id, n.id, Detail.RESOURCES, root, [n]) for n in in_root)
                        if detail is Detail.RESOURCES
                        else ()
                    )
                    roots.append(RootView(root_unit, node_units))
                regions.append(RegionView(runit, tuple(roots)))
                if detail is Detail.SUMMARY:
                    drawn.append(runit)
                    owner.update((n, runit.id) for n in region.nodes)
                for rg in roots:
                    if detail is Detail.ROOTS:
                        drawn.append(rg.unit)
                        owner.update((n, rg.unit.id) for n in rg.unit.nodes)
                    elif detail is Detail.RESOURCES:
                        drawn.extend(rg.nodes)
                        owner.update((u.id, u.id) for u in rg.nodes)
            clouds.append(CloudView(cloud.key, cloud.name, tuple(regions)))
        sides.append(SideView(side.location, side.title, side.note, tuple(clouds)))

    inner: Counter[str] = Counter()
    folded: dict[tuple[str, str], list[str]] = {}
    for e in m.edges:
        a, b = owner[e.source], owner[e.target]
        if a == b and detail is not Detail.RESOURCES:
            inner[a] += 1
        else:
            folded.setdefault((a, b), []).append(e.id)
    edges = {e.id: e for e in m.edges}
    arrows: list[Arrow] = []
    for i, ((a, b), ids) in enumerate(folded.items(), 1):
        group = [edges[x] for x in ids]
        violation_ids = [v for e in group for v in e.violations]
        arrows.append(
            Arrow(
                id=f"a{i}",
                source=a,
                target=b,
                edges=tuple(ids),
                kinds=tuple(sorted({e.kind for e in group})),
                status=min((e.status for e in group), key=lambda s: _STATUS_RANK[s]),
                verdict=edge_verdict(m, violation_ids),
                classified=any(e.classified for e in group),
                policies=tuple(sorted({m.violation(v).violation.policy for v in violation_ids})),
            )
        )
    return View(m, detail, tuple(sides), tuple(drawn), tuple(arrows), dict(inner))


def unit_details(v: View, unit: Unit) -> list[str]:
    """Plain-text lines describing a region or root unit (tooltips; the HTML panel's heading)."""
    where = unit.region_title + (f" ({unit.region_name})" if unit.region_name else "")
    lines = [f"{unit.cloud_name} {where}: {location_word(unit.location)}"]
    if unit.root is not None:
        lines.append(f"root module: {unit.root or '.'}")
    lines.append(unit.tally.describe())
    lines.append(" · ".join(f"{c} {n:,}" for c, n in unit.tally.classifications))
    lines.append(" · ".join(f"{n:,} {verdict}" for verdict, n in unit.tally.verdicts))
    inner = v.inner_flows.get(unit.id, 0)
    if inner:
        lines.append(f"{inner:,} flows stay inside")
    return lines


def arrow_details(v: View, arrow: Arrow, shown: int = 5) -> list[str]:
    """Plain-text lines describing an arrow: its flows counted, and the first few of them."""
    m = v.map
    src, dst = v.unit(arrow.source), v.unit(arrow.target)
    lines = [
        f"{arrow.count:,} {'flow' if arrow.count == 1 else 'flows'} ({arrow.status.value}): "
        f"{_unit_name(m, src)} -> {_unit_name(m, dst)}",
        "kinds: " + ", ".join(arrow.kinds),
        f"verdict: {arrow.verdict}" + (f" ({', '.join(arrow.policies)})" if arrow.policies else ""),
    ]
    for eid in arrow.edges[:shown]:
        e = m.edge(eid)
        where = f" at {e.where}" if e.where else ""
        lines.append(
            f"  {e.kind}: {m.node(e.source).label} -> {m.node(e.target).label}"
            f" (declared by {e.declared_by}.{e.argument}{where})"
        )
    if arrow.count > shown:
        lines.append(f"  and {arrow.count - shown:,} more")
    return lines


def _unit_name(m: ResidencyMap, unit: Unit) -> str:
    if unit.level is Detail.RESOURCES:
        return m.node(unit.id).label
    where = f"{unit.cloud_name} {unit.region_title}"
    return f"{where} {unit.root or '.'}" if unit.level is Detail.ROOTS else where
