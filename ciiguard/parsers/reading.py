"""Reading input files safely, for every parser: regular files only, never past a size limit."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from ciiguard.errors import InputError

MAX_FILE_BYTES = 20 * 1024 * 1024  # default per-file cap (--max-file-size changes it)


def read_bytes(path: Path, display: str, limit: int | None = None) -> bytes:
    """Read a source file; errors (missing, unreadable, not a regular file, larger than ``limit``
    bytes) name the file. Never opens a FIFO or device and never reads past the limit, so a file
    named ``main.tf`` that is really ``/dev/zero`` or a pipe cannot hang the scan."""
    cap = MAX_FILE_BYTES if limit is None else limit
    try:
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode):
            raise InputError(display, None, "not a regular file")
        if st.st_size > cap:
            raise InputError(display, None, f"file is larger than the limit ({size_text(cap)})")
        with open(path, "rb") as fh:
            # What the file holds by its size, and one byte more to see it grew: a read of the
            # whole limit allocated that much (20 MiB, or all of --max-file-size) per file, and
            # more than doubled the time to read a small one.
            data = fh.read(min(st.st_size, cap) + 1)
            if st.st_size < len(data) <= cap:  # it grew since the stat: the rest, up to the limit
                data += fh.read(cap + 1 - len(data))
        if len(data) > cap:
            raise InputError(display, None, f"file is larger than the limit ({size_text(cap)})")
        return data
    except PermissionError:
        raise InputError(display, None, "permission denied") from None
    except OSError as exc:
        raise InputError(display, None, f"cannot read file: {exc.strerror or exc}") from None
    except RuntimeError:  # pathlib's "Symlink loop" on some Python versions
        raise InputError(display, None, "cannot read file: symbolic link loop") from None


def size_text(n: int) -> str:
    """A byte count as users write it for --max-file-size (``20MiB``, ``512KiB``, ``100B``)."""
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= size and n % size == 0:
            return f"{n // size}{unit}"
    return f"{n}B"


def read_text(path: Path, display: str, limit: int | None = None) -> str:
    """Read a source file as UTF-8 (BOM tolerated); errors name the file and line."""
    data = read_bytes(path, display, limit)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(display, line, "file is not valid UTF-8") from None
