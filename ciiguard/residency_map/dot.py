"""The map as a Graphviz DOT graph: nested clusters for side, cloud and region; red cross-border arrows.

``ciiguard map --format dot | dot -Tsvg > map.svg`` for Graphviz users. It draws the summary (a
node per region) by default, and root modules or resources with ``--detail``. Node and edge ``id``
and ``class`` match the SVG renderer's, and every element has a tooltip. An incomplete scan is
said in the graph's label and in a red node.
"""

from __future__ import annotations

import re

from ciiguard.escaping import visible
from ciiguard.residency_map.layout import arrow_label, arrow_width, verdict_text
from ciiguard.residency_map.model import EdgeStatus, MapNode, NodeKind, ResidencyMap
from ciiguard.residency_map.style import (
    BLOCKING,
    CLASSIFIED_FILL,
    EDGE_COLOR,
    INK,
    MUTED,
    PLAIN_STROKE,
    SIDE_FILL,
    SIDE_STROKE,
    classification_color,
    issue_brief,
    node_details,
    node_lines,
)
from ciiguard.residency_map.view import (
    Detail,
    Unit,
    View,
    arrow_details,
    build_view,
    unit_details,
)

FONT = "Helvetica,Arial,sans-serif"
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f\u2028\u2029]")


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
    return "\n".join(node_lines(m, node))


def _unit_label(v: View, unit: Unit) -> str:
    classes = " · ".join(f"{c} {n:,}" for c, n in unit.tally.classifications)
    verdicts = " · ".join(verdict_text(x, n) for x, n in unit.tally.verdicts)
    if unit.level is Detail.ROOTS:
        head = unit.root or "."
    else:
        head = unit.region_title + (f" · {unit.region_name}" if unit.region_name else "")
    inner = v.inner_flows.get(unit.id, 0)
    line = unit.tally.describe() + (f" · {inner:,} flows inside" if inner else "")
    return "\n".join(x for x in (head, line, classes, verdicts) if x)


def render_dot(m: ResidencyMap, detail: Detail = Detail.SUMMARY) -> str:
    """The map at ``detail`` as a DOT digraph (Graphviz lays out any size: nothing falls back)."""
    v = build_view(m, detail)
    title = m.title if m.complete else f"INCOMPLETE: {m.title}"
    out = [f"// {_line(title)}", f"// {_line(m.summary())}"]
    for e in m.errors:
        out.append(f"// error: {_line(e.render())}")
    out.append('digraph "residency_map" {')
    out.append(
        "  graph "
        + _attrs(
            rankdir="LR",
            newrank="true",
            compound="true",
            fontname=FONT,
            fontsize=12,
            label=f"{title}\n{m.summary()}",
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
    if not m.complete:
        noun = "input" if len(m.errors) == 1 else "inputs"
        out.append(
            "  incomplete "
            + _attrs(
                label=f"INCOMPLETE: {len(m.errors)} {noun} could not be read;\n"
                f"this map may be missing resources\nfirst: {issue_brief(m.errors[0], 200)}",
                shape="box",
                style="filled,bold",
                fillcolor=BLOCKING,
                color=BLOCKING,
                fontcolor="#ffffff",
            )
            + ";"
        )
    for si, side in enumerate(v.sides):
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
            out.append("      graph " + _frame(cloud.name, "#ffffff", "#b0bec5") + ";")
            for ri, region in enumerate(cloud.regions, 1):
                if v.detail is Detail.SUMMARY:
                    out.append(f"      {_unit(v, region.unit)};")
                    continue
                unit = region.unit
                title = unit.region_title + (f"\n{unit.region_name}" if unit.region_name else "")
                out.append(f"      subgraph {cid}_{ri} {{")
                out.append("        graph " + _frame(title, "#f8fafb", "#cfd8dc") + ";")
                for rj, root in enumerate(region.roots, 1):
                    if v.detail is Detail.ROOTS:
                        out.append(f"        {_unit(v, root.unit)};")
                        continue
                    out.append(f"        subgraph {cid}_{ri}_{rj} {{")
                    out.append(
                        "          graph "
                        + _frame(root.unit.root or ".", "#ffffff", "#dfe5e8")
                        + ";"
                    )
                    for nu in root.nodes:
                        out.append(f"          {_node(m, m.node(nu.id))};")
                    out.append("        }")
                out.append("      }")
            out.append("    }")
        out.append("  }")
    for arrow in v.arrows:
        color = EDGE_COLOR[arrow.status]
        style = "dashed" if arrow.status is EdgeStatus.UNKNOWN else "solid"
        out.append(
            f"  {_did(arrow.source)} -> {_did(arrow.target)} "
            + _attrs(
                id=arrow.id,
                label=arrow_label(v, arrow).replace(" · ", "\n"),
                color=color,
                fontcolor=color,
                penwidth=arrow_width(arrow),
                style=style,
                tooltip="\n".join(arrow_details(v, arrow)),
                **{"class": f"edge {arrow.status.value}"},
            )
            + ";"
        )
    out.append("}")
    return "\n".join(out) + "\n"


def _line(value: str) -> str:
    """A ``//`` comment's text: one line."""
    return visible(value)


def _did(unit_id: str) -> str:
    return unit_id.replace("-", "_")


def _frame(label: str, fill: str, stroke: str) -> str:
    return _attrs(label=label, style="rounded,filled", fillcolor=fill, color=stroke, fontcolor=INK)


def _unit(v: View, unit: Unit) -> str:
    verdict = unit.tally.verdict
    stroke = BLOCKING if verdict == "blocking" else PLAIN_STROKE
    return f"{_did(unit.id)} " + _attrs(
        id=unit.id,
        label=_unit_label(v, unit),
        color=stroke,
        penwidth=2.2 if verdict == "blocking" else 1.0,
        tooltip="\n".join(unit_details(v, unit)),
        **{"class": f"unit verdict-{verdict}"},
    )


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
