"""The trust boundary: what a config file inside the scanned tree may change about the gate.

The change under review writes every file in the tree, its ``ciiguard.toml`` included. Only the
pipeline's own config (``--policy-config``, kept outside the checkout) and the command line are
trusted. Every key a config file can set is classified in ``RULES``:

- *tightening-only*: the tree may make the gate stricter (more in scope, a higher enforcement,
  fewer allowed regions, ``fail_on = "advisory"``, ``suppressions = "forbid"``, ...); the part
  of its value that would loosen what the pipeline set is ignored and reported;
- *relaxing*: any value from the tree is ignored and reported (soft fail, exemptions, a
  baseline, plugins, another classification or approval tag key, ...);
- *neutral*: cannot turn a finding into a pass; the pipeline's value wins where it sets one.

``combine`` applies the rules: under ``--policy-config`` every config file found in the scanned
tree is merged into the pipeline's config this way and each ignored attempt becomes a blocking
CII004 finding; without it the nearest file applies as it always did (except ``plugins``, which a
file in the tree can never make ciiguard import), and each relaxation is a warning. A key with no
rule is relaxing: a new key must be classified here (``tests/test_trust.py`` checks every one).
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ciiguard.gate.config import DEFAULT_EXEMPTION_MAX_DAYS, Config
from ciiguard.model import Enforcement
from ciiguard.settings import Settings, normalise_region


class Kind(str, enum.Enum):
    TIGHTENING = "tightening-only"
    RELAXING = "relaxing"
    NEUTRAL = "neutral"


@dataclass(frozen=True)
class Rule:
    """How a key from the scanned tree is treated; ``field`` is the ``Config`` attribute it sets,
    ``effect`` what it would do (for a relaxing key: the finding's words)."""

    kind: Kind
    field: str
    effect: str


def relaxing(field: str, effect: str) -> Rule:
    return Rule(Kind.RELAXING, field, effect)


def tightening(field: str, effect: str) -> Rule:
    return Rule(Kind.TIGHTENING, field, effect)


def neutral(field: str, effect: str) -> Rule:
    return Rule(Kind.NEUTRAL, field, effect)


RULES: dict[str, Rule] = {
    "cii_workload": tightening("cii_workload", "put every untagged data-bearing resource in scope"),
    "classification.key": relaxing(
        "classification_key",
        "read the classification from another tag, so resources tagged with the pipeline's key "
        "fall out of scope",
    ),
    "classification.in_scope": tightening("in_scope_values", "change which values are in scope"),
    "classification.out_of_scope": tightening(
        "out_of_scope_values", "change which values take a resource out of scope"
    ),
    "approval.key": relaxing(
        "approval_key", "accept cross-border approvals recorded under another tag"
    ),
    "approval.expiry_key": relaxing(
        "approval_expiry_key", "read approval expiry dates from another tag"
    ),
    "approval.warn_days": neutral(
        "approval_warn_days", "only decides how early an expiring approval warns"
    ),
    "approval.reference_pattern": relaxing(
        "approval_reference_pattern", "change which assessment references count as approvals"
    ),
    "approval.max_valid_days": tightening(
        "approval_max_valid_days", "change the longest remaining validity an approval may have"
    ),
    "allowed_regions": tightening("allowed_regions", "change the mainland regions data may use"),
    "enforcement": tightening("enforcement", "change a policy's enforcement"),
    "fail_on": tightening("fail_on", "change the lowest enforcement that fails the gate"),
    "soft_fail": tightening("soft_fail", "report blocking violations but exit 0"),
    "suppressions": tightening("suppressions", "change whether inline suppressions count"),
    "exemption_max_days": tightening(
        "exemption_max_days", "change the longest an exemption may run"
    ),
    "plugins": relaxing(
        "plugins",
        "import and run these modules inside the CI job (code chosen by the change under review)",
    ),
    "disable_plugins": relaxing(
        "disable_plugins", "switch off installed plugins and every policy they bring"
    ),
    "exemptions": relaxing("exemptions", "waive findings"),
    "baseline": relaxing("baseline", "accept every finding listed in that file"),
    "module_sources": relaxing(
        "module_sources",
        "read remote modules from local directories the change under review controls",
    ),
    "skip_paths": relaxing("skip_paths", "leave paths of the tree unscanned"),
    "endpoints": relaxing(
        "endpoints",
        "declare where external endpoints are, deciding between CII002, CII003 and a pass",
    ),
}


def rule_for(key: str) -> Rule | None:
    """The rule of a key path as a file sets it (``enforcement.CII001`` -> ``enforcement``)."""
    while key:
        if key in RULES:
            return RULES[key]
        key = key.rpartition(".")[0]
    return None


@dataclass(frozen=True)
class Relaxation:
    """A setting in a config file of the scanned tree that would loosen the gate."""

    file: str  # the config file, as shown
    line: int | None
    key: str  # as written in the file (with ``tool.ciiguard.`` in pyproject.toml)
    value: str  # the value, shown briefly
    effect: str  # what it would do: "would ..."
    applied: bool  # False: ignored (refused, or a plugin never imported); True: it took effect

    def message(self) -> str:
        if self.applied:
            return (
                f"{self.key} = {self.value} in {self.file} relaxes the gate: it would "
                f"{self.effect}; applied because no --policy-config is given (the pipeline's "
                "own config makes this a blocking finding)"
            )
        why = (
            "ciiguard imports plugins only from installed distributions or -p"
            if self.key.endswith("plugins") and not self.key.endswith("disable_plugins")
            else "only the pipeline's --policy-config can relax the gate"
        )
        return f"{self.key} = {self.value} in {self.file} would {self.effect}; ignored: {why}"


@dataclass(frozen=True)
class Combined:
    config: Config  # what the run uses
    relaxations: tuple[Relaxation, ...]
    repository: tuple[str, ...]  # the tree's config files that were read, as shown


LEVEL_RANK = {Enforcement.DISABLED: 0, Enforcement.ADVISORY: 1, Enforcement.MANDATORY: 2}


def combine(
    trusted: Config | None,
    repository: Sequence[Config],
    defaults: Mapping[str, Enforcement],
) -> Combined:
    """The config a run uses, and every relaxation found in the tree's config files.

    ``defaults`` are the policies' own enforcement levels. With ``trusted`` (the pipeline's
    config), each file of ``repository`` can only tighten it; without, the first file applies
    as written (``plugins`` aside) and its relaxations are reported as applied.
    """
    found = tuple(c.display for c in repository if c.path is not None)
    if trusted is None:
        if not repository:
            return Combined(Config(), (), ())
        own = repository[0]
        relaxations = _Merge(Config(), defaults).apply(own, record_only=True)
        config = dataclasses.replace(own, plugins=())
        return Combined(config, tuple(relaxations), found)
    merge = _Merge(trusted, defaults)
    relaxations = []
    for config in repository:
        relaxations.extend(merge.apply(config, record_only=False))
    return Combined(merge.result(), tuple(relaxations), found)


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(value) if len(value) <= 80 else repr(value[:77] + "...")
    if isinstance(value, (tuple, list)):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        # as the file writes it ([[endpoints]] match, location, reason), not as Python shows it
        items = [(f.name, getattr(value, f.name)) for f in dataclasses.fields(value)]
        return "{" + ", ".join(f"{k} = {_show(v)}" for k, v in items if k != "source") + "}"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k} = {_show(v)}" for k, v in value.items()) + "}"
    return str(value)


class _Merge:
    """The pipeline's config with the tree's tightenings applied, one file at a time."""

    def __init__(self, base: Config, defaults: Mapping[str, Enforcement]) -> None:
        self.values = {f.name: getattr(base, f.name) for f in dataclasses.fields(base)}
        self.defaults = defaults
        self.base_settings = Settings()

    def result(self) -> Config:
        return Config(**self.values)

    def current(self, field: str) -> Any:
        value = self.values[field]
        if value is None and hasattr(self.base_settings, field):
            return getattr(self.base_settings, field)
        return value

    def apply(self, config: Config, record_only: bool) -> list[Relaxation]:
        """Merge one file of the tree; return what in it would relax the gate. With
        ``record_only`` nothing is merged and relaxations other than plugins are "applied"."""
        out: list[Relaxation] = []
        done: set[str] = set()

        def report(key: str, value: Any, effect: str) -> None:
            applied = record_only and not (key == "plugins" or key.endswith(".plugins"))
            out.append(
                Relaxation(
                    config.display,
                    config.line_of(key),
                    config.key(key),
                    _show(value),
                    effect,
                    applied,
                )
            )

        for key in config.keys:
            if any(name.startswith(key + ".") for name in RULES):
                continue  # a table whose keys have their own rules
            rule = rule_for(key)
            if rule is None:  # unclassified: relaxing until classified (fail closed)
                if key.partition(".")[0] not in done:
                    done.add(key.partition(".")[0])
                    report(
                        key.partition(".")[0], "...", "change a setting ciiguard cannot vouch for"
                    )
                continue
            if rule.field in done:
                continue
            done.add(rule.field)
            value = getattr(config, rule.field)
            if rule.kind is Kind.RELAXING:
                for shown_key, shown, effect in _relaxing_items(rule, key, value):
                    report(shown_key, shown, effect)
                continue
            if rule.kind is Kind.NEUTRAL:
                if not record_only and self.values[rule.field] is None:
                    self.values[rule.field] = value
                continue
            tighten = _TIGHTEN[rule.field]
            merged, loosened = tighten(self, value)
            for sub_key, shown, effect in loosened:
                report(sub_key, shown, effect)
            if not record_only:
                self.values[rule.field] = merged
        return out


def _relaxing_items(rule: Rule, key: str, value: Any) -> list[tuple[str, Any, str]]:
    """One finding per exemption (each waives something else), one per other key."""
    if rule.field == "exemptions":
        return [
            (
                f"exemptions[{i}]",
                ex.resource,
                f"waive {ex.policy} findings on {ex.resource} until {ex.expires.isoformat()} "
                f"(reason: {ex.reason})",
            )
            for i, ex in enumerate(value)
        ]
    if rule.field == "baseline" and value is not None:
        return [(key, value.name, rule.effect)]
    return [(key, value, rule.effect)]


Tightener = Callable[[_Merge, Any], tuple[Any, list[tuple[str, Any, str]]]]


def _cii_workload(m: _Merge, value: Any) -> tuple[Any, list[tuple[str, Any, str]]]:
    current = bool(m.current("cii_workload"))
    if value is False and current:
        return True, [("cii_workload", False, "take untagged data-bearing resources out of scope")]
    return current or bool(value), []


def _in_scope(m: _Merge, value: Any) -> tuple[Any, list[tuple[str, Any, str]]]:
    current = tuple(m.current("in_scope_values"))
    removed = [v for v in current if v not in value]
    merged = current + tuple(v for v in value if v not in current)
    out_of_scope = m.values["out_of_scope_values"]
    if out_of_scope is not None:  # a value now in scope is no longer out of it
        m.values["out_of_scope_values"] = tuple(v for v in out_of_scope if v not in merged)
    if removed:
        effect = "take resources tagged " + ", ".join(removed) + " out of scope"
        return merged, [("classification.in_scope", list(value), effect)]
    return merged, []


def _out_of_scope(m: _Merge, value: Any) -> tuple[Any, list[tuple[str, Any, str]]]:
    current = tuple(m.current("out_of_scope_values"))
    in_scope = tuple(m.current("in_scope_values"))
    added = [v for v in value if v not in current and v not in in_scope]
    merged = tuple(v for v in current if v in value)
    if added:
        effect = "take resources tagged " + ", ".join(added) + " out of scope"
        return merged, [("classification.out_of_scope", list(value), effect)]
    return merged, []


def _lower_is_stricter(field: str, key: str, what: str) -> Tightener:
    def tighten(m: _Merge, value: Any) -> tuple[Any, list[tuple[str, Any, str]]]:
        current = m.values[field]
        if field == "exemption_max_days" and current is None:
            current = DEFAULT_EXEMPTION_MAX_DAYS
        if current is None or value <= current:
            return value, []
        return current, [(key, value, f"allow {what} of {value} days, beyond the {current} set")]

    return tighten


def _allowed_regions(m: _Merge, value: Any) -> tuple[Any, list[tuple[str, Any, str]]]:
    current: dict[str, tuple[str, ...]] = dict(m.values["allowed_regions"])
    merged = dict(current)
    loosened = []
    for provider, regions in value.items():
        limit = current.get(provider, current.get("*"))
        key = "allowed_regions" if provider == "*" else f"allowed_regions.{provider}"
        if limit is None:
            merged[provider] = regions
            continue
        allowed = {normalise_region(r) for r in limit}
        extra = [r for r in regions if normalise_region(r) not in allowed]
        if extra:
            loosened.append((key, list(regions), "allow data in " + ", ".join(extra)))
        else:
            merged[provider] = regions
    return merged, loosened


def _enforcement(m: _Merge, value: Any) -> tuple[Any, list[tuple[str, Any, str]]]:
    current: dict[str, str] = dict(m.values["enforcement"])
    merged = dict(current)
    loosened = []
    levels = {e.value: e for e in Enforcement}
    for pid, level in value.items():
        now = levels.get(current.get(pid, ""), m.defaults.get(pid, Enforcement.MANDATORY))
        wanted = levels[level]
        if LEVEL_RANK[wanted] >= LEVEL_RANK[now]:
            merged[pid] = level
            continue
        effect = (
            f"switch {pid} off (its findings would not even be reported)"
            if wanted is Enforcement.DISABLED
            else f"make {pid} {level} (its findings would not block)"
        )
        loosened.append((f"enforcement.{pid}", level, effect))
    return merged, loosened


def _fail_on(m: _Merge, value: Any) -> tuple[Any, list[tuple[str, Any, str]]]:
    current = m.values["fail_on"] or "mandatory"
    if current == "advisory" and value == "mandatory":
        return current, [("fail_on", value, "let advisory findings pass")]
    return ("advisory" if "advisory" in (current, value) else "mandatory"), []


def _soft_fail(m: _Merge, value: Any) -> tuple[Any, list[tuple[str, Any, str]]]:
    current = bool(m.values["soft_fail"])
    if value and not current:
        return current, [("soft_fail", True, "report blocking violations but exit 0")]
    return bool(value) and current, []


def _suppressions(m: _Merge, value: Any) -> tuple[Any, list[tuple[str, Any, str]]]:
    current = m.values["suppressions"] or "require-reason"
    if current == "forbid" and value != "forbid":
        return current, [("suppressions", value, "let inline suppressions waive findings")]
    return ("forbid" if "forbid" in (current, value) else current), []


_TIGHTEN: dict[str, Tightener] = {
    "cii_workload": _cii_workload,
    "in_scope_values": _in_scope,
    "out_of_scope_values": _out_of_scope,
    "approval_max_valid_days": _lower_is_stricter(
        "approval_max_valid_days", "approval.max_valid_days", "approvals valid for"
    ),
    "exemption_max_days": _lower_is_stricter(
        "exemption_max_days", "exemption_max_days", "exemptions"
    ),
    "allowed_regions": _allowed_regions,
    "enforcement": _enforcement,
    "fail_on": _fail_on,
    "soft_fail": _soft_fail,
    "suppressions": _suppressions,
}
