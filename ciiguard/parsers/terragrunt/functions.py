"""Terragrunt's built-in functions, evaluated where they are pure and unknown where they are not.

Paths follow Terragrunt: ``find_in_parent_folders`` searches upward from the directory of the
configuration being evaluated (for an included file, the including unit's), relative file names are
relative to that directory, and ``path_relative_to_include`` relates it to the include. Functions
that need the outside world (``run_cmd``, AWS identity, ``sops_decrypt_file``, the command being
run) are never called: their value is unknown, saying which call it was and in which file.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ciiguard.cache.results import ENV_THAT_MATTERS
from ciiguard.errors import InputError
from ciiguard.model import Unknown
from ciiguard.parsers.terraform.lang.builtins import FUNCTIONS
from ciiguard.parsers.terraform.lang.evaluator import render_value
from ciiguard.parsers.terraform.lang.functions import FunctionError
from ciiguard.parsers.terragrunt.files import UNIT_FILES, ConfigFiles

Value = Any
Function = Callable[[list[Value]], Value]

MAX_FOLDERS = 100  # Terragrunt's default --max-folders-to-check

# Terragrunt's lists (pkg/config/config_helpers.go)
COMMANDS_THAT_NEED = {
    "vars": ["apply", "console", "destroy", "import", "plan", "push", "refresh"],
    "input": ["apply", "import", "init", "plan", "refresh"],
    "locking": ["apply", "destroy", "import", "plan", "refresh", "taint", "untaint"],
    "parallelism": ["apply", "plan", "destroy"],
}

# Functions whose value comes from outside the configuration: never called, always unknown.
OUTSIDE_WORLD = {
    "run_cmd": "is not run by ciiguard (nothing from the scanned tree is executed)",
    "sops_decrypt_file": "is not decrypted by ciiguard (it needs keys from outside the tree)",
    "get_aws_account_id": "needs AWS credentials, which ciiguard does not use",
    "get_aws_account_alias": "needs AWS credentials, which ciiguard does not use",
    "get_aws_caller_identity_arn": "needs AWS credentials, which ciiguard does not use",
    "get_aws_caller_identity_user_id": "needs AWS credentials, which ciiguard does not use",
    "get_terraform_command": "depends on the command terragrunt runs (plan, apply, ...)",
    "get_terraform_cli_args": "depends on the command line terragrunt is given",
    "get_platform": "depends on the machine terragrunt runs on",
    "get_working_dir": "names terragrunt's download directory, which ciiguard does not create",
    "get_default_retryable_errors": "is Terragrunt's own list, which ciiguard does not carry",
    "constraint_check": "is not evaluated by ciiguard",
    "mark_glob_as_read": "is not evaluated by ciiguard",
    "timecmp": "is not evaluated by ciiguard",
}


@dataclass
class Place:
    """Where a configuration is evaluated, as Terragrunt's functions see it: the file whose
    paths count (``get_terragrunt_dir``), the unit's own file, and the includes in play."""

    config: Path  # Terragrunt's TerragruntConfigPath (an included file keeps the unit's)
    original: Path  # the unit's terragrunt.hcl (get_original_terragrunt_dir)
    shown: str  # the file being evaluated, as users see it (for messages)
    includes: dict[str, Path] = field(default_factory=dict)  # this file's include blocks
    included_as: Path | None = None  # the include being evaluated, when this file is included


def terragrunt_functions(
    place: Place,
    environment: Mapping[str, str],
    files: ConfigFiles,
    read_config: Callable[[Path], Value],
    uncacheable: list[str],
) -> dict[str, Function]:
    """Terragrunt's functions for one place; ``read_config`` reads a configuration file as
    ``read_terragrunt_config`` returns it."""
    here = place.config.parent

    def local_path(text: str) -> Path:
        p = Path(text)
        return Path(os.path.normpath(p if p.is_absolute() else here / p))

    def find_in_parent_folders(a: list[Value]) -> Value:
        _arity(a, "find_in_parent_folders", 0, 2)
        name = _text(a[0], "find_in_parent_folders") if a else ""
        current = here
        for _ in range(MAX_FOLDERS):
            parent = current.parent
            if parent == current:
                break
            candidates = [parent / name] if name else [parent / n for n in UNIT_FILES]
            for candidate in candidates:
                if files.found(candidate):
                    return str(Path(os.path.normpath(candidate)))
            current = parent
        if len(a) == 2:
            return a[1]
        what = name or "terragrunt.hcl"
        raise FunctionError(f"find_in_parent_folders: no {what} in any folder above {place.shown}")

    def selected_include(a: list[Value], fn: str) -> Path | None:
        if place.included_as is not None:
            return place.included_as
        if not place.includes:
            return None
        if len(place.includes) == 1:
            return next(iter(place.includes.values()))
        if len(a) != 1:
            raise FunctionError(f"{fn}: name the include block (this file has several)")
        label = _text(a[0], fn)
        if label not in place.includes:
            raise FunctionError(f"{fn}: there is no include block {label!r}")
        return place.includes[label]

    def path_relative_to_include(a: list[Value]) -> Value:
        _arity(a, "path_relative_to_include", 0, 1)
        included = selected_include(a, "path_relative_to_include")
        if included is None:
            return "."
        return os.path.relpath(here, included.parent)

    def path_relative_from_include(a: list[Value]) -> Value:
        _arity(a, "path_relative_from_include", 0, 1)
        included = selected_include(a, "path_relative_from_include")
        if included is None:
            return "."
        return os.path.relpath(included.parent, here)

    def get_parent_terragrunt_dir(a: list[Value]) -> Value:
        return os.path.normpath(here / path_relative_from_include(a))

    def get_env(a: list[Value]) -> Value:
        _arity(a, "get_env", 1, 2)
        name = _text(a[0], "get_env")
        if not name:
            raise FunctionError("get_env: the variable name is empty")
        if not ENV_THAT_MATTERS.match(name):
            uncacheable.append(f"get_env({name!r})")
        if name in environment:
            return environment[name]
        if len(a) == 2:
            return _text(a[1], "get_env")
        raise FunctionError(f"get_env: environment variable {name} is not set")

    def read_terragrunt_config(a: list[Value]) -> Value:
        _arity(a, "read_terragrunt_config", 1, 2)
        target = local_path(_text(a[0], "read_terragrunt_config"))
        if target.is_dir():
            target = next(
                (target / n for n in UNIT_FILES if (target / n).is_file()), target / UNIT_FILES[0]
            )
        if not files.exists(target):
            if len(a) == 2:
                return a[1]
            raise FunctionError(f"read_terragrunt_config: {target} does not exist")
        return read_config(target)

    def read_tfvars_file(a: list[Value]) -> Value:
        from ciiguard.parsers.terraform.files import var_file_values

        _arity(a, "read_tfvars_file", 1, 1)
        target = local_path(_text(a[0], "read_tfvars_file"))
        if not files.exists(target):
            raise FunctionError(f"read_tfvars_file: {target} does not exist")
        text = _read(target)
        values, errors = var_file_values(
            text, target.name.endswith(".json"), files.ctx.display(target)
        )
        if errors:
            raise FunctionError(f"read_tfvars_file: {errors[0]}")
        return FUNCTIONS["jsonencode"]([{k: v.value for k, v in values.items()}])

    def _read(target: Path) -> str:
        try:
            return files.read_text(target)
        except InputError as exc:
            raise FunctionError(str(exc)) from None

    def file(a: list[Value]) -> Value:
        _arity(a, "file", 1, 1)
        target = local_path(_text(a[0], "file"))
        if not files.exists(target):
            raise FunctionError(f"file: no file exists at {target}")
        return _read(target)

    def fileexists(a: list[Value]) -> Value:
        _arity(a, "fileexists", 1, 1)
        return files.exists(local_path(_text(a[0], "fileexists")))

    def abspath(a: list[Value]) -> Value:
        _arity(a, "abspath", 1, 1)
        text = _text(a[0], "abspath")
        if not Path(text).is_absolute():
            return Unknown(
                f"abspath({text!r}) in {place.shown} depends on the directory terragrunt runs in"
            )
        return os.path.normpath(text)

    def repo_root() -> Path:
        current = place.original.parent
        while True:
            if files.exists(current / ".git") or (current / ".git").is_dir():
                return current
            if current.parent == current:
                raise FunctionError(f"get_repo_root: {place.shown} is not in a git repository")
            current = current.parent

    def get_repo_root(a: list[Value]) -> Value:
        _arity(a, "get_repo_root", 0, 0)
        return str(repo_root())

    def get_path_from_repo_root(a: list[Value]) -> Value:
        _arity(a, "get_path_from_repo_root", 0, 0)
        return os.path.relpath(place.original.parent, repo_root())

    def get_path_to_repo_root(a: list[Value]) -> Value:
        _arity(a, "get_path_to_repo_root", 0, 0)
        return os.path.relpath(repo_root(), place.original.parent)

    def get_terragrunt_source_cli_flag(a: list[Value]) -> Value:
        _arity(a, "get_terragrunt_source_cli_flag", 0, 0)
        return environment.get("TG_SOURCE") or environment.get("TERRAGRUNT_SOURCE") or ""

    def mark_as_read(a: list[Value]) -> Value:
        _arity(a, "mark_as_read", 1, 1)
        return str(local_path(_text(a[0], "mark_as_read")))

    def commands(kind: str) -> Function:
        def listed(a: list[Value]) -> Value:
            _arity(a, f"get_terraform_commands_that_need_{kind}", 0, 0)
            return list(COMMANDS_THAT_NEED[kind])

        return listed

    def outside_world(name: str, why: str) -> Function:
        def unknown(a: list[Value]) -> Value:
            shown = ", ".join(render_value(x) for x in a)
            return Unknown(f"{name}({shown}) in {place.shown} {why}")

        return unknown

    out: dict[str, Function] = {
        "find_in_parent_folders": find_in_parent_folders,
        "path_relative_to_include": path_relative_to_include,
        "path_relative_from_include": path_relative_from_include,
        "get_parent_terragrunt_dir": get_parent_terragrunt_dir,
        "get_terragrunt_dir": _constant("get_terragrunt_dir", str(here)),
        "get_original_terragrunt_dir": _constant(
            "get_original_terragrunt_dir", str(place.original.parent)
        ),
        "get_env": get_env,
        "read_terragrunt_config": read_terragrunt_config,
        "read_tfvars_file": read_tfvars_file,
        "get_repo_root": get_repo_root,
        "get_path_from_repo_root": get_path_from_repo_root,
        "get_path_to_repo_root": get_path_to_repo_root,
        "get_terragrunt_source_cli_flag": get_terragrunt_source_cli_flag,
        "mark_as_read": mark_as_read,
        "file": file,
        "fileexists": fileexists,
        "abspath": abspath,
        "dirname": _dirname,
        "basename": _basename,
        "strcontains": _strcontains,
        "deep_merge": _deep_merge,
    }
    for kind in COMMANDS_THAT_NEED:
        out[f"get_terraform_commands_that_need_{kind}"] = commands(kind)
    for name, why in OUTSIDE_WORLD.items():
        out[name] = outside_world(name, why)
    return out


def _arity(a: list[Value], name: str, low: int, high: int) -> None:
    if not low <= len(a) <= high:
        want = str(low) if low == high else f"{low} to {high}"
        raise FunctionError(f"{name}: takes {want} arguments, got {len(a)}")


def _text(v: Value, name: str) -> str:
    if not isinstance(v, str):
        raise FunctionError(f"{name}: a string is required, not {render_value(v)}")
    return v


def _constant(name: str, value: str) -> Function:
    def constant(a: list[Value]) -> Value:
        _arity(a, name, 0, 0)
        return value

    return constant


def _dirname(a: list[Value]) -> Value:
    """Go's filepath.Dir, as Terraform's dirname."""
    _arity(a, "dirname", 1, 1)
    text = _text(a[0], "dirname")
    if not text:
        return "."
    head = text.rsplit("/", 1)[0] if "/" in text else ""
    if text.startswith("/") and not head.strip("/"):
        return "/"
    return os.path.normpath(head) if head else "."


def _basename(a: list[Value]) -> Value:
    """Go's filepath.Base, as Terraform's basename."""
    _arity(a, "basename", 1, 1)
    text = _text(a[0], "basename").rstrip("/")
    if not text:
        return "/" if _text(a[0], "basename") else "."
    return text.rsplit("/", 1)[-1]


def _strcontains(a: list[Value]) -> Value:
    _arity(a, "strcontains", 2, 2)
    return _text(a[1], "strcontains") in _text(a[0], "strcontains")


def _deep_merge(a: list[Value]) -> Value:
    """Maps merged recursively, lists appended, later arguments win; nulls are ignored."""
    out: Value = {}
    for item in a:
        if item is None:
            continue
        if not isinstance(item, dict):
            raise FunctionError(f"deep_merge: arguments must be maps, not {render_value(item)}")
        out = merge_deep(out, item)
    return out


def merge_deep(base: Value, over: Value) -> Value:
    """Terragrunt's deep merge (mergo with append and override): maps merge key by key, lists
    are appended, anything else from ``over`` replaces."""
    if isinstance(base, dict) and isinstance(over, dict):
        merged = dict(base)
        for k, v in over.items():
            merged[k] = merge_deep(base[k], v) if k in base else v
        return merged
    if isinstance(base, list) and isinstance(over, list):
        return [*base, *over]
    return over
