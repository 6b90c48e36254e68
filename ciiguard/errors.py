"""Errors that stop a scan from being complete: each names a file and, where known, a line."""

from __future__ import annotations


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
