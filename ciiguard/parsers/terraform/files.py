"""Terraform module directories on disk: their ``.tf`` files and the variable values that apply.

Variable precedence is Terraform's: declared default < ``TF_VAR_name`` < ``terraform.tfvars`` <
``terraform.tfvars.json`` < ``*.auto.tfvars(.json)`` in lexical order < ``--var-file`` / ``--var`` in
command-line order.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ciiguard.errors import InputError
from ciiguard.model import Hop, Unknown
from ciiguard.parsers.base import real
from ciiguard.parsers.nesting import deepest_line, long_number_line
from ciiguard.parsers.reading import read_text
from ciiguard.parsers.surrogates import may_hold_surrogates, scrub
from ciiguard.parsers.terraform.hcl.nodes import HclFile, Name
from ciiguard.parsers.terraform.hcl.reader import parse_expression, parse_hcl
from ciiguard.parsers.terraform.lang.evaluator import (
    Evaluator,
    Scope,
    convert_to_type,
    render_value,
)
from ciiguard.parsers.terraform.lang.functions import FunctionError
from ciiguard.parsers.terraform.module_def import Located, LocatedAttr, ModuleDef
from ciiguard.parsers.terraform.numbers import NotDecided, parse_number
from ciiguard.parsers.terraform.overrides import (
    apply_override,
    is_override,
    repeated_arguments,
    repeated_declarations,
)

# Terraform reads these like command-line options (-var, -var-file) before the real ones.
CLI_ARGS_ENV = ("TF_CLI_ARGS", "TF_CLI_ARGS_plan", "TF_CLI_ARGS_apply")


def load_module(
    directory: Path, tf_files: list[Path], load: Callable[[Path], HclFile]
) -> ModuleDef:
    """Parse every ``.tf``/``.tf.json`` file of a directory into one ModuleDef; errors are collected.

    Override files are merged last, in lexical order; anything declared twice is an error.
    """
    mod = ModuleDef(directory)
    ordered = sorted(tf_files, key=lambda p: (is_override(p.name), p.name))
    for path in ordered:
        try:
            hcl = load(path)
        except InputError as exc:
            mod.errors.append(exc)
            continue
        mod.errors.extend(repeated_arguments(hcl))
        if is_override(path.name):
            mod.errors.extend(apply_override(mod, hcl))
        else:
            _index(mod, hcl)
        mod.files.append(hcl)
    mod.errors.extend(
        repeated_declarations([f for f in mod.files if not is_override(Path(f.path).name)])
    )
    mod.provider_types = provider_local_names(mod.files)
    return mod


def provider_local_names(files: list[HclFile]) -> dict[str, str]:
    """``required_providers`` local names and the provider type each stands for (the last part of
    its source address: ``amazon = { source = "hashicorp/aws" }`` makes ``amazon`` an AWS provider)."""
    out: dict[str, str] = {}
    ev = Evaluator(Scope())
    for hcl in files:
        for tf in hcl.body.blocks_of("terraform"):
            for req in tf.body.blocks_of("required_providers"):
                for a in req.body.attributes:
                    spec = ev.evaluate(a.expr)
                    source = spec.get("source") if isinstance(spec, dict) else None
                    if isinstance(source, str) and source.strip():
                        out[a.name] = source.strip().rsplit("/", 1)[-1].lower()
    return out


def _index(mod: ModuleDef, hcl: HclFile) -> None:
    for block in hcl.body.blocks:
        t, labels = block.type, block.labels
        if t == "variable" and labels:
            mod.variables[labels[0]] = Located(hcl.path, block)
        elif t == "locals":
            for a in block.body.attributes:
                mod.locals[a.name] = LocatedAttr(hcl.path, a)
        elif t == "output" and labels:
            value = block.body.attr("value")
            if value is not None:
                mod.outputs[labels[0]] = LocatedAttr(hcl.path, value)
        elif t == "provider" and labels:
            mod.providers.append(Located(hcl.path, block))
        elif t == "resource" and len(labels) >= 2:
            mod.resources.append(Located(hcl.path, block))
        elif t == "data" and len(labels) >= 2:
            mod.data[(labels[0], labels[1])] = Located(hcl.path, block)
        elif t == "module" and labels:
            mod.module_calls.append(Located(hcl.path, block))


class LocalValues:
    """Locals of one module instance, each evaluated once, with the hops that produced it and a
    guard against a local that refers to itself."""

    def __init__(self) -> None:
        self.done: dict[str, tuple[Any, tuple[Hop, ...]]] = {}
        self.busy: set[str] = set()

    def evaluate(self, scope: Scope, name: str, la: LocatedAttr) -> tuple[Any, tuple[Hop, ...]]:
        if name in self.done:
            return self.done[name]
        if name in self.busy:
            return Unknown(f"local.{name} refers to itself"), ()
        self.busy.add(name)
        trace: list[Hop] = []
        try:
            value = Evaluator(scope, trace).evaluate(la.attr.expr)
        finally:
            self.busy.discard(name)
        result = (value, (Hop(f"local.{name}", la.file, la.attr.line, render_value(value)), *trace))
        self.done[name] = result
        return result


@dataclass
class VarValue:
    value: Any
    hops: tuple[Hop, ...]


@dataclass(frozen=True)
class WrapperValue:
    """A ``TF_VAR_`` value that a wrapper sets unless the environment already does (Terragrunt's
    ``inputs``): the text Terraform receives (or Unknown), the hops that produced it and where it
    is written (for an error about it)."""

    text: str | Unknown
    hops: tuple[Hop, ...]
    file: str | None = None
    line: int | None = None


# An automatically loaded variables file: a path, or (name, values) for one a wrapper writes
# (Terragrunt's null inputs, a ``generate`` block's tfvars), placed in Terraform's order by name.
AutoVarFile = Path | tuple[str, dict[str, VarValue]]


def _typed_as_string(var: Located | None) -> bool:
    """Whether ``-var``/``TF_VAR_`` text is taken literally or parsed as HCL: Terraform takes it
    literally for an untyped variable and a primitive type (``string``, ``number``, ``bool``,
    converted afterwards), and parses it for every other type, ``any`` included."""
    if var is None:
        return True
    t = var.block.body.attr("type")
    if t is None:
        return True
    e = t.expr
    return isinstance(e, Name) and e.name in ("string", "number", "bool")


def _cli_value(text: str, var: Located | None, where: str) -> Any:
    if _typed_as_string(var):
        return text
    try:
        expr = parse_expression(text, where)
    except InputError as exc:
        raise InputError(where, None, f"invalid value: {exc.message}") from None
    return Evaluator(Scope()).evaluate(expr)


# Terraform accepts a workspace name that url.PathEscape leaves as it is (command/meta.go)
_WORKSPACE_NAME = re.compile(r"[A-Za-z0-9._~$&+:=@-]+")


def selected_workspace(
    root_dir: Path,
    environment: dict[str, str],
    reads: set[Path],
    display: Callable[[Path], str],
    outside: Callable[[Path], bool] | None = None,
) -> tuple[Any, Hop]:
    """``terraform.workspace`` as Terraform selects it: ``TF_WORKSPACE`` when set, else the
    name ``terraform workspace select`` wrote to ``<data dir>/environment`` (``TF_DATA_DIR``,
    else ``.terraform``, relative to the root module), else ``default``; with its provenance."""
    name = environment.get("TF_WORKSPACE")
    if name:
        hop = Hop("terraform.workspace", "environment TF_WORKSPACE", None, f'"{name}"')
    else:
        data_dir = Path(environment.get("TF_DATA_DIR") or ".terraform")
        path = (
            (root_dir / data_dir / "environment")
            if not data_dir.is_absolute()
            else data_dir / "environment"
        )
        reads.add(path)  # a later select changes the result: the caches must see it
        shown = display(path)
        if not path.is_file():
            return "default", Hop("terraform.workspace", None, None, '"default"')
        if outside is not None and outside(path):
            why = f"{shown} is outside the scanned directory (use --allow-outside-root to read it)"
            return Unknown(f"terraform.workspace: {why}", error=True), Hop(
                "terraform.workspace", shown, None, None
            )
        try:
            name = read_text(path, shown, 4096).strip()
        except InputError as exc:
            return Unknown(f"terraform.workspace: {exc.message}", error=True), Hop(
                "terraform.workspace", shown, None, None
            )
        if not name:  # Terraform reads an empty file as the default workspace
            return "default", Hop("terraform.workspace", shown, None, '"default"')
        hop = Hop("terraform.workspace", shown, 1, f'"{name}"')
    if not _WORKSPACE_NAME.fullmatch(name):
        return Unknown(
            f"terraform.workspace: {name!r} is not a valid workspace name", error=True
        ), hop
    return name, hop


def root_variable_values(
    mod: ModuleDef,
    settings_env: dict[str, str],
    var_inputs: tuple[tuple[str, str], ...],
    display: Any,
    cwd: Path,
    reads: set[Path] | None = None,
    load: Callable[[Path], HclFile] | None = None,
    outside: Callable[[Path], bool] | None = None,
    limit: int | None = None,
    wrapper_vars: Mapping[str, WrapperValue] | None = None,
    var_files: Sequence[AutoVarFile] | None = None,
) -> tuple[dict[str, VarValue], list[InputError]]:
    """Values of a root module's variables, following Terraform's precedence, with provenance.

    ``outside`` tells which files lie outside the scanned directory: an automatically loaded
    tfvars file that resolves there (a symlink) is refused, never silently read. Files the
    operator names (``--var-file``, ``-var-file`` in ``TF_CLI_ARGS*``) are read wherever they are.
    ``wrapper_vars`` are ``TF_VAR_`` values a wrapper sets where the environment does not;
    ``var_files`` replaces the module directory's ``terraform.tfvars``/``*.auto.tfvars`` files
    (a wrapper that assembles the root module from several directories lists them, in order).
    """
    reads = reads if reads is not None else set()
    values: dict[str, VarValue] = {}
    errors: list[InputError] = []
    ev = Evaluator(Scope())
    for name, var in mod.variables.items():
        default = var.block.body.attr("default")
        if default is not None:
            v = ev.evaluate(default.expr)
            values[name] = VarValue(
                v, (Hop(f"var.{name}", var.file_of("default"), default.line, render_value(v)),)
            )
    for key in sorted(settings_env):
        if key.startswith("TF_VAR_") and key[7:] in mod.variables:
            name = key[7:]
            try:
                v = _cli_value(settings_env[key], mod.variables.get(name), key)
            except InputError as exc:
                errors.append(exc)
                continue
            values[name] = VarValue(
                v, (Hop(f"var.{name}", f"environment {key}", None, render_value(v)),)
            )
    for name, wv in sorted((wrapper_vars or {}).items()):
        if name not in mod.variables or f"TF_VAR_{name}" in settings_env:
            continue  # Terraform ignores it; a variable the environment sets keeps its value
        if isinstance(wv.text, Unknown):
            values[name] = VarValue(wv.text, wv.hops)
            continue
        try:
            v = _cli_value(wv.text, mod.variables.get(name), f"TF_VAR_{name}")
        except InputError as exc:
            errors.append(InputError(wv.file, wv.line, f"TF_VAR_{name}: {exc.message}"))
            continue
        values[name] = VarValue(v, wv.hops)
    if var_files is None:
        auto = sorted(  # (the name first: no stat of every other file in the directory)
            p
            for p in mod.dir.iterdir()
            if (p.name.endswith(".auto.tfvars") or p.name.endswith(".auto.tfvars.json"))
            and p.is_file()
        )
        var_files = [mod.dir / "terraform.tfvars", mod.dir / "terraform.tfvars.json", *auto]
    for f in var_files:
        if not isinstance(f, Path):
            values.update(f[1])
            continue
        if f.is_file():
            if outside is not None and outside(f):
                errors.append(
                    InputError(
                        display(f),
                        None,
                        "this variables file is a link to a file outside the scanned directory "
                        "(use --allow-outside-root to read it)",
                    )
                )
                continue
            reads.add(real(f))  # (f.resolve(), its directories looked at once per scan)
            errors.extend(_apply_var_file(f, display(f), values, mod, load, limit))
    env_inputs, env_errors = _cli_args_env(settings_env)
    errors.extend(env_errors)
    given = [(k, v, src) for k, v, src in env_inputs] + [(k, v, "") for k, v in var_inputs]
    for kind, item, source in given:
        if kind == "file":
            base = mod.dir if source else cwd  # TF_CLI_ARGS paths: from where terraform runs
            path = Path(item) if Path(item).is_absolute() else base / item
            if not path.is_file():
                where = f"environment {source}" if source else item
                errors.append(InputError(where, None, f"-var-file {item!r} not found"))
                continue
            reads.add(path.resolve())
            errors.extend(_apply_var_file(path, display(path), values, mod, load, limit))
        else:
            name, _, text = item.partition("=")
            name = name.strip()
            if name not in mod.variables:
                continue  # a --var for another root module
            what = f"environment {source}" if source else "--var"
            try:
                v = _cli_value(text, mod.variables.get(name), f"{what} {name}")
            except InputError as exc:
                errors.append(exc)
                continue
            values[name] = VarValue(v, (Hop(f"var.{name}", what, None, render_value(v)),))
    for name, var in mod.variables.items():
        if name in values:
            values[name] = typed(non_null(f"var.{name}", values[name], var), var)
    for name in mod.variables:
        if name not in values:
            values[name] = VarValue(
                Unknown(f"var.{name} has no value (no default, tfvars, TF_VAR_{name} or --var)"),
                (
                    Hop(
                        f"var.{name}",
                        mod.variables[name].file,
                        mod.variables[name].block.line,
                        "(no value)",
                    ),
                ),
            )
    return values, errors


def non_null(what: str, vv: VarValue, var: Located) -> VarValue:
    """A null given to a variable declared ``nullable = false`` is its default, as Terraform
    does (``module "m" { x = null }`` then means "the default"); with a null default or none,
    Terraform stops, and the value is an error."""
    if vv.value is not None:
        return vv
    nullable = var.block.body.attr("nullable")
    if nullable is None or Evaluator(Scope()).evaluate(nullable.expr) is not False:
        return vv
    default = var.block.body.attr("default")
    v = Evaluator(Scope()).evaluate(default.expr) if default is not None else None
    if default is None or v is None:
        return VarValue(
            Unknown(
                f"{what} is null, which its declaration (nullable = false) refuses", error=True
            ),
            vv.hops,
        )
    hop = Hop(
        f"{what} (null given; nullable = false takes the default)",
        var.file_of("default"),
        default.line,
        render_value(v),
    )
    return VarValue(v, (hop, *vv.hops))


def typed(vv: VarValue, var: Located) -> VarValue:
    """A variable's value converted to its declared ``type`` (``"3"`` -> 3 for number, sets
    sorted and de-duplicated, ...) as Terraform does before any expression sees it."""
    t = var.block.body.attr("type")
    if t is None or isinstance(vv.value, Unknown):
        return vv
    converted = convert_to_type(vv.value, t.expr)
    if converted is vv.value:
        return vv
    return VarValue(converted, vv.hops)


def _cli_args_env(env: dict[str, str]) -> tuple[list[tuple[str, str, str]], list[InputError]]:
    """``-var``/``-var-file`` options in ``TF_CLI_ARGS``, ``TF_CLI_ARGS_plan`` and
    ``TF_CLI_ARGS_apply``: Terraform inserts them before the command line's own options."""
    out: list[tuple[str, str, str]] = []
    errors: list[InputError] = []
    for name in CLI_ARGS_ENV:
        raw = env.get(name)
        if not raw:
            continue
        try:
            words = shlex.split(raw)
        except ValueError as exc:
            errors.append(InputError(f"environment {name}", None, f"cannot split arguments: {exc}"))
            continue
        i = 0
        while i < len(words):
            opt, eq, value = words[i].partition("=")
            if opt in ("-var", "--var", "-var-file", "--var-file"):
                if not eq:
                    i += 1
                    value = words[i] if i < len(words) else ""
                out.append(("file" if opt.endswith("file") else "var", value, name))
            i += 1
    return out, errors


def _apply_var_file(
    path: Path,
    shown: str,
    values: dict[str, VarValue],
    mod: ModuleDef,
    load: Callable[[Path], HclFile] | None = None,
    limit: int | None = None,
) -> list[InputError]:
    if load is not None and not path.name.endswith(".json"):
        try:
            return _assign_tfvars(load(path), shown, values)
        except InputError as exc:
            return [exc]
    try:
        text = read_text(path, shown, limit)
    except InputError as exc:
        return [exc]
    return _apply_var_text(text, path.name.endswith(".json"), shown, values)


def var_file_values(
    text: str, json_syntax: bool, shown: str
) -> tuple[dict[str, VarValue], list[InputError]]:
    """The assignments of a variables file's text (one a wrapper writes, never read from disk)."""
    values: dict[str, VarValue] = {}
    errors = _apply_var_text(text, json_syntax, shown, values)
    return values, errors


def _apply_var_text(
    text: str, json_syntax: bool, shown: str, values: dict[str, VarValue]
) -> list[InputError]:
    if json_syntax:
        try:
            data = json.loads(
                text,
                parse_float=_json_number,
                parse_int=_json_number,
                object_pairs_hook=_unique_keys,
            )
        except json.JSONDecodeError as exc:
            return [InputError(shown, exc.lineno, f"invalid JSON: {exc.msg}")]
        except _RepeatedKey as exc:
            line = _json_key_lines(text, exc.key, second=True).get(exc.key)
            return [
                InputError(
                    shown,
                    line,
                    f'key "{exc.key}" appears twice in one object; Terraform rejects this',
                )
            ]
        except RecursionError:
            return [InputError(shown, deepest_line(text), "JSON nested too deeply")]
        except ValueError as exc:  # e.g. an integer with more digits than Python converts
            return [InputError(shown, long_number_line(text), f"invalid JSON value: {exc}")]
        if not isinstance(data, dict):
            return [InputError(shown, 1, "a .tfvars.json file must hold a JSON object")]
        if may_hold_surrogates(text):
            scrub(data)
        lines = _json_key_lines(text)
        for name, raw in data.items():
            try:
                v = _from_json(raw)
            except (RecursionError, FunctionError) as exc:
                what = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
                return [InputError(shown, lines.get(name), f"value of {name!r}: {what}")]
            values[name] = VarValue(
                v, (Hop(f"var.{name}", shown, lines.get(name), render_value(v)),)
            )
        return []
    try:
        hcl = parse_hcl(text, shown)
    except InputError as exc:
        return [exc]
    return _assign_tfvars(hcl, shown, values)


def _assign_tfvars(hcl: HclFile, shown: str, values: dict[str, VarValue]) -> list[InputError]:
    repeated = repeated_arguments(hcl)
    if repeated:
        return repeated
    if hcl.body.blocks:
        b = hcl.body.blocks[0]
        return [
            InputError(
                shown, b.line, "a .tfvars file may only assign variables, not declare blocks"
            )
        ]
    ev = Evaluator(Scope())
    for a in hcl.body.attributes:
        v = ev.evaluate(a.expr)
        values[a.name] = VarValue(v, (Hop(f"var.{a.name}", shown, a.line, render_value(v)),))
    return []


def _json_number(text: str) -> Any:
    """A .tfvars.json number with Terraform's exact value (512-bit), or Unknown where ciiguard
    does not emulate the form."""
    try:
        return parse_number(text)
    except (NotDecided, ValueError):
        return Unknown(f"number {text[:40]} is not evaluated exactly by ciiguard")


def _from_json(v: Any) -> Any:
    if isinstance(v, list):
        return [_from_json(x) for x in v]
    if isinstance(v, dict):
        return {k: _from_json(x) for k, x in v.items()}
    return v


class _RepeatedKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object, refusing a repeated key (HCL's JSON reader rejects them too)."""
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise _RepeatedKey(k)
        out[k] = v
    return out


_COLON = re.compile(r"\s*:")


def _json_key_lines(text: str, only: str | None = None, second: bool = False) -> dict[str, int]:
    """Line of each top-level key in a JSON object (best effort, for provenance); with ``second``,
    the line where ``only`` appears for the second time."""
    out: dict[str, int] = {}
    count = 0
    depth = 0
    line = 1
    i = 0
    in_str = False
    start = 0
    while i < len(text):
        ch = text[i]
        if ch == "\n":
            line += 1
        if in_str:
            if ch == "\\":
                i += 2
                continue
            if ch == '"':
                in_str = False
                if depth == 1 and _COLON.match(text, i + 1):
                    key = text[start + 1 : i]
                    if not second:
                        out.setdefault(key, line)
                    elif key == only:
                        count += 1
                        if count == 2:
                            return {key: line}
        elif ch == '"':
            in_str = True
            start = i
        elif ch in "{[":
            depth += 1
        elif ch in "}]":
            depth -= 1
        i += 1
    return out
