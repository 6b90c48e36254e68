"""What a reporter is: a named output format that renders a finished scan."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from ciiguard.model import Enforcement, ScanResult
from ciiguard.policies.base import Policy
from ciiguard.settings import Settings


@dataclass
class Report:
    result: ScanResult
    policies: list[Policy]
    tool_name: str
    tool_version: str
    # Effective enforcement per policy id (config and defaults applied); missing: the policy's own.
    enforcement: Mapping[str, Enforcement] = field(default_factory=dict)
    baseline: str | None = None  # the --baseline file in use, as shown to users
    fail_on: str = "mandatory"  # the --fail-on level
    soft_fail: bool = False  # --soft-fail: blocking violations are reported but exit 0
    config: str | None = None  # the config file in use, as shown to users
    settings: Settings = field(default_factory=Settings)  # tag keys, warn days, ...

    def level(self, policy: Policy) -> Enforcement:
        """The enforcement ``policy`` runs with in this scan."""
        return self.enforcement.get(policy.id, policy.enforcement)


@runtime_checkable
class Reporter(Protocol):
    name: str

    @property
    def description(self) -> str: ...

    def render(self, report: Report) -> str: ...
