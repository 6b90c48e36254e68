"""ciiguard: a data-residency gate for China CII workloads.

The public API (what plugins and integrations may import) is re-exported here; everything else
is private by name and may change between releases. Besides these names, plugins may rely on the
hooks in ``ciiguard.plugins.hookspecs`` and the test helpers in ``ciiguard.testing``
(docs/plugins.md).
"""

from __future__ import annotations

import sys

if sys.argv[:1] == ["-m"]:  # `python -m ciiguard`: the working directory is first on sys.path,
    import os  # (already loaded by the interpreter) so a checkout could shadow any module

    sys.path[:] = [p for p in sys.path if p not in ("", ".", os.getcwd())]

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "hookimpl": "ciiguard.plugins",
    "Policy": "ciiguard.policies.base",
    "Finding": "ciiguard.policies.base",
    "PolicyContext": "ciiguard.policies.base",
    "Resource": "ciiguard.model",
    "Flow": "ciiguard.model",
    "Violation": "ciiguard.model",
    "Location": "ciiguard.model",
    "Enforcement": "ciiguard.model",
    "Severity": "ciiguard.model",
    "Unknown": "ciiguard.model",
    "Hop": "ciiguard.model",
    "RegionInfo": "ciiguard.model",
    "Gap": "ciiguard.model",
    "ScanIssue": "ciiguard.model",
    "ScanResult": "ciiguard.model",
    "ParseOutput": "ciiguard.model",
    "ParseContext": "ciiguard.parsers.base",
    "Parser": "ciiguard.parsers.base",
    "Settings": "ciiguard.settings",
    "Catalogue": "ciiguard.catalogue",
    "Classification": "ciiguard.resolve.classify",
    "Report": "ciiguard.reporters.base",
    "Reporter": "ciiguard.reporters.base",
}

__all__ = [
    "Catalogue",
    "Classification",
    "Enforcement",
    "Finding",
    "Flow",
    "Gap",
    "Hop",
    "Location",
    "ParseContext",
    "ParseOutput",
    "Parser",
    "Policy",
    "PolicyContext",
    "RegionInfo",
    "Report",
    "Reporter",
    "Resource",
    "ScanIssue",
    "ScanResult",
    "Settings",
    "Severity",
    "Unknown",
    "Violation",
    "__version__",
    "hookimpl",
]

if TYPE_CHECKING:
    from ciiguard.catalogue import Catalogue
    from ciiguard.model import (
        Enforcement,
        Flow,
        Gap,
        Hop,
        Location,
        ParseOutput,
        RegionInfo,
        Resource,
        ScanIssue,
        ScanResult,
        Severity,
        Unknown,
        Violation,
    )
    from ciiguard.parsers.base import ParseContext, Parser
    from ciiguard.plugins import hookimpl
    from ciiguard.policies.base import Finding, Policy, PolicyContext
    from ciiguard.reporters.base import Report, Reporter
    from ciiguard.resolve.classify import Classification
    from ciiguard.settings import Settings


def __getattr__(name: str) -> Any:
    """Import public names lazily so ``ciiguard --version`` stays instant."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'ciiguard' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
