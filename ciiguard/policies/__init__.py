"""Built-in policies: CII001 residency, CII002 cross-border flows, CII003 unknown location."""

from __future__ import annotations

from ciiguard.policies import crossborder, residency, unknown
from ciiguard.policies.base import Policy

BUILTIN_POLICIES: tuple[Policy, ...] = (residency.POLICY, crossborder.POLICY, unknown.POLICY)
