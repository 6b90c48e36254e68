"""How Terraform combines the files of one module: override files, and what it declares twice.

Terraform rejects a module that says the same thing twice: an argument set twice in one block, a
key repeated in a JSON object, two ``provider "aws"`` blocks with the same alias, a variable,
local, output, resource or module call declared twice. It merges ``override.tf``,
``*_override.tf`` (and their ``.tf.json`` forms) over the other files, after them and in lexical
order, block by block. A gate that kept the first or the last of two declarations instead could be
shown a mainland region while Terraform deploys another, so both rules are implemented here.
"""

from __future__ import annotations

from collections.abc import Iterator

from ciiguard.errors import InputError
from ciiguard.parsers.terraform.hcl.nodes import (
    Attribute,
    BinaryOp,
    Block,
    Body,
    Call,
    Conditional,
    Expr,
    ForExpr,
    GetAttr,
    HclFile,
    Index,
    Literal,
    ObjectExpr,
    Splat,
    Template,
    TupleExpr,
    UnaryOp,
)
from ciiguard.parsers.terraform.module_def import Located, LocatedAttr, ModuleDef

OVERRIDE_NAMES = ("override.tf", "override.tf.json")
OVERRIDE_SUFFIXES = ("_override.tf", "_override.tf.json")


def is_override(name: str) -> bool:
    """Whether a file name is one Terraform merges over the others (Terraform: override files)."""
    return name in OVERRIDE_NAMES or name.endswith(OVERRIDE_SUFFIXES)


# -- arguments set twice ---------------------------------------------------------------------
def repeated_arguments(hcl: HclFile) -> list[InputError]:
    """Arguments set twice in one block (HCL: "Attribute redefined"); in JSON syntax also keys
    repeated in one object value (HCL JSON: "Duplicate object attribute")."""
    json_syntax = hcl.path.endswith(".json")
    errors: list[InputError] = []
    stack = [hcl.body]
    while stack:
        body = stack.pop()
        seen: dict[str, int] = {}
        for a in body.attributes:
            if a.name in seen:
                errors.append(
                    InputError(
                        hcl.path,
                        a.line,
                        f'argument "{a.name}" is set twice in one block (first at line '
                        f"{seen[a.name]}); Terraform rejects this",
                    )
                )
            else:
                seen[a.name] = a.line
            if json_syntax:
                errors.extend(_repeated_json_keys(hcl.path, a))
        stack.extend(b.body for b in body.blocks)
    errors.sort(key=lambda e: e.line or 0)
    return errors


def _repeated_json_keys(path: str, attr: Attribute) -> Iterator[InputError]:
    for expr in _walk(attr.expr):
        if not isinstance(expr, ObjectExpr):
            continue
        keys = [k.value for k, _ in expr.items if isinstance(k, Literal)]
        dup = _first_repeated(keys)
        if dup is not None:
            yield InputError(
                path,
                attr.line,
                f'key "{dup}" appears twice in one JSON object of "{attr.name}"; Terraform '
                "rejects this",
            )


def _first_repeated(keys: list[object]) -> object:
    """The first key equal to one before it (None when none is): ``k in keys[:i]`` for each
    ``i`` made a JSON object with N keys cost N x N, so the keys seen are kept in a set (which
    compares like the list did: identity, then equality). Unhashable keys cannot come from JSON,
    but are still answered the linear way."""
    seen: set[object] = set()
    for k in keys:
        try:
            if k in seen:
                return k
            seen.add(k)
        except TypeError:
            return next((k for i, k in enumerate(keys) if k in keys[:i]), None)
    return None


def _walk(expr: Expr) -> Iterator[Expr]:
    """Every expression node under expr, iteratively (JSON input can nest deeply)."""
    todo: list[object] = [expr]
    while todo:
        e = todo.pop()
        if not isinstance(e, Expr):
            continue
        yield e
        if isinstance(e, ObjectExpr):
            todo.extend(x for kv in e.items for x in kv)
        elif isinstance(e, TupleExpr):
            todo.extend(e.items)
        elif isinstance(e, Template):
            todo.extend(p for p in e.parts if isinstance(p, Expr))
        elif isinstance(e, (GetAttr, Splat)):
            todo.append(e.obj)
        elif isinstance(e, Index):
            todo.extend((e.obj, e.key))
        elif isinstance(e, Call):
            todo.extend(e.args)
        elif isinstance(e, Conditional):
            todo.extend((e.cond, e.if_true, e.if_false))
        elif isinstance(e, UnaryOp):
            todo.append(e.operand)
        elif isinstance(e, ForExpr):
            todo.extend(x for x in (e.collection, e.key, e.value, e.cond) if x is not None)
        elif isinstance(e, BinaryOp):
            todo.extend((e.left, e.right))


# -- things declared twice -------------------------------------------------------------------
def declaration_key(block: Block) -> tuple[str, str] | None:
    """What makes a top-level block unique in a module, with how Terraform names it."""
    t, labels = block.type, block.labels
    if t == "provider" and labels:
        alias = provider_alias(block)
        return (f"provider {labels[0]}.{alias}" if alias else f"provider {labels[0]}", "provider")
    if t in ("resource", "data") and len(labels) >= 2:
        what = "resource" if t == "resource" else "data source"
        return (f"{what} {labels[0]}.{labels[1]}", t)
    if t in ("variable", "output") and labels:
        return (f"{t} {labels[0]}", t)
    if t == "module" and labels:
        return (f"module call {labels[0]}", t)
    return None


def provider_alias(block: Block) -> str | None:
    """A provider block's alias (Terraform requires a literal)."""
    a = block.body.attr("alias")
    if a is not None and isinstance(a.expr, Literal) and isinstance(a.expr.value, str):
        return a.expr.value
    if a is not None and isinstance(a.expr, Template):
        return "".join(p if isinstance(p, str) else "?" for p in a.expr.parts)
    return None


def repeated_declarations(files: list[HclFile]) -> list[InputError]:
    """Blocks and locals declared twice across a module's (non-override) files."""
    errors: list[InputError] = []
    seen: dict[str, tuple[str, int]] = {}
    for hcl in files:
        for block in hcl.body.blocks:
            names: list[tuple[str, int]] = []
            if block.type == "locals":
                names = [(f"local.{a.name}", a.line) for a in block.body.attributes]
            else:
                key = declaration_key(block)
                if key is not None:
                    names = [(key[0], block.line)]
            for name, line in names:
                if name in seen:
                    f, ln = seen[name]
                    errors.append(
                        InputError(
                            hcl.path,
                            line,
                            f"{name} is declared twice (also at {f}:{ln}); Terraform rejects this",
                        )
                    )
                else:
                    seen[name] = (hcl.path, line)
    return errors


# -- override files --------------------------------------------------------------------------
def apply_override(mod: ModuleDef, hcl: HclFile) -> list[InputError]:
    """Merge one override file's blocks into the module, as ``terraform`` does."""
    errors: list[InputError] = []
    for block in hcl.body.blocks:
        if block.type == "terraform":
            continue  # required_providers is read per element, later files win
        if block.type == "locals":
            for a in block.body.attributes:
                if a.name not in mod.locals:
                    errors.append(_missing(hcl, a.line, f"local.{a.name}"))
                else:
                    mod.locals[a.name] = LocatedAttr(hcl.path, a)
            continue
        key = declaration_key(block)
        if key is None:
            continue
        if block.type == "output":
            value = block.body.attr("value")
            if block.labels[0] not in mod.outputs:
                errors.append(_missing(hcl, block.line, key[0]))
            elif value is not None:
                mod.outputs[block.labels[0]] = LocatedAttr(hcl.path, value)
            continue
        target = _base(mod, block)
        if target is None:
            errors.append(_missing(hcl, block.line, key[0]))
            continue
        target.block = merge_blocks(target.block, block)
        if target.origins is None:
            target.origins = {}
        for a in block.body.attributes:
            target.origins[a.name] = hcl.path
    return errors


def _missing(hcl: HclFile, line: int, what: str) -> InputError:
    return InputError(
        hcl.path, line, f"override for {what} has no original declaration to override"
    )


def _base(mod: ModuleDef, block: Block) -> Located | None:
    t, labels = block.type, block.labels
    if t == "provider":
        alias = provider_alias(block)
        return next(
            (
                p
                for p in mod.providers
                if p.block.labels[:1] == labels[:1] and provider_alias(p.block) == alias
            ),
            None,
        )
    if t == "resource":
        return mod.resource_block(labels[0], labels[1])
    if t == "data":
        return mod.data.get((labels[0], labels[1]))
    if t == "variable":
        return mod.variables.get(labels[0])
    if t == "module":
        return next((c for c in mod.module_calls if c.block.labels[:1] == labels[:1]), None)
    return None


def merge_blocks(base: Block, over: Block) -> Block:
    """An override block merged into its original: arguments replace arguments of the same name;
    nested blocks replace every block of their type (``dynamic "x"`` counts as type ``x``), except
    ``lifecycle``, merged argument by argument."""
    attrs = {a.name: a for a in base.body.attributes}
    for a in over.body.attributes:
        attrs[a.name] = a
    replaced = {_kind(b) for b in over.body.blocks}
    blocks = [b for b in base.body.blocks if _kind(b) not in replaced]
    for b in over.body.blocks:
        old = next((x for x in base.body.blocks if x.type == "lifecycle"), None)
        if b.type == "lifecycle" and old is not None:
            b = Block(b.type, b.labels, merge_blocks(old, b).body, old.line, old.end_line)
        blocks.append(b)
    return Block(
        base.type,
        base.labels,
        Body(tuple(attrs.values()), tuple(blocks)),
        base.line,
        base.end_line,
    )


def _kind(b: Block) -> str:
    return b.labels[0] if b.type == "dynamic" and b.labels else b.type
