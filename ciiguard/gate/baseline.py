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
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ciiguard.errors import UsageError
from ciiguard.model import Violation

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
    text = _LINE_REF.sub(r"\1", message)
    text = _LINE_WORD.sub("line", text)
    return " ".join(text.split())


def fingerprint(v: Violation, anchor: Path) -> str:
    """A stable id for ``v``; file directories are taken relative to ``anchor``."""
    directory = ""
    if v.file:
        parent = Path(v.file).parent
        try:
            directory = Path(os.path.relpath(parent.resolve(), anchor.resolve())).as_posix()
        except ValueError:  # another drive on Windows
            directory = parent.as_posix()
    parts = (v.policy, v.resource, v.region or "", directory, _normalise(v.identity or v.message))
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:32]


@dataclass(frozen=True)
class Baseline:
    """Fingerprints with multiplicity (two identical findings need two baseline entries)."""

    path: Path
    counts: Counter[str]


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
    for i, item in enumerate(findings):
        fp = item.get("fingerprint") if isinstance(item, dict) else None
        if not isinstance(fp, str) or not fp:
            raise BaselineError(shown, f"findings[{i}].fingerprint: expected a string")
        counts[fp] += 1
    return Baseline(path, counts)


def write(path: Path, violations: Iterable[Violation], tool_version: str) -> int:
    """Write the baseline of ``violations`` (already fingerprinted); return how many."""
    items: list[dict[str, Any]] = [
        {
            "fingerprint": v.fingerprint,
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
