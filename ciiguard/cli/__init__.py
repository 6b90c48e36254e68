"""The command line: ``ciiguard scan``, ``map``, ``policies``, ``explain``, ``plugins``.

``app`` holds the argument parser and the commands, ``options`` the gate's options, ``pipeline``
the wiring from a scan to the gate, the formats and the exit code, ``progress`` the terminal
progress line. Nothing imports this package but ``ciiguard.__main__`` and the console script.
"""

from __future__ import annotations

from ciiguard.cli.app import console, main

__all__ = ["console", "main"]
