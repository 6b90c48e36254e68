"""The map as a Mermaid flowchart, for pull-request comments and Markdown docs.

Sides, clouds and regions become nested subgraphs; cross-border flows are thick red links
(``linkStyle``). Paste it into a fenced ``mermaid`` block; GitHub and GitLab render it.
"""

from __future__ import annotations

from ciiguard.escaping import visible
from ciiguard.residency_map.model import EdgeStatus, MapEdge, MapNode, NodeKind, ResidencyMap
from ciiguard.residency_map.style import (
    CLASSIFIED_FILL,
    EDGE_COLOR,
    INK,
    PLAIN_STROKE,
    SIDE_FILL,
    SIDE_STROKE,
    classification_color,
)


def _text(value: str) -> str:
    """Mermaid label text: controls shown as escapes, quotes, angle brackets and backticks as
    entity codes (a backtick would start a Markdown string), one line."""
    return (
        visible(value)
        .replace("#", "#35;")
        .replace('"', "#quot;")
        .replace("<", "#lt;")
        .replace(">", "#gt;")
        .replace("`", "#96;")
    )


def _comment(value: str) -> str:
    return visible(value)


def _node_label(m: ResidencyMap, node: MapNode) -> str:
    lines = [_text(node.label)]
    sub = node.subtitle
    if node.kind is NodeKind.RESOURCE and node.line:
        sub += f" · line {node.line}"
    lines.append(_text(sub))
    facts = []
    if node.in_scope and node.classification:
        facts.append(_text(node.classification))
    policies = sorted({m.violation(v).violation.policy for v in node.violations})
    if policies:
        facts.append("✗ " + ", ".join(policies))
    if facts:
        lines.append(" · ".join(facts))
    return "<br/>".join(lines)


def _edge_line(edge: MapEdge) -> str:
    label = edge.kind + (" · cross-border" if edge.cross_border else "")
    arrow = {"thick": "==>", "dotted": "-.->", "normal": "-->"}[
        "thick"
        if edge.cross_border
        else ("dotted" if edge.status is EdgeStatus.UNKNOWN else "normal")
    ]
    return f'  {edge.source} {arrow}|"{_text(label)}"| {edge.target}'


def render_mermaid(m: ResidencyMap) -> str:
    out = [f"%% {_comment(m.title)}", f"%% {_comment(m.summary())}"]
    for e in m.errors:
        out.append(f"%% error: {_comment(e.render())}")
    out.append("flowchart LR")
    styles: list[str] = []
    for si, side in enumerate(m.sides):
        sid = f"side_{side.location.value}"
        out.append(f'  subgraph {sid}["{_text(side.title)}: {_text(side.note)}"]')
        out.append("    direction TB")
        styles.append(
            f"  style {sid} fill:{SIDE_FILL[side.location]},stroke:{SIDE_STROKE[side.location]},"
            f"color:{SIDE_STROKE[side.location]}"
        )
        if not side.clouds:
            out.append(f'    empty_{si}["no data-bearing resources"]')
            styles.append(f"  style empty_{si} fill:none,stroke:none,color:{PLAIN_STROKE}")
        for ci, cloud in enumerate(side.clouds, 1):
            cid = f"{sid}_c{ci}"
            out.append(f'    subgraph {cid}["{_text(cloud.name)}"]')
            out.append("      direction TB")
            styles.append(f"  style {cid} fill:#ffffff,stroke:#b0bec5,color:{INK}")
            for ri, region in enumerate(cloud.regions, 1):
                rid = f"{cid}_r{ri}"
                title = region.title + (f" · {region.name}" if region.name else "")
                out.append(f'      subgraph {rid}["{_text(title)}"]')
                styles.append(f"  style {rid} fill:#f8fafb,stroke:#cfd8dc,color:{INK}")
                for node_id in region.nodes:
                    node = m.node(node_id)
                    out.append(f'        {node.id}["{_node_label(m, node)}"]')
                out.append("      end")
            out.append("    end")
        out.append("  end")
    for edge in m.edges:
        out.append(_edge_line(edge))
    out.extend(styles)
    for node in m.nodes:
        stroke = classification_color(node.classification) if node.in_scope else PLAIN_STROKE
        fill = CLASSIFIED_FILL if node.in_scope else "#ffffff"
        width = "2px" if node.in_scope else "1px"
        dash = ",stroke-dasharray:5 3" if node.kind is not NodeKind.RESOURCE else ""
        out.append(
            f"  style {node.id} fill:{fill},stroke:{stroke},stroke-width:{width},color:{INK}{dash}"
        )
    for i, edge in enumerate(m.edges):
        color = EDGE_COLOR[edge.status]
        width = "3px" if edge.cross_border else ("2.5px" if edge.classified else "1.5px")
        out.append(f"  linkStyle {i} stroke:{color},stroke-width:{width},color:{color}")
    return "\n".join(out) + "\n"
