"""Read HCL: the fast reader first, python-hcl2's grammar for whatever it is not sure of.

Enters: HCL source text and its display path. Leaves: an ``HclFile`` (``nodes``), or an
``InputError`` naming the file and line. Both readers give identical trees (tests/test_hcl_fast.py).
"""

from __future__ import annotations

from ciiguard.errors import InputError
from ciiguard.parsers.terraform.hcl import fast
from ciiguard.parsers.terraform.hcl.fast import Fallback
from ciiguard.parsers.terraform.hcl.grammar import parse_lark
from ciiguard.parsers.terraform.hcl.nodes import Expr, HclFile


def parse_hcl(text: str, path: str) -> HclFile:
    """Parse HCL source text; raise InputError naming file and line on a syntax error.

    The hand-written reader (``fast``) reads almost every file; whatever it is not sure of
    (and every error) goes to python-hcl2's grammar, which decides and names the error.
    """
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise InputError(path, line, "NUL byte in HCL source")
    try:
        return fast.parse_fast(text, path, parse_expression)
    except Fallback:
        return parse_lark(text, path, parse_expression)


def parse_fast(text: str, path: str) -> HclFile:
    """The fast reader alone: a tree, or ``Fallback`` when the grammar must decide."""
    return fast.parse_fast(text, path, parse_expression)


def parse_hcl_lark(text: str, path: str) -> HclFile:
    """The reference path alone: python-hcl2's grammar, folded into ``nodes``."""
    return parse_lark(text, path, parse_expression)


def parse_expression(text: str, path: str = "<expression>") -> Expr:
    """Parse a single HCL expression (used for ``--var`` values and template interpolations)."""
    f = parse_hcl(f"__x = {text}\n", path)
    if len(f.body.attributes) != 1 or f.body.blocks:
        raise InputError(path, None, "not a single expression")
    return f.body.attributes[0].expr
