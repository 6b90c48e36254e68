"""On-disk caches in the user cache directory: parsed files and whole scan results.

Entries are keyed by content hashes (never by mtime), written atomically (temp file + rename, so
concurrent runs are safe), and a corrupt, truncated or foreign entry is ignored and rewritten. A
cache can only make a scan faster: the key covers everything that decides the result.

The cache directory is trusted input: whoever can write it can decide a cached verdict. Entries
are only read from a directory the current user owns and nobody else can write, and unpickling
builds ciiguard's own data classes only (a crafted entry cannot run code).
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import io
import os
import pickle
import stat
import sys
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, NoReturn

MAGIC = b"ciiguard-cache-1\n"


def cache_dir() -> Path:
    """``$CIIGUARD_CACHE_DIR``, else ``$XDG_CACHE_HOME/ciiguard``, else ``~/.cache/ciiguard``."""
    explicit = os.environ.get("CIIGUARD_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "ciiguard"


def digest(*parts: bytes | str) -> str:
    h = hashlib.sha256()
    for p in parts:
        data = p.encode("utf-8", "surrogatepass") if isinstance(p, str) else p
        h.update(len(data).to_bytes(8, "little"))
        h.update(data)
    return h.hexdigest()


# Classes a cache entry may contain: parsed files (hcl_ast), scan results (model), their values.
_SAFE_MODULES = frozenset(
    {
        "ciiguard.model",
        "ciiguard.parsers.terraform.hcl.nodes",
        "ciiguard.parsers.terraform.numbers",
        "ciiguard.parsers.terraform.lang.functions",
        "ciiguard.cache.results",
        "fractions",
    }
)
_SAFE_BUILTINS = frozenset({"set", "frozenset", "complex", "bytearray", "range", "slice"})


class _SafeUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if module == "builtins" and name in _SAFE_BUILTINS:
            return super().find_class(module, name)
        if module in _SAFE_MODULES:
            obj = super().find_class(module, name)
            if isinstance(obj, type):  # classes only: no function can be called on load
                return obj
        raise pickle.UnpicklingError(f"cache entry refers to {module}.{name}")


def _private(directory: Path) -> bool:
    """Whether every existing directory from the cache root down is ours and not writable by
    others (a shared or planted cache must not decide a verdict)."""
    if not hasattr(os, "getuid") or sys.platform == "win32":
        return True
    try:
        for d in (directory.parent, directory):
            st = os.stat(d)
            if st.st_uid != os.getuid() or st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
                return False
    except OSError:
        return False
    return True


class DiskCache:
    """A namespace of pickled entries under the cache directory."""

    def __init__(self, namespace: str, root: Path | None = None) -> None:
        self.dir = (root or cache_dir()) / namespace
        self._trusted: bool | None = None
        self._seen: set[str] | None = None

    def _path(self, key: str) -> Path:
        return self.dir / key[:2] / f"{key[2:]}.pickle"

    def get(self, key: str) -> Any | None:
        if self._trusted is None:
            self._trusted = _private(self.dir)
        if not self._trusted:
            return None
        path = self._path(key)
        try:
            data = path.read_bytes()
        except OSError:
            return None
        header = MAGIC + key.encode() + b"\n"
        if not data.startswith(header):
            return None
        try:
            return _SafeUnpickler(io.BytesIO(data[len(header) :])).load()
        except Exception:  # noqa: BLE001 - a corrupt entry is a miss, rewritten below
            return None

    SEEN_LIMIT = 8 << 20  # bytes of the admission list before its older half is dropped

    def seen(self, key: str) -> bool:
        """Whether ``mark`` was called with ``key`` before (by any run): an admission check, so
        an entry is written only the second time it is needed."""
        if self._seen is None:
            if self._trusted is None:
                self._trusted = _private(self.dir)
            try:
                text = (self.dir / "seen.txt").read_text(encoding="ascii", errors="replace")
            except OSError:
                text = ""
            self._seen = set(text.split()) if self._trusted else set()
        return key in self._seen

    def mark(self, keys: Iterable[str]) -> None:
        """Add keys to the admission list: one appended write (concurrent runs append safely)."""
        data = "".join(f"{k}\n" for k in keys).encode("ascii", "replace")
        if not data:
            return
        path = self.dir / "seen.txt"
        try:
            self.dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, data)
                size = os.fstat(fd).st_size
            finally:
                os.close(fd)
            if size > self.SEEN_LIMIT:  # keep the newer half
                lines = path.read_bytes().splitlines(keepends=True)
                self._replace(path, b"".join(lines[len(lines) // 2 :]))
        except OSError:
            return

    def put(self, key: str, value: Any) -> None:
        path = self._path(key)
        try:
            payload = (
                MAGIC + key.encode() + b"\n" + pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
            )
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            self._replace(path, payload)
        except (OSError, pickle.PicklingError, RecursionError, TypeError, AttributeError):
            return  # an unwritable cache only costs speed

    @staticmethod
    def _replace(path: Path, payload: bytes) -> None:
        """Write a file atomically: a temporary file beside it, then a rename."""
        import tempfile  # (only when writing: a replayed run never does)

        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(payload)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


# -- writing in the background -------------------------------------------------------------------
# Pickling and writing cache entries is pure overhead for the run that writes them (a third of a
# cold scan). The command line lets a forked child do it while the scan goes on, and waits for
# it before exiting, so the entries are complete when the next run starts.
_BACKGROUND = False
_CHILDREN: list[int] = []
_DEFERRED: list[Callable[[], None]] | None = None


def allow_background(allowed: bool) -> None:
    """Let ``in_background`` fork (the command line turns this on; library callers do not)."""
    global _BACKGROUND
    _BACKGROUND = allowed and hasattr(os, "fork")


def in_background(work: Callable[[], None]) -> None:
    """Run cache writes in a forked child (see above), or right here when that is not possible."""
    if _DEFERRED is not None:
        _DEFERRED.append(work)
        return
    if not _BACKGROUND or threading.active_count() > 1:  # forking a threaded process is unsafe
        work()
        return
    try:
        pid = os.fork()
    except OSError:
        work()
        return
    if pid == 0:
        gc.disable()
        child_exit(work)  # (an unwritable cache only costs speed)
    _CHILDREN.append(pid)


def child_exit(work: Callable[[], None]) -> NoReturn:
    """In a forked child: do the work, then leave without running any exit handler (the
    parent's buffers, atexit hooks and test runner are not the child's). Exit status 1 when the
    work raised: the parent never depends on it."""
    code = 0
    try:
        work()
    except BaseException:  # noqa: BLE001 - whatever happened, only the exit status tells
        code = 1
    finally:
        os._exit(code)


def join_background() -> None:
    """Wait for every background writer."""
    while _CHILDREN:
        pid = _CHILDREN.pop()
        with contextlib.suppress(ChildProcessError, InterruptedError):
            os.waitpid(pid, 0)


def can_fork() -> bool:
    """Whether work may be split with a forked child now (the CLI allows it; one thread)."""
    return _BACKGROUND and threading.active_count() == 1


def defer_background() -> None:
    """In a forked worker: keep cache writes for ``run_deferred`` (after its answer is sent)."""
    global _DEFERRED
    _DEFERRED = []


def run_deferred() -> None:
    for work in _DEFERRED or ():
        with contextlib.suppress(Exception):
            work()


def adopt(pid: int) -> None:
    """A forked worker still writing cache entries: waited for by ``join_background``."""
    _CHILDREN.append(pid)
