"""ciiguard's plugin system (pluggy, project name ``ciiguard``).

A plugin is a module with functions marked ``@ciiguard.hookimpl`` that implement hooks from
``ciiguard.plugins.hookspecs``. Ship it as a distribution declaring an entry point::

    [project.entry-points.ciiguard]
    acme = "acme_ciiguard.plugin"

or load it for one run with ``ciiguard scan -p acme_ciiguard.plugin``. Set
``CIIGUARD_DISABLE_PLUGIN_AUTOLOAD=1`` to skip entry-point plugins entirely.
"""

from __future__ import annotations

import pluggy

hookimpl = pluggy.HookimplMarker("ciiguard")

__all__ = ["hookimpl"]
