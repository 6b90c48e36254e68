"""Path helpers the scan uses thousands of times per run (kept free of ciiguard imports: the
caches and the parsers both use them)."""

from __future__ import annotations

import os


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
