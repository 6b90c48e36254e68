"""A small, immutable syntax tree for HCL: what the evaluator walks and what the parse cache stores.

``hcl_fast`` builds these nodes directly; for what it leaves to python-hcl2, ``hcl_reader`` folds
the Lark parse tree into the same nodes. Evaluation never re-parses text.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass, field

# Bumped whenever hcl_reader folds the same source into different nodes; caches of parsed files
# must include it in their keys. 2: 512-bit number literals, legacy splats carry attributes only,
# HCL's <<- trimming rule, NFC strings, strict escapes. 3: every comment is kept (also inside
# expressions), and an attribute's end line is its last token's, not a trailing newline's.
# 4: template directives (%{if}, %{for}) and strip markers are read, not left unsupported.
AST_VERSION = 5


class Node:
    """Base of every node: pickles as (class, field values), which the parse cache loads ~5x faster
    than the generic frozen-dataclass state protocol."""

    __slots__ = ()
    __match_args__: tuple[str, ...] = ()

    def __reduce__(self) -> tuple[type, tuple[object, ...]]:
        cls = type(self)
        get = _FIELDS.get(cls)
        if get is None:
            names = cls.__match_args__
            one = operator.attrgetter(*names) if names else None
            get = _FIELDS[cls] = (
                (lambda o: ()) if one is None
                else (lambda o: (one(o),)) if len(names) == 1
                else one
            )  # fmt: skip
        return (cls, get(self))


_FIELDS: dict[type, Callable[[Node], tuple[object, ...]]] = {}  # per class: its field values


class Expr(Node):
    """Base class of every expression node."""

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class Literal(Expr):
    value: object  # str, int, float, bool or None


@dataclass(frozen=True, slots=True)
class Template(Expr):
    """A quoted string or heredoc with interpolations; parts are str or Expr."""

    parts: tuple[str | Expr, ...]


@dataclass(frozen=True, slots=True)
class TemplateIf(Expr):
    """``%{ if cond }then%{ else }otherwise%{ endif }`` inside a template; renders a string."""

    cond: Expr
    then: Expr  # a Template or Literal
    otherwise: Expr | None


@dataclass(frozen=True, slots=True)
class TemplateFor(Expr):
    """``%{ for k, v in coll }body%{ endfor }`` inside a template; renders a string."""

    key_var: str | None
    value_var: str
    collection: Expr
    body: Expr  # a Template or Literal


@dataclass(frozen=True, slots=True)
class Name(Expr):
    """A bare identifier: the root of a traversal (var, local, each, a resource type, a for variable)."""

    name: str


@dataclass(frozen=True, slots=True)
class GetAttr(Expr):
    obj: Expr
    name: str


@dataclass(frozen=True, slots=True)
class Index(Expr):
    obj: Expr
    key: Expr


@dataclass(frozen=True, slots=True)
class Splat(Expr):
    """``obj[*].a[0]`` (full) or ``obj.*.a`` (attribute-only); ``ops`` are applied to each element."""

    obj: Expr
    ops: tuple[tuple[str, object], ...]  # ("attr", name) or ("index", Expr)
    full: bool


@dataclass(frozen=True, slots=True)
class Call(Expr):
    name: str
    args: tuple[Expr, ...]
    expand_last: bool = False


@dataclass(frozen=True, slots=True)
class Conditional(Expr):
    cond: Expr
    if_true: Expr
    if_false: Expr


@dataclass(frozen=True, slots=True)
class BinaryOp(Expr):
    op: str
    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True)
class UnaryOp(Expr):
    op: str
    operand: Expr


@dataclass(frozen=True, slots=True)
class TupleExpr(Expr):
    items: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class ObjectExpr(Expr):
    items: tuple[tuple[Expr, Expr], ...]


@dataclass(frozen=True, slots=True)
class ForExpr(Expr):
    """``[for k, v in coll : body if cond]`` or ``{for k, v in coll : key => value... if cond}``."""

    key_var: str | None
    value_var: str
    collection: Expr
    key: Expr | None  # only for object results
    value: Expr
    cond: Expr | None
    grouping: bool
    is_object: bool


@dataclass(frozen=True, slots=True)
class Unsupported(Expr):
    """Syntax the evaluator deliberately does not interpret; always unknown."""

    what: str


@dataclass(frozen=True, slots=True)
class Hole(Expr):
    """A value no file holds (a part of a Terragrunt-generated file that comes from something
    ciiguard does not run); always unknown, for ``reason``. Never produced by the readers."""

    reason: str


@dataclass(frozen=True, slots=True)
class Attribute(Node):
    name: str
    expr: Expr
    line: int
    end_line: int


@dataclass(frozen=True, slots=True)
class Block(Node):
    type: str
    labels: tuple[str, ...]
    body: Body
    line: int
    end_line: int


@dataclass(frozen=True, slots=True)
class Body(Node):
    attributes: tuple[Attribute, ...]
    blocks: tuple[Block, ...]

    def attr(self, name: str) -> Attribute | None:
        for a in self.attributes:
            if a.name == name:
                return a
        return None

    def attrs_by_name(self) -> dict[str, Attribute]:
        """``attr`` for every name at once (the first attribute of each name), for a caller
        that asks for many: one ``attr`` per variable of a module call passing N arguments was
        N x N steps."""
        table: dict[str, Attribute] = {}
        for a in self.attributes:
            table.setdefault(a.name, a)
        return table

    def blocks_of(self, block_type: str) -> tuple[Block, ...]:
        return tuple(b for b in self.blocks if b.type == block_type)


@dataclass(frozen=True, slots=True)
class Comment(Node):
    line: int
    text: str


@dataclass(frozen=True, slots=True)
class HclFile(Node):
    """One parsed ``.tf`` / ``.tf.json`` / ``.tfvars`` file."""

    path: str
    body: Body
    comments: tuple[Comment, ...] = field(default=())
