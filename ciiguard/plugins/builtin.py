"""ciiguard's own behaviour, registered as a plugin through the same hooks third parties use."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

from ciiguard.catalogue import load_builtin
from ciiguard.model import ParseOutput, Resource
from ciiguard.parsers.base import ParseContext, Parser
from ciiguard.parsers.terraform.parser import TerraformParser
from ciiguard.plugins import hookimpl
from ciiguard.plugins.lazy import Lazy
from ciiguard.policies import BUILTIN_POLICIES
from ciiguard.policies.base import Policy
from ciiguard.reporters.base import Report, Reporter
from ciiguard.resolve.classify import Classification, classify_by_tags
from ciiguard.settings import Settings


@hookimpl
def ciiguard_catalogue() -> Sequence[Mapping[str, Any]]:
    return load_builtin()


class LazyParser(Lazy[Parser]):
    """A built-in parser whose module is imported only once a file could be its input.

    ``could_claim`` is a cheap necessary condition of the real ``claims`` (tested): a Terraform
    scan then never imports the Pulumi or plan readers, a fifth of a small scan's start-up.
    """

    def __init__(
        self, name: str, module: str, cls: str, could_claim: Callable[[Path], bool]
    ) -> None:
        super().__init__(name, module, cls)
        self.could_claim = could_claim

    def claims(self, path: Path) -> bool:
        return self.could_claim(path) and self.real.claims(path)

    def parse(self, files: list[Path], ctx: ParseContext) -> ParseOutput:
        return self.real.parse(files, ctx)


_PULUMI_PROJECT = ("Pulumi.yaml", "Pulumi.yml")
_TERRAFORM_SOURCE = (".tf.json", ".tfvars.json", ".tf", ".tfvars")


_TERRAGRUNT = ("terragrunt.hcl", "terragrunt.hcl.json", "terragrunt.stack.hcl")


def _terragrunt(path: Path) -> bool:
    return path.name in _TERRAGRUNT


def _pulumi_project(path: Path) -> bool:
    return path.name in _PULUMI_PROJECT


def _json_not_terraform(path: Path) -> bool:
    return path.suffix.lower() == ".json" and not path.name.lower().endswith(".tf.json")


def _not_terraform_source(path: Path) -> bool:
    return not path.name.lower().endswith(_TERRAFORM_SOURCE)


@hookimpl
def ciiguard_parsers() -> Sequence[Parser]:
    return [
        # Terragrunt first: it tells the Terraform reader which directories its units run
        LazyParser(
            "terragrunt", "ciiguard.parsers.terragrunt.parser", "TerragruntParser", _terragrunt
        ),
        TerraformParser(),
        LazyParser(
            "terraform-plan", "ciiguard.parsers.terraform.plan", "TerraformPlanParser",
            _not_terraform_source,
        ),
        LazyParser(
            "pulumi-yaml", "ciiguard.parsers.pulumi.yaml_program", "PulumiYamlParser", _pulumi_project
        ),
        LazyParser(
            "pulumi-json", "ciiguard.parsers.pulumi.state", "PulumiJsonParser", _json_not_terraform
        ),
        LazyParser(
            "pulumi-program", "ciiguard.parsers.pulumi.program", "PulumiProgramParser",
            _pulumi_project,
        ),
    ]  # fmt: skip


@hookimpl
def ciiguard_policies() -> Sequence[Policy]:
    return list(BUILTIN_POLICIES)


@hookimpl
def ciiguard_classify(resource: Resource, settings: Settings) -> Classification | None:
    return classify_by_tags(resource, settings)


class LazyReporter(Lazy[Reporter]):
    """A built-in format whose module is imported when a report is rendered in it (a run
    renders one or two of the six; junit's XML machinery alone costs more than the rest)."""

    @property
    def description(self) -> str:
        return self.real.description

    def render(self, report: Report) -> str:
        return self.real.render(report)

    def writer(self) -> Callable[[Report, TextIO], None] | None:
        """The format's ``write(report, stream)`` when it streams its output (``json``)."""
        return getattr(self.real, "write", None)


BUILTIN_REPORTERS: tuple[Reporter, ...] = (
    LazyReporter("text", "ciiguard.reporters.text", "TextReporter"),
    LazyReporter("json", "ciiguard.reporters.json_report", "JsonReporter"),
    LazyReporter("sarif", "ciiguard.reporters.sarif", "SarifReporter"),
    LazyReporter("junit", "ciiguard.reporters.junit", "JunitReporter"),
    LazyReporter("junit-xunit", "ciiguard.reporters.junit", "JunitXunitReporter"),
    LazyReporter("github", "ciiguard.reporters.github", "GithubReporter"),
    LazyReporter("markdown", "ciiguard.reporters.markdown", "MarkdownReporter"),
)


@hookimpl
def ciiguard_reporters() -> Sequence[Reporter]:
    return list(BUILTIN_REPORTERS)
