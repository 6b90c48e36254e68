"""Run settings shared by parsers, classification and policies (from the CLI and, later, config)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

IN_SCOPE_VALUES = ("personal", "sensitive-personal", "important", "core")
OUT_OF_SCOPE_VALUES = ("public", "internal")


@dataclass(frozen=True)
class Settings:
    classification_key: str = "data-classification"
    in_scope_values: tuple[str, ...] = IN_SCOPE_VALUES
    out_of_scope_values: tuple[str, ...] = OUT_OF_SCOPE_VALUES
    approval_key: str = "cross-border-approval"
    approval_expiry_key: str = "cross-border-approval-expires"
    cii_workload: bool = False
    # --var NAME=VALUE and --var-file FILE, interleaved in command-line order: ("var", "NAME=VALUE")
    # or ("file", "path"); later entries win, as in Terraform.
    var_inputs: tuple[tuple[str, str], ...] = ()
    environment: Mapping[str, str] = field(default_factory=dict)
    enforcement: Mapping[str, str] = field(default_factory=dict)  # policy id -> level
    allow_outside_root: bool = False
