"""Errors that stop a scan from being complete: each names a file and, where known, a line."""

from __future__ import annotations

import os
import traceback
from pathlib import Path

# What plugin code may raise: any exception, and SystemExit, so that a plugin calling
# sys.exit(0) cannot end a gate run with success. KeyboardInterrupt still stops the run.
PLUGIN_ERRORS = (Exception, SystemExit)


class CiiguardError(Exception):
    """Base class for errors ciiguard reports as one line and exit code 2."""


class InputError(CiiguardError):
    """An input that could not be read or understood."""

    def __init__(self, file: str | None, line: int | None, message: str) -> None:
        super().__init__(message)
        self.file = file
        self.line = line
        self.message = message

    def __str__(self) -> str:
        where = self.file or "<input>"
        if self.line:
            where += f":{self.line}"
        return f"{where}: {self.message}"


class UsageError(CiiguardError):
    """A bad command line or configuration value."""


def summarize(exc: BaseException) -> str:
    """``Type: message (file.py:line)`` on one line: where a plugin author should look."""
    text = " ".join(str(exc).split())
    if len(text) > 300:
        text = text[:297] + "..."
    out = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if not _host_frame(f.filename)]
    if frames:
        last = frames[-1]
        out += f" ({Path(last.filename).name}:{last.lineno})"
    return out


_HOST_DIRS: tuple[str, ...] = ()


def _host_frame(filename: str) -> bool:
    """A frame of ciiguard itself, pluggy or the import machinery: not where a plugin went wrong."""
    global _HOST_DIRS
    if filename.startswith("<frozen "):
        return True
    if not _HOST_DIRS:
        import pluggy

        _HOST_DIRS = (
            str(Path(pluggy.__file__).resolve().parent),  # pluggy/
            str(Path(__file__).resolve().parent),  # ciiguard/
        )
    parent = str(Path(filename).resolve().parent)
    return any(parent == d or parent.startswith(d + os.sep) for d in _HOST_DIRS)
