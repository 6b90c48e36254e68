"""Build the plugin manager: specs, built-ins, entry points, ``-p`` modules; isolate failures.

Every hook is called implementation by implementation so that one broken plugin is reported by
name (and fails the run with exit 2) while the others still run: a gate must never pass because a
plugin crashed, nor hide the other plugins' findings.

This module is internal; plugins see only the hooks (``ciiguard.plugins.hookspecs``) and the
public names of ``ciiguard``.
"""

from __future__ import annotations

import importlib
import os
import sys
import traceback
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pluggy

from ciiguard.errors import PLUGIN_ERRORS, UsageError, summarize
from ciiguard.model import PluginRun, ScanIssue
from ciiguard.plugins import hookspecs

PROJECT = "ciiguard"
AUTOLOAD_ENV = "CIIGUARD_DISABLE_PLUGIN_AUTOLOAD"
DEBUG_ENV = "CIIGUARD_DEBUG"
BUILTIN = "builtin"
HOOK_PREFIX = "ciiguard_"
T = TypeVar("T")


@dataclass
class PluginInfo:
    name: str
    version: str
    source: str  # "builtin", "entry point", "-p", "policy config", "object"
    dist: str = ""  # the distribution that ships an entry-point plugin
    location: str = ""  # where its code was imported from

    def run(self) -> PluginRun:
        return PluginRun(self.name, self.version, self.source, self.location, self.dist)


class PluginError(UsageError):
    """A plugin failed where the run cannot go on (rendering the report): one line, exit 2."""


class _GuardedReporter:
    """A plugin's reporter whose crash is reported by plugin and format, not as an internal error."""

    def __init__(self, inner: Any, plugin: str) -> None:
        self.inner = inner
        self.plugin = plugin
        self.name = str(inner.name)
        self.description = str(getattr(inner, "description", ""))

    def render(self, report: Any) -> str:
        try:
            text = self.inner.render(report)
        except PLUGIN_ERRORS as exc:  # a plugin may raise anything: re-raised with its name
            raise PluginError(
                f"plugin {self.plugin!r} failed in reporter {self.name} render: {summarize(exc)}"
            ) from exc
        if not isinstance(text, str):
            raise PluginError(
                f"plugin {self.plugin!r} failed in reporter {self.name} render: "
                f"returned {type(text).__name__}, expected str"
            )
        return text


@dataclass
class _Failure:
    plugin: str
    hook: str
    summary: str
    exc: BaseException | None
    count: int = 1


@dataclass
class PluginHost:
    pm: pluggy.PluginManager
    plugins: list[PluginInfo] = field(default_factory=list)
    _failures: dict[tuple[str, str], _Failure] = field(default_factory=dict, repr=False)
    _owners: dict[int, str] = field(default_factory=dict, repr=False)

    @property
    def failures(self) -> list[ScanIssue]:
        """One line per (plugin, hook) that failed; repeats are counted, not repeated."""
        out = []
        for f in self._failures.values():
            times = f" (failed {f.count} times; first shown)" if f.count > 1 else ""
            out.append(
                ScanIssue(None, None, f"plugin {f.plugin!r} failed in {f.hook}: {f.summary}{times}")
            )
        return out

    @property
    def exceptions(self) -> list[BaseException]:
        """The first exception of each failure, for test helpers that re-raise them."""
        return [f.exc for f in self._failures.values() if f.exc is not None]

    def runs(self) -> list[PluginRun]:
        """The plugins registered for this run, for the reports."""
        return [info.run() for info in self.plugins]

    def owner(self, item: object, default: str = "?") -> str:
        """The plugin that contributed ``item`` through a list hook."""
        return self._owners.get(id(item), default)

    def collect(self, hook_name: str, **kwargs: Any) -> list[tuple[str, Any]]:
        """Call every implementation of a list-returning hook; return (plugin name, item) pairs.

        Implementations run, and their items are returned, in pluggy's call order: last
        registered first, honouring ``tryfirst``/``trylast``.
        """
        out: list[tuple[str, Any]] = []
        hook = getattr(self.pm.hook, hook_name)
        for impl in reversed(hook.get_hookimpls()):
            result = self.call_impl(impl, hook_name, kwargs)
            if result is None:
                continue
            if isinstance(result, (str, bytes, Mapping)) or not _iterable(result):
                self.fail(
                    impl.plugin_name,
                    hook_name,
                    f"returned {type(result).__name__}, expected a list",
                )
                continue
            try:
                items = list(result)
            except PLUGIN_ERRORS as exc:  # a generator hookimpl may raise while iterated
                self.fail(impl.plugin_name, hook_name, summarize(exc), exc)
                continue
            for item in items:
                self._owners[id(item)] = impl.plugin_name
            out.extend((impl.plugin_name, item) for item in items)
        return out

    def reporters(self) -> dict[str, Any]:
        """Report formats by name. A plugin's reporter that is malformed or reuses a name is
        reported (the first registered keeps it); its ``render`` is guarded."""
        out: dict[str, Any] = {}
        owners: dict[str, str] = {}
        for plugin, r in reversed(self.collect("ciiguard_reporters")):  # registration order
            name = getattr(r, "name", None)
            if not isinstance(name, str) or not callable(getattr(r, "render", None)):
                self.fail(
                    plugin,
                    "ciiguard_reporters",
                    f"returned {type(r).__name__}, not a ciiguard.Reporter (name, render)",
                )
                continue
            if name in out:
                self.fail(
                    plugin,
                    "ciiguard_reporters",
                    f"format {name!r} is already defined by {owners[name]!r}",
                )
                continue
            out[name] = r if plugin == BUILTIN else _GuardedReporter(r, plugin)
            owners[name] = plugin
        return out

    def first(self, hook_name: str, expect: type | None = None, **kwargs: Any) -> Any:
        """Call a firstresult hook newest-registered first, isolating failures.

        A failing implementation, or one returning something other than ``expect``, is reported
        and skipped; the next one decides.
        """
        hook = getattr(self.pm.hook, hook_name)
        for impl in reversed(hook.get_hookimpls()):
            result = self.call_impl(impl, hook_name, kwargs)
            if result is None:
                continue
            if expect is not None and not isinstance(result, expect):
                self.fail(
                    impl.plugin_name,
                    hook_name,
                    f"returned {type(result).__name__}, expected {expect.__name__} or None",
                )
                continue
            return result
        return None

    def call_impl(self, impl: Any, hook_name: str, kwargs: dict[str, Any]) -> Any:
        args = {k: v for k, v in kwargs.items() if k in impl.argnames}
        try:
            return impl.function(**args)
        except PLUGIN_ERRORS as exc:  # a plugin may raise anything; report it by name
            self.fail(impl.plugin_name, hook_name, summarize(exc), exc)
            return None

    def fail(self, plugin: str, hook: str, summary: str, exc: BaseException | None = None) -> None:
        """Record that ``plugin`` failed in ``hook``: the scan is incomplete (exit 2)."""
        key = (plugin, hook)
        if key in self._failures:
            self._failures[key].count += 1
            return
        self._failures[key] = _Failure(plugin, hook, summary, exc)
        if exc is not None and os.environ.get(DEBUG_ENV):
            print(f"ciiguard: plugin {plugin!r} failed in {hook}:", file=sys.stderr)
            traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)

    def guard(self, plugin: str, where: str, fn: Callable[[], T]) -> T | None:
        """Run ``fn``; if it raises, report ``plugin`` as failed in ``where`` and return None."""
        try:
            return fn()
        except PLUGIN_ERRORS as exc:
            self.fail(plugin, where, summarize(exc), exc)
            return None


def build(
    plugin_modules: Iterable[str] = (),
    disabled: Iterable[str] = (),
    autoload: bool = True,
    objects: Iterable[tuple[str, object]] = (),
    config_modules: Iterable[str] = (),
    forbidden: Iterable[Path] = (),
) -> PluginHost:
    """The one function that assembles the host (pluggy's eggsample habit).

    Order: the built-in plugin, entry-point plugins (unless ``autoload`` is off or
    ``CIIGUARD_DISABLE_PLUGIN_AUTOLOAD`` is set), ``-p`` modules, the modules the pipeline's
    ``--policy-config`` names (``config_modules``), then ``objects`` (name, plugin) pairs
    registered directly (used by ``ciiguard.testing``). A plugin named in ``disabled`` is never
    imported. Nothing is imported from the working directory (it is not on ``sys.path``) nor from
    a ``forbidden`` directory (the scanned roots): such a plugin is refused and reported.
    """
    pm = pluggy.PluginManager(PROJECT)
    pm.add_hookspecs(hookspecs)
    host = PluginHost(pm)
    roots = [Path(r).resolve() for r in forbidden]
    disabled_set = set(disabled)
    from ciiguard import __version__
    from ciiguard.plugins import builtin

    pm.register(builtin, name=BUILTIN)
    host.plugins.append(
        PluginInfo(
            BUILTIN, __version__, BUILTIN, location=str(Path(builtin.__file__).parent.parent)
        )
    )
    if BUILTIN in disabled_set:
        disabled_set.discard(BUILTIN)
        host.fail(
            BUILTIN,
            "--disable-plugin",
            "the built-in plugin cannot be disabled; set a policy's enforcement to "
            "'disabled' instead",
        )
    for name in disabled_set:
        pm.set_blocked(name)
    if autoload and not os.environ.get(AUTOLOAD_ENV):
        _load_entry_points(host, disabled_set, roots)
    modules = [(m, "-p") for m in plugin_modules] + [(m, "policy config") for m in config_modules]
    for modname, source in modules:
        if modname in disabled_set or pm.has_plugin(modname):
            continue
        refused = _refused(modname, roots)
        if refused is not None:
            host.fail(modname, "import", refused)
            continue
        try:
            module = importlib.import_module(modname)
        except PLUGIN_ERRORS as exc:  # report any import-time error by plugin name
            host.fail(modname, "import", summarize(exc), exc)
            continue
        if pm.is_registered(module):  # already loaded through its entry point
            continue
        version = str(getattr(module, "__version__", "-"))
        _register(host, modname, module, source, version, location=_location(module))
    for name, plugin in objects:
        if name in disabled_set or pm.has_plugin(name) or pm.is_registered(plugin):
            continue
        version = str(getattr(plugin, "__version__", "-"))
        _register(host, name, plugin, "object", version, location=_location(plugin))
    return host


def _location(obj: object) -> str:
    """Where a plugin's code lives: its module's file (a package: its directory)."""
    module = obj if hasattr(obj, "__file__") else sys.modules.get(type(obj).__module__)
    file = getattr(module, "__file__", None)
    if not file:
        return "-"
    path = Path(file)
    return str(path.parent if path.name == "__init__.py" else path)


def _refused(modname: str, roots: list[Path]) -> str | None:
    """Why ``modname`` must not be imported (its code, or a parent package's, lies in a scanned
    root), found before its own code runs; None when it may be."""
    import importlib.util

    from ciiguard.plugins.entry_points import inside

    if not roots:
        return None
    parts = modname.split(".")
    for i in range(1, len(parts) + 1):
        name = ".".join(parts[:i])
        module = sys.modules.get(name)
        if module is not None:
            places = [getattr(module, "__file__", None), *list(getattr(module, "__path__", []))]
        else:
            try:  # finds, without running the module (its parents, already checked, may run)
                spec = importlib.util.find_spec(name)
            except (ImportError, ValueError):
                return None  # the import then reports why it fails
            if spec is None:
                return None
            places = [spec.origin, *(spec.submodule_search_locations or [])]
        for place in places:
            if place and place not in ("built-in", "frozen"):
                root = inside(place, roots)
                if root is not None:
                    return (
                        f"refused: its code ({place}) lies inside the scanned tree {root}; "
                        "ciiguard never imports code from the tree it judges"
                    )
    return None


def _load_entry_points(host: PluginHost, disabled: set[str], roots: list[Path]) -> None:
    from ciiguard.plugins.entry_points import find, inside

    for ep in find(PROJECT):  # (read without importlib.metadata: it costs more than a scan)
        if ep.name in disabled or host.pm.has_plugin(ep.name):
            continue
        root = inside(ep.metadata_dir, roots)
        refused = (
            f"refused: declared by {ep.metadata_dir}, inside the scanned tree {root}; ciiguard "
            "never loads plugins from the tree it judges"
            if root is not None
            else _refused(ep.module, roots)
        )
        if refused is not None:
            host.fail(ep.name, "entry point", refused)
            continue
        try:
            plugin: Any = importlib.import_module(ep.module)
            for attr in filter(None, ep.attr.split(".")):
                plugin = getattr(plugin, attr)
        except PLUGIN_ERRORS as exc:  # report any import-time error by plugin name
            host.fail(ep.name, "import", summarize(exc), exc)
            continue
        if host.pm.is_registered(plugin):
            continue
        _register(
            host, ep.name, plugin, "entry point", ep.version, ep.distribution, _location(plugin)
        )


def _register(
    host: PluginHost,
    name: str,
    plugin: object,
    source: str,
    version: str,
    dist: str = "",
    location: str = "",
) -> bool:
    """Register one plugin; on any problem report it, leave the manager as it was, go on."""
    try:
        host.pm.register(plugin, name=name)
    except PLUGIN_ERRORS as exc:  # pluggy validation errors and plugins' own errors
        if host.pm.has_plugin(name) and host.pm.get_plugin(name) is plugin:
            host.pm.unregister(name=name)
        host.fail(name, "register", summarize(exc), exc)
        return False
    problem = _check_hookimpls(host.pm, plugin)
    if problem is not None:
        host.pm.unregister(name=name)
        host.fail(name, "register", problem)
        return False
    host.plugins.append(PluginInfo(name, version, source, dist, location))
    return True


def _check_hookimpls(pm: pluggy.PluginManager, plugin: object) -> str | None:
    """What pluggy accepts but a gate cannot: hooks that would silently never run."""
    for attr in dir(plugin):
        if (
            attr.startswith(HOOK_PREFIX)
            and callable(getattr(plugin, attr, None))
            and pm.parse_hookimpl_opts(plugin, attr) is None
        ):
            return f"{attr} is not marked with @ciiguard.hookimpl, so it would never be called"
    callers = pm.get_hookcallers(plugin) or []
    if not callers:
        return (
            "implements no ciiguard hook (does the entry point name the module with the "
            "@ciiguard.hookimpl functions?)"
        )
    for caller in callers:
        for impl in caller.get_hookimpls():
            if impl.plugin is not plugin:
                continue
            if not caller.has_spec():
                if caller.name.startswith(HOOK_PREFIX):
                    known = ", ".join(sorted(_spec_names()))
                    return f"{caller.name} is not a ciiguard hook (known hooks: {known})"
                continue
            if impl.wrapper or impl.hookwrapper:
                return f"{caller.name}: hook wrappers are not supported"
    return None


def _spec_names() -> list[str]:
    return [n for n in dir(hookspecs) if n.startswith(HOOK_PREFIX)]


def _iterable(value: object) -> bool:
    try:
        iter(value)  # type: ignore[call-overload]
    except TypeError:
        return False
    return True
