"""Per-root-module cache: after an edit, only the root modules that read the edited file are
evaluated again.

One entry per scan key (the result cache's key: version, code, settings, environment, plugins,
working directory and scanned paths) holds two tables:

- ``dirs``: for each module directory discovery found, the content fingerprint of each of its
  files and the local module calls they make (which directories are roots follows from these,
  without parsing an unchanged directory again);
- ``roots``: for each root module, what its evaluation produced (resources, warnings, gaps) and
  the fingerprint of everything it read: its own and every called module's files and directory
  listings, tfvars and ``--var-file`` files, the workspace file, ``modules.json``; and once the
  scan has resolved them (``resolve``: locations, scope, flows, all within the root), the
  resolved resources, which then stand in for the parsed ones, and the violations the built-in
  policies found on them (each judges a resource from within its own root).

An entry is used only when every fingerprint matches the tree now (content hashes, never
mtimes), so a reused root is the one a fresh evaluation would give. Nothing that errored is
stored: a directory whose files did not parse, or a root whose evaluation reported an error or
read a module that did, is read and evaluated again on every run (so its errors are reported
again). Which directories are roots, the plugins' policies, the built-in policies' scan-wide
findings (gaps) and the gate (whose baselines and approvals span roots) are recomputed on every
run.

Stored through ``store.DiskCache`` (trust checks and HMAC); only plain data and ciiguard's
model classes are pickled. Each root's entry is pickled on its own, inside the one entry: it is
unpickled when its root is looked up, and an unchanged root's bytes are written back as they
were read, so saving after an edit pickles only the roots that changed.
"""

from __future__ import annotations

import dataclasses
import pickle
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

from ciiguard.cache.results import fingerprint
from ciiguard.cache.store import DiskCache, digest, in_background, safe_loads

if TYPE_CHECKING:
    from ciiguard.model import Gap, ParseOutput, Resource, Violation

FORMAT = 5


class RootEntry(NamedTuple):
    """What is kept of one root module."""

    manifest: dict[str, str]  # every file and listing its evaluation read -> content hash
    part: Any  # ParseOutput: its warnings (resources dropped once resolved ones are kept)
    gaps: Any  # list[Gap]
    resolved: Any = None  # list[Resource], once the scan resolved them
    findings: Any = None  # list[Violation]: the built-in policies' findings on those


class RootCache:
    """The per-root entries of one scan key: looked up at the start, saved at the end."""

    def __init__(self, key: str, known: Mapping[str, str] | None = None) -> None:
        self.key = digest("roots", str(FORMAT), key)
        self.disk = DiskCache("roots")
        self.known = known if known is not None else {}  # fingerprints of bytes already read
        self._fps: dict[str, str] = {}
        stored = self.disk.get(self.key)
        self.old_dirs, self._old_raw = _tables(stored)
        self._old_roots: dict[str, RootEntry] = {}  # those unpickled so far
        self.dirs: dict[str, tuple[dict[str, str], list[str]]] = {}
        self.roots: dict[str, RootEntry] = {}
        self.shown: dict[str, str] = {}  # a root as resources name it (Resource.root) -> its key

    @property
    def empty(self) -> bool:
        return not self.old_dirs and not self._old_raw

    def fingerprint(self, path: str) -> str:
        found = self.known.get(path) or self._fps.get(path)
        if found is None:
            found = self._fps[path] = fingerprint(path)
        return found

    def _matches(self, manifest: Mapping[str, str]) -> bool:
        return all(self.fingerprint(p) == fp for p, fp in manifest.items())

    # -- directories ------------------------------------------------------------------------
    def calls(self, directory: str, files: Iterable[str]) -> list[str] | None:
        """The stored local module calls of a directory whose files are all unchanged."""
        found = self.old_dirs.get(directory)
        if found is None:
            return None
        manifest, edges = found
        if set(manifest) != set(files) or not self._matches(manifest):
            return None
        self.dirs[directory] = found  # carried over into the saved entry
        return list(edges)

    def keep_dir(self, directory: str, files: Iterable[str], edges: Iterable[str]) -> None:
        self.dirs[directory] = ({f: self.fingerprint(f) for f in files}, list(edges))

    # -- root modules -----------------------------------------------------------------------
    def root(self, directory: str, shown: str) -> RootEntry | None:
        """A root module's stored entry, when nothing it read changed."""
        found = self._old_root(directory)
        if found is None or not self._matches(found.manifest):
            return None
        self.roots[directory] = found
        self.shown[shown] = directory
        return found

    def _old_root(self, directory: str) -> RootEntry | None:
        found = self._old_roots.get(directory)
        if found is None:
            raw = self._old_raw.get(directory)
            if raw is None:
                return None
            try:
                found = safe_loads(raw)
            except Exception:  # noqa: BLE001 - a corrupt part is a miss, rewritten at the end
                found = None
            if not isinstance(found, RootEntry):
                del self._old_raw[directory]
                return None
            self._old_roots[directory] = found
        return found

    def manifest(self, paths: Iterable[str]) -> dict[str, str]:
        return {p: self.fingerprint(p) for p in sorted(set(paths))}

    def keep_root(
        self,
        directory: str,
        shown: str,
        manifest: dict[str, str],
        part: ParseOutput,
        gaps: list[Gap],
    ) -> None:
        self.roots[directory] = RootEntry(manifest, part, gaps)
        self.shown[shown] = directory

    def _kept(self, shown: str) -> tuple[str, RootEntry] | None:
        directory = self.shown.get(shown)
        found = self.roots.get(directory) if directory is not None else None
        return (directory, found) if directory is not None and found is not None else None

    def keep_resolved(self, resources: Iterable[Resource]) -> None:
        """The resolved resources of the roots kept above (resolution never crosses roots): they
        replace each root's parsed ones, which are never needed again."""
        by_root: dict[str, list[Resource]] = {}
        for r in resources:
            by_root.setdefault(r.root, []).append(r)
        for shown, group in by_root.items():
            kept = self._kept(shown)
            if kept is None or kept[1].resolved is not None:
                continue
            directory, entry = kept
            slim = dataclasses.replace(entry.part, resources=[])
            self.roots[directory] = entry._replace(part=slim, resolved=group)

    def keep_findings(self, found: Mapping[str, list[Violation]]) -> None:
        """The built-in policies' violations (``found``, by root) on every root whose resolved
        resources are kept and whose findings are not yet."""
        for shown in self.shown:
            kept = self._kept(shown)
            if kept is None or kept[1].resolved is None or kept[1].findings is not None:
                continue
            directory, entry = kept
            self.roots[directory] = entry._replace(findings=list(found.get(shown, [])))

    def save(self) -> None:
        """Write the entry (in the background) when it differs from the stored one."""
        old = self._old_roots
        if (
            self.dirs == self.old_dirs
            and self.roots.keys() == self._old_raw.keys()
            and all(self.roots[k] is old.get(k) for k in self.roots)
        ):
            return
        roots: dict[str, bytes | RootEntry] = {
            k: self._old_raw[k] if e is old.get(k) else e for k, e in self.roots.items()
        }
        disk, key, dirs = self.disk, self.key, self.dirs

        def write() -> None:
            parts = {
                k: v if isinstance(v, bytes) else pickle.dumps(v, pickle.HIGHEST_PROTOCOL)
                for k, v in roots.items()
            }
            disk.put(key, {"format": FORMAT, "dirs": dirs, "roots": parts})

        in_background(write)


def _tables(stored: object) -> tuple[dict[str, Any], dict[str, bytes]]:
    """The stored tables (each root still pickled), or empty ones for a missing or foreign
    entry."""
    if not isinstance(stored, dict) or stored.get("format") != FORMAT:
        return {}, {}
    dirs, roots = stored.get("dirs"), stored.get("roots")
    if not isinstance(dirs, dict) or not isinstance(roots, dict):
        return {}, {}
    if not all(isinstance(v, bytes) for v in roots.values()):
        return {}, {}
    return dirs, roots
