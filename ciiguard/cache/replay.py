"""Replay of a whole ``ciiguard scan``: the same inputs give the same outputs, without the work.

A warm re-scan of an unchanged tree is the common case in CI and in pre-commit. The result cache
already skips parsing and evaluation; this skips everything else too (importing the parsers and
plugins, the gate, rendering): the run's outputs (exit code, stdout, stderr, report files) are
stored under a key covering everything that decides them, and replayed when nothing changed.

The key covers ciiguard's version and code, the Python, the working directory, the exact command
line, the config file (path and content), today's date (approvals expire), the environment
variables that can decide a verdict, and whether stdout/stderr are terminals. An entry is only
replayed when the file listing under the scanned paths is the same and every file the scan read
(inputs, ``--var-file``, config, baseline) still has the same content hash: the same check the
result cache makes.

Only plain runs are replayed: no plugins other than the built-in one (their code is not in the
key), no ``--no-cache``, ``--explain``, ``--create-baseline`` or ``--run-programs``, and no run
that ended in an error (exit code 2 is never stored). Everything else takes the normal path.
This module is imported before the parsers on purpose; keep its imports light.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

from ciiguard import __version__

AUTOLOAD_ENV = "CIIGUARD_DISABLE_PLUGIN_AUTOLOAD"
POLICY_CONFIG_ENV = "CIIGUARD_POLICY_CONFIG"


def _today() -> dt.date:
    return dt.date.today()


def _entry_point_plugins() -> bool:
    """Whether plugins would be loaded from entry points (their code is not in the key)."""
    if os.environ.get(AUTOLOAD_ENV):
        return False
    from ciiguard.plugins.entry_points import declared

    return declared("ciiguard")


class Plan:
    """One eligible run: its key, and where its entry lives."""

    def __init__(self, key: str, paths: list[Path]) -> None:
        from ciiguard.cache.store import DiskCache

        self.key = key
        self.paths = paths
        self.disk = DiskCache("replay")

    def replay(self, stdout: TextIO, stderr: TextIO) -> int | None:
        """Write a stored run's outputs and return its exit code; None when there is none."""
        from ciiguard.cache.results import fingerprint, listing
        from ciiguard.cache.versions import Versions, checker

        entry = Versions(self.disk, self.key).find(checker(listing(self.paths), fingerprint))
        if not _valid(entry):
            return None
        assert isinstance(entry, dict)
        try:
            for dest, text in entry["files"].items():
                Path(dest).write_text(text, encoding="utf-8")
        except OSError:
            return None  # the normal path reports why the file cannot be written
        stdout.write(entry["stdout"])
        stderr.write(entry["stderr"])
        return int(entry["code"])

    def store(
        self,
        code: int,
        out: str,
        err: str,
        files: Sequence[str],
        record: Mapping[str, Any],
        extra_reads: Sequence[Path],
    ) -> None:
        from ciiguard.cache.results import fingerprint

        if code not in (0, 1) or "listing" not in record:
            return
        manifest = dict(record["manifest"])
        for path in extra_reads:
            manifest[os.path.abspath(path)] = fingerprint(path)
        try:
            texts = {d: Path(d).read_text(encoding="utf-8") for d in files}
        except (OSError, UnicodeDecodeError):
            return
        from ciiguard.cache.store import in_background
        from ciiguard.cache.versions import Versions

        entry = {
            "listing": record["listing"],
            "manifest": manifest,
            "code": code,
            "stdout": out,
            "stderr": err,
            "files": texts,
        }
        versions = Versions(self.disk, self.key)
        # everything it records was read above, by this process: only the writing is left
        in_background(lambda: versions.add(entry["listing"], manifest, entry))


def _valid(entry: object) -> bool:
    if not isinstance(entry, dict):
        return False
    kinds = {"listing": str, "manifest": dict, "code": int, "stdout": str, "stderr": str,
             "files": dict}  # fmt: skip
    return all(isinstance(entry.get(k), t) for k, t in kinds.items())


def prepare(args: Any, argv: Sequence[str]) -> Plan | None:
    """The plan for this ``scan`` command line, or None when it must not be replayed."""
    if (
        args.no_cache
        or args.explain
        or args.create_baseline
        or args.run_programs
        or args.plugin
        or os.environ.get("CIIGUARD_DEBUG")
        or "-" in args.paths
    ):
        return None
    from ciiguard.cache.results import ENV_THAT_MATTERS, _code_part, fingerprint
    from ciiguard.cache.store import digest
    from ciiguard.gate.config_files import find_config, upward

    policy_text = getattr(args, "policy_config", None) or os.environ.get(POLICY_CONFIG_ENV)
    policy = Path(policy_text) if policy_text else None
    if policy is not None and _config_loads_plugins(policy):
        return None
    configs: list[Path] = []
    if args.config is not None:
        configs.append(Path(args.config))
    if policy is not None and not args.no_config:
        # every config upward of each scanned path counts (those inside the tree are covered
        # by the listing and, once read, by the manifest)
        configs.extend(c for p in args.paths or ["."] for c in upward(Path(p)))
    elif args.config is None and not args.no_config:
        nearest = find_config(Path(args.paths[0]) if args.paths else Path.cwd())
        configs.extend([nearest] if nearest is not None else [])
    if _entry_point_plugins():
        return None
    env = sorted((k, v) for k, v in os.environ.items() if ENV_THAT_MATTERS.match(k))
    key = digest(
        "replay",
        __version__,
        _code_part(),
        sys.version,
        sys.executable,
        os.getcwd(),
        json.dumps(list(argv)),
        repr([(str(c.resolve()), fingerprint(c)) for c in configs]),
        repr((str(policy.resolve()), fingerprint(policy)) if policy is not None else "-"),
        _today().isoformat(),
        repr(env),
        repr((_isatty(sys.stdout), _isatty(sys.stderr))),
    )
    return Plan(key, [Path(p) for p in args.paths])


def _config_loads_plugins(path: Path) -> bool:
    """A policy config that names plugins runs their code: never replayed (their code is not
    keyed). A config file of the scanned tree never loads one."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return True
    return "plugins" in text


def _isatty(stream: object) -> bool:
    try:
        return bool(stream.isatty())  # type: ignore[attr-defined]
    except (AttributeError, ValueError):
        return False


class Tee(io.TextIOBase):
    """Writes through to a stream and keeps a copy (stdout and stderr of a run to store)."""

    def __init__(self, stream: TextIO) -> None:
        self.passthrough = stream
        self.parts: list[str] = []

    def write(self, s: str) -> int:
        self.parts.append(s)
        return self.passthrough.write(s)

    def flush(self) -> None:
        self.passthrough.flush()

    def isatty(self) -> bool:
        return _isatty(self.passthrough)

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return str(getattr(self.passthrough, "encoding", "utf-8"))

    def text(self) -> str:
        return "".join(self.parts)
