"""Regions of resources that live inside another resource (an Azure SQL database on its server).

Such a resource has no region argument of its own: it is where its parent is. The catalogue names
the argument that points at the parent (``region_from``); the region and its chain are the parent's.
"""

from __future__ import annotations

import dataclasses

from ciiguard.catalogue import Catalogue
from ciiguard.model import Hop, RegionInfo, Resource
from ciiguard.resolve.flows import ResourceIndex, refs_in


def inherit_regions(resources: list[Resource], catalogue: Catalogue) -> list[Resource]:
    """Give each resource whose catalogue entry says so the region of the parent it references."""
    if not catalogue.region_from or not any(r.type in catalogue.region_from for r in resources):
        return resources
    by_root: dict[str, list[Resource]] = {}
    for r in resources:
        by_root.setdefault(r.root, []).append(r)
    index = {root: ResourceIndex.build(group) for root, group in by_root.items()}
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
