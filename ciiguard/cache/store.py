"""On-disk caches in the user cache directory: parsed files and whole scan results.

Entries are keyed by content hashes (never by mtime), written atomically (temp file + rename, so
concurrent runs are safe), and a corrupt, truncated or foreign entry is ignored and rewritten. A
cache can only make a scan faster: the key covers everything that decides the result.

The cache directory is trusted input: whoever can write it can decide a cached verdict. So an
entry is used only when every directory from the cache root to it, and the entry itself, belong
to the current user and nobody else can write them (each opened without following links, then
checked with ``fstat``), and when it carries the HMAC-SHA256 of its bytes under this
installation's key, kept outside the cache directory (``key_file``: created 0600 on first use).
An entry another user planted, one in a directory others can write, or one a same-user writer
forged without the key (a cache restored from another CI job) is ignored, and nothing is written
into such a directory. Unpickling builds ciiguard's own data classes only (a crafted entry
cannot run code).
"""

from __future__ import annotations

import contextlib
import functools
import gc
import hashlib
import io
import os
import pickle
import stat
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, NoReturn

MAGIC = b"ciiguard-cache-2\n"  # then the key, its HMAC and the pickle, a line each


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
        "ciiguard.cache.roots",
        "fractions",
    }
)
_SAFE_BUILTINS = frozenset({"set", "frozenset", "complex", "bytearray", "range", "slice"})


# Classes find_class allowed, by (module, name): a per-root entry holds hundreds of pickles,
# each naming the same few classes again.
_ALLOWED: dict[tuple[str, str], type] = {}


class _SafeUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        found = _ALLOWED.get((module, name))
        if found is not None:
            return found
        if module == "builtins" and name in _SAFE_BUILTINS:
            obj = super().find_class(module, name)
        elif module in _SAFE_MODULES:
            obj = super().find_class(module, name)
            if not isinstance(obj, type):  # classes only: no function can be called on load
                raise pickle.UnpicklingError(f"cache entry refers to {module}.{name}")
        else:
            raise pickle.UnpicklingError(f"cache entry refers to {module}.{name}")
        _ALLOWED[(module, name)] = obj
        return obj


def safe_loads(data: bytes) -> Any:
    """Unpickle bytes that were part of a checked entry, into ciiguard's own classes only."""
    return _SafeUnpickler(io.BytesIO(data)).load()


# -- trust: every directory from the root to the entry, the entry itself, and its author ----------
_SECURE = hasattr(os, "O_NOFOLLOW") and hasattr(os, "getuid") and os.open in os.supports_dir_fd
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
KEY_ENV = "CIIGUARD_CACHE_KEY_FILE"
_KEY_BYTES = 32


def key_file() -> Path:
    """Where the key that authenticates cache entries lives: outside the cache directory, so a
    cache restored from elsewhere does not bring its own. ``$CIIGUARD_CACHE_KEY_FILE``, else
    ``$XDG_CONFIG_HOME/ciiguard/cache-key``, else ``~/.config/ciiguard/cache-key``."""
    explicit = os.environ.get(KEY_ENV)
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "ciiguard" / "cache-key"


def _ours(st: os.stat_result, kind: int) -> bool:
    """Owned by this user, of the expected kind, and writable by nobody else."""
    return (
        stat.S_IFMT(st.st_mode) == kind
        and st.st_uid == os.getuid()
        and not st.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
    )


def _kept_if_ours(fd: int, kind: int) -> int | None:
    """``fd`` when what it opened is ours alone and of ``kind`` (``_ours``); else it is closed."""
    try:
        ok = _ours(os.fstat(fd), kind)
    except OSError:
        ok = False
    if not ok:
        os.close(fd)
        return None
    return fd


_SECRET: dict[str, bytes | None] = {}


def _secret(cache_root: Path) -> bytes | None:
    """The installation's cache key (created 0600 on first use), or None: no cache then.

    Read without following a link, and only when it is ours and readable by nobody else; a key
    kept inside the cache directory would travel with the cache, so it is refused."""
    path = key_file()
    where = str(path)
    if where in _SECRET:
        return _SECRET[where]
    secret = None
    try:
        real, root = path.parent.resolve() / path.name, cache_root.resolve()
        if not (real == root or root in real.parents):
            secret = _read_key(path) if _SECURE else _read_key_plain(path)
    except OSError:
        secret = None
    _SECRET[where] = secret
    return secret


def _read_key(path: Path) -> bytes | None:
    try:
        fd = os.open(path, os.O_RDONLY | _NOFOLLOW)
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, 0o600)
        except FileExistsError:  # another run made it first
            return _read_key(path)
        try:
            os.write(fd, os.urandom(_KEY_BYTES))
        finally:
            os.close(fd)
        return _read_key(path)
    try:
        st = os.fstat(fd)
        if not _ours(st, stat.S_IFREG) or st.st_mode & 0o077:
            return None
        data = os.read(fd, 4096)
    finally:
        os.close(fd)
    return data if len(data) >= _KEY_BYTES else None


def _read_key_plain(path: Path) -> bytes | None:  # pragma: no cover - no O_NOFOLLOW (Windows)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(os.urandom(_KEY_BYTES))
    data = path.read_bytes()
    return data if len(data) >= _KEY_BYTES else None


def _mac(secret: bytes, namespace: str, key: str, payload: bytes | memoryview) -> bytes:
    import hmac

    msg = namespace.encode() + b"\0" + key.encode() + b"\0"
    h = hmac.new(secret, msg, hashlib.sha256)
    h.update(payload)
    return h.hexdigest().encode()


class _Dir:
    """A directory opened without following links and checked (ours, writable by nobody
    else); its children are opened relative to it, so no component can be swapped after."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    @staticmethod
    def root(path: Path, create: bool) -> _Dir | None:
        """The cache root (a link the user configured is followed; its target is checked)."""
        try:
            if create:
                path.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(path, os.O_RDONLY | _DIRECTORY)
        except OSError:
            return None
        return _Dir.checked(fd)

    @staticmethod
    def checked(fd: int) -> _Dir | None:
        kept = _kept_if_ours(fd, stat.S_IFDIR)
        return _Dir(kept) if kept is not None else None

    def child(self, name: str, create: bool) -> _Dir | None:
        flags = os.O_RDONLY | _DIRECTORY | _NOFOLLOW
        try:
            try:
                fd = os.open(name, flags, dir_fd=self.fd)
            except FileNotFoundError:
                if not create:
                    return None
                with contextlib.suppress(FileExistsError):
                    os.mkdir(name, 0o700, dir_fd=self.fd)
                fd = os.open(name, flags, dir_fd=self.fd)
        except OSError:
            return None
        return _Dir.checked(fd)

    def read(self, name: str) -> bytes | None:
        """A regular file of ours, not writable by others, read without following a link."""
        try:
            fd = os.open(name, os.O_RDONLY | _NOFOLLOW, dir_fd=self.fd)
        except OSError:
            return None
        try:
            st = os.fstat(fd)
            if not _ours(st, stat.S_IFREG):
                return None
            with open(fd, "rb", closefd=False) as fh:  # one read of the whole file
                return fh.read()
        except OSError:
            return None
        finally:
            os.close(fd)

    def replace(self, name: str, payload: bytes) -> None:
        """Write ``name`` atomically: a new private file beside it, then a rename."""
        tmp = f".tmp-{os.getpid()}-{os.urandom(6).hex()}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, 0o600, dir_fd=self.fd)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(payload)
            os.replace(tmp, name, src_dir_fd=self.fd, dst_dir_fd=self.fd)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp, dir_fd=self.fd)
            raise

    def append(self, name: str, data: bytes) -> int:
        """Append to a file of ours (created 0600); return its size, or -1 when not ours."""
        fd = os.open(
            name, os.O_WRONLY | os.O_APPEND | os.O_CREAT | _NOFOLLOW, 0o600, dir_fd=self.fd
        )
        try:
            if not _ours(os.fstat(fd), stat.S_IFREG):
                return -1
            os.write(fd, data)
            return os.fstat(fd).st_size
        finally:
            os.close(fd)

    def remove(self, name: str) -> None:
        with contextlib.suppress(OSError):
            os.unlink(name, dir_fd=self.fd)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self.fd)


class DiskCache:
    """A namespace of pickled entries under the cache directory.

    Trusted only as far as it can be checked: every directory from the cache root to an entry,
    and the entry, must be this user's and writable by nobody else (opened without following
    links), and an entry must carry the HMAC of this installation's key (``key_file``), so an
    entry another user, a restored cache or a same-user writer without the key planted is
    ignored. Nothing is written into a directory that fails the check."""

    def __init__(self, namespace: str, root: Path | None = None) -> None:
        self.root = root or cache_dir()
        self.namespace = namespace
        self.dir = self.root / namespace
        self._ns: _Dir | None = None  # the namespace directory, opened and checked once
        self._seen: set[str] | None = None

    def _path(self, key: str) -> Path:
        return self.dir / key[:2] / f"{key[2:]}.pickle"

    def _namespace(self, create: bool) -> _Dir | None:
        if self._ns is not None:
            return self._ns
        if _BACKGROUND:
            wait_for_writers()  # a command line's first cache access: the last run's writers
        root = _Dir.root(self.root, create)
        if root is None:
            return None
        try:
            ns = root.child(self.namespace, create)
        finally:
            root.close()
        self._ns = ns
        return ns

    def _entry_dir(self, key: str, create: bool) -> _Dir | None:
        ns = self._namespace(create)
        return ns.child(key[:2], create) if ns is not None else None

    def get(self, key: str) -> Any | None:
        if not _SECURE:  # pragma: no cover - no O_NOFOLLOW / dir_fd (Windows)
            return None
        secret = _secret(self.root)
        if secret is None:
            return None
        folder = self._entry_dir(key, create=False)
        if folder is None:
            return None
        try:
            data = folder.read(f"{key[2:]}.pickle")
        finally:
            folder.close()
        if data is None:
            return None
        header = MAGIC + key.encode() + b"\n"
        end = len(header) + 65
        if not data.startswith(header) or data[end - 1 : end] != b"\n":
            return None
        import hmac

        payload = memoryview(data)[end:]  # (no copy of a large entry)
        if not hmac.compare_digest(
            data[len(header) : end - 1], _mac(secret, self.namespace, key, payload)
        ):
            return None  # not written by this installation
        try:
            stream = io.BytesIO(data)
            stream.seek(end)
            return _SafeUnpickler(stream).load()
        except Exception:  # noqa: BLE001 - a corrupt entry is a miss, rewritten below
            return None

    SEEN_LIMIT = 8 << 20  # bytes of the admission list before its older half is dropped

    def seen(self, key: str) -> bool:
        """Whether ``mark`` was called with ``key`` before (by any run): an admission check, so
        an entry is written only the second time it is needed."""
        if self._seen is None:
            ns = self._namespace(create=False) if _SECURE else None
            data = ns.read("seen.txt") if ns is not None else None
            self._seen = set((data or b"").decode("ascii", "replace").split())
        return key in self._seen

    def mark(self, keys: Iterable[str]) -> None:
        """Add keys to the admission list: one appended write (concurrent runs append safely)."""
        data = "".join(f"{k}\n" for k in keys).encode("ascii", "replace")
        if not data or not _SECURE:
            return
        try:
            ns = self._namespace(create=True)
            if ns is None:
                return
            size = ns.append("seen.txt", data)
            if size > self.SEEN_LIMIT:  # keep the newer half
                lines = (ns.read("seen.txt") or b"").splitlines(keepends=True)
                ns.replace("seen.txt", b"".join(lines[len(lines) // 2 :]))
        except OSError:
            return

    def drop(self, key: str) -> None:
        """Remove an entry (a version another one replaced)."""
        if not _SECURE:  # pragma: no cover
            return
        folder = self._entry_dir(key, create=False)
        if folder is not None:
            try:
                folder.remove(f"{key[2:]}.pickle")
            finally:
                folder.close()

    def put(self, key: str, value: Any) -> None:
        if not _SECURE:  # pragma: no cover
            return
        secret = _secret(self.root)
        if secret is None:
            return
        try:
            payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
            mac = _mac(secret, self.namespace, key, payload)
            folder = self._entry_dir(key, create=True)
            if folder is None:
                return  # a directory on the way is not ours alone: never written into
            try:
                folder.replace(
                    f"{key[2:]}.pickle", MAGIC + key.encode() + b"\n" + mac + b"\n" + payload
                )
            finally:
                folder.close()
        except (OSError, pickle.PicklingError, RecursionError, TypeError, AttributeError):
            return  # an unwritable cache only costs speed


# -- writing in the background -------------------------------------------------------------------
# Pickling and writing cache entries is pure overhead for the run that writes them (a third of a
# cold scan). The command line lets a forked child do it while the scan goes on, and does not wait
# for it: the verdict and the reports are out when they are written. Each writer holds a shared
# lock on the cache root's ``writers.lock`` from before it is forked until it exits, and the next
# command line's first cache access takes that lock exclusively (for a moment), so it sees every
# entry the last run wrote, as when the command waited for its writers. A writer still at work
# after WRITER_WAIT seconds is no longer waited for: entries are written atomically and checked
# against the tree before use, so a run that starts meanwhile only misses what is not written yet.
_BACKGROUND = False
_CHILDREN: list[int] = []
_DEFERRED: list[Callable[[], None]] | None = None
WRITER_WAIT = 10.0
_LOCK_NAME = "writers.lock"
_WAITED: set[str] = set()  # cache roots whose writers this command line waited for
_WRITER = False  # this process is a writer (it holds the lock: it never waits for it)


def allow_background(allowed: bool) -> None:
    """Let ``in_background`` fork (the command line turns this on; library callers do not)."""
    global _BACKGROUND
    _BACKGROUND = allowed and hasattr(os, "fork")
    _WAITED.clear()  # each command line waits (once) for the writers before it


def in_background(work: Callable[[], None]) -> None:
    """Run cache writes in a forked child (see above), or right here when that is not possible."""
    if _DEFERRED is not None:
        _DEFERRED.append(work)
        return
    if not _BACKGROUND or threading.active_count() > 1:  # forking a threaded process is unsafe
        work()
        return
    try:
        pid = fork()
    except OSError:
        work()
        return
    if pid == 0:
        gc.disable()
        with contextlib.suppress(OSError):
            os.nice(10)  # the scan keeps its core: writers share what it leaves
        quiet()
        child_exit(work)  # (an unwritable cache only costs speed)
    _CHILDREN.append(pid)


def fork() -> int:
    """``os.fork`` for a cache writer or a worker that writes cache entries: the child holds the
    writers' lock until it exits (the parent's copy is closed), and never waits for it itself."""
    wait_for_writers()  # before the first child holds the lock: this run waits for the last one's
    lock = _writers_lock(create=True)
    if lock is not None:
        _flock(lock, shared=True, wait=True)
    try:
        pid = os.fork()
    except OSError:
        if lock is not None:
            os.close(lock)
        raise
    if pid == 0:
        global _WRITER
        _WRITER = True  # a writer never waits for the writers (itself among them)
        _reap(forget=True)  # the parent's children are not this process's
    elif lock is not None:
        os.close(lock)
    return pid


def quiet() -> None:
    """In a writer, which may outlive the command: let go of the command's standard streams, so
    whoever reads them until they close (a pipe, a CI step, ``$(...)``) is not held up by it."""
    try:
        null = os.open(os.devnull, os.O_RDWR)
    except OSError:
        return
    for fd in (0, 1, 2):
        with contextlib.suppress(OSError):
            os.dup2(null, fd)
    os.close(null)


def wait_for_writers(timeout: float | None = None) -> None:
    """Once per process and cache root, on the command line: wait (at most ``timeout``, default
    ``WRITER_WAIT``) until the writers an earlier run left behind are done."""
    root = str(cache_dir())
    if not _BACKGROUND or _WRITER or root in _WAITED:
        return
    _WAITED.add(root)
    settle(timeout=timeout)


def settle(root: Path | None = None, timeout: float | None = None) -> bool:
    """Wait (at most ``timeout`` seconds, default ``WRITER_WAIT``) until no cache writer is at
    work in ``root`` (default: ``cache_dir()``): whoever reads or copies a cache directory
    after a command line (a test, a CI step saving it) sees every entry it wrote. True when
    none is left."""
    lock = _writers_lock(create=False, root=root)
    if lock is None:
        return True
    try:
        limit = WRITER_WAIT if timeout is None else timeout
        return _flock(lock, shared=False, wait=False, timeout=limit)
    finally:
        os.close(lock)  # (releases it)


def _writers_lock(create: bool, root: Path | None = None) -> int | None:
    """The cache root's lock file, opened (ours alone, not through a link), or None."""
    if not _SECURE:  # pragma: no cover - no O_NOFOLLOW / dir_fd (Windows: no fork either)
        return None
    folder = _Dir.root(root or cache_dir(), create)
    if folder is None:
        return None
    flags = os.O_RDWR | _NOFOLLOW | (os.O_CREAT if create else 0)
    try:
        fd = os.open(_LOCK_NAME, flags, 0o600, dir_fd=folder.fd)
    except OSError:
        return None
    finally:
        folder.close()
    return _kept_if_ours(fd, stat.S_IFREG)


def _flock(fd: int, shared: bool, wait: bool, timeout: float = 0.0) -> bool:
    """Take ``fd``'s lock; without ``wait``, try for at most ``timeout`` seconds."""
    import fcntl
    import time

    kind = fcntl.LOCK_SH if shared else fcntl.LOCK_EX
    deadline = time.monotonic() + timeout
    pause = 0.001
    while True:
        try:
            fcntl.flock(fd, kind if wait else kind | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() >= deadline:
                return False
        except OSError:
            return False
        time.sleep(pause)
        pause = min(pause * 2, 0.005)  # (a writer finishing lets the next run go at once)


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
    """Wait for every background writer (library callers and tests; the command line does not)."""
    while _CHILDREN:
        pid = _CHILDREN.pop()
        with contextlib.suppress(ChildProcessError, InterruptedError):
            os.waitpid(pid, 0)


def release_background() -> None:
    """The command line's end: its writers finish on their own (the next run waits for them,
    see ``wait_for_writers``); those already done are reaped."""
    _reap(forget=False)


def _reap(forget: bool) -> None:
    """Collect the writers that have exited (all of them are forgotten with ``forget``)."""
    for pid in list(_CHILDREN):
        done = forget
        if not forget:
            try:
                done = os.waitpid(pid, os.WNOHANG)[0] != 0
            except (ChildProcessError, InterruptedError):
                done = True
        if done:
            _CHILDREN.remove(pid)


def send(stream: Any, value: object) -> None:
    """One message to a forked worker or from one: ``value`` pickled, after its length."""
    data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(len(data).to_bytes(8, "little") + data)
    stream.flush()


def receive(stream: Any) -> Any:
    """The next ``send`` from the other end; EOFError when it sent nothing (it failed)."""
    head = stream.read(8)
    if len(head) != 8:
        raise EOFError("the other process sent nothing")
    size = int.from_bytes(head, "little")
    data = stream.read(size)
    if len(data) != size:
        raise EOFError("the other process stopped sending")
    return pickle.loads(data)  # (our own forked process wrote it)


def can_fork() -> bool:
    """Whether work may be split with a forked child now (the CLI allows it; one thread)."""
    return _BACKGROUND and threading.active_count() == 1


@contextlib.contextmanager
def one_writer() -> Iterator[None]:
    """The cache writes made inside run as one background job at its end: one child for them
    all, not one per write (evaluating a root module that calls hundreds of modules reads each
    module directory on its own, and each read that parsed something has a write). Inside a
    worker that keeps its writes for later (``defer_background``) nothing changes."""
    global _DEFERRED
    if _DEFERRED is not None:
        yield
        return
    _DEFERRED = []
    try:
        yield
    finally:
        works, _DEFERRED = _DEFERRED, None
        if works:
            in_background(functools.partial(_run_all, works))


def _run_all(works: list[Callable[[], None]]) -> None:
    for work in works:
        with contextlib.suppress(Exception):  # (one write failing costs only its own speed)
            work()


def defer_background() -> None:
    """In a forked worker: keep cache writes for ``run_deferred`` (after its answer is sent)."""
    global _DEFERRED
    _DEFERRED = []


def run_deferred() -> None:
    for work in _DEFERRED or ():
        with contextlib.suppress(Exception):
            work()


def adopt(pid: int) -> None:
    """A forked worker (see ``fork``) still writing cache entries, like a background writer."""
    _CHILDREN.append(pid)
