"""Whether a data-bearing resource holds in-scope data: the project's tag convention (domain.md §6)."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from ciiguard.model import Resource, Unknown
from ciiguard.settings import Settings


@dataclass(frozen=True)
class Classification:
    in_scope: bool
    value: str | None  # the classification value, when a tag gave one
    reason: str


def classify_by_tags(resource: Resource, settings: Settings) -> Classification:
    """Tag ``data-classification`` decides; unknown or unrecognised values are in scope (fail-closed)."""
    tags = resource.tags
    if isinstance(tags, Unknown):
        return Classification(
            True,
            None,
            f"tags are not known before apply ({tags.reason}); classified data cannot be ruled out",
        )
    key = settings.classification_key.lower()
    value = None
    found = False
    # Tag keys are case-sensitive at most clouds: "Data-Classification" and "data-classification"
    # can both be set. The strictest of them decides, so a decoy "public" cannot hide "personal".
    candidates = [
        v for k, v in (tags or {}).items() if isinstance(k, str) and k.strip().lower() == key
    ]
    if candidates:
        value, found = min(candidates, key=lambda v: _leniency(v, settings)), True
    unknown_defaults = (tags or {}).get("__unknown__")
    if not found and isinstance(unknown_defaults, Unknown):
        return Classification(
            True, None, "provider default tags (labels) are not known before apply"
        )
    if not found:
        if settings.cii_workload:
            return Classification(
                True, None, "CII workload: every data-bearing resource is in scope"
            )
        return Classification(False, None, f"no {settings.classification_key} tag")
    if isinstance(value, Unknown):
        return Classification(
            True, None, f"{settings.classification_key} tag is not known before apply"
        )
    text = str(value).strip().lower() if value is not None else ""
    if text in settings.in_scope_values:
        return _tagged(True, text, settings.classification_key)
    if text in settings.out_of_scope_values:
        return _tagged(False, text, settings.classification_key)
    return Classification(
        True,
        text or None,
        f"unrecognised {settings.classification_key} value {value!r} (treated as in scope)",
    )


def _leniency(value: object, settings: Settings) -> int:
    """How far a classification value lets a resource out of scope (0: not at all)."""
    if isinstance(value, Unknown):
        return 0
    text = str(value).strip().lower() if value is not None else ""
    if text in settings.in_scope_values:
        return 1
    return 3 if text in settings.out_of_scope_values else 2


@functools.lru_cache(maxsize=256)
def _tagged(in_scope: bool, text: str, key: str) -> Classification:
    """A recognised tag's classification: one object (and one reason) for every resource tagged
    alike, not one each."""
    return Classification(in_scope, text, f"tagged {key}={text}")
