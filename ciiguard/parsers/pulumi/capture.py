"""What a Pulumi program run under the mocks registered, in any language, and how it becomes
resources: shared by the Python runner (in-process) and the Node.js runner (a harness process).

Enters: registrations and invokes as the mock monitor saw them, the project and its stack config.
Leaves: ``Resource``s, gaps and warnings in a ``ParseOutput``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ciiguard.model import ParseOutput, ScanIssue, Unknown
from ciiguard.parsers.base import ParseContext
from ciiguard.parsers.pulumi.common import (
    OUTPUT_VALUE_SIG,
    PROVIDER_PREFIX,
    RESOURCE_REF_SIG,
    SECRET_SIG,
    SIG_KEY,
    STACK_TYPE,
    Project,
    ProviderInfo,
    build_resource,
    component_gap,
    default_provider,
    provider_from_inputs,
    provider_ref_urn,
    pulumi_catalogue,
)
from ciiguard.parsers.pulumi.invoke import unknown_from_mark

# Strings that stand in for config values ciiguard cannot know while the program runs: a secret
# (secure:) it never decrypts, and a key the program requires that no stack file sets. Wherever one
# reaches a captured input (whole or inside a longer string) the input is unknown.
GENERIC_UNKNOWN = "known only after deployment"
SECRET_MARK = "ciiguard:secret-config:"
MISSING_MARK = "ciiguard:missing-config:"
# The stand-in for an output not known before deployment, given to a program's ``apply``
# callback that the SDK would skip in a preview (``program._probe_applies``).
OUTPUT_MARK = "ciiguard:unknown-output"
_MARK = re.compile(r"ciiguard:(secret|missing)-config:([^\s\"'/,;]+)")


def explain_stand_ins(message: str) -> str:
    """A program's error message with the stand-in of configuration that is not set named as
    such: a program that used it as a path failed with "No such file or directory:
    'ciiguard:missing-config:site:pathToWebsiteContents'" and no word of the key (twelfth
    audit). Pulumi itself stops on a missing required key; this says which and how to set it."""
    keys = sorted({m.group(2) for m in _MARK.finditer(message) if m.group(1) == "missing"})
    if keys:
        names = ", ".join(repr(k.split(":", 1)[-1]) for k in keys)
        return (
            f"{message} (the program used configuration {names}, which is not set: ciiguard "
            "gave it a stand-in value; set it with: pulumi config set ...)"
        )
    invokes = sorted({m.group(1) for m in _INVOKE.finditer(message)})
    if invokes or _CUT_MARK.search(message):
        what = f": {', '.join(invokes)}" if invokes else ""
        return (
            f"{message} (the program parsed or checked the result of a provider function (an "
            f"invoke{what}), which ciiguard answers with a stand-in before deployment; scan the "
            "stack's 'pulumi preview --json' instead)"
        )
    return message


# An invoke result's stand-in (``ciiguard:invoke-result:<token>#<field>``), whole or as an error
# message quotes it, cut short (Node: ``"ciiguard:i"... is not valid JSON``).
_INVOKE = re.compile(r"ciiguard:invoke-result:([^\s\"'#]+)")
_CUT_MARK = re.compile(r"[\"']ciiguard:[a-z-]*[\"']?\.\.\.")


@dataclass
class Registration:
    """One resource the program registered, as the mock monitor saw it."""

    token: str
    name: str
    mock_urn: str
    parent: str
    provider_ref: str
    custom: bool
    remote: bool  # a component implemented in another language (multi-language package)
    inputs: dict[str, Any]
    deps: dict[str, list[str]]
    frames: list[tuple[str, int]]  # (path, line), innermost first


@dataclass
class ProgramRun:
    registrations: list[Registration] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    missing_config: list[str] = field(default_factory=list)  # required keys no file sets
    stand_ins: list[str] = field(default_factory=list)  # invoke results answered with 1/false
    unshaped: list[str] = field(default_factory=list)  # invokes whose result type is not known
    # resource transforms the program registered (stack-wide, or a resource's ``transforms``),
    # which the mocks do not apply: what they change is not what ciiguard checks
    transforms: list[str] = field(default_factory=list)
    # callbacks on outputs not known before deployment that failed on their stand-in value:
    # (file, line, error); what they create at deployment is not checked
    unprobed: list[tuple[str, int, str]] = field(default_factory=list)


def _config_for_sdk(project: Project) -> tuple[dict[str, str], list[str]]:
    """Stack config as the SDK receives it (``PULUMI_CONFIG``): strings, objects JSON-encoded."""
    config: dict[str, str] = {}
    secrets: list[str] = []
    for key, entry in project.config.items():
        value = entry.value
        if isinstance(value, Unknown):
            config[key] = SECRET_MARK + key
            secrets.append(key)
        elif isinstance(value, str):
            config[key] = value
        elif isinstance(value, bool):
            config[key] = "true" if value else "false"
        elif value is None:
            continue
        else:
            config[key] = json.dumps(value)
    return config, secrets


def _within(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root.resolve())
    except ValueError:
        return False
    return True


def _plain(value: Any, sdk_unknown: type) -> Any:
    """SDK values -> plain values; the SDK's unknowns become ``Unknown`` (refs added later)."""
    if isinstance(value, sdk_unknown):
        return Unknown(GENERIC_UNKNOWN)
    if isinstance(value, dict) and SIG_KEY in value:
        # the RPC layer keeps secrets wrapped ({sig: secret, value: ...}): a secret tag must
        # still classify, so the value is unwrapped; anything else signed is not a plain value
        sig = value.get(SIG_KEY)
        if sig == SECRET_SIG and "value" in value:
            return _plain(value["value"], sdk_unknown)
        if sig == OUTPUT_VALUE_SIG and "value" in value:
            return _plain(value["value"], sdk_unknown)
        if sig == RESOURCE_REF_SIG:
            return Unknown(f"refers to the resource {value.get('urn')}")
        return Unknown("an asset, archive or output known only after deployment")
    if isinstance(value, dict):
        return {str(k): _plain(v, sdk_unknown) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v, sdk_unknown) for v in value]
    if isinstance(value, str) and "ciiguard:" in value:
        found = _MARK.search(value)
        if found is not None:
            what = "an encrypted secret" if found.group(1) == "secret" else "not set"
            return Unknown(f"config {found.group(2)} is {what}")
        from_invoke = unknown_from_mark(value)
        if from_invoke is not None:
            return from_invoke
        if OUTPUT_MARK in value:
            return Unknown(
                "made from an output not known before deployment (ciiguard ran the callback "
                "that makes it on a stand-in value)"
            )
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return Unknown(f"a {type(value).__name__} value (resource reference or asset)")


def _with_refs(value: Any, refs: frozenset[str], what: str) -> Any:
    if isinstance(value, Unknown):
        if value.reason.startswith("config "):
            return Unknown(f"{what} comes from {value.reason}", refs)
        if value.reason != GENERIC_UNKNOWN:  # an invoke's stand-in, a resource reference
            return Unknown(f"{what}: {value.reason}", refs)
        return Unknown(f"{what} is known only after deployment", refs)
    if isinstance(value, dict):
        return {k: _with_refs(v, refs, f"{what}.{k}") for k, v in value.items()}
    if isinstance(value, list):
        return [_with_refs(v, refs, f"{what}[{i}]") for i, v in enumerate(value)]
    return value


def _region_for_call(
    token: str,
    provider_ref: str,
    providers: Mapping[str, dict[str, Any]],
    project: Project,
    ctx: ParseContext,
) -> Any:
    """The region of the provider an invoke goes to: its explicit provider's, else the default
    provider's (stack config, then the cloud's environment variables)."""
    package = token.split(":", 1)[0]
    pkg = pulumi_catalogue().packages.get(package)
    if provider_ref:
        inputs = providers.get(provider_ref_urn(provider_ref))
        return inputs.get(pkg.region_input if pkg else "region") if inputs is not None else None
    info = default_provider(package, project)
    if info.region is not None:
        return info.region
    facts = ctx.catalogue.facts(package)
    for var in facts.environment if facts is not None else ():
        if ctx.settings.environment.get(var):
            return ctx.settings.environment[var]
    return None


def _real_urn(mock_urn: str) -> str:
    """The mock monitor prefixes every type with the root stack's; the engine does not."""
    prefix = f"{STACK_TYPE}$"
    parts = mock_urn.split("::")
    if len(parts) >= 4 and parts[2].startswith(prefix):
        parts[2] = parts[2][len(prefix) :]
    return "::".join(parts)


class _Collector:
    """Turns a program run into resources: providers first, then everything they configure."""

    def __init__(self, project: Project, run: ProgramRun, ctx: ParseContext, program: Path) -> None:
        self.project = project
        self.program = program  # where a resource made outside the project's code is reported
        self.run = run
        self.ctx = ctx
        self.program_dir = project.main if project.main.is_dir() else project.main.parent
        self.providers: dict[str, ProviderInfo] = {}

    def where(self, reg: Registration) -> tuple[str, int | None]:
        for path, line in reg.frames:
            p = Path(path)
            if _within(p, self.project.dir):
                return self.ctx.display(p), line or None
        return self.ctx.display(self.program), None

    def props(self, reg: Registration) -> dict[str, Any]:
        real = {k: frozenset(_real_urn(u) for u in v) for k, v in reg.deps.items()}
        return {
            k: _with_refs(v, real.get(k, frozenset()), f"{reg.name}.{k}")
            for k, v in reg.inputs.items()
        }

    def collect(self, out: ParseOutput) -> None:
        for reg in self.run.registrations:
            if reg.token.startswith(PROVIDER_PREFIX):
                file, line = self.where(reg)
                package = reg.token[len(PROVIDER_PREFIX) :]
                self.providers[reg.mock_urn] = provider_from_inputs(
                    package, reg.name, _real_urn(reg.mock_urn), self.props(reg), file, line
                )
        pc = pulumi_catalogue()
        for reg in self.run.registrations:
            if reg.remote and not reg.custom:
                file, line = self.where(reg)
                out.gaps.append(
                    component_gap(
                        reg.token,
                        _real_urn(reg.mock_urn),
                        file,
                        line,
                        "is implemented in another language and creates no children under "
                        "Pulumi's mocks",
                    )
                )
                continue
            if reg.token.startswith(("pulumi:", PROVIDER_PREFIX)) or not reg.custom:
                continue
            package = pc.package_of(reg.token)
            provider = (
                self.providers.get(provider_ref_urn(reg.provider_ref)) if reg.provider_ref else None
            )
            if provider is None:
                provider = default_provider(package, self.project)
            file, line = self.where(reg)
            out.resources.append(
                build_resource(
                    catalogue=self.ctx.catalogue,
                    urn=_real_urn(reg.mock_urn),
                    token=reg.token,
                    name=reg.name,
                    props=self.props(reg),
                    provider=provider,
                    environment=self.ctx.settings.environment,
                    input="pulumi-program",
                    file=file,
                    line=line,
                    extra_meta={
                        "pulumi_stack": self.project.stack,
                        "pulumi_project": self.project.name,
                    },
                    root=self.project.display,
                )
            )
        if self.run.stand_ins:
            out.warnings.append(
                ScanIssue(
                    self.project.display,
                    None,
                    "invoke results with no safe stand-in were answered 1 or false under the "
                    f"mocks: {', '.join(sorted(set(self.run.stand_ins))[:10])}; resources the "
                    "program makes from them may differ from a real deployment",
                )
            )
        for token in sorted(set(self.run.unshaped)):
            out.warnings.append(
                ScanIssue(
                    self.project.display,
                    None,
                    f"invoke {token}: its result type is not in the installed SDK, so it "
                    "returned no fields under the mocks",
                )
            )
        stack = self.project.stack_display or f"Pulumi.{self.project.stack}.yaml"
        for key in self.run.missing_config:
            out.warnings.append(
                ScanIssue(
                    self.project.display,
                    None,
                    f"configuration {key!r} is required by the program but not set in {stack}: "
                    f"its value is unknown (set it with: pulumi config set {key} ...); where it "
                    "decides a verdict the finding is CII003",
                )
            )
        for file, line, error in self.run.unprobed:
            out.warnings.append(
                ScanIssue(
                    self.ctx.display(file),
                    line,
                    "a callback on an output not known before deployment (an apply, which a "
                    "preview skips) failed on ciiguard's stand-in value "
                    f"({error}): resources it creates at deployment are not checked; scan the "
                    "stack's state export once it is deployed",
                )
            )
        for what in self.run.transforms:
            out.errors.append(
                ScanIssue(
                    self.project.display,
                    None,
                    f"{what}, which ciiguard's mocks do not apply: what it changes (a region, "
                    "tags, a provider) is not what was checked; scan the stack's 'pulumi preview "
                    "--json' instead",
                )
            )
        for message in self.run.errors:
            out.errors.append(
                ScanIssue(
                    self.project.display, None, f"the Pulumi program logged an error: {message}"
                )
            )
