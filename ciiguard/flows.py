"""Replication, copy and backup flows, read from normalised attributes by catalogue rules.

Input-agnostic: HCL, plan JSON and Pulumi resources all arrive with snake_case attributes where
blocks are lists of dicts, so one walker serves them all. A destination given as a reference to
another resource in the configuration resolves to that resource and its region.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from ciiguard.catalogue import Catalogue, ReplicationRule
from ciiguard.model import Flow, Location, Resource, Unknown


@dataclass
class ResourceIndex:
    """Lookups flows need: by address (with or without instance key) and by bucket-like name."""

    by_address: dict[str, Resource]
    by_base: dict[str, list[Resource]]

    @classmethod
    def build(cls, resources: list[Resource]) -> ResourceIndex:
        by_address = {r.address: r for r in resources}
        by_base: dict[str, list[Resource]] = {}
        for r in resources:
            base = r.address.split("[", 1)[0] if r.address.endswith("]") else r.address
            by_base.setdefault(base, []).append(r)
        return cls(by_address, by_base)

    def resolve(self, refs: frozenset[str]) -> list[Resource]:
        out: list[Resource] = []
        for ref in sorted(refs):
            if ref in self.by_address:
                out.append(self.by_address[ref])
            else:
                out.extend(self.by_base.get(ref, []))
        return out

    def by_name(self, name: str, types: tuple[str, ...]) -> list[Resource]:
        found = []
        for r in self.by_address.values():
            if r.type in types and (
                r.attributes.get("bucket") == name
                or r.attributes.get("name") == name
                or r.attributes.get("identifier") == name
            ):
                found.append(r)
        return found


def walk_path(value: Any, path: str, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Yield (concrete argument path, value) for a rule path like ``rule[].destination[].bucket``."""
    if not path:
        yield prefix.rstrip("."), value
        return
    head, _, rest = path.partition(".")
    if isinstance(value, Unknown):
        yield prefix.rstrip("."), value
        return
    if not isinstance(value, dict):
        return
    is_list = head.endswith("[]")
    key = head[:-2] if is_list else head
    if key not in value or value[key] is None:
        return
    child = value[key]
    if is_list:
        if isinstance(child, Unknown):
            yield f"{prefix}{key}", child
            return
        items = child if isinstance(child, list) else [child]
        for i, item in enumerate(items):
            yield from walk_path(item, rest, f"{prefix}{key}[{i}].")
    else:
        yield from walk_path(child, rest, f"{prefix}{key}.")


def _line_for(resource: Resource, arg: str) -> int | None:
    lines = resource.meta.get("block_lines") if isinstance(resource.meta, dict) else None
    if not lines:
        return resource.line
    best = None
    for p, line in lines.items():
        if (arg == p or arg.startswith(p + ".")) and (best is None or len(p) > len(best[0])):
            best = (p, line)
    return best[1] if best else resource.line


class FlowBuilder:
    def __init__(self, catalogue: Catalogue, index: ResourceIndex) -> None:
        self.catalogue = catalogue
        self.index = index

    def flows_of(self, r: Resource) -> tuple[Flow, ...]:
        flows: list[Flow] = []
        for rule in self.catalogue.rules_for(r.type):
            for arg, value in walk_path(r.attributes, rule.path):
                flow = self._flow(r, rule, arg, value)
                if flow is not None:
                    flows.append(flow)
        return tuple(flows)

    def _source(self, r: Resource, rule: ReplicationRule) -> str | None:
        if rule.source_path is None:
            return r.address
        value = r.attributes.get(rule.source_path)
        if isinstance(value, Unknown):
            found = self.index.resolve(value.refs)
            return found[0].address if found else None
        if isinstance(value, str):
            found = self.index.by_name(value, (r.type.replace("_replication_configuration", ""),))
            return found[0].address if found else None
        return None

    def _flow(self, r: Resource, rule: ReplicationRule, arg: str, value: Any) -> Flow | None:
        line = _line_for(r, arg)

        def make(
            source: str | None, dest: str | None, dest_res: str | None, loc: Location, explain: str
        ) -> Flow:
            return Flow(
                kind=rule.kind,
                declared_by=r.address,
                argument=arg,
                source=source,
                destination=dest,
                destination_resource=dest_res,
                destination_location=loc,
                destination_explain=explain,
                provider=r.provider,
                file=r.file,
                line=line,
            )

        if rule.destination == "self":
            return self._into_self(r, value, make)
        source = self._source(r, rule)
        if isinstance(value, Unknown):
            targets = self.index.resolve(value.refs)
            if targets:
                t = targets[0]
                return make(
                    source,
                    t.region.region,
                    t.address,
                    t.location,
                    f"{t.address}: {t.location_note or t.region.explain()}",
                )
            return make(
                source,
                None,
                None,
                Location.UNKNOWN,
                f"{arg} is not known before apply ({value.reason})",
            )
        if not isinstance(value, str) or not value:
            return None
        if rule.destination == "arn" or value.startswith("arn:"):
            loc, why, region = self.catalogue.arn_location(value)
            return make(source, region or value, None, loc, why)
        loc, why = self.catalogue.location(r.provider, value)
        return make(source, value, None, loc, why)

    def _into_self(self, r: Resource, value: Any, make: Callable[..., Flow]) -> Flow | None:
        """A resource that pulls data in (read replica, backup replication): it is the destination."""
        source: str | None = None
        if isinstance(value, Unknown):
            found = self.index.resolve(value.refs)
            source = found[0].address if found else None
        elif isinstance(value, str) and value:
            if not value.startswith("arn:"):
                found = self.index.by_name(value, (r.type,))
                source = found[0].address if found else None
        else:
            return None
        return make(
            source, r.region.region, r.address, r.location, r.location_note or r.region.explain()
        )
