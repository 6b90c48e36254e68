"""Every hook ciiguard calls, in one module (the pytest ``hookspec.py`` habit).

Built-in parsers, policies, catalogue data and reporters are registered through these same hooks
by the plugin named ``builtin``; there is no private back door. Implement a hook by defining a
function with the hook's name (and any subset of its arguments) marked ``@ciiguard.hookimpl``::

    import ciiguard

    @ciiguard.hookimpl
    def ciiguard_policies():
        return [MY_POLICY]

How ciiguard calls hooks, for all of them:

- Implementations are called one at a time, the most recently registered first (third-party
  plugins after the built-ins, ``-p`` modules last); ``@ciiguard.hookimpl(tryfirst=True)`` and
  ``trylast=True`` move an implementation within that order. Hook wrappers are not supported.
- An implementation that raises, or returns something other than what its hook documents, is
  reported as ``plugin 'NAME' failed in HOOK: Exception: message (file.py:line)``; the other
  implementations still run, and the scan exits 2 (never 0).
- A ``ciiguard_*`` function that is not marked, or whose name is not a hook below, fails the
  plugin's registration (it would otherwise silently never run).
- Hooks that return lists may return any iterable except a string or mapping; ``None`` counts as
  "nothing to add". The results of all implementations are used.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from ciiguard.model import Resource
    from ciiguard.parsers.base import Parser
    from ciiguard.policies.base import Policy
    from ciiguard.reporters.base import Reporter
    from ciiguard.resolve.classify import Classification
    from ciiguard.settings import Settings

__all__ = [
    "ciiguard_catalogue",
    "ciiguard_classify",
    "ciiguard_parsers",
    "ciiguard_policies",
    "ciiguard_reporters",
]

hookspec = pluggy.HookspecMarker("ciiguard")


@hookspec
def ciiguard_catalogue() -> Sequence[Mapping[str, Any]]:
    """Contribute catalogue facts: regions, data-bearing resource types, replication arguments.

    Called once per run, before any input is parsed (``ciiguard scan``, ``policies`` and
    ``plugins`` all gather it).

    :returns: A list of mappings, one per cloud provider, in the format of the files in
        ``ciiguard/catalogue/data/`` (keys ``provider``, ``source``, ``regions``, ``data_bearing``,
        ``replication``, ...). A mapping for a provider that is already known is merged into it,
        so a plugin can add one data-bearing type without repeating the provider's regions.
        Give every entry a ``source`` saying where the fact comes from.

    Not ``firstresult``: every implementation's contributions are merged. Malformed data is
    reported against the plugin that sent it, the built-in catalogue is used alone, and the run
    exits 2.

    Example, an internal storage service that holds personal data::

        @ciiguard.hookimpl
        def ciiguard_catalogue():
            return [{
                "provider": "aws",
                "data_bearing": [{"type": "aws_lightsail_bucket",
                                  "source": "AWS provider docs, aws_lightsail_bucket"}],
            }]
    """
    raise NotImplementedError


@hookspec
def ciiguard_parsers() -> Sequence[Parser]:
    """Contribute input parsers: objects satisfying the ``ciiguard.Parser`` protocol.

    Called once per run, before inputs are discovered.

    A parser has a ``name`` (shown in errors), ``claims(path) -> bool`` (asked for each
    discovered file, in order; the first parser that claims a file gets it) and
    ``parse(files, ctx) -> ciiguard.ParseOutput`` (called once with every file it claimed and a
    ``ciiguard.ParseContext``). ``parse`` must resolve each resource's effective region with its
    provenance and report unreadable input as ``ciiguard.ScanIssue`` errors, never skip it.

    :returns: A list of parser objects.

    Not ``firstresult``: every implementation's parsers are used. Parsers are asked in call
    order, so a plugin's parsers are asked before the built-in ones: claim only what you parse.

    Example::

        @ciiguard.hookimpl
        def ciiguard_parsers():
            return [CdkOutParser()]
    """
    raise NotImplementedError


@hookspec
def ciiguard_policies() -> Sequence[Policy]:
    """Contribute policies: ``ciiguard.Policy`` objects (id, name, description, validate).

    Called once per run; the policies then run over every resolved resource of the scan, and
    ``ciiguard policies`` / ``ciiguard plugins`` list them.

    :returns: A list of ``ciiguard.Policy``. Anything else in the list is reported as a failure
        of this hook. Policy ids must be unique across all plugins (prefix them, e.g.
        ``ACME001``): a duplicate id is reported against the plugin registered later, whose
        policy is dropped (exit 2); a plugin cannot replace a built-in policy.

    Not ``firstresult``: the policies of every implementation are used. A policy's ``validate``
    (per resource) or ``validate_scan`` (once per scan) that raises is reported as
    ``plugin 'NAME' failed in policy ID validate: ...`` and the other policies still report.

    Example::

        def _validate(resource, ctx):
            if resource.in_scope and not resource.attributes.get("kms_key_id"):
                yield ciiguard.Finding("no customer-managed key", fix="set kms_key_id")

        @ciiguard.hookimpl
        def ciiguard_policies():
            return [ciiguard.Policy(id="ACME001", name="cmk-required",
                                    description="Classified stores use a customer-managed key.",
                                    validate=_validate)]
    """
    raise NotImplementedError


@hookspec(firstresult=True)
def ciiguard_classify(resource: Resource, settings: Settings) -> Classification | None:
    """Decide whether a data-bearing resource holds in-scope (personal or important) data.

    Called once per data-bearing resource, after parsing and location resolution and before
    policies run; resources that hold no data (per the catalogue) are never classified.

    :param resource: The resolved ``ciiguard.Resource`` (region, location, effective tags and
        attributes already known; ``in_scope`` not yet decided).
    :param settings: The run's ``ciiguard.Settings`` (classification tag key, in-scope and
        out-of-scope values, ``cii_workload``).
    :returns: A ``ciiguard.Classification(in_scope, value, reason)``, or ``None`` to leave the
        decision to the next implementation.

    ``firstresult``: the first non-None result wins, and the most recently registered plugin is
    asked first, so a plugin overrides the built-in ``data-classification`` tag convention for
    the resources it answers for. An implementation that raises, or returns something other
    than a ``Classification`` or ``None``, is reported (exit 2) and the next one decides.

    Example, every bucket whose name starts with ``pii-`` holds personal data::

        @ciiguard.hookimpl
        def ciiguard_classify(resource):
            if str(resource.attributes.get("bucket", "")).startswith("pii-"):
                return ciiguard.Classification(True, "personal", "bucket name starts with pii-")
            return None
    """
    raise NotImplementedError


@hookspec
def ciiguard_reporters() -> Sequence[Reporter]:
    """Contribute report formats: objects satisfying the ``ciiguard.Reporter`` protocol.

    Called once per ``ciiguard scan`` run, when ``--format`` is resolved.

    A reporter has a ``name`` (the ``--format`` value), a one-line ``description`` and
    ``render(report) -> str``, which receives a ``ciiguard.Report`` (the ``ScanResult`` and the
    policies that ran) and returns the whole output.

    :returns: A list of reporter objects. Format names must be unique: a name already taken is
        reported against the plugin registered later, whose reporter is dropped (exit 2).

    Not ``firstresult``: the reporters of every implementation are offered. A plugin reporter
    whose ``render`` raises is reported as ``plugin 'NAME' failed in reporter FORMAT render:
    ...`` and the run exits 2.

    Example::

        @ciiguard.hookimpl
        def ciiguard_reporters():
            return [CsvReporter()]
    """
    raise NotImplementedError
