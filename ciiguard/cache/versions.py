"""A few stored versions under one key, each valid for one state of the scanned tree.

The result and replay caches key an entry by everything but the tree's content, and check the
tree when they use it. Keeping only the last entry per key made going back (reverting an edit,
switching back to a branch) as slow as a change. Under the key there is now a small index of the
last ``LIMIT`` versions, each with the tree's listing and the content hash of every file it
read, and each version's payload is an entry of its own. A version is used only when the
caller's check of that listing and manifest passes; one pushed out of the index is deleted.
Two runs updating the index at once may lose a version (only speed is lost).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ciiguard.cache.store import DiskCache, digest

LIMIT = 4

Check = Callable[[str, Mapping[str, str]], bool]


class Versions:
    def __init__(self, disk: DiskCache, key: str) -> None:
        self.disk = disk
        self.key = key

    def _index(self) -> list[tuple[str, dict[str, str], str]]:
        found = self.disk.get(self.key)
        if not isinstance(found, list):
            return []
        return [
            v
            for v in found
            if isinstance(v, tuple)
            and len(v) == 3
            and isinstance(v[0], str)
            and isinstance(v[1], dict)
            and isinstance(v[2], str)
        ]

    def find(self, valid: Check) -> Any | None:
        """The payload of the newest version whose listing and manifest pass ``valid``."""
        for listing, manifest, sub in self._index():
            if valid(listing, manifest):
                payload = self.disk.get(sub)
                if payload is not None:
                    return payload
        return None

    def add(self, listing: str, manifest: Mapping[str, str], payload: Any) -> None:
        """Store a version first in the index (replacing one for the same tree state)."""
        sub = digest("version", self.key, listing, repr(sorted(manifest.items())))
        self.disk.put(sub, payload)
        index = [(listing, dict(manifest), sub)]
        index += [v for v in self._index() if v[2] != sub]
        for _, _, old in index[LIMIT:]:
            self.disk.drop(old)
        # one object for each name and hash the versions repeat (most of them: versions differ
        # by an edit or two), which the pickle then holds once: a quarter of the bytes to read
        # and check at every lookup
        one: dict[str, str] = {}
        kept = [
            (listing, {one.setdefault(k, k): one.setdefault(v, v) for k, v in m.items()}, sub)
            for listing, m, sub in index[:LIMIT]
        ]
        self.disk.put(self.key, kept)


def checker(listing_now: str, fingerprint: Callable[[str], str]) -> Check:
    """``valid`` for ``Versions.find``: the listing is the tree's now and every file read still
    has its content hash (each file hashed once, however many versions are tried)."""
    seen: dict[str, str] = {}

    def fp(name: str) -> str:
        found = seen.get(name)
        if found is None:
            found = seen[name] = fingerprint(name)
        return found

    def valid(listing: str, manifest: Mapping[str, str]) -> bool:
        return listing == listing_now and all(fp(n) == v for n, v in manifest.items())

    return valid
