"""The scan: discover inputs, parse, resolve the model once, run the policies.

The one module that runs the stages in order (``docs/architecture.md``)::

    resolve.discover -> parsers (through the plugin host) -> resolve.locate -> policies.run

Enters: the scanned paths, the settings and the plugin host. Leaves: a ``ScanResult`` (resources,
violations, errors, warnings), answered from the result cache when nothing that decides it
changed. The gate stage (``ciiguard.gate``) and the reports come after it.
"""

from __future__ import annotations

import dataclasses
import functools
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from ciiguard.catalogue import Catalogue, load_builtin
from ciiguard.model import (
    AddressSet,
    DeferredResult,
    Gap,
    ParseOutput,
    Resource,
    RootSummary,
    ScanIssue,
    ScanResult,
    Violation,
    resource_counts,
    scan_order,
)
from ciiguard.parsers.base import ParseContext, Parser, forget_real
from ciiguard.plugins.manager import BUILTIN, PluginHost
from ciiguard.policies.base import Policy, PolicyContext
from ciiguard.policies.run import PerRoot, run_policies
from ciiguard.resolve.classify import Classification
from ciiguard.resolve.discover import discover
from ciiguard.resolve.locate import resolve
from ciiguard.settings import Settings, format_size


@dataclasses.dataclass
class Plugins:
    """What the plugin host contributed, collected once."""

    catalogue: Catalogue
    parsers: list[Parser]
    policies: list[Policy]
    # what plugins other than the built-in one contributed to the catalogue, as text: part of the
    # cache key (a plugin may read its data from anywhere, so its code's hash does not cover it)
    contributed: str = ""


def gather(host: PluginHost) -> Plugins:
    contributed = _registration_order(host.collect("ciiguard_catalogue"))
    contributions = [c for _, c in contributed]
    theirs = repr([(p, _canonical(c)) for p, c in contributed if p != BUILTIN])
    parsers = [p for _, p in host.collect("ciiguard_parsers")]
    policies: list[Policy] = []
    seen: dict[str, str] = {}
    # registration order, so a duplicate id is blamed on the later plugin, never on the built-ins
    for plugin, pol in reversed(host.collect("ciiguard_policies")):
        if not isinstance(pol, Policy):
            host.fail(
                plugin, "ciiguard_policies", f"returned {type(pol).__name__}, not ciiguard.Policy"
            )
            continue
        if pol.id in seen:
            host.fail(
                plugin,
                "ciiguard_policies",
                f"policy id {pol.id} is already defined by {seen[pol.id]!r}",
            )
            continue
        seen[pol.id] = plugin
        policies.append(dataclasses.replace(pol, plugin=pol.plugin or plugin))
    try:
        catalogue = Catalogue(contributions)
    except Exception as exc:  # noqa: BLE001 - plugin data may be malformed in any way
        host.fail(
            _catalogue_culprit(contributed),
            "ciiguard_catalogue",
            f"malformed catalogue data: {exc!r}",
            exc,
        )
        catalogue = Catalogue(load_builtin())
    policies.sort(key=lambda p: p.id)
    return Plugins(catalogue, parsers, policies, theirs)


def _registration_order(collected: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    """Each plugin's items in its own order, plugins in the order they were registered (the
    built-in one first). Pluggy calls the last registered first; catalogue data must go the
    other way: the first contribution for a provider sets its facts (how its regions are told
    apart), and a plugin's fragment adding data-bearing types to ``aws`` made every AWS region
    unknown."""
    groups: dict[str, list[tuple[str, Any]]] = {}
    for plugin, item in collected:
        groups.setdefault(plugin, []).append((plugin, item))
    return [pair for group in reversed(list(groups.values())) for pair in group]


def _canonical(value: Any) -> Any:
    """A contribution with its mappings in one order (a plugin's dict order is no change)."""
    if isinstance(value, Mapping):
        return sorted((repr(k), _canonical(v)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    return value


def classifier(
    host: PluginHost, settings: Settings
) -> Callable[[Resource], Classification | None] | None:
    """The plugins' ``ciiguard_classify`` hook for one resource (first answer wins).

    None when the built-in plugin is the hook's only implementation: its answer is the tag
    convention, which ``resolve`` applies itself, so the hook is not called."""
    impls = host.pm.hook.ciiguard_classify.get_hookimpls()
    if all(impl.plugin_name == BUILTIN for impl in impls):
        return None

    def classify(resource: Resource) -> Classification | None:
        found = host.first(
            "ciiguard_classify", expect=Classification, resource=resource, settings=settings
        )
        return found if isinstance(found, Classification) else None

    return classify


def _catalogue_culprit(contributed: list[tuple[str, Any]]) -> str:
    """The plugin whose contribution does not load on top of the built-in data."""
    for plugin, contribution in contributed:
        try:
            Catalogue([*load_builtin(), contribution])
        except Exception:  # noqa: BLE001
            return plugin
    return "catalogue"


def scan(
    paths: Sequence[Path],
    settings: Settings,
    host: PluginHost,
    plugins: Plugins | None = None,
    progress: Callable[[str], None] | None = None,
    record: dict[str, object] | None = None,
) -> ScanResult:
    """Scan paths; an unchanged tree is answered from the result cache (never a different verdict).

    ``record``, when given, receives the cache entry's ``listing`` and ``manifest`` (what the
    result depends on), for a caller that keeps derived outputs (``ciiguard.cache.replay``).
    """
    plugins = plugins or gather(host)
    cacheable = (
        settings.use_cache and not getattr(settings, "run_programs", False) and not host.failures
    )
    if not cacheable:
        return _scan(paths, settings, host, plugins, progress)[0]
    from ciiguard.cache.results import ResultCache, key_for, listing

    cache = ResultCache()
    key = key_for(paths, settings, host.pm.get_plugins(), Path.cwd(), plugins.contributed)
    before = listing(paths)
    entry = cache.lookup(key, paths, before)
    if entry is None:
        result, ctx, claimed = _scan(paths, settings, host, plugins, progress, key)
        if result.errors or ctx.uncacheable:
            return result
        # After an edit the per-root cache answered most of the tree, and answers this tree
        # again about as fast: the whole result is not pickled a second time (in CI's and the
        # terminal's common case, one command per tree, the run would wait for that writer).
        entry = cache.store(
            key,
            paths,
            [*ctx.reads, *ctx.read_names, *claimed],
            result,
            ctx.digests,
            before,
            write=not ctx.resolved_roots,
        )
    if record is not None:
        record["listing"], record["manifest"] = entry.listing, entry.manifest
    return entry.result


def _scan(
    paths: Sequence[Path],
    settings: Settings,
    host: PluginHost,
    plugins: Plugins,
    progress: Callable[[str], None] | None = None,
    cache_key: str | None = None,
) -> tuple[ScanResult, ParseContext, list[Path]]:
    note = progress or (lambda phase: None)  # phases for the terminal progress line
    note("discovering inputs")
    forget_real()  # the tree may have changed since an earlier scan in this process
    ctx = ParseContext(
        settings=settings,
        catalogue=plugins.catalogue,
        roots=[p.resolve() for p in paths],
        cwd=Path.cwd(),
        cache_key=cache_key,  # parsers keep per-part entries under it (cache.roots)
    )
    errors: list[ScanIssue] = []
    warnings_first: list[ScanIssue] = []  # --allow-empty: nothing found is a warning
    claimed = discover(paths, plugins.parsers, ctx, errors)
    total = _total_size(claimed)
    if total > settings.max_total_size:
        shown = ", ".join(ctx.display(p) for p in paths)
        errors.append(
            ScanIssue(
                shown,
                None,
                f"the inputs total {format_size(total)}, more than --max-total-size "
                f"{format_size(settings.max_total_size)}: nothing was read (scan fewer paths, or "
                "raise the limit if the machine has the memory)",
            )
        )
        claimed = {}
    if not claimed and not errors:
        shown = ", ".join(ctx.display(p) for p in paths)
        what = (
            "no Terraform, Terragrunt or Pulumi input found (looked for *.tf, *.tf.json, "
            "*.tfvars, terragrunt.hcl, Pulumi.yaml, and plan, preview or stack-export JSON); "
            "scan a plan with 'terraform show -json PLAN > plan.json', or a Pulumi stack's "
            "'pulumi preview --json > preview.json'"
        )
        if settings.allow_empty:
            warnings_first.append(ScanIssue(shown, None, what))
        else:
            errors.append(ScanIssue(shown, None, what))
    outputs: list[ParseOutput] = []
    files: list[str] = []
    for i in sorted(claimed):
        parser = plugins.parsers[i]
        files.extend(ctx.display(f) for f in claimed[i])
        name = str(getattr(parser, "name", "?"))
        note(f"parsing {len(claimed[i])} files ({name})")
        out = host.guard(
            host.owner(parser, name),
            f"parser {name}",
            functools.partial(parser.parse, claimed[i], ctx),
        )
        if out is not None:
            outputs.append(out)
    resources = [r for o in outputs for r in o.resources]
    gaps: list[Gap] = [g for o in outputs for g in o.gaps]
    errors.extend(e for o in outputs for e in o.errors)
    warnings = warnings_first + [w for o in outputs for w in o.warnings]
    done = ctx.resolved_roots  # roots a parser took from the per-root cache, already resolved
    deferred = ctx.deferred  # of those, the roots whose resources it left in the cache
    if deferred and not _may_defer(plugins.policies, settings):
        resources.extend(r for d in deferred for r in d.load())
        deferred = []
    if done:
        ready = [r for r in resources if r.root in done]
        resources = [r for r in resources if r.root not in done]
    note(f"resolving {len(resources)} resources")
    for o in outputs:  # handed to resolution, which lets each go once it has its copy
        o.resources = []
    resources = resolve(
        resources, settings, plugins.catalogue, classifier(host, settings), consume=True
    )
    if ctx.part_cache is not None and not host.failures:  # saved once the policies ran
        ctx.part_cache.keep_resolved(resources)
    if done:
        resources.extend(ready)
    resources.sort(key=scan_order)
    pctx = PolicyContext(
        resources=resources, settings=settings, catalogue=plugins.catalogue, gaps=gaps
    )
    note(f"running {len(plugins.policies)} policies on {len(resources)} resources")
    per_root = None
    if ctx.part_cache is not None:  # built-in findings, root by root (cache.roots)
        builtin = frozenset(p.id for p in plugins.policies if p.plugin == BUILTIN)
        per_root = PerRoot(builtin, ctx.known_findings)
    violations = run_policies(plugins.policies, pctx, host.fail, per_root)
    if per_root is not None:
        if not host.failures:
            ctx.part_cache.keep_findings(per_root.found, functools.partial(_summary, settings))
        ctx.part_cache.save()
    if settings.changed_only:  # policies saw every resource (flows, sources); judge the changed
        violations, resources = _changed_only(violations, resources)
    errors.extend(host.failures)
    # ties (a shared module's file in two roots) in root order, a scan-wide finding last: the
    # order the policies find them in, whether or not some came from the per-root cache
    violations.sort(
        key=lambda v: (
            v.file or "",
            v.line or 0,
            v.policy,
            v.resource,
            v.message,
            v.root is None,
            v.root or "",
        )
    )
    errors = _dedupe(errors)
    errors.sort(key=lambda e: (e.file or "", e.line or 0, e.message))
    result = ScanResult(resources, violations, errors, warnings, sorted(set(files)))
    if deferred:  # the roots still in the cache are read when something needs every resource
        result = DeferredResult(resources, violations, errors, warnings, result.files, deferred)
    return result, ctx, [f for fs in claimed.values() for f in fs]


def _may_defer(policies: Sequence[Policy], settings: Settings) -> bool:
    """Whether the roots a parser left in the per-root cache may stay there through the policies:
    only when every policy judges a resource from its own root (the built-in ones, which then
    skip those roots: ``PerRoot``) and nothing else needs every resource before the gate."""
    return not settings.changed_only and all(
        p.plugin == BUILTIN and type(p).run is Policy.run for p in policies
    )


def _summary(
    settings: Settings, resources: list[Resource], findings: list[Violation]
) -> RootSummary:
    """What a deferred root keeps for the summary and the gate (``model.DeferredRoot``)."""
    from ciiguard.gate.stage import gate_inputs

    ordered = sorted(resources, key=scan_order)
    return (
        *resource_counts(ordered),
        [(r.address, r.display_name) for r in ordered if r.display_name],
        *gate_inputs(ordered, findings, settings),
        AddressSet(r.address for r in ordered),
    )


def _total_size(claimed: Mapping[int, Sequence[Path]]) -> int:
    total = 0
    stat = os.stat
    for files in claimed.values():
        for f in files:
            try:  # (not contextlib.suppress: a context manager per file costs a fifth)
                total += stat(f).st_size
            except OSError:  # the parser reports an unreadable file itself
                continue
    return total


def _changed_only(
    violations: list[Violation], resources: list[Resource]
) -> tuple[list[Violation], list[Resource]]:
    """--changed-only: verdicts only on resources apply creates, updates or replaces.

    Parsers that know (plan JSON) set ``meta["changed"]``; a resource without it is judged.
    """
    unchanged = {(r.address, r.file) for r in resources if r.meta.get("changed") is False}
    kept = [v for v in violations if (v.resource, v.file) not in unchanged]
    return kept, [r for r in resources if r.meta.get("changed") is not False]


def _dedupe(items: list[ScanIssue]) -> list[ScanIssue]:
    seen: set[tuple[str | None, int | None, str]] = set()
    out = []
    for e in items:
        key = (e.file, e.line, e.message)
        if key not in seen:
            seen.add(key)
            out.append(e)
    return out
