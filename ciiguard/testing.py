"""Test helpers for ciiguard policies and plugins (public API): scan a snippet, get violations.

ciiguard installs this module as a pytest plugin (entry point ``pytest11``), so any test suite in
an environment with ciiguard gets the ``ciiguard_scan`` fixture::

    def test_bucket_without_customer_key_is_flagged(ciiguard_scan):
        outcome = ciiguard_scan.terraform(BUCKET_WITHOUT_KMS)
        assert outcome.addresses("ACME001") == ["aws_s3_bucket.orders"]

Snippets are written to a fresh directory under the name a real project uses (``main.tf``,
``plan.json``, ``Pulumi.yaml``) and scanned by the real, registered parsers, the built-in policies
and the plugins under test, exactly as ``ciiguard scan`` would. Which plugins: those named by the
``ciiguard_plugins`` ini option (``[tool.pytest.ini_options] ciiguard_plugins = ["acme.plugin"]``)
or returned by an overridden ``ciiguard_plugins`` fixture. Installed entry-point plugins are not
loaded unless asked for (``autoload=True``), so tests do not depend on what else is installed.

A scan that cannot be completed (unreadable snippet, a plugin that crashed) raises
``ScanIncomplete``, so a test can never pass because its input was not read. Pass
``check=False`` to inspect ``outcome.errors`` instead.

Importing this module is cheap: the scanner is imported on first use, so the plugin costs
unrelated pytest runs nothing. Do not also list it in ``pytest_plugins``; disable it with
``-p no:ciiguard.testing``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import json
import os
import tempfile
import textwrap
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from ciiguard.model import Resource, ScanIssue, ScanResult, Violation
    from ciiguard.plugins.manager import PluginHost
    from ciiguard.settings import Settings

__all__ = [
    "Outcome",
    "ScanIncomplete",
    "Scanner",
    "ciiguard_plugins",
    "ciiguard_scan",
    "claimed_by",
    "scan_files",
    "scan_path",
    "scan_plan",
    "scan_pulumi_yaml",
    "scan_terraform",
]

#: What a plugin under test may be given as: an import path, or the module or object itself.
PluginSpec = str | ModuleType | object

TERRAFORM_FILE = "main.tf"
PLAN_FILE = "plan.json"
PULUMI_FILE = "Pulumi.yaml"
INI_PLUGINS = "ciiguard_plugins"


class ScanIncomplete(AssertionError):
    """The scan could not be completed (``ciiguard scan`` would exit 2): the errors, one a line.

    When a plugin raised, the original exception is chained (``__cause__``), so pytest shows the
    plugin's traceback below this error.
    """

    def __init__(self, errors: Sequence[str]) -> None:
        self.errors = list(errors)
        lines = "\n".join(f"  {e}" for e in self.errors)
        super().__init__(f"the scan could not be completed (exit code 2):\n{lines}")


@dataclasses.dataclass(frozen=True)
class Outcome:
    """What a scan found, with shortcuts for the assertions policy tests make."""

    result: ScanResult

    @property
    def violations(self) -> list[Violation]:
        """Every violation, in report order (file, line, policy, resource)."""
        return list(self.result.violations)

    @property
    def ids(self) -> list[str]:
        """The policy id of each violation, in report order (repeats kept)."""
        return [v.policy for v in self.result.violations]

    @property
    def errors(self) -> list[str]:
        """Why the scan is incomplete, one rendered line each (empty when it completed)."""
        return [e.render() for e in self.result.errors]

    @property
    def issues(self) -> list[ScanIssue]:
        return list(self.result.errors)

    @property
    def resources(self) -> list[Resource]:
        return list(self.result.resources)

    @property
    def exit_code(self) -> int:
        """What ``ciiguard scan`` would exit with: 0 pass, 1 blocking violation, 2 incomplete."""
        return self.result.exit_code

    def of(self, policy: str) -> list[Violation]:
        """The violations of one policy."""
        return [v for v in self.result.violations if v.policy == policy]

    def addresses(self, policy: str | None = None) -> list[str]:
        """Addresses of the violating resources (of one policy, or of all), in report order."""
        return [v.resource for v in self.result.violations if policy in (None, v.policy)]

    def resource(self, address: str) -> Resource:
        """The resolved resource at ``address`` (region, location, scope, flows, attributes)."""
        for r in self.result.resources:
            if r.address == address:
                return r
        known = ", ".join(r.address for r in self.result.resources) or "none"
        raise KeyError(f"no resource {address!r} in the scan (resources: {known})")


class Scanner:
    """Scans snippets, files or directories with the built-ins plus the plugins under test.

    Options given here apply to every scan and can be overridden per call: ``cii_workload``
    (every data-bearing resource in scope), ``variables`` (like ``--var NAME=VALUE``), ``env``
    (the environment parsers see; empty by default so the developer's ``AWS_REGION`` cannot
    change a result), ``enforcement`` (policy id -> mandatory/advisory/disabled), ``disabled``
    (plugin names not to load), ``settings`` (a whole ``ciiguard.Settings``), ``check`` (raise
    ``ScanIncomplete`` on errors; default True).
    """

    def __init__(
        self,
        plugins: Sequence[PluginSpec] = (),
        *,
        workdir: Path | str | None = None,
        autoload: bool = False,
        **options: Any,
    ) -> None:
        self.plugins = list(plugins)
        self.workdir = Path(workdir) if workdir is not None else None
        self.autoload = autoload
        self.options = options
        self._counter = itertools.count(1)

    def terraform(
        self, source: str, *, files: Mapping[str, str] | None = None, **options: Any
    ) -> Outcome:
        """Scan a Terraform configuration given as the text of ``main.tf`` (dedented)."""
        return self.files({TERRAFORM_FILE: source, **(files or {})}, **options)

    def plan(
        self,
        source: str | Mapping[str, Any],
        *,
        files: Mapping[str, str] | None = None,
        **options: Any,
    ) -> Outcome:
        """Scan ``terraform show -json`` output, as text or as the decoded mapping."""
        text = source if isinstance(source, str) else json.dumps(source, indent=1)
        return self.files({PLAN_FILE: text, **(files or {})}, **options)

    def pulumi_yaml(
        self, source: str, *, files: Mapping[str, str] | None = None, **options: Any
    ) -> Outcome:
        """Scan a Pulumi YAML program given as the text of ``Pulumi.yaml``; stack settings go in
        ``files={"Pulumi.dev.yaml": ...}``."""
        return self.files({PULUMI_FILE: source, **(files or {})}, **options)

    def files(self, files: Mapping[str, str], **options: Any) -> Outcome:
        """Write ``files`` (relative name -> text, dedented) to a fresh directory and scan it."""
        with self._fresh_dir() as root:
            for name, text in files.items():
                target = root / name
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(_dedent(text), encoding="utf-8")
            return self._scan(root, ".", options)

    def path(self, path: Path | str, **options: Any) -> Outcome:
        """Scan an existing directory or file; reported paths are relative to the directory."""
        p = Path(path).resolve()
        if p.is_dir():
            return self._scan(p, ".", options)
        return self._scan(p.parent, p.name, options)

    @contextlib.contextmanager
    def _fresh_dir(self) -> Iterator[Path]:
        if self.workdir is not None:
            d = self.workdir / f"ciiguard-scan-{next(self._counter)}"
            d.mkdir(parents=True, exist_ok=False)
            yield d
            return
        with tempfile.TemporaryDirectory(prefix="ciiguard-scan-") as tmp:
            yield Path(tmp)

    def _scan(self, cwd: Path, target: str, call_options: Mapping[str, Any]) -> Outcome:
        from ciiguard.scan import scan

        options = {**self.options, **call_options}
        check = bool(options.pop("check", True))
        disabled = list(options.pop("disabled", ()))
        settings = _settings(options)
        host = _host(self.plugins, disabled, self.autoload)
        with _chdir(cwd):
            result = scan([Path(target)], settings, host)
        if check and result.errors:
            error = ScanIncomplete([e.render() for e in result.errors])
            cause = host.exceptions[0] if host.exceptions else None
            raise error from cause
        return Outcome(result)


def scan_terraform(source: str, plugins: Sequence[PluginSpec] = (), **options: Any) -> Outcome:
    """Scan a Terraform snippet (the text of ``main.tf``) outside pytest fixtures."""
    return Scanner(plugins).terraform(source, **options)


def scan_plan(
    source: str | Mapping[str, Any], plugins: Sequence[PluginSpec] = (), **options: Any
) -> Outcome:
    """Scan ``terraform show -json`` output written to ``plan.json``."""
    return Scanner(plugins).plan(source, **options)


def scan_pulumi_yaml(source: str, plugins: Sequence[PluginSpec] = (), **options: Any) -> Outcome:
    """Scan a Pulumi YAML program written to ``Pulumi.yaml``."""
    return Scanner(plugins).pulumi_yaml(source, **options)


def scan_files(
    files: Mapping[str, str], plugins: Sequence[PluginSpec] = (), **options: Any
) -> Outcome:
    """Scan several files (relative name -> text) written to one fresh directory."""
    return Scanner(plugins).files(files, **options)


def scan_path(path: Path | str, plugins: Sequence[PluginSpec] = (), **options: Any) -> Outcome:
    """Scan an existing directory or file, as ``ciiguard scan PATH`` would."""
    return Scanner(plugins).path(path, **options)


def claimed_by(filename: str, text: str = "", plugins: Sequence[PluginSpec] = ()) -> str | None:
    """The name of the registered parser that would read ``filename`` (with content ``text``),
    or None when no parser claims it: lets a test skip until a parser for its format exists."""
    from ciiguard.scan import gather

    host = _host(plugins, (), autoload=False)
    parsers = gather(host).parsers
    with tempfile.TemporaryDirectory(prefix="ciiguard-claims-") as tmp:
        path = Path(tmp) / filename
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(_dedent(text), encoding="utf-8")
        for parser in parsers:
            with contextlib.suppress(Exception):
                if parser.claims(path):
                    return str(getattr(parser, "name", type(parser).__name__))
    return None


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        INI_PLUGINS,
        type="args",
        default=[],
        help="ciiguard plugins (import paths) that the ciiguard_scan fixture registers",
    )


@pytest.fixture
def ciiguard_plugins(request: pytest.FixtureRequest) -> list[PluginSpec]:
    """The plugins ``ciiguard_scan`` registers: the ``ciiguard_plugins`` ini option by default.

    Override this fixture to pass module objects or plugin instances instead.
    """
    return list(request.config.getini(INI_PLUGINS))


@pytest.fixture
def ciiguard_scan(ciiguard_plugins: list[PluginSpec], tmp_path: Path) -> Scanner:
    """A ``Scanner`` with the plugins under test, writing snippets under the test's tmp_path."""
    return Scanner(ciiguard_plugins, workdir=tmp_path)


def _host(plugins: Sequence[PluginSpec], disabled: Sequence[str], autoload: bool) -> PluginHost:
    from ciiguard.plugins.manager import build

    modules = [p for p in plugins if isinstance(p, str)]
    objects = [(_plugin_name(p), p) for p in plugins if not isinstance(p, str)]
    return build(modules, disabled, autoload=autoload, objects=objects)


def _plugin_name(plugin: object) -> str:
    if isinstance(plugin, ModuleType):
        return plugin.__name__
    return f"{type(plugin).__module__}.{type(plugin).__qualname__}"


def _settings(options: dict[str, Any]) -> Settings:
    from ciiguard.settings import Settings

    given = options.pop("settings", None)
    base = given or Settings()
    changes: dict[str, Any] = {}
    if "env" in options or given is None:  # hermetic unless the test says otherwise
        changes["environment"] = dict(options.pop("env", None) or {})
    if given is None and "use_cache" in {f.name for f in dataclasses.fields(base)}:
        changes["use_cache"] = False  # always the plugin's current code, no user cache writes
    variables = options.pop("variables", None)
    if variables:
        changes["var_inputs"] = tuple(("var", f"{k}={v}") for k, v in variables.items())
    field_names = {f.name for f in dataclasses.fields(base)}
    unknown = sorted(set(options) - field_names)
    if unknown:
        raise TypeError(f"unknown scan option(s): {', '.join(unknown)}")
    changes.update(options)
    return dataclasses.replace(base, **changes)


@contextlib.contextmanager
def _chdir(path: Path) -> Iterator[None]:
    """Scan from the snippet's directory so reported files read ``main.tf``, not a temp path."""
    before = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(before)


def _dedent(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")
