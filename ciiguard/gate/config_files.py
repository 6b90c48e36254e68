"""Finding the config file: kept apart from ``config`` so a replayed run can key on it cheaply."""

from __future__ import annotations

import os
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


def checkout_of(path: Path) -> Path:
    """The repository a scanned path belongs to: the nearest directory upward holding ``.git``,
    else the path itself (its directory, for a file)."""
    here = path.resolve()
    if not here.is_dir():
        here = here.parent
    for directory in (here, *here.parents):
        if (directory / ".git").exists():
            return directory
    return here


def upward(path: Path) -> list[Path]:
    """The config files above (and at) a scanned path that belong to it: each one up to its
    repository's root, or the nearest one when it is in no repository."""
    start = path.resolve()
    top = checkout_of(start)
    if not (top / ".git").exists():
        nearest = find_config(start)
        return [nearest] if nearest is not None else []
    here = start if start.is_dir() else start.parent
    out = []
    for directory in (here, *here.parents):
        own = _config_in(directory)
        if own is not None:
            out.append(own)
        if directory == top:
            break
    return out


def find_all(paths: list[Path], skip: frozenset[str]) -> list[Path]:
    """Every config file that belongs to the scanned tree: each one upward from a scanned path
    to its repository's root (the nearest one alone outside a repository), and each one inside
    the scanned directories (``skip``: directory names discovery never enters). Sorted."""
    found: set[Path] = set()
    for path in paths:
        start = path.resolve()
        found.update(upward(start))
        if not start.is_dir():
            continue
        for dirpath, dirnames, _ in os.walk(start, followlinks=False):
            dirnames[:] = sorted(d for d in dirnames if d not in skip)
            own = _config_in(Path(dirpath))
            if own is not None:
                found.add(own)
    return sorted(found)


def _config_in(directory: Path) -> Path | None:
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
