"""The one model every parser fills and every policy, plugin and reporter reads.

Parsers resolve everything they learn about a resource here, once: its effective region and the
chain that produced it, its effective tags, its attributes (normalised to snake_case) and its flows.
Nothing downstream knows which input format a resource came from.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar


class Location(str, enum.Enum):
    """Where a region lies with respect to mainland China."""

    MAINLAND = "mainland"
    OUTSIDE = "outside"
    UNKNOWN = "unknown"


class Enforcement(str, enum.Enum):
    """How a policy's violations affect the gate (mirrors Pulumi CrossGuard)."""

    MANDATORY = "mandatory"
    ADVISORY = "advisory"
    DISABLED = "disabled"


class Severity(str, enum.Enum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


# ``Unknown.path`` of a value chosen by something unknown (see there)
CHOSEN: tuple[str, ...] = ("(chosen)",)


@dataclass(frozen=True)
class Unknown:
    """A value ciiguard cannot decide before deployment; never treated as 'inside'.

    ``refs`` names resources the value was derived from (for example the bucket behind
    ``aws_s3_bucket.dest.arn``) so flows can still be tied to their destination resource.
    ``error`` marks a value that Terraform itself would reject (what ``try``/``can`` catch).
    ``path`` is set while the value is exactly an attribute of one resource: ``()`` for the
    resource, ``("region",)`` for ``aws_s3_bucket.b.region``, ``("tags", '["dr"]')`` for
    ``.tags["dr"]``; any computation on it drops it (None). Flows tie a region-valued argument to
    a referenced resource's own region only through ``.region``/``.location``. ``CHOSEN`` marks a
    value chosen among others by something unknown (a condition, a key, an index): ``refs`` still
    name what it was derived from, but it stands for none of them as a flow's destination
    (``x.arn == "" ? "ap-east-1" : "cn-north-1"`` is one of two regions, not x's).
    """

    reason: str
    refs: frozenset[str] = frozenset()
    error: bool = False
    path: tuple[str, ...] | None = None

    def __repr__(self) -> str:
        return f"<unknown: {self.reason}>"


@dataclass(frozen=True)
class Hop:
    """One step of a resolution chain, e.g. ``var.region (terraform.tfvars:1) = "us-east-1"``."""

    what: str
    file: str | None = None
    line: int | None = None
    value: str | None = None

    def render(self) -> str:
        text = self.what
        if self.file:
            text += f" ({self.file}:{self.line})" if self.line else f" ({self.file})"
        if self.value is not None:
            text += f" = {self.value}"
        return text


@dataclass(frozen=True)
class RegionInfo:
    """An effective region (or None when unknown) with the chain of hops that produced it."""

    region: str | None
    provenance: tuple[Hop, ...] = ()
    unknown_reason: str | None = None

    def explain(self) -> str:
        chain = " <- ".join(h.render() for h in self.provenance)
        if self.region is None and self.unknown_reason:
            return f"{chain} <- {self.unknown_reason}" if chain else self.unknown_reason
        return chain


# Every way data leaves its resource, with the verb that says it in a sentence ("streams personal
# data from ... to ..."). A flow's kind comes from its catalogue rule; the law does not care which
# one it is (a transfer is a transfer), the reports say it so that a reader knows what to change.
FLOW_KINDS: Mapping[str, str] = {
    "replication": "replicates",
    "backup": "backs up",
    "copy": "copies",
    "stream": "streams",
    "log-shipping": "ships",
    "subscription": "delivers",
    "event-routing": "routes",
    "migration": "migrates",
    "external-endpoint": "sends",
}


# The start of ``Resource.scope_reason`` for a resource in scope only because a flow brings it
# in-scope data (a replica holds what its source holds); the gate reads it to let the transfer's
# approval cover the receiver's own residency finding.
RECEIVES_DATA = "receives data from"


@dataclass(frozen=True)
class Flow:
    """Data of ``source`` leaving for another place: replicated, copied, backed up, streamed, shipped
    as logs, delivered to a subscriber, routed as events, migrated or sent to an external endpoint.
    """

    kind: str  # one of FLOW_KINDS
    declared_by: str  # address of the resource whose configuration declares the flow
    argument: str  # e.g. "replica[1].region_name"
    source: str | None  # address of the resource whose data flows (None when outside the config)
    destination: str | None  # destination region, or an ARN/URL when that is all we have
    destination_resource: str | None  # address of the destination resource when in the config
    destination_location: Location
    destination_explain: str
    provider: str
    file: str | None = None
    line: int | None = None
    # Where the data comes from, when known: a flow whose origin is already outside the mainland
    # does not cross its border (the origin itself is CII001's business).
    source_region: str | None = None
    source_location: Location = Location.UNKNOWN
    # Why the source cannot be told, when the argument naming it is not known before apply and
    # names no resource in the configuration (the flow then carries data of unknown scope).
    source_unknown: str | None = None
    # The rule's finer name for the mechanism ("read-replica", "subscription-filter"); "" = kind.
    mechanism: str = ""
    # Where the destination is, in a few words: "global partition, outside mainland China".
    destination_summary: str = ""
    # The ARN, URL or address as the configuration writes it (credentials and queries removed),
    # when ``destination`` holds only the region it resolved to.
    destination_name: str | None = None

    @property
    def verb(self) -> str:
        """How a sentence says this kind of flow: "streams", "ships", "replicates", ..."""
        return FLOW_KINDS.get(self.kind, "sends")

    @property
    def shown_destination(self) -> str:
        """The destination as a reader should see it: the resource in the configuration, else the
        region, ARN, URL or address the configuration names, else that it is not known."""
        return (
            self.destination_resource
            or self.destination_name
            or self.destination
            or "an unknown destination"
        )


@dataclass(frozen=True)
class Resource:
    """A deployable resource instance, with everything a policy needs already resolved."""

    address: str
    type: str
    name: str
    provider: str  # provider package, e.g. "aws", "alicloud"
    provider_config: str | None  # e.g. "aws.us", "module.store:aws"
    region: RegionInfo
    location: Location
    tags: Any  # Mapping[str, Any], or Unknown when the tags are not known before apply
    attributes: Mapping[str, Any]
    file: str | None
    line: int | None
    input: str  # "terraform", "terraform-plan", "pulumi-yaml", ...
    data_bearing: bool = False
    classification: str | None = None  # the classification value that puts it in scope
    in_scope: bool = False
    scope_reason: str | None = None
    flows: tuple[Flow, ...] = ()
    display_name: str | None = None
    module: str = ""  # module path prefix ("" for the root module)
    location_note: str = ""  # why the location verdict is what it is
    # The root module (directory) or input file the resource belongs to: addresses are unique only
    # within one root, so flows and lookups never cross roots.
    root: str = ""
    # Parser extras: "block_lines" (argument path -> line), "end_line", "comments" ((line, text), ...)
    meta: Mapping[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return self.display_name or self.address

    def argument(self, path: str) -> str:
        """An argument path as the input writes it: Pulumi's camelCase input path
        (``replicas[1].regionName``) for a Pulumi resource, else the path itself."""
        paths = self.meta.get("pulumi_paths") if isinstance(self.meta, Mapping) else None
        if not isinstance(paths, Mapping):
            return path
        # flows read a single nested object as a one-element block ("destination[0]"): try the
        # path without each such "[0]" too
        zeros = [i for i in range(len(path)) if path.startswith("[0]", i)][:6]
        for mask in range(1 << len(zeros)):
            cut = [z for n, z in enumerate(zeros) if mask >> n & 1]
            variant = "".join(
                path[i] for i in range(len(path)) if not any(z <= i < z + 3 for z in cut)
            )
            if variant in paths:
                return str(paths[variant])
        return path

    def argument_ref(self, path: str) -> str:
        """``aws_s3_bucket.b.replica[0].region`` / ``sessions (aws:dynamodb/table:Table) input
        replicas[1].regionName``: where a finding's argument is written."""
        if isinstance(self.meta, Mapping) and self.meta.get("pulumi_type"):
            return f"{self.label} input {self.argument(path)}"
        return f"{self.address}.{path}"


_T = TypeVar("_T")


def named(address: str) -> str:
    """A Pulumi URN as Pulumi users read it, its logical name and type token
    (``appointments (aws:dynamodb/table:Table)``); other addresses as they are."""
    parts = address.split("::")
    if not address.startswith("urn:pulumi:") or len(parts) < 4:
        return address
    return f"{'::'.join(parts[3:])} ({parts[2].split('$')[-1]})"


def evolve(obj: _T, **changes: Any) -> _T:
    """``dataclasses.replace`` for these frozen data classes, without re-running ``__init__``
    (none has a ``__post_init__``): copies the field values, then sets the changed ones."""
    new = object.__new__(type(obj))
    values = new.__dict__
    values.update(obj.__dict__)
    for name, value in changes.items():
        if name not in values:
            raise TypeError(f"{type(obj).__name__} has no field {name!r}")
        values[name] = value
    return new


class ViolationStatus(str, enum.Enum):
    """What the gate made of a violation."""

    VIOLATION = "violation"  # blocking when its enforcement is at or above --fail-on
    APPROVED_TRANSFER = "approved-transfer"  # CII002 with a valid recorded approval
    SUPPRESSED = "suppressed"  # inline ciiguard:ignore comment or tag, with a reason
    EXEMPTED = "exempted"  # a config-file exemption that has not expired
    BASELINED = "baselined"  # present in the --baseline file


@dataclass(frozen=True)
class Violation:
    policy: str
    resource: str
    message: str
    severity: Severity
    enforcement: Enforcement
    blocking: bool
    file: str | None
    line: int | None
    region: str | None = None
    evidence: str = ""
    fix: str = ""
    resource_type: str | None = None
    # Other resources the finding concerns, e.g. the source of a cross-border flow (approvals on
    # the source count, domain.md section 6).
    related: tuple[str, ...] = ()
    # Set by the gate stage (ciiguard.gate.stage) after the policies ran; a violation that is not
    # ``ViolationStatus.VIOLATION`` is reported but never blocks.
    status: ViolationStatus = ViolationStatus.VIOLATION
    suppressed: bool = False  # an inline suppression or a config exemption applies
    suppression_reason: str | None = None
    suppression_source: str | None = None  # e.g. "main.tf:11" or "ciiguard.toml exemptions[0]"
    approval_reference: str | None = None
    approval_expires: str | None = None  # ISO date
    approval_problem: str | None = None  # why a recorded approval does not count
    approval_warning: str | None = None  # a valid approval that expires soon
    fingerprint: str = ""  # stable across line moves and reformatting (baselines)
    baselined: bool = False
    # What the finding is, in words that stay when its message is reworded: baselines fingerprint
    # it instead of the message when set.
    identity: str = ""
    flow_kind: str | None = None  # the kind of the flow a CII002/CII003 finding is about
    # The root module (or input file) of the resource the finding is on: two roots that call one
    # module have findings with one address and one file, told apart only by this.
    root: str | None = None


@dataclass(frozen=True)
class Waiver:
    """An inline suppression or a recorded cross-border approval found in the scanned tree: the
    reports list each one, so a change that adds one is visible to its reviewer."""

    kind: str  # "suppression" or "approval"
    resource: str
    file: str | None
    line: int | None
    source: str  # where it is written: "main.tf:11", "tag 'ciiguard:ignore' on aws_s3_bucket.x"
    policies: tuple[str, ...] = ()  # a suppression's policy ids
    reason: str = ""  # a suppression's reason; an approval's assessment reference
    expires: str | None = None  # an approval's expiry date (suppressions do not expire)
    status: str = ""  # what the gate made of it: "applied to 1 finding", "does not count: ..."


@dataclass(frozen=True)
class PluginRun:
    """A plugin that ran in this scan, for the reports: what it is and where its code came from."""

    name: str
    version: str
    source: str  # "builtin", "entry point", "-p", "policy config", "object"
    location: str  # the file or directory its code was imported from
    distribution: str = ""  # the installed distribution that declares it (entry points)


@dataclass(frozen=True)
class ScanIssue:
    """An input that could not be read or a plugin that failed: makes the scan incomplete (exit 2)."""

    file: str | None
    line: int | None
    message: str

    def render(self) -> str:
        where = self.file or "<scan>"
        if self.line:
            where += f":{self.line}"
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class Gap:
    """Code a parser knows exists but could not see (e.g. a remote module it did not download)."""

    address: str
    message: str
    fix: str
    file: str | None
    line: int | None
    why: str = "unread configuration"  # the finding's evidence: what kind of code was not seen


@dataclass
class ParseOutput:
    """What one parser contributes to a scan."""

    resources: list[Resource] = field(default_factory=list)
    errors: list[ScanIssue] = field(default_factory=list)
    warnings: list[ScanIssue] = field(default_factory=list)
    gaps: list[Gap] = field(default_factory=list)


def resource_counts(resources: Sequence[Resource]) -> tuple[int, int, int]:
    """(resources, data-bearing, in scope)."""
    data = scoped = 0
    for r in resources:
        data += r.data_bearing
        scoped += r.in_scope
    return len(resources), data, scoped


def scan_order(r: Resource) -> tuple[str, str, int, str]:
    """The order of a scan's resources: by root module, file, line and address."""
    return (r.root, r.file or "", r.line or 0, r.address)


@dataclass
class ScanResult:
    resources: list[Resource]
    violations: list[Violation]
    errors: list[ScanIssue]
    warnings: list[ScanIssue]
    files: list[str]

    @property
    def blocking(self) -> list[Violation]:
        return [v for v in self.violations if v.blocking]

    @property
    def exit_code(self) -> int:
        if self.errors:
            return 2
        return 1 if self.blocking else 0

    # What a summary needs of the resources: a ``DeferredResult`` answers these without reading
    # the root modules it still holds in the cache.
    @property
    def deferred(self) -> tuple[DeferredRoot, ...]:
        """Root modules whose resources are not read yet (none: every one is in ``resources``)."""
        return ()

    @property
    def loaded(self) -> list[Resource]:
        """The resources read so far (all of them, but in a ``DeferredResult``)."""
        return self.resources

    def counts(self) -> tuple[int, int, int]:
        """(resources, data-bearing, in scope)."""
        n, data, scoped = resource_counts(self.loaded)
        for d in self.deferred:
            n, data, scoped = n + d.count, data + d.data_bearing, scoped + d.in_scope
        return n, data, scoped

    def display_names(self) -> dict[str, str]:
        """Address -> display name, for the resources that have one (the last in scan order
        where an address repeats across roots)."""
        if not self.deferred:
            return {r.address: r.display_name for r in self.resources if r.display_name}
        parts: dict[str, list[tuple[str, str]]] = {d.root: d.names for d in self.deferred}
        for r in self.loaded:
            if r.display_name:
                parts.setdefault(r.root, []).append((r.address, r.display_name))
        return {a: n for root in sorted(parts) for a, n in parts[root]}

    def replaced(self, **changes: Any) -> ScanResult:
        """``dataclasses.replace``: a ``DeferredResult`` stays deferred (sharing what it read)."""
        return dataclasses.replace(self, **changes)


# (resources, data-bearing, in scope, names, covered, inbound, gate, addresses): see
# ``DeferredRoot``
RootSummary = tuple[
    int,
    int,
    int,
    list[tuple[str, str]],
    frozenset[str],
    frozenset[str],
    list[Resource],
    Callable[[], frozenset[str]],
]


class AddressSet:
    """A root module's resource addresses, kept as one JSON text in its cache entry and made a
    set only when asked (``DeferredRoot.holds``): most re-scans never ask."""

    __slots__ = ("_text",)

    def __init__(self, addresses: Iterable[str]) -> None:
        import json

        self._text = json.dumps(sorted(set(addresses)))

    def __call__(self) -> frozenset[str]:
        import json

        return frozenset(json.loads(self._text))


class DeferredRoot:
    """One root module's resolved resources, still in the per-root cache (``cache.roots``):
    what a summary and the gate need of them, and ``load`` to read them all.

    ``gate`` holds, in scan order, every resource of the root at an address in ``covered``: the
    addresses the gate can look up there (``gate.stage.gate_inputs``); ``inbound`` names those
    whose flows in from other resources are all among them. ``names`` lists (address, display
    name) in scan order. ``holds(address)`` tells whether any resource of the root has that
    address (its set read when first asked: for lookups across roots, such as a finding on a
    module call that no root holds)."""

    __slots__ = (
        "_addresses", "_read_addresses", "count", "covered", "data_bearing", "gate", "in_scope",
        "inbound", "load", "names", "root",
    )  # fmt: skip

    def __init__(self, root: str, summary: RootSummary, load: Callable[[], list[Resource]]) -> None:
        self.root = root
        self.count, self.data_bearing, self.in_scope, self.names = summary[:4]
        self.covered, self.inbound, self.gate, self._read_addresses = summary[4:]
        self._addresses: frozenset[str] | None = None
        self.load = load

    def holds(self, address: str) -> bool:
        if self._addresses is None:
            self._addresses = self._read_addresses()
        return address in self._addresses


class _Pending:
    """What a ``DeferredResult`` and its replaced copies share: the resources read so far and
    the roots not read yet."""

    __slots__ = ("deferred", "loaded")

    def __init__(self, loaded: list[Resource], deferred: tuple[DeferredRoot, ...]) -> None:
        self.loaded = loaded
        self.deferred = deferred

    def everything(self) -> list[Resource]:
        if self.deferred:
            out = list(self.loaded)
            for d in self.deferred:
                out.extend(d.load())
            out.sort(key=scan_order)  # stable: ties keep each root's own order, as a scan has it
            self.loaded, self.deferred = out, ()
        return self.loaded


class DeferredResult(ScanResult):
    """A scan result some of whose root modules' resources are still in the per-root cache.

    ``resources`` reads them, in scan order, the first time anything asks for the list: code that
    does not know about the deferral (plugins, the JSON and SARIF reports) sees every resource.
    The text summary and the gate ask for less (``counts``, ``display_names``, ``deferred``), so
    a re-scan after an edit does not read the roots it did not evaluate."""

    def __init__(
        self,
        resources: list[Resource],
        violations: list[Violation],
        errors: list[ScanIssue],
        warnings: list[ScanIssue],
        files: list[str],
        deferred: Sequence[DeferredRoot] | _Pending = (),
    ) -> None:
        self._pending = (
            deferred if isinstance(deferred, _Pending) else _Pending(resources, tuple(deferred))
        )
        self.violations = violations
        self.errors = errors
        self.warnings = warnings
        self.files = files

    @property
    def resources(self) -> list[Resource]:
        return self._pending.everything()

    @resources.setter
    def resources(self, value: list[Resource]) -> None:
        self._pending = _Pending(value, ())

    @property
    def deferred(self) -> tuple[DeferredRoot, ...]:
        return self._pending.deferred

    @property
    def loaded(self) -> list[Resource]:
        return self._pending.loaded

    def replaced(self, **changes: Any) -> ScanResult:
        fields = {
            "violations": self.violations,
            "errors": self.errors,
            "warnings": self.warnings,
            "files": self.files,
        }
        if "resources" in changes:
            return ScanResult(**{**fields, **changes})
        return DeferredResult([], **{**fields, **changes}, deferred=self._pending)

    def __eq__(self, other: object) -> bool:  # the same result as the whole one it stands for
        if not isinstance(other, ScanResult):
            return NotImplemented
        fields = ("resources", "violations", "errors", "warnings", "files")
        return all(getattr(self, f) == getattr(other, f) for f in fields)

    __hash__ = None  # type: ignore[assignment]

    def __reduce__(self) -> tuple[Any, ...]:  # pickled (cached) as the whole result it stands for
        return (
            ScanResult,
            (self.resources, self.violations, self.errors, self.warnings, self.files),
        )
