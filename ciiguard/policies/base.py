"""The shape of a policy, mirroring Pulumi CrossGuard: id, description, enforcement, validate.

A policy never sees file formats: ``validate`` receives a fully resolved ``Resource`` and a
``PolicyContext`` and yields ``Finding``s; the engine turns them into ``Violation``s, applying the
configured enforcement and the blocking rule in one place.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from ciiguard.catalogue import Catalogue
from ciiguard.model import Enforcement, Gap, Resource, Severity
from ciiguard.settings import Settings


@dataclass(frozen=True)
class Finding:
    """One problem a policy found on a resource. File and line default to the resource's."""

    message: str
    evidence: str = ""
    fix: str = ""
    region: str | None = None
    file: str | None = None
    line: int | None = None
    resource: str | None = None  # override the address the finding is reported on
    related: tuple[str, ...] = ()  # other resources concerned, e.g. the source of a flow
    # What the finding is, in words that stay when the message is reworded (baselines fingerprint
    # it instead of the message); "" means the message.
    identity: str = ""
    flow_kind: str | None = None  # the kind of the flow the finding is about (model.FLOW_KINDS)


@dataclass
class PolicyContext:
    """Everything a policy may consult besides the resource under validation."""

    resources: list[Resource]
    settings: Settings
    catalogue: Catalogue
    gaps: list[Gap] = field(default_factory=list)
    _by_address: dict[tuple[str, str], Resource] = field(default_factory=dict, repr=False)

    def resource(self, address: str, root: str | None = None) -> Resource | None:
        """The resource at ``address`` (within ``root`` when given: addresses repeat across roots)."""
        if not self._by_address:
            for r in self.resources:
                self._by_address.setdefault((r.root, r.address), r)
                self._by_address.setdefault(("\0any", r.address), r)
        return self._by_address.get((root if root is not None else "\0any", address))

    def instances(self, address: str, root: str | None = None) -> list[Resource]:
        """The resource at ``address`` or, for a counted resource, all its instances."""
        exact = self.resource(address, root)
        if exact is not None:
            return [exact]
        return [
            r
            for r in self.resources
            if r.address.startswith(address + "[") and (root is None or r.root == root)
        ]


ResourceValidator = Callable[[Resource, PolicyContext], Iterable[Finding]]
ScanValidator = Callable[[PolicyContext], Iterable[Finding]]


@dataclass(frozen=True)
class Policy:
    """A residency rule. Give ``validate`` (per resource) and/or ``validate_scan`` (once per scan)."""

    id: str
    name: str
    description: str
    severity: Severity = Severity.HIGH
    enforcement: Enforcement = Enforcement.MANDATORY
    validate: ResourceValidator | None = None
    validate_scan: ScanValidator | None = None
    legal_basis: str = ""
    fix: str = ""
    help: str = ""
    plugin: str = ""
    tags: Mapping[str, str] = field(default_factory=dict)

    def run(
        self, resources: Iterable[Resource], ctx: PolicyContext
    ) -> Iterator[tuple[Resource | None, Finding]]:
        if self.validate is not None:
            for r in resources:
                for f in self.validate(r, ctx):
                    yield r, f
        if self.validate_scan is not None:
            for f in self.validate_scan(ctx):
                yield None, f
