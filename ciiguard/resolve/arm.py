"""Azure resources declared by their ARM type (``azapi_resource``) as the catalogue's own types.

Enters: parsed resources, among them ``azapi_resource`` blocks (``type =
"Microsoft.Storage/storageAccounts@2023-01-01"``, ``location``, ``parent_id``, ``body``) and
``azapi_update_resource`` blocks that patch one of them. Leaves: each mapped resource under the
catalogue type its ARM type stands for (``arm_types`` in ``data/azure.json``), its ``body``
flattened the way the Azure API nests it (``properties`` lifted, camelCase to snake_case, the
entry's renames), so every data-bearing entry and flow rule of that type applies; a child without
``location`` lives where its ``parent_id`` does; an update's body is merged into the resource it
updates (that is the resource's state after apply). Unknown ARM types are left as they are.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from ciiguard.catalogue import ArmType, Catalogue
from ciiguard.model import Hop, RegionInfo, Resource, Unknown, evolve
from ciiguard.resolve.flows import ResourceIndex, refs_in

AZAPI_RESOURCE = "azapi_resource"
AZAPI_UPDATE = "azapi_update_resource"
_CAMEL = re.compile(r"(?<=[a-z0-9])([A-Z])")


def _snake(key: str) -> str:
    return _CAMEL.sub(r"_\1", key).lower()


def _renamed(value: Any, renames: Mapping[str, str], path: str = "") -> Any:
    """``value`` with snake_case keys, each key renamed when ``renames`` names its path (paths
    are written with the renamed parents: ``geo_location.location_name``)."""
    if isinstance(value, list):
        return [_renamed(v, renames, path) for v in value]
    if not isinstance(value, Mapping):
        return value
    out: dict[str, Any] = {}
    for key, item in value.items():
        name = _snake(str(key))
        full = f"{path}.{name}" if path else name
        name = renames.get(full, name)
        out[name] = _renamed(item, renames, f"{path}.{name}" if path else name)
    return out


def _body(value: Any) -> Any:
    """azapi v2 takes ``body`` as an object, v1 as a JSON string (``jsonencode``)."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return {}
    return value


def flatten_body(body: Any, entry: ArmType) -> dict[str, Any]:
    """An ARM request body as catalogue attributes: ``properties`` lifted to the top level (as
    the azurerm and azure-native resources spell them), keys in snake_case, renames applied."""
    body = _body(body)
    if isinstance(body, Unknown):
        return {"__body__": body}
    if not isinstance(body, Mapping):
        return {}
    lifted: dict[str, Any] = {k: v for k, v in body.items() if k != "properties"}
    props = body.get("properties")
    if isinstance(props, Mapping):
        lifted.update(props)
    out = _renamed(lifted, entry.renames)
    return out if isinstance(out, dict) else {}


def _arm_type(r: Resource, catalogue: Catalogue) -> ArmType | None:
    value = r.attributes.get("type")
    return catalogue.arm_type(value) if isinstance(value, str) else None


def as_catalogue_types(resources: list[Resource], catalogue: Catalogue) -> list[Resource]:
    """Map ``azapi_resource`` to the catalogue type of its ARM type; fold updates into what they
    update; give a child without location its parent's region."""
    if not any(r.type in (AZAPI_RESOURCE, AZAPI_UPDATE) for r in resources):
        return resources
    by_root: dict[str, list[Resource]] = {}
    for r in resources:
        by_root.setdefault(r.root, []).append(r)
    out: list[Resource] = []
    for group in by_root.values():  # addresses are unique only within one root
        out.extend(_one_root(group, catalogue))
    return out


def _one_root(resources: list[Resource], catalogue: Catalogue) -> list[Resource]:
    index = ResourceIndex.build(resources)
    updates: dict[str, list[Resource]] = {}
    for r in resources:
        if r.type == AZAPI_UPDATE:
            for target in index.resolve(refs_in(r.attributes.get("resource_id"))):
                updates.setdefault(target.address, []).append(r)
    folded = {u.address for group in updates.values() for u in group}
    out: list[Resource] = []
    for r in resources:
        if r.address in folded:
            continue  # its body is part of the resource it updates
        entry = _arm_type(r, catalogue) if r.type == AZAPI_RESOURCE else None
        if entry is not None:
            r = _mapped(r, entry, index)
        for u in updates.get(r.address, []):
            r = _updated(r, u, catalogue)
        out.append(r)
    return out


def _mapped(r: Resource, entry: ArmType, index: ResourceIndex) -> Resource:
    attrs = {k: v for k, v in r.attributes.items() if k != "body"}
    attrs.update(flatten_body(r.attributes.get("body"), entry))
    attrs["arm_type"] = entry.arm_type
    region = r.region
    if r.attributes.get("location") is None:
        parents = index.resolve(refs_in(r.attributes.get("parent_id")))
        if parents:
            parent = parents[0]
            hop = Hop(f"parent_id of {r.address}: lives in {parent.address}", r.file, r.line)
            region = RegionInfo(
                parent.region.region,
                (hop, *parent.region.provenance),
                parent.region.unknown_reason,
            )
    return evolve(r, type=entry.type, attributes=attrs, region=region)


def _updated(r: Resource, update: Resource, catalogue: Catalogue) -> Resource:
    entry = catalogue.arm_type_of(r.type)
    if entry is None:
        return r
    patch = flatten_body(update.attributes.get("body"), entry)
    return evolve(r, attributes={**r.attributes, **patch})
