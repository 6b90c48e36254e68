"""Regions and tags of resources that live inside another resource (an Azure SQL database on
its server, an Alibaba SLS logstore in its project).

Such a resource has no region argument of its own: it is where its parent is. The catalogue names
the argument that points at the parent (``region_from``); the region and its chain are the parent's.
A resource that takes no tags is classified by its parent's (``tags_from``).
"""

from __future__ import annotations

import dataclasses

from ciiguard.catalogue import Catalogue
from ciiguard.model import Hop, RegionInfo, Resource
from ciiguard.resolve.flows import ResourceIndex, refs_in


def _indexes(resources: list[Resource]) -> dict[str, ResourceIndex]:
    """One lookup index per root module: a parent is looked up within its child's root."""
    by_root: dict[str, list[Resource]] = {}
    for r in resources:
        by_root.setdefault(r.root, []).append(r)
    return {root: ResourceIndex.build(group) for root, group in by_root.items()}


def inherit_regions(resources: list[Resource], catalogue: Catalogue) -> list[Resource]:
    """Give each resource whose catalogue entry says so the region of the parent it references."""
    if not catalogue.region_from or not any(r.type in catalogue.region_from for r in resources):
        return resources
    index = _indexes(resources)
    out = []
    for r in resources:
        path = catalogue.region_from.get(r.type)
        value = r.attributes.get(path) if path else None
        parents = index[r.root].resolve(refs_in(value)) if path else []
        types = catalogue.region_from_types.get(r.type, ())
        if not parents and isinstance(value, str) and types:  # a name, not a reference
            parents = index[r.root].by_name(value.rstrip("/").rsplit("/", 1)[-1], types)
        parent = parents[0] if parents else None
        if parent is None or parent.type in catalogue.region_from:
            out.append(r)
            continue
        hop = Hop(f"{path} of {r.address}: lives in {parent.address}", r.file, r.line)
        region = RegionInfo(
            parent.region.region, (hop, *parent.region.provenance), parent.region.unknown_reason
        )
        out.append(dataclasses.replace(r, region=region))
    return out


def inherit_tags(resources: list[Resource], catalogue: Catalogue) -> list[Resource]:
    """Give each resource of a ``tags_from`` type that has no tags of its own the tags of the
    parent it names (by reference, else by name among the parent types): an SLS logstore takes
    no tags, so a classified project's logstores hold its classification."""
    if not catalogue.tags_from or not any(r.type in catalogue.tags_from for r in resources):
        return resources
    index = _indexes(resources)
    out = []
    for r in resources:
        spec = catalogue.tags_from.get(r.type)
        if spec is None or r.tags:  # its own tags (or an unknown value standing for them)
            out.append(r)
            continue
        paths, types = spec
        parent = None
        for path in paths:
            value = r.attributes.get(path)
            found = index[r.root].resolve(refs_in(value), types)
            if not found and isinstance(value, str) and types:  # a name, not a reference
                found = index[r.root].by_name(value, types)
            if found:
                parent = found[0]
                break
        out.append(dataclasses.replace(r, tags=parent.tags) if parent is not None else r)
    return out
