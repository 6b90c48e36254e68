"""What a parser is: it claims files and turns them into resolved ``Resource``s."""

from __future__ import annotations

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

        self.reads.add(Path(os.path.abspath(path)))
        return read_bytes(path, shown, self.settings.max_file_size)


@runtime_checkable
class Parser(Protocol):
    """An input format. ``claims`` is asked per discovered file; ``parse`` gets the claimed ones."""

    name: str

    def claims(self, path: Path) -> bool: ...

    def parse(self, files: list[Path], ctx: ParseContext) -> ParseOutput: ...
