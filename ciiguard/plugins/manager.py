"""Build the plugin manager: specs, built-ins, entry points, ``-p`` modules; isolate failures.

Every hook is called implementation by implementation so that one broken plugin is reported by
name (and fails the run with exit 2) while the others still run: a gate must never pass because a
plugin crashed, nor hide the other plugins' findings.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any, TypeVar

import pluggy

from ciiguard.model import ScanIssue
from ciiguard.plugins import hookspecs

PROJECT = "ciiguard"
AUTOLOAD_ENV = "CIIGUARD_DISABLE_PLUGIN_AUTOLOAD"
T = TypeVar("T")


@dataclass
class PluginInfo:
    name: str
    version: str
    source: str  # "builtin", "entry point", "-p"


@dataclass
class PluginHost:
    pm: pluggy.PluginManager
    plugins: list[PluginInfo] = field(default_factory=list)
    failures: list[ScanIssue] = field(default_factory=list)

    def collect(self, hook_name: str, **kwargs: Any) -> list[tuple[str, Any]]:
        """Call every implementation of a list-returning hook; return (plugin name, item) pairs."""
        out: list[tuple[str, Any]] = []
        hook = getattr(self.pm.hook, hook_name)
        for impl in reversed(hook.get_hookimpls()):
            result = self.call_impl(impl, hook_name, kwargs)
            if result is None:
                continue
            try:
                items = list(result)
            except TypeError:
                self.fail(impl.plugin_name, hook_name, "returned a non-list value")
                continue
            out.extend((impl.plugin_name, item) for item in items)
        return out

    def first(self, hook_name: str, **kwargs: Any) -> Any:
        """Call a firstresult hook newest-registered first, isolating failures."""
        hook = getattr(self.pm.hook, hook_name)
        for impl in reversed(hook.get_hookimpls()):
            result = self.call_impl(impl, hook_name, kwargs)
            if result is not None:
                return result
        return None

    def call_impl(self, impl: Any, hook_name: str, kwargs: dict[str, Any]) -> Any:
        args = {k: v for k, v in kwargs.items() if k in impl.argnames}
        try:
            return impl.function(**args)
        except Exception as exc:  # noqa: BLE001 - a plugin may raise anything; report it by name
            self.fail(impl.plugin_name, hook_name, f"{type(exc).__name__}: {exc}")
            return None

    def fail(self, plugin: str, hook: str, summary: str) -> None:
        self.failures.append(
            ScanIssue(None, None, f"plugin {plugin!r} failed in {hook}: {summary}")
        )

    def guard(self, plugin: str, where: str, fn: Callable[[], T]) -> T | None:
        try:
            return fn()
        except Exception as exc:  # noqa: BLE001
            self.fail(plugin, where, f"{type(exc).__name__}: {exc}")
            return None


def build(
    plugin_modules: Iterable[str] = (), disabled: Iterable[str] = (), autoload: bool = True
) -> PluginHost:
    """The one function that assembles the host (pluggy's eggsample habit)."""
    pm = pluggy.PluginManager(PROJECT)
    pm.add_hookspecs(hookspecs)
    host = PluginHost(pm)
    disabled_set = set(disabled)
    from ciiguard import builtin

    pm.register(builtin, name="builtin")
    from ciiguard import __version__

    host.plugins.append(PluginInfo("builtin", __version__, "builtin"))
    for name in disabled_set:
        pm.set_blocked(name)
    if autoload and not os.environ.get(AUTOLOAD_ENV):
        _load_entry_points(host, disabled_set)
    for modname in plugin_modules:
        if modname in disabled_set:
            continue
        try:
            module = importlib.import_module(modname)
        except Exception as exc:  # noqa: BLE001
            host.fail(modname, "import", f"{type(exc).__name__}: {exc}")
            continue
        try:
            pm.register(module, name=modname)
        except Exception as exc:  # noqa: BLE001
            host.fail(modname, "register", f"{type(exc).__name__}: {exc}")
            continue
        host.plugins.append(PluginInfo(modname, getattr(module, "__version__", "-"), "-p"))
    return host


def _load_entry_points(host: PluginHost, disabled: set[str]) -> None:
    eps = sorted(metadata.entry_points(group=PROJECT), key=lambda e: e.name)
    for ep in eps:
        if ep.name in disabled or host.pm.is_registered(ep.name) or host.pm.has_plugin(ep.name):
            continue
        try:
            plugin = ep.load()
        except Exception as exc:  # noqa: BLE001
            host.fail(ep.name, "import", f"{type(exc).__name__}: {exc}")
            continue
        try:
            host.pm.register(plugin, name=ep.name)
        except Exception as exc:  # noqa: BLE001
            host.fail(ep.name, "register", f"{type(exc).__name__}: {exc}")
            continue
        dist = getattr(ep, "dist", None)
        version = dist.version if dist is not None else "-"
        host.plugins.append(PluginInfo(ep.name, version, "entry point"))
