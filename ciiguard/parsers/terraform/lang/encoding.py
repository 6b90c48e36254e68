"""Terraform's encoding, hashing, path and CSV functions, byte for byte as Go computes them.

Hashes and base64 read a string's UTF-8 bytes (cty strings are NFC already). Where Go's library
and Python's would part ways (a CSV quote, a character encoding Python names differently, a
Windows path), the function says ``NotDecided`` rather than risk a value Terraform would not give.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Callable

from ciiguard.parsers.terraform.lang.functions import (
    FunctionError,
    NotDecided,
    Value,
    arity,
    as_str,
)

__all__ = ["ENCODING_FUNCTIONS"]


def _utf8(s: str) -> bytes:
    try:
        return s.encode("utf-8")
    except UnicodeEncodeError:
        raise NotDecided("a string with unpaired surrogates") from None


def _b64decode(text: str, fn: str) -> bytes:
    """Go's base64.StdEncoding: padding required, line breaks skipped, nothing else allowed."""
    data = text.replace("\r", "").replace("\n", "")
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise FunctionError(f"{fn}: failed to decode base64 data") from None


def _base64encode(a: list[Value]) -> Value:
    arity(a, "base64encode", 1)
    return base64.b64encode(_utf8(as_str(a[0], "base64encode"))).decode("ascii")


def _base64decode(a: list[Value]) -> Value:
    arity(a, "base64decode", 1)
    raw = _b64decode(as_str(a[0], "base64decode"), "base64decode")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise FunctionError("base64decode: the result is not valid UTF-8") from None


def _hex_digest(name: str) -> Callable[[list[Value]], Value]:
    def digest(a: list[Value]) -> Value:
        arity(a, name, 1)
        return hashlib.new(name, _utf8(as_str(a[0], name))).hexdigest()

    return digest


def _b64_digest(name: str, algorithm: str) -> Callable[[list[Value]], Value]:
    def digest(a: list[Value]) -> Value:
        arity(a, name, 1)
        raw = hashlib.new(algorithm, _utf8(as_str(a[0], name))).digest()
        return base64.b64encode(raw).decode("ascii")

    return digest


# IANA names golang.org/x/text maps to exactly what Python's codec of the same job produces
_TEXT_CODECS = {"utf-8": "utf-8", "utf-16le": "utf-16-le", "utf-16be": "utf-16-be"}
_TEXT_CODECS["iso-8859-1"] = "latin-1"


def _codec(name: str, fn: str) -> str:
    codec = _TEXT_CODECS.get(name.lower())
    if codec is None:
        raise NotDecided(f"{fn}: encoding {name!r} is not one ciiguard reproduces exactly")
    return codec


def _textencodebase64(a: list[Value]) -> Value:
    arity(a, "textencodebase64", 2)
    text, codec = (
        as_str(a[0], "textencodebase64"),
        _codec(as_str(a[1], "textencodebase64"), "textencodebase64"),
    )
    try:
        raw = text.encode(codec)
    except UnicodeEncodeError:
        raise FunctionError(
            f"textencodebase64: the string has characters {codec} cannot represent"
        ) from None
    return base64.b64encode(raw).decode("ascii")


def _textdecodebase64(a: list[Value]) -> Value:
    arity(a, "textdecodebase64", 2)
    codec = _codec(as_str(a[1], "textdecodebase64"), "textdecodebase64")
    raw = _b64decode(as_str(a[0], "textdecodebase64"), "textdecodebase64")
    try:
        text = raw.decode(codec)
    except UnicodeDecodeError:  # x/text substitutes U+FFFD its own way
        raise NotDecided("textdecodebase64: bytes invalid in the encoding") from None
    if text.startswith("\ufeff"):
        raise NotDecided("textdecodebase64: a byte-order mark")
    return text


def _urlencode(a: list[Value]) -> Value:
    """Go's url.QueryEscape: unreserved characters kept, space as '+', the rest %XX."""
    arity(a, "urlencode", 1)
    import urllib.parse  # (these functions' modules are imported when a configuration calls them)

    return urllib.parse.quote_plus(_utf8(as_str(a[0], "urlencode")), safe="")


_UUID = re.compile(
    r"(?:urn:uuid:)?(\{)?[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
    r"[0-9a-fA-F]{12}(?(1)\})|[0-9a-fA-F]{32}"
)
_NAMESPACES = ("dns", "url", "oid", "x500")  # uuid.NAMESPACE_<NAME>


def _uuidv5(a: list[Value]) -> Value:
    """uuidv5 with a named namespace or one in a form github.com/google/uuid parses."""
    arity(a, "uuidv5", 2)
    ns_text, name = as_str(a[0], "uuidv5"), as_str(a[1], "uuidv5")
    import uuid

    namespace = getattr(uuid, f"NAMESPACE_{ns_text.upper()}") if ns_text in _NAMESPACES else None
    if namespace is None:
        if not _UUID.fullmatch(ns_text):
            raise FunctionError(f"uuidv5: namespace {ns_text!r} is not supported")
        namespace = uuid.UUID(ns_text.removeprefix("urn:uuid:"))
    return str(
        uuid.UUID(bytes=hashlib.sha1(namespace.bytes + _utf8(name)).digest()[:16], version=5)
    )


def go_clean(path: str) -> str:
    """Go's path.Clean: the shortest lexically equal path."""
    if path == "":
        return "."
    rooted = path.startswith("/")
    parts: list[str] = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if parts and parts[-1] != "..":
                parts.pop()
            elif not rooted:
                parts.append("..")
            continue
        parts.append(part)
    out = "/".join(parts)
    if rooted:
        return "/" + out
    return out or "."


def _basename(a: list[Value]) -> Value:
    """filepath.Base on a Unix host (Terraform on Windows also splits at backslashes)."""
    arity(a, "basename", 1)
    path = as_str(a[0], "basename")
    if "\\" in path:
        raise NotDecided("basename: a backslash is a separator on Windows hosts only")
    if path == "":
        return "."
    path = path.rstrip("/")
    return path.rsplit("/", 1)[-1] if path else "/"


def _dirname(a: list[Value]) -> Value:
    arity(a, "dirname", 1)
    path = as_str(a[0], "dirname")
    if "\\" in path:
        raise NotDecided("dirname: a backslash is a separator on Windows hosts only")
    return go_clean(path[: path.rfind("/") + 1])


def _csvdecode(a: list[Value]) -> Value:
    """Go's encoding/csv for text without quotes: empty lines skipped, a header row, every
    row as wide as the header. Quoted fields are left undecided (Go and Python differ)."""
    arity(a, "csvdecode", 1)
    text = as_str(a[0], "csvdecode")
    if '"' in text:
        raise NotDecided("csvdecode: quoted CSV fields")
    lines = text.replace("\r\n", "\n").split("\n")
    if lines and lines[-1].endswith("\r"):
        lines[-1] = lines[-1][:-1]
    rows = [line.split(",") for line in lines if line != ""]
    if not rows:
        raise FunctionError("csvdecode: missing header line")
    header = rows[0]
    if len(set(header)) != len(header):
        raise FunctionError("csvdecode: duplicate column name")
    out: list[Value] = []
    for row in rows[1:]:
        if len(row) != len(header):
            raise FunctionError("csvdecode: wrong number of fields")
        out.append(dict(zip(header, row, strict=True)))
    return out


ENCODING_FUNCTIONS: dict[str, Callable[[list[Value]], Value]] = {
    "base64encode": _base64encode,
    "base64decode": _base64decode,
    "base64sha256": _b64_digest("base64sha256", "sha256"),
    "base64sha512": _b64_digest("base64sha512", "sha512"),
    "md5": _hex_digest("md5"),
    "sha1": _hex_digest("sha1"),
    "sha256": _hex_digest("sha256"),
    "sha512": _hex_digest("sha512"),
    "textencodebase64": _textencodebase64,
    "textdecodebase64": _textdecodebase64,
    "urlencode": _urlencode,
    "uuidv5": _uuidv5,
    "basename": _basename,
    "dirname": _dirname,
    "csvdecode": _csvdecode,
}
