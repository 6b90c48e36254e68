"""What one Terraform module directory declares, each block with the file it came from."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ciiguard.errors import InputError
from ciiguard.parsers.terraform.hcl.nodes import Attribute, Block, HclFile


@dataclass
class Located:
    """An HCL node with the file it came from (display path)."""

    file: str
    block: Block
    # arguments an override file replaced: argument name -> that file (for provenance)
    origins: dict[str, str] = field(default_factory=dict)

    def file_of(self, argument: str) -> str:
        """The file an argument of the block was written in (an override file, or the block's)."""
        return self.origins.get(argument, self.file)


@dataclass
class LocatedAttr:
    file: str
    attr: Attribute


@dataclass
class ModuleDef:
    """Everything declared in one module directory (all its ``.tf`` files together)."""

    dir: Path
    files: list[HclFile] = field(default_factory=list)
    variables: dict[str, Located] = field(default_factory=dict)
    locals: dict[str, LocatedAttr] = field(default_factory=dict)
    outputs: dict[str, LocatedAttr] = field(default_factory=dict)
    providers: list[Located] = field(default_factory=list)
    resources: list[Located] = field(default_factory=list)
    data: dict[tuple[str, str], Located] = field(default_factory=dict)
    module_calls: list[Located] = field(default_factory=list)
    errors: list[InputError] = field(default_factory=list)
    # provider local name -> provider type, from required_providers ("amazon" -> "aws")
    provider_types: dict[str, str] = field(default_factory=dict)

    def resource_block(self, rtype: str, name: str) -> Located | None:
        for r in self.resources:
            if r.block.labels[:2] == (rtype, name):
                return r
        return None
