"""HCL strings and templates, shared by both readers: escapes, heredocs, literal parts and
interpolations merged into one ``Template`` (or a ``Literal`` when nothing is interpolated)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from ciiguard.errors import InputError
from ciiguard.parsers.terraform.hcl.nodes import (
    Expr,
    Literal,
    Template,
    TemplateFor,
    TemplateIf,
)

# parses one expression's source text (an interpolation) with the file's path for errors
ExpressionParser = Callable[[str, str], Expr]

_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}
_UNICODE_ESCAPE = re.compile(r"\\(u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|.?)", re.S)


class BadEscape(ValueError):
    """An escape sequence HCL rejects."""


class SurrogateEscape(ValueError):
    """A \\u escape naming a UTF-16 surrogate (ciiguard does not decide what HCL makes of it)."""


def unescape(raw: str) -> str:
    """HCL quoted-string escapes: \\n \\r \\t \\" \\\\ \\uNNNN \\UNNNNNNNN; anything else is an error."""
    if "\\" not in raw:
        return raw

    def sub(m: re.Match[str]) -> str:
        e = m.group(1)
        if len(e) > 1 and e[0] in "uU":
            cp = int(e[1:], 16)
            if 0xD800 <= cp <= 0xDFFF:
                raise SurrogateEscape(e)
            if cp > 0x10FFFF:
                raise BadEscape(e)
            return chr(cp)
        if e not in _ESCAPES:
            raise BadEscape(e)
        return _ESCAPES[e]

    return _UNICODE_ESCAPE.sub(sub, raw)


def nfc(s: str) -> str:
    return s if s.isascii() else unicodedata.normalize("NFC", s)


def heredoc(raw: str, trim: bool, line: int, path: str, expression: ExpressionParser) -> Expr:
    """A heredoc token's text (``<<EOT`` ... ``EOT``) as a template expression (both readers)."""
    first_nl = raw.index("\n")
    lines = raw[first_nl + 1 :].split("\n")
    if lines and lines[-1].strip() == "":
        lines.pop()  # after the closing marker's newline
    if lines:
        lines.pop()  # the closing marker
    return template_text("".join(ln + "\n" for ln in lines), line, path, expression, trim)


def template_text(
    text: str, line: int, path: str, expression: ExpressionParser, trim: bool = False
) -> Expr:
    """Raw template text (a heredoc body) as a template: literal parts, ``${...}``
    interpolations and ``%{...}`` directives, with their ``~`` strip markers applied and, for
    ``<<-`` (``trim``), the common indentation removed. As in HCL, a literal ends at each line
    end: a strip marker trims only the literal next to it."""
    pieces: list[Piece] = []
    i = 0
    buf: list[str] = []

    def flush() -> None:
        if buf:
            pieces.append(Piece("lit", "".join(buf)))
            buf.clear()

    while i < len(text):
        if text.startswith("$${", i) or text.startswith("%%{", i):
            buf.append(text[i + 1 : i + 3])
            i += 3
            continue
        if text.startswith("${", i) or text.startswith("%{", i):
            end = _matching_brace(text, i + 2)
            if end < 0:
                what = "interpolation" if text[i] == "$" else "directive"
                raise InputError(path, line, f"unterminated template {what} in heredoc")
            flush()
            inner = text[i + 2 : end]
            left, right = inner.startswith("~"), inner.endswith("~")
            inner = inner[1 if left else 0 : len(inner) - 1 if right else len(inner)]
            if text[i] == "$":
                pieces.append(Piece("expr", expression(f"({inner})", path), (), left, right))
            else:
                pieces.append(_directive(inner, path, line, expression, left, right))
            i = end + 1
            continue
        buf.append(text[i])
        if text[i] == "\n":
            flush()
        i += 1
    flush()
    return assemble(pieces, path, line, merge=False, trim=trim)


@dataclass(frozen=True)
class Piece:
    """One element of a template as written: a literal, an interpolation or a directive
    (``if``, ``else``, ``endif``, ``for``, ``endfor``), with its ``~`` strip markers."""

    kind: str
    value: str | Expr | None = None  # the literal; the expression; the if/for expression
    names: tuple[str, ...] = ()  # for: (value,) or (key, value)
    strip_left: bool = False
    strip_right: bool = False


_DIRECTIVE = re.compile(r"\s*(if|else|endif|for|endfor)\b(.*)", re.S)
_FOR_HEAD = re.compile(r"\s*([A-Za-z_][\w-]*)\s*(?:,\s*([A-Za-z_][\w-]*)\s*)?\bin\b(.*)", re.S)


def _directive(
    inner: str, path: str, line: int, expression: ExpressionParser, left: bool, right: bool
) -> Piece:
    """A heredoc's ``%{ ... }`` directive, its strip markers already taken off."""
    m = _DIRECTIVE.match(inner)
    if m is None:
        raise InputError(path, line, f"invalid template directive %{{{inner.strip()[:30]}}}")
    word, rest = m.group(1), m.group(2)
    if word in ("else", "endif", "endfor"):
        if rest.strip():
            raise InputError(path, line, f"unexpected text after %{{ {word} }}")
        return Piece(word, None, (), left, right)
    if word == "if":
        return Piece("if", expression(f"({rest})", path), (), left, right)
    head = _FOR_HEAD.match(rest)
    if head is None:
        raise InputError(path, line, "invalid %{ for } directive: expected 'for name in ...'")
    names = (head.group(1), head.group(2)) if head.group(2) else (head.group(1),)
    return Piece("for", expression(f"({head.group(3)})", path), names, left, right)


def assemble(
    pieces: list[Piece], path: str, line: int | None, merge: bool = True, trim: bool = False
) -> Expr:
    """The template these pieces make, in HCL's order: strip markers trim the literal next to
    them (``${~`` the whitespace before, ``~}`` the whitespace after), then ``<<-`` removes the
    common indentation (``trim``), then ``if``/``for`` directives nest into ``TemplateIf``/
    ``TemplateFor``. ``merge`` joins neighbouring literals first (a quoted string is one
    literal between its interpolations; a heredoc has one per line). A misplaced directive is
    an error."""
    merged: list[Piece] = []
    for piece in pieces:
        if merge and piece.kind == "lit" and merged and merged[-1].kind == "lit":
            merged[-1] = Piece("lit", str(merged[-1].value) + str(piece.value))
        else:
            merged.append(piece)
    for i, piece in enumerate(merged):
        if piece.kind == "lit":
            continue
        if piece.strip_left and i > 0 and merged[i - 1].kind == "lit":
            merged[i - 1] = Piece("lit", str(merged[i - 1].value).rstrip())
        if piece.strip_right and i + 1 < len(merged) and merged[i + 1].kind == "lit":
            merged[i + 1] = Piece("lit", str(merged[i + 1].value).lstrip())
    if trim:
        merged = _flush(merged)
    # frames: [opening piece or None for the whole template, parts, parts before an else]
    stack: list[tuple[Piece | None, list[str | Expr], list[str | Expr] | None]] = [(None, [], None)]
    for piece in merged:
        opening, parts, before_else = stack[-1]
        if piece.kind == "lit":
            parts.append(str(piece.value))
        elif piece.kind == "expr":
            assert isinstance(piece.value, Expr)
            parts.append(piece.value)
        elif piece.kind in ("if", "for"):
            stack.append((piece, [], None))
        elif piece.kind == "else":
            if opening is None or opening.kind != "if" or before_else is not None:
                raise InputError(path, line, "unexpected %{ else } directive in template")
            stack[-1] = (opening, [], parts)
        else:  # endif, endfor
            wanted = "if" if piece.kind == "endif" else "for"
            if opening is None or opening.kind != wanted:
                raise InputError(
                    path, line, f"unexpected %{{ {piece.kind} }} directive in template"
                )
            stack.pop()
            assert isinstance(opening.value, Expr)
            node: Expr
            if wanted == "if":
                then, otherwise = (before_else, parts) if before_else is not None else (parts, None)
                node = TemplateIf(
                    opening.value,
                    template(then),
                    template(otherwise) if otherwise is not None else None,
                )
            else:
                key, value = opening.names if len(opening.names) == 2 else (None, opening.names[0])
                node = TemplateFor(key, value, opening.value, template(parts))
            stack[-1][1].append(node)
    if len(stack) > 1:
        opened = stack[-1][0]
        what = opened.kind if opened else "?"
        raise InputError(
            path, line, f"unterminated %{{ {what} }} directive in template (no end{what})"
        )
    return template(stack[0][1])


def _flush(pieces: list[Piece]) -> list[Piece]:
    """HCL's ``<<-`` rule (hclsyntax ``flushHeredocTemplateParts``): the literal that starts a
    line counts its leading whitespace characters, a line that starts with an interpolation or
    directive counts none, a whitespace-only line ending in a newline is not counted; that many
    characters are then removed from the start of every counted literal."""
    fewest: int | None = None
    counted: list[int] = []
    at_line_start = True
    for i, piece in enumerate(pieces):
        if at_line_start:
            at_line_start = False
            if piece.kind == "lit":
                text = str(piece.value)
                rest = text.lstrip()
                if rest or not text.endswith("\n"):
                    spaces = len(text) - len(rest)
                    counted.append(i)
                    fewest = spaces if fewest is None else min(fewest, spaces)
            else:
                fewest = 0
        if piece.kind == "lit" and str(piece.value).endswith("\n"):
            at_line_start = True
    if not fewest:
        return pieces
    out = list(pieces)
    for i in counted:
        out[i] = Piece("lit", str(out[i].value)[fewest:])
    return out


def template(parts: list[str | Expr]) -> Expr:
    parts = [nfc(p) if isinstance(p, str) else p for p in parts]
    merged: list[str | Expr] = []
    for p in parts:
        if isinstance(p, str) and merged and isinstance(merged[-1], str):
            merged[-1] = merged[-1] + p
        elif p != "":
            merged.append(p)
    if not merged:
        return Literal("")
    if len(merged) == 1 and isinstance(merged[0], str):
        return Literal(merged[0])
    return Template(tuple(merged))


def _matching_brace(text: str, start: int) -> int:
    depth = 0
    i = start
    in_str = False
    while i < len(text):
        ch = text[i]
        if in_str:
            if ch == "\\":
                i += 2
                continue
            if ch == '"':
                in_str = False
        elif ch == '"':
            in_str = True
        elif ch == "{":
            depth += 1
        elif ch == "}":
            if depth == 0:
                return i
            depth -= 1
        i += 1
    return -1
