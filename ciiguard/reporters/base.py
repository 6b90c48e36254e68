"""What a reporter is: a named output format that renders a finished scan."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from ciiguard.model import ScanResult
from ciiguard.policies.base import Policy


@dataclass
class Report:
    result: ScanResult
    policies: list[Policy]
    tool_name: str
    tool_version: str


@runtime_checkable
class Reporter(Protocol):
    name: str
    description: str

    def render(self, report: Report) -> str: ...
