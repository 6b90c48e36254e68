"""Baselines: fingerprints of the violations an estate already has, so the gate fails only on new ones.

A fingerprint is built from what a finding *is* (policy, resource address, region, message with
line references removed, the directory of its file), never from where it sits in a file, so it
survives moved lines, reformatting and moving a resource to another file of the same module. A
finding whose message may be reworded carries an ``identity`` that stands in for the message.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ciiguard.errors import UsageError
from ciiguard.model import Violation
from ciiguard.paths import realpath

SCHEMA = "ciiguard/baseline@1"
_LINE_REF = re.compile(r"(\.(?:tf|json|tfvars|ya?ml|hcl|py|ts|js|go|cs))(?::\d+)+")
_LINE_WORD = re.compile(r"\blines? \d+(?:-\d+)?\b")


class BaselineError(UsageError):
    def __init__(self, file: str, message: str) -> None:
        super().__init__(message)
        self.file = file
        self.message = message

    def __str__(self) -> str:
        return f"{self.file}: {self.message}"


def _normalise(message: str) -> str:
    # (each pattern needs its literal: most messages hold neither, and skip both passes)
    text = _LINE_REF.sub(r"\1", message) if ":" in message else message
    text = _LINE_WORD.sub("line", text) if "line" in text else text
    return " ".join(text.split())


def _relative(path: str, anchor: Path, memo: dict[Any, str] | None = None) -> str:
    """``path`` resolved, relative to ``anchor`` resolved; ``memo`` keeps the answers of one
    batch of findings (thousands of findings share a few hundred directories)."""
    found = memo.get((path, anchor)) if memo is not None else None
    if found is not None:
        return found
    base = memo.get(("", anchor)) if memo is not None else None
    if base is None:
        base = os.path.realpath(anchor)
        if memo is not None:
            memo[("", anchor)] = base
    try:
        real = os.path.realpath(path) if memo is None else realpath(path, memo)
        found = Path(os.path.relpath(real, base)).as_posix()
    except ValueError:  # another drive on Windows
        found = Path(path).as_posix()
    if memo is not None:
        memo[(path, anchor)] = found
    return found


def _parent(file: str, memo: dict[Any, str] | None) -> str:
    """``str(Path(file).parent)``, once per file of a batch (``memo``)."""
    key = ("parent", file)
    found = memo.get(key) if memo is not None else None
    if found is None:
        found = str(Path(file).parent)
        if memo is not None:
            memo[key] = found
    return found


def fingerprint(
    v: Violation,
    anchor: Path,
    with_root: bool = False,
    memo: dict[Any, str] | None = None,
) -> str:
    """A stable id for ``v``; file directories are taken relative to ``anchor``. With
    ``with_root`` the finding's root module is part of it (see ``fingerprints``)."""
    directory = _relative(_parent(v.file, memo), anchor, memo) if v.file else ""
    parts = [v.policy, v.resource, v.region or "", directory, _normalise(v.identity or v.message)]
    if with_root:
        parts.append("root:" + (_relative(v.root, anchor, memo) if v.root else ""))
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:32]


def root_key(v: Violation, anchor: Path) -> str | None:
    """The finding's root module as a baseline records it (relative to the anchor)."""
    return _relative(v.root, anchor) if v.root else None


def fingerprints(violations: Sequence[Violation], anchor: Path) -> list[tuple[str, str]]:
    """Each finding's fingerprint. Findings of different root modules that would share one (two
    environments calling one module, two Terragrunt units of one module in one region) get the
    root in theirs, so a baseline entry for staging can never hide the same finding in prod;
    every other fingerprint is as before, so existing baselines keep matching. Returns
    (fingerprint, fingerprint without the root) per finding."""
    memo: dict[Any, str] = {}
    plain = [fingerprint(v, anchor, memo=memo) for v in violations]
    roots: dict[str, set[str | None]] = {}
    for v, fp in zip(violations, plain, strict=True):
        roots.setdefault(fp, set()).add(v.root)
    return [
        (fingerprint(v, anchor, with_root=True, memo=memo) if len(roots[fp]) > 1 else fp, fp)
        for v, fp in zip(violations, plain, strict=True)
    ]


@dataclass(frozen=True)
class Baseline:
    """Entries with multiplicity (two identical findings need two entries): fingerprints of
    entries that record no root module (``counts``), (fingerprint, root) of those that do."""

    path: Path
    counts: Counter[str]
    rooted: Counter[tuple[str, str]] = field(default_factory=Counter)


def read(path: Path, shown: str) -> Baseline:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BaselineError(
            shown, "no such baseline file (create one with --create-baseline)"
        ) from None
    except OSError as exc:
        raise BaselineError(shown, f"cannot read: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        line = getattr(exc, "lineno", None)
        where = f"{shown}:{line}" if line else shown
        raise BaselineError(where, f"not a JSON baseline: {exc}") from None
    except (RecursionError, ValueError) as exc:  # nesting or a number beyond what Python reads
        what = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        raise BaselineError(shown, f"not a JSON baseline: {what}") from None
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        raise BaselineError(shown, f'not a ciiguard baseline (expected "schema": "{SCHEMA}")')
    findings = data.get("findings")
    if not isinstance(findings, list):
        raise BaselineError(shown, "findings: expected a list")
    counts: Counter[str] = Counter()
    rooted: Counter[tuple[str, str]] = Counter()
    for i, item in enumerate(findings):
        fp = item.get("fingerprint") if isinstance(item, dict) else None
        if not isinstance(fp, str) or not fp:
            raise BaselineError(shown, f"findings[{i}].fingerprint: expected a string")
        root = item.get("root")
        if root is not None and not isinstance(root, str):
            raise BaselineError(shown, f"findings[{i}].root: expected a string")
        if root is None:
            counts[fp] += 1
        else:
            rooted[(fp, root)] += 1
    return Baseline(path, counts, rooted)


def write(
    path: Path, violations: Iterable[Violation], tool_version: str, anchor: Path | None = None
) -> int:
    """Write the baseline of ``violations`` (already fingerprinted); return how many. Each entry
    records its root module, so it keeps matching when another root later gets the same
    finding (and its fingerprint gains the root)."""
    items: list[dict[str, Any]] = [
        {
            "fingerprint": fingerprint(v, anchor) if anchor is not None else v.fingerprint,
            "root": root_key(v, anchor) if anchor is not None else None,
            "policy": v.policy,
            "resource": v.resource,
            "file": v.file,
            "message": v.message,
        }
        for v in violations
    ]
    items.sort(key=lambda d: (d["policy"], d["resource"], d["fingerprint"]))
    data = {
        "schema": SCHEMA,
        "tool": {"name": "ciiguard", "version": tool_version},
        "created": dt.date.today().isoformat(),
        "findings": items,
    }
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return len(items)
