"""Terraform JSON syntax (``*.tf.json``) folded into the same ``hcl_ast`` nodes as native HCL.

Strings are templates (``"${var.region}"``); an interpolation-only string is the expression itself,
as in Terraform. Without provider schemas, a nested JSON object is read as a block, except for
well-known map arguments (``tags``, ``labels``, ...), which stay maps; the flow walker reads both
shapes alike.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ciiguard.errors import InputError
from ciiguard.parsers.nesting import deepest_line, long_number_line
from ciiguard.parsers.surrogates import may_hold_surrogates, scrub
from ciiguard.parsers.terraform.hcl.nodes import (
    Attribute,
    Block,
    Body,
    Expr,
    GetAttr,
    HclFile,
    Literal,
    Name,
    ObjectExpr,
    Template,
    TupleExpr,
)
from ciiguard.parsers.terraform.hcl.reader import parse_expression

MAP_ARGUMENTS = frozenset(
    {
        "tags",
        "labels",
        "tags_all",
        "environment",
        "variables",
        "parameters",
        "metadata",
        "annotations",
        "default",
        "value",
        "providers",
    }
)
LABELLED = {"resource": 2, "data": 2, "variable": 1, "output": 1, "provider": 1, "module": 1}


@dataclass(frozen=True)
class JsonSchema:
    """What a JSON-syntax file's objects are, where HCL's JSON syntax leaves it to the schema.

    ``blocks``: top-level block types and their label counts (``locals`` holds attributes).
    ``attributes``: whether other top-level keys are attributes (Terragrunt's ``inputs``) rather
    than ignored. ``nested``: when set, the only block types inside a block (with their label
    counts); every other nested object is an attribute's value (``mock_outputs = {...}``).
    ``bare``: labelled block types that may be written without their label, as one object with
    a string ``path`` (Terragrunt's ``include``).
    """

    blocks: Mapping[str, int]
    attributes: bool = False
    nested: Mapping[str, int] | None = None
    bare: frozenset[str] = frozenset()


TERRAFORM = JsonSchema({**LABELLED, "terraform": 0, "locals": 0})
_ONLY_INTERPOLATION = re.compile(r"^\$\{(?P<e>.*)\}$", re.S)
Path_ = tuple[Any, ...]


class _Pairs(list[tuple[str, Any]]):
    """A JSON object as ordered (key, value) pairs: keeps repeated keys (repeated blocks)."""


def parse_tf_json(text: str, path: str, schema: JsonSchema = TERRAFORM) -> HclFile:
    try:
        doc = json.loads(text, object_pairs_hook=_Pairs)
    except json.JSONDecodeError as exc:
        raise InputError(path, exc.lineno, f"invalid JSON: {exc.msg}") from None
    except RecursionError:
        raise InputError(path, deepest_line(text), "JSON nested too deeply") from None
    except ValueError as exc:  # an integer with more digits than Python converts
        raise InputError(path, long_number_line(text), f"invalid JSON number: {exc}") from None
    if not isinstance(doc, _Pairs):
        raise InputError(path, 1, "a .tf.json file must hold a JSON object")
    if may_hold_surrogates(text):
        scrub(doc)
    folder = _Folder(path, _key_lines(text), schema)
    try:
        return HclFile(path=path, body=folder.top(doc), comments=())
    except RecursionError:
        raise InputError(path, deepest_line(text), "JSON nested too deeply") from None


class _Folder:
    def __init__(self, path: str, lines: dict[Path_, int], schema: JsonSchema = TERRAFORM) -> None:
        self.path = path
        self.lines = lines
        self.schema = schema

    def line(self, p: Path_) -> int:
        while p:
            if p in self.lines:
                return self.lines[p]
            p = p[:-1]
        return 1

    def top(self, doc: _Pairs) -> Body:
        blocks: list[Block] = []
        attrs: list[Attribute] = []
        schema = self.schema
        for i, (key, value) in enumerate(doc):
            if key == "//":
                continue
            p: Path_ = (i,)
            if key not in schema.blocks:
                if schema.attributes:
                    ln = self.line(p)
                    attrs.append(Attribute(key, self.expr(value, p), ln, ln))
                continue
            if key == "locals":
                attrs = []
                for j, body in self.each(value, p):
                    for k, (name, expr) in enumerate(body):
                        if name != "//":
                            attrs.append(
                                Attribute(
                                    name,
                                    self.expr(expr, (*j, k)),
                                    self.line((*j, k)),
                                    self.line((*j, k)),
                                )
                            )
                blocks.append(
                    Block("locals", (), Body(tuple(attrs), ()), self.line(p), self.line(p))
                )
            elif key in schema.bare and _bare(value):
                for j, body in self.each(value, p):
                    ln = self.line(p)
                    blocks.append(Block(key, (), self.body(body, j, key), ln, ln))
            elif schema.blocks[key]:
                blocks.extend(self.labelled(key, value, p, schema.blocks[key], ()))
            else:
                for j, body in self.each(value, p):
                    blocks.append(
                        Block(key, (), self.body(body, j, key), self.line(p), self.line(p))
                    )
        return Body(tuple(attrs), tuple(blocks))

    def each(self, value: Any, p: Path_) -> list[tuple[Path_, _Pairs]]:
        """A block body given as an object or as an array of objects."""
        if isinstance(value, _Pairs):
            return [(p, value)]
        if isinstance(value, list):
            return [((*p, n), v) for n, v in enumerate(value) if isinstance(v, _Pairs)]
        raise InputError(self.path, self.line(p), "expected a JSON object for a block")

    def labelled(
        self, btype: str, value: Any, p: Path_, depth: int, labels: tuple[str, ...]
    ) -> list[Block]:
        out: list[Block] = []
        for j, obj in self.each(value, p):
            for k, (label, inner) in enumerate(obj):
                if label == "//":
                    continue
                q = (*j, k)
                if depth > 1:
                    out.extend(self.labelled(btype, inner, q, depth - 1, (*labels, label)))
                    continue
                for r, body in self.each(inner, q):
                    ln = self.line(q)
                    out.append(Block(btype, (*labels, label), self.body(body, r, btype), ln, ln))
        return out

    def body(self, obj: _Pairs, p: Path_, btype: str) -> Body:
        attrs: list[Attribute] = []
        blocks: list[Block] = []
        for i, (key, value) in enumerate(obj):
            if key == "//":
                continue
            q = (*p, i)
            ln = self.line(q)
            nested = self.schema.nested
            if nested is not None:
                if key not in nested:
                    attrs.append(Attribute(key, self.expr(value, q), ln, ln))
                elif nested[key]:
                    blocks.extend(self.labelled(key, value, q, nested[key], ()))
                else:
                    for r, inner in self.each(value, q):
                        blocks.append(
                            Block(key, (), self.body(inner, r, key), self.line(r), self.line(r))
                        )
            elif key == "dynamic":
                blocks.extend(self.dynamic(value, q))
            elif key in ("provider", "providers") and btype in ("resource", "data", "module"):
                attrs.append(Attribute(key, self.reference(value, q), ln, ln))
            elif btype == "variable" and key == "default":
                attrs.append(Attribute(key, self.literal(value), ln, ln))
            elif btype == "variable" and key == "type" and isinstance(value, str):
                attrs.append(Attribute(key, parse_expression(value, self.path), ln, ln))
            elif key in ("count", "for_each") or key in MAP_ARGUMENTS or not self.is_block(value):
                attrs.append(Attribute(key, self.expr(value, q), ln, ln))
            else:
                for r, inner in self.each(value, q):
                    blocks.append(
                        Block(key, (), self.body(inner, r, key), self.line(r), self.line(r))
                    )
        return Body(tuple(attrs), tuple(blocks))

    @staticmethod
    def is_block(value: Any) -> bool:
        if isinstance(value, _Pairs):
            return True
        return isinstance(value, list) and bool(value) and all(isinstance(v, _Pairs) for v in value)

    def dynamic(self, value: Any, p: Path_) -> list[Block]:
        out: list[Block] = []
        for j, obj in self.each(value, p):
            for k, (label, spec) in enumerate(obj):
                q = (*j, k)
                for r, spec_obj in self.each(spec, q):
                    attrs: list[Attribute] = []
                    blocks: list[Block] = []
                    for n, (key, v) in enumerate(spec_obj):
                        s = (*r, n)
                        if key == "content":
                            for t, c in self.each(v, s):
                                blocks.append(
                                    Block(
                                        "content",
                                        (),
                                        self.body(c, t, label),
                                        self.line(t),
                                        self.line(t),
                                    )
                                )
                        elif key == "iterator" and isinstance(v, str):
                            attrs.append(Attribute(key, Name(v), self.line(s), self.line(s)))
                        elif key != "//":
                            attrs.append(
                                Attribute(key, self.expr(v, s), self.line(s), self.line(s))
                            )
                    ln = self.line(q)
                    out.append(
                        Block("dynamic", (label,), Body(tuple(attrs), tuple(blocks)), ln, ln)
                    )
        return out

    def reference(self, value: Any, p: Path_) -> Expr:
        """``"aws.west"`` for provider; ``{"aws": "aws.west"}`` for a module's providers map."""
        if isinstance(value, str):
            return _ref(value)
        if isinstance(value, _Pairs):
            return ObjectExpr(
                tuple(
                    (_ref(k), _ref(v) if isinstance(v, str) else Literal(None))
                    for k, v in value
                    if k != "//"
                )
            )
        raise InputError(self.path, self.line(p), "provider reference must be a string")

    def literal(self, value: Any) -> Expr:
        if isinstance(value, _Pairs):
            return ObjectExpr(tuple((Literal(k), self.literal(v)) for k, v in value if k != "//"))
        if isinstance(value, list):
            return TupleExpr(tuple(self.literal(v) for v in value))
        if isinstance(value, float) and value.is_integer():
            return Literal(int(value))
        return Literal(value)

    def expr(self, value: Any, p: Path_) -> Expr:
        if isinstance(value, str):
            return self.template(value, p)
        if isinstance(value, _Pairs):
            return ObjectExpr(
                tuple(
                    (self.template(k, p), self.expr(v, (*p, i)))
                    for i, (k, v) in enumerate(value)
                    if k != "//"
                )
            )
        if isinstance(value, list):
            return TupleExpr(tuple(self.expr(v, (*p, i)) for i, v in enumerate(value)))
        return self.literal(value)

    def template(self, text: str, p: Path_) -> Expr:
        if "${" not in text and "%{" not in text:
            return Literal(text)
        m = _ONLY_INTERPOLATION.match(text)
        if m and "${" not in m.group("e") and "%{" not in m.group("e"):
            try:
                return parse_expression(m.group("e").strip(), self.path)
            except InputError:
                pass  # not one expression (e.g. "${a}-}"): read it as a template below
        marker = "CIIGUARD_JSON_TEMPLATE_EOT"
        try:
            expr = parse_expression(f"<<{marker}\n{text}\n{marker}\n", self.path)
        except InputError as exc:
            raise InputError(self.path, self.line(p), f"invalid template: {exc.message}") from None
        return _strip_final_newline(expr)


def _bare(value: Any) -> bool:
    """A block written without its label: one object (alone, or alone in an array) whose
    ``path`` is a string."""
    if not isinstance(value, _Pairs) and isinstance(value, list) and len(value) == 1:
        value = value[0]
    return isinstance(value, _Pairs) and any(k == "path" and isinstance(v, str) for k, v in value)


def _ref(text: str) -> Expr:
    head, _, tail = text.partition(".")
    return GetAttr(Name(head), tail) if tail else Name(head)


def _strip_final_newline(expr: Expr) -> Expr:
    if isinstance(expr, Template) and expr.parts and isinstance(expr.parts[-1], str):
        last = expr.parts[-1][:-1] if expr.parts[-1].endswith("\n") else expr.parts[-1]
        parts = (*expr.parts[:-1], last) if last else expr.parts[:-1]
        if len(parts) == 1 and isinstance(parts[0], str):
            return Literal(parts[0])
        return Template(tuple(parts))
    if isinstance(expr, Literal) and isinstance(expr.value, str) and expr.value.endswith("\n"):
        return Literal(expr.value[:-1])
    return expr


def _key_lines(text: str) -> dict[Path_, int]:
    """Line of every object member, keyed by its path of member/element indexes."""
    lines: dict[Path_, int] = {}
    stack: list[list[Any]] = []  # [kind, index]
    line = 1
    i, n = 0, len(text)
    expecting_key = False
    while i < n:
        ch = text[i]
        if ch == "\n":
            line += 1
        elif ch == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            if stack and stack[-1][0] == "obj" and expecting_key:
                stack[-1][1] += 1
                lines[tuple(f[1] for f in stack)] = line
                expecting_key = False
            elif stack and stack[-1][0] == "arr":
                stack[-1][1] += 1
            line += text.count("\n", i, j)
            i = j
        elif ch == "{":
            if stack and stack[-1][0] == "arr":
                stack[-1][1] += 1
            stack.append(["obj", -1])
            expecting_key = True
        elif ch == "[":
            if stack and stack[-1][0] == "arr":
                stack[-1][1] += 1
            stack.append(["arr", -1])
        elif ch in "}]":
            if stack:
                stack.pop()
        elif ch == ",":
            expecting_key = bool(stack) and stack[-1][0] == "obj"
        elif stack and stack[-1][0] == "arr" and not ch.isspace() and text[i - 1] in "[, \t\n\r":
            stack[-1][1] += 1  # the first character of a scalar element of an array
        i += 1
    return lines
