"""Discovery: which files of the scanned paths each parser reads, and which must be refused.

Enters: the scanned paths and the registered parsers. Leaves: the files each parser claims, and a
``ScanIssue`` for every file or directory that looks like an input but cannot be read safely.
"""

from __future__ import annotations

import fnmatch
import os
import stat
from collections.abc import Sequence
from pathlib import Path

from ciiguard.cache.results import SKIP_DIRS, entry_kind, listed_entries
from ciiguard.errors import PLUGIN_ERRORS
from ciiguard.model import ScanIssue
from ciiguard.parsers.base import ParseContext, Parser


def discover(
    paths: Sequence[Path], parsers: list[Parser], ctx: ParseContext, errors: list[ScanIssue]
) -> dict[int, list[Path]]:
    """Files per parser (by index). Explicit files no parser claims are errors, never skipped.

    Only regular files are offered to parsers (a FIFO or a device named ``main.tf`` would block or
    never end); a file or directory that cannot be read, or that links out of the scanned paths,
    is an error when it looks like an input, so nothing a parser would read is silently skipped.
    """
    claimed: dict[int, list[Path]] = {}
    allow_outside = ctx.settings.allow_outside_root
    skips = ctx.settings.skip_paths
    seen_dirs: set[Path] = set()

    def refuse(f: Path, why: str) -> None:
        errors.append(ScanIssue(ctx.display(f), None, why))

    def unreadable(exc: OSError) -> None:
        shown = ctx.display(exc.filename) if exc.filename else "<scan>"
        errors.append(ScanIssue(shown, None, f"cannot list directory: {exc.strerror or exc}"))

    def offer(f: Path, explicit: bool, regular: bool = False) -> None:
        """``regular``: the directory listing already says ``f`` is a regular file, not a link."""
        why = None if regular else _irregular(f, ctx.roots, allow_outside)
        if why is not None:
            if explicit or _looks_like_input(f.name):
                refuse(f, why)
            return
        taken = False
        for i, p in enumerate(parsers):
            try:
                ok = p.claims(f)
            except PLUGIN_ERRORS as exc:  # a plugin's claims() must not crash the run
                errors.append(
                    ScanIssue(
                        ctx.display(f),
                        None,
                        f"parser {getattr(p, 'name', '?')!r} failed to inspect the file: {exc}",
                    )
                )
                continue
            if ok:
                claimed.setdefault(i, []).append(f)
                taken = True
                break
        if explicit and not taken:
            errors.append(
                ScanIssue(
                    ctx.display(f),
                    None,
                    "not an input ciiguard can read (expected a Terraform directory or file)",
                )
            )

    def walk(top: Path, here: Path | None = None, absolute: str | None = None) -> None:
        """``os.walk(top)`` top-down without following links, from the listing this command line
        took of the tree (``cache.results.listed_entries``) or one ``scandir`` per directory:
        the entries' kinds spare a ``stat`` per file (a link or an unusual entry is still
        looked at in full by ``_irregular``)."""
        here = top if here is None else here
        absolute = os.path.abspath(here) if absolute is None else absolute
        entries = listed_entries(absolute)
        if entries is None:
            try:
                with os.scandir(here) as it:
                    entries = tuple(sorted(map(entry_kind, it)))
            except OSError as exc:
                unreadable(exc)
                return
        dirs: list[tuple[str, bool]] = []  # (name, a link)
        files: list[tuple[str, bool]] = []  # (name, a regular file and no link)
        for name, kind in entries:
            if kind == "d" or (kind == "l" and os.path.isdir(os.path.join(absolute, name))):
                if name not in SKIP_DIRS and not skipped(top, here / name):
                    dirs.append((name, kind == "l"))
            else:
                files.append((name, kind == "f"))
        for name, link in dirs:
            if link:
                linked(here / name)
        for name, regular in files:
            f = here / name
            if not skipped(top, f):
                offer(f, explicit=False, regular=regular)
        for name, link in dirs:
            if not link:
                walk(top, here / name, os.path.join(absolute, name))

    def skipped(top: Path, path: Path) -> bool:
        """--skip-path: the path relative to the scanned path matches a glob (``*`` also crosses
        ``/``; a pattern naming a directory skips what is under it)."""
        if not skips:
            return False
        rel = path.relative_to(top).as_posix()
        return any(
            fnmatch.fnmatchcase(rel, g) or fnmatch.fnmatchcase(rel, g.rstrip("/")) for g in skips
        )

    def linked(d: Path) -> None:
        """A symlinked directory: inside the scanned paths it is walked there already; outside,
        it is walked only with --allow-outside-root and is an error if it holds inputs."""
        try:
            real = d.resolve(strict=True)
        except (OSError, RuntimeError):
            return  # a dangling link or a loop holds nothing to read
        if real in seen_dirs or any(_within(real, r) for r in ctx.roots):
            return
        if allow_outside:
            seen_dirs.add(real)
            walk(d)
        elif _holds_inputs(real):
            refuse(
                d,
                "a link to a directory outside the scanned directory that holds configuration "
                "(scan that directory, or pass --allow-outside-root)",
            )

    for path in paths:
        if not path.exists():
            errors.append(ScanIssue(ctx.display(path), None, "no such file or directory"))
            continue
        if not path.is_dir():
            offer(path, explicit=True)
            continue
        walk(path)
    return claimed


INPUT_SUFFIXES = (".tf", ".tf.json", ".tfvars", ".tfvars.json", ".json", ".yaml", ".yml", ".hcl")


def _looks_like_input(name: str) -> bool:
    """Names some parser may read: a problem with such a file is an error, not a skip."""
    return name.endswith(INPUT_SUFFIXES)


def _within(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def _irregular(f: Path, roots: Sequence[Path], allow_outside: bool) -> str | None:
    """Why a file must not be handed to a parser, or None."""
    try:
        st = os.stat(f)
    except (OSError, RuntimeError) as exc:
        if f.is_symlink():
            return "a dangling symbolic link or a symbolic link loop"
        return f"cannot read: {getattr(exc, 'strerror', None) or exc}"
    if not stat.S_ISREG(st.st_mode):
        return "not a regular file (a FIFO, socket or device is never read)"
    if f.is_symlink() and not allow_outside:
        try:
            real = f.resolve(strict=True)
        except (OSError, RuntimeError):
            return "a dangling symbolic link or a symbolic link loop"
        if not any(_within(real, r if r.is_dir() else r.parent) for r in roots):
            return (
                "a link to a file outside the scanned directory "
                "(use --allow-outside-root to read it)"
            )
    return None


def _holds_inputs(directory: Path) -> bool:
    try:
        return any(
            e.name.endswith((".tf", ".tf.json"))
            or e.name in ("Pulumi.yaml", "Pulumi.yml", "terragrunt.hcl", "terragrunt.hcl.json")
            for e in os.scandir(directory)
        )
    except OSError:
        return False
