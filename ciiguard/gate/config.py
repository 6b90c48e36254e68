"""The config file: ``ciiguard.toml`` or ``[tool.ciiguard]`` in ``pyproject.toml``.

Found upward from the first scanned path (or given with ``--config``). Every key is checked: an
unknown key or a bad value is a ``ConfigError`` naming the file and the key (exit 2). Checks that
need the loaded plugins (policy ids, provider names, regions) run in ``check_against``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ciiguard.catalogue import Catalogue
from ciiguard.errors import UsageError
from ciiguard.gate.config_files import find_config
from ciiguard.model import Enforcement, Location
from ciiguard.settings import DeclaredEndpoint, Settings, module_source_key


def _toml() -> Any:  # (a module: tomllib, or tomli, typed as it is installed)
    """``tomllib`` (``tomli`` before Python 3.11), imported when a config file is read: most runs
    read none, and a re-scan should not pay for the import."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on Python 3.10 only
        import tomli as tomllib
    return tomllib


CONFIG_NAMES = ("ciiguard.toml", "pyproject.toml")
LEVELS = tuple(e.value for e in Enforcement)
FAIL_ON = ("mandatory", "advisory")
SUPPRESSIONS = ("require-reason", "forbid")
DEFAULT_EXEMPTION_MAX_DAYS = 365  # under --policy-config: the longest an exemption may run
POLICY_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]*$")
DEFAULT_WARN_DAYS = 60


class ConfigError(UsageError):
    """A config file that cannot be used: names the file and, where there is one, the key."""

    def __init__(self, file: str, key: str | None, message: str) -> None:
        super().__init__(message)
        self.file = file
        self.key = key
        self.message = message

    def __str__(self) -> str:
        return (
            f"{self.file}: {self.key}: {self.message}"
            if self.key
            else f"{self.file}: {self.message}"
        )


@dataclass(frozen=True)
class Exemption:
    """A config-file waiver: findings of ``policy`` on resources matching ``resource``."""

    resource: str  # address pattern; * and ? are wildcards, everything else is literal
    policy: str  # a policy id, or "*" for every policy
    reason: str
    expires: dt.date
    source: str  # where it is written, e.g. "ciiguard.toml exemptions[0]"

    def matches(self, policy: str, address: str) -> bool:
        if self.policy != "*" and self.policy != policy:
            return False
        pattern = _glob(self.resource)
        base = address.split("[", 1)[0] if address.endswith("]") else address
        return bool(pattern.fullmatch(address) or pattern.fullmatch(base))

    @property
    def literal(self) -> bool:
        """Whether the pattern has no wildcard: it then matches exactly its own text."""
        return not any(c in self.resource for c in _GLOB_CHARS)


@dataclass(frozen=True)
class Config:
    """What a config file says; ``None`` or empty means "not set here"."""

    path: Path | None = None
    display: str = ""  # the file as users should see it
    prefix: str = ""  # "tool.ciiguard." in pyproject.toml, "" in ciiguard.toml
    cii_workload: bool | None = None
    classification_key: str | None = None
    in_scope_values: tuple[str, ...] | None = None
    out_of_scope_values: tuple[str, ...] | None = None
    approval_key: str | None = None
    approval_expiry_key: str | None = None
    approval_warn_days: int | None = None
    allowed_regions: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    enforcement: Mapping[str, str] = field(default_factory=dict)
    fail_on: str | None = None
    soft_fail: bool | None = None
    plugins: tuple[str, ...] = ()
    disable_plugins: tuple[str, ...] = ()
    exemptions: tuple[Exemption, ...] = ()
    baseline: Path | None = None
    # remote module source (normalised, see settings.module_source_key) -> local directory
    module_sources: Mapping[str, Path] = field(default_factory=dict)
    skip_paths: tuple[str, ...] = ()  # globs of paths not scanned
    # inline suppressions: "require-reason" (a suppression needs a reason) or "forbid" (each one
    # found is reported as blocking); approvals: a pattern the reference must match, and the
    # longest remaining validity that counts; exemptions: the longest they may run (days)
    suppressions: str | None = None
    approval_reference_pattern: str | None = None
    approval_max_valid_days: int | None = None
    exemption_max_days: int | None = None
    trusted: bool = False  # the pipeline's own --policy-config, outside the scanned tree
    keys: tuple[str, ...] = ()  # the keys this file sets, as dotted paths ("enforcement.CII001")
    lines: Mapping[str, int] = field(default_factory=dict)  # key path -> line where it is set
    endpoints: tuple[DeclaredEndpoint, ...] = ()

    def key(self, name: str) -> str:
        return f"{self.prefix}{name}"

    def line_of(self, key: str) -> int | None:
        """The line that sets ``key`` (or the table holding it), when it can be found."""
        while key:
            if key in self.lines:
                return self.lines[key]
            key = key[: key.rindex("[")] if key.endswith("]") else key.rpartition(".")[0]
        return None

    def settings(self, base: Settings) -> Settings:
        """``base`` (built from the command line) with this file's values filled in."""
        changes: dict[str, Any] = {}
        if self.cii_workload and not base.cii_workload:
            changes["cii_workload"] = True
        for name in (
            "classification_key",
            "in_scope_values",
            "out_of_scope_values",
            "approval_key",
            "approval_expiry_key",
            "approval_warn_days",
        ):
            value = getattr(self, name)
            if value is not None:
                changes[name] = value
        if self.allowed_regions:
            changes["allowed_regions"] = dict(self.allowed_regions)
        if self.enforcement:
            changes["enforcement"] = {**self.enforcement, **base.enforcement}
        if self.module_sources:
            changes["module_sources"] = {k: str(v) for k, v in self.module_sources.items()}
        if self.skip_paths:
            changes["skip_paths"] = (*base.skip_paths, *self.skip_paths)
        if self.endpoints:
            changes["endpoints"] = (*base.endpoints, *self.endpoints)
        return dataclasses.replace(base, **changes)


# -- finding and reading ------------------------------------------------------------------------
def locate(explicit: str | None, paths: Sequence[str], no_config: bool = False) -> Config:
    """The run's config: ``--config FILE``, else found upward from the first path, else none."""
    if no_config:
        return Config()
    if explicit is not None:
        path = Path(explicit)
        if not path.is_file():
            raise ConfigError(explicit, None, "no such config file")
        return load(path)
    found = find_config(Path(paths[0]) if paths else Path.cwd())
    return load(found) if found is not None else Config()


def display_path(path: Path) -> str:
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def load(path: Path, trusted: bool = False) -> Config:
    """Read and check one config file; ``trusted`` for the pipeline's ``--policy-config``."""
    shown = display_path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            shown, None, f"cannot read: {getattr(exc, 'strerror', None) or exc}"
        ) from None
    toml = _toml()
    try:
        data = toml.loads(text)
    except toml.TOMLDecodeError as exc:
        m = re.search(r"\(at line (\d+), column \d+\)", str(exc))
        where = f"{shown}:{m.group(1)}" if m else shown
        msg = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(exc))
        raise ConfigError(where, None, f"invalid TOML: {msg}") from None
    except (RecursionError, ValueError) as exc:  # nesting or a number beyond what Python reads
        from ciiguard.parsers.nesting import deepest_line, long_number_line

        deep = isinstance(exc, RecursionError)
        line = deepest_line(text) if deep else long_number_line(text)
        where = f"{shown}:{line}" if line else shown
        raise ConfigError(
            where, None, "invalid TOML: nested too deeply" if deep else f"invalid TOML: {exc}"
        ) from None
    if path.name == "pyproject.toml":
        tool = data.get("tool", {})
        section = tool.get("ciiguard") if isinstance(tool, dict) else None
        if section is None:
            raise ConfigError(shown, None, "has no [tool.ciiguard] section")
        prefix = "tool.ciiguard."
    else:
        section, prefix = data, ""
    if not isinstance(section, dict):
        raise ConfigError(shown, prefix.rstrip(".") or None, "expected a table")
    config = _Reader(path, shown, prefix).read(section)
    keys = tuple(_key_paths(section))
    config = dataclasses.replace(config, keys=keys, lines=_key_lines(text, prefix), trusted=trusted)
    if trusted:
        _check_trusted_exemptions(config)
    return config


def key_paths() -> list[str]:
    """Every key a config file may set, as the trust rules name them (``gate.trust.RULES``):
    top-level keys, and ``table.key`` inside the fixed tables."""
    out: list[str] = []
    for top in _TOP:
        fixed = _FIXED_TABLES.get(top)
        if fixed:
            out.extend(f"{top}.{sub}" for sub in fixed)
        else:
            out.append(top)
    return out


def _key_paths(section: Mapping[str, Any]) -> list[str]:
    """The keys a file sets: each top-level key, and each key of a table one level down."""
    out = []
    for k, v in section.items():
        out.append(str(k))
        if isinstance(v, dict):
            out.extend(f"{k}.{sub}" for sub in v)
    return out


_HEADER = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(?:#.*)?$")
_ASSIGN = re.compile(
    r"^\s*((?:[A-Za-z0-9_-]+|\"[^\"]*\"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|\"[^\"]*\"|'[^']*'))*)\s*="
)
_KEY_PART = re.compile(r"\"([^\"]*)\"|'([^']*)'|([A-Za-z0-9_-]+)")


def _dotted(text: str) -> str:
    return ".".join(a or b or c for a, b, c in _KEY_PART.findall(text))


def _key_lines(text: str, prefix: str) -> dict[str, int]:
    """Where each key path is set (first line; a table's header for the table): a light scan
    of the TOML text, for pointing findings at a line. Keys it cannot place have no line."""
    out: dict[str, int] = {}
    arrays: dict[str, int] = {}  # [[table]] headers seen so far, for "table[i]"
    table = ""
    strip = prefix.rstrip(".")
    for n, raw in enumerate(text.splitlines(), 1):
        header = _HEADER.match(raw)
        if header:
            table = _dotted(header.group(1))
            path = table
            if raw.lstrip().startswith("[["):
                index = arrays.get(table, 0)
                arrays[table] = index + 1
                item = f"{table}[{index}]"
                if not strip or item.startswith(strip + "."):
                    out.setdefault(item[len(strip) + 1 :] if strip else item, n)
        else:
            assign = _ASSIGN.match(raw)
            if assign is None:
                continue
            path = ".".join(p for p in (table, _dotted(assign.group(1))) if p)
        if strip:
            if path != strip and not path.startswith(strip + "."):
                continue
            path = path[len(strip) + 1 :]
        if path:
            out.setdefault(path, n)
    return out


_GLOB_CHARS = "*?"


def concrete(pattern: str) -> bool:
    """Whether an exemption's resource pattern names something: its literal start (up to the
    first wildcard) holds an address separator followed by a name (``aws_s3_bucket.legacy_*``,
    ``module.store.*``, ``urn:...::orders``), so ``*``, ``aws_*`` or ``aws_s3_bucket.*`` are not."""
    cut = min((i for i, c in enumerate(pattern) if c in _GLOB_CHARS), default=len(pattern))
    literal = pattern[:cut]
    return bool(re.search(r"(\.|::)[^.:\s]", literal))


def _check_trusted_exemptions(config: Config) -> None:
    """Under ``--policy-config`` an exemption names a concrete resource and ends within
    ``exemption_max_days`` (default one year) of today."""
    limit = config.exemption_max_days or DEFAULT_EXEMPTION_MAX_DAYS
    latest = dt.date.today() + dt.timedelta(days=limit)
    for i, ex in enumerate(config.exemptions):
        key = config.key(f"exemptions[{i}]")
        if not concrete(ex.resource):
            raise ConfigError(
                config.display,
                f"{key}.resource",
                f"{ex.resource!r} is not a concrete resource pattern: name at least the resource "
                "type and the start of its name (e.g. aws_s3_bucket.legacy_*)",
            )
        if ex.expires > latest:
            raise ConfigError(
                config.display,
                f"{key}.expires",
                f"{ex.expires.isoformat()} is more than {limit} days away (exemption_max_days); "
                "an exemption is a dated promise, renew it when it runs out",
            )


# -- validation ----------------------------------------------------------------------------------
_TOP = (
    "cii_workload",
    "classification",
    "approval",
    "allowed_regions",
    "enforcement",
    "fail_on",
    "soft_fail",
    "plugins",
    "disable_plugins",
    "exemptions",
    "baseline",
    "module_sources",
    "skip_paths",
    "suppressions",
    "exemption_max_days",
    "endpoints",
)
_CLASSIFICATION = ("key", "in_scope", "out_of_scope")
_APPROVAL = ("key", "expiry_key", "warn_days", "reference_pattern", "max_valid_days")
_FIXED_TABLES = {"classification": _CLASSIFICATION, "approval": _APPROVAL}
_EXEMPTION = ("resource", "policy", "reason", "expires")
_ENDPOINT = ("match", "location", "reason")
ENDPOINT_LOCATIONS = (Location.MAINLAND.value, Location.OUTSIDE.value)


class _Reader:
    def __init__(self, path: Path, shown: str, prefix: str) -> None:
        self.path = path
        self.shown = shown
        self.prefix = prefix

    def error(self, key: str, message: str) -> ConfigError:
        return ConfigError(self.shown, f"{self.prefix}{key}", message)

    def known(self, table: Mapping[str, Any], allowed: Sequence[str], where: str) -> None:
        for k in table:
            if k not in allowed:
                close = _close(str(k), allowed, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                known = ", ".join(allowed)
                raise self.error(f"{where}{k}", f"unknown key{hint}; known keys: {known}")

    def boolean(self, value: Any, key: str) -> bool:
        if not isinstance(value, bool):
            raise self.error(key, f"expected true or false, got {_show(value)}")
        return value

    def string(self, value: Any, key: str) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.error(key, f"expected a non-empty string, got {_show(value)}")
        return value.strip()

    def strings(self, value: Any, key: str) -> tuple[str, ...]:
        if not isinstance(value, list):
            raise self.error(key, f"expected a list of strings, got {_show(value)}")
        return tuple(self.string(v, f"{key}[{i}]") for i, v in enumerate(value))

    def table(self, value: Any, key: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.error(key, f"expected a table, got {_show(value)}")
        return value

    def choice(self, value: Any, key: str, options: Sequence[str]) -> str:
        if not isinstance(value, str) or value not in options:
            raise self.error(key, f"expected one of {', '.join(options)}, got {_show(value)}")
        return value

    def date(self, value: Any, key: str) -> dt.date:
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
            try:
                return dt.date.fromisoformat(value.strip())
            except ValueError:
                pass
        raise self.error(key, f"expected a date (YYYY-MM-DD), got {_show(value)}")

    def read(self, data: Mapping[str, Any]) -> Config:
        self.known(data, _TOP, "")
        out: dict[str, Any] = {"path": self.path, "display": self.shown, "prefix": self.prefix}
        if "cii_workload" in data:
            out["cii_workload"] = self.boolean(data["cii_workload"], "cii_workload")
        if "soft_fail" in data:
            out["soft_fail"] = self.boolean(data["soft_fail"], "soft_fail")
        if "fail_on" in data:
            out["fail_on"] = self.choice(data["fail_on"], "fail_on", FAIL_ON)
        if "classification" in data:
            cls = self.table(data["classification"], "classification")
            self.known(cls, _CLASSIFICATION, "classification.")
            if "key" in cls:
                out["classification_key"] = self.string(cls["key"], "classification.key")
            for name, attr in (
                ("in_scope", "in_scope_values"),
                ("out_of_scope", "out_of_scope_values"),
            ):
                if name in cls:
                    values = self.strings(cls[name], f"classification.{name}")
                    out[attr] = tuple(v.lower() for v in values)
            both = set(out.get("in_scope_values") or ()) & set(out.get("out_of_scope_values") or ())
            if both:
                raise self.error(
                    "classification", f"{', '.join(sorted(both))} is both in_scope and out_of_scope"
                )
        if "approval" in data:
            appr = self.table(data["approval"], "approval")
            self.known(appr, _APPROVAL, "approval.")
            if "key" in appr:
                out["approval_key"] = self.string(appr["key"], "approval.key")
            if "expiry_key" in appr:
                out["approval_expiry_key"] = self.string(appr["expiry_key"], "approval.expiry_key")
            if "warn_days" in appr:
                days = appr["warn_days"]
                if isinstance(days, bool) or not isinstance(days, int) or days < 0:
                    raise self.error(
                        "approval.warn_days", f"expected a whole number >= 0, got {_show(days)}"
                    )
                out["approval_warn_days"] = days
            if "reference_pattern" in appr:
                pattern = self.string(appr["reference_pattern"], "approval.reference_pattern")
                try:
                    re.compile(pattern)
                except re.error as exc:
                    raise self.error(
                        "approval.reference_pattern", f"not a regular expression: {exc}"
                    ) from None
                out["approval_reference_pattern"] = pattern
            if "max_valid_days" in appr:
                out["approval_max_valid_days"] = self.days(
                    appr["max_valid_days"], "approval.max_valid_days"
                )
        if "allowed_regions" in data:
            out["allowed_regions"] = self.allowed(data["allowed_regions"])
        if "enforcement" in data:
            table = self.table(data["enforcement"], "enforcement")
            levels: dict[str, str] = {}
            for pid, level in table.items():
                if not POLICY_ID.match(pid):
                    raise self.error(f"enforcement.{pid}", "not a policy id")
                levels[pid] = self.choice(level, f"enforcement.{pid}", LEVELS)
            out["enforcement"] = levels
        if "skip_paths" in data:
            out["skip_paths"] = self.strings(data["skip_paths"], "skip_paths")
        for name in ("plugins", "disable_plugins"):
            if name in data:
                out[name] = self.strings(data[name], name)
        if "exemptions" in data:
            out["exemptions"] = self.exemptions(data["exemptions"])
        if "baseline" in data:
            out["baseline"] = self.path.parent / self.string(data["baseline"], "baseline")
        if "module_sources" in data:
            out["module_sources"] = self.module_sources(data["module_sources"])
        if "suppressions" in data:
            out["suppressions"] = self.choice(data["suppressions"], "suppressions", SUPPRESSIONS)
        if "exemption_max_days" in data:
            out["exemption_max_days"] = self.days(data["exemption_max_days"], "exemption_max_days")
        if "endpoints" in data:
            out["endpoints"] = self.endpoints(data["endpoints"])
        return Config(**out)

    def module_sources(self, value: Any) -> dict[str, Path]:
        """``"<remote source>" = "<directory relative to this file>"``; the directory must exist
        (containment in the scanned tree is checked where a module call uses it)."""
        table = self.table(value, "module_sources")
        out: dict[str, Path] = {}
        for source, directory in table.items():
            key = f'module_sources."{source}"'
            name, subdir = module_source_key(str(source))
            if not name or subdir:
                raise self.error(
                    key,
                    "name the module source without a //subdirectory (the subdirectory a "
                    "module call names is appended to the mapped directory)",
                )
            if name.startswith(("./", "../", "/")):
                raise self.error(key, "a local path needs no mapping")
            target = (self.path.parent / self.string(directory, key)).resolve()
            if not target.is_dir():
                raise self.error(key, f"{_show(directory)} is not a directory")
            if name in out:
                raise self.error(key, f"{name!r} is mapped twice")
            out[name] = target
        return out

    def days(self, value: Any, key: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise self.error(key, f"expected a whole number of days >= 1, got {_show(value)}")
        return value

    def allowed(self, value: Any) -> dict[str, tuple[str, ...]]:
        if isinstance(value, list):
            regions = self.strings(value, "allowed_regions")
            if not regions:
                raise self.error("allowed_regions", "an empty list would allow no region at all")
            return {"*": regions}
        table = self.table(value, "allowed_regions")
        out: dict[str, tuple[str, ...]] = {}
        for provider, regions in table.items():
            values = self.strings(regions, f"allowed_regions.{provider}")
            if not values:
                raise self.error(
                    f"allowed_regions.{provider}", "an empty list would allow no region at all"
                )
            out[provider] = values
        return out

    def exemptions(self, value: Any) -> tuple[Exemption, ...]:
        if not isinstance(value, list):
            raise self.error("exemptions", "expected an array of tables ([[exemptions]])")
        out = []
        for i, item in enumerate(value):
            key = f"exemptions[{i}]"
            entry = self.table(item, key)
            self.known(entry, _EXEMPTION, f"{key}.")
            for required in _EXEMPTION:
                if required not in entry:
                    raise self.error(
                        f"{key}.{required}",
                        "missing (an exemption needs resource, policy, reason and expires)",
                    )
            policy = self.string(entry["policy"], f"{key}.policy")
            if policy != "*" and not POLICY_ID.match(policy):
                raise self.error(f"{key}.policy", f"not a policy id: {policy!r}")
            out.append(
                Exemption(
                    resource=self.string(entry["resource"], f"{key}.resource"),
                    policy=policy,
                    reason=self.string(entry["reason"], f"{key}.reason"),
                    expires=self.date(entry["expires"], f"{key}.expires"),
                    source=f"{self.shown} {self.prefix}{key}",
                )
            )
        return tuple(out)

    def endpoints(self, value: Any) -> tuple[DeclaredEndpoint, ...]:
        """``[[endpoints]]``: where external endpoints (URLs, hosts, e-mail addresses) are."""
        if not isinstance(value, list):
            raise self.error("endpoints", "expected an array of tables ([[endpoints]])")
        out = []
        for i, item in enumerate(value):
            key = f"endpoints[{i}]"
            entry = self.table(item, key)
            self.known(entry, _ENDPOINT, f"{key}.")
            for required in _ENDPOINT:
                if required not in entry:
                    raise self.error(
                        f"{key}.{required}",
                        "missing (an endpoint declaration needs match, location and reason)",
                    )
            match = self.string(entry["match"], f"{key}.match")
            if any(c.isspace() or not c.isprintable() for c in match):
                raise self.error(f"{key}.match", "must not contain spaces or control characters")
            location = self.choice(entry["location"], f"{key}.location", ENDPOINT_LOCATIONS)
            out.append(
                DeclaredEndpoint(
                    match=match,
                    location=location,
                    reason=self.string(entry["reason"], f"{key}.reason"),
                    source=f"{self.shown} {self.prefix}{key}",
                )
            )
        return tuple(out)


def check_against(config: Config, policy_ids: Iterable[str], catalogue: Catalogue) -> Config:
    """Checks that need the loaded plugins: policy ids exist, providers and regions are known.

    Returns the config with provider names made canonical (``azure`` -> ``azurerm``).
    """
    if config.path is None:
        return config
    ids = sorted(policy_ids)

    def unknown_policy(key: str, pid: str) -> ConfigError:
        close = _close(pid, ids, n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        return ConfigError(
            config.display,
            config.key(key),
            f"unknown policy {pid!r}{hint}; known: {', '.join(ids)}",
        )

    for pid in config.enforcement:
        if pid not in ids:
            raise unknown_policy(f"enforcement.{pid}", pid)
    for i, ex in enumerate(config.exemptions):
        if ex.policy != "*" and ex.policy not in ids:
            raise unknown_policy(f"exemptions[{i}].policy", ex.policy)
    allowed: dict[str, tuple[str, ...]] = {}
    providers = sorted(catalogue.providers)
    for provider, regions in config.allowed_regions.items():
        key = "allowed_regions" if provider == "*" else f"allowed_regions.{provider}"
        if provider == "*":
            candidates = providers
        else:
            canonical = catalogue.canonical_provider(provider)
            if canonical not in catalogue.providers:
                raise ConfigError(
                    config.display,
                    config.key(key),
                    f"unknown provider {provider!r}; known: {', '.join(providers)}",
                )
            candidates = [canonical]
        for region in regions:
            if not any(catalogue.location(p, region)[0] is Location.MAINLAND for p in candidates):
                where = "any provider" if provider == "*" else candidates[0]
                raise ConfigError(
                    config.display,
                    config.key(key),
                    f"{region!r} is not a mainland-China region of {where}; allowed regions can "
                    "only narrow the mainland",
                )
        allowed[provider if provider == "*" else candidates[0]] = regions
    return dataclasses.replace(config, allowed_regions=allowed)


# compiled once per pattern: every finding is tested against the exemptions, and rebuilding
# the regex each time (re.escape per character, and past 512 patterns re's own cache no longer
# holds them) made 2,000 findings x 1,000 exemptions take 34 s
@functools.cache
def _glob(pattern: str) -> re.Pattern[str]:
    """``*`` and ``?`` wildcards; brackets and dots are literal (addresses contain ``[0]``)."""
    parts = [".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern]
    return re.compile("".join(parts))


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return "a table" if isinstance(value, dict) else "a list"
    return repr(value)


def _close(word: str, choices: Any, n: int = 1) -> list[str]:
    """``difflib.get_close_matches`` (imported when a config file has a typo, not on every run)."""
    import difflib

    return difflib.get_close_matches(word, choices, n=n)
