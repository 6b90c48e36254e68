"""Azure Resource Manager resources written with ``azapi_resource``, as the catalogue's types.

``azapi_resource`` names its ARM resource type in an argument (``type =
"Microsoft.Storage/storageAccounts@2023-01-01"``) and carries the ARM request ``body``. The
catalogue maps ARM types to the azure-native Pulumi tokens (``arm_type`` in ``pulumi.json``),
whose inputs are the same ARM properties with ``properties`` flattened, and those onto the azurerm
types every policy and flow rule knows. So an azapi storage account is checked exactly like an
``azure-native`` one, and like an ``azurerm_storage_account``.

Enters: a resource's evaluated arguments. Leaves: (catalogue type, attributes) or None.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ciiguard.model import Unknown

__all__ = ["AZAPI_TYPES", "ArmType", "arm_types", "translate"]

# azapi resources that create or change an ARM resource from a type and a body
AZAPI_TYPES = frozenset({"azapi_resource", "azapi_update_resource"})


@dataclass(frozen=True)
class ArmType:
    arm_type: str
    token: str  # the azure-native token with the same inputs
    type: str  # the catalogue (azurerm) type


@functools.lru_cache(maxsize=1)
def arm_types() -> Mapping[str, ArmType]:
    """ARM resource type (lower case) -> its catalogue mapping."""
    from importlib import resources

    text = resources.files("ciiguard").joinpath("catalogue/data/pulumi.json").read_text("utf-8")
    out: dict[str, ArmType] = {}
    for e in json.loads(text).get("types", []):
        if isinstance(e.get("arm_type"), str):
            out[e["arm_type"].lower()] = ArmType(e["arm_type"], e["token"], e["type"])
    return out


def arm_type_of(type_value: Any) -> str | None:
    """``Microsoft.Storage/storageAccounts@2023-01-01`` -> ``Microsoft.Storage/storageAccounts``."""
    if not isinstance(type_value, str) or "/" not in type_value:
        return None
    return type_value.split("@", 1)[0].strip()


def translate(attrs: Mapping[str, Any]) -> tuple[ArmType, dict[str, Any]] | None:
    """An azapi resource's arguments as the catalogue type's attributes, or None when its ARM type
    is not one the catalogue maps (or is not known before apply)."""
    name = arm_type_of(attrs.get("type"))
    found = arm_types().get(name.lower()) if name else None
    if found is None:
        return None
    from ciiguard.parsers.pulumi.common import normalise_attributes, pulumi_catalogue

    catalogue = pulumi_catalogue()
    info = catalogue.lookup(found.token)
    body = attrs.get("body")
    if isinstance(body, str):  # azapi 1.x: body = jsonencode({...})
        try:
            body = json.loads(body)
        except ValueError:
            body = Unknown("body is not JSON ciiguard can read")
    props: dict[str, Any] = {}
    if isinstance(body, Mapping):
        for key, value in body.items():
            if key == "properties" and isinstance(value, Mapping):
                props.update(value)  # azure-native inputs are ARM properties, flattened
            else:
                props[key] = value
    elif isinstance(body, Unknown):
        props["body"] = body
    for key in ("location", "tags", "name", "parent_id"):
        if attrs.get(key) is not None:
            props[key] = attrs[key]  # azapi's own arguments win over the body's
    renames = info.renames if info is not None else {}
    return found, normalise_attributes(props, renames, catalogue.free_form_maps)
