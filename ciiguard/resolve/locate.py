"""Resolution: each parsed resource's location verdict, data-bearing and scope, then its flows.

Enters: the parsers' resources (each with its region and provenance). Leaves: the same resources
with ``location``, ``data_bearing``, ``in_scope``/``classification`` and ``flows`` set, once, so
every policy and every plugin sees the same answer.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from ciiguard.catalogue import Catalogue
from ciiguard.model import RECEIVES_DATA, Resource, evolve
from ciiguard.resolve.classify import Classification, classify_by_tags
from ciiguard.resolve.flows import FlowBuilder, ResourceIndex
from ciiguard.resolve.parent_region import inherit_regions, inherit_tags
from ciiguard.settings import Settings


def resolve(
    resources: list[Resource],
    settings: Settings,
    catalogue: Catalogue,
    classify: Callable[[Resource], Classification | None] | None = None,
    consume: bool = False,
) -> list[Resource]:
    """Location verdicts, data-bearing and scope, then flows (which need the others' locations).

    ``classify`` is the plugins' ``ciiguard_classify`` hook (None: no plugin implements it);
    where it answers nothing (or not a ``Classification``), the tag convention decides.
    ``consume``: the caller hands the list over, and it is emptied as soon as its resources have
    their located copies (a big scan then never holds both generations through the rest of
    resolution).
    """
    located: list[Resource] = []
    # a resource of a package ciiguard does not know is in scope only by its own tag: whether it
    # holds data is unknown, so a CII workload does not put it there
    tagged_only = dataclasses.replace(settings, cii_workload=False)
    for r in inherit_regions(inherit_tags(resources, catalogue), catalogue):
        if r.region.region is not None:
            loc, note = catalogue.location(r.provider, r.region.region)
        else:
            why = r.region.unknown_reason or "region unknown"
            loc, note = catalogue.unknown_region_location(r.provider, why)
        data = catalogue.is_data_bearing(r.type)
        if not data and type(r.meta) is dict and "unknown_package" in r.meta:
            cls = classify_by_tags(r, tagged_only)
            r = evolve(r, location=loc, location_note=note, data_bearing=data,
                       in_scope=cls.in_scope, classification=cls.value,
                       scope_reason=cls.reason)  # fmt: skip
        elif not data and r.type not in catalogue.located_by:
            r = evolve(r, location=loc, location_note=note, data_bearing=data)
        elif classify is None:  # the tag convention reads the tags alone: one copy
            cls = classify_by_tags(r, settings)
            r = evolve(r, location=loc, location_note=note, data_bearing=data,
                       in_scope=cls.in_scope, classification=cls.value,
                       scope_reason=cls.reason)  # fmt: skip
        else:  # what stands for storage is classified too; a plugin sees the located resource
            r = evolve(r, location=loc, location_note=note, data_bearing=data)
            answer = classify(r)
            cls = answer if isinstance(answer, Classification) else classify_by_tags(r, settings)
            r = evolve(r, in_scope=cls.in_scope, classification=cls.value, scope_reason=cls.reason)
        located.append(r)
    if consume:
        resources.clear()
    by_root: dict[str, list[Resource]] = {}
    for r in located:
        by_root.setdefault(r.root, []).append(r)
    out: list[Resource] = []
    for group in by_root.values():  # addresses are unique only within one root
        group = _stand_for_storage(group, catalogue, settings)
        builder = FlowBuilder(catalogue, ResourceIndex.build(group), settings.endpoints)
        with_flows = []
        for r in group:
            flows = builder.flows_of(r)
            with_flows.append(evolve(r, flows=flows) if flows else r)
        out.extend(_propagate_replica_scope(with_flows, settings))
    return out


def _stand_for_storage(
    group: list[Resource], catalogue: Catalogue, settings: Settings
) -> list[Resource]:
    """Resources that stand for storage they name (``located_by``: a DMS endpoint, a DataSync
    location) take its location and scope; a few rounds, as one may stand for another."""
    if not any(r.type in catalogue.located_by for r in group):
        return group
    original = {r.address: r for r in group}
    for _ in range(3):
        builder = FlowBuilder(catalogue, ResourceIndex.build(group), settings.endpoints)
        changed = False
        out = []
        for r in group:
            found = builder.located(original[r.address]) if r.type in catalogue.located_by else None
            if found is not None and (
                found.location,
                found.region,
                found.in_scope,
            ) != (r.location, r.region, r.in_scope):
                changed = True
            out.append(found if found is not None else r)
        group = out
        if not changed:
            break
    return group


def _propagate_replica_scope(resources: list[Resource], settings: Settings) -> list[Resource]:
    """A replica holds what its source holds: destinations of in-scope flows of every kind (a
    stream's bucket, a subscription's queue) become in scope. A flow's data is in scope when its
    source is, or when the resource declaring it is tagged so (a tagged data collection rule)."""
    by_addr = {r.address: r for r in resources}
    tag_of: dict[str, str | None] = {}  # address -> the in-scope classification its own tag gives

    def _tag_of(r: Resource) -> str | None:
        if r.address not in tag_of:
            own = classify_by_tags(r, settings).value
            tag_of[r.address] = own if own in settings.in_scope_values else None
        return tag_of[r.address]

    changed = True
    rounds = 0
    while changed and rounds < 8:
        changed = False
        rounds += 1
        for r in list(by_addr.values()):
            for f in r.flows:
                src = by_addr.get(f.source) if f.source else None
                dest = by_addr.get(f.destination_resource) if f.destination_resource else None
                if dest is None or dest is src or dest.in_scope:
                    continue
                cls: str | None
                if src is not None and src.in_scope:
                    origin, cls = src.address, src.classification
                elif src is not None and src is not r and (from_tag := _tag_of(src)) is not None:
                    # a source that holds no data of its own but handles it (an API, a contact
                    # centre) is in scope by its tag, as CII002 judges its flows
                    origin, cls = src.address, from_tag
                elif (own_tag := _tag_of(r)) is not None:
                    origin, cls = r.address, own_tag
                else:
                    continue
                if dest.address == r.address and origin == r.address:
                    continue
                by_addr[dest.address] = dataclasses.replace(
                    dest,
                    in_scope=True,
                    # what it receives, not its own out-of-scope tag ("internal")
                    classification=cls,
                    data_bearing=True,
                    scope_reason=f"{RECEIVES_DATA} {origin} ({f.kind})",
                )
                changed = True
    return [by_addr[r.address] for r in resources]
