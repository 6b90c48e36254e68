"""What a parser is: it claims files and turns them into resolved ``Resource``s."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, runtime_checkable

from ciiguard.catalogue import Catalogue
from ciiguard.model import ParseOutput
from ciiguard.settings import Settings


@dataclass
class ParseContext:
    settings: Settings
    catalogue: Catalogue
    roots: list[Path] = field(default_factory=list)  # the scanned paths (containment boundary)
    cwd: Path = field(default_factory=Path.cwd)
    # Every file a parser read outside the discovered inputs (tfvars, modules, var files): the
    # result cache re-checks them, so a change anywhere that decided the result invalidates it.
    reads: set[Path] = field(default_factory=set)
    # Content fingerprints of the files read through ``read_bytes``, taken from the bytes parsed:
    # the result cache's manifest then describes exactly what was read (and needs no re-read).
    digests: dict[str, str] = field(default_factory=dict, repr=False)
    _shown: dict[str, str] = field(default_factory=dict, repr=False)
    _cwd_abs: str = field(default="", repr=False)

    def display(self, path: Path | str) -> str:
        """A path as users should see it: relative to the working directory when below it."""
        key = str(path)
        shown = self._shown.get(key)
        if shown is None:
            absolute = os.path.abspath(key)
            cwd = self._cwd_abs or os.path.abspath(self.cwd)
            self._cwd_abs = cwd
            if absolute == cwd:
                shown = "."
            elif absolute.startswith(cwd.rstrip(os.sep) + os.sep):
                shown = Path(absolute[len(cwd.rstrip(os.sep)) + 1 :]).as_posix()
            else:
                shown = Path(key).as_posix()
            self._shown[key] = shown
        return shown

    def read_bytes(self, path: Path, shown: str) -> bytes:
        """Read an input file for a parser, recording it for the result cache."""
        from ciiguard.parsers.terraform_files import read_bytes

        absolute = os.path.abspath(path)
        self.reads.add(Path(absolute))
        data = read_bytes(path, shown, self.settings.max_file_size)
        self.digests[absolute] = "file:" + hashlib.sha256(data).hexdigest()
        return data


@runtime_checkable
class Parser(Protocol):
    """An input format. ``claims`` is asked per discovered file; ``parse`` gets the claimed ones."""

    name: str

    def claims(self, path: Path) -> bool: ...

    def parse(self, files: list[Path], ctx: ParseContext) -> ParseOutput: ...


_REAL: dict[Path, Path] = {}


def real(path: Path) -> Path:
    """``path.resolve()``, remembered for the rest of the scan (``forget_real`` starts a scan):
    module directories are resolved again and again while a tree is expanded."""
    found = _REAL.get(path)
    if found is None:
        found = _REAL[path] = path.resolve()
    return found


def forget_real() -> None:
    _REAL.clear()
