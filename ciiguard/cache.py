"""On-disk caches in the user cache directory: parsed files and whole scan results.

Entries are keyed by content hashes (never by mtime), written atomically (temp file + rename, so
concurrent runs are safe), and a corrupt, truncated or foreign entry is ignored and rewritten. A
cache can only make a scan faster: the key covers everything that decides the result.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
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


class DiskCache:
    """A namespace of pickled entries under the cache directory."""

    def __init__(self, namespace: str, root: Path | None = None) -> None:
        self.dir = (root or cache_dir()) / namespace

    def _path(self, key: str) -> Path:
        return self.dir / key[:2] / f"{key[2:]}.pickle"

    def get(self, key: str) -> Any | None:
        path = self._path(key)
        try:
            data = path.read_bytes()
        except OSError:
            return None
        header = MAGIC + key.encode() + b"\n"
        if not data.startswith(header):
            return None
        try:
            return pickle.loads(data[len(header) :])
        except Exception:  # noqa: BLE001 - a corrupt entry is a miss, rewritten below
            return None

    def put(self, key: str, value: Any) -> None:
        path = self._path(key)
        try:
            payload = (
                MAGIC + key.encode() + b"\n" + pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
            )
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
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
