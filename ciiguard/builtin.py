"""ciiguard's own behaviour, registered as a plugin through the same hooks third parties use."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ciiguard.catalogue import load_builtin
from ciiguard.classify import Classification, classify_by_tags
from ciiguard.model import Resource
from ciiguard.parsers.base import Parser
from ciiguard.parsers.pulumi_json import PulumiJsonParser
from ciiguard.parsers.pulumi_program import PulumiProgramParser
from ciiguard.parsers.pulumi_yaml import PulumiYamlParser
from ciiguard.parsers.terraform import TerraformParser
from ciiguard.parsers.terraform_plan import TerraformPlanParser
from ciiguard.plugins import hookimpl
from ciiguard.policies import BUILTIN_POLICIES
from ciiguard.policies.base import Policy
from ciiguard.reporters import BUILTIN_REPORTERS
from ciiguard.reporters.base import Reporter
from ciiguard.settings import Settings


@hookimpl
def ciiguard_catalogue() -> Sequence[Mapping[str, Any]]:
    return load_builtin()


@hookimpl
def ciiguard_parsers() -> Sequence[Parser]:
    return [
        TerraformParser(),
        TerraformPlanParser(),
        PulumiYamlParser(),
        PulumiJsonParser(),
        PulumiProgramParser(),
    ]


@hookimpl
def ciiguard_policies() -> Sequence[Policy]:
    return list(BUILTIN_POLICIES)


@hookimpl
def ciiguard_classify(resource: Resource, settings: Settings) -> Classification | None:
    return classify_by_tags(resource, settings)


@hookimpl
def ciiguard_reporters() -> Sequence[Reporter]:
    return list(BUILTIN_REPORTERS)
