"""What a reporter is: a named output format that renders a finished scan."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from ciiguard.model import Enforcement, PluginRun, ScanResult, Waiver
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
    # suppressions and approvals found in the scanned tree, with what the gate made of each
    waivers: Sequence[Waiver] = ()
    plugins: Sequence[PluginRun] = ()  # the plugins that ran: version, where their code came from
    policy_config: str | None = None  # the pipeline's --policy-config, as shown
    repository_configs: Sequence[str] = ()  # the scanned tree's config files that were read
    # text output: only blocking findings and the verdict (--quiet); one line each (--compact)
    quiet: bool = False
    compact: bool = False

    def level(self, policy: Policy) -> Enforcement:
        """The enforcement ``policy`` runs with in this scan."""
        return self.enforcement.get(policy.id, policy.enforcement)


@runtime_checkable
class Reporter(Protocol):
    name: str

    @property
    def description(self) -> str: ...

    def render(self, report: Report) -> str: ...
