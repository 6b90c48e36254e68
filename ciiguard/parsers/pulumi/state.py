"""``pulumi preview --json`` output and ``pulumi stack export`` files, recognised by content.

Resources come from ``steps[].newState`` (preview) or ``deployment.resources`` (export; also the
``checkpoint.latest`` of a self-managed backend's stack file). A resource's ``provider`` is
``"<provider URN>::<provider id>"``: it resolves to the provider resource in the same file and
its region (default providers ``default_X_Y_Z`` included). Values Pulumi cannot know before
deployment arrive as its unknown sentinels and become ``Unknown`` naming the resources they depend
on (``propertyDependencies``).
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ciiguard.errors import InputError
from ciiguard.model import Hop, ParseOutput, ScanIssue
from ciiguard.parsers.base import ParseContext
from ciiguard.parsers.pulumi.common import (
    PROVIDER_PREFIX,
    ProviderInfo,
    build_resource,
    component_gap,
    decode_wire,
    provider_from_inputs,
    provider_ref_urn,
    pulumi_catalogue,
    refs_by_property,
    render,
    unknown_packages,
    urn_parts,
)
from ciiguard.parsers.surrogates import may_hold_surrogates, scrub

PEEK_BYTES = 64 * 1024
MAX_BYTES = 2 * 1024 * 1024 * 1024
_URN_MARK = re.compile(r'"urn"\s*:\s*"urn:pulumi:')
_SHAPE_MARK = re.compile(r'"(steps|deployment|checkpoint)"\s*:')
# Preview steps that leave the resource deployed after the update (deletes, reads and discards
# do not deploy anything).
DEPLOYING_OPS = frozenset(
    {
        "same",
        "create",
        "update",
        "replace",
        "create-replacement",
        "import",
        "import-replacement",
        "refresh",
    }
)


def _decode(data: bytes) -> str:
    for bom, enc in (
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
    ):
        if data.startswith(bom):
            return data[len(bom) :].decode(enc)
    return data.decode("utf-8")


def looks_like_pulumi(head: bytes) -> bool:
    """Whether the first bytes are a Pulumi preview digest or a stack export / checkpoint."""
    try:
        text = _decode(head)
    except UnicodeDecodeError:
        # The peek may cut a multi-byte character; decode leniently for the sniff only.
        text = head.decode("utf-8", errors="ignore")
    stripped = text.lstrip("\ufeff \t\r\n")
    if not stripped.startswith("{"):
        return False
    return bool(_URN_MARK.search(text)) and bool(_SHAPE_MARK.search(text))


@dataclass
class _Entry:
    urn: str
    token: str
    state: Mapping[str, Any]
    line: int | None


class _Document:
    """One preview or export file: its resources (by URN) and what it says about config."""

    def __init__(self, path: Path, ctx: ParseContext, out: ParseOutput) -> None:
        self.ctx = ctx
        self.out = out
        self.file = ctx.display(path)
        from ciiguard.parsers.reading import read_bytes

        limit = ctx.settings.max_file_size
        data = read_bytes(path, self.file, MAX_BYTES if limit is None else limit)
        try:
            self.text = _decode(data)
        except UnicodeDecodeError:
            raise InputError(self.file, None, "not UTF-8 or UTF-16 text") from None
        try:
            self.doc = json.loads(self.text)
        except json.JSONDecodeError as exc:
            raise InputError(self.file, exc.lineno, f"JSON syntax error: {exc.msg}") from None
        except ValueError as exc:  # e.g. an integer with more digits than Python converts
            raise InputError(self.file, None, f"JSON value out of range: {exc}") from None
        except RecursionError:
            raise InputError(self.file, None, "JSON nested too deeply") from None
        if may_hold_surrogates(self.text):
            scrub(self.doc)
        if not isinstance(self.doc, dict):
            raise InputError(self.file, 1, "expected a JSON object")
        self.config: dict[str, Any] = {}
        self.input = "pulumi-state"
        self.entries = self._entries()

    def _line_of(self, urn: str) -> int | None:
        i = self.text.find(json.dumps(urn))
        return self.text.count("\n", 0, i) + 1 if i >= 0 else None

    def _entries(self) -> dict[str, _Entry]:
        doc = self.doc
        states: list[Mapping[str, Any]] = []
        if isinstance(doc.get("steps"), list):
            self.input = "pulumi-preview"
            cfg = doc.get("config")
            if isinstance(cfg, dict):
                self.config = cfg
            for step in doc["steps"]:
                if not isinstance(step, dict):
                    raise InputError(self.file, None, "steps[] must be objects")
                op = step.get("op")
                new = step.get("newState")
                if op not in DEPLOYING_OPS or not isinstance(new, dict):
                    continue
                merged = dict(new)
                merged.setdefault("urn", step.get("urn"))
                if "provider" not in merged and isinstance(step.get("provider"), str):
                    merged["provider"] = step["provider"]
                states.append(merged)
        else:
            deployment = doc.get("deployment")
            if deployment is None and isinstance(doc.get("checkpoint"), dict):
                deployment = doc["checkpoint"].get("latest")
            if not isinstance(deployment, dict):
                raise InputError(
                    self.file, 1, "neither a preview (steps) nor a stack export (deployment)"
                )
            resources = deployment.get("resources") or []
            if not isinstance(resources, list):
                raise InputError(self.file, None, "deployment.resources must be a list")
            for res in resources:
                if not isinstance(res, dict):
                    raise InputError(self.file, None, "deployment.resources[] must be objects")
                if res.get("delete") or res.get("external"):
                    continue  # pending deletion, or read rather than managed
                states.append(res)
        entries: dict[str, _Entry] = {}
        for state in states:
            urn = state.get("urn")
            if not isinstance(urn, str) or not urn.startswith("urn:pulumi:"):
                raise InputError(self.file, None, f"a resource has no valid urn ({urn!r})")
            token = state.get("type")
            if not isinstance(token, str):
                token = urn_parts(urn)[0].split("$")[-1]
            entries.setdefault(urn, _Entry(urn, token, state, self._line_of(urn)))
        return entries

    def _props(self, entry: _Entry) -> dict[str, Any]:
        state = entry.state
        raw: Any = state.get("inputs")
        if not isinstance(raw, dict) or not raw:
            outputs = state.get("outputs")
            raw = outputs if isinstance(outputs, dict) else {}
        deps = refs_by_property(state.get("propertyDependencies"))
        name = urn_parts(entry.urn)[1]
        return {k: decode_wire(v, deps.get(k, frozenset()), f"{name}.{k}") for k, v in raw.items()}

    def provider(self, ref: Any, package: str, owner: str) -> ProviderInfo:
        if not isinstance(ref, str) or not ref:
            return self._config_provider(package, f"{owner} names no provider")
        urn = provider_ref_urn(ref)
        entry = self.entries.get(urn)
        name = urn_parts(urn)[1]
        if entry is not None:
            return provider_from_inputs(
                package,
                name,
                urn,
                self._props(entry),
                self.file,
                entry.line,
                explicit=not name.startswith("default"),
            )
        if name.startswith("default"):
            return self._config_provider(package, f"default provider {name} is not in the file")
        return ProviderInfo(
            package,
            name,
            urn,
            None,
            (Hop(f"provider {name} (not in {self.file})"),),
            note=f"provider {urn} is not in {self.file}",
        )

    def _config_provider(self, package: str, why: str) -> ProviderInfo:
        pkg = pulumi_catalogue().packages.get(package)
        key = f"{package}:{pkg.region_input if pkg else 'region'}"
        value = self.config.get(key)
        base = Hop(f"default provider {package}")
        if isinstance(value, str) and value and value != "[secret]":
            return ProviderInfo(
                package,
                package,
                None,
                value,
                (base, Hop(f"preview config {key}", self.file, None, render(value))),
                explicit=False,
            )
        return ProviderInfo(
            package, package, None, None, (base,), explicit=False, note=f"{why}; {key} unknown"
        )

    def run(self) -> None:
        pc = pulumi_catalogue()
        parents = {e.state.get("parent") for e in self.entries.values()}
        for entry in self.entries.values():
            token = entry.token
            if token.startswith("pulumi:") or token.startswith(PROVIDER_PREFIX):
                continue
            if entry.state.get("custom") is False:
                # a component holds nothing itself; its children are listed. One of a component
                # package listed without children was not expanded: its resources are not here
                if pc.package_of(token) in pc.component_packages and entry.urn not in parents:
                    self.out.gaps.append(
                        component_gap(
                            token,
                            entry.urn,
                            self.file,
                            entry.line,
                            f"has no children in {self.file}",
                        )
                    )
                continue
            package = pc.package_of(token)
            name = urn_parts(entry.urn)[1]
            provider = self.provider(entry.state.get("provider"), package, name)
            stack_project = entry.urn.split("::")[:2]
            self.out.resources.append(
                build_resource(
                    catalogue=self.ctx.catalogue,
                    urn=entry.urn,
                    token=token,
                    name=name,
                    props=self._props(entry),
                    provider=provider,
                    environment=self.ctx.settings.environment,
                    input=self.input,
                    file=self.file,
                    line=entry.line,
                    extra_meta={
                        "pulumi_stack": stack_project[0].removeprefix("urn:pulumi:"),
                        "pulumi_project": stack_project[1] if len(stack_project) > 1 else "",
                    },
                    root=self.file,
                )
            )


class PulumiJsonParser:
    """Parser for ``pulumi preview --json`` and ``pulumi stack export`` output."""

    name = "pulumi-json"

    def claims(self, path: Path) -> bool:
        if path.suffix.lower() != ".json" or path.name.lower().endswith(".tf.json"):
            return False
        try:
            with path.open("rb") as fh:
                head = fh.read(PEEK_BYTES)
        except OSError:
            return False
        return looks_like_pulumi(head)

    def parse(self, files: list[Path], ctx: ParseContext) -> ParseOutput:
        out = ParseOutput()
        for f in files:
            try:
                _Document(f, ctx, out).run()
            except InputError as exc:
                out.errors.append(ScanIssue(exc.file, exc.line, exc.message))
            except RecursionError:
                out.errors.append(ScanIssue(ctx.display(f), None, "nested too deeply"))
        out.warnings.extend(unknown_packages(out.resources, "a Pulumi preview or state"))
        return out
