"""Terragrunt configuration files: read once per scan, in native or JSON syntax, never from outside
the scanned paths unless ``--allow-outside-root`` (a hostile tree must not make ciiguard read, and
print, a file elsewhere on the runner)."""

from __future__ import annotations

import os
from pathlib import Path

from ciiguard.errors import InputError
from ciiguard.parsers.base import ParseContext, real
from ciiguard.parsers.terraform.hcl.json_syntax import JsonSchema, parse_tf_json
from ciiguard.parsers.terraform.hcl.loader import HclLoader
from ciiguard.parsers.terraform.hcl.nodes import HclFile

# File names Terragrunt runs as a unit, in the order it looks for them.
UNIT_FILES = ("terragrunt.hcl", "terragrunt.hcl.json")
STACK_FILE = "terragrunt.stack.hcl"

# How Terragrunt's JSON syntax reads (its HCL schema): which objects are blocks, with how many labels.
TERRAGRUNT_JSON = JsonSchema(
    blocks={
        "locals": 0,
        "include": 1,
        "dependency": 1,
        "generate": 1,
        "feature": 1,
        "terraform": 0,
        "remote_state": 0,
        "dependencies": 0,
        "exclude": 0,
        "errors": 0,
        "engine": 0,
        "catalog": 0,
        "unit": 1,
        "stack": 1,
    },
    attributes=True,
    nested={
        "extra_arguments": 1,
        "before_hook": 1,
        "after_hook": 1,
        "error_hook": 1,
        "retry": 1,
        "ignore": 1,
    },
    bare=frozenset({"include"}),
)


class ConfigFiles:
    """Reads and parses the configuration files of one scan (through the HCL parse cache for
    native syntax), and tells which paths lie outside the scanned paths."""

    def __init__(self, ctx: ParseContext, loader: HclLoader) -> None:
        self.ctx = ctx
        self.loader = loader
        self.done: dict[Path, HclFile | InputError] = {}
        self._lines: dict[Path, list[str]] = {}

    def outside(self, path: Path) -> bool:
        """Whether a file resolves outside every scanned path."""
        if self.ctx.settings.allow_outside_root:
            return False
        try:
            resolved = real(path)
        except (OSError, RuntimeError):
            return True
        return not self.ctx.inside(resolved)

    def refuse_outside(self, path: Path, what: str) -> None:
        if self.outside(path):
            raise InputError(
                self.ctx.display(path),
                None,
                f"{what} is outside the scanned directory (scan the directory that holds it, or "
                "pass --allow-outside-root)",
            )

    def load(self, path: Path) -> HclFile:
        """A configuration file's syntax tree; InputError (file and line) when it cannot be read."""
        path = Path(os.path.abspath(path))
        found = self.done.get(path)
        if found is None:
            found = self._load(path)
            self.done[path] = found
        if isinstance(found, InputError):
            raise found
        return found

    def _load(self, path: Path) -> HclFile | InputError:
        shown = self.ctx.display(path)
        try:
            self.refuse_outside(path, "this configuration file")
            if not path.is_file():
                return InputError(shown, None, "no such file")
            if path.name.endswith(".json"):
                text = self.read_text(path)
                return parse_tf_json(text, shown, TERRAGRUNT_JSON)
            return self.loader.load(path)
        except InputError as exc:
            return exc
        except RecursionError:
            return InputError(shown, None, "nested too deeply to parse")

    def read_text(self, path: Path) -> str:
        """A file's text for ``file()`` and friends (recorded for the result cache)."""
        shown = self.ctx.display(path)
        self.refuse_outside(path, "this file")
        data = self.ctx.read_bytes(path, shown)
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            raise InputError(shown, line, "file is not valid UTF-8") from None

    def lines(self, path: Path) -> list[str]:
        """A configuration file's lines (to find the line of a key inside a multi-line value)."""
        found = self._lines.get(path)
        if found is None:
            try:
                found = self.read_text(path).splitlines()
            except InputError:
                found = []
            self._lines[path] = found
        return found

    def exists(self, path: Path) -> bool:
        """Whether a file exists (a probe the result cache re-checks: a file created later
        changes what ``find_in_parent_folders`` finds)."""
        self.ctx.reads.add(Path(os.path.abspath(path)))
        return path.is_file()

    def found(self, path: Path) -> bool:
        """Whether a file or a directory is at ``path``: what ``find_in_parent_folders`` looks for
        (Terragrunt's ``util.FileExists`` is a stat, so a directory named so is found too)."""
        self.ctx.reads.add(Path(os.path.abspath(path)))
        return path.exists()


def unit_file(directory: Path) -> Path | None:
    """The configuration file Terragrunt runs in a directory, if any."""
    for name in UNIT_FILES:
        candidate = directory / name
        if candidate.is_file():
            return candidate
    return None
