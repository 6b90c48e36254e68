"""Entry points of installed distributions, read as ``importlib.metadata`` reads them but without
importing it (it alone costs more than a replayed scan's whole start), and knowing where each
distribution lies, so that one inside the scanned tree can be refused.

Also the one place that keeps the working directory off ``sys.path``: ``python -m ciiguard``
puts it first, and a checkout could then shadow a plugin, or a module ciiguard imports.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterable
from pathlib import Path


class EntryPoint:
    """One ``name = module:attr`` entry of a distribution's ``entry_points.txt`` (a plain class:
    a dataclass would cost a replayed run's start-up more than reading every entry point)."""

    __slots__ = ("distribution", "metadata_dir", "name", "value", "version")

    def __init__(
        self, name: str, value: str, distribution: str, version: str, metadata_dir: str
    ) -> None:
        self.name = name
        self.value = value  # "module" or "module:attr.attr"
        self.distribution = distribution
        self.version = version
        self.metadata_dir = metadata_dir  # the .dist-info / .egg-info folder that declares it

    def __repr__(self) -> str:
        return f"EntryPoint({self.name!r}, {self.value!r}, {self.distribution!r})"

    @property
    def module(self) -> str:
        return self.value.partition(":")[0].strip()

    @property
    def attr(self) -> str:
        return self.value.partition(":")[2].strip()


def is_working_directory(entry: str) -> bool:
    """Whether a ``sys.path`` entry is the working directory ("" or its path)."""
    if entry in ("", "."):
        return True
    try:
        return os.path.samefile(entry, os.getcwd())
    except OSError:
        return False


def drop_working_directory() -> list[str]:
    """Remove the working directory from ``sys.path``; return the old value (to restore)."""
    before = list(sys.path)
    sys.path[:] = [p for p in sys.path if not is_working_directory(p)]
    return before


def declared(group: str) -> bool:
    """Whether a distribution on ``sys.path`` declares an entry point in ``group``."""
    return bool(find(group))


_NORMAL = re.compile(r"[-_.]+")


def find(group: str) -> list[EntryPoint]:
    """Every entry point of ``group``, one distribution per name (the first on ``sys.path``
    wins, as in ``importlib.metadata``), sorted by name. The working directory is never read;
    a ``sys.path`` entry that is not a directory (a zip) is read with ``importlib.metadata``."""
    seen: set[str] = set()
    out: list[EntryPoint] = []
    for entry in sys.path:
        if is_working_directory(entry):
            continue
        if os.path.isfile(entry):
            out.extend(_zipped(entry, group, seen))
            continue
        try:
            names = sorted(os.listdir(entry))
        except OSError:
            continue
        for name in names:
            if not name.endswith((".dist-info", ".egg-info")):
                continue
            folder = os.path.join(entry, name)
            key = _NORMAL.sub("-", name.partition("-")[0].rsplit(".", 1)[0]).lower()
            if key in seen:  # named by its folder, as importlib.metadata dedupes
                continue
            seen.add(key)
            try:
                with open(os.path.join(folder, "entry_points.txt"), encoding="utf-8") as fh:
                    text = fh.read()
            except OSError:
                continue
            entries = list(_entries(text, group))
            if entries:
                dist, version = _identity(folder, name)
                out.extend(EntryPoint(n, v, dist, version, folder) for n, v in entries)
    return sorted(out, key=lambda e: e.name)


def _identity(folder: str, name: str) -> tuple[str, str]:
    """(name, version) from METADATA / PKG-INFO, else from the folder's name."""
    stem = name.rsplit(".", 1)[0]
    dist, _, version = stem.partition("-")
    version = version.split("-", 1)[0]
    for meta in ("METADATA", "PKG-INFO"):
        try:
            with open(os.path.join(folder, meta), encoding="utf-8", errors="replace") as fh:
                for line in fh:
                    if not line.strip():
                        break  # the headers end at the first blank line
                    key, _, value = line.partition(":")
                    if key.lower() == "name":
                        dist = value.strip()
                    elif key.lower() == "version":
                        version = value.strip()
            break
        except OSError:
            continue
    return dist, version or "-"


def _entries(text: str, group: str) -> Iterable[tuple[str, str]]:
    section = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line.strip("[]")
        elif section == group and "=" in line:
            name, _, value = line.partition("=")
            yield name.strip(), value.strip()


def _zipped(entry: str, group: str, seen: set[str]) -> list[EntryPoint]:
    from importlib import metadata

    out = []
    for dist in metadata.distributions(path=[entry]):
        name = dist.metadata["Name"] or "?"
        key = _NORMAL.sub("-", name).lower()
        if key in seen:
            continue
        seen.add(key)
        for ep in dist.entry_points:
            if ep.group == group:
                out.append(EntryPoint(ep.name, ep.value, name, dist.version, entry))
    return out


def inside(path: str | Path, roots: Iterable[Path]) -> Path | None:
    """The root of ``roots`` that ``path`` lies in (after resolving links), else None.

    The Python environment ciiguard runs in is trusted even when it lies inside a scanned root
    (a ``.venv`` in the checkout): the interpreter has already run its ``.pth`` files, so
    refusing its packages would protect nothing. Create the CI's environment outside the
    checkout (docs/security.md)."""
    try:
        real = Path(path).resolve()
    except OSError:
        return None
    own = {Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve()}
    if any(real == env or env in real.parents for env in own):
        return None
    for root in roots:
        if real == root or root in real.parents:
            return root
    return None
