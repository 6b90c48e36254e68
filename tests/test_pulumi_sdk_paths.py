"""Every argument path a flow rule reads exists in Pulumi's own SDK for the tokens that map to it.

Pulumi's bridged providers rename what Terraform calls a list block (``geo_location``) to a plural
(``geoLocations``); ``catalogue/data/pulumi.json`` renames them back per token. A path the SDK
does not have is a path never followed from Pulumi: a personal Cosmos DB account's second region
passed that way. This walks each rule path of every ``aws:`` token through the installed
``pulumi_aws`` SDK's argument classes (its source, as its code generator writes it), applying the
token's renames. The other packages' SDKs are not dependencies; they were checked the same way
when their tokens were added.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path

import pytest

from tests.conftest import ROOT

DATA = ROOT / "ciiguard" / "catalogue" / "data"
_ARG = re.compile(r"^\s+(\w+): (.*?)(?: = None)?,?$")
_NESTED = re.compile(r"'(\w+Args)'")

# Paths of rules written for Terraform arguments the current SDK no longer has, each with why
GONE = {
    # pulumi-aws 7 moved cross-region snapshot copies to aws:redshift/snapshotCopy:SnapshotCopy
    ("aws:redshift/cluster:Cluster", "snapshot_copy[].destination_region"),
}


def _sdk() -> Path:
    pulumi_aws = pytest.importorskip("pulumi_aws", reason="pulumi-aws is a dev dependency")
    return Path(pulumi_aws.__file__).parent


@cache
def _classes(path: Path) -> dict[str, dict[str, str]]:
    """The ``*Args`` classes of one SDK file: class -> {argument: annotation}."""
    out: dict[str, dict[str, str]] = {}
    text = path.read_text(encoding="utf-8")
    for m in re.finditer(r"^class (\w+Args):\n    def __init__\(__self__, \*,\n(.*?)\):\n", text,
                         re.S | re.M):  # fmt: skip
        args = {}
        for line in m.group(2).split("\n"):
            a = _ARG.match(line)
            if a:
                args[a.group(1)] = a.group(2)
        out.setdefault(m.group(1), args)
    return out


def _top(sdk: Path, token: str) -> tuple[Path, dict[str, str]] | None:
    """The resource's own argument class (in its own file: ``TableReplicaInitArgs``)."""
    module = token.split(":")[1].split("/")[0]
    folder = sdk / module if (sdk / module).is_dir() else sdk / f"{module}_"  # lambda_
    for path in folder.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        at = text.find(f'@pulumi.type_token("{token}")')
        if at < 0:
            continue
        m = re.compile(r"args: (?:Optional\[)?(\w+Args)\]?(?: = None)?,").search(text, at)
        return (path.parent, _classes(path)[m.group(1)]) if m else None
    return None


def _missing(sdk: Path, token: str, renames: dict[str, str], path: str) -> str | None:
    """The first segment of ``path`` (Terraform names) the SDK does not have, or None."""
    found = _top(sdk, token)
    if found is None:
        return f"{token}: no resource class in the SDK"
    folder, args = found
    nested = _classes(folder / "_inputs.py") if (folder / "_inputs.py").exists() else {}
    walked: list[str] = []
    for segment in (s for s in re.split(r"\[\]\.?|\.", path.split("~")[0]) if s):
        name = next((p for p in args if renames.get(".".join([*walked, p]), p) == segment), None)
        if name is None:
            return segment
        walked.append(segment)
        inner = _NESTED.search(args[name])
        if inner is None:
            return None  # a scalar, a free-form map or JSON: the rest is the value's own
        args = nested.get(inner.group(1), {})
    return None


def test_every_rule_path_of_an_aws_token_is_in_the_pulumi_sdk() -> None:
    sdk = _sdk()
    tokens = json.loads((DATA / "pulumi.json").read_text(encoding="utf-8"))["types"]
    catalogue = json.loads((DATA / "aws.json").read_text(encoding="utf-8"))
    rules = [*catalogue["replication"], *catalogue.get("located_by", [])]
    problems = []
    for entry in tokens:
        token = entry["token"]
        if not token.startswith("aws:"):
            continue
        for rule in (r for r in rules if r["type"] == entry["type"]):
            for key in ("path", "source_path", "destination_resource_path"):
                path = rule.get(key)
                if not path or (token, path) in GONE:
                    continue
                segment = _missing(sdk, token, entry.get("renames", {}), path)
                if segment is not None:
                    problems.append(f"{token} {key} {path}: no {segment!r}")
    assert problems == []
