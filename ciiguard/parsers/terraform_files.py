"""Terraform module directories on disk: their ``.tf`` files and the variable values that apply.

Variable precedence is Terraform's: declared default < ``TF_VAR_name`` < ``terraform.tfvars`` <
``terraform.tfvars.json`` < ``*.auto.tfvars(.json)`` in lexical order < ``--var-file`` / ``--var`` in
command-line order.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ciiguard.errors import InputError
from ciiguard.model import Hop, Unknown
from ciiguard.parsers.evaluator import Evaluator, Scope, render_value
from ciiguard.parsers.functions import normalise_number
from ciiguard.parsers.hcl_ast import Attribute, Block, HclFile, Name
from ciiguard.parsers.hcl_reader import parse_expression, parse_hcl

MAX_FILE_BYTES = 20 * 1024 * 1024


@dataclass
class Located:
    """An HCL node with the file it came from (display path)."""

    file: str
    block: Block


@dataclass
class LocatedAttr:
    file: str
    attr: Attribute


@dataclass
class ModuleDef:
    """Everything declared in one module directory (all its ``.tf`` files together)."""

    dir: Path
    files: list[HclFile] = field(default_factory=list)
    variables: dict[str, Located] = field(default_factory=dict)
    locals: dict[str, LocatedAttr] = field(default_factory=dict)
    outputs: dict[str, LocatedAttr] = field(default_factory=dict)
    providers: list[Located] = field(default_factory=list)
    resources: list[Located] = field(default_factory=list)
    data: dict[tuple[str, str], Located] = field(default_factory=dict)
    module_calls: list[Located] = field(default_factory=list)
    errors: list[InputError] = field(default_factory=list)

    def resource_block(self, rtype: str, name: str) -> Located | None:
        for r in self.resources:
            if r.block.labels[:2] == (rtype, name):
                return r
        return None


def read_bytes(path: Path, display: str) -> bytes:
    """Read a source file; errors (missing, unreadable, too large) name the file."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise InputError(
                display, None, f"file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB"
            )
        return path.read_bytes()
    except PermissionError:
        raise InputError(display, None, "permission denied") from None
    except OSError as exc:
        raise InputError(display, None, f"cannot read file: {exc.strerror or exc}") from None


def read_text(path: Path, display: str) -> str:
    """Read a source file as UTF-8 (BOM tolerated); errors name the file and line."""
    data = read_bytes(path, display)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(display, line, "file is not valid UTF-8") from None


def load_module(
    directory: Path, tf_files: list[Path], load: Callable[[Path], HclFile]
) -> ModuleDef:
    """Parse every ``.tf``/``.tf.json`` file of a directory into one ModuleDef; errors are collected."""
    mod = ModuleDef(directory)
    for path in sorted(tf_files):
        try:
            hcl = load(path)
        except InputError as exc:
            mod.errors.append(exc)
            continue
        mod.files.append(hcl)
        _index(mod, hcl)
    return mod


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


@dataclass
class VarValue:
    value: Any
    hops: tuple[Hop, ...]


def _typed_as_string(var: Located | None) -> bool:
    """Whether ``-var``/``TF_VAR_`` text is taken literally (string or untyped) or parsed as HCL."""
    if var is None:
        return True
    t = var.block.body.attr("type")
    if t is None:
        return True
    e = t.expr
    return isinstance(e, Name) and e.name in ("string", "any")


def _cli_value(text: str, var: Located | None, where: str) -> Any:
    if _typed_as_string(var):
        return text
    try:
        expr = parse_expression(text, where)
    except InputError as exc:
        raise InputError(where, None, f"invalid value: {exc.message}") from None
    return Evaluator(Scope()).evaluate(expr)


def root_variable_values(
    mod: ModuleDef,
    settings_env: dict[str, str],
    var_inputs: tuple[tuple[str, str], ...],
    display: Any,
    cwd: Path,
    reads: set[Path] | None = None,
    load: Callable[[Path], HclFile] | None = None,
) -> tuple[dict[str, VarValue], list[InputError]]:
    """Values of a root module's variables, following Terraform's precedence, with provenance."""
    reads = reads if reads is not None else set()
    values: dict[str, VarValue] = {}
    errors: list[InputError] = []
    ev = Evaluator(Scope())
    for name, var in mod.variables.items():
        default = var.block.body.attr("default")
        if default is not None:
            v = ev.evaluate(default.expr)
            values[name] = VarValue(
                v, (Hop(f"var.{name}", var.file, default.line, render_value(v)),)
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
    auto = sorted(
        p
        for p in mod.dir.iterdir()
        if p.is_file() and (p.name.endswith(".auto.tfvars") or p.name.endswith(".auto.tfvars.json"))
    )
    files = [mod.dir / "terraform.tfvars", mod.dir / "terraform.tfvars.json", *auto]
    for f in files:
        if f.is_file():
            reads.add(f.resolve())
            errors.extend(_apply_var_file(f, display(f), values, mod, load))
    for kind, item in var_inputs:
        if kind == "file":
            path = Path(item) if Path(item).is_absolute() else cwd / item
            if not path.is_file():
                errors.append(InputError(item, None, "--var-file not found"))
                continue
            reads.add(path.resolve())
            errors.extend(_apply_var_file(path, display(path), values, mod, load))
        else:
            name, _, text = item.partition("=")
            name = name.strip()
            if name not in mod.variables:
                continue  # a --var for another root module
            try:
                v = _cli_value(text, mod.variables.get(name), f"--var {name}")
            except InputError as exc:
                errors.append(exc)
                continue
            values[name] = VarValue(v, (Hop(f"var.{name}", "--var", None, render_value(v)),))
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


def _apply_var_file(
    path: Path,
    shown: str,
    values: dict[str, VarValue],
    mod: ModuleDef,
    load: Callable[[Path], HclFile] | None = None,
) -> list[InputError]:
    if load is not None and not path.name.endswith(".json"):
        try:
            return _assign_tfvars(load(path), shown, values)
        except InputError as exc:
            return [exc]
    try:
        text = read_text(path, shown)
    except InputError as exc:
        return [exc]
    if path.name.endswith(".json"):
        try:
            data = json.loads(text, parse_float=float)
        except json.JSONDecodeError as exc:
            return [InputError(shown, exc.lineno, f"invalid JSON: {exc.msg}")]
        if not isinstance(data, dict):
            return [InputError(shown, 1, "a .tfvars.json file must hold a JSON object")]
        lines = _json_key_lines(text)
        for name, raw in data.items():
            v = _from_json(raw)
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


def _from_json(v: Any) -> Any:
    if isinstance(v, float):
        return normalise_number(v)
    if isinstance(v, list):
        return [_from_json(x) for x in v]
    if isinstance(v, dict):
        return {k: _from_json(x) for k, x in v.items()}
    return v


def _json_key_lines(text: str) -> dict[str, int]:
    """Line of each top-level key in a small JSON object (best effort, for provenance)."""
    out: dict[str, int] = {}
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
                if depth == 1:
                    rest = text[i + 1 :].lstrip()
                    if rest.startswith(":"):
                        out.setdefault(text[start + 1 : i], line)
        elif ch == '"':
            in_str = True
            start = i
        elif ch in "{[":
            depth += 1
        elif ch in "}]":
            depth -= 1
        i += 1
    return out
