"""Stage 3, policies: the rules, run over the resolved model.

Enters: a ``PolicyContext`` (resolved resources with location, scope and flows; settings; the
catalogue; the gaps parsers reported). Leaves: ``Finding``s, which ``run`` turns into
``Violation``s at each policy's effective enforcement. Built in: CII001 residency
(``residency``), CII002 cross-border flows (``crossborder``), CII003 unknown location
(``unknown``), CII004 a change relaxing the gate (``relaxation``: findings made by the gate
stage); ``advice`` words the fixes. A policy never sees a file format or a parser, only
the model. Registered by ``ciiguard.plugins.builtin`` through the ``ciiguard_policies`` hook,
like any plugin's policies.
"""

from __future__ import annotations

from ciiguard.policies import crossborder, relaxation, residency, unknown
from ciiguard.policies.base import Policy

BUILTIN_POLICIES: tuple[Policy, ...] = (
    residency.POLICY,
    crossborder.POLICY,
    unknown.POLICY,
    relaxation.POLICY,
)
