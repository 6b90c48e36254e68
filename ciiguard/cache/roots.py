"""Per-root-module cache: after an edit, only the root modules that read the edited file are
evaluated again, and the others' resources are not even read back unless something needs them.

One entry per scan key (the result cache's key: version, code, settings, environment, plugins,
working directory and scanned paths) holds three tables:

- ``dirs``: for each module directory discovery found, the content fingerprint of each of its
  files and the local module calls they make (which directories are roots follows from these,
  without parsing an unchanged directory again);
- ``roots``: for each root module, what its evaluation produced (resources, warnings, gaps) and
  the fingerprint of everything it read: its own and every called module's files and directory
  listings, tfvars and ``--var-file`` files, the workspace file, ``modules.json``; and once the
  scan has resolved them (``resolve``: locations, scope, flows, all within the root), the
  resolved resources, which then stand in for the parsed ones, the violations the built-in
  policies found on them (each judges a resource from within its own root), and a summary of
  them (``model.DeferredRoot``: counts, display names, and what the gate can look up there);
- ``signed``: for files hashed at rest, the signature (device, inode, size, modification and
  change times) they had when hashed (``results.signed_fingerprint``).

An entry is used only when every fingerprint matches the tree now, so a reused root is the one a
fresh evaluation would give. A fingerprint is a content hash, taken again unless the file's
signature now, read from a descriptor opened on it, is the recorded one: no process can set a
change time back, and a file changed within ``RACY_NS`` before it was hashed (where a later
change could fall in the same tick of the file system's clock) is never recorded. Nothing that
errored is stored: a directory whose files did not parse, or a root whose evaluation reported an
error or read a module that did, is read and evaluated again on every run (so its errors are
reported again). Which directories are roots, the plugins' policies, the built-in policies'
scan-wide findings (gaps) and the gate (whose baselines and approvals span roots) are recomputed
on every run.

Stored through ``store.DiskCache`` (trust checks and HMAC); only plain data and ciiguard's
model classes are pickled. Each root's entry is pickled on its own, inside the one entry, and its
resolved resources on their own inside that: the entry is unpickled when its root is looked up,
the resources when something asks for every resource (``load``); an unchanged root's bytes are
written back as they were read, so saving after an edit pickles only the roots that changed.
"""

from __future__ import annotations

import dataclasses
import pickle
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

from ciiguard.cache.results import Signature, current_signature, signed_fingerprint
from ciiguard.cache.store import DiskCache, digest, in_background, safe_loads

if TYPE_CHECKING:
    from ciiguard.model import Gap, ParseOutput, Resource, RootSummary, Violation

FORMAT = 7


class RootEntry(NamedTuple):
    """What is kept of one root module."""

    manifest: dict[str, str]  # every file and listing its evaluation read -> content hash
    part: Any  # ParseOutput: its warnings (resources dropped once resolved ones are kept)
    gaps: Any  # list[Gap]
    # list[Resource] once the scan resolved them; stored pickled on their own (bytes), read only
    # when something needs them all (``load``): a re-scan's summary and gate use ``summary``
    resolved: Any = None
    findings: Any = None  # list[Violation]: the built-in policies' findings on those
    summary: RootSummary | None = None  # what a summary and the gate need of ``resolved``


class RootCache:
    """The per-root entries of one scan key: looked up at the start, saved at the end."""

    def __init__(self, key: str, known: Mapping[str, str] | None = None) -> None:
        self.key = digest("roots", str(FORMAT), key)
        self.disk = DiskCache("roots")
        self.known = known if known is not None else {}  # fingerprints of bytes already read
        self._fps: dict[str, str] = {}
        stored = self.disk.get(self.key)
        self.old_dirs, self._old_raw, self._old_signed = _tables(stored)
        self.signed: dict[str, tuple[Signature, str]] = {}  # (signature, fingerprint) to keep
        self._old_roots: dict[str, RootEntry] = {}  # those unpickled so far
        self.dirs: dict[str, tuple[dict[str, str], list[str]]] = {}
        self.roots: dict[str, RootEntry] = {}
        self.shown: dict[str, str] = {}  # a root as resources name it (Resource.root) -> its key

    @property
    def empty(self) -> bool:
        return not self.old_dirs and not self._old_raw

    def fingerprint(self, path: str) -> str:
        """A path's fingerprint (``results.fingerprint``). A regular file whose signature
        (device, inode, size, modification and change times, ``results.current_signature``) is
        the one an earlier run recorded with its hash is not read again: its content is what was
        hashed then (no process can set a change time back, and a file changed in the tick it
        was hashed in was not recorded)."""
        found = self.known.get(path) or self._fps.get(path)
        if found is None:
            old = self._old_signed.get(path)
            if old is not None:
                now = current_signature(path)
                if now is not None and now == old[0]:
                    self.signed[path] = old
                    found = self._fps[path] = old[1]
                    return found
            found, sig = signed_fingerprint(path)
            if sig is not None:
                self.signed[path] = (sig, found)
            self._fps[path] = found
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

    def keep_findings(
        self,
        found: Mapping[str, list[Violation]],
        summarize: Callable[[list[Resource], list[Violation]], RootSummary],
    ) -> None:
        """The built-in policies' violations (``found``, by root) on every root whose resolved
        resources are kept and whose findings are not yet, with the root's ``summarize``d
        resources."""
        for shown in self.shown:
            kept = self._kept(shown)
            if kept is None or kept[1].resolved is None or kept[1].findings is not None:
                continue
            directory, entry = kept
            findings = list(found.get(shown, []))
            self.roots[directory] = entry._replace(
                findings=findings, summary=summarize(entry.resolved, findings)
            )

    def load(self, entry: RootEntry) -> list[Resource]:
        """A root's resolved resources (read from their own pickle when stored)."""
        if not isinstance(entry.resolved, bytes):
            return list(entry.resolved)
        loaded = safe_loads(entry.resolved)
        if not isinstance(loaded, list):  # the entry was written by this code (cache key): never
            raise TypeError("a per-root cache entry holds no resource list")
        return loaded

    def save(self) -> None:
        """Write the entry (in the background) when it differs from the stored one."""
        old = self._old_roots
        if (
            self.dirs == self.old_dirs
            and self.roots.keys() == self._old_raw.keys()
            and all(self.roots[k] is old.get(k) for k in self.roots)
            and self.signed.keys() <= self._old_signed.keys()
        ):
            return
        roots: dict[str, bytes | RootEntry] = {
            k: self._old_raw[k] if e is old.get(k) else e for k, e in self.roots.items()
        }
        disk, key, dirs, signed = self.disk, self.key, self.dirs, self.signed

        def write() -> None:
            parts = {k: v if isinstance(v, bytes) else _pickled(v) for k, v in roots.items()}
            disk.put(key, {"format": FORMAT, "dirs": dirs, "roots": parts, "signed": signed})

        in_background(write)


def _pickled(entry: RootEntry) -> bytes:
    """An entry's bytes, its resolved resources pickled on their own inside it."""
    if isinstance(entry.resolved, list):
        entry = entry._replace(resolved=pickle.dumps(entry.resolved, pickle.HIGHEST_PROTOCOL))
    return pickle.dumps(entry, pickle.HIGHEST_PROTOCOL)


def _tables(
    stored: object,
) -> tuple[dict[str, Any], dict[str, bytes], dict[str, tuple[Signature, str]]]:
    """The stored tables (each root still pickled), or empty ones for a missing or foreign
    entry."""
    if not isinstance(stored, dict) or stored.get("format") != FORMAT:
        return {}, {}, {}
    dirs, roots, signed = stored.get("dirs"), stored.get("roots"), stored.get("signed")
    if not isinstance(dirs, dict) or not isinstance(roots, dict) or not isinstance(signed, dict):
        return {}, {}, {}
    if not all(isinstance(v, bytes) for v in roots.values()):
        return {}, {}, {}
    return dirs, roots, signed
