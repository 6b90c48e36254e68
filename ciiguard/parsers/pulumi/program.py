"""Pulumi Python programs (``runtime: python``), evaluated in-process under the SDK's mocks.

``pulumi.runtime.set_mocks`` replaces the Pulumi engine: the program runs as in ``pulumi
preview`` (outputs not known before deployment stay unknown), with the stack's config applied,
and every resource it registers is captured with its inputs, its parent and its provider. No
Pulumi CLI, no cloud credentials. Because this runs the project's own code, it happens only with
``--run-programs``; without it a found program is reported as not checked (exit 2). Programs in
other languages are reported the same way, with the preview JSON as the way to scan them.

``pulumi`` is imported only here, and only when a program is actually run.
"""

from __future__ import annotations

import collections.abc
import contextlib
import contextvars
import importlib
import io
import itertools
import logging
import os
import runpy
import sys
import traceback
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from ciiguard.errors import InputError
from ciiguard.model import ParseOutput, ScanIssue
from ciiguard.parsers.base import ParseContext
from ciiguard.parsers.pulumi.capture import (
    MISSING_MARK,
    OUTPUT_MARK,
    ProgramRun,
    Registration,
    _Collector,
    _config_for_sdk,
    _plain,
    _region_for_call,
    _within,
    explain_stand_ins,
)
from ciiguard.parsers.pulumi.common import (
    PROVIDER_PREFIX,
    RESOURCE_REF_SIG,
    SIG_KEY,
    STACK_TYPE,
    Project,
    is_project_file,
    load_project,
    project_runtime,
    record_reads,
    snake,
    unknown_packages,
)
from ciiguard.parsers.pulumi.invoke import MAX_DEPTH, Field, answer
from ciiguard.parsers.pulumi.node_program import run_node_program


def _not_run_message(project: Project) -> str:
    return (
        f"Pulumi {project.runtime} program not checked: evaluating it runs the project's own code, "
        "which ciiguard does only with --run-programs ("
        + (
            "after 'npm ci', so its imports resolve"
            if project.runtime == "nodejs"
            else "run ciiguard inside the project's Python environment so its imports resolve"
        )
        + "); or scan the output of 'pulumi preview --json'"
    )


def _program_file(project: Project) -> Path:
    main = project.main
    target = main / "__main__.py" if main.is_dir() else main
    if not target.is_file():
        raise InputError(
            project.display,
            project.doc.lines.get("main"),
            f"no Python program: {target} does not exist",
        )
    return target


@contextlib.contextmanager
def _program_environment(program_dir: Path) -> Iterator[None]:
    """cwd, sys.path and sys.argv as Pulumi's Python host sets them; restored afterwards."""
    old_cwd = os.getcwd()
    old_path = list(sys.path)
    old_argv = list(sys.argv)
    old_modules = set(sys.modules)
    os.chdir(program_dir)
    sys.path.insert(0, str(program_dir))
    sys.argv = [str(program_dir)]
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            yield
    finally:
        os.chdir(old_cwd)
        sys.path[:] = old_path
        sys.argv = old_argv
        # The program's own modules must not leak into the next program scanned in this process.
        for name in set(sys.modules) - old_modules:
            module_file = getattr(sys.modules.get(name), "__file__", None) or ""
            if module_file and _within(Path(module_file), program_dir):
                del sys.modules[name]


def _frames(stack_trace: Any) -> list[tuple[str, int]]:
    out: list[tuple[str, int]] = []
    for frame in getattr(stack_trace, "frames", []):
        pc = getattr(frame, "pc", None)
        uri = getattr(pc, "uri", "") if pc is not None else ""
        if uri.startswith("file://"):
            out.append((unquote(urlparse(uri).path), int(getattr(pc, "line", 0))))
    return out


def run_program(project: Project, ctx: ParseContext) -> ProgramRun:
    """Run the program under ``pulumi.runtime.set_mocks`` in a fresh context; capture resources."""
    try:
        import pulumi  # noqa: F401 - checked before anything else so the message is clear
    except ImportError:
        raise InputError(
            project.display,
            project.runtime_line,
            "evaluating a Pulumi Python program needs the Pulumi SDK: install ciiguard with the "
            "'pulumi' extra (pip install 'ciiguard[pulumi]') in the project's environment",
        ) from None
    program = _program_file(project)
    result = ProgramRun()
    context = contextvars.Context()
    context.run(_run_in_context, project, program, ctx, result)
    return result


def _run_in_context(project: Project, program: Path, ctx: ParseContext, result: ProgramRun) -> None:
    import asyncio

    from pulumi.output import Unknown as SdkUnknown
    from pulumi.runtime import mocks, rpc, set_all_config
    from pulumi.runtime.proto import resource_pb2
    from pulumi.runtime.stack import run_pulumi_func

    providers_by_ref: dict[str, dict[str, Any]] = {}

    class _Mocks(mocks.Mocks):
        """Preview-like answers: inputs come back as state, everything else stays unknown."""

        def new_resource(self, args: mocks.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
            # A resource passed as an input (function=lambda_function) is not echoed back: the
            # SDK would rehydrate it on another event loop and fail; the output stays unknown.
            if not args.custom:
                # A component (one of another language's, awsx.ec2.Vpc): its outputs are not its
                # inputs (the SDK checks them against the output types: nat_gateways is a list
                # of gateways, not the strategy given); they stay unknown (its CII003 stands).
                return None, {}
            return None, _without_resources(dict(args.inputs))

        def call(self, args: mocks.MockCallArgs) -> dict[str, Any]:  # type: ignore[override]
            """Invokes answer with the result's shape and nothing that decides a verdict
            (``invoke.answer``); a result type the SDK does not describe gets no fields."""
            fields = _result_fields(args.token)
            if fields is None:
                result.unshaped.append(args.token)
                return {}
            region = _region_for_call(args.token, args.provider, providers_by_ref, project, ctx)
            plain_args = _plain(dict(args.args), SdkUnknown)
            ans = answer(
                args.token, plain_args if isinstance(plain_args, dict) else {}, region, fields
            )
            for path in ans.stand_ins:
                result.stand_ins.append(f"{args.token.rsplit(':', 1)[-1]}().{path}")
            return ans.value

    class _Monitor(mocks.MockMonitor):
        """The SDK's mock monitor without resource references: the SDK then passes a resource
        given as an input (``function=lambda_function``) as its URN, instead of a reference the
        mock layer would turn back into a resource on another thread's event loop (which fails:
        "attached to a different loop")."""

        def SupportsFeature(self, request: Any) -> Any:
            if request.id == "resourceReferences":
                return type("SupportsFeatureResponse", (object,), {"hasSupport": False})
            return super().SupportsFeature(request)  # type: ignore[no-untyped-call]

        def GetDeploymentInfo(self, request: Any) -> Any:
            info = super().GetDeploymentInfo(request)  # type: ignore[no-untyped-call]
            features = [
                f
                for f in info.supportedFeatures
                if f != resource_pb2.RESOURCE_MONITOR_FEATURE_RESOURCE_REFERENCES
            ]
            return resource_pb2.DeploymentInfo(supportedFeatures=features)

        def RegisterStackTransform(self, request: Any) -> Any:
            result.transforms.append("the program registers a stack-wide resource transform")
            return super().RegisterStackTransform(request)  # type: ignore[no-untyped-call]

        def RegisterResource(self, request: Any) -> Any:
            if request.transforms:
                result.transforms.append(
                    f"resource {request.type} {request.name!r} has resource transforms (the "
                    "'transforms' option)"
                )
            if request.type != STACK_TYPE:
                inputs = rpc.deserialize_properties(request.object)
                urn = self.make_urn(request.parent, request.type, request.name)
                reg = Registration(
                    token=request.type,
                    name=request.name,
                    mock_urn=urn,
                    parent=request.parent,
                    provider_ref=request.provider,
                    custom=bool(request.custom),
                    remote=bool(getattr(request, "remote", False)),
                    inputs=_plain(inputs, SdkUnknown),
                    deps={k: list(v.urns) for k, v in request.propertyDependencies.items()},
                    frames=_frames(request.stackTrace),
                )
                result.registrations.append(reg)
                if request.type.startswith(PROVIDER_PREFIX):
                    providers_by_ref[urn] = reg.inputs
            return super().RegisterResource(request)  # type: ignore[no-untyped-call]

    class _Log(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.levelno >= logging.ERROR:
                result.errors.append(record.getMessage())

    logger = logging.getLogger(f"ciiguard.pulumi_program.{id(result)}")
    logger.propagate = False
    logger.setLevel(logging.WARNING)
    logger.addHandler(_Log())
    config, secret_keys = _config_for_sdk(project)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)  # before set_mocks: the root stack's futures live on this loop
    from pulumi import config as sdk_config

    original_require = sdk_config.Config._require

    def _require(self: Any, key: str, secret: bool, *args: Any, **kwargs: Any) -> str:
        """A required string no stack file sets is unknown, as a Terraform variable without a
        value is (typed ones still fail: no stand-in value is safe for a number or a flag)."""
        value = self._get(key, *args, **kwargs)
        if value is None:
            full = str(self.full_key(key))
            if full not in result.missing_config:
                result.missing_config.append(full)
            return MISSING_MARK + full
        return str(value)

    try:
        sdk_config.Config._require = _require  # type: ignore[method-assign]
        set_all_config(config, secret_keys)
        mock_impl = _Mocks()
        mocks.set_mocks(
            mock_impl,
            project=project.name,
            stack=project.stack,
            preview=True,
            logger=logger,
            monitor=_Monitor(mock_impl),
        )
        with _program_environment(program.parent), _probe_applies(project.dir, result):
            loop.run_until_complete(run_pulumi_func(lambda: _run_path(program)))
    except (Exception, SystemExit) as exc:  # noqa: BLE001 - the user's program may raise anything
        where = _innermost_frame(exc, project.dir)
        message = _one_line(exc)
        if type(exc).__name__ == "ConfigMissingError":
            stack = project.stack_display or f"Pulumi.{project.stack}.yaml"
            message = (
                f"configuration {getattr(exc, 'key', '')!r} is required as a number, boolean or "
                f"object but not set in {stack}: ciiguard has no safe stand-in for it (set it "
                "with: pulumi config set ...)"
            )
        message = explain_stand_ins(message)
        if isinstance(exc, ModuleNotFoundError):
            message += (
                " (the program's dependencies must be importable: run ciiguard inside the "
                "project's Python environment)"
            )
        raise InputError(
            ctx.display(where[0]) if where else ctx.display(program),
            where[1] if where else None,
            f"the Pulumi program failed under ciiguard's mocks: {message}",
        ) from None
    finally:
        sdk_config.Config._require = original_require  # type: ignore[method-assign]
        loop.close()
        asyncio.set_event_loop(None)


@contextlib.contextmanager
def _probe_applies(project_dir: Path, result: ProgramRun) -> Iterator[None]:
    """Run the program's ``apply`` callbacks on outputs not known before deployment.

    A preview skips them (the SDK's documented behaviour), so a resource made inside one (a
    bucket named after another's ARN) was never registered: a personal bucket abroad passed with
    exit 0. Here a callback of the program's own code whose output is unknown runs on a stand-in
    value (``OUTPUT_MARK``): what it registers is captured and checked, and what it reads from
    the stand-in is unknown there (CII003 where it decides). Its result is unknown, as the SDK
    would have it. A callback that fails on the stand-in is named in a warning (``unprobed``):
    what it would create is not checked. Callbacks of libraries (the SDK's own, a component
    package's) are left to the SDK; known outputs run exactly as they would."""
    from pulumi import Output
    from pulumi.output import UNKNOWN, contains_unknowns

    original = Output.apply
    numbers = itertools.count(1)

    def apply(self: Any, func: Any, run_with_unknowns: bool = False) -> Any:
        site = _callback_site(func, project_dir)
        if run_with_unknowns or site is None:
            return original(self, func, run_with_unknowns)

        def probe(value: Any) -> Any:
            # with run_with_unknowns the SDK passes UNKNOWN, or a value holding unknowns, exactly
            # when the output is not known (it normalises is_known from the value)
            if value is not UNKNOWN and not contains_unknowns(value):
                return func(value)
            mark = f"{OUTPUT_MARK}-{next(numbers)}"  # each its own: names made of it differ
            _run_on_stand_in(func, _stand_in(value, UNKNOWN, mark), site, result)
            return Output(set(), _settled(None), _settled(False))

        return original(self, probe, True)

    Output.apply = apply  # type: ignore[method-assign]
    try:
        yield
    finally:
        Output.apply = original  # type: ignore[method-assign]


_INSTALLED = frozenset({"site-packages", "dist-packages"})


def _callback_site(func: Any, project_dir: Path) -> tuple[str, int] | None:
    """Where a callback's code is, when it is the program's own (a function, lambda, method or
    ``functools.partial`` of one, defined under the project's directory and not in a package
    installed there: the ``venv`` a Pulumi project keeps beside its code holds the SDK)."""
    for _ in range(8):  # partials of partials, bound methods
        inner = getattr(func, "func", None) or getattr(func, "__func__", None)
        if inner is None:
            break
        func = inner
    code = getattr(func, "__code__", None)
    filename = getattr(code, "co_filename", None)
    if not isinstance(filename, str) or not os.path.isabs(filename):
        return None
    path = Path(filename)
    if not _within(path, project_dir) or _INSTALLED.intersection(path.parts):
        return None  # outside the project, or a package installed in it (its virtualenv)
    return filename, int(getattr(code, "co_firstlineno", 0) or 0)


def _stand_in(value: Any, unknown: object, mark: str) -> Any:
    """``value`` with every unknown in it replaced by the stand-in string ``mark``."""
    if value is unknown or value is None:
        return mark
    if isinstance(value, dict):
        return {k: _stand_in(v, unknown, mark) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_stand_in(v, unknown, mark) for v in value)
    return value


async def _settled(value: Any) -> Any:
    return value


def _run_on_stand_in(func: Any, value: Any, site: tuple[str, int], result: ProgramRun) -> None:
    """Call ``func`` on the stand-in; a failure, now or in the coroutine it returns, is kept for
    a warning, never raised (the SDK would not have run it at all)."""
    import inspect

    from pulumi import Output

    def failed(exc: BaseException) -> None:
        message = _one_line(exc)
        result.unprobed.append((site[0], site[1], message[:300]))

    try:
        returned = func(value)
    except Exception as exc:  # noqa: BLE001 - the program's callback may raise anything
        failed(exc)
        return
    if inspect.isawaitable(returned):

        async def guarded() -> None:
            try:
                await returned
            except Exception as exc:  # noqa: BLE001
                failed(exc)

        Output(set(), guarded(), _settled(False))  # tracked: the SDK waits for it


def _one_line(exc: BaseException) -> str:
    """An exception of the program's as one line: "TypeError: ..."."""
    return " ".join(f"{type(exc).__name__}: {exc}".split()).rstrip(":")


def _run_path(program: Path) -> None:
    runpy.run_path(str(program), run_name="__main__")


def _innermost_frame(exc: BaseException, project_dir: Path) -> tuple[Path, int] | None:
    found: tuple[Path, int] | None = None
    for frame in traceback.extract_tb(exc.__traceback__):
        p = Path(frame.filename)
        if p.is_absolute() and _within(p, project_dir) and frame.lineno:
            found = (p, frame.lineno)
    return found


def _without_resources(value: Any) -> Any:
    """``value`` without resource objects or resource references (as mock state)."""
    from pulumi import Resource

    if isinstance(value, Resource):
        return None
    if isinstance(value, dict):
        if value.get(SIG_KEY) == RESOURCE_REF_SIG:
            return None
        out = {k: _without_resources(v) for k, v in value.items()}
        return {k: v for k, v in out.items() if v is not None or value[k] is None}
    if isinstance(value, list):
        return [_without_resources(v) for v in value]
    return value


def _result_fields(token: str) -> list[Field] | None:
    """The result type of invoke ``token`` as the provider's Python SDK declares it
    (``pulumi_aws.get_availability_zones.GetAvailabilityZonesResult``), or None."""
    parts = token.split(":")
    if len(parts) != 3:
        return None
    package, module, function = parts
    module = module.split("/", 1)[0]
    base = "pulumi_" + package.replace("-", "_")
    path = [base] if module == "index" else [base, module.replace("-", "_").lower()]
    name = snake(function)
    try:
        mod = importlib.import_module(".".join([*path, name]))
    except Exception:  # noqa: BLE001 - no such SDK module: the result's shape is unknown
        return None
    cls = getattr(mod, f"{function[:1].upper()}{function[1:]}Result", None)
    return _fields_of(cls, 0) if isinstance(cls, type) else None


def _fields_of(cls: type, depth: int) -> list[Field]:
    out: list[Field] = []
    for attr in vars(cls).values():
        getter = attr.fget if isinstance(attr, property) else None
        pulumi_name = getattr(getter, "_pulumi_name", None)
        if getter is None or not isinstance(pulumi_name, str):
            continue
        try:
            hint = typing.get_type_hints(getter).get("return", Any)
        except Exception:  # noqa: BLE001 - an annotation that does not resolve: any value
            hint = Any
        out.append(_field_of(pulumi_name, hint, depth))
    return out


def _field_of(name: str, hint: Any, depth: int) -> Field:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is typing.Union:
        rest = [a for a in args if a is not type(None)]
        if len(rest) != 1:
            return Field(name, "any", optional=True)
        inner = _field_of(name, rest[0], depth)
        return Field(inner.name, inner.kind, inner.item, inner.fields, optional=True)
    if hint is str:
        return Field(name, "string")
    if hint is bool:
        return Field(name, "boolean")
    if hint is int:
        return Field(name, "integer")
    if hint is float:
        return Field(name, "number")
    if origin in (list, tuple, collections.abc.Sequence) and args:
        return Field(name, "list", _field_of("", args[0], depth + 1))
    if origin in (dict, collections.abc.Mapping):
        return Field(name, "map")
    if (
        isinstance(hint, type)
        and depth < MAX_DEPTH
        and any(hasattr(getattr(v, "fget", None), "_pulumi_name") for v in vars(hint).values())
    ):
        return Field(name, "object", fields=tuple(_fields_of(hint, depth + 1)))
    return Field(name, "any")


class PulumiProgramParser:
    """Parser for Pulumi projects written in a general-purpose language (Python is evaluated)."""

    name = "pulumi-program"

    def claims(self, path: Path) -> bool:
        return is_project_file(path) and project_runtime(path) not in (None, "yaml")

    def parse(self, files: list[Path], ctx: ParseContext) -> ParseOutput:
        out = ParseOutput()
        for f in files:
            try:
                project = load_project(
                    f, ctx.display, ctx.settings.pulumi_stack, ctx.settings.max_file_size
                )
                record_reads(project, ctx)
                for w in project.warnings:
                    out.warnings.append(ScanIssue(project.display, None, w))
                if project.runtime == "nodejs" and ctx.settings.run_programs:
                    run = run_node_program(project, ctx)
                    _Collector(project, run, ctx, project.path).collect(out)
                    continue
                if project.runtime not in ("python", "nodejs"):
                    raise InputError(
                        project.display,
                        project.runtime_line,
                        f"Pulumi {project.runtime} programs are not evaluated by ciiguard; scan "
                        "the output of 'pulumi preview --json' (or 'pulumi stack export'), or "
                        "enforce the policies with the CrossGuard pack",
                    )
                if not ctx.settings.run_programs:
                    raise InputError(
                        project.display, project.runtime_line, _not_run_message(project)
                    )
                run = run_program(project, ctx)
                _Collector(project, run, ctx, _program_file(project)).collect(out)
            except InputError as exc:
                out.errors.append(ScanIssue(exc.file, exc.line, exc.message))
        out.warnings.extend(unknown_packages(out.resources, "a Pulumi program"))
        return out
