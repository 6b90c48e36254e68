"""What one Terraform module directory declares, each block with the file it came from."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ciiguard.errors import InputError
from ciiguard.parsers.comments import CommentWindows
from ciiguard.parsers.terraform.hcl.nodes import (
    Attribute,
    Block,
    Expr,
    GetAttr,
    HclFile,
    Literal,
    Name,
    ObjectExpr,
)


@dataclass(slots=True)
class Located:
    """An HCL node with the file it came from (display path).

    Slotted, with no table of its own until an override file needs one: a module holds one per
    block, 147,000 in a 15 MB file of buckets, where that was 23 MB."""

    file: str
    block: Block
    # arguments an override file replaced: argument name -> that file (for provenance)
    origins: dict[str, str] | None = None

    def file_of(self, argument: str) -> str:
        """The file an argument of the block was written in (an override file, or the block's)."""
        return self.origins.get(argument, self.file) if self.origins else self.file


@dataclass(slots=True)
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
    # ``resource_block``'s and ``module_call``'s tables: (first block by labels, made from how
    # many blocks)
    _tables: dict[str, tuple[dict[tuple[str, ...], Located], int]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def resource_block(self, rtype: str, name: str) -> Located | None:
        """The first ``resource "rtype" "name"`` block."""
        return self._first("resources", self.resources, 2).get((rtype, name))

    def module_call(self, name: str) -> Located | None:
        """The first ``module "name"`` call."""
        return self._first("module_calls", self.module_calls, 1).get((name,))

    def _first(
        self, what: str, blocks: list[Located], labels: int
    ) -> dict[tuple[str, ...], Located]:
        """The first of ``blocks`` by its first ``labels`` labels, by a table made on first use
        and again when blocks were added: a search of the list per reference made N references
        to N resources (or module calls) take N x N steps."""
        found = self._tables.get(what)
        if found is None or found[1] != len(blocks):
            table: dict[tuple[str, ...], Located] = {}
            for b in blocks:
                table.setdefault(b.block.labels[:labels], b)
            found = self._tables[what] = (table, len(blocks))
        return found[0]


def block_comments(
    windows: CommentWindows, files: Sequence[HclFile], located: Located
) -> tuple[tuple[int, str], ...]:
    """The comments from two lines above a block to its end (where inline suppressions and
    approvals are read), as ``(line, text)`` in the file's order; () when no file is the block's."""
    block = located.block
    window = windows.window(
        (id(files), located.file), files, lambda: _comments_of(files, located.file)
    )
    return window.between(block.line - 2, block.end_line)


def _comments_of(files: Sequence[HclFile], path: str) -> list[tuple[int, str]]:
    for f in files:
        if f.path == path:
            return [(c.line, c.text) for c in f.comments]
    return []


def provider_ref(expr: Expr) -> str | None:
    """``aws`` or ``aws.us`` from a provider reference (``provider = aws.us``, a ``providers``
    map key or value)."""
    if isinstance(expr, Name):
        return expr.name
    if isinstance(expr, GetAttr) and isinstance(expr.obj, Name):
        return f"{expr.obj.name}.{expr.name}"
    if isinstance(expr, Literal) and isinstance(expr.value, str):
        return expr.value
    return None


def passed_providers(expr: Expr) -> dict[str, str] | None:
    """A module call's ``providers = { aws = aws.hk }`` as {key inside: key outside}; None when
    it is not a map of provider references."""
    if not isinstance(expr, ObjectExpr):
        return None
    out: dict[str, str] = {}
    for k, v in expr.items:
        inner, outer = provider_ref(k), provider_ref(v)
        if inner is None or outer is None:
            return None
        out[inner] = outer
    return out
