"""Finding the config file: kept apart from ``config`` so a replayed run can key on it cheaply."""

from __future__ import annotations

import sys
from pathlib import Path


def find_config(start: Path) -> Path | None:
    """The nearest ``ciiguard.toml``, or ``pyproject.toml`` with ``[tool.ciiguard]``, upward."""
    here = start.resolve()
    if not here.is_dir():
        here = here.parent
    for directory in (here, *here.parents):
        own = directory / "ciiguard.toml"
        if own.is_file():
            return own
        pyproject = directory / "pyproject.toml"
        if pyproject.is_file() and _has_tool_section(pyproject):
            return pyproject
    return None


def _has_tool_section(path: Path) -> bool:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        # A broken pyproject.toml that may hold our section is an error, not a silent skip.
        try:
            return "[tool.ciiguard" in path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return False
    tool = data.get("tool")
    return isinstance(tool, dict) and "ciiguard" in tool
