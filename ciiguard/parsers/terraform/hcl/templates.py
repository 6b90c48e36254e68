"""HCL strings and templates, shared by both readers: escapes, heredocs, literal parts and
interpolations merged into one ``Template`` (or a ``Literal`` when nothing is interpolated)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

from ciiguard.errors import InputError
from ciiguard.parsers.terraform.hcl.nodes import Expr, Literal, Template, Unsupported

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
    content = [ln + "\n" for ln in lines]
    if trim:
        content = _flush(content)
    return template_text("".join(content), line, path, expression)


def template_text(text: str, line: int, path: str, expression: ExpressionParser) -> Expr:
    """Split raw template text (a heredoc body) into literal parts and interpolations."""
    parts: list[str | Expr] = []
    i = 0
    buf: list[str] = []
    while i < len(text):
        if text.startswith("$${", i) or text.startswith("%%{", i):
            buf.append(text[i + 1 : i + 3])
            i += 3
            continue
        if text.startswith("%{", i):
            return Unsupported("template directive")
        if text.startswith("${", i):
            end = _matching_brace(text, i + 2)
            if end < 0:
                raise InputError(path, line, "unterminated interpolation in heredoc")
            if buf:
                parts.append("".join(buf))
                buf = []
            inner = text[i + 2 : end]
            if inner.startswith("~") or inner.endswith("~"):
                return Unsupported("template strip marker")
            parts.append(expression(f"({inner})", path))
            i = end + 1
            continue
        buf.append(text[i])
        i += 1
    if buf:
        parts.append("".join(buf))
    return template(parts)


def _leading_space(line: str) -> int:
    n = 0
    for ch in line:
        if ch == "\n" or not (ch.isspace() if not ch.isascii() else ch in " \t\v\f\r"):
            break
        n += 1
    return n


def _flush(lines: list[str]) -> list[str]:
    """HCL's ``<<-`` rule: drop the smallest indentation of the non-blank lines from each of them.

    A line that starts with an interpolation counts as unindented; whitespace-only lines are
    neither counted nor trimmed.
    """
    spaces: list[int | None] = []
    for ln in lines:
        n = _leading_space(ln)
        rest = ln[n:]
        if rest == "\n":
            spaces.append(None)  # blank
        elif n == 0 and rest.startswith(("${", "%{")):
            spaces.append(0)
        else:
            spaces.append(n)
    counted = [n for n in spaces if n is not None]
    cut = min(counted) if counted else 0
    return [ln if n is None else ln[cut:] for ln, n in zip(lines, spaces, strict=True)]


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
