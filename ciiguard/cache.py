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
from collections.abc import Callable
from pathlib import Path
from typing import Any

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
        "ciiguard.parsers.hcl_ast",
        "ciiguard.parsers.numbers",
        "ciiguard.parsers.functions",
        "ciiguard.result_cache",
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

    def seen(self, key: str) -> bool:
        """Whether ``mark(key)`` was called before (by any run): an admission check, so an
        entry is written only the second time it is needed."""
        if self._trusted is None:
            self._trusted = _private(self.dir)
        return bool(self._trusted) and os.path.exists(self._path(key).with_suffix(".seen"))

    def mark(self, key: str) -> None:
        path = self._path(key).with_suffix(".seen")
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            path.touch()
        except OSError:
            return

    def put(self, key: str, value: Any) -> None:
        path = self._path(key)
        try:
            payload = (
                MAGIC + key.encode() + b"\n" + pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
            )
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            import tempfile  # (only when writing: a replayed run never does)

            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(payload)
                os.replace(tmp, path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except (OSError, pickle.PicklingError, RecursionError, TypeError, AttributeError):
            return  # an unwritable cache only costs speed


# -- writing in the background -------------------------------------------------------------------
# Pickling and writing cache entries is pure overhead for the run that writes them (a third of a
# cold scan). The command line lets a forked child do it while the scan goes on, and waits for
# it before exiting, so the entries are complete when the next run starts.
_BACKGROUND = False
_CHILDREN: list[int] = []


def allow_background(allowed: bool) -> None:
    """Let ``in_background`` fork (the command line turns this on; library callers do not)."""
    global _BACKGROUND
    _BACKGROUND = allowed and hasattr(os, "fork")


def in_background(work: Callable[[], None]) -> None:
    """Run cache writes in a forked child (see above), or right here when that is not possible."""
    if not _BACKGROUND or threading.active_count() > 1:  # forking a threaded process is unsafe
        work()
        return
    try:
        pid = os.fork()
    except OSError:
        work()
        return
    if pid == 0:  # the child: write, then leave without running any exit handler
        code = 0
        try:
            gc.disable()
            work()
        except BaseException:  # noqa: BLE001 - an unwritable cache only costs speed
            code = 1
        finally:
            os._exit(code)
    _CHILDREN.append(pid)


def join_background() -> None:
    """Wait for every background writer."""
    while _CHILDREN:
        pid = _CHILDREN.pop()
        with contextlib.suppress(ChildProcessError, InterruptedError):
            os.waitpid(pid, 0)
