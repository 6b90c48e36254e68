"""What every renderer shares: the palette, the wording of legends and of node and edge details."""

from __future__ import annotations

from ciiguard.model import Location, ScanIssue, Violation, ViolationStatus
from ciiguard.residency_map.model import EdgeStatus, MapEdge, MapNode, NodeKind, ResidencyMap

SIDE_FILL = {
    Location.MAINLAND: "#eef7f0",
    Location.OUTSIDE: "#fcefef",
    Location.UNKNOWN: "#fff6e0",
}
SIDE_STROKE = {
    Location.MAINLAND: "#2e7d32",
    Location.OUTSIDE: "#c62828",
    Location.UNKNOWN: "#b26a00",
}
EDGE_COLOR = {
    EdgeStatus.CROSS_BORDER: "#d32f2f",
    EdgeStatus.MAINLAND: "#2e7d32",
    EdgeStatus.OUTSIDE: "#607d8b",
    EdgeStatus.INBOUND: "#607d8b",
    EdgeStatus.UNKNOWN: "#e08a00",
}
EDGE_LEGEND = {
    EdgeStatus.CROSS_BORDER: "cross-border: leaves mainland China",
    EdgeStatus.MAINLAND: "stays in mainland China",
    EdgeStatus.OUTSIDE: "outside to outside",
    EdgeStatus.INBOUND: "into mainland China",
    EdgeStatus.UNKNOWN: "an end's location is unknown",
}
CLASSIFICATION_COLOR = {
    "personal": "#e65100",
    "sensitive-personal": "#ad1457",
    "important": "#6a1b9a",
    "core": "#4a148c",
}
CLASSIFIED_FALLBACK = "#e65100"
CLASSIFIED_FILL = "#fff5e8"
PLAIN_STROKE = "#90a4ae"
BLOCKING = "#b71c1c"
ADVISORY = "#f9a825"
INK = "#263238"
MUTED = "#607d8b"
SANS = "'Segoe UI', 'Helvetica Neue', Helvetica, Arial, 'DejaVu Sans', sans-serif"
MONO = "ui-monospace, SFMono-Regular, Menlo, Consolas, 'DejaVu Sans Mono', monospace"


def violation_flag(v: Violation) -> str:
    """One word for what the gate made of a violation: blocking, advisory, approved-transfer, ..."""
    if v.blocking:
        return "blocking"
    if v.status is not ViolationStatus.VIOLATION:
        return str(v.status.value)
    return v.enforcement.value


def flag_rank(flag: str) -> int:
    """Most serious first: the badge of a node shows the worst of its violations of one policy."""
    if flag == "blocking":
        return 0
    if flag == ViolationStatus.APPROVED_TRANSFER.value:
        return 2
    if flag in {s.value for s in ViolationStatus}:
        return 3
    return 1


def badge_colors(flag: str) -> tuple[str, str]:
    """(fill, text colour) of a policy badge."""
    rank = flag_rank(flag)
    if rank == 0:
        return BLOCKING, "#ffffff"
    if rank == 1:
        return ADVISORY, INK
    if rank == 2:
        return "#1565c0", "#ffffff"
    return "#b0bec5", INK


PASS_COLORS = ("#e8f5e9", "#1b5e20")  # (fill, text) of a "pass" count
NOT_IN_SCOPE_COLORS = ("#eceff1", INK)


def verdict_colors(verdict: str) -> tuple[str, str]:
    """(fill, text colour) of a verdict count: a violation flag's badge colours, or "pass"."""
    return PASS_COLORS if verdict == "pass" else badge_colors(verdict)


def classification_colors(value: str) -> tuple[str, str]:
    """(fill, text colour) of a classification count; "not in scope" is grey."""
    if value not in CLASSIFICATION_COLOR and value == "not in scope":
        return NOT_IN_SCOPE_COLORS
    return classification_color(value), "#ffffff"


def classification_color(value: str | None) -> str:
    return CLASSIFICATION_COLOR.get(value or "", CLASSIFIED_FALLBACK)


def location_word(loc: Location) -> str:
    return {
        Location.MAINLAND: "mainland China",
        Location.OUTSIDE: "outside mainland China",
        Location.UNKNOWN: "location unknown",
    }[loc]


def node_kind_word(node: MapNode) -> str:
    if node.kind is NodeKind.REPLICA:
        return "replica (no resource of its own in the configuration)"
    if node.kind is NodeKind.EXTERNAL:
        return "source outside the scanned configuration"
    return node.type


def node_details(m: ResidencyMap, node: MapNode) -> list[str]:
    """Plain-text lines describing a node: tooltips in SVG and DOT, the same facts as the HTML card."""
    lines = [node.address, f"kind: {node_kind_word(node)}"]
    if node.where:
        lines.append(f"source: {node.placement or node.where}")
    region = node.region or "not resolved"
    if node.region_name:
        region += f" ({node.region_name})"
    lines.append(f"region: {region}, {location_word(node.location)}")
    if node.location_note:
        lines.append(f"  why: {node.location_note}")
    if node.provenance and node.provenance != node.location_note:
        lines.append(f"  from: {node.provenance}")
    lines.append(
        f"classification: {node.classification}"
        if node.in_scope
        else "classification: not in scope"
    )
    for vid in node.violations:
        v = m.violation(vid).violation
        lines.append(f"{v.policy} [{violation_flag(v)}] {v.message}")
    return lines


def node_lines(m: ResidencyMap, node: MapNode) -> list[str]:
    """A node's label in the text formats (Mermaid, DOT): what names it, its type, ``file:line``
    in its root module, then its classification and the policies it violates."""
    kind = node.type_label if node.kind is NodeKind.RESOURCE else node.subtitle
    lines = [node.name or node.label, kind]
    if node.where_in_root:
        lines.append(node.where_in_root)
    facts = []
    if node.scope_label:
        facts.append(node.scope_label)
    policies = sorted({m.violation(v).violation.policy for v in node.violations})
    if policies:
        facts.append("✗ " + ", ".join(policies))
    if facts:
        lines.append(" · ".join(facts))
    return lines


def edge_details(m: ResidencyMap, edge: MapEdge) -> list[str]:
    src, dst = m.node(edge.source), m.node(edge.target)
    lines = [
        f"{edge.kind}: {src.label} -> {dst.label} ({edge.status.value})",
        f"declared by {edge.declared_by}.{edge.argument}"
        + (f" at {edge.where}" if edge.where else ""),
        f"destination: {edge.destination or 'unknown'}: {edge.destination_explain}",
    ]
    for vid in edge.violations:
        v = m.violation(vid).violation
        lines.append(f"{v.policy} [{violation_flag(v)}] {v.message}")
    return lines


def clip(text: str, max_chars: int) -> str:
    """Shorten to ``max_chars`` with an ellipsis (SVG text does not wrap or truncate itself)."""
    if max_chars <= 1:
        return "…" if text else ""
    return text if len(text) <= max_chars else text[: max_chars - 1] + "…"


def clip_left(text: str, max_chars: int) -> str:
    """Shorten from the left, keeping the end (a path's last directories place it best)."""
    if max_chars <= 1:
        return "…" if text else ""
    return text if len(text) <= max_chars else "…" + text[len(text) - max_chars + 1 :]


def issue_brief(issue: ScanIssue, max_chars: int) -> str:
    """An error on one line of ``max_chars``: the end of its path (the file name), then as much
    of its message as fits."""
    where = issue.file or "<scan>"
    if issue.line:
        where += f":{issue.line}"
    where = clip_left(where, min(len(where), max(24, max_chars // 2)))
    return clip(f"{where}: {issue.message}", max_chars)
