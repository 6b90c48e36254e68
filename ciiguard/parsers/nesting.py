"""Where a reader's limits were hit: the line an error names when input nests too deeply to parse
or holds a number too long to convert.

Parsers recurse, so a file of ten thousand ``[`` stops them with RecursionError at no particular
line. Counting brackets outside quoted strings finds where the nesting peaks, which is where the
user has to look. Python refuses to convert integers of more than 4300 digits (ValueError, again
without a position).
"""

from __future__ import annotations

import re

OPEN = "([{"
CLOSE = ")]}"


def deepest_line(text: str) -> int | None:
    """The 1-based line on which bracket nesting first reaches its maximum (None: no brackets)."""
    depth = best = 0
    line = 1
    best_line: int | None = None
    in_str = False
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "\n":
            line += 1
        elif in_str:
            if ch == "\\":
                i += 1
            elif ch == '"':
                in_str = False
        elif ch == '"':
            in_str = True
        elif ch in OPEN:
            depth += 1
            if depth > best:
                best, best_line = depth, line
        elif ch in CLOSE:
            depth = max(0, depth - 1)
        i += 1
    return best_line


_LONG_NUMBER = re.compile(r"\d{4301,}")


def long_number_line(text: str) -> int | None:
    """The line of the first number too long for Python's int conversion (over 4300 digits)."""
    m = _LONG_NUMBER.search(text)
    return text.count("\n", 0, m.start()) + 1 if m else None
