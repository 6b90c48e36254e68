"""Pulumi Node.js programs (``runtime: nodejs``, TypeScript or JavaScript) under the SDK's mocks.

ciiguard starts ``node`` on its own harness (``node_harness.js``, shipped in the package), which
loads the project's ``@pulumi/pulumi`` from its ``node_modules``, sets the SDK's mock runtime and
runs the program as the SDK's language host does. Registrations arrive as JSON lines and become
the same ``Registration``s the Python runner captures; invokes are answered by ``invoke.answer``
with result shapes read from the provider package's type declarations. Only with
``--run-programs``; Node is started only when such a program is found.
"""

from __future__ import annotations

import json
import os
import queue
import re
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import IO, Any

from ciiguard.errors import InputError
from ciiguard.model import Unknown
from ciiguard.parsers.base import ParseContext
from ciiguard.parsers.pulumi.capture import (
    ProgramRun,
    Registration,
    _config_for_sdk,
    _plain,
    _region_for_call,
    _within,
    explain_stand_ins,
)
from ciiguard.parsers.pulumi.common import PROVIDER_PREFIX, STACK_TYPE, UNKNOWN_SENTINELS, Project
from ciiguard.parsers.pulumi.invoke import MAX_DEPTH, Field, answer

TIME_LIMIT_S = 180.0  # a program still running after this is reported, not waited for
OUTPUT_LIMIT = 64 * 1024 * 1024  # bytes of harness output: more is a runaway program
_FAILED = "the Pulumi program failed under ciiguard's mocks"


def _find_up(start: Path, relative: str) -> Path | None:
    """``relative`` in ``start`` or its nearest ancestor, as Node's module resolution finds it."""
    for d in (start, *start.parents):
        if (d / relative).exists():
            return d / relative
    return None


def _runtime_options(project: Project) -> Mapping[str, Any]:
    rt = project.doc.get("runtime") if isinstance(project.doc, dict) else None
    options = rt.get("options") if isinstance(rt, dict) else None
    return options if isinstance(options, dict) else {}


def _check_environment(project: Project, program_dir: Path) -> str:
    """The ``node`` to run, or one clear line saying what to install or run."""
    node = shutil.which("node")
    if node is None:
        raise InputError(
            project.display,
            project.runtime_line,
            "evaluating a Pulumi Node.js program needs Node.js: install node (18 or later) and "
            "put it on PATH",
        )
    if _find_up(program_dir, "node_modules") is None:
        raise InputError(
            project.display,
            project.runtime_line,
            f"the program's dependencies are not installed: run 'npm ci' (or 'npm install') in "
            f"{project.display.rsplit('/', 1)[0] if '/' in project.display else '.'}",
        )
    if _find_up(program_dir, "node_modules/@pulumi/pulumi/package.json") is None:
        raise InputError(
            project.display,
            project.runtime_line,
            "node_modules has no @pulumi/pulumi: run 'npm install @pulumi/pulumi' (or 'npm ci' "
            "if package.json lists it)",
        )
    return node


def run_node_program(project: Project, ctx: ParseContext) -> ProgramRun:
    """Run the program under the Node SDK's mocks and capture every registration."""
    main = project.main
    program_dir = main if main.is_dir() else main.parent
    node = _check_environment(project, program_dir)
    options = _runtime_options(project)
    tsconfig = options.get("tsconfig")
    spec = {
        "project": project.name,
        "stack": project.stack,
        # absolute: Node runs in the program's directory, and the harness places each frame
        # relative to these (relative ones lost every file and line of a scan of a relative path)
        "projectDir": str(project.dir.absolute()),
        "programDir": str(program_dir.absolute()),
        "main": str(main.absolute()) if main != project.dir else ".",
        "typescript": options.get("typescript", True) is not False,
        "tsconfig": tsconfig if isinstance(tsconfig, str) else None,
    }
    config, secrets = _config_for_sdk(project)
    env = dict(os.environ)
    env["PULUMI_CONFIG"] = json.dumps(config)
    env["PULUMI_CONFIG_SECRET_KEYS"] = json.dumps(secrets)
    # transpile only, as the harness asks of the SDK's own ts-node: its ESM loader (a program
    # with "type": "module") reads this instead, and type-checked (exit 2 on a type error, 4 s)
    env["TS_NODE_TRANSPILE_ONLY"] = "true"
    harness = resources.files("ciiguard").joinpath("parsers/pulumi/node_harness.js")
    with resources.as_file(harness) as harness_path, tempfile.TemporaryFile() as stderr:
        proc = subprocess.Popen(  # only with --run-programs, at the user's request
            # source maps in stack traces: an ES module's frames are otherwise the transpiled
            # JavaScript's lines (the SDK's CommonJS path maps them itself)
            [node, "--enable-source-maps", str(harness_path), json.dumps(spec)],
            cwd=program_dir,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
        )
        try:
            return _converse(proc, project, ctx, program_dir, stderr)
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait()


def _last_words(stderr: IO[bytes]) -> str:
    """The last line Node or the program printed on stderr (bounded, control characters
    dropped): why Node stopped when the harness could not say."""
    stderr.seek(0, os.SEEK_END)
    stderr.seek(max(stderr.tell() - 4096, 0))
    lines = [
        " ".join("".join(c if c.isprintable() else " " for c in line).split())
        for line in stderr.read().decode("utf-8", errors="replace").splitlines()
    ]
    lines = [line for line in lines if line]
    return f": {lines[-1][:300]}" if lines else ""


def _reader(stream: IO[bytes], lines: queue.Queue[bytes | None]) -> None:
    for line in stream:
        lines.put(line)
    lines.put(None)


def _converse(
    proc: subprocess.Popen[bytes],
    project: Project,
    ctx: ParseContext,
    program_dir: Path,
    stderr: IO[bytes],
) -> ProgramRun:
    assert proc.stdout is not None and proc.stdin is not None
    lines: queue.Queue[bytes | None] = queue.Queue()
    threading.Thread(target=_reader, args=(proc.stdout, lines), daemon=True).start()
    result = ProgramRun()
    providers_by_ref: dict[str, dict[str, Any]] = {}
    deadline = time.monotonic() + TIME_LIMIT_S
    size = 0
    done = False
    while not done:
        remaining = deadline - time.monotonic()
        try:
            raw = lines.get(timeout=max(remaining, 0.01))
        except queue.Empty:
            raise InputError(
                project.display,
                None,
                f"{_FAILED}: it did not finish within {TIME_LIMIT_S:.0f} seconds",
            ) from None
        if raw is None:
            break
        size += len(raw)
        if size > OUTPUT_LIMIT:
            raise InputError(
                project.display,
                None,
                f"{_FAILED}: it registered more than {OUTPUT_LIMIT // (1024 * 1024)} MiB of "
                "resources",
            )
        try:
            msg = json.loads(raw)
        except ValueError:
            continue  # not a protocol line
        kind = msg.get("t") if isinstance(msg, dict) else None
        if kind == "resource":
            reg = _registration(msg)
            if reg.token == STACK_TYPE:
                continue
            result.registrations.append(reg)
            if reg.token.startswith(PROVIDER_PREFIX):
                providers_by_ref[reg.mock_urn] = reg.inputs
        elif kind == "invoke":
            value = _answer_invoke(msg, providers_by_ref, project, ctx, program_dir, result)
            reply = {"id": msg.get("id"), "result": value}
            try:
                proc.stdin.write((json.dumps(reply) + "\n").encode())
                proc.stdin.flush()
            except OSError:
                pass
        elif kind == "missing":
            key = str(msg.get("key", ""))
            if key not in result.missing_config:
                result.missing_config.append(key)
        elif kind == "log":
            result.errors.append(" ".join(str(msg.get("message", "")).split()))
        elif kind == "transform":
            result.transforms.append(" ".join(str(msg.get("what", "")).split()))
        elif kind == "unprobed":
            file, line = msg.get("file"), msg.get("line")
            if isinstance(file, str) and _within(Path(file), project.dir):
                error = " ".join(str(msg.get("error", "")).split())[:300]
                result.unprobed.append((file, line if isinstance(line, int) else 0, error))
        elif kind == "error":
            _raise_failure(msg, project, ctx)
        elif kind == "fatal":
            raise InputError(
                project.display,
                project.runtime_line,
                "node_modules has no @pulumi/pulumi that Node can load: run 'npm ci'",
            )
        elif kind == "done":
            done = True
    if not done:
        raise InputError(
            project.display,
            None,
            f"{_FAILED}: Node exited before the program finished (exit status {proc.wait()})"
            + _last_words(stderr),
        )
    return result


def _raise_failure(msg: Mapping[str, Any], project: Project, ctx: ParseContext) -> None:
    message = " ".join(str(msg.get("message", "")).split())
    message = explain_stand_ins(message)
    key = msg.get("missing_key")
    if isinstance(key, str) and key:
        stack = project.stack_display or f"Pulumi.{project.stack}.yaml"
        message = (
            f"configuration {key!r} is required as a number, boolean or object but not set in "
            f"{stack}: ciiguard has no safe stand-in for it (set it with: pulumi config set ...)"
        )
    file = msg.get("file")
    line = msg.get("line")
    shown = ctx.display(Path(file)) if isinstance(file, str) else project.display
    raise InputError(
        shown, line if isinstance(line, int) and line > 0 else None, f"{_FAILED}: {message}"
    )


def _node_value(value: Any) -> Any:
    """The monitor's wire values as ``_plain`` expects them: unknown sentinels -> ``Unknown``."""
    if isinstance(value, str) and value in UNKNOWN_SENTINELS:
        return Unknown("known only after deployment")
    if isinstance(value, dict):
        return {str(k): _node_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_node_value(v) for v in value]
    return value


def _registration(msg: Mapping[str, Any]) -> Registration:
    inputs = _plain(_node_value(msg.get("inputs") or {}), Unknown)
    deps = msg.get("deps")
    file, line = msg.get("file"), msg.get("line")
    return Registration(
        token=str(msg.get("type", "")),
        name=str(msg.get("name", "")),
        mock_urn=str(msg.get("urn", "")),
        parent=str(msg.get("parent") or ""),
        provider_ref=str(msg.get("provider") or ""),
        custom=bool(msg.get("custom")),
        remote=bool(msg.get("remote")),
        inputs=inputs if isinstance(inputs, dict) else {},
        deps={str(k): [str(u) for u in v] for k, v in deps.items()}
        if isinstance(deps, dict)
        else {},
        frames=[(file, int(line or 0))] if isinstance(file, str) else [],
    )


def _answer_invoke(
    msg: Mapping[str, Any],
    providers: Mapping[str, dict[str, Any]],
    project: Project,
    ctx: ParseContext,
    program_dir: Path,
    result: ProgramRun,
) -> dict[str, Any]:
    """Invokes answer as for Python programs; the result's shape comes from the provider
    package's TypeScript declarations (``<Function>Result`` in ``<function>.d.ts``)."""
    token = str(msg.get("token", ""))
    fields = result_fields(token, program_dir)
    if fields is None:
        result.unshaped.append(token)
        return {}
    region = _region_for_call(token, str(msg.get("provider") or ""), providers, project, ctx)
    args = msg.get("args")
    ans = answer(token, args if isinstance(args, dict) else {}, region, fields)
    for path in ans.stand_ins:
        result.stand_ins.append(f"{token.rsplit(':', 1)[-1]}().{path}")
    return ans.value


_FIELD = re.compile(r"^\s*readonly\s+([A-Za-z_$][\w$]*)(\?)?\s*:\s*(.+?);\s*$")


def result_fields(token: str, program_dir: Path) -> list[Field] | None:
    """The fields of an invoke's result, from the provider package's ``.d.ts`` files."""
    parts = token.split(":")
    if len(parts) != 3:
        return None
    package, module, function = parts
    segments = [s for s in module.split("/") if s]
    if segments and segments[-1].lower() == function.lower():
        segments = segments[:-1]
    if segments == ["index"]:
        segments = []
    pkg_dir = _find_up(program_dir, f"node_modules/@pulumi/{package}")
    if pkg_dir is None:
        return None
    decl = pkg_dir.joinpath(*segments, f"{function}.d.ts")
    if not decl.is_file():
        return None
    name = f"{function[:1].upper()}{function[1:]}Result"
    body = _interface(decl.read_text("utf-8", errors="replace"), name)
    if body is None:
        return None
    outputs = pkg_dir / "types" / "output.d.ts"
    return _fields(body, outputs, 0)


def _interface(text: str, name: str) -> str | None:
    found = re.search(r"export interface " + re.escape(name) + r"\s*\{", text)
    if found is None:
        return None
    depth, start = 1, found.end()
    for i in range(start, len(text)):
        if text[i] == "{":
            depth += 1
        elif text[i] == "}":
            depth -= 1
            if depth == 0:
                return text[start:i]
    return None


def _fields(body: str, outputs: Path, depth: int) -> list[Field]:
    out: list[Field] = []
    for line in body.splitlines():
        m = _FIELD.match(line)
        if m is not None:
            out.append(_field(m.group(1), m.group(3).strip(), m.group(2) == "?", outputs, depth))
    return out


def _field(name: str, ts: str, optional: bool, outputs: Path, depth: int) -> Field:
    if ts.endswith("[]"):
        item = _field("", ts[:-2].strip("() "), False, outputs, depth + 1)
        return Field(name, "list", item, optional=optional)
    if ts.startswith("{[key: string]"):
        return Field(name, "map", optional=optional)
    simple = {"string": "string", "number": "number", "boolean": "boolean"}
    if ts in simple:
        return Field(name, simple[ts], optional=optional)
    if ts.startswith("outputs.") and depth < MAX_DEPTH and outputs.is_file():
        body = _interface(outputs.read_text("utf-8", errors="replace"), ts.rsplit(".", 1)[-1])
        if body is not None:
            return Field(name, "object", fields=tuple(_fields(body, outputs, depth + 1)))
    return Field(name, "any", optional=optional)
