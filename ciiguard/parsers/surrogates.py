"""Lone UTF-16 surrogates, which JSON and YAML escapes (``"\\ud800"``) produce but UTF-8 cannot
encode: replaced by U+FFFD, as the Go decoders Terraform and Pulumi use do, so that no report,
fingerprint or cache write can crash on a value an input smuggled in.
"""

from __future__ import annotations

import re
from typing import Any

# the escapes that can produce a surrogate: JSON/YAML \uD800-\uDFFF, YAML \U0000D800-\U0000DFFF
_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]|\\U0000[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def may_hold_surrogates(text: str) -> bool:
    """Whether decoding ``text`` can yield lone surrogates (cheap: one regex search)."""
    return _ESCAPE.search(text) is not None


def fix(s: str) -> str:
    return _SURROGATE.sub("\ufffd", s) if _SURROGATE.search(s) else s


def scrub(root: Any) -> Any:
    """Replace lone surrogates in every string of a decoded document, keys included, in place
    where containers allow it (lists, dicts and their subclasses); returns the document."""
    if isinstance(root, str):
        return fix(root)
    stack = [root]
    while stack:
        v = stack.pop()
        if isinstance(v, list):
            for i, x in enumerate(v):
                if isinstance(x, str):
                    v[i] = fix(x)
                elif isinstance(x, tuple):
                    v[i] = tuple(fix(y) if isinstance(y, str) else y for y in x)
                    stack.extend(y for y in x if isinstance(y, (list, dict)))
                elif isinstance(x, (list, dict)):
                    stack.append(x)
        elif isinstance(v, dict):
            items = [(fix(k) if isinstance(k, str) else k, x) for k, x in v.items()]
            v.clear()
            for k, x in items:
                v[k] = fix(x) if isinstance(x, str) else x
                if isinstance(x, (list, dict)):
                    stack.append(x)
            lines = getattr(v, "lines", None)  # YAML maps keep the line of each key
            if isinstance(lines, dict):
                fixed = {fix(k) if isinstance(k, str) else k: n for k, n in lines.items()}
                lines.clear()
                lines.update(fixed)
    return root
