"""The gate stage: what becomes of each violation after the policies ran.

In this order, first match wins:

1. approvals (CII002 only, domain.md section 6): tags ``cross-border-approval`` and
   ``cross-border-approval-expires`` on the replicating resource or on the flow's source. A valid
   one makes the finding an *approved transfer*; an expired, malformed or expiry-less one leaves
   it blocking and says why; one expiring soon warns.
2. inline suppressions: ``# ciiguard:ignore CII001 <reason>`` comments (Terraform HCL, Pulumi
   YAML: whatever the parser put in ``Resource.meta["comments"]``) and ``ciiguard:ignore`` tags
   (any input). A suppression without a reason is ignored, with a warning; with
   ``suppressions = "forbid"`` (the pipeline's config) none applies and each is a CII004 finding.
3. config exemptions (resource pattern, policy, reason, expiry).
4. the baseline (``--baseline``): findings that were already there.

Nothing is dropped: every finding stays in the report with its status; only ``blocking`` changes.
Every suppression and approval found in the tree is listed (``Gated.waivers``), used or not, and
each relaxation a config file of the tree attempts is a CII004 finding under ``--policy-config``,
a warning without it (``gate.trust``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ciiguard.gate.baseline import Baseline, fingerprints, root_key
from ciiguard.gate.config import Exemption
from ciiguard.gate.trust import Relaxation
from ciiguard.model import (
    RECEIVES_DATA,
    Enforcement,
    Resource,
    ScanIssue,
    ScanResult,
    Severity,
    Unknown,
    Violation,
    ViolationStatus,
    Waiver,
    evolve,
    scan_order,
)
from ciiguard.policies.relaxation import POLICY as RELAXATION_POLICY
from ciiguard.settings import Settings

APPROVABLE = frozenset({"CII002"})  # policies a recorded cross-border approval can satisfy
IGNORE_MARK = "ciiguard:ignore"
_COMMENT_LEAD = re.compile(r"^(?:#+|//+|/\*+)\s*")
_COMMENT_TAIL = re.compile(r"\s*\*+/\s*$")
_POLICY_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]*$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class GateOptions:
    today: dt.date
    fail_on: str = "mandatory"  # "mandatory" or "advisory"
    exemptions: Sequence[Exemption] = ()
    baseline: Baseline | None = None
    anchor: Path = field(default_factory=Path.cwd)  # fingerprints' directories are relative to it
    policy_ids: frozenset[str] = frozenset()  # known policies, to warn about typos in suppressions
    # what the scanned tree's config files tried to relax; blocking (CII004) when ``trusted``
    relaxations: Sequence[Relaxation] = ()
    trusted: bool = False  # a --policy-config is in force
    suppressions: str = "require-reason"  # or "forbid"
    approval_pattern: str | None = None  # an approval's reference must match it (fullmatch)
    approval_max_days: int | None = None  # an approval valid longer than this does not count
    exemption_max_days: int | None = None  # an exemption ending later than this does not apply


@dataclass(frozen=True)
class Suppression:
    policies: tuple[str, ...]
    reason: str
    source: str  # "main.tf:11" or "tag ciiguard:ignore"
    whole_resource: bool
    lines: frozenset[int] = frozenset()  # the lines it covers when not the whole resource
    resource: str = ""  # the resource it is on, and where it is written
    file: str | None = None
    line: int | None = None


@dataclass(frozen=True)
class _Approval:
    reference: str | None
    expires: str | None
    problem: str | None
    days_left: int | None = None
    where: str = ""


@dataclass(frozen=True)
class Gated:
    result: ScanResult
    waivers: tuple[Waiver, ...]  # suppressions and approvals found in the tree, for the reports


def apply(result: ScanResult, settings: Settings, options: GateOptions) -> ScanResult:
    """``result`` with every violation's status, blocking flag and fingerprint decided."""
    return gate(result, settings, options).result


def gate(result: ScanResult, settings: Settings, options: GateOptions) -> Gated:
    """``apply``, and every suppression and approval found in the scanned tree.

    Root modules whose resources are still in the cache (``result.deferred``) are judged from
    what their entry kept for the gate (``gate_inputs``); a lookup that needs more reads them
    all and the gate starts again, so the outcome is the one the whole list gives."""
    try:
        return _gate(result, settings, options)
    except _NeedAll:
        result.resources  # noqa: B018 - reads every deferred root module
        return _gate(result, settings, options)


def _gate(result: ScanResult, settings: Settings, options: GateOptions) -> Gated:
    gate = _Gate(result, settings, options)
    found = [*result.violations, *gate.relaxation_findings()]
    prints = fingerprints(found, options.anchor)
    found = [evolve(v, fingerprint=fp) for v, (fp, _) in zip(found, prints, strict=True)]
    violations = [gate.decide(v) for v in found]
    if options.baseline is not None:
        plain = [p for _, p in prints]
        violations = _apply_baseline(violations, plain, options.baseline, options.anchor)
    levels = {Enforcement.MANDATORY}
    if options.fail_on == "advisory":
        levels.add(Enforcement.ADVISORY)
    violations = [
        evolve(v, blocking=v.status is ViolationStatus.VIOLATION and v.enforcement in levels)
        for v in violations
    ]
    gate.exemption_warnings()
    warnings = list(result.warnings)
    seen = {(w.file, w.line, w.message) for w in warnings}
    for w in gate.warnings:
        if (w.file, w.line, w.message) not in seen:
            seen.add((w.file, w.line, w.message))
            warnings.append(w)
    gated = result.replaced(violations=violations, warnings=warnings)
    return Gated(gated, gate.waivers())


def _apply_baseline(
    violations: list[Violation], plain: list[str], baseline: Baseline, anchor: Path
) -> list[Violation]:
    """Findings the baseline lists become ``baselined``. An entry that records its root module
    matches only a finding of that root; one that does not (older baselines) matches by
    fingerprint alone, which carries the root whenever two roots have the same finding, so it
    can never waive the copy in another root."""
    unrooted: Counter[str] = Counter(baseline.counts)
    rooted: Counter[tuple[str, str]] = Counter(baseline.rooted)
    out = []
    for v, fp in zip(violations, plain, strict=True):
        if v.status is ViolationStatus.VIOLATION:
            key = (fp, root_key(v, anchor) or "")
            if rooted[key] > 0:
                rooted[key] -= 1
            elif unrooted[v.fingerprint] > 0:
                unrooted[v.fingerprint] -= 1
            else:
                out.append(v)
                continue
            v = evolve(v, status=ViolationStatus.BASELINED, baselined=True)
        out.append(v)
    return out


class _NeedAll(Exception):
    """A lookup the kept inputs of a deferred root module cannot answer exactly."""


def _may_waive(r: Resource, keys: str | None, approval: tuple[str, str]) -> tuple[bool, bool]:
    """(may carry an approval, may carry a suppression), by the gate's cheap tests."""
    return (
        keys is None or approval[0] in keys or approval[1] in keys,
        keys is None or IGNORE_MARK in keys or _comments_mention(r),
    )


def gate_inputs(
    resources: Sequence[Resource], findings: Iterable[Violation], settings: Settings
) -> tuple[frozenset[str], frozenset[str], list[Resource]]:
    """What the gate reads of one root module's resources besides counting them, for its cache
    entry (``model.DeferredRoot``): ``covered``, the addresses it can look up there, and
    ``inbound``, those whose flows in are all known, then every resource at a covered address,
    in order.

    ``inbound`` is the findings' resources and related ones, and every resource that may carry
    an approval or a suppression; ``covered`` adds each resource with a flow into one of them
    and that flow's source (a replica's approval may be on either). ``settings`` are the scan's
    (its cache key holds them, approval keys included)."""
    approval = (settings.approval_key.lower(), settings.approval_expiry_key.lower())
    base: set[str] = set()
    for v in findings:
        base.add(v.resource)
        base.update(v.related)
    for r in resources:
        if any(_may_waive(r, _tag_keys(r.tags), approval)):
            base.add(r.address)
    covered = set(base)
    for r in resources:
        for f in r.flows:
            if f.destination_resource in base and f.destination_resource != r.address:
                covered.add(r.address)
                if f.source:
                    covered.add(f.source)
    return frozenset(covered), frozenset(base), [r for r in resources if r.address in covered]


class _Gate:
    def __init__(self, result: ScanResult, settings: Settings, options: GateOptions) -> None:
        self.settings = settings
        self.options = options
        self.warnings: list[ScanIssue] = []
        # addresses repeat across root modules: index by (root, address) and (address, file)
        self.by_address: dict[str, Resource] = {}  # the first resource with each address
        self.in_root: dict[tuple[str, str], Resource] = {}
        self.in_file: dict[tuple[str, str | None], Resource] = {}
        # replica (root, address) -> [(declarer, source address)]
        self.inbound: dict[tuple[str, str], list[tuple[Resource, str | None]]] = {}
        self.suppressions: dict[int, list[Suppression]] = {}
        self.none: set[int] = set()  # resources without a suppression (ids, as above)
        self.malformed: list[Waiver] = []  # suppressions ignored for want of a policy or reason
        self.used: Counter[int] = Counter()  # findings each suppression waived, by id()
        self.approval_keys = (settings.approval_key.lower(), settings.approval_expiry_key.lower())
        self.approval_tagged: list[Resource] = []  # tag keys may name an approval (``waivers``)
        self.exemptions = _Exemptions(
            options.exemptions,
            lambda ex: not self._too_long(ex) and ex.expires >= options.today,
        )
        # Root modules still in the cache: what their entries kept for the gate, which holds
        # every resource the loop below would do more than index (``gate_inputs``); lookups
        # there answer only for the addresses kept (else ``_NeedAll``).
        deferred = result.deferred
        self.partial: dict[str, frozenset[str]] | None = None
        self.partial_inbound: dict[str, frozenset[str]] = {}
        self.deferred = deferred
        resources = result.resources if not deferred else result.loaded
        if deferred:
            self.partial = {d.root: d.covered for d in deferred}
            self.partial_inbound = {d.root: d.inbound for d in deferred}
            kept = [r for d in deferred for r in d.gate]
            resources = sorted([*resources, *kept], key=scan_order)
        # one pass over every resource; most have no flow, no suppression and no approval
        by_address, in_root, in_file = self.by_address, self.in_root, self.in_file
        none = self.none
        for r in resources:
            address = r.address
            by_address.setdefault(address, r)
            in_root.setdefault((r.root, address), r)
            in_file.setdefault((address, r.file), r)
            for f in r.flows:
                if f.destination_resource and f.destination_resource != address:
                    key = (r.root, f.destination_resource)
                    self.inbound.setdefault(key, []).append((r, f.source))
            may_approve, may_suppress = _may_waive(r, _tag_keys(r.tags), self.approval_keys)
            if may_approve:
                self.approval_tagged.append(r)
            if may_suppress:
                self._suppressions_of(r)  # warns about every malformed one, used or not
            else:
                none.add(id(r))

    # -- lookups -----------------------------------------------------------------------------
    def _in_root(self, root: str, address: str) -> Resource | None:
        found = self.in_root.get((root, address))
        if found is None and self.partial is not None:
            covered = self.partial.get(root)
            if covered is not None and address not in covered:
                raise _NeedAll
        return found

    def _anywhere(self, address: str) -> None:
        """Before a lookup across root modules: every resource at ``address`` must be in the
        index (no deferred root holds one the gate did not keep), else ``_NeedAll``."""
        for d in self.deferred:
            if address not in d.covered and d.holds(address):
                raise _NeedAll

    def _inbound(self, r: Resource) -> list[tuple[Resource, str | None]] | None:
        """The (declarer, source) of each flow into ``r`` from another resource of its root."""
        known = self.partial_inbound.get(r.root)
        if known is not None and r.address not in known:
            raise _NeedAll
        return self.inbound.get((r.root, r.address))

    def resource_of(self, v: Violation) -> Resource | None:
        """The resource a finding is on: the one with that address in the finding's root module,
        else in the finding's file (a plugin's finding may not name its root)."""
        if v.root is not None:
            in_root = self._in_root(v.root, v.resource)
            if in_root is not None:
                return in_root
        if self.partial is not None:
            self._anywhere(v.resource)  # the fallbacks look across root modules
        exact = self.in_file.get((v.resource, v.file))
        if exact is not None:
            return exact
        return self.by_address.get(v.resource)

    def related_of(self, v: Violation, near: Resource | None) -> list[Resource]:
        out = []
        for address in v.related:
            r = self._in_root(near.root, address) if near is not None else None
            if r is None:
                if self.partial is not None:
                    self._anywhere(address)
                r = self.by_address.get(address)
            if r is not None:
                out.append(r)
        return out

    def warn(self, file: str | None, line: int | None, message: str) -> None:
        self.warnings.append(ScanIssue(file, line, message))

    # -- the decision ------------------------------------------------------------------------
    def decide(self, v: Violation) -> Violation:
        resource = self.resource_of(v)
        approval: _Approval | None = None
        if v.policy in APPROVABLE:
            approval = self.approval(v, resource)
        elif v.policy == "CII001" and resource is not None and self._inbound(resource) is not None:
            approval = self.replica_approval(resource)
        if approval is not None:
            if approval.problem is None:
                warning = None
                days = approval.days_left
                if days is not None and days <= self.settings.approval_warn_days:
                    warning = (
                        f"approval {approval.reference} for {v.resource} expires on "
                        f"{approval.expires} (in {days} day{'' if days == 1 else 's'}): apply "
                        "for an extension before it lapses, or the transfer blocks again"
                    )
                    self.warn(v.file, v.line, warning)
                return evolve(
                    v,
                    status=ViolationStatus.APPROVED_TRANSFER,
                    approval_reference=approval.reference,
                    approval_expires=approval.expires,
                    approval_warning=warning,
                )
            v = evolve(
                v,
                approval_reference=approval.reference,
                approval_expires=approval.expires,
                approval_problem=approval.problem,
            )
        if resource is not None and self.options.suppressions != "forbid":
            for s in self._suppressions_of(resource):
                if v.policy in s.policies and (s.whole_resource or self._covers(s, v, resource)):
                    self.used[id(s)] += 1
                    return evolve(
                        v,
                        status=ViolationStatus.SUPPRESSED,
                        suppressed=True,
                        suppression_reason=s.reason,
                        suppression_source=s.source,
                    )
        ex = self.exemptions.first(v.policy, v.resource)
        if ex is not None:
            return evolve(
                v,
                status=ViolationStatus.EXEMPTED,
                suppressed=True,
                suppression_reason=ex.reason,
                suppression_source=f"{ex.source} (until {ex.expires.isoformat()})",
            )
        return v

    @staticmethod
    def _covers(s: Suppression, v: Violation, r: Resource) -> bool:
        """An in-block suppression covers findings on its attribute and findings on the whole
        resource (those reported at the resource's own line)."""
        return v.line is None or v.line == r.line or v.line in s.lines

    # -- approvals ---------------------------------------------------------------------------
    def approval(self, v: Violation, resource: Resource | None) -> _Approval | None:
        """The first valid approval on the declaring resource or the flow's source, else the
        first problem found, else None (nothing recorded)."""
        candidates = [r for r in [resource, *self.related_of(v, resource)] if r is not None]
        return self._first_approval(candidates)

    def replica_approval(self, replica: Resource) -> _Approval | None:
        """A replica in scope only because a flow brings it data stores abroad exactly what
        the approved transfer sends there: the transfer's approval (on the replica, the flow's
        declarer or its source) covers its CII001 too. A replica classified on its own is not."""
        if not (replica.scope_reason or "").startswith(RECEIVES_DATA):
            return None
        candidates = [replica]
        for declarer, source in self._inbound(replica) or []:
            candidates.append(declarer)
            src = self._in_root(replica.root, source or "")
            if src is not None:
                candidates.append(src)
        return self._first_approval(candidates)

    def _first_approval(self, candidates: list[Resource]) -> _Approval | None:
        """The first valid approval among the candidates, else the first problem, else None."""
        problems: list[_Approval] = []
        for r in candidates:
            found = self._approval_on(r)
            if found is None:
                continue
            if found.problem is None:
                return found
            problems.append(found)
        return problems[0] if problems else None

    def _approval_on(self, r: Resource) -> _Approval | None:
        key, expiry_key = self.settings.approval_key, self.settings.approval_expiry_key
        if isinstance(r.tags, Unknown):
            return _Approval(
                None,
                None,
                f"the tags of {r.address} are not known before apply, so no "
                f"{key} can be read ({r.tags.reason})",
                where=r.address,
            )
        tags = _tag_lookup(r.tags)
        has_ref, ref = key.lower() in tags, tags.get(key.lower())
        has_exp, exp = expiry_key.lower() in tags, tags.get(expiry_key.lower())
        if not has_ref and not has_exp:
            return None
        if not has_ref:
            return _Approval(
                None,
                _text(exp),
                f"{r.address} has {expiry_key} but no {key} reference",
                where=r.address,
            )
        if isinstance(ref, Unknown) or not _text(ref):
            why = "is not known before apply" if isinstance(ref, Unknown) else "is empty"
            return _Approval(None, _text(exp), f"{key} on {r.address} {why}", where=r.address)
        reference = _text(ref)
        if not has_exp or exp is None or (isinstance(exp, str) and not exp.strip()):
            return _Approval(
                reference,
                None,
                f"approval {reference} on {r.address} has no {expiry_key}: an approval "
                "without an expiry date is not an approval",
                where=r.address,
            )
        if isinstance(exp, Unknown):
            return _Approval(
                reference,
                None,
                f"{expiry_key} of approval {reference} on {r.address} is not known before apply",
                where=r.address,
            )
        text = _text(exp)
        try:
            if not _ISO_DATE.match(text):
                raise ValueError(text)
            expires = dt.date.fromisoformat(text)
        except ValueError:
            return _Approval(
                reference,
                text,
                f"{expiry_key}={text!r} of approval {reference} on {r.address} is not an ISO "
                "date (YYYY-MM-DD)",
                where=r.address,
            )
        days = (expires - self.options.today).days
        if days < 0:
            return _Approval(
                reference,
                text,
                f"approval {reference} on {r.address} expired on {text}",
                days,
                r.address,
            )
        pattern = self.options.approval_pattern
        if pattern is not None and not re.fullmatch(pattern, reference):
            return _Approval(
                reference,
                text,
                f"approval reference {reference!r} on {r.address} does not match the pipeline's "
                f"pattern {pattern!r}",
                days,
                r.address,
            )
        most = self.options.approval_max_days
        if most is not None and days > most:
            return _Approval(
                reference,
                text,
                f"approval {reference} on {r.address} is valid for {days} more days, beyond the "
                f"pipeline's maximum of {most} (a CAC assessment result is valid 3 years)",
                days,
                r.address,
            )
        return _Approval(reference, text, None, days, r.address)

    # -- suppressions ------------------------------------------------------------------------
    def _suppressions_of(self, r: Resource) -> list[Suppression]:
        cached = self.suppressions.get(id(r))
        if cached is not None:
            return cached
        if id(r) in self.none:
            return []
        found = self._comment_suppressions(r) + self._tag_suppressions(r)
        if found:
            self.suppressions[id(r)] = found
        else:  # most resources: remembered in a set, not with an empty list each
            self.none.add(id(r))
        return found

    def _parse(
        self, text: str, where: str, file: str | None, line: int | None
    ) -> tuple[tuple[str, ...], str] | None:
        """``(policy ids, reason)`` of one ``ciiguard:ignore ...`` text, or None (and a warning).

        ``where`` prefixes warnings when the file and line alone do not say where (tags).
        """
        rest = text.strip().removeprefix(IGNORE_MARK).strip()
        if not rest:
            self.warn(
                file,
                line,
                f"{where}ciiguard:ignore names no policy, so it is ignored "
                "(write: ciiguard:ignore CII001 <reason>)",
            )
            return None
        token, _, reason = rest.partition(" ")
        ids = tuple(p for p in token.split(",") if p)
        bad = [p for p in ids if not _POLICY_ID.match(p)]
        if not ids or bad:
            self.warn(
                file,
                line,
                f"{where}ciiguard:ignore {token!r} is not a policy id, so it is "
                "ignored (write: ciiguard:ignore CII001 <reason>)",
            )
            return None
        reason = reason.strip().lstrip("-: ").strip()
        if not reason:
            self.warn(
                file,
                line,
                f"{where}ciiguard:ignore {','.join(ids)} gives no reason, so it "
                f"is ignored (write: ciiguard:ignore {','.join(ids)} <why this is acceptable>)",
            )
            return None
        unknown = [p for p in ids if self.options.policy_ids and p not in self.options.policy_ids]
        if unknown:
            self.warn(
                file, line, f"{where}ciiguard:ignore names unknown policy {', '.join(unknown)}"
            )
        return ids, reason

    def _comment_suppressions(self, r: Resource) -> list[Suppression]:
        comments = r.meta.get("comments") if isinstance(r.meta, Mapping) else None
        if not comments or r.line is None:
            return []
        if not any(map(_mentions_ignore, comments)):
            return []  # the usual case: no comment near the block says it (checked cheaply)
        by_line: dict[int, str] = {}
        for item in comments:
            try:
                line, text = int(item[0]), str(item[1])
            except (TypeError, ValueError, IndexError):
                continue
            by_line[line] = text
        comment_lines = set(by_line)
        above: set[int] = set()
        probe = r.line - 1
        while probe in comment_lines:  # the run of comment lines directly above the block
            above.add(probe)
            probe -= 1
        end = r.meta.get("end_line") if isinstance(r.meta.get("end_line"), int) else None
        out = []
        for line in sorted(by_line):
            body = _COMMENT_TAIL.sub("", _COMMENT_LEAD.sub("", by_line[line].strip()))
            if not body.startswith(IGNORE_MARK):
                continue
            header = line == r.line or line in above
            inside = line > r.line and (end is None or line <= end)
            if not (header or inside):
                continue
            where = f"{r.file}:{line}" if r.file else f"line {line}"
            parsed = self._parse(body, "", r.file, line)
            if parsed is None:
                self._malformed(r, where, r.file, line, body)
                continue
            ids, reason = parsed
            covered = {line}
            nxt = line + 1
            while nxt in comment_lines:  # a comment above an attribute covers that attribute
                nxt += 1
            covered.add(nxt)
            out.append(
                Suppression(ids, reason, where, header, frozenset(covered), r.address, r.file, line)
            )
        return out

    def _malformed(
        self, r: Resource, where: str, file: str | None, line: int | None, text: str
    ) -> None:
        self.malformed.append(
            Waiver(
                "suppression",
                r.address,
                file,
                line,
                where,
                reason=text.strip().removeprefix(IGNORE_MARK).strip(),
                status="ignored: it names no policy or gives no reason",
            )
        )

    def _tag_suppressions(self, r: Resource) -> list[Suppression]:
        if not isinstance(r.tags, Mapping):
            return []
        out = []
        for key, value in r.tags.items():
            if not isinstance(key, str):
                continue
            k = key.strip()
            if k.lower() == IGNORE_MARK:
                text = f"{IGNORE_MARK} {_text(value)}"
            elif k.lower().startswith(IGNORE_MARK + ":"):
                text = f"{IGNORE_MARK} {k[len(IGNORE_MARK) + 1 :]} {_text(value)}"
            else:
                continue
            where = f"tag {k!r} on {r.address}"
            parsed = self._parse(text, f"{where}: ", r.file, r.line)
            if parsed is None:
                self._malformed(r, where, r.file, r.line, text)
            else:
                out.append(
                    Suppression(
                        parsed[0], parsed[1], where, True, frozenset(), r.address, r.file, r.line
                    )
                )
        return out

    # -- what the tree tries, and what it holds --------------------------------------------------
    def relaxation_findings(self) -> list[Violation]:
        """Under --policy-config: a CII004 finding for each relaxation the tree's config files
        attempted and, with ``suppressions = "forbid"``, for each inline suppression. Without
        it: a warning for each relaxation (applied as today, plugins aside)."""
        level = {e.value: e for e in Enforcement}.get(
            self.settings.enforcement.get(RELAXATION_POLICY.id, ""), RELAXATION_POLICY.enforcement
        )
        if not self.options.trusted:
            for rel in self.options.relaxations:
                self.warn(rel.file, rel.line, rel.message())
            return []
        if level is Enforcement.DISABLED:
            return []
        out = [
            self._relaxation(rel.key, rel.message(), rel.file, rel.line, level, rel.file)
            for rel in self.options.relaxations
        ]
        if self.options.suppressions == "forbid":
            found = [s for group in self.suppressions.values() for s in group]
            for sup in sorted(found, key=lambda s: (s.file or "", s.line or 0, s.source)):
                out.append(
                    self._relaxation(
                        sup.resource,
                        f"inline suppression {sup.source} ({','.join(sup.policies)}: "
                        f'{sup.reason}) is forbidden by the pipeline (suppressions = "forbid"): '
                        "the findings it names still count",
                        sup.file,
                        sup.line,
                        level,
                        sup.source,
                    )
                )
        return out

    @staticmethod
    def _relaxation(
        resource: str,
        message: str,
        file: str | None,
        line: int | None,
        level: Enforcement,
        where: str,
    ) -> Violation:
        return Violation(
            policy=RELAXATION_POLICY.id,
            resource=resource,
            message=message,
            severity=RELAXATION_POLICY.severity or Severity.HIGH,
            enforcement=level,
            blocking=level is Enforcement.MANDATORY,
            file=file,
            line=line,
            evidence=f"set in {where}, inside the scanned tree",
            fix=RELAXATION_POLICY.fix,
        )

    def waivers(self) -> tuple[Waiver, ...]:
        """Every suppression and approval in the tree, with what the gate made of it."""
        out = list(self.malformed)
        forbidden = self.options.suppressions == "forbid"
        for group in self.suppressions.values():
            for s in group:
                n = self.used[id(s)]
                status = (
                    "forbidden by the pipeline"
                    if forbidden
                    else f"applied to {n} finding{'' if n == 1 else 's'}"
                    if n
                    else "matches no finding"
                )
                out.append(
                    Waiver(
                        "suppression", s.resource, s.file, s.line, s.source, s.policies, s.reason,
                        status=status,
                    )
                )  # fmt: skip
        wanted = set(self.approval_keys)
        for r in self.approval_tagged:
            tags = r.tags
            if not isinstance(tags, Mapping) or not any(
                isinstance(k, str) and k.strip().lower() in wanted for k in tags
            ):
                continue
            found = self._approval_on(r)
            if found is None:
                continue
            out.append(
                Waiver(
                    "approval",
                    r.address,
                    r.file,
                    r.line,
                    f"tags on {r.address}",
                    reason=found.reference or "",
                    expires=found.expires,
                    status="counts"
                    if found.problem is None
                    else f"does not count: {found.problem}",
                )
            )
        out.sort(key=lambda w: (w.kind, w.file or "", w.line or 0, w.resource, w.source))
        return tuple(out)

    def _too_long(self, ex: Exemption) -> bool:
        most = self.options.exemption_max_days
        return most is not None and (ex.expires - self.options.today).days > most

    # -- exemptions --------------------------------------------------------------------------
    def exemption_warnings(self) -> None:
        today = self.options.today
        for ex in self.options.exemptions:
            days = (ex.expires - today).days
            what = f"exemption {ex.source} ({ex.policy} on {ex.resource})"
            if self._too_long(ex):
                self.warn(
                    None,
                    None,
                    f"{what} runs until {ex.expires.isoformat()}, beyond the "
                    f"{self.options.exemption_max_days} days allowed (exemption_max_days): it "
                    "does not apply",
                )
            elif days < 0:
                self.warn(
                    None,
                    None,
                    f"{what} expired on {ex.expires.isoformat()}; its findings block again",
                )
            elif days <= self.settings.approval_warn_days:
                self.warn(
                    None,
                    None,
                    f"{what} expires on {ex.expires.isoformat()} (in {days} "
                    f"day{'' if days == 1 else 's'})",
                )


class _Exemptions:
    """The exemptions in force (not expired, not beyond ``exemption_max_days``), indexed.

    Testing every exemption against every finding was N findings x M exemptions. A pattern
    without a wildcard matches only its own text (the address, or the address without its
    ``[index]``), so those are found by (policy, text); the ones with wildcards are still tried
    in order. ``first`` gives what the loop over ``options.exemptions`` gave: the earliest
    exemption in force that matches.
    """

    def __init__(
        self, exemptions: Sequence[Exemption], in_force: Callable[[Exemption], bool]
    ) -> None:
        self.all = tuple(exemptions)
        self.exact: dict[tuple[str, str], int] = {}  # (policy or "*", resource) -> first index
        self.wild: list[tuple[int, Exemption]] = []  # in config order
        for i, ex in enumerate(self.all):
            if not in_force(ex):
                continue
            if ex.literal:
                self.exact.setdefault((ex.policy, ex.resource), i)
            else:
                self.wild.append((i, ex))

    def first(self, policy: str, address: str) -> Exemption | None:
        best = len(self.all)
        if self.exact:
            base = address.split("[", 1)[0] if address.endswith("]") else address
            for key in ((policy, address), ("*", address), (policy, base), ("*", base)):
                i = self.exact.get(key)
                if i is not None and i < best:
                    best = i
        for i, ex in self.wild:
            if i >= best:
                break
            if ex.matches(policy, address):
                return ex
        return self.all[best] if best < len(self.all) else None


def _tag_lookup(tags: Mapping[str, Any]) -> dict[str, Any]:
    return {k.strip().lower(): v for k, v in tags.items() if isinstance(k, str)}


def _tag_keys(tags: object) -> str | None:
    """The keys of ``tags``, lower-cased and joined, for a cheap test of what they may contain
    (a key the full check would match contains its word); None when only the full check can
    tell (lower-casing non-ASCII text may depend on its context: final sigma)."""
    if not tags or (type(tags) is not dict and not isinstance(tags, Mapping)):
        return ""
    keys = "\x00".join(map(str, tags))
    return keys.lower() if keys.isascii() else None


def _comments_mention(r: Resource) -> bool:
    """Whether a comment kept with the resource's block contains the suppression mark."""
    meta = r.meta
    if type(meta) is not dict and not isinstance(meta, Mapping):
        return False
    comments: Any = meta.get("comments")
    return bool(comments) and any(map(_mentions_ignore, comments))


def _mentions_ignore(item: object) -> bool:
    """Whether a (line, text) comment item's text contains the suppression mark at all."""
    try:
        return IGNORE_MARK in str(item[1])  # type: ignore[index]
    except (TypeError, IndexError, KeyError):
        return False


def _text(value: Any) -> str:
    if value is None or isinstance(value, Unknown):
        return ""
    return str(value).strip()


def counts(violations: Iterable[Violation]) -> Counter[str]:
    """How many violations have each status (for summaries)."""
    return Counter(v.status.value for v in violations)


# -- guidance shown by `ciiguard explain` and the markdown report --------------------------------
def how_to_suppress(policy_id: str) -> str:
    return (
        f"Suppress one finding with a reason, in the code: `# ciiguard:ignore {policy_id} <reason>` "
        "on or just above the resource block, or on/above the attribute the finding points at "
        f'(a tag `ciiguard:ignore = "{policy_id} <reason>"` works for any input, Pulumi too). '
        "Or exempt it in the config file: [[exemptions]] with resource, policy, reason and expires."
    )


def how_to_approve(settings: Settings) -> str:
    return (
        "Record the passed CAC security assessment (or standard-contract filing or certification) "
        f"on the replicating resource or its source: tags `{settings.approval_key} = "
        f'"<reference>"` and `{settings.approval_expiry_key} = "YYYY-MM-DD"`. Without an expiry '
        "date, or once it has passed, the transfer blocks again; within "
        f"{settings.approval_warn_days} days of expiry every report warns (an assessment is "
        "valid 3 years; apply for an extension in time)."
    )
