"""Terraform plan JSON (``terraform show -json PLANFILE``): gate on exactly what apply will create.

Resources come from ``planned_values`` (root and child modules), joined with ``configuration`` (by
address and ``provider_config_key``) for provider regions and references, and with
``resource_changes`` for actions and ``after_unknown``. Values unknown before apply become
``Unknown`` at their attribute path, naming the resources their expression refers to, so flows and
policies treat them exactly as on the HCL path. ``--source DIR`` maps resources back to ``.tf`` lines
and lets locals and whole expressions be evaluated where the plan keeps only their references.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ciiguard.cache.store import can_fork, child_exit, receive, send
from ciiguard.errors import InputError
from ciiguard.model import Hop, Location, ParseOutput, RegionInfo, Resource, ScanIssue, Unknown
from ciiguard.parsers.arm import AZAPI_TYPES, translate
from ciiguard.parsers.base import ParseContext
from ciiguard.parsers.comments import CommentWindows
from ciiguard.parsers.provider_defaults import (
    environment_or_default,
    merge_tags,
    provider_region,
    region_info,
    unset_variables,
)
from ciiguard.parsers.surrogates import may_hold_surrogates, scrub
from ciiguard.parsers.terraform.files import LocalValues, VarValue, non_null, selected_workspace
from ciiguard.parsers.terraform.hcl.nodes import (
    Attribute,
    Block,
    Body,
    Expr,
    HclFile,
    Literal,
)
from ciiguard.parsers.terraform.hcl.reader import parse_expression, parse_hcl
from ciiguard.parsers.terraform.lang.evaluator import Evaluator, Scope, render_value
from ciiguard.parsers.terraform.module_def import (
    Located,
    LocatedAttr,
    block_comments,
    passed_providers,
)
from ciiguard.settings import module_source_key, processes

PEEK_BYTES = 64 * 1024
MAX_PLAN_BYTES = 4 * 1024 * 1024 * 1024
SUPPORTED_MAJOR = "1"
# Terraform 0.12-0.14 wrote format 0.1, 0.15-1.0 format 0.2: read like 1.x (see _legacy_key)
LEGACY_FORMATS = ("0.1", "0.2")
# the formats before 1.1 (Terraform 1.2): a resource in a module names its provider by the call
_BEFORE_1_1 = (*LEGACY_FORMATS, "1.0")
# GitHub's hashicorp/setup-terraform wraps terraform in a script that echoes the command first
WRAPPER_PREFIX = "[command]"
CHANGING_ACTIONS = frozenset({"create", "update"})  # a replace is delete + create
# Attributes where the provider has already merged its default tags over the resource's own
# (AWS provider docs, "default_tags": tags_all; Google provider 5.x docs, "default_labels":
# terraform_labels).
MERGED_TAG_ATTRIBUTES = {"tags": "tags_all", "labels": "terraform_labels"}
NON_RESOURCE_ROOTS = frozenset(
    {"var", "local", "each", "count", "path", "terraform", "self", "data", "module"}
)
# Flow arguments a provider computes when the configuration leaves them unset, so a new resource
# plans them as unknown although nothing declares a flow there (AWS provider v4+: the deprecated
# inline replication_configuration of aws_s3_bucket is Optional+Computed; plans show
# "replication_configuration": true in after_unknown for every new bucket).
PROVIDER_COMPUTED = frozenset({("aws_s3_bucket", "replication_configuration")})
PLAN_CONFIG = "plan configuration"
PLAN_VARIABLES = "plan variables"

_WS = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()
_HEAD = re.compile(
    r'\A\s*\{\s*"format_version"\s*:\s*"[^"]*"\s*,\s*"terraform_version"\s*:\s*"[^"]*"\s*,'
    r'\s*"(?:variables|planned_values|resource_changes|resource_drift|prior_state|configuration)"'
)


# -- reading ----------------------------------------------------------------------------------
def _encoding(head: bytes) -> tuple[str, int]:
    """The text encoding of a JSON file and the length of its byte-order mark."""
    if head.startswith(b"\xef\xbb\xbf"):
        return "utf-8", 3
    if head.startswith(b"\xff\xfe"):
        return "utf-16-le", 2
    if head.startswith(b"\xfe\xff"):
        return "utf-16-be", 2
    # RFC 4627 section 3: a JSON text starts with an ASCII character, so NUL bytes tell UTF-16.
    if len(head) >= 2 and head[0] != 0 and head[1] == 0:
        return "utf-16-le", 0
    if len(head) >= 2 and head[0] == 0 and head[1] != 0:
        return "utf-16-be", 0
    return "utf-8", 0


def looks_like_plan(head: bytes) -> bool:
    """Whether the first bytes of a file are ``terraform show -json`` output for a plan (also
    when setup-terraform's wrapper put its ``[command]`` line first: an error to report, not a
    file to pass over)."""
    enc, bom = _encoding(head[:4])
    text = head[bom:].decode(enc, errors="ignore")
    if text.startswith(WRAPPER_PREFIX):
        text = text.partition("\n")[2]
    if not text.lstrip().startswith("{") or '"format_version"' not in text:
        return False
    if '"planned_values"' in text or '"resource_changes"' in text:
        return True
    # A long "variables" section can push planned_values past the peek; the key order is fixed.
    return bool(_HEAD.match(text))


def _starts_with_wrapper(data: bytes, enc: str, bom: int) -> bool:
    """Whether the text starts with the wrapper's ``[command]``, as decoding the whole file with
    invalid bytes dropped would tell, decoding only its head where that settles it.

    A head decoded on its own gives the whole text's first characters but may drop its last one
    (a character cut at the head's end); more characters than the prefix has settle the answer.
    Before, the whole file was decoded (and copied) for this: 0.9 s of a 100k-resource plan."""
    head = data[bom : bom + 4096].decode(enc, errors="ignore")
    if len(head) <= len(WRAPPER_PREFIX) and len(data) > bom + 4096:
        head = data[bom:].decode(enc, errors="ignore")  # a head of mostly invalid bytes
    return head.startswith(WRAPPER_PREFIX)


def read_plan_text(path: Path, display: str, limit: int | None = None) -> str:
    """The plan as text: UTF-8 with or without BOM, UTF-16 (PowerShell's ``>``) with BOM.

    ``limit`` (``--max-file-size``) replaces the default 4 GiB cap."""
    try:
        size = path.stat().st_size
        if limit is not None and size > limit:
            from ciiguard.parsers.reading import size_text

            raise InputError(display, None, f"file is larger than the limit ({size_text(limit)})")
        if size > MAX_PLAN_BYTES:
            raise InputError(display, None, "plan JSON is larger than 4 GiB")
        data = path.read_bytes()
    except PermissionError:
        raise InputError(display, None, "permission denied") from None
    except OSError as exc:
        raise InputError(display, None, f"cannot read file: {exc.strerror or exc}") from None
    enc, bom = _encoding(data[:4])
    if _starts_with_wrapper(data, enc, bom):
        raise InputError(
            display,
            1,
            "starts with the '[command]...' line GitHub's setup-terraform wrapper adds to "
            "terraform's output, so it is not plan JSON: set 'terraform_wrapper: false' on "
            "hashicorp/setup-terraform, or write the file with 'terraform show -json PLAN > FILE' "
            "where the wrapper is not used",
        )
    try:
        # A view, not data[bom:]: slicing copied the whole file once more (155 MB for a
        # 100k-resource plan) just to skip a byte-order mark.
        return str(memoryview(data)[bom:], enc)
    except UnicodeDecodeError as exc:
        width = 1 if enc == "utf-8" else 2
        line = data[bom : bom + exc.start].decode(enc, errors="ignore").count("\n") + 1
        name = "UTF-8" if width == 1 else "UTF-16"
        raise InputError(display, line, f"plan JSON is not valid {name}") from None


@dataclass(slots=True)
class Change:
    """What ``resource_changes`` says about one resource instance (one per resource of a plan:
    slotted, and its ``actions`` shared with every change that has the same)."""

    actions: tuple[str, ...]
    after_unknown: Any
    line: int


@dataclass
class PlanDocument:
    """The parts of a plan ciiguard uses; ``resource_changes`` reduced while it is read."""

    format_version: str
    variables: dict[str, Any]
    planned_values: dict[str, Any] | None
    configuration: dict[str, Any]
    changes: dict[str, Change]
    deleted: list[str]
    errored: bool
    complete: bool


class _Reader:
    """Reads the top-level object key by key; ``resource_changes`` one element at a time.

    Sections ciiguard does not use (``prior_state``, ``resource_drift``) are decoded and dropped
    at once, and each change drops its ``before``/``after`` copies, so memory stays close to the
    planned values themselves.
    """

    KEEP = frozenset(
        {"format_version", "variables", "planned_values", "configuration", "errored", "complete"}
    )

    def __init__(self, text: str, display: str) -> None:
        self.text = text
        self.display = display
        self.surrogates = may_hold_surrogates(text)
        self._line_pos = 0
        self._line = 1
        self.helper: _Helper | None = None  # reads the second half of resource_changes

    def error(self, pos: int, message: str) -> InputError:
        return InputError(self.display, self.line_at(pos), message)

    def line_at(self, pos: int) -> int:
        if pos < self._line_pos:
            self._line_pos, self._line = 0, 1
        self._line += self.text.count("\n", self._line_pos, pos)
        self._line_pos = pos
        return self._line

    def ws(self, pos: int) -> int:
        m = _WS.match(self.text, pos)
        return m.end() if m else pos

    def value(self, pos: int) -> tuple[Any, int]:
        try:
            value, end = _DECODER.raw_decode(self.text, pos)
            return (scrub(value) if self.surrogates else value), end
        except json.JSONDecodeError as exc:
            raise InputError(self.display, exc.lineno, f"invalid JSON: {exc.msg}") from None
        except RecursionError:
            raise self.error(pos, "invalid JSON: nested too deeply") from None
        except ValueError as exc:  # an integer with more digits than Python converts
            m = re.compile(r"\d{4301,}").search(self.text, pos)
            raise self.error(m.start() if m else pos, f"invalid JSON number: {exc}") from None

    def expect(self, pos: int, char: str, what: str) -> int:
        pos = self.ws(pos)
        if self.text[pos : pos + 1] != char:
            got = self.text[pos : pos + 1] or "end of file"
            raise self.error(pos, f"invalid JSON: expected {what}, found {got!r}")
        return pos + 1

    def read(self, split: bool = False) -> PlanDocument:
        """The plan. ``split``: a big plan's ``resource_changes`` from about its middle, and the
        rest of the document, are read by a forked child while this process reads up to there
        (``_Helper``); the child's answer is taken only when this reader arrives exactly where
        the child began, at the start of a change, so it is the one this reader would give."""
        if split and len(self.text) >= SPLIT_PLAN_CHARS:
            self.helper = _Helper.start(self)
        try:
            return self._read()
        finally:
            if self.helper is not None:
                self.helper.stop()
                self.helper = None

    def _read(self) -> PlanDocument:
        text = self.text
        pos = self.expect(0, "{", "'{' (a plan JSON object)")
        found: dict[str, Any] = {}
        changes: dict[str, Change] = {}
        deleted: list[str] = []
        pos = self.ws(pos)
        try:
            pos = (
                pos + 1
                if text[pos : pos + 1] == "}"
                else self.members(pos, found, changes, deleted)
            )
        except _Joined as joined:  # the helper read from there to the end, as this reader would
            rest_found, rest_changes, rest_deleted = joined.rest
            found.update(rest_found)
            changes.update(rest_changes)  # (a later change of an address replaces an earlier)
            deleted.extend(rest_deleted)
            return self.document(found, changes, deleted)
        self.end(pos)
        return self.document(found, changes, deleted)

    def members(
        self, pos: int, found: dict[str, Any], changes: dict[str, Change], deleted: list[str]
    ) -> int:
        """The top-level object's members from ``pos`` through its ``}``."""
        text = self.text
        while True:
            pos = self.ws(pos)
            key, pos = self.value(pos)
            if not isinstance(key, str):
                raise self.error(pos, "invalid JSON: object keys must be strings")
            pos = self.ws(self.expect(pos, ":", "':'"))
            if key == "resource_changes" and text[pos : pos + 1] == "[":
                pos = self.read_changes(pos + 1, changes, deleted)
            elif key in self.KEEP:
                found[key], pos = self.value(pos)
            else:  # prior_state, resource_drift, ...: checked, never held whole
                pos = self.skip(pos, 0)
            pos = self.ws(pos)
            if text[pos : pos + 1] == ",":
                pos += 1
                continue
            return self.expect(pos, "}", "',' or '}'")

    def end(self, pos: int) -> None:
        if self.ws(pos) != len(self.text):
            raise self.error(self.ws(pos), "invalid JSON: extra data after the plan object")

    def rest_from(self, at: int) -> tuple[dict[str, Any], dict[str, Change], list[str]]:
        """What reading from ``at``, the start of a change in ``resource_changes``, to the end
        of the document finds (the helper's part): the changes from there on, then the
        members after the array."""
        found: dict[str, Any] = {}
        changes: dict[str, Change] = {}
        deleted: list[str] = []
        pos = self.ws(self.change_items(at, changes, deleted))
        if self.text[pos : pos + 1] == ",":
            pos = self.members(pos + 1, found, changes, deleted)
        else:
            pos = self.expect(pos, "}", "',' or '}'")
        self.end(pos)
        return found, changes, deleted

    SKIP_DEPTH = 6  # state/modules/resources nest this deep; below it a value is decoded whole

    def skip(self, pos: int, depth: int) -> int:
        """Pass over one JSON value, checking it, without building it whole: an object or array
        is walked (down to SKIP_DEPTH) and its members decoded and dropped one at a time, so a
        section ciiguard does not use (``prior_state``: every existing resource) costs no more
        memory than its largest element."""
        text = self.text
        opening = text[pos : pos + 1]
        if depth >= self.SKIP_DEPTH or opening not in ("{", "["):
            return self.value(pos)[1]
        closing = "}" if opening == "{" else "]"
        pos = self.ws(pos + 1)
        if text[pos : pos + 1] == closing:
            return pos + 1
        while True:
            pos = self.ws(pos)
            if opening == "{":
                key, pos = self.value(pos)
                if not isinstance(key, str):
                    raise self.error(pos, "invalid JSON: object keys must be strings")
                pos = self.ws(self.expect(pos, ":", "':'"))
            pos = self.ws(self.skip(pos, depth + 1))
            if text[pos : pos + 1] == ",":
                pos += 1
                continue
            return self.expect(pos, closing, f"',' or '{closing}'")

    def read_changes(self, pos: int, changes: dict[str, Change], deleted: list[str]) -> int:
        pos = self.ws(pos)
        if self.text[pos : pos + 1] == "]":
            return pos + 1
        return self.change_items(pos, changes, deleted)

    def change_items(self, pos: int, changes: dict[str, Change], deleted: list[str]) -> int:
        """The changes from ``pos`` (where one starts) through the array's ``]``."""
        text = self.text
        while True:
            pos = self.ws(pos)
            start = pos
            if self.helper is not None and start == self.helper.at:
                rest = self.helper.result()
                if rest is not None:
                    raise _Joined(rest)
                self.helper = None  # the helper failed: read on here
            item, pos = self.value(pos)
            self.take_change(item, self.line_at(start), changes, deleted, start)
            del item
            pos = self.ws(pos)
            if text[pos : pos + 1] == ",":
                pos += 1
                continue
            return self.expect(pos, "]", "',' or ']'")

    def take_change(
        self, item: Any, line: int, changes: dict[str, Change], deleted: list[str], pos: int
    ) -> None:
        if not isinstance(item, dict) or not isinstance(item.get("address"), str):
            raise self.error(pos, "resource_changes entry without an address")
        if item.get("mode", "managed") != "managed" or item.get("deposed"):
            return  # data sources are read, not created; deposed objects are only destroyed
        change = item.get("change")
        if not isinstance(change, dict) or not isinstance(change.get("actions"), list):
            raise self.error(pos, f"resource_changes entry {item['address']} has no change.actions")
        actions = tuple(str(a) for a in change["actions"])
        actions = _ACTIONS.setdefault(actions, actions)
        if actions == ("delete",) or actions == ("forget",):
            deleted.append(item["address"])
            return
        changes[item["address"]] = Change(actions, _compact(change.get("after_unknown")), line)

    def document(
        self, found: dict[str, Any], changes: dict[str, Change], deleted: list[str]
    ) -> PlanDocument:
        version = found.get("format_version")
        if not isinstance(version, str):
            raise InputError(self.display, 1, "not a Terraform plan: no format_version")
        if version.split(".", 1)[0] != SUPPORTED_MAJOR and version not in LEGACY_FORMATS:
            raise InputError(
                self.display,
                1,
                f"plan JSON format_version {version} is not supported (ciiguard reads 0.1, 0.2 "
                "and 1.x)",
            )
        planned = found.get("planned_values")
        if planned is not None and not isinstance(planned, dict):
            raise InputError(self.display, None, "planned_values is not an object")
        variables = found.get("variables") or {}
        config = found.get("configuration") or {}
        if not isinstance(variables, dict) or not isinstance(config, dict):
            raise InputError(self.display, None, "variables/configuration must be objects")
        return PlanDocument(
            format_version=version,
            variables=variables,
            planned_values=planned,
            configuration=config,
            changes=changes,
            deleted=deleted,
            errored=bool(found.get("errored", False)),
            complete=bool(found.get("complete", True)),
        )


# A plan at least this long (in characters) is read by two processes when forking is allowed.
SPLIT_PLAN_CHARS = 32 << 20
# Where a change of resource_changes starts, as Terraform writes one: its address, then one of
# the keys that follow it (an "address" key inside a change's values rarely has these next).
_CHANGE_START = re.compile(
    r'\{\s*"address"\s*:\s*"(?:[^"\\]|\\.)*"\s*,\s*"(?:previous_address|module_address|mode)"\s*:'
)


class _Joined(Exception):
    """The helper's part of the document, taken where it began."""

    def __init__(self, rest: tuple[dict[str, Any], dict[str, Change], list[str]]) -> None:
        super().__init__()
        self.rest = rest


class _Helper:
    """A forked child that reads a big plan from a change near the middle of resource_changes
    to the end of the document, while the parent reads up to there.

    Where the child begins is a guess (``_CHANGE_START``, which hostile text can imitate); the
    parent takes the child's answer only when its own reading arrives exactly there at the
    start of a change (``change_items``), and then it is what the parent would have read: the
    same code on the same text from the same position. A child that finds an error sends it
    (it is the first one only if the parent's part has none, which the parent finds first);
    one that fails otherwise sends nothing, and the parent reads on itself."""

    def __init__(self, pid: int, at: int, stream: Any) -> None:
        self.pid, self.at, self.stream = pid, at, stream

    @classmethod
    def start(cls, reader: _Reader) -> _Helper | None:
        at = _split_point(reader.text)
        if at is None or not can_fork():
            return None
        read_end, write_end = os.pipe()
        try:
            pid = os.fork()
        except OSError:
            os.close(read_end)
            os.close(write_end)
            return None
        if pid == 0:  # the child: never returns
            os.close(read_end)

            def work() -> None:
                answer: Any
                try:
                    answer = ("rest", reader.rest_from(at))
                except InputError as exc:
                    answer = ("error", (exc.file, exc.line, exc.message))
                with os.fdopen(write_end, "wb") as out:
                    send(out, answer)

            child_exit(work)
        os.close(write_end)
        return cls(pid, at, os.fdopen(read_end, "rb"))

    def result(self) -> tuple[dict[str, Any], dict[str, Change], list[str]] | None:
        """The child's part (its error raised), or None when it sent none."""
        value: Any
        try:
            kind, value = receive(self.stream)
        except Exception:  # noqa: BLE001 - a child that failed: the parent reads on itself
            return None
        finally:
            self.stop()
        if kind == "error":
            raise InputError(*value)
        return value if kind == "rest" else None

    def stop(self) -> None:
        """Close the pipe and end the child (once it has sent, it is exiting anyway)."""
        if self.stream is None:
            return
        self.stream.close()
        self.stream = None
        with contextlib.suppress(OSError):
            os.kill(self.pid, signal.SIGKILL)
        with contextlib.suppress(OSError):
            os.waitpid(self.pid, 0)


def _split_point(text: str) -> int | None:
    """Where a change starts a little before halfway from resource_changes to the end (a guess,
    see ``_Helper``): the first object there that opens as a change does and has a ``change``
    soon after (a resource of ``prior_state`` opens alike, but has none). None when there is no
    such place."""
    key = text.find('"resource_changes"')
    if key < 0:
        return None
    found = _CHANGE_START.search(text, key + (len(text) - key) * 9 // 20)
    if found is None or text.find('"change"', found.end(), found.end() + 2048) < 0:
        return None
    return found.start()


class _Flat(dict[str, bool]):
    """An ``after_unknown`` whose unknowns are all whole attributes (``_compact``), shared by
    every change with the same ones: ``overlay_unknown`` works out once per configuration
    which of them are plain computed attributes."""


_KEYS: dict[tuple[bool, tuple[str, ...]], Any] = {}
_ACTIONS: dict[tuple[str, ...], tuple[str, ...]] = {}


def _compact(unknown: Any) -> Any:
    """``after_unknown`` as ``overlay_unknown`` reads it (never changes it), in less memory:
    attributes known before apply (``false``, ``{}``, ``[]``) are dropped (the overlay passes
    over them), the remaining names are shared by every change with the same ones, and a change
    whose unknowns are all whole attributes shares one dictionary with every change like it.
    Each change is decoded on its own, so without this a 100,000-resource plan holds millions of
    copies of the same names."""
    if not isinstance(unknown, dict) or not unknown:
        return unknown
    # (``v is True`` first: most are, and ``v == {}`` makes a dictionary to compare with)
    kept = [
        (k, v) for k, v in unknown.items() if v is True or not (v is False or v == {} or v == [])
    ]
    names = tuple(k for k, _ in kept)
    flat = all(v is True for _, v in kept)  # the usual case: computed attributes only
    shared = _KEYS.get((flat, names))
    if shared is None:
        if len(_KEYS) > 4096:
            _KEYS.clear()
        interned = tuple(sys.intern(k) if isinstance(k, str) else k for k in names)
        # one read-only dict for every change with the same computed attributes
        shared = _KEYS[(flat, names)] = _Flat.fromkeys(interned, True) if flat else interned
    if flat:
        return shared
    return dict(zip(shared, (v for _, v in kept), strict=True))


def load_plan(
    path: Path, display: str, limit: int | None = None, split: bool = False
) -> PlanDocument:
    """The plan at ``path``; ``split``: a big one may be read by two processes (``_Helper``)."""
    return _Reader(read_plan_text(path, display, limit), display).read(split)


# -- addresses --------------------------------------------------------------------------------
# Dot-separated pieces, each of names and closed, unnested ``[...]`` holding no dot: split at
# every dot, no piece has more ``[`` than ``]`` (``split_address``'s reason to join pieces).
_PIECE = r"[^.\[\]]*(?:\[[^.\[\]]*\][^.\[\]]*)*"
_PLAIN_BRACKETS = re.compile(rf"{_PIECE}(?:\.{_PIECE})*")


def split_address(address: str) -> list[str]:
    """``module.a["x.y"].aws_s3_bucket.b[0]`` -> ``['module', 'a["x.y"]', 'aws_s3_bucket', 'b[0]']``."""
    if '"' not in address:
        pieces = address.split(".")
        if "[" not in address or _PLAIN_BRACKETS.fullmatch(address):
            return pieces  # no piece leaves a bracket open: nothing to join (as below)
        out: list[str] = []
        for piece in pieces:
            if out and out[-1].count("[") > out[-1].count("]"):
                out[-1] += "." + piece
            else:
                out.append(piece)
        return out
    parts: list[str] = []
    cur: list[str] = []
    depth = 0
    in_str = False
    i = 0
    while i < len(address):
        ch = address[i]
        if in_str:
            cur.append(ch)
            if ch == "\\" and i + 1 < len(address):
                cur.append(address[i + 1])
                i += 1
            elif ch == '"':
                in_str = False
        elif ch == '"':
            in_str = True
            cur.append(ch)
        elif ch == "[":
            depth += 1
            cur.append(ch)
        elif ch == "]":
            depth -= 1
            cur.append(ch)
        elif ch == "." and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
        i += 1
    parts.append("".join(cur))
    return parts


def _name_and_key(part: str) -> tuple[str, str]:
    """``b[0]`` -> (``b``, ``[0]``); ``b`` -> (``b``, ``""``)."""
    i = part.find("[")
    return (part, "") if i < 0 else (part[:i], part[i:])


def _key_value(key: str) -> Any:
    """The instance key of ``[0]`` or ``["k"]`` as a value (None when there is none)."""
    if not key:
        return None
    inner = key[1:-1]
    try:
        return json.loads(inner)
    except ValueError:
        return inner


@dataclass(frozen=True)
class Address:
    """A resource instance address taken apart."""

    modules: tuple[tuple[str, str], ...]  # (call name, instance key text) per module step
    mode: str
    type: str
    name: str
    key: str

    @property
    def prefix(self) -> str:
        return "".join(f"module.{n}{k}." for n, k in self.modules)

    @property
    def config_address(self) -> str:
        """The address inside its module, without instance key (as ``configuration`` lists it)."""
        base = f"{self.type}.{self.name}"
        return f"data.{base}" if self.mode == "data" else base


def parse_address(address: str) -> Address | None:
    parts = split_address(address)
    modules: list[tuple[str, str]] = []
    while len(parts) >= 2 and parts[0] == "module":
        modules.append(_name_and_key(parts[1]))
        parts = parts[2:]
    mode = "managed"
    if parts and parts[0] == "data":
        mode, parts = "data", parts[1:]
    if len(parts) != 2:
        return None
    name, key = _name_and_key(parts[1])
    return Address(tuple(modules), mode, parts[0], name, key)


def resource_refs(references: Any, prefix: str) -> frozenset[str]:
    """Resource addresses an expression refers to, most specific form only, with module prefix."""
    if not isinstance(references, list):
        return frozenset()
    keyed: set[str] = set()
    bare: set[str] = set()
    for ref in references:
        if not isinstance(ref, str):
            continue
        parts = split_address(ref)
        if len(parts) < 2 or parts[0] in NON_RESOURCE_ROOTS or "[" in parts[0]:
            continue
        name, key = _name_and_key(parts[1])
        base = f"{prefix}{parts[0]}.{name}"
        if key:
            keyed.add(base + key)
        else:
            bare.add(base)
    covered = {k.split("[", 1)[0] for k in keyed}
    return frozenset(keyed | {b for b in bare if b not in covered})


def reference_path(references: Any) -> tuple[str, ...] | None:
    """The attribute path (``Unknown.path``) of the one resource attribute an expression's
    references are all steps of: ``("region",)`` for ``["aws_s3_bucket.b.region",
    "aws_s3_bucket.b"]``, ``()`` for the resource itself; None for anything else.

    The configuration JSON records an expression's references, not the expression: a function
    of that one attribute (``x.arn == "" ? "ap-east-1" : "cn-north-1"``) has the same ones. So
    a region-valued flow argument is tied to a resource's region only through its ``region``
    or ``location`` (``resolve.flows``), never through another attribute it was computed from."""
    if not isinstance(references, list):
        return None
    one = _single_traversal([r for r in references if isinstance(r, str)])
    if one is None:
        return None
    parts = split_address(one)
    if len(parts) < 2 or parts[0] in NON_RESOURCE_ROOTS or "[" in parts[0]:
        return None
    steps: list[str] = []
    for part in parts[2:]:
        name = part.split("[", 1)[0]
        steps.append(name)
        steps.extend("[]" for _ in range(part.count("[")))
    return tuple(steps)


# -- configuration ----------------------------------------------------------------------------
@dataclass
class ConfigModule:
    """One module of ``configuration`` (the root or a module call's ``module``)."""

    path: tuple[str, ...]
    data: dict[str, Any]
    resources: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def of(cls, path: tuple[str, ...], data: Any) -> ConfigModule:
        data = data if isinstance(data, dict) else {}
        mod = cls(path, data)
        for r in data.get("resources") or []:
            if isinstance(r, dict) and isinstance(r.get("address"), str):
                mod.resources[r["address"]] = r
        return mod

    def call(self, name: str) -> dict[str, Any]:
        calls = self.data.get("module_calls") or {}
        call = calls.get(name) if isinstance(calls, dict) else None
        return call if isinstance(call, dict) else {}

    def variable_default(self, name: str) -> tuple[bool, Any]:
        var = (self.data.get("variables") or {}).get(name)
        if isinstance(var, dict) and "default" in var:
            return True, var["default"]
        return False, None


def _expr_refs(expr: Any) -> list[str]:
    if isinstance(expr, dict) and isinstance(expr.get("references"), list):
        return [r for r in expr["references"] if isinstance(r, str)]
    return []


def _single_traversal(refs: list[str]) -> str | None:
    """The one traversal an expression consists of, when all its references are steps of it.

    Terraform lists ``var.cfg.region`` as ``["var.cfg.region", "var.cfg"]``. Anything else (two
    variables, a function over a variable) cannot be rebuilt from references alone.
    """
    if not refs:
        return None
    longest = max(refs, key=len)
    for r in refs:
        if r != longest and not longest.startswith((r + ".", r + "[")):
            return None
    return longest


# -- HCL source (--source DIR) ----------------------------------------------------------------
@dataclass
class SourceModule:
    """The blocks of one module directory that locate plan resources and evaluate expressions."""

    dir: Path
    files: list[HclFile] = field(default_factory=list)
    resources: dict[tuple[str, str], Located] = field(default_factory=dict)
    providers: list[Located] = field(default_factory=list)
    locals: dict[str, LocatedAttr] = field(default_factory=dict)
    module_calls: dict[str, Located] = field(default_factory=dict)
    variables: dict[str, Located] = field(default_factory=dict)
    _call_args: dict[str, dict[str, Attribute]] = field(default_factory=dict, repr=False)

    def add(self, hcl: HclFile) -> None:
        self.files.append(hcl)
        self._call_args.clear()  # (a call's table is built from the files added so far)
        for block in hcl.body.blocks:
            if block.type == "resource" and len(block.labels) >= 2:
                self.resources.setdefault(
                    (block.labels[0], block.labels[1]), Located(hcl.path, block)
                )
            elif block.type == "provider" and block.labels:
                self.providers.append(Located(hcl.path, block))
            elif block.type == "locals":
                for a in block.body.attributes:
                    self.locals[a.name] = LocatedAttr(hcl.path, a)
            elif block.type == "module" and block.labels:
                self.module_calls.setdefault(block.labels[0], Located(hcl.path, block))
            elif block.type == "variable" and block.labels:
                self.variables.setdefault(block.labels[0], Located(hcl.path, block))

    def resource_block(self, rtype: str, name: str) -> Located | None:
        return self.resources.get((rtype, name))

    def call_argument(self, call: str, name: str) -> Attribute | None:
        """``module_calls[call].block.body.attr(name)``, by a table built once per call: a pass
        over the call's arguments for each variable made variables x arguments for a module call
        passing thousands. The first argument of a name wins, as in ``Body.attr``."""
        table = self._call_args.get(call)
        if table is None:
            located = self.module_calls.get(call)
            table = self._call_args[call] = located.block.body.attrs_by_name() if located else {}
        return table.get(name)

    def provider_block(self, name: str, alias: str | None) -> Located | None:
        for located in self.providers:
            block = located.block
            if block.labels[0] != name:
                continue
            a = block.body.attr("alias")
            if (a.expr.value if a is not None and isinstance(a.expr, Literal) else None) == alias:
                return located
        return None


class SourceTree:
    """The ``.tf`` files behind a plan: module directories by configuration path, read lazily."""

    def __init__(self, root: Path, ctx: ParseContext, out: ParseOutput) -> None:
        self.root = root.resolve()
        self.ctx = ctx
        self.out = out
        self._dirs: dict[tuple[str, ...], Path | None] = {(): self.root}
        self._mods: dict[Path, SourceModule] = {}
        self._remote = self._manifest()

    def _manifest(self) -> dict[str, Path]:
        manifest = self.root / ".terraform" / "modules" / "modules.json"
        if not manifest.is_file():
            return {}
        try:
            data = json.loads(manifest.read_text(encoding="utf-8"))
            return {
                str(m["Key"]): self.root / str(m["Dir"])
                for m in data.get("Modules", [])
                if m.get("Key")
            }
        except (OSError, ValueError, TypeError, KeyError, AttributeError):
            self.out.errors.append(
                ScanIssue(self.ctx.display(manifest), None, "unreadable modules.json")
            )
            return {}

    def directory(
        self, path: tuple[str, ...], config: Mapping[tuple[str, ...], ConfigModule]
    ) -> Path | None:
        """A module's directory from its call's ``source`` (local path, or ``terraform init``'s)."""
        if path in self._dirs:
            return self._dirs[path]
        parent_dir = self.directory(path[:-1], config)
        parent = config.get(path[:-1])
        source = parent.call(path[-1]).get("source") if parent else None
        found: Path | None = None
        if parent_dir is not None and isinstance(source, str):
            if source.startswith(("./", "../")) or source in (".", ".."):
                found = (parent_dir / source).resolve()
            else:
                remote = self._remote.get(".".join(path))
                found = remote.resolve() if remote is not None else self._mapped(source)
        if found is not None and not found.is_dir():
            found = None
        self._dirs[path] = found
        return found

    def _mapped(self, source: str) -> Path | None:
        """A remote source the config file's ``[module_sources]`` maps to a directory."""
        key, subdir = module_source_key(source)
        directory = self.ctx.settings.module_sources.get(key)
        if directory is None:
            return None
        target = (Path(directory) / subdir).resolve()
        if (
            not self.ctx.settings.allow_outside_root
            and not any(
                target == r or r in target.parents for r in (x.resolve() for x in self.ctx.roots)
            )
            and not (target == self.root or self.root in target.parents)
        ):
            return None
        return target

    def module(self, directory: Path) -> SourceModule:
        mod = self._mods.get(directory)
        if mod is None:
            mod = SourceModule(directory)
            for path in sorted(p for p in directory.glob("*.tf") if p.is_file()):
                try:
                    mod.add(parse_hcl(self._read(path), self.ctx.display(path)))
                except InputError as exc:
                    self.out.errors.append(ScanIssue(exc.file, exc.line, exc.message))
            self._mods[directory] = mod
        return mod

    def _read(self, path: Path) -> str:
        shown = self.ctx.display(path)
        reads = getattr(self.ctx, "reads", None)
        if isinstance(reads, set):
            reads.add(path.resolve())  # a result cache must see the source files too
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise InputError(shown, None, f"cannot read file: {exc.strerror or exc}") from None
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            raise InputError(shown, line, "file is not valid UTF-8") from None


# -- scopes -----------------------------------------------------------------------------------
class ModuleScope(Scope):
    """Names in one module instance, answered from the plan (and the HCL source when given)."""

    def __init__(
        self,
        ev: _PlanEvaluation,
        config: ConfigModule,
        steps: tuple[tuple[str, str], ...],
        parent: ModuleScope | None,
    ) -> None:
        self.ev = ev
        self.config = config
        self.steps = steps
        self.parent = parent
        self.prefix = "".join(f"module.{n}{k}." for n, k in steps)
        self.hcl = ev.hcl_module(config.path)
        self._vars: dict[str, tuple[Any, tuple[Hop, ...]]] = {}
        self._locals = LocalValues()

    def bindings(self) -> dict[str, Any]:
        """``count.index`` / ``each.key`` / ``each.value`` of this module instance, for its call."""
        if not self.steps or self.parent is None:
            return {}
        name, key_text = self.steps[-1]
        key = _key_value(key_text)
        if key is None:
            return {}
        call = self.parent.config.call(name)
        if "count_expression" in call or isinstance(key, int):
            return {"count": {"index": key}}
        fe = call.get("for_each_expression")
        value: Any = Unknown(f"each.value of module.{name}{key_text} is not recorded in the plan")
        if isinstance(fe, dict) and isinstance(fe.get("constant_value"), dict):
            value = fe["constant_value"].get(key, value)
        elif isinstance(fe, dict) and isinstance(fe.get("constant_value"), list):
            value = key
        return {"each": {"key": key, "value": value}}

    def variable(self, name: str, ev: Evaluator) -> tuple[Any, tuple[Hop, ...]]:
        if name in self._vars:
            return self._vars[name]
        if self.parent is None:
            entry = self.ev.doc.variables.get(name)
            if isinstance(entry, dict) and "value" in entry:
                v = entry["value"]
                result: tuple[Any, tuple[Hop, ...]] = (
                    v,
                    (Hop(f"var.{name}", PLAN_VARIABLES, None, render_value(v)),),
                )
                if v is None:  # the plan records the value given, before nullable = false
                    result = self._null_argument(name, f"var.{name}", result[1])
            else:
                result = (Unknown(f"var.{name} is not in the plan's variables", error=True), ())
        else:
            result = self._module_variable(name)
        self._vars[name] = result
        return result

    def _module_variable(self, name: str) -> tuple[Any, tuple[Hop, ...]]:
        assert self.parent is not None
        call_name = self.steps[-1][0]
        call = self.parent.config.call(call_name)
        expr = (call.get("expressions") or {}).get(name)
        what = f"{self.prefix}var.{name}"
        if isinstance(expr, dict):
            hcl_expr = None
            where: tuple[str, int | None] = (PLAN_CONFIG, None)
            if self.parent.hcl is not None:
                block = self.parent.hcl.module_calls.get(call_name)
                attr = self.parent.hcl.call_argument(call_name, name) if block else None
                if block is not None and attr is not None:
                    hcl_expr, where = attr.expr, (block.file, attr.line)
            value, trace = self.ev.expression(expr, self.parent, hcl_expr, self.bindings())
            hops = (
                Hop(what, where[0], where[1], render_value(value) if not trace else None),
                *trace,
            )
            if value is None:
                return self._null_argument(name, what, hops)
            return value, hops
        has, default = self.config.variable_default(name)
        if has:
            return default, (Hop(what, PLAN_CONFIG, None, render_value(default)),)
        return Unknown(f"{what} is not set by the module call"), ()

    def _null_argument(
        self, name: str, what: str, hops: tuple[Hop, ...]
    ) -> tuple[Any, tuple[Hop, ...]]:
        """A null given to a variable (by a module call, or to a root module's variable, which
        the plan records as given): the variable's default when it is declared ``nullable =
        false`` (``files.non_null``). The configuration JSON does not record ``nullable``:
        without the source, a null given to a variable with a default may be either. (With no
        default, or a null one, it is null: Terraform made this plan, and refuses a null for a
        non-nullable variable without a default.)"""
        declared = self.hcl.variables.get(name) if self.hcl is not None else None
        if declared is not None:
            vv = non_null(what, VarValue(None, hops), declared)
            return vv.value, vv.hops
        has, default = self.config.variable_default(name)
        if not has or default is None:
            return None, hops
        return Unknown(
            f"{what} is given null and has a default: the plan JSON does not record whether the "
            "variable is declared nullable = false (then Terraform takes the default); scan with "
            "--source DIR"
        ), hops

    def local(self, name: str, ev: Evaluator) -> tuple[Any, tuple[Hop, ...]]:
        la = self.hcl.locals.get(name) if self.hcl is not None else None
        if la is None:
            why = (
                f"local.{name} is not declared in the source"
                if self.hcl is not None
                else f"local.{name}: the plan JSON does not record local values "
                "(scan with --source DIR so ciiguard can read them)"
            )
            return Unknown(why), ()
        return self._locals.evaluate(self, name, la)

    def traverse(self, kind: str, parts: tuple[str, ...], ev: Evaluator) -> Any:
        if kind == "resource":
            if len(parts) < 2:
                return None
            addr = f"{self.prefix}{parts[0]}.{parts[1]}"
            if len(parts) > 2 and parts[2].startswith("["):
                addr += parts[2]
            return Unknown(
                f"{parts[0]}.{parts[1]} attributes are known only after apply", frozenset({addr})
            )
        if kind == "data" and len(parts) < 2:
            return None
        if kind == "terraform" and parts and parts[0] == "workspace":
            value, hop = self.ev.workspace()
            if ev.trace is not None:
                ev.trace.append(hop)
            return value
        return Unknown(f"{kind}.{'.'.join(parts)} is not recorded in the plan")


# -- evaluation -------------------------------------------------------------------------------
@dataclass
class ProviderInfo:
    key: str
    provider: str  # provider type, e.g. "aws"
    region: Any  # value, Unknown, or None when the configuration sets none
    hops: tuple[Hop, ...]
    default_tags: Any
    # the region every resource without its own takes from it: one object for all of them
    inherited: RegionInfo | None = field(default=None, repr=False, compare=False)


class _PlanEvaluation:
    """Turns one plan document into resolved resources."""

    def __init__(
        self, doc: PlanDocument, display: str, ctx: ParseContext, source: SourceTree | None
    ) -> None:
        self.doc = doc
        self.display = display
        self.ctx = ctx
        self.catalogue = ctx.catalogue
        self.source = source
        self.configs: dict[tuple[str, ...], ConfigModule] = {
            (): ConfigModule.of((), doc.configuration.get("root_module"))
        }
        pcs = doc.configuration.get("provider_config")
        self.provider_configs: dict[str, Any] = pcs if isinstance(pcs, dict) else {}
        self.scopes: dict[tuple[tuple[str, str], ...], ModuleScope] = {}
        self.providers: dict[tuple[str, tuple[tuple[str, str], ...]], ProviderInfo] = {}
        self.parsed: dict[str, Expr | None] = {}
        self.overlays: dict[tuple[int, int], _Overlay] = {}  # (overlay_unknown)
        # a provider key's configuration entry, its key, and the depth of its module
        self.provider_entries: dict[str, tuple[dict[str, Any] | None, str, int]] = {}
        self.missing_source: set[str] = set()
        self.warnings: list[ScanIssue] = []
        self.comment_windows = CommentWindows()

    def workspace(self) -> tuple[Any, Hop]:
        """The workspace the plan was made in: ``TF_WORKSPACE``, else the one selected in the
        ``--source`` directory; the plan JSON itself does not record it."""
        env = dict(self.ctx.settings.environment)
        if self.source is None and not env.get("TF_WORKSPACE"):
            why = (
                "terraform.workspace: the plan JSON does not record the workspace (scan with "
                "--source DIR, or set TF_WORKSPACE)"
            )
            return Unknown(why), Hop("terraform.workspace")
        root = self.source.root if self.source is not None else Path.cwd()
        return selected_workspace(root, env, self.ctx.reads, self.ctx.display)

    # -- configuration lookups ----------------------------------------------------------------
    def config(self, path: tuple[str, ...]) -> ConfigModule:
        mod = self.configs.get(path)
        if mod is None:
            parent = self.config(path[:-1])
            mod = ConfigModule.of(path, parent.call(path[-1]).get("module"))
            self.configs[path] = mod
        return mod

    def hcl_module(self, path: tuple[str, ...]) -> SourceModule | None:
        if self.source is None:
            return None
        d = self.source.directory(path, self.configs)
        return self.source.module(d) if d is not None else None

    def scope(self, steps: tuple[tuple[str, str], ...]) -> ModuleScope:
        s = self.scopes.get(steps)
        if s is None:
            parent = self.scope(steps[:-1]) if steps else None
            s = ModuleScope(self, self.config(tuple(n for n, _ in steps)), steps, parent)
            self.scopes[steps] = s
        return s

    # -- expressions ----------------------------------------------------------------------------
    def expression(
        self,
        expr: dict[str, Any],
        scope: ModuleScope,
        hcl_expr: Expr | None,
        bindings: dict[str, Any] | None = None,
    ) -> tuple[Any, tuple[Hop, ...]]:
        """The value of a configuration expression: its constant, or its references evaluated."""
        if "constant_value" in expr:
            return expr["constant_value"], ()
        trace: list[Hop] = []
        ev = Evaluator(scope, trace)
        if bindings:
            ev = ev.with_bindings(bindings)
        if hcl_expr is not None:
            return ev.evaluate(hcl_expr), tuple(trace)
        refs = _expr_refs(expr)
        single = _single_traversal(refs)
        if single is None:
            if not refs:
                return Unknown("the plan records no value or reference for the expression"), ()
            return (
                Unknown(
                    f"the expression combines {', '.join(sorted(set(refs)))}; the plan JSON keeps "
                    "only its references (scan with --source DIR to evaluate it)"
                ),
                (),
            )
        parsed = self._parse_reference(single)
        if parsed is None:
            return Unknown(f"cannot read the reference {single!r}"), ()
        return ev.evaluate(parsed), tuple(trace)

    def _parse_reference(self, text: str) -> Expr | None:
        if text not in self.parsed:
            try:
                self.parsed[text] = parse_expression(text, self.display)
            except InputError:
                self.parsed[text] = None
        return self.parsed[text]

    # -- providers ------------------------------------------------------------------------------
    def provider(self, key: str, steps: tuple[tuple[str, str], ...], rtype: str) -> ProviderInfo:
        entry = self.provider_entries.get(key)
        if entry is None:  # the same few keys for every resource of a plan
            pc, resolved_key = self._provider_entry(key)
            module_path = tuple(
                p
                for p in str((pc or {}).get("module_address", "")).split(".")
                if p and p != "module"
            )
            entry = self.provider_entries[key] = (pc, resolved_key, len(module_path))
        pc, resolved_key, configured_depth = entry
        depth = configured_depth if pc is not None else len(steps)
        inst = steps[: min(depth, len(steps))]
        cache_key = (resolved_key, inst)
        info = self.providers.get(cache_key)
        if info is None:
            info = self._provider_info(resolved_key, pc, inst, rtype)
            self.providers[cache_key] = info
        return info

    def _legacy_key(self, key: str, steps: tuple[tuple[str, str], ...]) -> str | None:
        """Before format 1.1 (Terraform 1.2), a resource in a module named its provider
        configuration ``<module call name>:<provider>`` (``store:aws``), not the configuration
        Terraform actually gave it: the module's own provider block (``module.store:aws``), one
        passed with ``providers = {...}``, or its parent's by inheritance. The plan cannot tell
        the last two apart; the module calls in ``--source`` can. None: unknown."""
        legacy = self.doc.format_version in _BEFORE_1_1
        if not legacy or not steps or ":" not in key:
            return key
        prefix, _, local = key.rpartition(":")
        if prefix.startswith("module."):
            return key
        own = ".".join(f"module.{name}" for name, _ in steps) + ":" + local
        if own in self.provider_configs:
            return own
        return self._passed_key(steps, local)

    def _passed_key(self, steps: tuple[tuple[str, str], ...], local: str) -> str | None:
        """The provider configuration a module without its own gets, followed up its module
        calls' ``providers`` maps (or default inheritance) in the ``--source`` files."""
        if self.source is None:
            return None
        for depth in range(len(steps), 0, -1):
            parent = tuple(name for name, _ in steps[: depth - 1])
            hcl = self.hcl_module(parent)
            call = hcl.module_calls.get(steps[depth - 1][0]) if hcl is not None else None
            if call is None:
                return None
            mapping = call.block.body.attr("providers")
            if mapping is not None:
                passed = passed_providers(mapping.expr)
                if passed is None or local not in passed:
                    return None
                local = passed[local]
            elif "." in local:
                return None  # an alias is never inherited
            prefix = ".".join(f"module.{name}" for name in parent)
            key = f"{prefix}:{local}" if prefix else local
            if key in self.provider_configs or not prefix:
                return key
        return None

    def _provider_entry(self, key: str) -> tuple[dict[str, Any] | None, str]:
        """The provider_config entry for a key; a module's default provider falls back to its parent's."""
        pc = self.provider_configs.get(key)
        if isinstance(pc, dict):
            return pc, key
        mod, _, local = key.rpartition(":")
        while mod and "." not in local:
            parts = split_address(mod)
            mod = ".".join(parts[:-2])
            parent_key = f"{mod}:{local}" if mod else local
            pc = self.provider_configs.get(parent_key)
            if isinstance(pc, dict):
                return pc, parent_key
        return None, key

    def _provider_info(
        self, key: str, pc: dict[str, Any] | None, steps: tuple[tuple[str, str], ...], rtype: str
    ) -> ProviderInfo:
        local = key.rpartition(":")[2]
        ptype = rtype.split("_", 1)[0]
        if pc is not None and isinstance(pc.get("full_name"), str):
            ptype = pc["full_name"].rsplit("/", 1)[-1]
        if pc is None:
            if "." in local:  # an alias must be configured somewhere; fail closed
                return ProviderInfo(
                    key,
                    ptype,
                    Unknown(f"provider configuration {key} is not in the plan's configuration"),
                    (Hop(f"provider {key}", PLAN_CONFIG),),
                    None,
                )
            # A default provider without a configuration block: region from the environment.
            return ProviderInfo(
                key, ptype, None, (Hop(f"provider {key} (no configuration block)"),), None
            )
        scope = self.scope(steps)
        exprs = pc.get("expressions") if isinstance(pc.get("expressions"), dict) else {}
        assert isinstance(exprs, dict)
        block = None
        if scope.hcl is not None:
            name = str(pc.get("name") or local.split(".", 1)[0])
            block = scope.hcl.provider_block(name, pc.get("alias") or None)
        region: Any = None
        hops: tuple[Hop, ...] = (Hop(f"provider {key}", *self._where(block, None)),)
        facts = self.catalogue.facts(ptype)
        region_name = facts.provider_region_argument(ptype) if facts else "region"
        expr = exprs.get(region_name)
        if isinstance(expr, dict):
            attr = block.block.body.attr(region_name) if block is not None else None
            region, trace = self.expression(expr, scope, attr.expr if attr else None)
            hop = Hop(
                f"provider {key}",
                *self._where(block, attr.line if attr else None),
                render_value(region) if not trace else None,
            )
            hops = (hop, *trace)
        elif not exprs and block is None:
            hops = (Hop(f"provider {key} (no region in the plan's configuration)"),)
        tags: Any = None
        if facts is not None and len(facts.default_tags_path) == 1:  # an argument: default_labels
            name = facts.default_tags_path[0]
            te = exprs.get(name)
            if isinstance(te, dict):
                hcl_attr = block.block.body.attr(name) if block is not None else None
                tags, _ = self.expression(te, scope, hcl_attr.expr if hcl_attr else None)
        elif facts is not None and facts.default_tags_path:  # a block's argument: default_tags.tags
            block_name, attr_name = facts.default_tags_path[0], facts.default_tags_path[-1]
            blocks = exprs.get(block_name)
            blocks = [blocks] if isinstance(blocks, dict) else blocks
            hcl_blocks = block.block.body.blocks_of(block_name) if block is not None else ()
            for i, dt in enumerate(blocks if isinstance(blocks, list) else []):
                te = dt.get(attr_name) if isinstance(dt, dict) else None
                if isinstance(te, dict):
                    hcl_attr = hcl_blocks[i].body.attr(attr_name) if i < len(hcl_blocks) else None
                    tags, _ = self.expression(te, scope, hcl_attr.expr if hcl_attr else None)
        return ProviderInfo(key, ptype, region, hops, tags)

    def _where(self, located: Located | None, line: int | None) -> tuple[str, int | None]:
        if located is None:
            return PLAN_CONFIG, None
        return located.file, line or located.block.line

    # -- resources ------------------------------------------------------------------------------
    def planned(self) -> Iterator[dict[str, Any]]:
        pv = self.doc.planned_values or {}
        stack = [pv.get("root_module")]
        while stack:
            mod = stack.pop()
            if not isinstance(mod, dict):
                continue
            items = mod.get("resources") or []
            for i in range(len(items) if isinstance(items, list) else 0):
                item = items[i]
                if isinstance(item, dict):
                    yield item
            children = mod.get("child_modules") or []
            stack.extend(reversed(children) if isinstance(children, list) else [])

    def resources(self) -> Iterator[Resource]:
        for pr in self.planned():
            if pr.get("mode", "managed") != "managed":
                continue
            address = pr.get("address")
            if not isinstance(address, str):
                raise InputError(self.display, None, "planned_values resource without an address")
            yield self.resource(address, pr)

    def resource(self, address: str, pr: dict[str, Any]) -> Resource:
        addr = parse_address(address)
        if addr is None:
            raise InputError(self.display, None, f"cannot read the resource address {address!r}")
        prefix = addr.prefix
        rtype = str(pr.get("type") or addr.type)
        change = self.doc.changes.get(address)
        config = self.config(tuple(n for n, _ in addr.modules))
        cres = config.resources.get(addr.config_address) or {}
        exprs = cres.get("expressions") if isinstance(cres.get("expressions"), dict) else {}
        assert isinstance(exprs, dict)
        values = pr.get("values") if isinstance(pr.get("values"), dict) else {}
        assert isinstance(values, dict)
        attrs = overlay_unknown(
            values,
            change.after_unknown if change else None,
            exprs,
            address,
            prefix,
            memo=self.overlays,
        )
        assert isinstance(attrs, dict)
        written = str(cres.get("provider_config_key") or rtype.split("_", 1)[0])
        key = self._legacy_key(written, addr.modules)
        if key is None:
            provider = ProviderInfo(
                written,
                rtype.split("_", 1)[0],
                Unknown(
                    f"plan format {self.doc.format_version} does not record which provider "
                    f"configuration {addr.prefix.rstrip('.')} uses (its module has none of its "
                    "own: inherited or passed with providers = {...}); scan with --source DIR"
                ),
                (Hop(f"provider {written}", PLAN_CONFIG),),
                None,
            )
        else:
            provider = self.provider(key, addr.modules, rtype)
        canonical = self.catalogue.canonical_provider(provider.provider)
        hcl = self.hcl_module(config.path)
        located = hcl.resource_block(rtype, addr.name) if hcl is not None else None
        if cres:
            self._drop_undeclared(rtype, attrs, exprs, located)
        if self.source is not None and located is None:
            self.missing_source.add(addr.prefix + addr.config_address)
        region = self.region(addr, rtype, attrs, exprs, provider, located)
        facts = self.catalogue.facts(canonical)
        if facts is not None and rtype in facts.tag_paths:  # no merged view is planned there
            tags = merge_tags(provider.default_tags, facts.tags_of(rtype, attrs))
        else:
            tags = effective_tags(
                attrs, facts.tag_attribute if facts else "tags", provider.default_tags
            )
        meta: dict[str, Any] = {
            "plan_actions": change.actions if change else ("no-op",),
            "changed": bool(change and CHANGING_ACTIONS.intersection(change.actions)),
        }
        kind = rtype
        if rtype in AZAPI_TYPES:  # an ARM resource by type and body: check it as its type
            arm = translate(attrs)
            if arm is not None:
                kind, attrs = arm[0].type, arm[1]
                tags = effective_tags(
                    attrs, facts.tag_attribute if facts else "tags", provider.default_tags
                )
                meta.update(arm_type=arm[0].arm_type, written_as=rtype)
        line: int | None
        if located is not None:
            block = located.block
            meta["block_lines"] = block_lines(block.body, attrs)
            meta["end_line"] = block.end_line
            files = hcl.files if hcl is not None else []
            meta["comments"] = block_comments(self.comment_windows, files, located)
            file, line = located.file, block.line
        else:
            file, line = self.display, change.line if change else None
        return Resource(
            address=address,
            type=kind,
            name=addr.name,
            provider=canonical,
            provider_config=provider.key,
            region=region,
            location=Location.UNKNOWN,
            tags=tags,
            attributes=attrs,
            file=file,
            line=line,
            input="terraform-plan",
            module=prefix[:-1],
            root=self.display,  # each plan is its own root: addresses repeat across plans
            meta=meta,
        )

    def _drop_undeclared(
        self, rtype: str, attrs: dict[str, Any], exprs: dict[str, Any], located: Located | None
    ) -> None:
        """Unknown flow arguments the configuration does not set: computed, not a declared flow.

        The configuration JSON leaves ``dynamic`` blocks out, so an unset argument may also be a
        dynamic block whose for_each is unknown: kept unknown unless the source (--source) or the
        provider's schema (PROVIDER_COMPUTED) shows otherwise.
        """
        for rule in self.catalogue.rules_for(rtype):
            name = rule.path.split(".", 1)[0].removesuffix("[]").removesuffix("~json")
            if name in exprs or not isinstance(attrs.get(name), Unknown):
                continue
            if located is not None:
                body = located.block.body
                dynamic = any(b.type == "dynamic" and b.labels[:1] == (name,) for b in body.blocks)
                if not dynamic and body.attr(name) is None and not body.blocks_of(name):
                    del attrs[name]
            elif (rtype, name) in PROVIDER_COMPUTED or rule.computed:
                del attrs[name]

    def region(
        self,
        addr: Address,
        rtype: str,
        attrs: dict[str, Any],
        exprs: dict[str, Any],
        provider: ProviderInfo,
        located: Located | None,
    ) -> RegionInfo:
        """Resource argument (configured, or computed by the provider) > provider > env > default."""
        facts = self.catalogue.facts(provider.provider)
        label = f"{rtype}.{addr.name}"
        if facts is not None:
            for arg in facts.region_arguments:
                value = attrs.get(arg)
                if value is None:
                    continue
                if arg in exprs:
                    attr = located.block.body.attr(arg) if located is not None else None
                    where = self._where(located, attr.line if attr else None)
                    hop = Hop(f"{arg} argument of {label}", *where, render_value(value))
                    return region_info(value, (hop,), f"{arg} argument is unknown")
                if isinstance(value, str) and value:
                    # Computed by the provider (AWS v6 fills region from its configuration).
                    if provider.region == value:
                        return provider_region(provider)  # (the same: a string region)
                    hop = Hop(
                        f"{arg} of {label} as planned by provider {provider.key}",
                        "planned values",
                        None,
                        render_value(value),
                    )
                    return RegionInfo(value, (hop,))
        if provider.region is not None and provider.region != "":
            return provider_region(provider)
        if facts is not None:  # (a region of "" is unset to the provider, as in Pulumi's inputs)
            found = environment_or_default(facts, self.ctx.settings.environment, provider.hops)
            if found is not None:
                return found
            return RegionInfo(
                None,
                provider.hops,
                f"provider {provider.key} sets no region{unset_variables(facts)}",
            )
        return RegionInfo(
            None,
            provider.hops,
            f"ciiguard has no region catalogue for provider {provider.provider!r}",
        )


# -- values -----------------------------------------------------------------------------------
def _is_expression(exprs: Any) -> bool:
    """An attribute's expression (as opposed to a block of expressions)."""
    return isinstance(exprs, dict) and ("references" in exprs or "constant_value" in exprs)


def _match_config_block(cfg: Any, index: int, item: Any, count: int) -> Any:
    """The configuration block behind element ``index`` of a planned list or set of blocks.

    Blocks from ``dynamic`` are missing from the configuration, and a set's order is not the
    source's: pick the block whose constant arguments match the planned element, else by position
    when the counts agree.
    """
    if not isinstance(cfg, list) or not cfg:
        return None
    if isinstance(item, dict):
        matches = [
            c
            for c in cfg
            if isinstance(c, dict)
            and all(
                item.get(k) == e["constant_value"]
                for k, e in c.items()
                if isinstance(e, dict) and "constant_value" in e and k in item
            )
        ]
        if len(matches) == 1 and (len(cfg) > 1 or count == 1):
            return matches[0]
    if len(cfg) == count and index < count:
        return cfg[index]
    return None


def _constants(block: dict[Any, Any]) -> dict[Any, Any]:
    """A configuration block's constant arguments (the ones _match_config_block compares)."""
    return {
        k: e["constant_value"]
        for k, e in block.items()
        if isinstance(e, dict) and "constant_value" in e
    }


def _frozen(value: Any, top: bool = True) -> Any:
    """A hashable stand-in for a JSON value, equal (``==``) to another's exactly when the values
    are: lists and objects become tagged tuples and frozensets (whose comparisons, like a list's
    and a dict's, treat an element identical to itself as equal). A NaN compared directly is
    never equal, not even to itself, while a set lookup would find the same NaN object (json
    shares one between every NaN of a document); so a NaN at the top becomes a new object,
    equal to nothing else."""
    if isinstance(value, list):
        return ("list", tuple(_frozen(v, False) for v in value))
    if isinstance(value, dict):
        return ("dict", frozenset((k, _frozen(v, False)) for k, v in value.items()))
    if top and isinstance(value, float) and value != value:
        return object()
    hash(value)  # TypeError for anything unexpected: the caller falls back to the linear scan
    return value


class _BlockMatcher:
    """``_match_config_block`` for every element of one planned list of blocks, by table.

    Scanning every configuration block for each planned element made N elements x N blocks (a
    replication configuration with thousands of rules). Blocks are grouped by the names of their
    constant arguments; for the names a planned element has, a group's table maps the frozen
    constants to the blocks holding them, so an element costs one lookup per group. The result
    is the linear scan's: a block matches when every constant argument the element also has is
    equal to the element's value, and only a single match is taken.
    """

    def __init__(self, cfg: Any) -> None:
        self.cfg = cfg
        self.linear = not isinstance(cfg, list) or not cfg
        # group key (constant names) -> (names in a fixed order, blocks in configuration order)
        self.groups: dict[frozenset[Any], tuple[tuple[Any, ...], list[dict[Any, Any]]]] = {}
        self.tables: dict[tuple[frozenset[Any], tuple[Any, ...]], dict[Any, list[Any]]] = {}
        if self.linear:
            return
        for c in cfg:
            if not isinstance(c, dict):
                continue  # never a match
            consts = _constants(c)
            names = frozenset(consts)
            group = self.groups.get(names)
            if group is None:
                group = self.groups[names] = (tuple(consts), [])
            group[1].append(c)

    def match(self, index: int, item: Any, count: int) -> Any:
        cfg = self.cfg
        if self.linear or not isinstance(item, dict):
            return _match_config_block(cfg, index, item, count)
        if len(cfg) > 1 or count == 1:
            try:
                found, n = self._matches(item)
            except (TypeError, RecursionError):
                return _match_config_block(cfg, index, item, count)
            if n == 1:
                return found
        if len(cfg) == count and index < count:
            return cfg[index]
        return None

    def _matches(self, item: dict[Any, Any]) -> tuple[Any, int]:
        """The first matching block and how many match (counting stops at two)."""
        found: Any = None
        n = 0
        for names, (order, blocks) in self.groups.items():
            present = tuple(k for k in order if k in item)
            table = self.tables.get((names, present))
            if table is None:
                table = {}
                for c in blocks:
                    key = tuple(_frozen(c[k]["constant_value"]) for k in present)
                    table.setdefault(key, []).append(c)
                self.tables[(names, present)] = table
            hits = table.get(tuple(_frozen(item[k]) for k in present))
            if hits:
                if n == 0:
                    found = hits[0]
                n += len(hits)
                if n > 1:
                    break
        return found, n


_COMPUTED: dict[str, Unknown] = {}


def _computed(path: str) -> Unknown:
    """The unknown value of a computed attribute no expression names (an id, an ARN): one shared
    object per attribute path, not one per resource (a 100k-resource plan holds millions)."""
    shared = _COMPUTED.get(path)
    if shared is None:
        shared = _COMPUTED[path] = Unknown(f"{path.lstrip('.')} is known only after apply")
    return shared


_Overlay = tuple[Any, Any, "dict[str, Unknown]", "list[tuple[str, Any]] | None"]


def overlay_unknown(
    value: Any,
    unknown: Any,
    exprs: Any,
    address: str,
    prefix: str,
    path: str = "",
    memo: dict[tuple[int, int], _Overlay] | None = None,
) -> Any:
    """Planned values with every ``after_unknown`` path replaced by ``Unknown``.

    ``exprs`` is the configuration's expression (or block of expressions) at the same path; its
    resource references become ``Unknown.refs`` so flows find the destination resource.

    ``memo`` (one per plan) keeps, for a shared whole-attribute ``after_unknown`` (``_Flat``)
    and a resource's configuration, which attributes are plain computed ones: every instance
    of that resource then takes them at once.
    """
    if type(unknown) is _Flat and unknown and memo is not None and not path:
        key = (id(unknown), id(exprs) if exprs else 0)
        found = memo.get(key)
        if found is None:  # (holding both keeps their ids from being reused)
            found = memo[key] = (unknown, exprs if exprs else None, *_flat_overlay(unknown, exprs))
        base = value if isinstance(value, dict) else {}
        out = dict(base)
        plain, ordered = found[2], found[3]
        if ordered is None:  # no attribute needs its references read
            out.update(plain)
            return out
        for k, cfg in ordered:
            out[k] = (
                plain[k]
                if cfg is None
                else overlay_unknown(base.get(k), True, cfg, address, prefix, f".{k}")
            )
        return out
    if unknown is True:
        references = exprs.get("references") if isinstance(exprs, dict) else None
        refs = resource_refs(references, prefix)
        if refs:
            return Unknown(
                f"{address}{path} is known only after apply", refs, path=reference_path(references)
            )
        return _computed(path)
    if isinstance(unknown, dict) and unknown:
        base = value if isinstance(value, dict) else {}
        out = dict(base)
        whole = _is_expression(exprs)  # an object-valued attribute: its references apply
        blocks = exprs if isinstance(exprs, dict) and not whole else None
        for k, u in unknown.items():
            if u is not True and (u is False or u == {} or u == []):
                continue
            cfg = exprs if whole else (blocks.get(k) if blocks is not None else None)
            if u is True and not (isinstance(cfg, dict) and cfg.get("references")):
                out[k] = _computed(f"{path}.{k}")  # a computed attribute: the common case
                continue
            out[k] = overlay_unknown(base.get(k), u, cfg, address, prefix, f"{path}.{k}")
        return out
    if isinstance(unknown, list) and unknown:
        items = list(value) if isinstance(value, list) else []
        while len(items) < len(unknown):
            items.append(None)
        matcher: _BlockMatcher | None = None
        for i, u in enumerate(unknown):
            if u is False or u == {} or u == []:
                continue
            if _is_expression(exprs):
                cfg = exprs  # an element of a list attribute shares the attribute's references
            else:
                if matcher is None:
                    matcher = _BlockMatcher(exprs)
                cfg = matcher.match(i, items[i], len(items))
            items[i] = overlay_unknown(items[i], u, cfg, address, prefix, f"{path}[{i}]")
        return items
    return value


def _flat_overlay(
    unknown: dict[str, bool], exprs: Any
) -> tuple[dict[str, Unknown], list[tuple[str, Any]] | None]:
    """What ``overlay_unknown`` does with each attribute of a ``_Flat`` at the top of a
    resource: the plain computed ones' shared values, and (when some attribute's expression
    has references, read per instance) every attribute in order with its expression (None for
    a plain one)."""
    whole = _is_expression(exprs)
    blocks = exprs if isinstance(exprs, dict) and not whole else None
    plain: dict[str, Unknown] = {}
    ordered: list[tuple[str, Any]] = []
    referenced = False
    for k in unknown:
        cfg = exprs if whole else (blocks.get(k) if blocks is not None else None)
        if isinstance(cfg, dict) and cfg.get("references"):
            ordered.append((k, cfg))
            referenced = True
        else:
            plain[k] = _computed(f".{k}")
            ordered.append((k, None))
    return plain, ordered if referenced else None


def effective_tags(attrs: Mapping[str, Any], tag_attr: str, default_tags: Any) -> Any:
    """Tags as applied: the provider's merged view when planned, else default tags under own tags."""
    merged_attr = MERGED_TAG_ATTRIBUTES.get(tag_attr)
    merged = attrs.get(merged_attr) if merged_attr else None
    if isinstance(merged, dict):
        return merged
    tags = attrs.get(tag_attr)
    return merge_tags(default_tags, tags)


def block_lines(body: Body, values: Mapping[str, Any], path: str = "") -> dict[str, int]:
    """Source line of each nested block of a planned resource (``rule[0].destination[0]``)."""
    lines: dict[str, int] = {}
    for key, items in values.items():
        if not isinstance(items, list) or not items:
            continue
        static = [b for b in body.blocks if b.type == key]
        dynamic = [
            b for b in body.blocks if b.type == "dynamic" and b.labels and b.labels[0] == key
        ]
        content: Block | None = None
        if dynamic:
            content = next(iter(dynamic[0].body.blocks_of("content")), None)
        if not static and content is None:
            continue
        for i, item in enumerate(items):
            if i < len(static):
                blk: Block = static[i]
            elif content is not None:
                blk = content  # instances of a dynamic block point at its content
            else:
                break
            sub = f"{path}{key}[{i}]"
            lines[sub] = blk.line
            if isinstance(item, dict):
                lines.update(block_lines(blk.body, item, sub + "."))
    return lines


# -- parser -----------------------------------------------------------------------------------
class TerraformPlanParser:
    """Parser for ``terraform show -json PLANFILE`` output, recognised by content."""

    name = "terraform-plan"

    def claims(self, path: Path) -> bool:
        name = path.name.lower()
        if name.endswith((".tf.json", ".tfvars.json", ".tf", ".tfvars")):
            return False
        try:
            with path.open("rb") as fh:
                head = fh.read(PEEK_BYTES)
        except OSError:
            return False
        return looks_like_plan(head)

    def parse(self, files: list[Path], ctx: ParseContext) -> ParseOutput:
        out = ParseOutput()
        source: SourceTree | None = None
        src_dir = ctx.settings.source_dir
        if src_dir:
            root = Path(src_dir) if Path(src_dir).is_absolute() else ctx.cwd / src_dir
            if not root.is_dir():
                out.errors.append(ScanIssue(src_dir, None, "--source: no such directory"))
                return out
            source = SourceTree(root, ctx, out)
        for f in files:
            display = ctx.display(f)
            try:
                self._parse_one(f, display, ctx, source, out)
            except InputError as exc:
                out.errors.append(ScanIssue(exc.file, exc.line, exc.message))
            except RecursionError:
                out.errors.append(ScanIssue(display, None, "plan nested too deeply to evaluate"))
        return out

    def _parse_one(
        self,
        path: Path,
        display: str,
        ctx: ParseContext,
        source: SourceTree | None,
        out: ParseOutput,
    ) -> None:
        split = processes(ctx.settings.jobs) > 1
        doc = load_plan(path, display, ctx.settings.max_file_size, split=split)
        if doc.errored:
            raise InputError(
                display,
                None,
                "the plan is marked errored (terraform plan failed), so it does not show "
                "what apply will create",
            )
        if doc.planned_values is None:
            raise InputError(display, None, "not a Terraform plan: no planned_values")
        if not doc.complete:
            out.warnings.append(
                ScanIssue(
                    display,
                    None,
                    "the plan is incomplete (targeted or deferred); only the resources it "
                    "shows were checked",
                )
            )
        ev = _PlanEvaluation(doc, display, ctx, source)
        out.resources.extend(ev.resources())
        doc.planned_values, doc.changes = {}, {}  # read: freed before resolution copies them
        if source is not None and ev.missing_source:
            shown = ", ".join(sorted(ev.missing_source)[:5])
            more = len(ev.missing_source) - 5
            out.warnings.append(
                ScanIssue(
                    display,
                    None,
                    f"--source {ctx.settings.source_dir}: no resource block for {shown}"
                    + (f" and {more} more" if more > 0 else "")
                    + "; the source may not match the plan, so the plan's lines are shown",
                )
            )
