"""Every hook ciiguard calls, in one module (the pytest ``hookspec.py`` habit).

Built-in parsers, policies, catalogue data and reporters are registered through these same hooks;
there is no private back door. Implement a hook with the ``ciiguard.hookimpl`` marker.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from ciiguard.classify import Classification
    from ciiguard.model import Resource
    from ciiguard.parsers.base import Parser
    from ciiguard.policies.base import Policy
    from ciiguard.reporters.base import Reporter
    from ciiguard.settings import Settings

hookspec = pluggy.HookspecMarker("ciiguard")


@hookspec
def ciiguard_catalogue() -> Sequence[Mapping[str, Any]]:
    """Contribute catalogue data: regions, data-bearing types, replication arguments.

    Called once per scan, before any parser runs. Return a list of mappings in the format of
    ``ciiguard/data/aws.json`` (one per cloud; entries for a provider already known are merged).
    All results are used.
    """
    raise NotImplementedError


@hookspec
def ciiguard_parsers() -> Sequence[Parser]:
    """Contribute input parsers (objects with ``name``, ``claims(path)`` and ``parse(files, ctx)``).

    Called once per scan. All results are used; every discovered file is offered to each parser's
    ``claims``.
    """
    raise NotImplementedError


@hookspec
def ciiguard_policies() -> Sequence[Policy]:
    """Contribute policies (``ciiguard.Policy`` objects). Called once per scan; all results used.

    Policy ids must be unique across all plugins; a duplicate id is a scan error (exit 2).
    """
    raise NotImplementedError


@hookspec(firstresult=True)
def ciiguard_classify(resource: Resource, settings: Settings) -> Classification | None:
    """Decide whether a resource holds in-scope (personal or important) data.

    Called once per data-bearing resource after parsing. The first non-None result wins, so a
    plugin registered later (third-party plugins are) overrides the built-in tag convention.
    Return None to leave the decision to the next implementation.
    """
    raise NotImplementedError


@hookspec
def ciiguard_reporters() -> Sequence[Reporter]:
    """Contribute report formats (objects with ``name``, ``description`` and ``render(report)``).

    Called when the CLI resolves ``--format``. All results are used; the format name must be unique.
    """
    raise NotImplementedError
