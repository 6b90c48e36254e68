"""The scan pipeline: discover inputs, parse, resolve the model once, run policies.

parsers -> Resource (region + provenance) -> resolve (location, scope, flows) -> policies -> result
"""

from __future__ import annotations

import dataclasses
import functools
import os
import stat
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from ciiguard.catalogue import Catalogue, load_builtin
from ciiguard.classify import Classification, classify_by_tags
from ciiguard.flows import FlowBuilder, ResourceIndex
from ciiguard.model import (
    Enforcement,
    Gap,
    Location,
    ParseOutput,
    Resource,
    ScanIssue,
    ScanResult,
    Violation,
    evolve,
)
from ciiguard.parent_region import inherit_regions
from ciiguard.parsers.base import ParseContext, Parser, forget_real
from ciiguard.plugins.manager import PLUGIN_ERRORS, PluginHost, summarize
from ciiguard.policies.base import Finding, Policy, PolicyContext
from ciiguard.result_cache import SKIP_DIRS
from ciiguard.settings import Settings

ENFORCEMENTS = {e.value: e for e in Enforcement}


@dataclasses.dataclass
class Plugins:
    """What the plugin host contributed, collected once."""

    catalogue: Catalogue
    parsers: list[Parser]
    policies: list[Policy]


def gather(host: PluginHost) -> Plugins:
    contributed = host.collect("ciiguard_catalogue")
    contributions = [c for _, c in contributed]
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
    return Plugins(catalogue, parsers, policies)


def _catalogue_culprit(contributed: list[tuple[str, Any]]) -> str:
    """The plugin whose contribution does not load on top of the built-in data."""
    for plugin, contribution in contributed:
        try:
            Catalogue([*load_builtin(), contribution])
        except Exception:  # noqa: BLE001
            return plugin
    return "catalogue"


def discover(
    paths: Sequence[Path], parsers: list[Parser], ctx: ParseContext, errors: list[ScanIssue]
) -> dict[int, list[Path]]:
    """Files per parser (by index). Explicit files no parser claims are errors, never skipped.

    Only regular files are offered to parsers (a FIFO or a device named ``main.tf`` would block or
    never end); a file or directory that cannot be read, or that links out of the scanned paths,
    is an error when it looks like an input, so nothing a parser would read is silently skipped.
    """
    claimed: dict[int, list[Path]] = {}
    allow_outside = ctx.settings.allow_outside_root
    seen_dirs: set[Path] = set()

    def refuse(f: Path, why: str) -> None:
        errors.append(ScanIssue(ctx.display(f), None, why))

    def unreadable(exc: OSError) -> None:
        shown = ctx.display(exc.filename) if exc.filename else "<scan>"
        errors.append(ScanIssue(shown, None, f"cannot list directory: {exc.strerror or exc}"))

    def offer(f: Path, explicit: bool) -> None:
        why = _irregular(f, ctx.roots, allow_outside)
        if why is not None:
            if explicit or _looks_like_input(f.name):
                refuse(f, why)
            return
        taken = False
        for i, p in enumerate(parsers):
            try:
                ok = p.claims(f)
            except PLUGIN_ERRORS as exc:  # a plugin's claims() must not crash the run
                errors.append(
                    ScanIssue(
                        ctx.display(f),
                        None,
                        f"parser {getattr(p, 'name', '?')!r} failed to inspect the file: {exc}",
                    )
                )
                continue
            if ok:
                claimed.setdefault(i, []).append(f)
                taken = True
                break
        if explicit and not taken:
            errors.append(
                ScanIssue(
                    ctx.display(f),
                    None,
                    "not an input ciiguard can read (expected a Terraform directory or file)",
                )
            )

    def walk(top: Path) -> None:
        for dirpath, dirnames, filenames in os.walk(top, followlinks=False, onerror=unreadable):
            here = Path(dirpath)
            dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
            for d in [d for d in dirnames if (here / d).is_symlink()]:
                linked(here / d)
            for name in sorted(filenames):
                offer(here / name, explicit=False)

    def linked(d: Path) -> None:
        """A symlinked directory: inside the scanned paths it is walked there already; outside,
        it is walked only with --allow-outside-root and is an error if it holds inputs."""
        try:
            real = d.resolve(strict=True)
        except (OSError, RuntimeError):
            return  # a dangling link or a loop holds nothing to read
        if real in seen_dirs or any(_within(real, r) for r in ctx.roots):
            return
        if allow_outside:
            seen_dirs.add(real)
            walk(d)
        elif _holds_inputs(real):
            refuse(
                d,
                "a link to a directory outside the scanned directory that holds configuration "
                "(scan that directory, or pass --allow-outside-root)",
            )

    for path in paths:
        if not path.exists():
            errors.append(ScanIssue(ctx.display(path), None, "no such file or directory"))
            continue
        if not path.is_dir():
            offer(path, explicit=True)
            continue
        walk(path)
    return claimed


INPUT_SUFFIXES = (".tf", ".tf.json", ".tfvars", ".tfvars.json", ".json", ".yaml", ".yml")


def _looks_like_input(name: str) -> bool:
    """Names some parser may read: a problem with such a file is an error, not a skip."""
    return name.endswith(INPUT_SUFFIXES)


def _within(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def _irregular(f: Path, roots: Sequence[Path], allow_outside: bool) -> str | None:
    """Why a file must not be handed to a parser, or None."""
    try:
        st = os.stat(f)
    except (OSError, RuntimeError) as exc:
        if f.is_symlink():
            return "a dangling symbolic link or a symbolic link loop"
        return f"cannot read: {getattr(exc, 'strerror', None) or exc}"
    if not stat.S_ISREG(st.st_mode):
        return "not a regular file (a FIFO, socket or device is never read)"
    if f.is_symlink() and not allow_outside:
        try:
            real = f.resolve(strict=True)
        except (OSError, RuntimeError):
            return "a dangling symbolic link or a symbolic link loop"
        if not any(_within(real, r if r.is_dir() else r.parent) for r in roots):
            return (
                "a link to a file outside the scanned directory "
                "(use --allow-outside-root to read it)"
            )
    return None


def _holds_inputs(directory: Path) -> bool:
    try:
        return any(
            e.name.endswith((".tf", ".tf.json")) or e.name in ("Pulumi.yaml", "Pulumi.yml")
            for e in os.scandir(directory)
        )
    except OSError:
        return False


def resolve(
    resources: list[Resource], host: PluginHost, settings: Settings, catalogue: Catalogue
) -> list[Resource]:
    """Location verdicts, data-bearing and scope, then flows (which need the others' locations)."""
    located: list[Resource] = []
    for r in inherit_regions(resources, catalogue):
        if r.region.region is not None:
            loc, note = catalogue.location(r.provider, r.region.region)
        else:
            loc, note = Location.UNKNOWN, r.region.unknown_reason or "region unknown"
        data = catalogue.is_data_bearing(r.type)
        r = evolve(r, location=loc, location_note=note, data_bearing=data)
        if data:
            cls = host.first(
                "ciiguard_classify", expect=Classification, resource=r, settings=settings
            )
            if not isinstance(cls, Classification):
                cls = classify_by_tags(r, settings)
            r = evolve(r, in_scope=cls.in_scope, classification=cls.value, scope_reason=cls.reason)
        located.append(r)
    by_root: dict[str, list[Resource]] = {}
    for r in located:
        by_root.setdefault(r.root, []).append(r)
    out: list[Resource] = []
    for group in by_root.values():  # addresses are unique only within one root
        builder = FlowBuilder(catalogue, ResourceIndex.build(group))
        with_flows = []
        for r in group:
            flows = builder.flows_of(r)
            with_flows.append(evolve(r, flows=flows) if flows else r)
        out.extend(_propagate_replica_scope(with_flows))
    return out


def _propagate_replica_scope(resources: list[Resource]) -> list[Resource]:
    """A replica holds what its source holds: destinations of in-scope flows become in scope."""
    by_addr = {r.address: r for r in resources}
    changed = True
    rounds = 0
    while changed and rounds < 8:
        changed = False
        rounds += 1
        for r in list(by_addr.values()):
            for f in r.flows:
                src = by_addr.get(f.source) if f.source else None
                dest = by_addr.get(f.destination_resource) if f.destination_resource else None
                if src is None or dest is None or dest is src or not src.in_scope or dest.in_scope:
                    continue
                by_addr[dest.address] = dataclasses.replace(
                    dest,
                    in_scope=True,
                    classification=dest.classification or src.classification,
                    data_bearing=True,
                    scope_reason=f"receives replicated data from {src.address}",
                )
                changed = True
    return [by_addr[r.address] for r in resources]


def run_policies(
    policies: Iterable[Policy], ctx: PolicyContext, host: PluginHost
) -> list[Violation]:
    out: list[Violation] = []
    for policy in policies:
        level = ENFORCEMENTS.get(ctx.settings.enforcement.get(policy.id, ""), policy.enforcement)
        if level is Enforcement.DISABLED:
            continue
        for resource, f in _findings(policy, ctx, host):
            address = f.resource or (resource.address if resource else "")
            file = f.file if f.file is not None else (resource.file if resource else None)
            line = f.line if f.line is not None else (resource.line if resource else None)
            region = (
                f.region if f.region is not None else (resource.region.region if resource else None)
            )
            out.append(
                Violation(
                    policy=policy.id,
                    resource=address,
                    message=f.message,
                    severity=policy.severity,
                    enforcement=level,
                    blocking=level is Enforcement.MANDATORY,
                    file=file,
                    line=line,
                    region=region,
                    evidence=f.evidence,
                    fix=f.fix or policy.fix,
                    resource_type=resource.type if resource else None,
                    related=f.related,
                )
            )
    return out


def _findings(
    policy: Policy, ctx: PolicyContext, host: PluginHost
) -> list[tuple[Resource | None, Finding]]:
    """A policy's findings, each resource validated on its own: a policy that crashes on one
    resource is reported (plugin, policy, exception) and still checks the others."""
    owner = policy.plugin or policy.id
    calls: list[tuple[str, Resource | None, Callable[[], Iterable[Finding]]]] = []
    if type(policy).run is not Policy.run:  # a subclass with its own run(): one call
        calls.append(("run", None, lambda: (f for _, f in policy.run(ctx.resources, ctx))))
    else:
        if policy.validate is not None:
            validate = policy.validate
            calls.extend(
                ("validate", r, functools.partial(validate, r, ctx)) for r in ctx.resources
            )
        if policy.validate_scan is not None:
            calls.append(("validate_scan", None, functools.partial(policy.validate_scan, ctx)))
    out: list[tuple[Resource | None, Finding]] = []
    for what, resource, call in calls:
        hook = f"policy {policy.id} {what}"
        try:
            found = list(call() or ())
        except PLUGIN_ERRORS as exc:  # isolate a crashing policy, fail the run
            on = f" on {resource.address}" if resource is not None else ""
            host.fail(owner, hook, f"{summarize(exc)}{on}", exc)
            continue
        for f in found:
            if isinstance(f, Finding):
                out.append((resource, f))
            else:
                host.fail(owner, hook, f"yielded {type(f).__name__}, not ciiguard.Finding")
    return out


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
    result depends on), for a caller that keeps derived outputs (``ciiguard.replay``).
    """
    plugins = plugins or gather(host)
    cacheable = (
        settings.use_cache and not getattr(settings, "run_programs", False) and not host.failures
    )
    if not cacheable:
        return _scan(paths, settings, host, plugins, progress)[0]
    from ciiguard.result_cache import ResultCache, key_for

    cache = ResultCache()
    key = key_for(paths, settings, host.pm.get_plugins(), Path.cwd())
    entry = cache.lookup(key, paths)
    if entry is None:
        result, ctx, claimed = _scan(paths, settings, host, plugins, progress)
        if result.errors:
            return result
        entry = cache.store(key, paths, [*ctx.reads, *claimed], result, ctx.digests)
    if record is not None:
        record["listing"], record["manifest"] = entry.listing, entry.manifest
    return entry.result


def _scan(
    paths: Sequence[Path],
    settings: Settings,
    host: PluginHost,
    plugins: Plugins,
    progress: Callable[[str], None] | None = None,
) -> tuple[ScanResult, ParseContext, list[Path]]:
    note = progress or (lambda phase: None)  # phases for the terminal progress line
    note("discovering inputs")
    forget_real()  # the tree may have changed since an earlier scan in this process
    ctx = ParseContext(
        settings=settings,
        catalogue=plugins.catalogue,
        roots=[p.resolve() for p in paths],
        cwd=Path.cwd(),
    )
    errors: list[ScanIssue] = []
    claimed = discover(paths, plugins.parsers, ctx, errors)
    if not claimed and not errors:
        shown = ", ".join(ctx.display(p) for p in paths)
        errors.append(ScanIssue(shown, None, "no Terraform or Pulumi input found"))
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
    warnings = [w for o in outputs for w in o.warnings]
    note(f"resolving {len(resources)} resources")
    resources = resolve(resources, host, settings, plugins.catalogue)
    resources.sort(key=lambda r: (r.root, r.file or "", r.line or 0, r.address))
    pctx = PolicyContext(
        resources=resources, settings=settings, catalogue=plugins.catalogue, gaps=gaps
    )
    note(f"running {len(plugins.policies)} policies on {len(resources)} resources")
    violations = run_policies(plugins.policies, pctx, host)
    if settings.changed_only:  # policies saw every resource (flows, sources); judge the changed
        violations, resources = _changed_only(violations, resources)
    errors.extend(host.failures)
    violations.sort(key=lambda v: (v.file or "", v.line or 0, v.policy, v.resource, v.message))
    errors = _dedupe(errors)
    errors.sort(key=lambda e: (e.file or "", e.line or 0, e.message))
    result = ScanResult(
        resources=resources,
        violations=violations,
        errors=errors,
        warnings=warnings,
        files=sorted(set(files)),
    )
    return result, ctx, [f for fs in claimed.values() for f in fs]


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
