"""CNKMS001: classified data stores are encrypted with a customer-managed KMS key in AWS China.

Without a customer-managed key, AWS encrypts with a key it manages (SSE-S3, ``aws/rds``, an AWS
owned DynamoDB key): the operator cannot restrict, audit or revoke its use. A key in the global
``aws`` partition, or in a region outside the mainland, puts the means of decrypting classified
data outside China. Which argument names the key, per resource type, is data
(``encryption.json``, a source per entry). Only ``ciiguard.*`` public names are used.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

import ciiguard
from ciiguard import Finding, Location, PolicyContext, Resource, Unknown

POLICY_ID = "CNKMS001"
CHINA_PARTITION = "aws-cn"
KEY_TYPES = frozenset(
    {"aws_kms_key", "aws_kms_replica_key", "aws_kms_external_key", "aws_kms_alias"}
)
AWS_MANAGED_ALIAS = "alias/aws/"


@dataclass(frozen=True)
class Setting:
    """Where one resource type declares its encryption (paths like ``encrypt_at_rest[].enabled``)."""

    key: str
    enabled: str | None = None
    algorithm: str | None = None
    algorithm_values: tuple[str, ...] = ()

    @classmethod
    def from_data(cls, entry: Mapping[str, Any]) -> Setting:
        algorithm = entry.get("algorithm") or {}
        return cls(
            key=entry["key"],
            enabled=entry.get("enabled"),
            algorithm=algorithm.get("path"),
            algorithm_values=tuple(algorithm.get("values", ())),
        )


@dataclass(frozen=True)
class Rule:
    """A resource type's own encryption arguments, and optionally a companion resource type that
    configures them instead (``aws_s3_bucket_server_side_encryption_configuration``)."""

    own: Setting
    companion_type: str | None = None
    companion_link: str | None = None
    companion: Setting | None = None


def load_rules() -> dict[str, Rule]:
    text = resources.files(__package__).joinpath("encryption.json").read_text(encoding="utf-8")
    rules: dict[str, Rule] = {}
    for entry in json.loads(text)["types"]:
        comp = entry.get("companion")
        rules[entry["type"]] = Rule(
            own=Setting.from_data(entry),
            companion_type=comp["type"] if comp else None,
            companion_link=comp["link"] if comp else None,
            companion=Setting.from_data(comp) if comp else None,
        )
    return rules


RULES = load_rules()


def values_at(value: Any, path: str) -> list[Any]:
    """Every value at ``path`` (``a[].b``: blocks are lists of mappings). Missing parts give
    nothing; an ``Unknown`` on the way is returned as is (the block is not known before apply)."""
    if isinstance(value, Unknown):
        return [value]
    if not path:
        return [] if value is None else [value]
    head, _, rest = path.partition(".")
    name, is_list = (head[:-2], True) if head.endswith("[]") else (head, False)
    if not isinstance(value, Mapping):
        return []
    child = value.get(name)
    if is_list and isinstance(child, list):
        return [v for item in child for v in values_at(item, rest)]
    return values_at(child, rest)


@dataclass(frozen=True)
class Problem:
    message: str
    evidence: str
    region: str | None = None


def _refers_to(value: Any, target: Resource) -> bool:
    base = target.address.split("[", 1)[0]
    if isinstance(value, Unknown):
        return any(
            ref in (target.address, base) or ref.startswith(base + "[") for ref in value.refs
        )
    return isinstance(value, str) and value == target.attributes.get("bucket")


def _referenced(value: Unknown, ctx: PolicyContext) -> list[Resource]:
    """The resources a value not known before apply was derived from (all instances of a
    counted resource)."""
    return [r for ref in sorted(value.refs) for r in ctx.instances(ref)]


def _key_problem(value: Any, where: str, owner: Resource, ctx: PolicyContext) -> Problem | None:
    """None when ``value`` names a customer-managed key in the China partition."""
    if value is None or value == "":
        return Problem(
            f"{where} is not set, so AWS encrypts with a key it manages, not a customer-managed key",
            f"{where} = (not set)",
        )
    if isinstance(value, Unknown):
        keys = [r for r in _referenced(value, ctx) if r.type in KEY_TYPES]
        if not keys:
            return Problem(
                f"{where} cannot be verified before apply ({value.reason}); "
                "use a key declared in this configuration or a literal arn:aws-cn:kms ARN",
                f"{where} = <unknown: {value.reason}>",
            )
        for key in keys:
            if key.location is not Location.MAINLAND:
                return Problem(
                    f"{where} uses {key.address}, which is in {key.region.region or 'an unknown region'} "
                    f"({key.location.value}: {key.location_note})",
                    f"{where} = {key.address}; {key.address}: {key.region.explain()}",
                    key.region.region,
                )
        return None
    text = str(value)
    if text.startswith("arn:"):
        parts = text.split(":", 5)
        if len(parts) < 6:
            return Problem(f"{where} is not a valid KMS ARN: {text}", f"{where} = {text}")
        partition, region, resource = parts[1], parts[3], parts[5]
        if partition != CHINA_PARTITION:
            return Problem(
                f"{where} names a key in the {partition!r} partition, outside AWS China",
                f"{where} = {text}",
                region or None,
            )
        if resource.startswith(AWS_MANAGED_ALIAS):
            return Problem(f"{where} names an AWS-managed key ({resource})", f"{where} = {text}")
        location, note = ctx.catalogue.location("aws", region)
        if location is not Location.MAINLAND:
            return Problem(
                f"{where} names a key in {region} ({location.value}: {note})",
                f"{where} = {text}",
                region,
            )
        return None
    if text.startswith(AWS_MANAGED_ALIAS):
        return Problem(f"{where} names an AWS-managed key ({text})", f"{where} = {text}")
    # a key id or a customer alias: the key lives in the store's own account and region
    if owner.location is not Location.MAINLAND:
        return Problem(
            f"{where} = {text} is a key in the store's own region {owner.region.region}, "
            "outside AWS China",
            f"{where} = {text}; region: {owner.region.explain()}",
            owner.region.region,
        )
    return None


def _setting_problems(
    attributes: Mapping[str, Any],
    setting: Setting,
    prefix: str,
    owner: Resource,
    ctx: PolicyContext,
) -> Iterator[Problem]:
    if setting.enabled:
        flags = values_at(attributes, setting.enabled)
        where = prefix + setting.enabled.replace("[]", "")
        if any(isinstance(f, Unknown) for f in flags):
            yield Problem(f"{where} cannot be verified before apply", f"{where} = <unknown>")
            return
        if not flags or not all(f is True or str(f).lower() == "true" for f in flags):
            shown = flags[0] if flags else "(not set)"
            yield Problem(f"encryption at rest is off ({where} = {shown})", f"{where} = {shown}")
            return
    if setting.algorithm:
        algorithms = values_at(attributes, setting.algorithm)
        where = prefix + setting.algorithm.replace("[]", "")
        if any(isinstance(a, Unknown) for a in algorithms):
            yield Problem(f"{where} cannot be verified before apply", f"{where} = <unknown>")
            return
        if not algorithms or any(str(a) not in setting.algorithm_values for a in algorithms):
            shown = algorithms[0] if algorithms else "(not set)"
            yield Problem(
                f"{where} = {shown}: encrypted with a key AWS manages, not a customer-managed KMS key",
                f"{where} = {shown}",
            )
            return
    keys = values_at(attributes, setting.key) or [None]
    for value in keys:
        problem = _key_problem(value, prefix + setting.key.replace("[]", ""), owner, ctx)
        if problem is not None:
            yield problem
            return


def _validate(r: Resource, ctx: PolicyContext) -> Iterator[Finding]:
    rule = RULES.get(r.type)
    if rule is None or not (r.data_bearing and r.in_scope):
        return
    problems: list[Problem] = []
    companions = [
        c
        for c in ctx.resources
        if rule.companion_type is not None
        and rule.companion_link is not None
        and c.type == rule.companion_type
        and _refers_to(c.attributes.get(rule.companion_link), r)
    ]
    if companions and rule.companion is not None:
        for c in companions:
            problems.extend(
                _setting_problems(c.attributes, rule.companion, f"{c.address}: ", r, ctx)
            )
    elif rule.companion_type is not None and not values_at(
        r.attributes, rule.own.key.split("[]")[0]
    ):
        problems.append(
            Problem(
                f"no {rule.companion_type} for this store, so AWS encrypts it with a key it manages",
                f"no {rule.companion_type} refers to {r.address}",
            )
        )
    else:
        problems.extend(_setting_problems(r.attributes, rule.own, "", r, ctx))
    for p in problems:
        yield Finding(
            message=f"{r.label} holds {r.classification or 'classified'} data but {p.message}",
            evidence=p.evidence,
            region=p.region,
        )


POLICY = ciiguard.Policy(
    id=POLICY_ID,
    name="customer-managed-key-in-china",
    description="A classified data store is not encrypted with a customer-managed KMS key in the "
    "AWS China partition.",
    severity=ciiguard.Severity.HIGH,
    validate=_validate,
    fix="Create an aws_kms_key in cn-north-1 or cn-northwest-1 and point the store's key argument "
    "(kms_key_id, kms_key_arn, kms_master_key_id) at it, or at an arn:aws-cn:kms ARN.",
    help="Classified data must be encrypted with keys the operator controls, held in mainland "
    "China: not AWS-managed keys, and not keys in the global aws partition.",
    legal_basis="organisational key-management policy (an example plugin)",
)
