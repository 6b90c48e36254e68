"""Pulumi YAML programs (``runtime: yaml``): resources, providers, variables, interpolation, config.

The program is evaluated the way ``pulumi preview`` would run it, without providers: ``${...}``
interpolations resolve against project and stack config (``Pulumi.<stack>.yaml``), ``variables``
and the inputs of other resources; outputs only known after deployment become ``Unknown`` that
still name the resource they come from (so a replication destination resolves to its bucket).
Short type tokens are normalised (``aws:s3:BucketV2`` -> ``aws:s3/bucketV2:BucketV2``).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ciiguard.errors import InputError
from ciiguard.model import Hop, ParseOutput, ScanIssue, Unknown
from ciiguard.parsers.base import ParseContext
from ciiguard.parsers.comments import CommentWindow
from ciiguard.parsers.pulumi.common import (
    PROVIDER_PREFIX,
    LineList,
    LineMap,
    Project,
    ProviderInfo,
    build_resource,
    component_gap,
    default_provider,
    is_project_file,
    load_project,
    project_runtime,
    provider_from_inputs,
    pulumi_catalogue,
    read_yaml_file,
    record_reads,
    render,
    unknown_packages,
    urn_of,
)

TEMPLATE_FILES = ("Main.json", "Main.yaml", "Pulumi.yaml")
_NAME_END = re.compile(r"[.\[]")
GET_REGION = {"aws:getRegion", "aws:index:getRegion", "aws:index/getRegion:getRegion"}


@dataclass(frozen=True)
class _Ref:
    """A bare ``${resource}``: a resource option value, or the resource's id as a property."""

    key: str
    urn: str


@dataclass
class _Decl:
    key: str
    body: LineMap
    line: int | None
    token: str
    name: str
    props: dict[str, Any] | None = None
    prop_hops: dict[str, tuple[Hop, ...]] = field(default_factory=dict)
    prop_lines: dict[str, int] = field(default_factory=dict)
    busy: bool = False

    @property
    def is_provider(self) -> bool:
        return self.token.startswith(PROVIDER_PREFIX)

    @property
    def options(self) -> LineMap:
        opts = _field(self.body, "options")
        return opts if isinstance(opts, LineMap) else LineMap()


_NAMESPACED = re.compile(r"[A-Za-z][\w.-]*:[A-Za-z_][\w.-]*")


def _field(body: LineMap, name: str) -> Any:
    """Pulumi YAML field names are matched case-insensitively."""
    if name in body:
        return body[name]
    lowered = name.lower()
    for k, v in body.items():
        if k.lower() == lowered:
            return v
    return None


def _field_line(body: LineMap, name: str) -> int | None:
    for k in body:
        if k.lower() == name.lower():
            return body.lines.get(k, body.line)
    return body.line


def parse_access(text: str, file: str, line: int | None) -> tuple[str, list[str | int]]:
    """``bucket.replicas[0]["region"]`` -> ("bucket", ["replicas", 0, "region"])."""
    text = text.strip()
    m = _NAME_END.search(text)
    root = text[: m.start()] if m else text
    rest = text[len(root) :]
    if not root:
        raise InputError(file, line, f"invalid property access ${{{text}}}")
    accessors: list[str | int] = []
    while rest:
        if rest.startswith("."):
            m = _NAME_END.search(rest, 1)
            end = m.start() if m else len(rest)
            name = rest[1:end]
            if not name:
                raise InputError(file, line, f"invalid property access ${{{text}}}")
            accessors.append(name)
            rest = rest[end:]
        elif rest.startswith("["):
            end = rest.find("]")
            if end < 0:
                raise InputError(file, line, f"unterminated [ in ${{{text}}}")
            inner = rest[1:end].strip()
            if inner.startswith(('"', "'")) and inner.endswith(inner[0]) and len(inner) >= 2:
                accessors.append(inner[1:-1])
            elif inner.lstrip("-").isdigit():
                accessors.append(int(inner))
            else:
                raise InputError(file, line, f"invalid index [{inner}] in ${{{text}}}")
            rest = rest[end + 1 :]
        else:
            raise InputError(file, line, f"invalid property access ${{{text}}}")
    return root, accessors


def split_interpolation(
    text: str, file: str, line: int | None
) -> list[str | tuple[str, list[str | int]]]:
    """Literal text and ``${...}`` accesses, in order; ``$${`` is a literal ``${``."""
    parts: list[str | tuple[str, list[str | int]]] = []
    buf: list[str] = []
    i = 0
    while i < len(text):
        if text.startswith("$${", i):
            buf.append("${")
            i += 3
        elif text.startswith("${", i):
            end = text.find("}", i + 2)
            if end < 0:
                raise InputError(file, line, f"unterminated ${{ in {text!r}")
            if buf:
                parts.append("".join(buf))
                buf = []
            parts.append(parse_access(text[i + 2 : end], file, line))
            i = end + 1
        else:
            buf.append(text[i])
            i += 1
    if buf:
        parts.append("".join(buf))
    return parts


def _section(doc: LineMap, name: str, file: str) -> tuple[Any, int | None]:
    """A top-level section and its line. Pulumi YAML matches these names case-insensitively too
    (``Resources:``, with a warning); two spellings of one section are refused, since which of
    them Pulumi reads is not for a scan to guess."""
    found = [k for k in doc if k.lower() == name]
    if len(found) > 1:
        raise InputError(
            file, doc.lines.get(found[1]), f"'{found[0]}' and '{found[1]}' are one section"
        )
    return (doc[found[0]], doc.lines.get(found[0])) if found else (None, None)


class _Program:
    """One YAML program: its template, the stack config that applies, its resources."""

    def __init__(self, project: Project, template_path: Path, ctx: ParseContext) -> None:
        self.project = project
        self.ctx = ctx
        self.file = ctx.display(template_path)
        doc = (
            project.doc
            if template_path == project.path
            else read_yaml_file(template_path, self.file, ctx.settings.max_file_size)
        )
        if not isinstance(doc, LineMap):
            raise InputError(self.file, None, "a Pulumi YAML program must be a mapping")
        self.doc = doc
        self.comments = CommentWindow(_yaml_comments(template_path))
        self.pc = pulumi_catalogue()
        self.warnings: dict[str, ScanIssue] = {}  # one per config key left unknown
        self.declared: dict[str, Any] = {}  # config keys the template declares -> default
        for section in ("config", "configuration"):
            sec, at = _section(doc, section, self.file)
            if sec is None:
                continue
            if not isinstance(sec, LineMap):
                raise InputError(self.file, at, f"'{section}' must be a mapping")
            for key, spec in sec.items():
                self.declared[key] = spec
        variables, at = _section(doc, "variables", self.file)
        if variables is not None and not isinstance(variables, LineMap):
            raise InputError(self.file, at, "'variables' must be a mapping")
        self.variables: LineMap = variables or LineMap()
        self._var_values: dict[str, tuple[Any, tuple[Hop, ...]]] = {}
        self._var_busy: set[str] = set()
        resources, at = _section(doc, "resources", self.file)
        if resources is not None and not isinstance(resources, LineMap):
            raise InputError(self.file, at, "'resources' must be a mapping")
        self.decls: dict[str, _Decl] = {}
        for key, body in (resources or LineMap()).items():
            line = resources.lines.get(key) if resources is not None else None
            if not isinstance(body, LineMap):
                raise InputError(self.file, line, f"resource {key!r} must be a mapping")
            token = _field(body, "type")
            if not isinstance(token, str) or not token:
                raise InputError(self.file, line, f"resource {key!r} has no 'type'")
            name = _field(body, "name")
            self.decls[key] = _Decl(
                key,
                body,
                line,
                self.pc.canonical_token(token),
                name if isinstance(name, str) and name else key,
            )
        self._urns: dict[str, str] = {}
        self._qualified: dict[str, str] = {}
        # package -> its declared ``defaultProvider: true`` provider (None: the stack's default)
        self._default_decl: dict[str, _Decl | None] = {}

    # -- names ----------------------------------------------------------------------------------
    def qualified_type(self, key: str, seen: frozenset[str] = frozenset()) -> str:
        if key in self._qualified:
            return self._qualified[key]
        decl = self.decls[key]
        parent = self._option_ref(decl, "parent", seen | {key})
        qualified = decl.token
        if parent is not None and parent.key not in seen:
            qualified = f"{self.qualified_type(parent.key, seen | {key})}${decl.token}"
        self._qualified[key] = qualified
        return qualified

    def urn(self, key: str) -> str:
        if key not in self._urns:
            decl = self.decls[key]
            qualified = self.qualified_type(key)
            parent_type, _, token = qualified.rpartition("$")
            self._urns[key] = urn_of(
                self.project.stack, self.project.name, token, decl.name, parent_type or None
            )
        return self._urns[key]

    # -- expressions ----------------------------------------------------------------------------
    def value(self, node: Any, line: int | None, trace: list[Hop]) -> Any:
        if isinstance(node, LineMap):
            fn = [k for k in node if k.lower().startswith("fn::")]
            if fn and len(node) == 1:
                return self.builtin(fn[0], node[fn[0]], node.lines.get(fn[0], line), trace)
            out = LineMap()
            out.line = node.line
            for k, v in node.items():
                out[k] = self.value(v, node.lines.get(k, line), trace)
                out.lines[k] = node.lines.get(k, line or 0)
            return out
        if isinstance(node, LineList):
            lst = LineList(
                self.value(v, node.lines[i] if i < len(node.lines) else line, trace)
                for i, v in enumerate(node)
            )
            lst.line, lst.lines = node.line, list(node.lines)
            return lst
        if isinstance(node, str):
            return self.interpolate(node, line, trace)
        return node

    def interpolate(self, text: str, line: int | None, trace: list[Hop]) -> Any:
        if "${" not in text:
            return text
        parts = split_interpolation(text, self.file, line)
        if len(parts) == 1 and isinstance(parts[0], tuple):
            root, accessors = parts[0]
            return self.access(root, accessors, line, trace)
        out: list[str] = []
        unknown: list[Unknown] = []
        for part in parts:
            if isinstance(part, str):
                out.append(part)
                continue
            v = self.access(part[0], part[1], line, trace)
            if isinstance(v, _Ref):
                v = Unknown(f"the id of {v.key} is known only after deployment", frozenset({v.urn}))
            if isinstance(v, Unknown):
                unknown.append(v)
            elif isinstance(v, (dict, list)):
                raise InputError(
                    self.file, line, f"cannot interpolate an object or list into {text!r}"
                )
            else:
                out.append(_to_text(v))
        if unknown:
            refs = frozenset().union(*(u.refs for u in unknown))
            return Unknown(unknown[0].reason, refs)
        return "".join(out)

    def access(
        self, root: str, accessors: list[str | int], line: int | None, trace: list[Hop]
    ) -> Any:
        if root == "pulumi":
            base: Any = {
                "stack": self.project.stack,
                "project": self.project.name,
                "cwd": str(self.project.dir),
                "organization": Unknown("pulumi.organization is the backend's organization"),
            }
            return self.select(base, accessors, "pulumi", line)
        if (
            root in self.declared
            or self.project.config_entry(root) is not None
            or _NAMESPACED.fullmatch(root)  # a provider's config (gcp:region): set or not
        ):
            return self.select(self.config_value(root, line, trace), accessors, root, line)
        if root in self.variables:
            value, hops = self.variable(root, line)
            trace.extend(hops)
            return self.select(value, accessors, root, line)
        if root in self.decls:
            return self.resource_access(root, accessors, line, trace)
        raise InputError(self.file, line, f"unknown config, variable or resource {root!r}")

    def select(
        self,
        value: Any,
        accessors: list[str | int],
        what: str,
        line: int | None,
        outputs: frozenset[str] | None = None,
    ) -> Any:
        """``value`` followed along ``accessors``. Under a resource (``outputs``: its URN), a
        property or element its inputs do not hold is an output the provider computes (a
        subnet's id, an endpoint): unknown, naming the resource, never an error."""
        for acc in accessors:
            if isinstance(value, Unknown):
                return value
            if isinstance(value, _Ref):
                return Unknown(
                    f"{what} is an output known only after deployment", frozenset({value.urn})
                )
            if outputs is not None and (
                (
                    isinstance(acc, int)
                    and not (isinstance(value, list) and -len(value) <= acc < len(value))
                )
                or (isinstance(acc, str) and not (isinstance(value, dict) and acc in value))
            ):
                shown = f"{what}[{acc}]" if isinstance(acc, int) else f"{what}.{acc}"
                return Unknown(f"{shown} is an output known only after deployment", outputs)
            if isinstance(acc, int):
                if not isinstance(value, list):
                    raise InputError(self.file, line, f"{what} is not a list; cannot index [{acc}]")
                if not -len(value) <= acc < len(value):
                    raise InputError(self.file, line, f"index [{acc}] is out of range for {what}")
                value = value[acc]
                what = f"{what}[{acc}]"
            else:
                if not isinstance(value, dict):
                    raise InputError(self.file, line, f"{what} has no property {acc!r}")
                if acc not in value:
                    raise InputError(self.file, line, f"{what} has no property {acc!r}")
                value = value[acc]
                what = f"{what}.{acc}"
        return value

    def config_value(self, key: str, line: int | None, trace: list[Hop]) -> Any:
        entry = self.project.config_entry(key)
        if entry is not None:
            trace.append(entry.hop(key))
            if isinstance(entry.value, Unknown):  # secure: ciiguard never decrypts secrets
                return self.unknown_config(
                    key,
                    entry.line,
                    f"config {key} is an encrypted secret ({entry.file})",
                    " to ciiguard; where it decides a verdict the finding is CII003",
                )
            return entry.value
        spec = self.declared.get(key)
        if isinstance(spec, dict) and "default" in spec:
            value = spec["default"]
            trace.append(
                Hop(f"config {key} default", self.file, self._decl_line(key), render(value))
            )
            return value
        if isinstance(spec, dict) and "value" in spec:
            value = spec["value"]
            trace.append(Hop(f"config {key}", self.file, self._decl_line(key), render(value)))
            return value
        if spec is not None and not isinstance(spec, dict):
            trace.append(Hop(f"config {key}", self.file, self._decl_line(key), render(spec)))
            return spec
        if self.project.uses_environments:
            return Unknown(self.project.missing_config_reason(key))
        stack = self.project.stack_display or f"Pulumi.{self.project.stack}.yaml"
        return self.unknown_config(
            key,
            line,
            f"configuration {key!r} is required but not set in {stack}",
            f" (set it with: pulumi config set {key} ...); where it decides a verdict the "
            "finding is CII003",
        )

    def _decl_line(self, key: str) -> int | None:
        for section in ("config", "configuration"):
            sec, _ = _section(self.doc, section, self.file)
            if isinstance(sec, LineMap) and key in sec:
                return sec.lines.get(key)
        return None

    def variable(self, name: str, line: int | None) -> tuple[Any, tuple[Hop, ...]]:
        if name in self._var_values:
            return self._var_values[name]
        if name in self._var_busy:
            raise InputError(self.file, line, f"variable {name!r} refers to itself")
        self._var_busy.add(name)
        try:
            vline = self.variables.lines.get(name)
            inner: list[Hop] = []
            value = self.value(self.variables[name], vline, inner)
        finally:
            self._var_busy.discard(name)
        hops = (Hop(f"variables.{name}", self.file, vline, render(_plain(value))), *inner)
        self._var_values[name] = (value, hops)
        return value, hops

    def resource_access(
        self, key: str, accessors: list[str | int], line: int | None, trace: list[Hop]
    ) -> Any:
        decl = self.decls[key]
        urn = self.urn(key)
        if not accessors:
            return _Ref(key, urn)
        first, rest = accessors[0], accessors[1:]
        if first == "urn":
            return self.select(urn, rest, f"{key}.urn", line)
        refs = frozenset({urn})
        path = tuple(str(a) for a in accessors)  # flows tie only ${res.region} to res's region
        if first == "id" or _field(decl.body, "get") is not None:
            return Unknown(f"{key}.{first} is known only after deployment", refs, path=path)
        props = self.properties(decl)
        if isinstance(first, str) and first in props:
            trace.extend(decl.prop_hops.get(first, ()))
            trace.append(Hop(f"{key}.{first}", self.file, decl.prop_lines.get(first), None))
            value = self.select(props[first], rest, f"{key}.{first}", line, outputs=refs)
            if isinstance(value, Unknown):
                return Unknown(value.reason, value.refs | refs, path=path)
            return _strip_refs(value)
        return Unknown(f"{key}.{first} is an output known only after deployment", refs, path=path)

    # -- builtins -------------------------------------------------------------------------------
    def builtin(self, name: str, arg: Any, line: int | None, trace: list[Hop]) -> Any:
        fn = name.lower()
        if fn == "fn::invoke":
            return self.invoke(arg, line, trace)
        if fn in ("fn::secret",):
            return self.value(arg, line, trace)
        if fn == "fn::join":
            items = self.value(arg, line, trace)
            if not (isinstance(items, list) and len(items) == 2):
                raise InputError(self.file, line, "fn::join takes [delimiter, [values]]")
            delim, values = items
            if isinstance(delim, Unknown):
                return delim
            if isinstance(values, Unknown):
                return values
            if not isinstance(values, list):
                raise InputError(self.file, line, "fn::join needs a list of values")
            for v in values:
                if isinstance(v, Unknown):
                    return v
            return str(delim).join(_to_text(_id_of(v)) for v in values)
        if fn == "fn::split":
            items = self.value(arg, line, trace)
            if not (isinstance(items, list) and len(items) == 2):
                raise InputError(self.file, line, "fn::split takes [delimiter, string]")
            delim, source = items
            for v in (delim, source):
                if isinstance(v, Unknown):
                    return v
            return str(source).split(str(delim))
        if fn == "fn::select":
            items = self.value(arg, line, trace)
            if not (isinstance(items, list) and len(items) == 2):
                raise InputError(self.file, line, "fn::select takes [index, list]")
            index, values = items
            for v in (index, values):
                if isinstance(v, Unknown):
                    return v
            if not isinstance(values, list) or not isinstance(index, int):
                raise InputError(self.file, line, "fn::select takes an integer index and a list")
            if not -len(values) <= index < len(values):
                raise InputError(self.file, line, f"fn::select index {index} is out of range")
            return values[index]
        if fn == "fn::tojson":
            value = self.value(arg, line, trace)
            if _first_unknown(value) is not None:
                return _first_unknown(value)
            return json.dumps(_plain(value), separators=(",", ":"))
        if fn == "fn::tobase64":
            value = self.value(arg, line, trace)
            if isinstance(value, Unknown):
                return value
            return base64.b64encode(str(value).encode()).decode()
        if fn == "fn::frombase64":
            value = self.value(arg, line, trace)
            if isinstance(value, Unknown):
                return value
            try:
                return base64.b64decode(str(value), validate=True).decode()
            except (binascii.Error, UnicodeDecodeError):
                raise InputError(self.file, line, "fn::fromBase64 got invalid base64") from None
        if fn == "fn::stackreference":
            return Unknown("stack reference outputs are read from the other stack at deployment")
        if fn in (
            "fn::fileasset",
            "fn::stringasset",
            "fn::remoteasset",
            "fn::filearchive",
            "fn::remotearchive",
            "fn::assetarchive",
            "fn::readfile",
        ):
            return Unknown(f"{name} is an asset or file content")
        return Unknown(f"{name} is not evaluated by ciiguard")

    def invoke(self, arg: Any, line: int | None, trace: list[Hop]) -> Any:
        if not isinstance(arg, LineMap):
            raise InputError(self.file, line, "fn::invoke takes {function, arguments, return}")
        function = _field(arg, "function")
        if not isinstance(function, str):
            raise InputError(self.file, line, "fn::invoke needs a 'function'")
        result: Any = Unknown(f"fn::invoke {function} is evaluated at deployment")
        if function in GET_REGION:
            opts = _field(arg, "options")
            provider: ProviderInfo | None = None
            if isinstance(opts, LineMap) and _field(opts, "provider") is not None:
                ref = self.value(_field(opts, "provider"), line, trace)
                if isinstance(ref, _Ref) and self.decls[ref.key].is_provider:
                    provider = self.provider_info(self.decls[ref.key])
            if provider is None:
                provider = self.default_provider_for("aws")
            trace.extend(provider.hops)
            region = provider.region
            if region is None:
                region = Unknown("the provider's region is not set in the program or stack config")
            result = {"name": region, "region": region, "id": region}
        ret = _field(arg, "return")
        if isinstance(ret, str) and not isinstance(result, Unknown):
            return self.select(result, [ret], function, line)
        return result

    # -- resources ------------------------------------------------------------------------------
    def properties(self, decl: _Decl) -> dict[str, Any]:
        if decl.props is not None:
            return decl.props
        if decl.busy:
            raise InputError(self.file, decl.line, f"resource {decl.key!r} refers to itself")
        decl.busy = True
        try:
            raw = _field(decl.body, "properties")
            props: dict[str, Any] = {}
            line = _field_line(decl.body, "properties")
            if isinstance(raw, LineMap):
                for k, v in raw.items():
                    trace: list[Hop] = []
                    kline = raw.lines.get(k, line or 0)
                    props[k] = self.value(v, kline, trace)
                    decl.prop_hops[k] = tuple(trace)
                    decl.prop_lines[k] = kline
            elif raw is not None:
                trace = []
                value = self.value(raw, line, trace)
                if isinstance(value, Unknown):
                    raise InputError(
                        self.file,
                        line,
                        f"the properties of {decl.key!r} are not known before deployment",
                    )
                if not isinstance(value, dict):
                    raise InputError(
                        self.file, line, f"the properties of {decl.key!r} must be a mapping"
                    )
                props = dict(value)
        finally:
            decl.busy = False
        decl.props = props
        return props

    def _option_ref(
        self, decl: _Decl, option: str, seen: frozenset[str] = frozenset()
    ) -> _Ref | None:
        raw = _field(decl.options, option)
        if raw is None:
            return None
        line = _field_line(decl.options, option)
        if isinstance(raw, str):
            parts = split_interpolation(raw, self.file, line)
            if len(parts) == 1 and isinstance(parts[0], tuple) and not parts[0][1]:
                key = parts[0][0]
                if key in self.decls:
                    d = self.decls[key]
                    if key in seen:
                        raise InputError(self.file, line, f"resource {decl.key!r}: {option} cycle")
                    return _Ref(key, urn_of(self.project.stack, self.project.name, d.token, d.name))
        value = self.value(raw, line, [])
        if isinstance(value, _Ref):
            return value
        raise InputError(
            self.file, line, f"options.{option} of {decl.key!r} must name a resource (${{name}})"
        )

    def _option_refs(self, decl: _Decl, option: str) -> list[_Ref]:
        raw = _field(decl.options, option)
        if raw is None:
            return []
        line = _field_line(decl.options, option)
        value = self.value(raw, line, [])
        items = list(value.values()) if isinstance(value, dict) else value
        if isinstance(items, _Ref):
            return [items]
        if not isinstance(items, list) or not all(isinstance(i, _Ref) for i in items):
            raise InputError(
                self.file, line, f"options.{option} of {decl.key!r} must list resources"
            )
        return list(items)

    def provider_info(self, decl: _Decl) -> ProviderInfo:
        props = self.properties(decl)
        package = decl.token[len(PROVIDER_PREFIX) :]
        pkg = self.pc.packages.get(package)
        region_key = pkg.region_input if pkg else "region"
        return provider_from_inputs(
            package,
            decl.name,
            self.urn(decl.key),
            {k: _strip_refs(v) for k, v in props.items()},
            self.file,
            decl.line,
            decl.prop_lines.get(region_key),
            decl.prop_hops.get(region_key, ()),
        )

    def default_provider_for(self, package: str) -> ProviderInfo:
        if package not in self._default_decl:  # one pass per package, not one per resource
            wanted = f"{PROVIDER_PREFIX}{package}"
            self._default_decl[package] = next(
                (
                    d
                    for d in self.decls.values()
                    if d.token == wanted and _field(d.body, "defaultProvider") is True
                ),
                None,
            )
        found = self._default_decl[package]
        if found is None:
            return default_provider(package, self.project)
        return self.provider_info(found)

    def provider_for(
        self, decl: _Decl, package: str, seen: frozenset[str] = frozenset()
    ) -> ProviderInfo:
        wanted = f"{PROVIDER_PREFIX}{package}"
        explicit = self._option_ref(decl, "provider")
        if explicit is not None:
            target = self.decls[explicit.key]
            if not target.is_provider:
                raise InputError(
                    self.file,
                    _field_line(decl.options, "provider"),
                    f"options.provider of {decl.key!r} names {explicit.key!r}, which is not a provider",
                )
            if target.token == wanted:
                return self.provider_info(target)
        for ref in self._option_refs(decl, "providers"):
            target = self.decls[ref.key]
            if target.token == wanted:
                return self.provider_info(target)
        parent = self._option_ref(decl, "parent")
        if parent is not None and parent.key not in seen:
            return self.provider_for(self.decls[parent.key], package, seen | {decl.key})
        return self.default_provider_for(package)

    def run(self, out: ParseOutput) -> None:
        for key, decl in self.decls.items():
            try:
                self._emit(key, decl, out)
            except InputError as exc:
                out.errors.append(ScanIssue(exc.file, exc.line, exc.message))
        out.warnings.extend(self.warnings.values())

    def unknown_config(self, key: str, line: int | None, why: str, hint: str) -> Unknown:
        """A config value ciiguard cannot know, as a Terraform variable without a value is:
        unknown (CII003 only where it decides a verdict), with one warning naming the key."""
        if key not in self.warnings:
            self.warnings[key] = ScanIssue(self.file, line, f"{why}: its value is unknown{hint}")
        return Unknown(why)

    def _emit(self, key: str, decl: _Decl, out: ParseOutput) -> None:
        urn = self.urn(key)
        props = self.properties(decl)
        if decl.is_provider:
            self.provider_info(decl)  # evaluates and validates its inputs
            return
        if _field(decl.body, "get") is not None or decl.token.startswith("pulumi:"):
            return
        package = self.pc.package_of(decl.token)
        if package in self.pc.component_packages:
            out.gaps.append(
                component_gap(
                    decl.token,
                    urn,
                    self.file,
                    decl.line,
                    "is a multi-language component; ciiguard does not run its package",
                )
            )
            return
        provider = self.provider_for(decl, package)
        out.resources.append(
            build_resource(
                catalogue=self.ctx.catalogue,
                urn=urn,
                token=decl.token,
                name=decl.name,
                props={k: _strip_refs(v) for k, v in props.items()},
                provider=provider,
                environment=self.ctx.settings.environment,
                input="pulumi-yaml",
                file=self.file,
                line=decl.line,
                prop_lines=_flat_lines(props),
                input_hops=decl.prop_hops,
                extra_meta={
                    "pulumi_stack": self.project.stack,
                    "pulumi_project": self.project.name,
                    "end_line": (end := _max_line(decl.body, decl.line or 0)),
                    # the comments just above and inside the declaration (inline suppressions)
                    "comments": self.comments.between((decl.line or 0) - 8, end),
                },
                root=self.project.display,
            )
        )


def _to_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _id_of(value: Any) -> Any:
    if isinstance(value, _Ref):
        return Unknown(
            f"the id of {value.key} is known only after deployment", frozenset({value.urn})
        )
    return value


def _strip_refs(value: Any) -> Any:
    """A bare resource reference used as a property value stands for the resource's id."""
    if isinstance(value, _Ref):
        return _id_of(value)
    if isinstance(value, LineMap):
        out = LineMap({k: _strip_refs(v) for k, v in value.items()})
        out.line, out.lines = value.line, dict(value.lines)
        return out
    if isinstance(value, LineList):
        lst = LineList(_strip_refs(v) for v in value)
        lst.line, lst.lines = value.line, list(value.lines)
        return lst
    if isinstance(value, dict):
        return {k: _strip_refs(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_strip_refs(v) for v in value]
    return value


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, _Ref):
        return f"${{{value.key}}}"
    return value


def _first_unknown(value: Any) -> Unknown | None:
    if isinstance(value, Unknown):
        return value
    if isinstance(value, _Ref):
        u = _id_of(value)
        return u if isinstance(u, Unknown) else None
    if isinstance(value, dict):
        for v in value.values():
            found = _first_unknown(v)
            if found is not None:
                return found
    if isinstance(value, list):
        for v in value:
            found = _first_unknown(v)
            if found is not None:
                return found
    return None


def _yaml_comments(path: Path) -> tuple[tuple[int, str], ...]:
    """(line, text) of every YAML comment: a ``#`` at a line start or after a space, outside quotes
    (PyYAML drops comments, so the program's text is read once more for them)."""
    try:
        text = path.read_text(encoding="utf-8-sig", errors="replace")
    except OSError:
        return ()
    out = []
    for number, line in enumerate(text.splitlines(), 1):
        quote = ""
        for i, ch in enumerate(line):
            if quote:
                if ch == quote:
                    quote = ""
            elif ch in "'\"":
                quote = ch
            elif ch == "#" and (i == 0 or line[i - 1] in " \t"):
                out.append((number, line[i:].strip()))
                break
    return tuple(out)


def _max_line(value: Any, start: int) -> int:
    """The last line a YAML value's keys and items were read from."""
    best = start
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, LineMap):
            best = max([best, *v.lines.values()])
            stack.extend(v.values())
        elif isinstance(v, LineList):
            best = max([best, *v.lines])
            stack.extend(v)
    return best


def _flat_lines(props: dict[str, Any]) -> dict[str, int]:
    """camelCase property paths -> lines, from the LineMap/LineList structure of evaluated values."""
    out: dict[str, int] = {}

    def walk(value: Any, path: str) -> None:
        if isinstance(value, LineMap):
            for k, v in value.items():
                p = f"{path}.{k}" if path else k
                if k in value.lines:
                    out[p] = value.lines[k]
                walk(v, p)
        elif isinstance(value, LineList):
            for i, v in enumerate(value):
                p = f"{path}[{i}]"
                if i < len(value.lines):
                    out[p] = value.lines[i]
                walk(v, p)

    for k, v in props.items():
        walk(v, k)
    return out


def find_template(project: Project) -> Path:
    main = project.main
    if not main.is_dir():
        raise InputError(
            project.display,
            project.doc.lines.get("main"),
            "'main' of a YAML program must be a directory",
        )
    for name in TEMPLATE_FILES:
        candidate = main / name
        if candidate.is_file():
            return (
                candidate.resolve()
                if name != "Pulumi.yaml" or main != project.dir
                else project.path
            )
    raise InputError(
        project.display,
        project.doc.lines.get("main"),
        f"no Main.yaml, Main.json or Pulumi.yaml in {main}",
    )


def _compiler(doc: Any) -> str | None:
    """``runtime: {name: yaml, options: {compiler: "cue export"}}``: Pulumi runs the compiler and
    reads the program from its output (CUE, jsonnet, ...), not from the files here. Anything but
    an absent or empty option counts (a malformed one as well: nothing is vouched for)."""
    runtime = doc.get("runtime") if isinstance(doc, dict) else None
    options = runtime.get("options") if isinstance(runtime, dict) else None
    found = options.get("compiler") if isinstance(options, dict) else None
    if found is None or found == "":
        return None
    return found if isinstance(found, str) else repr(found)


class PulumiYamlParser:
    """Parser for Pulumi YAML programs (``Pulumi.yaml`` with ``runtime: yaml``)."""

    name = "pulumi-yaml"

    def claims(self, path: Path) -> bool:
        # An unreadable project file is claimed here so that its error is reported, never skipped.
        return is_project_file(path) and project_runtime(path) in ("yaml", None)

    def parse(self, files: list[Path], ctx: ParseContext) -> ParseOutput:
        out = ParseOutput()
        for f in files:
            try:
                project = load_project(
                    f, ctx.display, ctx.settings.pulumi_stack, ctx.settings.max_file_size
                )
                for w in project.warnings:
                    out.warnings.append(ScanIssue(project.display, None, w))
                if project.runtime != "yaml":
                    raise InputError(
                        project.display,
                        project.runtime_line,
                        f"runtime {project.runtime!r} is not a YAML program",
                    )
                compiler = _compiler(project.doc)
                if compiler is not None:
                    raise InputError(
                        project.display,
                        project.runtime_line,
                        f"this YAML program is made by running {compiler!r} (runtime option "
                        "'compiler'), which ciiguard does not run; scan the output of 'pulumi "
                        "preview --json' (or 'pulumi stack export'), or enforce the policies with "
                        "the CrossGuard pack",
                    )
                template = find_template(project)
                record_reads(project, ctx, template)
                _Program(project, template, ctx).run(out)
            except InputError as exc:
                out.errors.append(ScanIssue(exc.file, exc.line, exc.message))
            except RecursionError:
                out.errors.append(ScanIssue(ctx.display(f), None, "nested too deeply"))
        out.warnings.extend(unknown_packages(out.resources, "a Pulumi YAML program"))
        return out
