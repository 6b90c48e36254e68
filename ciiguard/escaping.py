"""How text that came from scanned files is written into each output, so it cannot act on the reader.

Everything in a report may hold values a pull request chose: addresses with ``for_each`` keys,
tag values, bucket names, file names, config keys. Each function here is the one place a format's
rule lives (reporters, the residency map and the command line's own messages call them):

- ``visible``: control characters (C0, DEL, C1 with ESC, CR and LF), bidi controls and lone
  surrogates shown as escapes (``\\x1b``, ``\\n``, ``\\u202e``): a terminal runs none of them and
  a line cannot be split or reordered.
- ``terminal``: ``visible`` plus what CI log readers act on anywhere in a line: GitHub Actions'
  ``::command::`` at a line's start and its legacy ``##[command]``, Azure Pipelines'
  ``##vso[...]``, TeamCity's ``##teamcity[...]`` (the ``#`` pair is split by a backslash).
- ``workflow_data`` / ``workflow_property``: the GitHub runner's own escapes (``%``, CR, LF, and
  ``:`` ``,`` in properties), after ``visible`` for everything but line breaks and the ``#``
  split of ``terminal`` (the line is also a log line).
- ``markdown_text`` / ``markdown_code``: a table cell or list item that renders as the text it
  is: no link, image, HTML, code span, ``@mention``, ``#123`` reference or autolink (and, in
  case the file is printed to a log, no ``##[`` either).
- ``xml_text``: only what XML 1.0 cannot carry is replaced (by its ``visible`` escape); the rest
  stays raw, as JUnit readers expect.
"""

from __future__ import annotations

import re
from collections.abc import Callable


class _Pattern:
    """A regular expression compiled on first use: ``ciiguard --version`` and a replayed run
    import this module (through the command line) without rendering anything."""

    def __init__(self, source: str, flags: int = 0) -> None:
        self.source, self.flags = source, flags
        self.compiled: re.Pattern[str] | None = None

    def sub(self, repl: str | Callable[[re.Match[str]], str], text: str) -> str:
        if self.compiled is None:
            self.compiled = re.compile(self.source, self.flags)
        return self.compiled.sub(repl, text)


# C0 controls, DEL, C1 controls; bidi embeddings, overrides, isolates and marks; line and
# paragraph separators; lone surrogates (undecodable bytes in file names).
_INVISIBLE = _Pattern(
    "[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)
_INVISIBLE_BUT_LINES = _Pattern(
    "[\x00-\x09\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e"
    "\u2066-\u2069\ud800-\udfff]"
)
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
# what XML 1.0 cannot carry (its Char production, negated: a positive class compiles fast)
_NOT_XML = _Pattern("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_HASH_PAIR = _Pattern(r"#(?=#)")
_ZWSP = "\u200b"  # breaks a mention, a reference or an autolink without changing what is shown


def _escape(m: re.Match[str]) -> str:
    c = m.group(0)
    named = _NAMED.get(c)
    if named is not None:
        return named
    code = ord(c)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def visible(text: object) -> str:
    """``text`` with every control, bidi control and lone surrogate shown as an escape."""
    return _INVISIBLE.sub(_escape, str(text))


def visible_lines(text: object) -> str:
    """``visible`` for each line of a multi-line text (a tooltip), keeping its line breaks."""
    return "\n".join(visible(part) for part in str(text).split("\n"))


def terminal(line: object) -> str:
    """One line for a terminal or a CI log: ``visible``, and no log command can start in it."""
    out = str(line)
    if not (out.isascii() and out.isprintable() and "##" not in out):  # (the usual line: as is)
        out = _HASH_PAIR.sub("#\\\\", visible(out))
    if out.lstrip().startswith("::"):
        out = out.replace("::", "\\::", 1)
    return out


def workflow_data(text: object) -> str:
    """A GitHub workflow command's message (line breaks kept, as the runner's ``%0A``)."""
    shown = _HASH_PAIR.sub("#\\\\", _INVISIBLE_BUT_LINES.sub(_escape, str(text)))
    return shown.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def workflow_property(text: object) -> str:
    """A GitHub workflow command's property value (``file=``, ``title=``)."""
    return workflow_data(text).replace(":", "%3A").replace(",", "%2C")


_MD_PUNCT = _Pattern(r"([\\`\[\]|])")
_MD_BREAK = _Pattern(r"(@|#(?=\d)|:(?=//)|(?<=\bwww)\.)", re.IGNORECASE)


def markdown_text(text: object) -> str:
    """Plain text on one line for a Markdown table cell or list item."""
    flat = " ".join(visible(text if text is not None else "").split())
    flat = flat.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    flat = _HASH_PAIR.sub("#\\\\", _MD_PUNCT.sub(r"\\\1", flat))  # renders as ##
    return _MD_BREAK.sub(lambda m: m.group(0) + _ZWSP, flat)


def markdown_code(text: object, in_table: bool = True) -> str:
    """A code span (nothing inside one is a link, mention or HTML); empty when ``text`` is.

    In a table cell a ``|`` is written ``\\|`` (GFM splits cells before it reads code spans)."""
    flat = _HASH_PAIR.sub("#" + _ZWSP, " ".join(visible(text if text is not None else "").split()))
    if not flat:
        return ""
    longest = max((len(run) for run in re.findall(r"`+", flat)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if flat.startswith("`") or flat.endswith("`") else ""
    body = flat.replace("|", "\\|") if in_table else flat
    return f"{fence}{pad}{body}{pad}{fence}"


def xml_text(text: object) -> str:
    """``text`` with what XML 1.0 cannot carry (most controls, lone surrogates) escaped."""
    return _NOT_XML.sub(_escape, str(text))
