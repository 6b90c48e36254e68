"""Whole-scan result cache: an unchanged tree is answered without parsing or evaluating again.

The key covers ciiguard's version, the settings, the environment variables that can decide a
region or a variable, the loaded plugins (with their code's hash) and the scanned paths. An entry
is only used when the file listing under the scanned paths is unchanged and every file (or
directory listing) the scan read still has the same content hash.
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import stat
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ciiguard import __version__
from ciiguard.cache.store import DiskCache, digest, in_background
from ciiguard.paths import absolute

if TYPE_CHECKING:  # kept light: a replayed run imports this module, not the model
    from ciiguard.model import ScanResult
    from ciiguard.settings import Settings

# Directories discovery never enters (the scan and the listing below must agree).
SKIP_DIRS = frozenset(
    {
        ".terraform",
        ".terragrunt-cache",  # Terragrunt's copies of units and modules: never inputs themselves
        ".git",
        "node_modules",
        ".venv",
        "venv",
        "__pycache__",
        ".tox",
    }
)

ENV_THAT_MATTERS = re.compile(
    r"^(OS_REGION_NAME$|TF_|AWS_|ALIBABA_|ALICLOUD_|TENCENTCLOUD_|HW_|HUAWEICLOUD_|GOOGLE_|GCLOUD_|CLOUDSDK_|ARM_|"
    r"AZURE_|PULUMI_|CIIGUARD_)"
)


def _settings_part(settings: Settings) -> str:
    import dataclasses

    fields = {}
    for f in dataclasses.fields(settings):
        if f.name in ("environment", "use_cache", "jobs"):
            continue
        fields[f.name] = repr(getattr(settings, f.name))
    env = sorted((k, v) for k, v in settings.environment.items() if ENV_THAT_MATTERS.match(k))
    return repr((sorted(fields.items()), env))


def _plugins_part(plugins: Iterable[Any]) -> str:
    """Each plugin's whole top-level package (all its code and data), not just its entry module:
    a plugin upgrade that changes a rule in another module must invalidate cached verdicts."""
    parts = []
    for plugin in plugins:
        module = plugin if hasattr(plugin, "__name__") else sys.modules.get(type(plugin).__module__)
        name = getattr(module, "__name__", type(plugin).__name__)
        top = sys.modules.get(name.split(".", 1)[0], module)
        file = getattr(top, "__file__", None) or getattr(module, "__file__", None)
        if name.split(".", 1)[0] == "ciiguard":
            parts.append(f"{name}:core")  # ciiguard's own code is in _code_part()
        elif not file:
            parts.append(f"{name}:-")
        elif Path(file).name == "__init__.py":
            parts.append(f"{name}:{_tree_digest(Path(file).parent)}")
        else:
            parts.append(f"{name}:{fingerprint(Path(file))}")
    return "|".join(sorted(parts))


def _tree_digest(package: Path) -> str:
    """Digest of every file below ``package`` but compiled code, with its relative path, in the
    order of ``sorted(package.rglob("*"))`` (links to directories are not entered; links to files
    are read). Walked with ``scandir``: every scan takes this digest of ciiguard's own code, and
    a ``Path`` and a ``stat`` per file cost twice the reading and hashing."""
    h = hashlib.sha256()
    found: list[tuple[tuple[str, ...], str]] = []

    def walk(directory: str, rel: tuple[str, ...]) -> None:
        try:
            with os.scandir(directory) as it:
                entries = list(it)
        except PermissionError:  # as rglob: a directory it may not list holds nothing
            return
        for e in entries:
            if e.is_dir(follow_symlinks=False):
                if e.name != "__pycache__":
                    walk(e.path, (*rel, e.name))
            elif e.is_file() and os.path.splitext(e.name)[1] not in (".pyc", ".pyo"):
                found.append(((*rel, e.name), e.path))

    if "__pycache__" not in package.parts:
        walk(os.fspath(package), ())
    for parts, path in sorted(found):
        with open(path, "rb") as fh:
            h.update(os.sep.join(parts).encode() + b"\0" + fh.read() + b"\0")
    return h.hexdigest()


_CODE: str | None = None
CODE_ROOT = Path(__file__).resolve().parents[1]  # the whole ciiguard package, not just cache/


def _code_part() -> str:
    """Digest of ciiguard's own code and catalogue data: a development edit invalidates results."""
    global _CODE
    if _CODE is None:
        _CODE = _tree_digest(CODE_ROOT)
    return _CODE


def key_for(
    paths: Sequence[Path], settings: Settings, plugins: Iterable[Any], cwd: Path, data: str = ""
) -> str:
    """``data``: what the plugins contributed at run time (their catalogue data), which their
    code's hash does not cover."""
    return digest(
        "result",
        __version__,
        _code_part(),
        sys.version,
        str(cwd),
        repr([str(p.resolve()) for p in paths]),
        _settings_part(settings),
        _plugins_part(plugins),
        data,
    )


_ABSENT = frozenset({errno.ENOENT, errno.ENOTDIR})


def fingerprint(path: Path | str) -> str:
    """Content hash of a file, sorted listing of a directory, or 'missing' (also for what cannot
    be opened or read). One descriptor answers both: a re-scan validates thousands of files and
    directories, and a file object per file, or a failed open per directory, cost a fifth more.

    A directory the command line's listing walk read (``remember_listings``) is answered from
    that listing: the same names, taken once per run instead of listed again for each cache
    that checks it (the per-root cache checks every module directory)."""
    return signed_fingerprint(path)[0]


# A regular file's identity and change times: (device, inode, size, mtime, ctime in ns).
Signature = tuple[int, int, int, int, int]
# A file changed this recently (ns) before it was hashed may change again within the same tick
# of its filesystem's clock without its times changing: its signature is not kept ("racy").
RACY_NS = 2_000_000_000
# Where ``st_ctime`` is the inode's change time, which no unprivileged process can set back (on
# Windows it is the creation time, and a file rewritten in place keeps it).
SIGNATURES = os.name == "posix"


def signature(st: os.stat_result) -> Signature | None:
    """A regular file's signature, or None (not a regular file; no reliable change time)."""
    if not SIGNATURES or not stat.S_ISREG(st.st_mode):
        return None
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def current_signature(path: str) -> Signature | None:
    """The signature of the regular file at ``path`` now, read from a descriptor opened on it:
    opening is what revalidates a network file system's cached attributes (NFS's close-to-open
    rule), as reading the content would, so it is as fresh as a hash (a bare ``stat`` may not
    be). Never blocks (a FIFO put in a file's place is not waited on)."""
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except (OSError, ValueError):
        return None
    try:
        return signature(os.fstat(fd))
    except OSError:
        return None
    finally:
        os.close(fd)


def signed_fingerprint(path: Path | str) -> tuple[str, Signature | None]:
    """``fingerprint``, and the signature of the file it hashed when that signature can stand
    for the content later (``cache.roots`` checks it instead of hashing again): the file's
    status was read from the descriptor it read the content from, and nothing changed the file
    within ``RACY_NS`` before that."""
    listed = _LISTED.get(os.fspath(path)) if _LISTED else None
    if listed is not None:
        return "dir:" + digest(*listed), None
    if _LISTED and _unlisted(os.fspath(path)):
        return "missing", None
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0))
    except OSError as exc:
        if exc.errno in _ABSENT:  # nothing there (the probes for optional files, mostly)
            return "missing", None
        try:  # a directory that cannot be opened as a file (Windows) can still be listed
            if os.path.isdir(path):
                return "dir:" + digest(*sorted(os.listdir(path))), None
        except OSError:
            pass
        return "missing", None
    try:
        now = time.time_ns()
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            listed_now = sorted(os.listdir(fd if os.listdir in os.supports_fd else path))
            return "dir:" + digest(*listed_now), None
        h = hashlib.sha256()
        size = max(st.st_size, 0) + 1  # one read for a regular file; more where the size lies
        while chunk := os.read(fd, max(size, 1 << 16)):
            h.update(chunk)
        sig = signature(st)
        if sig is not None and (
            now - max(sig[3], sig[4]) < RACY_NS or signature(os.fstat(fd)) != sig
        ):
            sig = None  # changed lately (or while read): hashed again next time
        return "file:" + h.hexdigest(), sig
    except OSError:
        return "missing", None
    finally:
        os.close(fd)


# One command line's listings, by scanned paths (``remember_listings``): the replay check and the
# result cache then walk the tree once. The first walk is the one kept, so a file added or
# removed later in the run makes the entries stored by this run miss next time (never the
# other way round). Library callers, which may scan a changing tree again, get no memo.
_LISTINGS: dict[tuple[str, ...], str] | None = None
# The names in each directory that walk listed, sorted, by absolute path (``fingerprint``).
_LISTED: dict[str, tuple[str, ...]] | None = None
# The same directories' entries with their kinds as the listing gave them (``listed_entries``).
_KINDS: dict[str, tuple[tuple[str, str], ...]] = {}


def remember_listings(on: bool = True) -> None:
    """For the command line: list each scanned tree once per run (``False`` at its end)."""
    global _LISTINGS, _LISTED
    _KINDS.clear()
    _LISTINGS = {} if on else None
    _LISTED = {} if on else None


def listing(paths: Sequence[Path]) -> str:
    """Digest of every file name under the scanned paths (as the scan's discovery walks them),
    and of where each symbolic link points: re-pointing a link to another module directory
    changes what the scan reads without changing any file name or content."""
    memo = _LISTINGS
    key = tuple(os.path.abspath(p) for p in paths)
    if memo is not None and key in memo:
        return memo[key]
    found = _listing(paths)
    if memo is not None:
        memo[key] = found
    return found


def _listing(paths: Sequence[Path]) -> str:
    h = hashlib.sha256()
    for path in paths:
        h.update(b"\0root\0" + str(path.resolve()).encode("utf-8", "surrogateescape"))
        if not path.is_dir():
            h.update(fingerprint(path).encode())
            continue
        _walk(os.fspath(path), os.path.abspath(path), h)
    return h.hexdigest()


def _walk(directory: str, absolute: str, h: Any) -> None:
    """``absolute``: ``directory`` as an absolute path (the key of ``_LISTED``)."""
    h.update(b"\0d\0" + directory.encode("utf-8", "surrogateescape"))
    try:
        with os.scandir(directory) as it:
            entries = sorted(it, key=lambda e: e.name)
    except OSError:
        h.update(b"\0unreadable\0")
        return
    kinds: list[tuple[str, str]] | None = None
    if _LISTED is not None:
        _LISTED[absolute] = tuple(e.name for e in entries)
        kinds = []
    below = []
    for entry in entries:
        name = entry.name.encode("utf-8", "surrogateescape")
        kind = entry_kind(entry)
        if kinds is not None:
            kinds.append(kind)
        if kind[1] == "l":
            try:
                target = os.readlink(entry.path)
            except OSError:
                target = "?"
            h.update(b"\0l\0" + name + b"\0" + target.encode("utf-8", "surrogateescape"))
        elif kind[1] == "d":
            if entry.name not in SKIP_DIRS:
                below.append(entry.name)
        else:
            h.update(b"\0f\0" + name)
    if kinds is not None:
        _KINDS[absolute] = tuple(kinds)
    for sub in below:
        _walk(os.path.join(directory, sub), os.path.join(absolute, sub), h)


def _unlisted(path: str) -> bool:
    """Whether the listing walk's snapshot has nothing at ``path``: the nearest listed directory
    above it lacks the next name on the way (``.terraform/modules/modules.json`` in a root with
    no ``.terraform``, probed for every root). False where the listing cannot tell (a path
    not written as the listing writes its directories: relative, or not normalised)."""
    if not os.path.isabs(path) or os.path.normpath(path) != path:
        return False
    child, parent = path, os.path.dirname(path)
    while parent != child:
        names = _LISTED.get(parent) if _LISTED is not None else None
        if names is not None:
            return os.path.basename(child) not in names
        child, parent = parent, os.path.dirname(parent)
    return False


def entry_kind(entry: os.DirEntry[str]) -> tuple[str, str]:
    """(name, kind) of a directory entry, from the listing alone: ``d`` a directory, ``l`` a
    symbolic link, ``f`` a regular file, ``o`` anything else (or what cannot be told)."""
    try:
        if entry.is_symlink():
            return entry.name, "l"
        if entry.is_dir(follow_symlinks=False):
            return entry.name, "d"
        return entry.name, "f" if entry.is_file(follow_symlinks=False) else "o"
    except OSError:
        return entry.name, "o"


def listed_entries(absolute: str) -> tuple[tuple[str, str], ...] | None:
    """A directory's entries, sorted by name, as this command line's listing walk read them
    (``remember_listings``): (name, kind), the kind ``d`` for a directory, ``l`` for a symbolic
    link, ``f`` for a regular file and ``o`` for anything else. None when it was not listed."""
    return _KINDS.get(absolute) if _LISTED is not None else None


class Entry:
    """A stored result and what it depends on (a plain class: this module stays light).

    The result is pickled inside the entry as bytes of its own, and only unpickled when the
    entry is used: a lookup that finds the tree changed costs the listing and manifest, not the
    whole result (ten thousand resources)."""

    def __init__(self, listing: str, manifest: dict[str, str], result: ScanResult) -> None:
        self.listing = listing
        self.manifest = manifest
        self._result: ScanResult | None = result
        self._payload: bytes | None = None

    @property
    def result(self) -> ScanResult:
        if self._result is None:
            from ciiguard.cache.store import safe_loads

            self._result = safe_loads(self._payload or b"")
        return self._result

    def __getstate__(self) -> dict[str, Any]:
        import pickle

        payload = self._payload
        if payload is None:
            payload = pickle.dumps(self._result, protocol=pickle.HIGHEST_PROTOCOL)
        return {"listing": self.listing, "manifest": self.manifest, "payload": payload}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.listing = state["listing"]
        self.manifest = state["manifest"]
        self._payload = state["payload"]
        self._result = None

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Entry) and (self.listing, self.manifest, self.result) == (
            other.listing,
            other.manifest,
            other.result,
        )

    __hash__ = None  # type: ignore[assignment]


def _well_formed(entry: Entry) -> bool:
    return (
        isinstance(getattr(entry, "listing", None), str)
        and isinstance(getattr(entry, "manifest", None), dict)
        and isinstance(getattr(entry, "_payload", None), bytes)
    )


class ResultCache:
    def __init__(self) -> None:
        self.disk = DiskCache("results")

    def lookup(self, key: str, paths: Sequence[Path], current: str | None = None) -> Entry | None:
        """The stored result, when the tree is as it was (``current``: the listing, when the
        caller has taken it already)."""
        from ciiguard.cache.versions import Versions, checker

        now = current if current is not None else listing(paths)
        entry = Versions(self.disk, key).find(checker(now, fingerprint))
        if not isinstance(entry, Entry) or not _well_formed(entry):
            return None
        try:
            entry.result  # noqa: B018 - unpickled now: a corrupt payload is a miss
        except Exception:  # noqa: BLE001
            return None
        return entry

    def store(
        self,
        key: str,
        paths: Sequence[Path],
        files: Iterable[Path | str],
        result: ScanResult,
        known: Mapping[str, str] | None = None,
        current: str | None = None,
        write: bool = True,
    ) -> Entry:
        """Store a result; ``known`` holds fingerprints already taken (of the bytes the scan
        parsed), the other files are fingerprinted now. Written in the background; with
        ``write`` false only the entry is made (what it depends on, for the replay cache)."""
        known = known or {}
        cwd = os.getcwd()
        manifest = {
            p: known.get(p) or fingerprint(Path(p))
            for p in sorted({absolute(os.fspath(f), cwd) for f in files})
        }
        # the listing taken before the scan: a file added or removed meanwhile is a miss next time
        entry = Entry(current if current is not None else listing(paths), manifest, result)
        if write:
            from ciiguard.cache.versions import Versions

            versions = Versions(self.disk, key)
            in_background(lambda: versions.add(entry.listing, entry.manifest, entry))
        return entry
