"""What a parser is: it claims files and turns them into resolved ``Resource``s."""

from __future__ import annotations

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

    def display(self, path: Path | str) -> str:
        """A path as users should see it: relative to the working directory when below it."""
        p = Path(path)
        try:
            return p.resolve().relative_to(self.cwd.resolve()).as_posix()
        except ValueError:
            return p.as_posix()


@runtime_checkable
class Parser(Protocol):
    """An input format. ``claims`` is asked per discovered file; ``parse`` gets the claimed ones."""

    name: str

    def claims(self, path: Path) -> bool: ...

    def parse(self, files: list[Path], ctx: ParseContext) -> ParseOutput: ...
