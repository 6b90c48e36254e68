"""What a parser is: it claims files and turns them into resolved ``Resource``s."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from ciiguard.catalogue import Catalogue
from ciiguard.model import ParseOutput
from ciiguard.paths import absolute as absolute_path
from ciiguard.paths import realpath
from ciiguard.settings import Settings


@dataclass
class ParseContext:
    settings: Settings
    catalogue: Catalogue
    roots: list[Path] = field(default_factory=list)  # the scanned paths (containment boundary)
    cwd: Path = field(default_factory=Path.cwd)
    # Every file a parser read outside the discovered inputs (tfvars, modules, var files): the
    # result cache re-checks them, so a change anywhere that decided the result invalidates it.
    reads: set[Path] = field(default_factory=set)
    # The same for files and directories given as absolute path strings (what a per-root cache
    # entry recorded; no Path objects made for thousands of paths that are only hashed again).
    read_names: set[str] = field(default_factory=set)
    # Content fingerprints of the files read through ``read_bytes``, taken from the bytes parsed:
    # the result cache's manifest then describes exactly what was read (and needs no re-read).
    digests: dict[str, str] = field(default_factory=dict, repr=False)
    # Module directories that a reader of another format runs as (part of) a root module, with
    # who runs them (a Terragrunt unit's directory and its ``terraform.source``): the Terraform
    # reader then never scans them as roots of their own. Filled by readers that parse first.
    wrapped_roots: dict[Path, str] = field(default_factory=dict)
    # Why the result depends on something the result cache's key does not cover (an environment
    # variable a Terragrunt ``get_env`` read): such a result is never stored.
    uncacheable: list[str] = field(default_factory=list)
    # The result cache's key for this scan (None: not cached): parsers that keep per-part
    # entries (the Terraform reader's root modules, ``ciiguard.cache.roots``) key them by it.
    cache_key: str | None = None
    # The per-root cache a parser used (``ciiguard.cache.roots.RootCache``): the scan stores the
    # roots' resolved resources in it and saves it. ``resolved_roots`` names the roots (as
    # ``Resource.root``) whose resources a parser took from it already resolved.
    part_cache: Any = None
    resolved_roots: set[str] = field(default_factory=set)
    # For some of those roots, the violations the built-in policies found on those resources.
    known_findings: dict[str, list[Any]] = field(default_factory=dict)
    # Of those, the roots whose resources are still in the cache (``model.DeferredRoot``): the
    # parser leaves them out of its output and the scan reads them only when something needs them.
    deferred: list[Any] = field(default_factory=list)
    _shown: dict[str, str] = field(default_factory=dict, repr=False)
    _cwd_abs: str = field(default="", repr=False)
    _process_cwd: str = field(default="", repr=False)  # relative paths are below it
    # ``inside``'s directories of the scanned paths, and the list (and its length) they were
    # made from
    _root_dirs: set[Path] | None = field(default=None, repr=False)
    _root_dirs_of: tuple[int, int] = field(default=(0, -1), repr=False)

    def inside(self, resolved: Path) -> bool:
        """Whether a resolved path is one of the scanned paths or below one (a scanned file
        stands for its directory).

        The scanned paths are resolved once per scan, and the path's own parents looked up in
        them: resolving every root for each module call and tfvars file made N roots calling a
        module (``scan envs/*``, pre-commit's file lists) take N x N stats. Should resolving a
        root fail, the question is asked root by root, as it was (the same exception, raised at
        the same point)."""
        made_of = (id(self.roots), len(self.roots))
        if self._root_dirs_of != made_of:  # made once per scan, again if roots were added
            self._root_dirs_of, self._root_dirs = made_of, _resolved_dirs(self.roots)
        dirs = self._root_dirs
        if dirs is None:
            return any(_within(resolved, r) for r in self.roots)
        return resolved in dirs or any(p in dirs for p in resolved.parents)

    def display(self, path: Path | str) -> str:
        """A path as users should see it: relative to the working directory when below it."""
        key = path if type(path) is str else str(path)
        shown = self._shown.get(key)
        if shown is None:
            if not self._cwd_abs:  # once per scan, as the answers are kept for the scan
                self._cwd_abs = os.path.abspath(self.cwd)
                self._process_cwd = os.getcwd()
            cwd = self._cwd_abs
            absolute = absolute_path(key, self._process_cwd)
            below = cwd.rstrip(os.sep) + os.sep
            if absolute == cwd:
                shown = "."
            elif absolute.startswith(below):
                shown = absolute[len(below) :]
                if os.sep != "/":  # (abspath has normalised it: on POSIX it is written so)
                    shown = Path(shown).as_posix()
            else:
                shown = Path(key).as_posix()
            self._shown[key] = shown
        return shown

    def read_bytes(self, path: Path, shown: str) -> bytes:
        """Read an input file for a parser, recording it for the result cache."""
        from ciiguard.parsers.reading import read_bytes

        absolute = os.path.abspath(path)
        self.reads.add(Path(absolute))
        data = read_bytes(path, shown, self.settings.max_file_size)
        self.digests[absolute] = "file:" + hashlib.sha256(data).hexdigest()
        return data


@runtime_checkable
class Parser(Protocol):
    """An input format. ``claims`` is asked per discovered file; ``parse`` gets the claimed ones."""

    name: str

    def claims(self, path: Path) -> bool: ...

    def parse(self, files: list[Path], ctx: ParseContext) -> ParseOutput: ...


def _root_dir(root: Path) -> Path:
    """A scanned path resolved, as a directory (a scanned file stands for its directory)."""
    resolved = real(root)
    return resolved.parent if resolved.is_file() else resolved


def _within(path: Path, root: Path) -> bool:
    directory = _root_dir(root)
    return path == directory or directory in path.parents


def _resolved_dirs(roots: list[Path]) -> set[Path] | None:
    try:
        return {_root_dir(r) for r in roots}
    except (OSError, RuntimeError, ValueError):
        return None


_REAL: dict[Path, Path] = {}


def real(path: Path) -> Path:
    """``path.resolve()``, remembered for the rest of the scan (``forget_real`` starts a scan):
    module directories are resolved again and again while a tree is expanded.

    Resolved component by component through the memo, so the directories of a tree are looked
    at once, not once per path below them; a symbolic link on the way, or a ".." in the path, is
    left to ``Path.resolve`` itself (it keeps its exact semantics, loops included; tested).
    """
    found = _REAL.get(path)
    if found is not None:
        return found
    if not path.is_absolute():
        found = real(Path(os.getcwd()) / path)
    elif path.parent == path or ".." in path.parts:
        # the root; or "..", which os.path.realpath applies lexically after a symbolic-link loop
        found = path.resolve()
    else:
        candidate = real(path.parent) / path.name
        found = candidate.resolve() if os.path.islink(candidate) else candidate
    _REAL[path] = found
    return found


_REAL_NAMES: dict[str, str] = {}


def real_dir(name: str) -> Path:
    """``real(Path(name))`` for a path given as a string (discovery's directory names), resolved
    on strings (``paths.realpath``), so a tree of a thousand module directories costs no ``Path``
    per parent."""
    return Path(realpath(name, _REAL_NAMES, _real_text))


def _real_text(path: str) -> str:
    return os.fspath(real(Path(path)))


def forget_real() -> None:
    _REAL.clear()
    _REAL_NAMES.clear()
