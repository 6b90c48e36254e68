"""Whether any installed distribution declares entry points in a group, without importing
``importlib.metadata`` (which alone costs more than a replayed scan's whole start)."""

from __future__ import annotations

import os
import sys


def declared(group: str) -> bool:
    """Whether a distribution on ``sys.path`` has an entry in ``group``, read from its
    ``entry_points.txt`` as ``importlib.metadata`` reads it. Anything on the path this cannot
    look into (a zip file) counts as declaring one: the caller then takes the full path."""
    for entry in sys.path:
        base = entry or "."
        try:
            names = os.listdir(base)
        except NotADirectoryError:
            return True
        except OSError:
            continue
        for name in names:
            if not name.endswith((".dist-info", ".egg-info")):
                continue
            try:
                with open(os.path.join(base, name, "entry_points.txt"), encoding="utf-8") as fh:
                    text = fh.read()
            except OSError:
                continue
            if _has_entries(text, group):
                return True
    return False


def _has_entries(text: str, group: str) -> bool:
    section = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line.strip("[]")
        elif section == group:
            return True
    return False
