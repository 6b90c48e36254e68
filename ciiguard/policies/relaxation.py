"""CII004: the change under review tries to relax the gate that judges it.

The gate runs on pull-request code, so every file in the scanned tree is written by the party
being judged. Under ``--policy-config`` a config file in the tree may only make the gate
stricter; what it sets to loosen it (soft fail, a lower enforcement, exemptions, a baseline,
plugins, another classification or approval key, ...) is ignored, and the gate stage
(``ciiguard.gate``) reports each attempt as a CII004 finding, as it reports an inline
suppression the pipeline forbids. The policy has no validator: it names the rule, its basis and
its fix for ``ciiguard policies``, ``explain`` and every report.
"""

from __future__ import annotations

from ciiguard.model import Severity
from ciiguard.policies.base import Policy

POLICY_ID = "CII004"

POLICY = Policy(
    id=POLICY_ID,
    name="gate-relaxed-by-change",
    description="A config file or inline suppression in the scanned tree tries to relax the "
    "gate the pipeline set (--policy-config).",
    severity=Severity.HIGH,
    legal_basis="CSL art. 21 and the MLPS 2.0 change-management controls (GB/T 22239-2019): a "
    "security control must not be switched off by the change it reviews; separation of duties "
    "between the pipeline owner and the author of a change",
    fix="Remove the setting from the scanned tree. A relaxation that is really needed (an "
    "exemption, a lower enforcement, a baseline) goes into the pipeline's own --policy-config, "
    "reviewed by its owner; an accepted finding can stay suppressed in the code where the "
    "pipeline allows suppressions.",
    help="Without --policy-config, the same settings apply as written and each is reported as a "
    "warning. A config file anywhere in the scanned tree (a subdirectory's too) can only make the "
    "gate stricter: more in scope, higher enforcement, fewer allowed regions, fail on advisory, "
    "forbid suppressions.",
)
