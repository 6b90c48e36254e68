"""Terraform's regular expressions (Go RE2 syntax) on Python's ``re``, translated token by token.

``regex``, ``regexall`` and ``replace`` take RE2 patterns. Python's ``re`` reads many of them
differently (``$`` before a final newline, Unicode ``\\d``, ``a{,3}``, backreferences, lookaround),
so each pattern is translated into an explicit Python pattern that matches exactly what Go would.
Syntax Go rejects raises ``RegexError`` (Terraform reports an error); syntax ciiguard does not
translate raises ``NotDecided``. Matching loops follow Go's rules for empty matches.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from ciiguard.parsers.terraform.numbers import NotDecided

MAX_REPEAT = 1000
_WORD = "0-9A-Za-z_"
_PERL = {
    "d": [(0x30, 0x39)],
    "s": [(0x09, 0x0A), (0x0C, 0x0D), (0x20, 0x20)],
    "w": [(0x30, 0x39), (0x41, 0x5A), (0x5F, 0x5F), (0x61, 0x7A)],
}
_POSIX = {
    "alnum": [(0x30, 0x39), (0x41, 0x5A), (0x61, 0x7A)],
    "alpha": [(0x41, 0x5A), (0x61, 0x7A)],
    "ascii": [(0x00, 0x7F)],
    "blank": [(0x09, 0x09), (0x20, 0x20)],
    "cntrl": [(0x00, 0x1F), (0x7F, 0x7F)],
    "digit": [(0x30, 0x39)],
    "graph": [(0x21, 0x7E)],
    "lower": [(0x61, 0x7A)],
    "print": [(0x20, 0x7E)],
    "punct": [(0x21, 0x2F), (0x3A, 0x40), (0x5B, 0x60), (0x7B, 0x7E)],
    "space": [(0x09, 0x0D), (0x20, 0x20)],
    "upper": [(0x41, 0x5A)],
    "word": [(0x30, 0x39), (0x41, 0x5A), (0x5F, 0x5F), (0x61, 0x7A)],
    "xdigit": [(0x30, 0x39), (0x41, 0x46), (0x61, 0x66)],
}
_SIMPLE_ESCAPES = {"a": 7, "f": 12, "t": 9, "n": 10, "r": 13, "v": 11}


class RegexError(Exception):
    """A pattern Go's regexp package rejects."""


@dataclass(frozen=True)
class Compiled:
    regex: re.Pattern[str]
    names: tuple[str | None, ...]  # one entry per capture group, in order
    icase: bool  # case folding is used somewhere (ciiguard decides only for ASCII subjects)

    def check_subject(self, s: str) -> None:
        if self.icase and not s.isascii():
            raise NotDecided("case-insensitive match on non-ASCII text")


def _char(cp: int) -> str:
    return f"\\U{cp:08x}"


def _class(ranges: list[tuple[int, int]], negate: bool) -> str:
    body = "".join(_char(lo) if lo == hi else f"{_char(lo)}-{_char(hi)}" for lo, hi in ranges)
    if not ranges:
        return "[\\s\\S]" if negate else "(?!)"
    return f"[{'^' if negate else ''}{body}]"


def _negate(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    nxt = 0
    for lo, hi in sorted(ranges):
        if lo > nxt:
            out.append((nxt, lo - 1))
        nxt = max(nxt, hi + 1)
    if nxt <= 0x10FFFF:
        out.append((nxt, 0x10FFFF))
    return out


class _Translator:
    def __init__(self, pattern: str) -> None:
        self.p = pattern
        self.i = 0
        self.names: list[str | None] = []
        self.icase_used = False
        self.branching = 0  # repetitions and alternations translated so far

    def peek(self, k: int = 0) -> str:
        j = self.i + k
        return self.p[j] if j < len(self.p) else ""

    def translate(self) -> str:
        out = self.alternation({"i": False, "m": False, "s": False})
        if self.i < len(self.p):
            raise RegexError("unexpected )")
        return out

    # an alternation ends at ")" or the end of the pattern
    def alternation(self, flags: dict[str, bool]) -> str:
        branches: list[str] = []
        atoms: list[str] = []
        # per atom: whether it repeats or alternates inside. Go's RE2 matches in linear time;
        # Python's re backtracks, and repeating such an atom ("(a+)+", "(a|aa)+") can take
        # exponential time on a short string, so ciiguard does not decide those (Unknown).
        branchy: list[bool] = []
        flags = dict(flags)
        last_quantifiable = False
        last_was_repeat = False
        while self.i < len(self.p):
            c = self.p[self.i]
            if c == ")":
                break
            if c == "|":
                self.i += 1
                branches.append("".join(atoms))
                atoms = []
                branchy = []
                self.branching += 1
                last_quantifiable = last_was_repeat = False
                continue
            rep = self.repetition()
            if rep is not None:
                text, is_counted = rep
                if not atoms or not last_quantifiable:
                    raise RegexError("missing argument to repetition operator")
                if last_was_repeat:
                    raise RegexError("invalid nested repetition operator")
                if is_counted and _nested_repeat(atoms[-1], text) > MAX_REPEAT:
                    raise NotDecided("nested counted repetition")
                if branchy[-1] and not text.startswith("?"):
                    raise NotDecided("a repeated group that itself repeats or alternates")
                atoms[-1] = f"(?:{atoms[-1]}){text}"
                branchy[-1] = True
                self.branching += 1
                last_was_repeat = True
                continue
            last_was_repeat = False
            if c == "(":
                before = self.branching
                atom, quantifiable = self.group(flags)
                atoms.append(atom)
                branchy.append(self.branching != before)
                last_quantifiable = quantifiable
                continue
            atoms.append(self.atom(flags))
            branchy.append(False)
            last_quantifiable = True
        branches.append("".join(atoms))
        return "|".join(branches)

    def repetition(self) -> tuple[str, bool] | None:
        c = self.peek()
        if c in "*+?" and c:
            self.i += 1
            text = c
            counted = False
        elif c == "{":
            m = re.match(r"\{(\d+)(,(\d*))?\}", self.p[self.i :])
            if m is None:
                return None
            lo = int(m.group(1))
            hi = lo if m.group(2) is None else (int(m.group(3)) if m.group(3) else -1)
            if lo > MAX_REPEAT or hi > MAX_REPEAT or (hi != -1 and hi < lo):
                raise RegexError("invalid repeat count")
            self.i += m.end()
            text = (
                "{"
                + str(lo)
                + ("" if m.group(2) is None else "," + (str(hi) if hi >= 0 else ""))
                + "}"
            )
            counted = True
        else:
            return None
        if self.peek() == "?":
            self.i += 1
            text += "?"
        return text, counted

    def group(self, flags: dict[str, bool]) -> tuple[str, bool]:
        self.i += 1  # "("
        rest = self.p[self.i :]
        name: str | None = None
        capture = True
        inner_flags = flags
        if rest.startswith(("?=", "?!", "?<=", "?<!", "?>", "?#", "?P=", "?P>")):
            raise RegexError("invalid or unsupported Perl syntax")
        if rest.startswith("?"):
            m = re.match(r"\?P?<([^>]*)>", rest)
            if m:
                name = m.group(1)
                if not re.fullmatch(r"[A-Za-z0-9_]+", name):
                    raise RegexError(f"invalid named capture: {name!r}")
                if name in self.names:
                    raise NotDecided("duplicate capture group name")
                self.i += m.end()
            else:
                m = re.match(r"\?([imsU]*)(?:-([imsU]*))?([:)])", rest)
                if m is None:
                    raise RegexError("invalid or unsupported Perl syntax")
                on, off, end = m.group(1), m.group(2), m.group(3)
                if (not on and off is None) or off == "" or "U" in on + (off or ""):
                    raise NotDecided("regular expression flag form")
                new = dict(flags)
                for f in on:
                    new[f] = True
                for f in off or "":
                    new[f] = False
                self.i += m.end()
                if end == ")":
                    flags.update(new)  # applies to the rest of the enclosing group
                    return "", False
                capture = False
                inner_flags = new
        if capture:
            self.names.append(name)
        body = self.alternation(inner_flags)
        if self.peek() != ")":
            raise RegexError("missing closing )")
        self.i += 1
        return (f"({body})" if capture else f"(?:{body})"), True

    def atom(self, flags: dict[str, bool]) -> str:
        c = self.p[self.i]
        if c == "[":
            return self.fold(self.char_class(), flags)
        if c == ".":
            self.i += 1
            return "[\\s\\S]" if flags["s"] else "[^\\n]"
        if c == "^":
            self.i += 1
            return "(?<![^\\n])" if flags["m"] else "\\A"
        if c == "$":
            self.i += 1
            return "(?![^\\n])" if flags["m"] else "\\Z"
        if c == "\\":
            return self.escape(flags)
        self.i += 1
        return self.fold(_char(ord(c)), flags, c)

    def fold(self, text: str, flags: dict[str, bool], literal: str | None = None) -> str:
        if not flags["i"]:
            return text
        if literal is not None and not literal.isalpha():
            return text
        if literal is not None and not literal.isascii():
            raise NotDecided("case-insensitive non-ASCII pattern")
        self.icase_used = True
        return f"(?i:{text})"

    def escape(self, flags: dict[str, bool]) -> str:
        self.i += 1
        if self.i >= len(self.p):
            raise RegexError("trailing backslash at end of expression")
        c = self.p[self.i]
        if c in "dswDSW":
            self.i += 1
            ranges = _PERL[c.lower()]
            return _class(ranges, c.isupper())
        if c == "b":
            self.i += 1
            return f"(?:(?<=[{_WORD}])(?![{_WORD}])|(?<![{_WORD}])(?=[{_WORD}]))"
        if c == "B":
            self.i += 1
            return f"(?:(?<=[{_WORD}])(?=[{_WORD}])|(?<![{_WORD}])(?![{_WORD}]))"
        if c == "A":
            self.i += 1
            return "\\A"
        if c == "z":
            self.i += 1
            return "\\Z"
        if c == "Q":
            end = self.p.find("\\E", self.i + 1)
            text = self.p[self.i + 1 :] if end < 0 else self.p[self.i + 1 : end]
            self.i = len(self.p) if end < 0 else end + 2
            return "".join(self.fold(_char(ord(ch)), flags, ch) for ch in text) or "(?:)"
        if c in "pPC":
            raise NotDecided(f"\\{c} in a regular expression")
        cp = self.char_escape()
        return self.fold(_char(cp), flags, chr(cp))

    def char_escape(self) -> int:
        """A single-character escape at self.i (just after the backslash)."""
        c = self.p[self.i]
        if c in _SIMPLE_ESCAPES:
            self.i += 1
            return _SIMPLE_ESCAPES[c]
        if c in "01234567":
            if c != "0" and self.peek(1) not in tuple("01234567"):
                raise RegexError(f"invalid escape sequence: \\{c}")
            m = re.match(r"[0-7]{1,3}", self.p[self.i :])
            assert m is not None
            self.i += m.end()
            return int(m.group(0), 8)
        if c == "x":
            m = re.match(r"x(?:\{([0-9A-Fa-f]+)\}|([0-9A-Fa-f]{2}))", self.p[self.i :])
            if m is None:
                raise RegexError("invalid escape sequence: \\x")
            cp = int(m.group(1) or m.group(2), 16)
            if cp > 0x10FFFF:
                raise RegexError("invalid escape sequence: \\x")
            self.i += m.end()
            return cp
        if ord(c) < 0x80 and not c.isalnum():
            self.i += 1
            return ord(c)
        raise RegexError(f"invalid escape sequence: \\{c}")

    def char_class(self) -> str:
        self.i += 1  # "["
        negate = False
        if self.peek() == "^":
            negate = True
            self.i += 1
        ranges: list[tuple[int, int]] = []
        first = True
        while True:
            if self.i >= len(self.p):
                raise RegexError("missing closing ]")
            c = self.p[self.i]
            if c == "]" and not first:
                self.i += 1
                break
            first = False
            if c == "[" and self.peek(1) == ":":
                m = re.match(r"\[:(\^?)([a-z]+):\]", self.p[self.i :])
                if m:
                    if m.group(2) not in _POSIX:
                        raise RegexError("invalid character class range")
                    cls = _POSIX[m.group(2)]
                    ranges.extend(_negate(cls) if m.group(1) else cls)
                    self.i += m.end()
                    continue
            if c == "\\" and self.peek(1) in tuple("dswDSW"):
                cls = _PERL[self.peek(1).lower()]
                ranges.extend(_negate(cls) if self.peek(1).isupper() else cls)
                self.i += 2
                continue
            lo = self.class_char()
            if self.peek() == "-" and self.peek(1) not in ("]", ""):
                self.i += 1
                if self.peek() == "\\" and self.peek(1) in tuple("dswDSWpP"):
                    raise RegexError("invalid character class range")
                hi = self.class_char()
                if hi < lo:
                    raise RegexError("invalid character class range")
                ranges.append((lo, hi))
            else:
                ranges.append((lo, lo))
        return _class(ranges, negate)

    def class_char(self) -> int:
        c = self.p[self.i]
        if c == "\\":
            self.i += 1
            if self.i >= len(self.p):
                raise RegexError("trailing backslash at end of expression")
            if self.p[self.i] in "pPQbBAzC":
                raise NotDecided("escape inside a character class")
            return self.char_escape()
        self.i += 1
        return ord(c)


def _nested_repeat(atom: str, outer: str) -> int:
    """A bound on copies of the innermost thing when ``outer`` repeats ``atom`` (Go allows 1000)."""
    counts = [int(n) for n in re.findall(r"\{(\d+)", atom) + re.findall(r",(\d+)\}", atom)]
    m = re.match(r"\{(\d+)(?:,(\d*))?\}", outer)
    assert m is not None
    top = int(m.group(2)) if m.group(2) else int(m.group(1))
    return top * max(counts, default=1)


@lru_cache(maxsize=256)
def compile_re2(pattern: str) -> Compiled:
    """Translate and compile a Go RE2 pattern; RegexError when Go rejects it."""
    t = _Translator(pattern)
    text = t.translate()
    if t.icase_used and not pattern.isascii():
        raise NotDecided("case-insensitive non-ASCII pattern")
    try:
        rx = re.compile(text)
    except re.error as exc:  # pragma: no cover - the translation only emits valid syntax
        raise NotDecided(f"regular expression translation failed: {exc}") from None
    return Compiled(rx, tuple(t.names), t.icase_used)


def find_all(c: Compiled, s: str, limit: int = -1) -> list[re.Match[str]]:
    """Go's ``FindAllStringSubmatchIndex``: empty matches right after a match are skipped."""
    c.check_subject(s)
    out: list[re.Match[str]] = []
    pos = 0
    prev_end = -1
    while pos <= len(s) and (limit < 0 or len(out) < limit):
        m = c.regex.search(s, pos)
        if m is None:
            break
        accept = True
        if m.end() == m.start():
            if m.start() == prev_end:
                accept = False
            pos = m.start() + 1
        else:
            pos = m.end()
        prev_end = m.end()
        if accept:
            out.append(m)
    return out


def replace_all(c: Compiled, s: str, template: str) -> str:
    """Go's ``ReplaceAllString`` with ``$1``/``${name}`` expansion."""
    c.check_subject(s)
    out: list[str] = []
    last = 0
    pos = 0
    while pos <= len(s):
        m = c.regex.search(s, pos)
        if m is None:
            break
        out.append(s[last : m.start()])
        if m.end() > last or m.start() == 0:
            out.append(_expand(c, m, template))
        last = m.end()
        pos = m.end() if m.end() > pos else pos + 1
    out.append(s[last:])
    return "".join(out)


def _expand(c: Compiled, m: re.Match[str], template: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(template):
        ch = template[i]
        if ch != "$":
            out.append(ch)
            i += 1
            continue
        rest = template[i + 1 :]
        if rest.startswith("$"):
            out.append("$")
            i += 2
            continue
        mm = re.match(r"\{([A-Za-z0-9_]+)\}", rest) or re.match(r"([A-Za-z0-9_]+)", rest)
        if mm is None:
            out.append("$")
            i += 1
            continue
        name = mm.group(1)
        i += 1 + mm.end()
        group: int | None = None
        if name.isdigit():
            n = int(name)
            group = n if n <= len(c.names) else None
        elif name in c.names:
            group = c.names.index(name) + 1
        if group is not None:
            out.append(m.group(group) or "")
    return "".join(out)
