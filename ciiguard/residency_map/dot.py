"""The map as a Graphviz DOT graph: nested clusters for side, cloud and region; red cross-border edges.

``ciiguard map --format dot | dot -Tsvg > map.svg`` for Graphviz users. Node and edge ``id`` and
``class`` match the SVG renderer's, and every element has a tooltip with its source and violations.
"""

from __future__ import annotations

from ciiguard.escaping import visible
from ciiguard.residency_map.model import EdgeStatus, MapNode, NodeKind, ResidencyMap
from ciiguard.residency_map.style import (
    CLASSIFIED_FILL,
    EDGE_COLOR,
    INK,
    MUTED,
    PLAIN_STROKE,
    SIDE_FILL,
    SIDE_STROKE,
    classification_color,
    edge_details,
    node_details,
)

FONT = "Helvetica,Arial,sans-serif"


def _q(value: str) -> str:
    """A DOT double-quoted string; a newline becomes a centred line break (``\\n``), any other
    control character a visible escape."""
    parts = (visible(p).replace("\\", "\\\\").replace('"', '\\"') for p in value.split("\n"))
    return '"' + "\\n".join(parts) + '"'


def _attrs(**attrs: str | float) -> str:
    parts = []
    for k, v in attrs.items():
        parts.append(f"{k}={_q(v) if isinstance(v, str) else v}")
    return "[" + ", ".join(parts) + "]"


def _node_label(m: ResidencyMap, node: MapNode) -> str:
    sub = node.subtitle
    if node.kind is NodeKind.RESOURCE and node.line:
        sub += f" · line {node.line}"
    lines = [node.label, sub]
    facts = []
    if node.in_scope and node.classification:
        facts.append(node.classification)
    policies = sorted({m.violation(v).violation.policy for v in node.violations})
    if policies:
        facts.append("✗ " + ", ".join(policies))
    if facts:
        lines.append(" · ".join(facts))
    return "\n".join(lines)


def render_dot(m: ResidencyMap) -> str:
    out = [f"// {visible(m.title)}", f"// {visible(m.summary())}"]
    for e in m.errors:
        out.append(f"// error: {visible(e.render())}")
    out.append('digraph "residency_map" {')
    out.append(
        "  graph "
        + _attrs(
            rankdir="LR",
            newrank="true",
            compound="true",
            fontname=FONT,
            fontsize=12,
            label=f"{m.title}\n{m.summary()}",
            labelloc="t",
            labeljust="l",
            nodesep=0.25,
            ranksep=1.4,
        )
        + ";"
    )
    out.append(
        "  node "
        + _attrs(
            shape="box",
            style="rounded,filled",
            fontname=FONT,
            fontsize=10,
            fillcolor="#ffffff",
            color=PLAIN_STROKE,
            fontcolor=INK,
        )
        + ";"
    )
    out.append("  edge " + _attrs(fontname=FONT, fontsize=9) + ";")
    for si, side in enumerate(m.sides):
        out.append(f"  subgraph cluster_{side.location.value} {{")
        out.append(
            "    graph "
            + _attrs(
                label=f"{side.title}\n{side.note}",
                style="rounded,filled",
                fillcolor=SIDE_FILL[side.location],
                color=SIDE_STROKE[side.location],
                fontcolor=SIDE_STROKE[side.location],
                penwidth=1.5,
            )
            + ";"
        )
        if not side.clouds:
            out.append(
                f"    empty_{si} "
                + _attrs(label="no data-bearing resources", shape="plaintext", fontcolor=MUTED)
                + ";"
            )
        for ci, cloud in enumerate(side.clouds, 1):
            cid = f"cluster_{side.location.value}_{ci}"
            out.append(f"    subgraph {cid} {{")
            out.append(
                "      graph "
                + _attrs(
                    label=cloud.name,
                    style="rounded,filled",
                    fillcolor="#ffffff",
                    color="#b0bec5",
                    fontcolor=INK,
                )
                + ";"
            )
            for ri, region in enumerate(cloud.regions, 1):
                title = region.title + (f"\n{region.name}" if region.name else "")
                out.append(f"      subgraph {cid}_{ri} {{")
                out.append(
                    "        graph "
                    + _attrs(
                        label=title,
                        style="rounded,filled",
                        fillcolor="#f8fafb",
                        color="#cfd8dc",
                        fontcolor=INK,
                    )
                    + ";"
                )
                for node_id in region.nodes:
                    out.append(f"        {_node(m, m.node(node_id))};")
                out.append("      }")
            out.append("    }")
        out.append("  }")
    for edge in m.edges:
        color = EDGE_COLOR[edge.status]
        style = "dashed" if edge.status is EdgeStatus.UNKNOWN else "solid"
        label = edge.kind + ("\ncross-border" if edge.cross_border else "")
        width = 2.8 if edge.cross_border or edge.classified else 1.4
        out.append(
            f"  {edge.source} -> {edge.target} "
            + _attrs(
                id=edge.id,
                label=label,
                color=color,
                fontcolor=color,
                penwidth=width,
                style=style,
                tooltip="\n".join(edge_details(m, edge)),
                **{"class": f"edge {edge.status.value}"},
            )
            + ";"
        )
    out.append("}")
    return "\n".join(out) + "\n"


def _node(m: ResidencyMap, node: MapNode) -> str:
    stroke = classification_color(node.classification) if node.in_scope else PLAIN_STROKE
    style = "rounded,filled" + (",dashed" if node.kind is not NodeKind.RESOURCE else "")
    return f"{node.id} " + _attrs(
        id=node.id,
        label=_node_label(m, node),
        fillcolor=CLASSIFIED_FILL if node.in_scope else "#ffffff",
        color=stroke,
        penwidth=1.8 if node.in_scope else 1.0,
        style=style,
        tooltip="\n".join(node_details(m, node)),
        **{"class": "node " + ("classified" if node.in_scope else "unclassified")},
    )
