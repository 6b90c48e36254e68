"""What every Pulumi input shares: type tokens, camelCase inputs, projects, stack config, regions.

Pulumi resources are mapped onto the catalogue's canonical (Terraform) resource types through
``ciiguard/catalogue/data/pulumi.json`` so flows and policies never see a Pulumi token. Each parser
(YAML programs, preview/state JSON, Python programs under the SDK's mocks, the CrossGuard bridge)
hands its resources to :func:`build_resource`, which resolves the effective region with the
chain of hops that produced it: the resource's own region input > its provider (explicit, or the
default provider from stack config ``aws:region``) > environment > provider default.

Nothing here imports ``pulumi``: Terraform scans and ``ciiguard --version`` stay light.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from ciiguard.catalogue import Catalogue
from ciiguard.errors import InputError
from ciiguard.model import Gap, Hop, Location, RegionInfo, Resource, ScanIssue, Unknown
from ciiguard.parsers.nesting import deepest_line, long_number_line
from ciiguard.parsers.provider_defaults import (
    environment_or_default,
    merge_tags,
    region_info,
    unset_variables,
)
from ciiguard.parsers.surrogates import may_hold_surrogates, scrub

PROJECT_FILES = ("Pulumi.yaml", "Pulumi.yml")
PROVIDER_PREFIX = "pulumi:providers:"
STACK_TYPE = "pulumi:pulumi:Stack"

# Wire sentinels of Pulumi's property protocol (sdk/go/common/resource/plugin/rpc.go): values not
# known before deployment, by their declared type.
UNKNOWN_SENTINELS = frozenset(
    {
        "04da6b54-80e4-46f7-96ec-b56ff0331ba9",  # string (also the id of a provider not yet created)
        "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7",  # boolean
        "3eeb2bf0-c639-47a8-9e75-3b44932eb421",  # number
        "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2",  # array
        "030794c1-ac77-496b-92df-f27374a8bd58",  # asset
        "e48ece36-62e2-4504-bad9-02848725956a",  # archive
        "dd056dcd-154b-4c76-9bd3-c8f88648b5ff",  # object
    }
)
SIG_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
RESOURCE_REF_SIG = "5cf8f73096256a8f31e491e813e4eb8e"
OUTPUT_VALUE_SIG = "d0e6a833031e9bbcd3f4e8bde6ca49a4"

_IDENT = re.compile(r"^[A-Za-z][A-Za-z0-9]*$")
_HUMP = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_VERSIONED_MODULE = re.compile(r"/v\d[0-9a-z]*$")


def snake(name: str) -> str:
    """``replicateSourceDb`` -> ``replicate_source_db``; names that are not identifiers are kept."""
    if not _IDENT.match(name):
        return name
    return _HUMP.sub("_", name).lower()


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


# -- the token catalogue ----------------------------------------------------------------------


@dataclass(frozen=True)
class TypeInfo:
    token: str
    type: str
    renames: Mapping[str, str]


@dataclass(frozen=True)
class PackageInfo:
    package: str
    region_input: str
    default_tags_input: str | None
    flat_tokens: bool  # azure-native: no member segment in type tokens
    terraform_index_tokens: bool  # pkg:index/cosBucket:CosBucket names Terraform's pkg_cos_bucket


@dataclass(frozen=True)
class PulumiCatalogue:
    """``ciiguard/catalogue/data/pulumi.json``: Pulumi tokens -> canonical types, input renames, packages."""

    types: Mapping[str, TypeInfo]
    packages: Mapping[str, PackageInfo]
    free_form_maps: frozenset[str]
    component_packages: frozenset[str] = frozenset()  # multi-language component packages
    no_data_packages: frozenset[str] = frozenset()  # utility packages: nothing stored (random)

    def unknown_package(self, token: str, catalogue: Catalogue) -> str | None:
        """The package of ``token`` when ciiguard knows nothing of it (``aws-native``): neither
        the catalogue nor Pulumi's mapping names it, and it is no utility package."""
        package = self.package_of(token)
        if (
            token.startswith(PROVIDER_PREFIX)
            or package in self.packages
            or package in self.component_packages
            or package in self.no_data_packages
            or catalogue.facts(package) is not None
            or self.lookup(token) is not None
        ):
            return None
        return package

    def canonical_token(self, token: str) -> str:
        """The token Pulumi registers: ``aws:s3:BucketV2`` -> ``aws:s3/bucketV2:BucketV2``."""
        parts = token.split(":")
        if token.startswith(PROVIDER_PREFIX) or token in self.types or len(parts) not in (2, 3):
            return token
        pkg = parts[0]
        info = self.packages.get(pkg)
        if info is not None and info.flat_tokens:
            return token
        if len(parts) == 2:
            module, member = "index", parts[1]
        else:
            module, member = parts[1], parts[2]
        if "/" in module or not member:
            return token
        expanded = f"{pkg}:{module}/{member[:1].lower()}{member[1:]}:{member}"
        return expanded

    def lookup(self, token: str) -> TypeInfo | None:
        found = self.types.get(token)
        if found is None and token.count(":") == 2:
            pkg, module, member = token.split(":")
            bare = _VERSIONED_MODULE.sub("", module)
            found = self.types.get(f"{pkg}:{bare}:{member}")
        return found or self.derived(token)

    def resource_type(self, token: str) -> str:
        info = self.lookup(token)
        return info.type if info is not None else token

    def derived(self, token: str) -> TypeInfo | None:
        """A token of a provider added from a Terraform provider: ``index/<camel type>``."""
        parts = token.split(":")
        if len(parts) != 3 or not parts[1].startswith("index/"):
            return None
        info = self.packages.get(parts[0])
        if info is None or not info.terraform_index_tokens:
            return None
        return TypeInfo(token, f"{parts[0]}_{snake(parts[1][len('index/') :])}", {})

    def package_of(self, token: str) -> str:
        if token.startswith(PROVIDER_PREFIX):
            return token[len(PROVIDER_PREFIX) :]
        return token.split(":", 1)[0]


@functools.lru_cache(maxsize=1)
def pulumi_catalogue() -> PulumiCatalogue:
    text = (
        resources.files("ciiguard")
        .joinpath("catalogue/data/pulumi.json")
        .read_text(encoding="utf-8")
    )
    data = json.loads(text)
    types = {
        e["token"]: TypeInfo(e["token"], e["type"], dict(e.get("renames", {})))
        for e in data.get("types", [])
    }
    packages = {
        p["package"]: PackageInfo(
            p["package"],
            p.get("region_input", "region"),
            p.get("default_tags_input"),
            p.get("token_style") == "module",
            bool(p.get("terraform_index_tokens")),
        )
        for p in data.get("packages", [])
    }
    maps = frozenset(data.get("free_form_maps", {}).get("names", []))
    components = frozenset(data.get("component_packages", {}).get("names", []))
    no_data = frozenset(data.get("no_data_packages", {}).get("names", []))
    return PulumiCatalogue(types, packages, maps, components, no_data)


# -- values -----------------------------------------------------------------------------------


def decode_wire(value: Any, refs: frozenset[str] = frozenset(), what: str = "value") -> Any:
    """Pulumi's JSON property encoding (preview, state, policy props) -> plain values and Unknown."""
    if isinstance(value, str):
        if value in UNKNOWN_SENTINELS:
            return Unknown(f"{what} is known only after deployment", refs)
        if value == "[secret]":
            return Unknown(f"{what} is a secret the preview does not show", refs)
        return value
    if isinstance(value, list):
        return [decode_wire(v, refs, f"{what}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, dict):
        sig = value.get(SIG_KEY)
        if sig == SECRET_SIG:
            if "value" in value:
                return decode_wire(value["value"], refs, what)
            if "plaintext" in value:
                try:
                    return decode_wire(json.loads(value["plaintext"]), refs, what)
                except (TypeError, ValueError):
                    return Unknown(f"{what} is a secret ciiguard cannot read", refs)
            return Unknown(f"{what} is an encrypted secret", refs)
        if sig == RESOURCE_REF_SIG:
            urn = value.get("urn")
            ref = frozenset({urn}) if isinstance(urn, str) else refs
            return Unknown(f"{what} refers to the resource {urn}", ref)
        if sig == OUTPUT_VALUE_SIG:
            if "value" in value:
                return decode_wire(value["value"], refs, what)
            deps = value.get("dependencies")
            ref = (
                frozenset(d for d in deps if isinstance(d, str)) if isinstance(deps, list) else refs
            )
            return Unknown(f"{what} is known only after deployment", ref or refs)
        if sig is not None:
            return Unknown(f"{what} is an asset or archive", refs)
        return {k: decode_wire(v, refs, f"{what}.{k}") for k, v in value.items()}
    return value


def render(value: Any) -> str:
    if isinstance(value, Unknown):
        return f"(unknown: {value.reason})"
    try:
        return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    except (TypeError, ValueError):
        return repr(value)


def parse_json_string(value: Any) -> Any:
    """Provider inputs arrive JSON-encoded in state and preview (``defaultTags: "{\\"tags\\":...}"``)."""
    if isinstance(value, str) and value[:1] in "{[":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def normalise_attributes(
    props: Mapping[str, Any],
    renames: Mapping[str, str],
    free_form: frozenset[str],
    lines: Mapping[str, int] | None = None,
    lines_out: dict[str, int] | None = None,
    paths_out: dict[str, str] | None = None,
) -> dict[str, Any]:
    """camelCase inputs -> snake_case attributes with Terraform block names; nested objects as dicts.

    ``lines`` maps camelCase paths (``replicas[0].regionName``) to source lines; the normalised
    paths (``replica[0].region_name``) land in ``lines_out`` for flows and findings.
    """

    def walk(value: Any, rename_path: str, out_path: str, pulumi_path: str, keep: bool) -> Any:
        if isinstance(value, Unknown):
            return value
        if isinstance(value, Mapping):
            out: dict[str, Any] = {}
            for k, v in value.items():
                key = str(k)
                new = key if keep else renames.get(_join(rename_path, snake(key)), snake(key))
                child_out = _join(out_path, new)
                child_pulumi = _join(pulumi_path, key)
                if lines is not None and lines_out is not None and child_pulumi in lines:
                    lines_out[child_out] = lines[child_pulumi]
                if paths_out is not None and child_out != child_pulumi:
                    paths_out[child_out] = child_pulumi
                inner_keep = keep or _strip_indexes(child_pulumi) in free_form or key in free_form
                out[new] = walk(v, _join(rename_path, new), child_out, child_pulumi, inner_keep)
            return out
        if isinstance(value, list):
            items = []
            for i, v in enumerate(value):
                child_out, child_pulumi = f"{out_path}[{i}]", f"{pulumi_path}[{i}]"
                if lines is not None and lines_out is not None and child_pulumi in lines:
                    lines_out[child_out] = lines[child_pulumi]
                if paths_out is not None and child_out != child_pulumi:
                    paths_out[child_out] = child_pulumi
                items.append(walk(v, rename_path, child_out, child_pulumi, keep))
            return items
        return value

    result = walk(props, "", "", "", False)
    return result if isinstance(result, dict) else {}


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _strip_indexes(path: str) -> str:
    return re.sub(r"\[\d+\]", "", path)


# -- YAML with line numbers ---------------------------------------------------------------------


class LineMap(dict[str, Any]):
    """A YAML mapping that remembers the line of the mapping and of each key."""

    line: int = 0
    lines: dict[str, int]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lines = {}


class LineList(list[Any]):
    line: int = 0
    lines: list[int]

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.lines = []


def load_yaml(text: str, file: str) -> Any:
    """Parse YAML; errors name the file and line; duplicate keys are errors (Pulumi rejects them)."""
    import yaml
    from yaml.constructor import ConstructorError
    from yaml.nodes import MappingNode, Node, SequenceNode

    class _Loader(yaml.SafeLoader):
        pass

    def construct_map(loader: yaml.SafeLoader, node: Node) -> LineMap:
        if not isinstance(node, MappingNode):
            raise ConstructorError(None, None, "expected a mapping", node.start_mark)
        loader.flatten_mapping(node)
        out = LineMap()
        out.line = node.start_mark.line + 1
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if isinstance(key, (dict, list)):
                raise ConstructorError(
                    None, None, "a mapping key must be a scalar", key_node.start_mark
                )
            skey = key if isinstance(key, str) else str(key)
            if skey in out:
                raise ConstructorError(
                    None,
                    None,
                    f"duplicate key {skey!r} (first on line {out.lines[skey]})",
                    key_node.start_mark,
                )
            out[skey] = loader.construct_object(value_node, deep=True)
            out.lines[skey] = key_node.start_mark.line + 1
        return out

    def construct_seq(loader: yaml.SafeLoader, node: Node) -> LineList:
        if not isinstance(node, SequenceNode):
            raise ConstructorError(None, None, "expected a sequence", node.start_mark)
        out = LineList(loader.construct_object(child, deep=True) for child in node.value)
        out.line = node.start_mark.line + 1
        out.lines = [child.start_mark.line + 1 for child in node.value]
        return out

    _Loader.add_constructor("tag:yaml.org,2002:map", construct_map)
    _Loader.add_constructor("tag:yaml.org,2002:seq", construct_seq)
    loader: _Loader | None = None
    try:
        loader = _Loader(text)  # checks the characters already
        node = loader.get_single_node()
        if node is None:
            return None
        _check_aliasing(node, file)
        doc = loader.construct_document(node)
        return scrub(doc) if may_hold_surrogates(text) else doc
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = exc.problem or exc.context or "invalid YAML"
        raise InputError(file, line, f"YAML syntax error: {problem}") from None
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow (NUL, ...)
        line = text.count("\n", 0, exc.position) + 1
        raise InputError(file, line, f"YAML error: {str(exc).splitlines()[0]}") from None
    except yaml.YAMLError as exc:
        raise InputError(file, None, f"YAML error: {' '.join(str(exc).split())}") from None
    except RecursionError:
        raise InputError(file, deepest_line(text), "YAML nested too deeply") from None
    except ValueError as exc:  # an integer with more digits than Python converts
        raise InputError(file, long_number_line(text), f"YAML value: {exc}") from None
    finally:
        if loader is not None:
            loader.dispose()


MAX_YAML_NODES = 1_000_000  # Pulumi (Go yaml.v3) also refuses documents with excessive aliasing


def _check_aliasing(root: Any, file: str) -> None:
    """Refuse a document whose aliases expand to more than MAX_YAML_NODES nodes (a "billion
    laughs" alias bomb) or refer to themselves: everything after load walks the expanded tree."""
    from yaml.nodes import MappingNode, SequenceNode

    def children(n: Any) -> list[Any]:
        if isinstance(n, MappingNode):
            return [x for pair in n.value for x in pair]
        return list(n.value) if isinstance(n, SequenceNode) else []

    size: dict[int, int] = {}
    active: set[int] = set()
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            active.discard(key)
            size[key] = 1 + sum(size[id(c)] for c in children(node))
            if size[key] > MAX_YAML_NODES:
                raise InputError(
                    file,
                    node.start_mark.line + 1,
                    f"YAML aliases expand to more than {MAX_YAML_NODES} values",
                )
            continue
        if key in size:
            continue
        if key in active:
            raise InputError(file, node.start_mark.line + 1, "YAML alias refers to itself")
        active.add(key)
        stack.append((node, True))
        stack.extend((c, False) for c in children(node))


def read_yaml_file(path: Path, display: str, limit: int | None = None) -> Any:
    """A YAML file, within ``--max-file-size`` (regular files only, so a pipe cannot hang us)."""
    from ciiguard.parsers.reading import read_bytes

    data = read_bytes(path, display, limit)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(display, None, "not UTF-8 text") from None
    return load_yaml(text, display)


# -- projects and stacks --------------------------------------------------------------------------


@dataclass(frozen=True)
class ConfigEntry:
    value: Any  # the value, Unknown for secrets ciiguard cannot decrypt
    file: str | None
    line: int | None
    where: str  # "stack config", "project config", "project config default"

    def hop(self, key: str) -> Hop:
        return Hop(f"{self.where} {key}", self.file, self.line, render(self.value))


@dataclass
class Project:
    """A Pulumi project: ``Pulumi.yaml`` and the stack whose configuration applies."""

    path: Path  # the Pulumi.yaml
    display: str
    name: str
    runtime: str
    runtime_line: int | None
    doc: LineMap
    main: Path  # program directory or file
    stack: str
    stack_file: Path | None
    stack_display: str | None
    config: dict[str, ConfigEntry] = field(default_factory=dict)
    uses_environments: bool = (
        False  # stack imports Pulumi ESC environments: config may come from there
    )
    warnings: list[str] = field(default_factory=list)

    @property
    def dir(self) -> Path:
        return self.path.parent

    def config_entry(self, key: str) -> ConfigEntry | None:
        """``aws:region``, or a project key with or without the project namespace."""
        found = self.config.get(key)
        if found is None and ":" not in key:
            found = self.config.get(f"{self.name}:{key}")
        return found

    def missing_config_reason(self, key: str) -> str:
        if self.uses_environments:
            return f"{key} may come from the Pulumi ESC environment the stack imports"
        where = self.stack_display or f"stack {self.stack!r} (no stack file)"
        return f"{key} is not set in {where} or the project config"


def runtime_of(doc: Any) -> tuple[str | None, int | None]:
    if not isinstance(doc, dict):
        return None, None
    rt = doc.get("runtime")
    line = doc.lines.get("runtime") if isinstance(doc, LineMap) else None
    if isinstance(rt, dict):
        rt = rt.get("name")
    return (rt.strip().lower() if isinstance(rt, str) else None), line


@functools.lru_cache(maxsize=256)
def _peek_runtime(path: str, mtime: float) -> str | None:
    try:
        doc = read_yaml_file(Path(path), path)
    except InputError:
        return None
    return runtime_of(doc)[0]


def project_runtime(path: Path) -> str | None:
    """The ``runtime`` of a Pulumi project file, or None when the file cannot be read or parsed."""
    try:
        mtime = path.stat().st_mtime
    except OSError:
        return None
    return _peek_runtime(str(path), mtime)


def is_project_file(path: Path) -> bool:
    return path.name in PROJECT_FILES


def load_project(
    path: Path, display: Any, stack_option: str | None, limit: int | None = None
) -> Project:
    """Read ``Pulumi.yaml``, pick the stack (``--stack`` or the only stack file), merge config."""
    shown = display(path)
    doc = read_yaml_file(path, shown, limit)
    if not isinstance(doc, LineMap):
        raise InputError(shown, None, "a Pulumi project file must be a mapping")
    name = doc.get("name")
    if not isinstance(name, str) or not name:
        raise InputError(shown, doc.line or 1, "the project has no 'name'")
    runtime, runtime_line = runtime_of(doc)
    if runtime is None:
        raise InputError(shown, doc.line or 1, "the project has no 'runtime'")
    main_rel = doc.get("main")
    main = path.parent.resolve()
    if main_rel is not None:
        if not isinstance(main_rel, str):
            raise InputError(shown, doc.lines.get("main"), "'main' must be a path")
        main = (path.parent / main_rel).resolve()
        if not main.exists():
            raise InputError(
                shown, doc.lines.get("main"), f"'main' points to {main_rel!r}, which does not exist"
            )
    config_dir = path.parent
    scd = doc.get("stackConfigDir")
    if isinstance(scd, str):
        config_dir = path.parent / scd
    stacks = _stack_files(config_dir)
    stack_file: Path | None
    warnings: list[str] = []
    if stack_option:
        stack = stack_option
        stack_file = stacks.get(stack)
        if stack_file is None:
            warnings.append(
                f"stack {stack!r} has no Pulumi.{stack}.yaml; only project config applies"
            )
    elif len(stacks) == 1:
        stack, stack_file = next(iter(stacks.items()))
    elif not stacks:
        stack, stack_file = "stack", None
    else:
        names = ", ".join(sorted(stacks))
        raise InputError(
            shown,
            None,
            f"the project has several stacks ({names}); choose one with --stack NAME",
        )
    project = Project(
        path=path,
        display=shown,
        name=name,
        runtime=runtime,
        runtime_line=runtime_line,
        doc=doc,
        main=main,
        stack=stack,
        stack_file=stack_file,
        stack_display=display(stack_file) if stack_file is not None else None,
        warnings=warnings,
    )
    _merge_project_config(project, doc.get("config"), shown, doc)
    if stack_file is not None:
        _merge_stack_config(project, stack_file, display(stack_file), limit)
    return project


def record_reads(project: Project, ctx: Any, *extra: Path) -> None:
    """Files the result cache must re-check: the project, its stack file, the program."""
    ctx.reads.add(project.path.resolve())
    if project.stack_file is not None:
        ctx.reads.add(project.stack_file.resolve())
    for p in extra:
        ctx.reads.add(p.resolve())


def _stack_files(config_dir: Path) -> dict[str, Path]:
    found: dict[str, Path] = {}
    if not config_dir.is_dir():
        return found
    for p in sorted(config_dir.iterdir()):
        m = re.match(r"^Pulumi\.(.+)\.ya?ml$", p.name)
        if m and p.is_file():
            found.setdefault(m.group(1), p)
    return found


def _qualify(project: Project, key: str) -> str:
    return key if ":" in key else f"{project.name}:{key}"


def _merge_project_config(project: Project, section: Any, shown: str, doc: LineMap) -> None:
    """Project-level ``config:``: a literal value, or ``{value|default, type, secret}``."""
    if section is None:
        return
    if not isinstance(section, LineMap):
        raise InputError(shown, doc.lines.get("config"), "'config' must be a mapping")
    for key, spec in section.items():
        line = section.lines.get(key)
        qualified = _qualify(project, key)
        if isinstance(spec, dict):
            if "value" in spec:
                project.config[qualified] = ConfigEntry(
                    _secret_aware(spec["value"], qualified), shown, line, "project config"
                )
            elif "default" in spec:
                project.config[qualified] = ConfigEntry(
                    _secret_aware(spec["default"], qualified),
                    shown,
                    line,
                    "project config default",
                )
            continue
        project.config[qualified] = ConfigEntry(spec, shown, line, "project config")


def _merge_stack_config(project: Project, stack_file: Path, shown: str, limit: int | None) -> None:
    doc = read_yaml_file(stack_file, shown, limit)
    if doc is None:
        return
    if not isinstance(doc, LineMap):
        raise InputError(shown, None, "a stack settings file must be a mapping")
    if doc.get("environment"):
        project.uses_environments = True
    section = doc.get("config")
    if section is None:
        return
    if not isinstance(section, LineMap):
        raise InputError(shown, doc.lines.get("config"), "'config' must be a mapping")
    for key, value in section.items():
        qualified = _qualify(project, key)
        project.config[qualified] = ConfigEntry(
            _secret_aware(value, qualified), shown, section.lines.get(key), "stack config"
        )


def _secret_aware(value: Any, key: str) -> Any:
    if isinstance(value, dict) and set(value) == {"secure"}:
        return Unknown(f"config {key} is an encrypted secret")
    return value


# -- providers and regions --------------------------------------------------------------------


@dataclass(frozen=True)
class ProviderInfo:
    """The provider a resource uses: an explicit provider resource or the package's default one."""

    package: str
    label: str  # "cn" (a provider resource's logical name) or "default aws"
    urn: str | None
    region: Any  # str, Unknown, or None when it sets none
    hops: tuple[Hop, ...]
    default_tags: Any = None
    explicit: bool = True
    note: str | None = None  # why the region is unset (e.g. stack imports an ESC environment)


def provider_from_inputs(
    package: str,
    label: str,
    urn: str | None,
    inputs: Mapping[str, Any],
    file: str | None,
    line: int | None,
    region_line: int | None = None,
    region_hops: tuple[Hop, ...] = (),
    explicit: bool = True,
) -> ProviderInfo:
    """A provider resource (``pulumi:providers:aws``) from its inputs (camelCase, wire-decoded)."""
    pkg = pulumi_catalogue().packages.get(package)
    region_key = pkg.region_input if pkg else "region"
    region = inputs.get(region_key)
    if region == "":
        region = None
    tags: Any = None
    if pkg is not None and pkg.default_tags_input:
        first, *inner = pkg.default_tags_input.split(".")
        tags = _default_tags(inputs.get(first), inner)
    what = f"provider {label}" if explicit else f"default provider {label}"
    hop = Hop(
        what,
        file,
        region_line if region is not None and region_line else line,
        render(region) if region is not None and not region_hops else None,
    )
    return ProviderInfo(package, label, urn, region, (hop, *region_hops), tags, explicit)


def _default_tags(raw: Any, inner: list[str]) -> Any:
    """A provider's default tags from its input or config value (``defaultTags`` then ``tags``
    at AWS, ``defaultLabels`` itself at Google Cloud): a copy of the map, or what stands there."""
    value = parse_json_string(raw)
    for key in inner:
        if isinstance(value, Unknown):
            return value
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return dict(value) if isinstance(value, Mapping) else value


def default_provider(package: str, project: Project | None) -> ProviderInfo:
    """The provider Pulumi creates when a resource names none, configured from stack config."""
    pkg = pulumi_catalogue().packages.get(package)
    region_key = f"{package}:{pkg.region_input if pkg else 'region'}"
    entry = project.config_entry(region_key) if project else None
    tags: Any = None
    if pkg is not None and pkg.default_tags_input and project is not None:
        first, *inner = pkg.default_tags_input.split(".")
        t = project.config_entry(f"{package}:{first}")
        if t is not None:
            tags = _default_tags(t.value, inner)
    base = Hop(f"default provider {package}")
    if entry is None:
        # Config from a Pulumi ESC environment is invisible here: unknown, not the environment's.
        note = (
            project.missing_config_reason(region_key)
            if project is not None and project.uses_environments
            else None
        )
        return ProviderInfo(package, package, None, None, (base,), tags, False, note)
    return ProviderInfo(
        package, package, None, entry.value, (base, entry.hop(region_key)), tags, False
    )


def resolve_region(
    catalogue: Catalogue,
    package: str,
    attrs: Mapping[str, Any],
    provider: ProviderInfo,
    environment: Mapping[str, str],
    resource_label: str,
    file: str | None,
    lines: Mapping[str, int],
    input_hops: Mapping[str, tuple[Hop, ...]] | None = None,
    line: int | None = None,
) -> RegionInfo:
    """Own region input > provider (explicit or default from stack config) > environment > default."""
    facts = catalogue.facts(package)
    if facts is None:
        return RegionInfo(
            None, provider.hops, f"ciiguard has no region catalogue for Pulumi package {package!r}"
        )
    for arg in facts.region_arguments:
        value = attrs.get(arg)
        if value is None:
            continue
        trace = (input_hops or {}).get(arg, ())
        hop = Hop(
            f"{camel(arg)} input of {resource_label}",
            file,
            lines.get(arg, line),
            render(value) if not trace else None,
        )
        return region_info(value, (hop, *trace), f"{camel(arg)} input is unknown")
    if provider.region is not None:
        return region_info(
            provider.region, provider.hops, f"region of provider {provider.label} is unknown"
        )
    if provider.note and not provider.explicit:
        return RegionInfo(None, provider.hops, provider.note)
    found = environment_or_default(facts, environment, provider.hops)
    if found is not None:
        return found
    names = unset_variables(facts)
    pkg = pulumi_catalogue().packages.get(package)
    key = f"{package}:{pkg.region_input if pkg else 'region'}"
    if provider.explicit:
        why = f"provider {provider.label} sets no {pkg.region_input if pkg else 'region'}{names}"
    else:
        why = f"{provider.note or key + ' is not set'}{names}"
    return RegionInfo(None, provider.hops, why)


def urn_of(stack: str, project: str, token: str, name: str, parent_type: str | None = None) -> str:
    qualified = f"{parent_type}${token}" if parent_type else token
    return f"urn:pulumi:{stack}::{project}::{qualified}::{name}"


def urn_parts(urn: str) -> tuple[str, str]:
    """(qualified type, name) of a URN; the name may itself contain '::'."""
    parts = urn.split("::")
    if len(parts) < 4:
        return "", urn
    return parts[2], "::".join(parts[3:])


def urn_type(urn: str) -> str:
    return urn_parts(urn)[0].split("$")[-1]


def provider_ref_urn(ref: str) -> str:
    """``"<provider URN>::<provider id>"`` -> the provider URN."""
    return ref.rsplit("::", 1)[0] if ref.count("::") >= 4 else ref


def build_resource(
    *,
    catalogue: Catalogue,
    urn: str,
    token: str,
    name: str,
    props: Mapping[str, Any],
    provider: ProviderInfo,
    environment: Mapping[str, str],
    input: str,
    file: str | None,
    line: int | None,
    prop_lines: Mapping[str, int] | None = None,
    input_hops: Mapping[str, tuple[Hop, ...]] | None = None,
    extra_meta: Mapping[str, Any] | None = None,
    root: str = "",
) -> Resource:
    """One Pulumi resource as the model sees it: canonical type, snake_case attributes, region."""
    pc = pulumi_catalogue()
    info = pc.lookup(token)
    rtype = info.type if info is not None else token
    renames = info.renames if info is not None else {}
    block_lines: dict[str, int] = {}
    paths: dict[str, str] = {}
    attrs = normalise_attributes(
        props, renames, pc.free_form_maps, prop_lines, block_lines, paths_out=paths
    )
    package = pc.package_of(token)
    snake_hops = {snake(k): v for k, v in (input_hops or {}).items()}
    region = resolve_region(
        catalogue, package, attrs, provider, environment, name, file, block_lines, snake_hops, line
    )
    facts = catalogue.facts(package)
    unknown = pc.unknown_package(token, catalogue) if info is None else None
    own = facts.tags_of(rtype, attrs) if facts else attrs.get("tags")
    if unknown is not None:  # a map, or Cloud Control's list of {key, value}
        own = _listed_tags(own)
    tags = merge_tags(provider.default_tags, own)
    meta: dict[str, Any] = {
        "block_lines": block_lines,
        "pulumi_urn": urn,
        "pulumi_type": token,
        "pulumi_name": name,
        "pulumi_paths": paths,  # normalised argument path -> the input path as written
    }
    meta.update(extra_meta or {})
    if unknown is not None:  # its resources are checked only for a classification tag
        meta["unknown_package"] = unknown
    return Resource(
        address=urn,
        type=rtype,
        name=name,
        provider=catalogue.canonical_provider(package),
        provider_config=provider.label if provider.explicit else f"default {package}",
        region=region,
        location=Location.UNKNOWN,
        tags=tags,
        attributes=attrs,
        file=file,
        line=line,
        input=input,
        display_name=f"{name} ({token})",
        root=root,
        meta=meta,
    )


def _listed_tags(tags: Any) -> Any:
    """``[{key: k, value: v}, ...]`` (AWS Cloud Control's tags) as ``{k: v}``; others as given."""
    if not isinstance(tags, list):
        return tags
    out: dict[str, Any] = {}
    for item in tags:
        if isinstance(item, Mapping) and isinstance(item.get("key"), str):
            out[item["key"]] = item.get("value")
    return out


def unknown_packages(resources: Iterable[Resource], input_name: str) -> list[ScanIssue]:
    """One warning per package ciiguard does not know, naming how many of its resources were
    not checked (those tagged as holding classified data are CII003 findings)."""
    found: dict[str, list[Resource]] = {}
    for r in resources:
        package = r.meta.get("unknown_package") if isinstance(r.meta, Mapping) else None
        if isinstance(package, str):
            found.setdefault(package, []).append(r)
    return [
        ScanIssue(
            group[0].file,
            group[0].line,
            f"{len(group)} resource(s) of package {package} were not checked for where they "
            f"store data: ciiguard's catalogue does not know the package ({input_name}); "
            "one tagged as holding classified data fails the gate (CII003)",
        )
        for package, group in sorted(found.items())
    ]


def component_gap(token: str, urn: str, file: str | None, line: int | None, why: str) -> Gap:
    """A component whose children ciiguard cannot see (implemented in another language): CII003
    naming it and its package, never a silent pass."""
    package = token.split(":", 1)[0]
    return Gap(
        urn,
        f"component {token} (package {package}) {why}, so the resources it creates were not "
        "checked",
        "scan the stack's 'pulumi preview --json', which lists the component's children",
        file,
        line,
        why="a component whose children were not seen",
    )


def refs_by_property(deps: Any) -> dict[str, frozenset[str]]:
    """``propertyDependencies`` (property -> URNs) as frozensets, tolerating odd shapes."""
    out: dict[str, frozenset[str]] = {}
    if isinstance(deps, Mapping):
        for k, v in deps.items():
            if isinstance(v, Iterable) and not isinstance(v, (str, bytes)):
                out[str(k)] = frozenset(u for u in v if isinstance(u, str))
    return out
