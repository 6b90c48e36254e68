"""Path helpers the scan uses thousands of times per run (kept free of ciiguard imports: the
caches and the parsers both use them)."""

from __future__ import annotations

import os
from collections.abc import Callable


def absolute(path: str, cwd: str) -> str:
    """``os.path.abspath(path)`` while the working directory is ``cwd`` (absolute, as
    ``os.getcwd()`` gives it): a path with nothing to normalise (no ``.`` or ``..`` part, no
    doubled or trailing separator) is joined, not normalised again, on POSIX; thousands of
    scanned paths are made absolute per run."""
    if (
        os.sep == "/"
        and path
        and "//" not in path
        and not path.endswith("/")
        and "/./" not in f"/{path}/"
        and "/../" not in f"/{path}/"
    ):
        if path.startswith("/"):
            return path
        return f"{cwd}/{path}" if cwd != "/" else f"/{path}"
    return os.path.abspath(path)


def realpath(
    path: str, memo: dict[str, str], resolve: Callable[[str], str] = os.path.realpath
) -> str:
    """``resolve(path)`` (``os.path.realpath``, or the parsers' ``Path.resolve``, which raises on a
    link loop), directory by directory through ``memo``: thousands of paths share their parents,
    and the caller says how long the memo may be trusted. A path with a ``..`` in it is left to
    ``resolve`` whole (after a link loop ``..`` applies lexically), as are a first name, ``.``
    and a symbolic link's target."""
    found = memo.get(path)
    if found is None:
        if ".." in path.split(os.sep) or (os.altsep and ".." in path.split(os.altsep)):
            found = memo[path] = resolve(path)
        else:
            found = _by_parts(path, memo, resolve)
    return found


def _by_parts(path: str, memo: dict[str, str], resolve: Callable[[str], str]) -> str:
    found = memo.get(path)
    if found is None:
        parent, name = os.path.split(path)
        if parent and parent != path and name not in ("", "."):
            candidate = os.path.join(_by_parts(parent, memo, resolve), name)
            found = resolve(candidate) if os.path.islink(candidate) else candidate
        else:
            found = resolve(path)
        memo[path] = found
    return found
