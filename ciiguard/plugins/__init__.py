"""ciiguard's plugin system (pluggy, project name ``ciiguard``).

A plugin is a module with functions marked ``@ciiguard.hookimpl`` that implement hooks from
``ciiguard.plugins.hookspecs``. Ship it as a distribution declaring an entry point::

    [project.entry-points.ciiguard]
    acme = "acme_ciiguard.plugin"

or load it for one run with ``ciiguard scan -p acme_ciiguard.plugin``. ``--disable-plugin acme``
(or ``disable_plugins = ["acme"]`` in the config file) skips one plugin before it is imported;
modules named by ``plugins = [...]`` load only from the pipeline's ``--policy-config``, and nothing
is imported from the working directory or a scanned directory (``entry_points``, ``manager``);
``CIIGUARD_DISABLE_PLUGIN_AUTOLOAD=1`` skips entry-point plugins entirely.

The hooks are in ``ciiguard.plugins.hookspecs``; test helpers in ``ciiguard.testing``; the guide,
with the public API plugins may import, is docs/plugins.md. ``manager`` (the host that calls the
hooks and reports a failing plugin), ``builtin`` (ciiguard's own parsers, policies, catalogue and
formats, registered through the same hooks), ``entry_points`` and ``lazy`` are internal.
"""

from __future__ import annotations

import pluggy

hookimpl = pluggy.HookimplMarker("ciiguard")

__all__ = ["hookimpl"]

# The plugin API's version: the hooks, their arguments and what they return (hookspecs), and the
# public API plugins import (docs/plugins.md). Raised when any of them changes incompatibly.
PLUGIN_API = 1
