"""Display names for clouds and regions (``names.json``, plus botocore's AWS region names).

Presentation only: whether a region is in mainland China is the catalogue's answer, carried on
each resource; these names just make ``ap-east-1`` read as Hong Kong on the map.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from importlib import resources
from typing import Any


@dataclass(frozen=True)
class Cloud:
    key: str
    name: str


@functools.lru_cache(maxsize=1)
def _names() -> dict[str, Any]:
    text = (
        resources.files("ciiguard.residency_map").joinpath("names.json").read_text(encoding="utf-8")
    )
    data: dict[str, Any] = json.loads(text)
    return data


@functools.lru_cache(maxsize=1)
def _clouds() -> dict[str, Cloud]:
    out: dict[str, Cloud] = {}
    for entry in _names()["clouds"]:
        for provider in entry["providers"]:
            out[provider] = Cloud(entry["key"], entry["name"])
    return out


@functools.lru_cache(maxsize=1)
def _regions() -> dict[tuple[str, str], str]:
    return {(e["cloud"], _norm(e["id"])): e["name"] for e in _names()["regions"]}


@functools.lru_cache(maxsize=1)
def _aws_regions() -> dict[str, str]:
    try:
        from botocore.loaders import create_loader

        data = create_loader().load_data("partitions")
    except Exception:  # noqa: BLE001 - names are decoration; the map must not fail over them
        return {}
    out: dict[str, str] = {}
    for part in data.get("partitions", []):
        for region, info in part.get("regions", {}).items():
            desc = info.get("description") if isinstance(info, dict) else None
            if isinstance(desc, str) and not region.endswith("-global"):
                out[region] = desc
    return out


def _norm(region: str) -> str:
    return region.strip().lower().replace(" ", "")


def cloud_of(provider: str) -> Cloud:
    """The cloud a provider package belongs to (``azurerm`` and ``azure-native`` are both Azure)."""
    return _clouds().get(provider, Cloud(provider or "unknown", provider or "unknown provider"))


def region_name(cloud: str, region: str | None) -> str | None:
    """A human name for ``region`` at ``cloud`` when one is known, else None."""
    if not region:
        return None
    if cloud == "aws":
        name = _aws_regions().get(region)
        if name:
            return name
    return _regions().get((cloud, _norm(region)))
