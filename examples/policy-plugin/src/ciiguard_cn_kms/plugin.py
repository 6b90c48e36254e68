"""The module the ``ciiguard`` entry point names: it registers the policy through a hook."""

from __future__ import annotations

import ciiguard
from ciiguard_cn_kms import __version__
from ciiguard_cn_kms.policy import POLICY

__all__ = ["__version__", "ciiguard_policies"]


@ciiguard.hookimpl
def ciiguard_policies() -> list[ciiguard.Policy]:
    return [POLICY]
